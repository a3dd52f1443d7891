//! `AppError`: every way a request can fail, answered in the one JSON shape
//! `{"error": code, "message": text}` with the matching status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use coachboard_contract::{ErrorBody, ErrorCode};

use crate::analytics::TimeseriesError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidEvent(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("no such endpoint: {0}")]
    NotFound(String),
    /// A thing the request names (an annotation) does not exist.
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidParameter(_) => ErrorCode::InvalidParameter,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::InvalidEvent(_) => ErrorCode::InvalidEvent,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) | Self::Missing(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::RequestTimeout(_) => ErrorCode::RequestTimeout,
            Self::Store(StoreError::Rejected(_)) => ErrorCode::Conflict,
            Self::Store(StoreError::DiskFull { .. }) => ErrorCode::InsufficientStorage,
            Self::Store(StoreError::OutOfMemory { .. } | StoreError::Unavailable(_)) => {
                ErrorCode::Unavailable
            }
            Self::Store(StoreError::Database(_)) | Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The message sent to the client: server faults are logged, not echoed.
    fn public_message(&self) -> String {
        match self.code() {
            ErrorCode::Internal => {
                "the server failed to answer this request; the details are in its log".to_owned()
            }
            _ => self.to_string(),
        }
    }
}

impl From<TimeseriesError> for AppError {
    fn from(error: TimeseriesError) -> Self {
        match error {
            TimeseriesError::Store(store) => Self::Store(store),
            TimeseriesError::TooLong(message) => Self::InvalidParameter(message),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.code();
        match code {
            ErrorCode::Internal => tracing::error!(error = %self, "request failed"),
            ErrorCode::Unavailable | ErrorCode::InsufficientStorage => {
                tracing::warn!(error = %self, "request refused: the database cannot serve it now")
            }
            _ => {}
        }
        let status =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: code,
            message: self.public_message(),
        };
        let mut response = (status, Json(body)).into_response();
        if code == ErrorCode::PayloadTooLarge {
            // The rest of the body is not read: end the connection rather than drain it.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        if matches!(
            code,
            ErrorCode::Unavailable | ErrorCode::InsufficientStorage | ErrorCode::TooManyRequests
        ) {
            // Faults that pass: a well-behaved client waits before trying again.
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
        }
        if code == ErrorCode::Unauthorized {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

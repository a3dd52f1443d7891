use serde::{Deserialize, Serialize};

/// The one JSON shape of every error the API returns: `{"error": code, "message": text}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A stable, machine-readable code.
    pub error: ErrorCode,
    /// What went wrong, written for a person.
    pub message: String,
}

/// Stable error codes; the HTTP status is derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    InvalidParameter,
    InvalidEvent,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    /// A client held a connection or sent its body too slowly.
    RequestTimeout,
    /// A client has too many requests or connections open.
    TooManyRequests,
    Unavailable,
    /// The disk holding the data is full: writes wait until space is freed.
    InsufficientStorage,
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest | Self::InvalidParameter => 400,
            Self::InvalidEvent => 422,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict => 409,
            Self::RequestTimeout => 408,
            Self::TooManyRequests => 429,
            Self::Unavailable => 503,
            Self::InsufficientStorage => 507,
            Self::Internal => 500,
        }
    }
}

//! Reading a request's body for the write endpoints: refused at once when its declared length
//! is over the limit, else read up to the limit within the body timeout (a slow client
//! cannot hold a connection open).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};

use crate::error::AppError;
use crate::state::AppState;

/// The body, at most `limit` bytes; `too_large` says what to do instead.
pub async fn read(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    too_large: impl Fn() -> AppError,
) -> Result<Bytes, AppError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let timeout = state.settings.timeouts.body;
    tokio::time::timeout(timeout, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| {
            AppError::RequestTimeout(format!(
                "the body did not arrive within {} s; send it faster or in smaller requests",
                timeout.as_secs()
            ))
        })?
        .map_err(|_| too_large())
}

//! `POST /admin/backup` (ingest token): a consistent copy of the database, made while the API
//! goes on serving, streamed back as a DuckDB file. `coachboard-api backup` is its client.

use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tokio_util::io::ReaderStream;

use crate::error::AppError;
use crate::state::AppState;
use crate::store::StoreError;

pub async fn backup(State(state): State<AppState>) -> Result<Response, AppError> {
    let engine = state.engine.clone();
    let folder = state.settings.backup_dir.clone();
    let started = Instant::now();
    let file = tokio::task::spawn_blocking(move || -> Result<std::fs::File, AppError> {
        // Staged beside the database (same disk, no RAM-backed /tmp), under a name that is
        // never mistaken for a user's file, and unlinked before it is sent: nothing is left
        // behind if the client goes away.
        let staging = tempfile::Builder::new()
            .prefix(".coachboard-backup-")
            .suffix(".tmp")
            .tempfile_in(&folder)
            .map_err(|error| staging_error(&folder, &error))?;
        engine.store().backup(staging.path())?;
        staging
            .reopen()
            .map_err(|error| staging_error(&folder, &error))
    })
    .await
    .map_err(|error| AppError::Internal(format!("backup task failed: {error}")))??;
    let length = file
        .metadata()
        .map_err(|error| AppError::Internal(format!("cannot read the backup: {error}")))?
        .len();
    tracing::info!(
        bytes = length,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "backup made"
    );
    let stream = ReaderStream::new(tokio::fs::File::from_std(file));
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"coachboard-backup.duckdb\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn staging_error(folder: &std::path::Path, error: &std::io::Error) -> AppError {
    let detail = format!("cannot stage the backup in {}: {error}", folder.display());
    if error.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error()) {
        AppError::Store(StoreError::DiskFull {
            place: folder.display().to_string(),
            detail,
        })
    } else {
        AppError::Internal(detail)
    }
}

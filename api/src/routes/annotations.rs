//! `/annotations`: notes pinned to a time, stored beside the events. Anyone who may read
//! lists them; writing them takes an ingest token, like events.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use coachboard_contract::{Annotation, NewAnnotation, truncate_for_message};

use crate::error::AppError;
use crate::params::Params;
use crate::state::AppState;
use crate::store::StoreError;

/// A note is a line of text: its body is small.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// `GET /annotations?from=&to=`: the notes in the range, in time order.
pub async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<Annotation>>, AppError> {
    let scope = Params::parse(query.as_deref())?.scope()?;
    let engine = state.engine.clone();
    let notes = blocking(move || engine.store().annotations(scope.from, scope.to)).await?;
    Ok(Json(notes))
}

/// `POST /annotations` with `{"ts": …, "text": …}`: 201 with the stored note.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, HeaderMap, Json<Annotation>), AppError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/json"));
    if !json {
        return Err(AppError::UnsupportedMediaType(
            "send the note as `Content-Type: application/json`".to_owned(),
        ));
    }
    let too_large =
        || AppError::PayloadTooLarge(format!("a note's body is at most {MAX_BODY_BYTES} bytes"));
    let bytes = super::body::read(&state, &headers, body, MAX_BODY_BYTES, too_large).await?;
    let new: NewAnnotation = serde_json::from_slice(&bytes).map_err(|error| {
        AppError::BadRequest(format!(
            "the body is not a note ({{\"ts\": RFC 3339, \"text\": …}}): {}",
            truncate_for_message(&error.to_string())
        ))
    })?;
    let text = new.clean_text().map_err(AppError::BadRequest)?;
    let note = Annotation {
        id: uuid::Uuid::now_v7().to_string(),
        ts: new.ts,
        text,
    };
    let stored = note.clone();
    let engine = state.engine.clone();
    blocking(move || engine.store().add_annotation(&stored)).await?;
    let mut headers = HeaderMap::new();
    if let Ok(location) = format!("/annotations/{}", note.id).parse() {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(note)))
}

/// `DELETE /annotations/{id}`: 204, or 404 when no note has that id.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    if id.len() > 64 || id.chars().any(char::is_control) {
        return Err(AppError::InvalidParameter(
            "an annotation id is at most 64 characters, without control characters".to_owned(),
        ));
    }
    let engine = state.engine.clone();
    let wanted = id.clone();
    if blocking(move || engine.store().delete_annotation(&wanted)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::Missing(format!(
            "no annotation has the id `{}`",
            truncate_for_message(&id)
        )))
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| AppError::Internal(format!("annotation task failed: {error}")))?
        .map_err(AppError::from)
}

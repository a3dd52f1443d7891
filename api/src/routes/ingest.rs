//! `POST /events`: answers 201 only once every event of the request is committed.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;
use coachboard_contract::IngestResult;

use crate::error::AppError;
use crate::ingest::{BodyFormat, parse_body, validate_batch};
use crate::metrics::ReasonLabels;
use crate::state::AppState;

pub async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<IngestResult>), AppError> {
    let result = store_events(&state, &headers, body).await;
    let metrics = &state.metrics;
    match &result {
        Ok((_, Json(outcome))) => {
            metrics.events_ingested.inc_by(outcome.stored);
            metrics.events_duplicate.inc_by(outcome.duplicates);
        }
        Err(error) => {
            let reason = serde_json::to_value(error.code())
                .ok()
                .and_then(|code| code.as_str().map(str::to_owned))
                .unwrap_or_default();
            tracing::warn!(%reason, %error, "write refused");
            metrics
                .writes_refused
                .get_or_create(&ReasonLabels { reason })
                .inc();
        }
    }
    result
}

async fn store_events(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<IngestResult>), AppError> {
    let limits = &state.settings.limits;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let format = BodyFormat::from_content_type(content_type)?;
    let too_large = || {
        AppError::PayloadTooLarge(format!(
            "the body is larger than {} bytes; send fewer events per request",
            limits.max_body_bytes
        ))
    };
    let bytes = super::body::read(state, headers, body, limits.max_body_bytes, too_large).await?;
    let events = parse_body(&bytes, format, limits.max_batch)?;
    let stored = validate_batch(events, limits, Utc::now())?;
    let ids: Vec<String> = stored.iter().map(|event| event.id.clone()).collect();
    // Committed (or rolled back) by the engine's writer even if the client goes away: a
    // write that started is never left half done.
    let outcome = state.engine.write(stored).await?;
    Ok((
        StatusCode::CREATED,
        Json(IngestResult {
            stored: outcome.stored,
            duplicates: outcome.duplicates.len() as u64,
            ids,
        }),
    ))
}

//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers and can take
//! writes; otherwise the error says why, e.g. 507 while the disk is full).

use axum::Json;
use axum::extract::State;
use coachboard_contract::Health;

use crate::error::AppError;
use crate::state::AppState;
use crate::store::StoreError;

pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        total_events: None,
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
    })
}

pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    let engine = state.engine.clone();
    // A real query, not the roll-up: ready means the database itself answers.
    let total = tokio::task::spawn_blocking(move || {
        engine.store().health()?;
        engine.store().ping()?;
        engine.extent().map(|extent| extent.total)
    })
    .await
    .map_err(|error| AppError::Internal(error.to_string()))?
    .map_err(|error| match error {
        StoreError::Database(message) => {
            AppError::Unavailable(format!("the database does not answer: {message}"))
        }
        fault => AppError::Store(fault),
    })?;
    Ok(Json(Health {
        status: "ready".to_owned(),
        total_events: Some(total),
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
    }))
}

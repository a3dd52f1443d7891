//! `GET /metrics` (Prometheus text format) and the middleware that counts and times every
//! request and logs the slow ones.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::metrics::{RequestLabels, RouteLabels, route_label};
use crate::state::AppState;

pub async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    let engine = state.engine.clone();
    // Sizes are read when scraped: the file's size is a system call, the rest is memory.
    let (bytes, extent, (cells, bins), commits) = tokio::task::spawn_blocking(move || {
        (
            engine.store().size_bytes(),
            engine.extent().unwrap_or_default(),
            engine.rollup_size(),
            engine.commits(),
        )
    })
    .await
    .map_err(|error| AppError::Internal(error.to_string()))?;
    let metrics = &state.metrics;
    metrics.database_bytes.set(gauge(bytes));
    metrics.events_stored.set(gauge(extent.total));
    metrics.rollup_cells.set(gauge(cells as u64));
    metrics.rollup_bins.set(gauge(bins as u64));
    metrics.commits.set(gauge(commits));
    let text = metrics
        .encode()
        .map_err(|error| AppError::Internal(format!("cannot encode metrics: {error}")))?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}

fn gauge(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Counts and times each request; logs those slower than the threshold with their query.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = route_label(request.uri().path());
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let metrics = &state.metrics;
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.to_string(),
            route: route.to_owned(),
            status,
        })
        .inc();
    metrics
        .request_seconds
        .get_or_create(&RouteLabels {
            route: route.to_owned(),
        })
        .observe(elapsed.as_secs_f64());
    // The live stream is long by design.
    if elapsed > state.settings.timeouts.slow_request && route != "/analytics/stream" {
        metrics.slow_requests.inc();
        tracing::warn!(
            %method,
            path = uri.path(),
            query = uri.query().unwrap_or(""),
            status,
            elapsed_ms = elapsed.as_millis() as u64,
            "slow request"
        );
    }
    response
}

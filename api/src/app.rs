//! `fn app(state) -> Router`: every route and layer, so tests can drive the whole API with
//! `oneshot` and the binary only adds a listener.

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::access::{Grant, Need};
use crate::error::AppError;
use crate::routes::{
    analytics, annotations, backup, export, health, ingest, metrics, static_files, stream,
};
use crate::state::AppState;

pub fn app(state: AppState) -> Router {
    let read = Router::new()
        .route("/analytics/summary", get(analytics::summary))
        .route("/analytics/events", get(analytics::events))
        .route("/analytics/events.csv", get(export::events_csv))
        .route("/analytics/policies", get(analytics::policies))
        .route("/analytics/timeseries", get(analytics::timeseries))
        .route("/analytics/latency", get(analytics::latency))
        .route("/analytics/experiment", get(analytics::experiment))
        .route("/analytics/suggestions", get(analytics::suggestions))
        .route("/analytics/rewrites", get(analytics::rewrites))
        .route("/analytics/sessions/{id}", get(analytics::session))
        .route(
            "/analytics/policy-outcomes",
            get(analytics::policy_outcomes),
        )
        .route("/analytics/stream", get(stream::stream))
        .route("/annotations", get(annotations::list))
        .route("/metrics", get(metrics::metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_read));
    let write = Router::new()
        .route("/events", post(ingest::ingest))
        .route("/annotations", post(annotations::create))
        .route("/annotations/{id}", delete(annotations::delete))
        .route("/admin/backup", post(backup::backup))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_ingest,
        ));
    let open = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(crate::openapi::document));
    let cors = cors_layer(&state.settings.cors_origins);
    Router::new()
        .merge(read)
        .merge(write)
        .merge(open)
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(cors)
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal("a request handler panicked".to_owned()).into_response()
        }))
        .layer(middleware::from_fn_with_state(state, metrics::track))
        .layer(TraceLayer::new_for_http())
}

/// A read token: everything, or (sliced) its slice put into the request, and said in the
/// answer's `X-Coachboard-Slice`.
async fn require_read(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let grant = state
        .settings
        .access
        .check(Need::Read, request.headers().get(header::AUTHORIZATION));
    let slice = match grant {
        Ok(Grant::Everything) => return next.run(request).await,
        Ok(Grant::Slice(slice)) => slice,
        Err(error) => return error.into_response(),
    };
    if let Err(error) = slice.narrow(&mut request) {
        return error.into_response();
    }
    request.extensions_mut().insert(Grant::Slice(slice.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&slice.describe()) {
        response
            .headers_mut()
            .insert(coachboard_contract::SLICE_HEADER, value);
    }
    response
}

async fn require_ingest(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match state
        .settings
        .access
        .check(Need::Ingest, request.headers().get(header::AUTHORIZATION))
    {
        Ok(_) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// Unknown API paths get a JSON 404; everything else may be a file or route of the dashboard.
async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let api_path = [
        "/analytics",
        "/events",
        "/annotations",
        "/healthz",
        "/readyz",
        "/openapi",
        "/metrics",
        "/admin",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix));
    if api_path || !matches!(*request.method(), Method::GET | Method::HEAD) {
        return AppError::NotFound(format!("{} {}", request.method(), path)).into_response();
    }
    static_files::serve(&state, request).await
}

async fn method_not_allowed(request: Request) -> AppError {
    AppError::MethodNotAllowed(format!(
        "{} is not allowed on {}",
        request.method(),
        request.uri().path()
    ))
}

/// Browsers on the listed origins may call the API with a token; none are listed by default.
fn cors_layer(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin.trim_end_matches('/')).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([
            HeaderName::from_static(coachboard_contract::TOTAL_COUNT_HEADER),
            HeaderName::from_static(coachboard_contract::NEXT_CURSOR_HEADER),
            HeaderName::from_static(coachboard_contract::SLICE_HEADER),
        ])
        .max_age(Duration::from_secs(600))
}

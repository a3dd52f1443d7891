//! `GET /analytics/*`: each handler parses its parameters, then computes off the async
//! executor, and answers JSON; answers are cached until the data changes.

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use chrono::Utc;
use coachboard_contract::{NEXT_CURSOR_HEADER, TOTAL_COUNT_HEADER};
use serde::Serialize;

use crate::analytics::{self, Engine};
use crate::cache::CachedAnswer;
use crate::error::AppError;
use crate::params::{Params, encode_cursor};
use crate::state::AppState;
use crate::store::{Scope, StoreError};

/// The filter parameters, part of every cache key.
const FILTERS: [&str; 9] = [
    "from",
    "to",
    "bucket",
    "event",
    "policy",
    "policies",
    "session_id",
    "q",
    "tz",
];

fn cache_key(endpoint: &str, params: &Params, extra: &[&str]) -> String {
    let names: Vec<&str> = FILTERS.iter().chain(extra).copied().collect();
    format!("{endpoint}?{}", params.canonical(&names))
}

/// Computes an answer on a blocking thread, or takes it from the cache.
async fn answer<T, F>(state: &AppState, key: String, compute: F) -> Result<Response, AppError>
where
    T: Serialize,
    F: FnOnce(&Engine) -> Result<(T, Vec<(HeaderName, HeaderValue)>), AppError> + Send + 'static,
{
    let before = state.engine.settled_version();
    if let Some(cached) = before.and_then(|version| state.cache.get(version, &key)) {
        return Ok(json_response(cached));
    }
    let engine = state.engine.clone();
    let answer = tokio::task::spawn_blocking(move || -> Result<CachedAnswer, AppError> {
        let (value, headers) = compute(&engine)?;
        let body =
            serde_json::to_vec(&value).map_err(|error| AppError::Internal(error.to_string()))?;
        Ok(CachedAnswer {
            body: Bytes::from(body),
            headers,
        })
    })
    .await
    .map_err(|error| AppError::Internal(format!("query task failed: {error}")))??;
    // Cached only when no write began or ended meanwhile: then it is exactly that version.
    if let Some(version) = before.filter(|version| state.engine.settled_version() == Some(*version))
    {
        state.cache.put(version, key, answer.clone());
    }
    Ok(json_response(answer))
}

fn json_response(answer: CachedAnswer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in answer.headers {
        headers.insert(name, value);
    }
    response
}

/// An endpoint that takes the filters only: validated, then answered from the cache or by
/// `compute` off the executor.
async fn filtered<T: Serialize + 'static>(
    state: &AppState,
    query: Option<String>,
    endpoint: &str,
    compute: fn(&Engine, &Scope) -> Result<T, StoreError>,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref())?;
    let scope = params.scope()?;
    params.tz()?;
    let key = cache_key(endpoint, &params, &[]);
    answer(state, key, move |engine| plain(compute(engine, &scope)?)).await
}

fn plain<T>(value: T) -> Result<(T, Vec<(HeaderName, HeaderValue)>), AppError> {
    Ok((value, Vec::new()))
}

pub async fn summary(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref())?;
    let scope = params.scope()?;
    params.tz()?;
    let compare = params.compare_previous()?;
    // With an open end the previous period moves with the clock: such answers are not cached.
    let key = cache_key("summary", &params, &["compare"]);
    let key = if compare && scope.to.is_none() {
        format!("{key}&now={}", Utc::now().timestamp_millis())
    } else {
        key
    };
    answer(&state, key, move |engine| {
        plain(analytics::summary(
            engine,
            &scope,
            compare,
            Utc::now().naive_utc(),
        )?)
    })
    .await
}

pub async fn events(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref())?;
    let events_query = params.events_query()?;
    params.tz()?;
    let key = cache_key(
        "events",
        &params,
        &["limit", "offset", "cursor", "sort", "order"],
    );
    answer(&state, key, move |engine| {
        let page = analytics::events_page(engine, &events_query)?;
        let mut headers = vec![(
            HeaderName::from_static(TOTAL_COUNT_HEADER),
            HeaderValue::from(page.total),
        )];
        if let Some((ts, id)) = &page.next
            && let Ok(value) = HeaderValue::from_str(&encode_cursor(*ts, id))
        {
            headers.push((HeaderName::from_static(NEXT_CURSOR_HEADER), value));
        }
        Ok((page.events, headers))
    })
    .await
}

pub async fn policies(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    filtered(&state, query, "policies", analytics::policy_counts).await
}

pub async fn timeseries(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref())?;
    let scope = params.scope()?;
    let tz = params.tz()?;
    let interval = params.interval()?;
    let key = cache_key("timeseries", &params, &["interval"]);
    answer(&state, key, move |engine| {
        plain(analytics::timeseries(engine, &scope, interval, tz)?)
    })
    .await
}

pub async fn latency(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    filtered(&state, query, "latency", analytics::latency_distribution).await
}

pub async fn experiment(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    filtered(&state, query, "experiment", analytics::experiment).await
}

pub async fn suggestions(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref())?;
    let scope = params.scope()?;
    params.tz()?;
    let unanswered_after = params.unanswered_after()?;
    // Offers turn unanswered as the clock moves: cached only within the same second.
    let key = format!(
        "{}&now={}",
        cache_key("suggestions", &params, &["unanswered_after"]),
        Utc::now().timestamp()
    );
    answer(&state, key, move |engine| {
        plain(analytics::suggestion_outcomes(
            engine,
            &scope,
            unanswered_after,
            Utc::now().naive_utc(),
        )?)
    })
    .await
}

pub async fn policy_outcomes(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    filtered(&state, query, "policy-outcomes", analytics::policy_outcomes).await
}

pub async fn rewrites(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    filtered(&state, query, "rewrites", analytics::rewrite_sizes).await
}

pub async fn session(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    if session_id.chars().count() > 256 || session_id.chars().any(char::is_control) {
        return Err(AppError::InvalidParameter(
            "a session id is at most 256 characters, without control characters".to_owned(),
        ));
    }
    let params = Params::parse(query.as_deref())?;
    let scope = params.scope()?;
    // The id's length first: an id holding `?` cannot pass for another id with filters.
    let key = cache_key(
        &format!("session/{}/{session_id}", session_id.len()),
        &params,
        &[],
    );
    answer(&state, key, move |engine| {
        plain(analytics::session_detail(engine, &session_id, scope)?)
    })
    .await
}

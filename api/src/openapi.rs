//! `GET /openapi.json`: the OpenAPI 3 document, generated from the contract types and the
//! route declarations below (one per endpoint, beside the statuses it can answer).

use axum::Json;
use coachboard_contract::{
    Annotation, BucketStats, BucketSuggestions, Comparison, DataChanged, DatabaseExtent,
    DecisionTime, ErrorBody, ErrorCode, EventKind, EventRecord, Experiment, Figures, Guardrail,
    GuardrailValue, Health, IngestResult, Interval, LatencyBin, LatencyDistribution,
    MultipleExposure, NewAnnotation, NewEvent, Period, PolicyCounts, PolicyOutcome, PolicyOutcomes,
    PolicyRefs, PreviousPeriod, Rate, RewriteBand, RewriteSizes, SampleRatioCheck,
    SequentialComparison, SessionDetail, SessionSuggestion, SortKey, SortOrder, SuggestionOutcomes,
    SuggestionStats, Summary, Timeseries, TimeseriesPoint,
};
use utoipa::{IntoParams, OpenApi};

/// The filters every analytics endpoint accepts.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct FilterParams {
    /// Start (inclusive), RFC 3339.
    #[param(format = DateTime)]
    from: Option<String>,
    /// End (exclusive), RFC 3339.
    #[param(format = DateTime)]
    to: Option<String>,
    /// A/B bucket.
    bucket: Option<String>,
    /// Event type.
    event: Option<EventKind>,
    /// Only events whose policy_refs contain this policy, and the outcomes of those offers.
    policy: Option<String>,
    /// `A,B`: offers that reference at least one of these policies, and their outcomes.
    policies: Option<String>,
    session_id: Option<String>,
    /// IANA time zone for day and week boundaries (default UTC).
    tz: Option<String>,
    /// Case-insensitive text in the draft or the suggestion.
    q: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct PageParams {
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    #[param(minimum = 0)]
    offset: Option<u64>,
    /// The X-Next-Cursor of the previous page (ts order only).
    cursor: Option<String>,
    sort: Option<SortKey>,
    order: Option<SortOrder>,
}

#[utoipa::path(get, path = "/analytics/summary", tag = "analytics",
    params(FilterParams, ("compare" = Option<String>, Query, description = "`previous` adds the preceding period of equal length")),
    responses((status = 200, body = Summary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn summary() {}

#[utoipa::path(get, path = "/analytics/events", tag = "analytics", params(FilterParams, PageParams),
    responses(
        (status = 200, body = Vec<EventRecord>, headers(
            ("x-total-count" = u64, description = "events matching the filters"),
            ("x-next-cursor" = String, description = "cursor of the next page, when there is one"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn events() {}

#[utoipa::path(get, path = "/analytics/events.csv", tag = "analytics", params(FilterParams, PageParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn events_csv() {}

#[utoipa::path(get, path = "/analytics/policies", tag = "analytics", params(FilterParams),
    responses((status = 200, body = PolicyCounts), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn policies() {}

#[utoipa::path(get, path = "/analytics/timeseries", tag = "analytics",
    params(FilterParams, ("interval" = Option<Interval>, Query, description = "hour (ranges up to 31 days), day (default) or week")),
    responses((status = 200, body = Timeseries), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn timeseries() {}

#[utoipa::path(get, path = "/analytics/latency", tag = "analytics", params(FilterParams),
    responses((status = 200, body = LatencyDistribution), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn latency() {}

#[utoipa::path(get, path = "/analytics/experiment", tag = "analytics", params(FilterParams),
    responses((status = 200, body = Experiment), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn experiment() {}

#[utoipa::path(get, path = "/analytics/suggestions", tag = "analytics",
    params(FilterParams, ("unanswered_after" = Option<u64>, Query, minimum = 0, maximum = 2592000,
        description = "seconds an offer may wait for its answer before it counts as unanswered (default 600)")),
    responses((status = 200, body = SuggestionOutcomes), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn suggestions() {}

#[utoipa::path(get, path = "/analytics/policy-outcomes", tag = "analytics", params(FilterParams),
    responses((status = 200, body = PolicyOutcomes), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn policy_outcomes() {}

#[utoipa::path(get, path = "/analytics/rewrites", tag = "analytics", params(FilterParams),
    responses((status = 200, body = RewriteSizes), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn rewrites() {}

#[utoipa::path(get, path = "/analytics/sessions/{id}", tag = "analytics",
    params(("id" = String, Path, description = "the session id", max_length = 256), FilterParams),
    responses((status = 200, body = SessionDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a sliced read token asked outside its slice")))]
#[allow(dead_code)]
fn session() {}

#[utoipa::path(get, path = "/analytics/stream", tag = "analytics",
    responses((status = 200, content_type = "text/event-stream", body = DataChanged,
        description = "Server-Sent Events: a `change` message with this body after commits"),
        (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn stream() {}

#[utoipa::path(post, path = "/events", tag = "ingest",
    request_body(content(
        (NewEvent = "application/json"),
        (Vec<NewEvent> = "application/json"),
        (String = "application/x-ndjson")),
        description = "One event, an array of at most 10,000, or NDJSON"),
    responses(
        (status = 201, body = IngestResult, description = "Committed"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 408, body = ErrorBody, description = "The body did not arrive within the body timeout"),
        (status = 503, body = ErrorBody, description = "The database is being reopened after a fault"),
        (status = 507, body = ErrorBody, description = "The disk is full: retry once space is freed")))]
#[allow(dead_code)]
fn ingest() {}

#[utoipa::path(get, path = "/annotations", tag = "annotations",
    params(("from" = Option<String>, Query, format = DateTime, description = "start (inclusive)"),
        ("to" = Option<String>, Query, format = DateTime, description = "end (exclusive)")),
    responses((status = 200, body = Vec<Annotation>, description = "notes in time order"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a sliced read token asked outside its slice")))]
#[allow(dead_code)]
fn annotations() {}

#[utoipa::path(post, path = "/annotations", tag = "annotations", request_body = NewAnnotation,
    responses((status = 201, body = Annotation), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 408, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 503, body = ErrorBody), (status = 507, body = ErrorBody)))]
#[allow(dead_code)]
fn add_annotation() {}

#[utoipa::path(delete, path = "/annotations/{id}", tag = "annotations",
    params(("id" = String, Path, description = "the annotation's id", max_length = 64)),
    responses((status = 204, description = "deleted"), (status = 400, body = ErrorBody,
        description = "an id longer than 64 characters or with control characters"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody), (status = 507, body = ErrorBody)))]
#[allow(dead_code)]
fn delete_annotation() {}

#[utoipa::path(post, path = "/admin/backup", tag = "operations",
    responses(
        (status = 200, content_type = "application/octet-stream", body = String,
            description = "A consistent copy of the database (a DuckDB file)"),
        (status = 401, body = ErrorBody), (status = 503, body = ErrorBody), (status = 507, body = ErrorBody)))]
#[allow(dead_code)]
fn backup() {}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "application/openmetrics-text", body = String, description = "OpenMetrics text format (Prometheus scrapes it)"),
        (status = 401, body = ErrorBody)))]
#[allow(dead_code)]
fn metrics() {}

#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
#[allow(dead_code)]
fn healthz() {}

#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody),
        (status = 507, body = ErrorBody, description = "The disk is full: reads work, writes wait")))]
#[allow(dead_code)]
fn readyz() {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coachboard API",
        description = "Analytics of AI reply-coach events; the one owner of the DuckDB file."
    ),
    paths(
        summary,
        events,
        events_csv,
        policies,
        timeseries,
        latency,
        experiment,
        suggestions,
        policy_outcomes,
        rewrites,
        session,
        stream,
        annotations,
        add_annotation,
        delete_annotation,
        ingest,
        healthz,
        readyz,
        metrics,
        backup
    ),
    components(schemas(
        Annotation,
        NewAnnotation,
        Summary,
        Figures,
        Period,
        PreviousPeriod,
        DatabaseExtent,
        EventRecord,
        EventKind,
        PolicyCounts,
        Timeseries,
        TimeseriesPoint,
        Interval,
        LatencyDistribution,
        LatencyBin,
        Experiment,
        BucketStats,
        Comparison,
        SampleRatioCheck,
        NewEvent,
        PolicyRefs,
        IngestResult,
        ErrorBody,
        ErrorCode,
        Health,
        DataChanged,
        SortKey,
        SortOrder,
        SuggestionOutcomes,
        SuggestionStats,
        BucketSuggestions,
        DecisionTime,
        PolicyOutcomes,
        PolicyOutcome,
        Rate,
        SequentialComparison,
        MultipleExposure,
        Guardrail,
        GuardrailValue,
        RewriteSizes,
        RewriteBand,
        SessionDetail,
        SessionSuggestion
    ))
)]
struct ApiDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}

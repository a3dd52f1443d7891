//! HTTP routes, one file per concern.

pub mod analytics;
pub mod annotations;
pub mod backup;
pub mod body;
pub mod export;
pub mod health;
pub mod ingest;
pub mod metrics;
pub mod static_files;
pub mod stream;

/// Every path of the API (the dashboard's files and routes aside).
pub const API_PATHS: [&str; 20] = [
    "/analytics/summary",
    "/analytics/events",
    "/analytics/events.csv",
    "/analytics/policies",
    "/analytics/timeseries",
    "/analytics/latency",
    "/analytics/experiment",
    "/analytics/suggestions",
    "/analytics/policy-outcomes",
    "/analytics/rewrites",
    "/analytics/sessions/{id}",
    "/analytics/stream",
    "/events",
    "/annotations",
    "/annotations/{id}",
    "/healthz",
    "/readyz",
    "/metrics",
    "/admin/backup",
    "/openapi.json",
];

//! Prometheus metrics (`GET /metrics`), with the official `prometheus-client` crate: the
//! text format and its escaping are that library's job, not ours.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub slow_requests: Counter,
    pub events_ingested: Counter,
    pub events_duplicate: Counter,
    pub writes_refused: Family<ReasonLabels, Counter>,
    pub connections_open: Gauge,
    pub connections_refused: Counter,
    pub database_bytes: Gauge,
    pub events_stored: Gauge,
    pub rollup_cells: Gauge,
    pub rollup_bins: Gauge,
    pub commits: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Self {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            slow_requests: Counter::default(),
            events_ingested: Counter::default(),
            events_duplicate: Counter::default(),
            writes_refused: Family::default(),
            connections_open: Gauge::default(),
            connections_refused: Counter::default(),
            database_bytes: Gauge::default(),
            events_stored: Gauge::default(),
            rollup_cells: Gauge::default(),
            rollup_bins: Gauge::default(),
            commits: Gauge::default(),
            registry: Registry::with_prefix("coachboard"),
        };
        let registry = &mut metrics.registry;
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request (to its first byte), by route",
            metrics.request_seconds.clone(),
        );
        registry.register(
            "http_slow_requests",
            "Requests slower than --slow-request-ms (each is also logged)",
            metrics.slow_requests.clone(),
        );
        registry.register(
            "events_ingested",
            "Events stored by POST /events",
            metrics.events_ingested.clone(),
        );
        registry.register(
            "events_duplicate",
            "Events re-sent with an id already stored (not stored again)",
            metrics.events_duplicate.clone(),
        );
        registry.register(
            "writes_refused",
            "POST /events requests refused, by error code",
            metrics.writes_refused.clone(),
        );
        registry.register(
            "connections_open",
            "TCP connections open now",
            metrics.connections_open.clone(),
        );
        registry.register(
            "connections_refused",
            "TCP connections closed at once by --max-connections or --max-connections-per-client",
            metrics.connections_refused.clone(),
        );
        registry.register(
            "database_bytes",
            "Size of the database on disk (file and write-ahead log)",
            metrics.database_bytes.clone(),
        );
        registry.register(
            "events_stored",
            "Events in the database",
            metrics.events_stored.clone(),
        );
        registry.register(
            "rollup_cells",
            "Cells of the in-memory roll-up (hour x bucket x event)",
            metrics.rollup_cells.clone(),
        );
        registry.register(
            "rollup_bins",
            "Latency histogram bins held by the roll-up",
            metrics.rollup_bins.clone(),
        );
        registry.register(
            "write_commits",
            "Transactions that stored events since start-up: concurrent writes share one",
            metrics.commits.clone(),
        );
        metrics
    }
}

impl Metrics {
    /// The text exposition format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The route a path belongs to, for labels: API paths as they are, anything else (the
/// dashboard's files and routes, unknown paths) as one value, so labels stay few.
pub fn route_label(path: &str) -> &'static str {
    if path.starts_with("/analytics/sessions/") {
        return "/analytics/sessions/{id}";
    }
    if path.starts_with("/annotations/") {
        return "/annotations/{id}";
    }
    crate::routes::API_PATHS
        .iter()
        .find(|route| **route == path)
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_was_counted() {
        let metrics = Metrics::default();
        metrics.events_ingested.inc_by(3);
        metrics
            .writes_refused
            .get_or_create(&ReasonLabels {
                reason: "insufficient_storage".into(),
            })
            .inc();
        let text = metrics.encode().expect("encode");
        assert!(
            text.contains("coachboard_events_ingested_total 3"),
            "{text}"
        );
        assert!(
            text.contains(r#"coachboard_writes_refused_total{reason="insufficient_storage"} 1"#),
            "{text}"
        );
        assert_eq!(route_label("/analytics/summary"), "/analytics/summary");
        assert_eq!(route_label("/assets/app-123.wasm"), "other");
    }
}

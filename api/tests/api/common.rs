//! Shared test helpers: real DuckDB files in temporary folders (or, when
//! `COACHBOARD_TEST_CLICKHOUSE` names a cluster, a database of their own on it), the real
//! router driven with `oneshot`, and events built tersely.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::NaiveDateTime;
use coachboard_api::analytics::Engine;
use coachboard_api::store::{ClickHouseStore, DuckDbStore, EventStore, StoreOptions, StoredEvent};

pub use crate::server::{cluster, database_for};
use coachboard_api::{AppState, Settings};
use http_body_util::BodyExt;
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt;

pub struct TestApi {
    /// Keeps the database folder alive as long as the API.
    _dir: TempDir,
    pub engine: Arc<Engine>,
    pub router: Router,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }
}

pub fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("events.duckdb")
}

/// A second handle on a test API's file, from the same process (DuckDB allows that within
/// one process only when it is the same database instance, so this is for read-only checks
/// after the API's own work is done).
pub fn open_store_of(api: &TestApi) -> DuckDbStore {
    open_store(&db_path(&api._dir))
}

pub fn open_store(path: &Path) -> DuckDbStore {
    DuckDbStore::open(path, &StoreOptions::default()).expect("database opens")
}

/// The store the suite runs on for a test folder: its DuckDB file, or on the cluster the
/// database named after that file (so reopening a folder reopens the same data).
pub fn open_any_store(path: &Path) -> Arc<dyn EventStore> {
    match cluster() {
        Some(config) => {
            let config = config
                .with_database(&database_for(path))
                .expect("a plain database name");
            Arc::new(ClickHouseStore::open(config).expect("the cluster opens"))
        }
        None => Arc::new(open_store(path)),
    }
}

impl TestApi {
    /// A fresh database holding `events`.
    pub fn with_events(events: &[StoredEvent]) -> Self {
        Self::with_events_and(events, Settings::default())
    }

    pub fn with_events_and(events: &[StoredEvent], settings: Settings) -> Self {
        let dir = TempDir::new().expect("temp dir");
        {
            let store = open_any_store(&db_path(&dir));
            store.insert(events).expect("fixture inserted");
        }
        Self::open(dir, settings)
    }

    /// Serves an existing database folder (its `events.duckdb`, or its cluster database).
    pub fn open(dir: TempDir, settings: Settings) -> Self {
        let store = open_any_store(&db_path(&dir));
        Self::on_store(dir, store, settings)
    }

    /// Serves `store`; `dir` lives as long as the API.
    pub fn on_store(dir: TempDir, store: Arc<dyn EventStore>, settings: Settings) -> Self {
        let engine = Arc::new(Engine::start(store).expect("engine starts"));
        let router = coachboard_api::app(AppState::new(engine.clone(), settings));
        Self {
            _dir: dir,
            engine,
            router,
        }
    }

    /// Stops the API (its database closes) and hands back its folder.
    pub fn into_dir(self) -> TempDir {
        let Self {
            _dir: dir,
            engine,
            router,
        } = self;
        drop(router);
        drop(engine);
        dir
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        self.answer(request, |body| async move {
            body.collect().await.expect("body").to_bytes().to_vec()
        })
        .await
    }

    /// The status, headers and first body frame of a GET with a token: for streams.
    pub async fn first_chunk(&self, uri: &str, token: &str) -> Answer {
        let request = Request::get(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        self.answer(request, |mut body| async move {
            let first = body.frame().await.and_then(Result::ok);
            first
                .and_then(|frame| frame.into_data().ok())
                .map(|data| data.to_vec())
                .unwrap_or_default()
        })
        .await
    }

    /// Sends a request through the router; `read` takes what it needs of the body.
    async fn answer<F, Fut>(&self, request: Request<Body>, read: F) -> Answer
    where
        F: FnOnce(Body) -> Fut,
        Fut: std::future::Future<Output = Vec<u8>>,
    {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = read(response.into_body()).await;
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    /// GET that must succeed; its JSON.
    pub async fn json(&self, uri: &str) -> Value {
        let answer = self.get(uri).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "GET {uri}: {}",
            answer.text()
        );
        answer.json()
    }

    pub async fn post(&self, uri: &str, content_type: &str, body: impl Into<Body>) -> Answer {
        let request = Request::post(uri)
            .header("content-type", content_type)
            .body(body.into())
            .expect("request");
        self.send(request).await
    }

    pub async fn post_json(&self, body: Value) -> Answer {
        self.post("/events", "application/json", body.to_string())
            .await
    }

    pub async fn total(&self) -> u64 {
        self.json("/analytics/summary").await["total_events"]
            .as_u64()
            .expect("total")
    }
}

pub fn at(text: &str) -> NaiveDateTime {
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("valid time")
        .naive_utc()
}

/// An event with the fields the fixtures vary.
#[allow(clippy::too_many_arguments)]
pub fn event(
    id: &str,
    ts: &str,
    kind: &str,
    session: &str,
    bucket: &str,
    latency: i64,
    policies: &str,
    draft: &str,
) -> StoredEvent {
    StoredEvent {
        id: id.to_owned(),
        ts: at(ts),
        event: kind.to_owned(),
        session_id: Some(session.to_owned()),
        agent_draft: Some(draft.to_owned()),
        suggestion_used: (kind == "accepted" || kind == "edited")
            .then(|| format!("{draft} (coached)")),
        policy_refs: Some(policies.to_owned()),
        latency_ms: Some(latency),
        ab_test_bucket: Some(bucket.to_owned()),
        offer_id: None,
    }
}

/// The ten events whose answers the tests compute by hand.
///
/// | id  | ts (UTC)            | event    | session | bucket | latency | policies            |
/// |-----|---------------------|----------|---------|--------|---------|---------------------|
/// | e01 | 10-01 08:00:00      | offered  | s1      | A      | 100     | PII-01, TONE-02     |
/// | e02 | 10-01 08:00:10      | accepted | s1      | A      | 0       |                     |
/// | e03 | 10-01 09:30:00      | offered  | s2      | B      | 300     | PII-01              |
/// | e04 | 10-01 09:30:20      | edited   | s2      | B      | 0       |                     |
/// | e05 | 10-01 23:30:00      | offered  | s3      | A      | 200     | REFUND-03           |
/// | e06 | 10-01 23:30:30      | rejected | s3      | A      | 0       |                     |
/// | e07 | 10-02 10:00:00      | offered  | s4      | B      | 400     | PII-01              |
/// | e08 | 10-02 10:00:05      | accepted | s4      | B      | 0       |                     |
/// | e09 | 10-03 12:00:00      | offered  | s5      | B      | 1000    |                     |
/// | e10 | 10-03 12:00:01      | rejected | s5      | B      | 0       |                     |
pub fn fixture() -> Vec<StoredEvent> {
    vec![
        event(
            "e01",
            "2025-10-01T08:00:00Z",
            "offered",
            "s1",
            "A",
            100,
            r#"["PII-01","TONE-02"]"#,
            "Your refund is on its way",
        ),
        event(
            "e02",
            "2025-10-01T08:00:10Z",
            "accepted",
            "s1",
            "A",
            0,
            "[]",
            "Your refund is on its way",
        ),
        event(
            "e03",
            "2025-10-01T09:30:00Z",
            "offered",
            "s2",
            "B",
            300,
            r#"["PII-01"]"#,
            "I reset your password",
        ),
        event(
            "e04",
            "2025-10-01T09:30:20Z",
            "edited",
            "s2",
            "B",
            0,
            "[]",
            "I reset your password",
        ),
        event(
            "e05",
            "2025-10-01T23:30:00Z",
            "offered",
            "s3",
            "A",
            200,
            r#"["REFUND-03"]"#,
            "The parcel left today",
        ),
        event(
            "e06",
            "2025-10-01T23:30:30Z",
            "rejected",
            "s3",
            "A",
            0,
            "[]",
            "The parcel left today",
        ),
        event(
            "e07",
            "2025-10-02T10:00:00Z",
            "offered",
            "s4",
            "B",
            400,
            r#"["PII-01"]"#,
            "We can replace the item",
        ),
        event(
            "e08",
            "2025-10-02T10:00:05Z",
            "accepted",
            "s4",
            "B",
            0,
            "[]",
            "We can replace the item",
        ),
        event(
            "e09",
            "2025-10-03T12:00:00Z",
            "offered",
            "s5",
            "B",
            1000,
            "[]",
            "Your order shipped",
        ),
        event(
            "e10",
            "2025-10-03T12:00:01Z",
            "rejected",
            "s5",
            "B",
            0,
            "[]",
            "Your order shipped",
        ),
    ]
}

pub fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "{actual} is not {expected}"
    );
}

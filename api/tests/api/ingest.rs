//! `POST /events`: all or nothing, idempotent, and visible as soon as it is acknowledged.

use coachboard_api::Settings;
use serde_json::json;
use tempfile::TempDir;

use crate::common::{TestApi, db_path, fixture};

#[tokio::test]
async fn a_bad_event_rejects_the_whole_batch() {
    let api = TestApi::with_events(&fixture());
    let batch = json!([
        {"id": "n1", "event": "offered"},
        {"id": "n2", "event": "offered", "latency_ms": -3},
        {"id": "n3", "event": "offered"}
    ]);
    let answer = api.post_json(batch).await;
    assert_eq!(answer.status.as_u16(), 422);
    assert!(
        answer.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("event 2:")
    );
    let duplicated = api
        .post_json(json!([{"id": "d", "event": "offered"}, {"id": "d", "event": "edited"}]))
        .await;
    assert_eq!(duplicated.status.as_u16(), 422);
    assert_eq!(api.total().await, 10, "nothing of either batch was stored");
}

#[tokio::test]
async fn re_sent_ids_are_stored_once() {
    let api = TestApi::with_events(&fixture());
    let batch = json!([
        {"id": "k1", "event": "offered", "latency_ms": 50, "ab_test_bucket": "A", "policy_refs": ["PII-01"]},
        {"id": "k2", "event": "accepted", "ab_test_bucket": "A"},
        {"id": "k3", "event": "rejected", "ab_test_bucket": "B"}
    ]);
    let first = api.post_json(batch.clone()).await;
    assert_eq!(first.status.as_u16(), 201);
    assert_eq!(
        first.json(),
        json!({"stored": 3, "duplicates": 0, "ids": ["k1", "k2", "k3"]})
    );
    let again = api.post_json(batch).await.json();
    assert_eq!(
        (again["stored"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(3))
    );
    let mixed = api.post_json(json!([{"id": "k3", "event": "rejected"}, {"id": "e01", "event": "offered"}, {"id": "k4", "event": "edited"}])).await.json();
    assert_eq!(
        (mixed["stored"].as_u64(), mixed["duplicates"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(api.total().await, 14);
    assert_eq!(
        api.json("/analytics/policies").await["PII-01"],
        4,
        "the roll-up took the new refs"
    );
}

#[tokio::test]
async fn ids_and_times_are_assigned_and_formats_accepted() {
    let api = TestApi::with_events(&[]);
    let stored = api
        .post_json(json!({"event": "offered", "session_id": "new", "latency_ms": 321.4}))
        .await;
    assert_eq!(stored.status.as_u16(), 201);
    let id = stored.json()["ids"][0].as_str().unwrap().to_owned();
    let events = api.json("/analytics/events?session_id=new").await;
    assert_eq!(events[0]["id"], id.as_str());
    assert_eq!(events[0]["latency_ms"], 321);
    let lines = "{\"event\":\"offered\",\"ts\":\"2025-10-23T10:00:00\"}\n{\"event\":\"edited\",\"ts\":\"2025-10-23T12:00:00+02:00\"}\n";
    let answer = api.post("/events", "application/x-ndjson", lines).await;
    assert_eq!(answer.json()["stored"], 2);
    let day = api
        .json("/analytics/summary?from=2025-10-23T00:00:00Z&to=2025-10-24T00:00:00Z")
        .await;
    assert_eq!(
        day["total_events"], 2,
        "naive times are UTC, offsets are honoured"
    );
}

/// A constraint of the user's own table fails the second row inside the database: the
/// transaction takes the first row back with it.
#[tokio::test]
async fn a_failing_write_leaves_nothing_behind() {
    let dir = TempDir::new().expect("temp dir");
    {
        let conn = duckdb::Connection::open(db_path(&dir)).expect("open");
        conn.execute_batch(
            "CREATE TABLE coach_events (id VARCHAR, ts TIMESTAMP, event VARCHAR, session_id VARCHAR,
                agent_draft VARCHAR, suggestion_used VARCHAR, policy_refs VARCHAR,
                latency_ms INTEGER CHECK (latency_ms < 1000), ab_test_bucket VARCHAR);",
        )
        .expect("table");
    }
    let api = TestApi::open(dir, Settings::default());
    let answer = api.post_json(json!([{"id": "ok", "event": "offered", "latency_ms": 10}, {"id": "slow", "event": "offered", "latency_ms": 2000}])).await;
    assert!(
        answer.status.is_client_error(),
        "{}: {}",
        answer.status,
        answer.text()
    );
    assert_eq!(answer.json()["error"], "conflict");
    assert_eq!(api.total().await, 0);
    assert_eq!(
        api.json("/analytics/events")
            .await
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The id of the rolled-back row is free again.
    assert_eq!(
        api.post_json(json!({"id": "ok", "event": "offered", "latency_ms": 10}))
            .await
            .json()["stored"],
        1
    );
}

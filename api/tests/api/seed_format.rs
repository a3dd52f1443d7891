//! A database written the note's way (text ids, JSON-text policy_refs, some malformed) is
//! served as it is and answered exactly as the note's Python code answers it.

use coachboard_api::Settings;
use serde_json::json;
use tempfile::TempDir;

use crate::common::{TestApi, close, db_path};

/// The note's table, filled by SQL as its Python app would have.
fn seed_database() -> TempDir {
    let dir = TempDir::new().expect("temp dir");
    let conn = duckdb::Connection::open(db_path(&dir)).expect("open");
    conn.execute_batch(
        "CREATE TABLE coach_events (
            id VARCHAR PRIMARY KEY, ts TIMESTAMP, event VARCHAR, session_id VARCHAR,
            agent_draft VARCHAR, suggestion_used VARCHAR, policy_refs VARCHAR,
            latency_ms INTEGER, ab_test_bucket VARCHAR);
         INSERT INTO coach_events VALUES
            ('r01', '2025-10-20 09:00:00', 'offered',  's1', 'hi', NULL, '[\"PII-01\", \"TONE-02\"]', 100, 'A'),
            ('r02', '2025-10-20 09:00:05', 'accepted', 's1', 'hi', 'Hi!', '[\"PII-01\"]', 0, 'A'),
            ('r03', '2025-10-20 09:01:00', 'offered',  's2', 'x', NULL, 'not json', NULL, 'B'),
            ('r04', '2025-10-20 09:02:00', 'offered',  's2', 'x', NULL, NULL, 250, 'B'),
            ('r05', '2025-10-20 09:03:00', 'rejected', 's2', 'x', NULL, '[]', 0, 'B'),
            ('r06', '2025-10-20 09:04:00', 'offered',  's3', 'x', NULL, '{\"PII-01\": true}', 0, 'A'),
            ('r07', '2025-10-20 09:05:00', 'edited',   's3', 'x', 'y', '\"AB\"', 0, 'A'),
            ('r08', '2025-10-20 09:06:00', 'offered',  's4', 'x', NULL, '[1, null, \"X\"]', 0, 'B'),
            ('r09', '2025-10-20 09:07:00', 'offered',  's4', 'x', NULL, '[\"Y\", [\"nested\"], \"Z\"]', 0, 'B'),
            ('r10', '2025-10-20 09:08:00', 'offered',  's5', 'x', NULL, '42', 0, 'A'),
            ('r11', '2025-10-20 09:09:00', 'offered',  's5', 'x', NULL, '', 0, 'A'),
            ('r12', '2025-10-20 09:10:00', 'offered',  's5', 'x', NULL, '[\"PII-01\"', 0, 'A');",
    )
    .expect("seed rows");
    dir
}

#[tokio::test]
async fn answers_like_the_notes_code() {
    let api = TestApi::open(seed_database(), Settings::default());
    let summary = api.json("/analytics/summary").await;
    // 12 rows; offered: r01 r03 r04 r06 r08 r09 r10 r11 r12; accepted: r02 + edited r07.
    assert_eq!(summary["total_events"], 12);
    assert_eq!(summary["suggestions_offered"], 9);
    assert_eq!(summary["suggestions_accepted"], 2);
    close(summary["accept_rate"].as_f64().unwrap(), 2.0 / 9.0 * 100.0);
    // AVG(latency_ms) WHERE latency_ms > 0: (100 + 250) / 2.
    assert_eq!(summary["avg_latency_ms"], 175);
    // Python: json.loads + iterate. Lists count their items (1 → "1", None → "null") until a
    // nested list raises TypeError; a dict counts its keys; a string its characters; 42,
    // '' and broken JSON raise and are skipped.
    assert_eq!(
        api.json("/analytics/policies").await,
        json!({"PII-01": 3, "TONE-02": 1, "A": 1, "B": 1, "1": 1, "null": 1, "X": 1, "Y": 1})
    );
    let events = api.json("/analytics/events?limit=2").await;
    assert_eq!(events[0]["id"], "r12");
    assert_eq!(events[0]["ts"], "2025-10-20T09:10:00Z");
    assert_eq!(events[0]["policy_refs"], "[\"PII-01\"");
    assert_eq!(events[1]["policy_refs"], "");
    // Filtering by policy uses the same reading of policy_refs: r01, r02 (its own refs)
    // and r06 (an object's keys) match, and r07, inferred as the answer to r06.
    assert_eq!(
        api.json("/analytics/summary?policy=PII-01").await["total_events"],
        4
    );
    assert_eq!(
        api.json("/analytics/summary?policy=A").await["total_events"],
        1
    );
}

#[tokio::test]
async fn never_rewrites_the_file_and_takes_new_events() {
    let api = TestApi::open(seed_database(), Settings::default());
    assert_eq!(api.total().await, 12);
    let stored = api
        .post_json(json!({"id": "r13", "event": "offered", "ts": "2025-10-20T10:00:00Z", "policy_refs": ["PII-01"], "latency_ms": 50}))
        .await;
    assert_eq!(stored.status.as_u16(), 201, "{}", stored.text());
    assert_eq!(api.total().await, 13);
    assert_eq!(api.json("/analytics/policies").await["PII-01"], 4);
    // The primary key the note's table has still guards its ids.
    assert_eq!(
        api.post_json(json!({"id": "r01", "event": "offered"}))
            .await
            .json()["duplicates"],
        1
    );
    assert_eq!(api.total().await, 13);
}

/// A user's file with other column types (TIMESTAMPTZ time, BIGINT ids, DOUBLE latency,
/// native list of policies) is read through casts, not rewritten.
#[tokio::test]
async fn reads_other_column_types() {
    let dir = TempDir::new().expect("temp dir");
    {
        let conn = duckdb::Connection::open(db_path(&dir)).expect("open");
        conn.execute_batch(
            "CREATE TABLE coach_events (id BIGINT, ts TIMESTAMPTZ, event VARCHAR, policy_refs VARCHAR[], latency_ms DOUBLE);
             INSERT INTO coach_events VALUES
               (1, '2025-10-20 09:00:00+00', 'offered', ['PII-01'], 120.4),
               (2, '2025-10-20 10:00:00+00', 'accepted', [], 0.0);",
        )
        .expect("rows");
    }
    let api = TestApi::open(dir, Settings::default());
    let summary = api.json("/analytics/summary").await;
    assert_eq!(summary["total_events"], 2);
    assert_eq!(summary["avg_latency_ms"], 120);
    assert_eq!(api.json("/analytics/policies").await, json!({"PII-01": 1}));
    let events = api.json("/analytics/events").await;
    assert_eq!(events[0]["id"], "2");
    assert_eq!(events[1]["ts"], "2025-10-20T09:00:00Z");
    assert_eq!(
        events[0]["session_id"],
        serde_json::Value::Null,
        "missing columns read as null"
    );
}

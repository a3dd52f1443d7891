//! Reads run while writes commit: no errors, and counts only go up.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::common::{TestApi, fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_fail_during_writes() {
    let api = Arc::new(TestApi::with_events(&fixture()));
    let writer = {
        let api = api.clone();
        tokio::spawn(async move {
            for batch in 0..40 {
                let events: Vec<_> = (0..50)
                    .map(|n| json!({"id": format!("w{batch}-{n}"), "event": "offered", "latency_ms": 100 + n, "ab_test_bucket": "A"}))
                    .collect();
                let answer = api.post_json(json!(events)).await;
                assert_eq!(answer.status.as_u16(), 201, "{}", answer.text());
            }
        })
    };
    let mut readers = Vec::new();
    for reader in 0..4 {
        let api = api.clone();
        readers.push(tokio::spawn(async move {
            let mut last = 0;
            let mut reads = 0;
            let uris = [
                "/analytics/summary",
                "/analytics/events?limit=20",
                "/analytics/timeseries",
                "/analytics/policies",
            ];
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            loop {
                let uri = uris[(reads + reader) % uris.len()];
                let answer = api.get(uri).await;
                assert_eq!(answer.status.as_u16(), 200, "{uri}: {}", answer.text());
                if uri == "/analytics/summary" {
                    let total = answer.json()["total_events"].as_u64().unwrap();
                    assert!(total >= last, "the count went down: {last} → {total}");
                    last = total;
                }
                reads += 1;
                // In-process requests answered from the cache never wait on I/O: yield as a
                // network round trip would, so the writer task gets its turn.
                tokio::task::yield_now().await;
                if last == 2010 || tokio::time::Instant::now() > deadline {
                    break reads;
                }
            }
        }));
    }
    writer.await.expect("writer");
    for reader in readers {
        assert!(reader.await.expect("reader") > 0);
    }
    assert_eq!(api.total().await, 2010);
}

/// Many clients each sending one event at a time: every event is answered after its
/// commit, counted once, and the writes share commits (group commit). Two clients sending
/// the same id at once store it once: one is told it stored it, the other that it was a
/// duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_single_event_writes_share_commits_and_count_once() {
    let api = Arc::new(TestApi::with_events(&[]));
    const CLIENTS: usize = 32;
    const EACH: usize = 25;
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let api = api.clone();
        clients.push(tokio::spawn(async move {
            let mut stored = 0;
            let mut duplicates = 0;
            for n in 0..EACH {
                // Every fifth event has an id another client sends too, at about the same time.
                let id = if n % 5 == 0 {
                    format!("shared-{}-{n}", client / 2)
                } else {
                    format!("c{client}-{n}")
                };
                let answer = api
                    .post_json(json!({"id": id, "event": "offered", "session_id": format!("s{client}"), "latency_ms": 100 + n}))
                    .await;
                assert_eq!(answer.status.as_u16(), 201, "{}", answer.text());
                stored += answer.json()["stored"].as_u64().unwrap();
                duplicates += answer.json()["duplicates"].as_u64().unwrap();
            }
            (stored, duplicates)
        }));
    }
    let (mut stored, mut duplicates) = (0, 0);
    for client in clients {
        let (s, d) = client.await.expect("client");
        stored += s;
        duplicates += d;
    }
    let shared = (CLIENTS / 2 * EACH.div_ceil(5)) as u64;
    let unique = (CLIENTS * EACH) as u64 - shared;
    assert_eq!(stored, unique, "every distinct id stored once");
    assert_eq!(duplicates, shared, "each shared id refused once");
    assert_eq!(api.total().await, unique);
    let commits = api.engine.commits();
    assert!(
        commits < unique,
        "{commits} commits for {unique} events: concurrent writes did not share commits"
    );
    let metrics = api.get("/metrics").await.text();
    assert!(
        metrics.contains(&format!("coachboard_write_commits {commits}")),
        "{metrics}"
    );
}

/// A write the user's table refuses fails alone, even when it shares a group commit with
/// good writes: they are stored, it is answered with a conflict and leaves nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_write_in_a_group_fails_alone() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    {
        let conn = duckdb::Connection::open(crate::common::db_path(&dir)).expect("open");
        conn.execute_batch(
            "CREATE TABLE coach_events (id VARCHAR, ts TIMESTAMP, event VARCHAR, session_id VARCHAR,
                agent_draft VARCHAR, suggestion_used VARCHAR, policy_refs VARCHAR,
                latency_ms INTEGER CHECK (latency_ms < 1000), ab_test_bucket VARCHAR);",
        )
        .expect("table");
    }
    let api = Arc::new(TestApi::open(dir, coachboard_api::Settings::default()));
    let mut clients = Vec::new();
    for client in 0..16_usize {
        let api = api.clone();
        clients.push(tokio::spawn(async move {
            let mut good = 0;
            for n in 0..20_usize {
                // Client 3 sends a latency the table's CHECK refuses, now and then.
                let bad = client == 3 && n % 4 == 1;
                let latency = if bad { 5000 } else { 10 + n };
                let answer = api
                    .post_json(json!({"id": format!("c{client}-{n}"), "event": "offered", "latency_ms": latency}))
                    .await;
                if bad {
                    assert_eq!(answer.status.as_u16(), 409, "{}", answer.text());
                    assert_eq!(answer.json()["error"], "conflict");
                } else {
                    assert_eq!(answer.status.as_u16(), 201, "{}", answer.text());
                    good += 1;
                }
            }
            good
        }));
    }
    let mut good = 0;
    for client in clients {
        good += client.await.expect("client");
    }
    assert_eq!(good, 16 * 20 - 5);
    assert_eq!(api.total().await, good);
    let stored = api.json("/analytics/events?limit=500").await;
    assert!(
        stored
            .as_array()
            .unwrap()
            .iter()
            .all(|event| event["latency_ms"].as_i64().unwrap() < 1000)
    );
}

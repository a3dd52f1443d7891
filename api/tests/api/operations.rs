//! What an operator does with a running API: an online backup while events keep arriving,
//! a restore from it, and the Prometheus metrics.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Client;
use serde_json::json;
use tempfile::TempDir;

use crate::process::{BINARY, start, terminate, total_events};

const BATCH: u64 = 100;
const DEMO: u64 = 20_000;

fn backup(url: &str, to: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(BINARY)
        .args(["backup", "--api", url, "--to"])
        .arg(to)
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("backup runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_is_consistent_and_restores() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("live.duckdb");
    let (mut server, url) = start(
        &db,
        &[
            "--demo",
            "--demo-rows",
            &DEMO.to_string(),
            "--ingest-token",
            "ingest-secret",
            "--read-token",
            "read-secret",
        ],
    );
    // A writer keeps posting 100-event batches during the backup.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let writer = {
        let (url, stop, acknowledged) = (url.clone(), stop.clone(), acknowledged.clone());
        tokio::spawn(async move {
            let client = Client::new();
            let mut number = 0;
            while !stop.load(Ordering::Acquire) {
                let events: Vec<_> = (0..BATCH)
                    .map(|n| json!({"id": format!("live-{number}-{n}"), "event": "offered", "session_id": format!("live-{number}")}))
                    .collect();
                let response = client
                    .post(format!("{url}/events"))
                    .bearer_auth("ingest-secret")
                    .json(&events)
                    .send()
                    .await
                    .expect("POST");
                assert_eq!(response.status(), 201);
                acknowledged.fetch_add(BATCH, Ordering::AcqRel);
                number += 1;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let copy = dir.path().join("copy.duckdb");
    let refused = {
        let (url, copy) = (url.clone(), copy.clone());
        tokio::task::spawn_blocking(move || backup(&url, &copy, &[]))
            .await
            .expect("runs")
    };
    assert!(!refused.status.success(), "a backup needs the ingest token");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"));
    let made = {
        let (url, copy) = (url.clone(), copy.clone());
        tokio::task::spawn_blocking(move || backup(&url, &copy, &["--token", "ingest-secret"]))
            .await
            .expect("runs")
    };
    let said = String::from_utf8_lossy(&made.stdout).into_owned();
    assert!(
        made.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(said.contains("backup of"), "{said}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Release);
    writer.await.expect("writer");
    let written = acknowledged.load(Ordering::Acquire);
    assert!(written > 0, "writes went on during the backup");
    // No partial file left behind, here or beside the database.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.contains("partial") || name.starts_with(".coachboard-backup"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Replacing a file takes --force.
    let again = backup(&url, &copy, &["--token", "ingest-secret"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let client = Client::new();
    let live_total = {
        let summary: serde_json::Value = client
            .get(format!("{url}/analytics/summary"))
            .bearer_auth("read-secret")
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        summary["total_events"].as_u64().expect("total")
    };
    assert_eq!(live_total, DEMO + written);
    assert!(terminate(&mut server).success());

    // Restore: the copy opens as a database by itself, with whole batches only.
    let (mut restored, restored_url) = start(&copy, &[]);
    let total = total_events(&client, &restored_url).await;
    assert!(total >= DEMO && total <= DEMO + written, "{total}");
    assert_eq!(
        (total - DEMO) % BATCH,
        0,
        "a consistent copy has whole batches: {total}"
    );
    println!(
        "backup taken with {} of {written} live events",
        total - DEMO
    );
    assert!(terminate(&mut restored).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_ingest_and_sizes() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("metrics.duckdb");
    let (mut server, url) = start(&db, &["--demo", "--demo-rows", "1000"]);
    let client = Client::new();
    for _ in 0..3 {
        client
            .get(format!("{url}/analytics/summary"))
            .send()
            .await
            .expect("GET");
    }
    let stored = client
        .post(format!("{url}/events"))
        .json(&json!([{"id": "m-1", "event": "offered"}, {"id": "m-2", "event": "accepted"}]))
        .send()
        .await
        .expect("POST");
    assert_eq!(stored.status(), 201);
    let refused = client
        .post(format!("{url}/events"))
        .json(&json!({"event": "nonsense"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), 422);
    let response = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/openmetrics-text"))
    );
    let text = response.text().await.expect("text");
    for expected in [
        r#"coachboard_http_requests_total{method="GET",route="/analytics/summary",status="200"} 3"#,
        "coachboard_events_ingested_total 2",
        r#"coachboard_writes_refused_total{reason="invalid_event"} 1"#,
        "coachboard_events_stored 1002",
        "coachboard_http_request_duration_seconds_bucket",
        "coachboard_connections_open",
    ] {
        assert!(text.contains(expected), "missing {expected}:\n{text}");
    }
    let size = text
        .lines()
        .find_map(|line| line.strip_prefix("coachboard_database_bytes "))
        .and_then(|value| value.trim().parse::<u64>().ok())
        .expect("database size");
    assert!(size > 100_000, "{size}");
    let cells = text
        .lines()
        .find_map(|line| line.strip_prefix("coachboard_rollup_cells "))
        .and_then(|value| value.trim().parse::<u64>().ok())
        .expect("roll-up size");
    // On a cluster the roll-up is ClickHouse's; the API keeps none in memory.
    assert_eq!(cells > 0, crate::common::cluster().is_none(), "{cells}");
    assert!(terminate(&mut server).success());
}

// Ignored in `make test`: run alone it passes, but beside the other tests DuckDB sometimes
// answers this page within the limit (200), so it is not yet a reliable check.
#[ignore = "flaky beside other tests; run with --ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_the_memory_limit_answers_503_and_the_process_lives_on() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("memory.duckdb");
    let (mut server, url) = start(
        &db,
        &["--demo", "--demo-rows", "200000", "--memory-limit", "48MB"],
    );
    let client = Client::new();
    // A deep page keeps ~200,000 whole rows in DuckDB's top-N heap (it fails even at 64MB).
    let response = client
        .get(format!("{url}/analytics/events?offset=199000&limit=1000"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["error"], "unavailable", "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(message.contains("memory"), "{message}");
    // The process lives on and answers the rest.
    assert_eq!(total_events(&client, &url).await, 200_000);
    let page = client
        .get(format!("{url}/analytics/events?sort=latency_ms&limit=10"))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status(), 200);
    assert!(terminate(&mut server).success());
}

//! One writer and eight readers against one server for a bounded time: no errors, no 5xx,
//! and the counts readers see never go down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::process::{start, terminate, total_events};

const SOAK: Duration = Duration::from_secs(8);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_writer_eight_readers() {
    let dir = TempDir::new().expect("temp dir");
    let (mut server, url) = start(
        &dir.path().join("soak.duckdb"),
        &["--demo", "--demo-rows", "50000"],
    );
    let client = Client::new();
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (client, url, done) = (client.clone(), url.clone(), done.clone());
        tokio::spawn(async move {
            let mut written = 0_u64;
            while !done.load(Ordering::Relaxed) {
                let events: Vec<Value> = (0..20)
                    .map(|n| json!({"event": if n % 2 == 0 { "offered" } else { "accepted" }, "latency_ms": 300 + n, "ab_test_bucket": "B", "policy_refs": ["PII-01"]}))
                    .collect();
                let response = client
                    .post(format!("{url}/events"))
                    .json(&events)
                    .send()
                    .await
                    .expect("write answered");
                assert_eq!(response.status().as_u16(), 201);
                written += 20;
            }
            written
        })
    };
    let mut readers = Vec::new();
    for reader in 0..8 {
        let (client, url, done) = (client.clone(), url.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let paths = [
                "/analytics/summary",
                "/analytics/events?limit=50",
                "/analytics/timeseries",
                "/analytics/policies",
                "/analytics/experiment",
                "/analytics/latency",
            ];
            let (mut last_total, mut last_pii, mut reads) = (0, 0, 0_u64);
            while !done.load(Ordering::Relaxed) {
                let path = paths[(reads as usize + reader) % paths.len()];
                let response = client
                    .get(format!("{url}{path}"))
                    .send()
                    .await
                    .expect("read answered");
                assert_eq!(response.status().as_u16(), 200, "{path}");
                let body: Value = response.json().await.expect("JSON");
                if path == "/analytics/summary" {
                    let total = body["total_events"].as_u64().expect("total");
                    assert!(
                        total >= last_total,
                        "total went down: {last_total} → {total}"
                    );
                    last_total = total;
                }
                if path == "/analytics/policies" {
                    let pii = body["PII-01"].as_u64().expect("PII-01");
                    assert!(pii >= last_pii, "PII-01 went down: {last_pii} → {pii}");
                    last_pii = pii;
                }
                reads += 1;
            }
            reads
        }));
    }
    tokio::time::sleep(SOAK).await;
    done.store(true, Ordering::Relaxed);
    let written = writer.await.expect("writer");
    let mut reads = 0;
    for reader in readers {
        reads += reader.await.expect("reader");
    }
    assert!(written > 0 && reads > 0);
    assert_eq!(total_events(&client, &url).await, 50_000 + written);
    println!("soak: {written} events written, {reads} reads in {SOAK:?}");
    assert!(terminate(&mut server).success());
}

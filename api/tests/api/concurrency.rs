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

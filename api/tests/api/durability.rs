//! Nothing acknowledged is lost and no batch is half stored, even when the server is killed
//! with SIGKILL in the middle of writes.

use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::process::{get_json, start, terminate, total_events};

const BATCH: usize = 200;

fn batch(trial: usize, number: usize) -> Value {
    let events: Vec<Value> = (0..BATCH)
        .map(|n| {
            let kind = ["offered", "accepted", "edited", "rejected"][n % 4];
            json!({
                "id": format!("t{trial}-b{number}-e{n}"),
                "event": kind,
                "session_id": format!("t{trial}-b{number}"),
                "latency_ms": 100 + n,
                "ab_test_bucket": if n % 2 == 0 { "A" } else { "B" },
                "agent_draft": "a draft long enough to make the batch take a moment to write"
            })
        })
        .collect();
    Value::Array(events)
}

async fn ids_of_session(client: &Client, url: &str, session: &str) -> Vec<String> {
    let events = get_json(
        client,
        &format!("{url}/analytics/events?session_id={session}&limit=1000"),
    )
    .await;
    events
        .as_array()
        .expect("array")
        .iter()
        .map(|event| event["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("durable.duckdb");
    let client = Client::new();
    let mut acknowledged: Vec<(usize, usize)> = Vec::new();
    let mut attempted: Vec<(usize, usize)> = Vec::new();
    for trial in 0..3 {
        let (server, url) = start(&db, &[]);
        let pid = server.id();
        // Kill at a different moment each trial, while batches are in flight.
        let delay = Duration::from_millis(300 + 450 * trial as u64);
        let killer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .expect("kill");
        });
        for number in 0.. {
            attempted.push((trial, number));
            let sent = client
                .post(format!("{url}/events"))
                .json(&batch(trial, number))
                .send()
                .await;
            match sent {
                Ok(response) if response.status().as_u16() == 201 => {
                    acknowledged.push((trial, number))
                }
                _ => break,
            }
        }
        killer.await.expect("killer");
        let mut server = server;
        let _ = server.wait();
    }
    assert!(
        acknowledged.len() >= 3,
        "some batches were acknowledged: {}",
        acknowledged.len()
    );
    let (mut server, url) = start(&db, &[]);
    let acknowledged: HashSet<(usize, usize)> = acknowledged.into_iter().collect();
    let mut stored_total = 0;
    for (trial, number) in attempted {
        let session = format!("t{trial}-b{number}");
        let ids = ids_of_session(&client, &url, &session).await;
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{session}: an id stored twice");
        if acknowledged.contains(&(trial, number)) {
            assert_eq!(
                ids.len(),
                BATCH,
                "{session} was acknowledged: all of it is there"
            );
        } else {
            assert!(
                ids.is_empty() || ids.len() == BATCH,
                "{session}: half a batch ({} of {BATCH})",
                ids.len()
            );
        }
        stored_total += ids.len();
    }
    assert_eq!(
        total_events(&client, &url).await,
        stored_total as u64,
        "nothing else is stored"
    );
    assert!(terminate(&mut server).success());
}

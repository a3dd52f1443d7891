//! A full disk, for real: the database on a small tmpfs, filled by 500-event batches.
//! Writes get 507 with a JSON error naming the file, reads keep answering, `/readyz` says
//! why, and once the filesystem grows again writes resume without a restart. Every time,
//! acknowledged and stored events are counted: nothing lost, nothing extra. Needs root (to
//! mount), as CI has.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::process::{get_json, start, terminate, total_events};

const BATCH: usize = 500;

/// A tmpfs of `megabytes` mounted on a fresh folder, unmounted when dropped (after the
/// server on it is gone).
struct SmallDisk {
    dir: TempDir,
    mounted: bool,
}

impl SmallDisk {
    fn new(megabytes: u32) -> Self {
        let dir = TempDir::new().expect("temp dir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "mounting a tmpfs failed: this test needs root (CI runs as root)"
        );
        Self { dir, mounted: true }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn grow(&self, megabytes: u32) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={megabytes}m")])
            .arg(self.dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "remount");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
            self.mounted = false;
        }
    }
}

fn batch(round: usize, number: usize) -> Value {
    let events: Vec<Value> = (0..BATCH)
        .map(|n| {
            json!({
                "id": format!("r{round}-b{number}-e{n}"),
                "event": (["offered", "accepted", "edited", "rejected"][n % 4]),
                "session_id": format!("r{round}-s{}", n % 50),
                "latency_ms": 50 + n,
                "ab_test_bucket": if n % 2 == 0 { "A" } else { "B" },
                "agent_draft": format!("draft {n} of batch {number}: enough words to fill a small disk soon"),
                "suggestion_used": "a suggestion, also of some length, so each batch takes room",
                "policy_refs": ["PII-01"],
            })
        })
        .collect();
    Value::Array(events)
}

async fn post(client: &Client, url: &str, body: &Value) -> (StatusCode, Value) {
    let response = client
        .post(format!("{url}/events"))
        .json(body)
        .send()
        .await
        .expect("POST answers");
    let status = response.status();
    let json = response.json().await.expect("a JSON answer");
    (status, json)
}

/// Posts batches until the disk is full; returns the ids acknowledged and the first
/// refused batch's answer.
async fn fill(
    client: &Client,
    url: &str,
    round: usize,
    acknowledged: &mut HashSet<String>,
) -> (Value, Vec<Value>) {
    let mut refused = Vec::new();
    for number in 0..2_000 {
        let body = batch(round, number);
        let (status, answer) = post(client, url, &body).await;
        match status {
            StatusCode::CREATED => {
                for id in answer["ids"].as_array().expect("ids") {
                    acknowledged.insert(id.as_str().expect("id").to_owned());
                }
            }
            StatusCode::INSUFFICIENT_STORAGE => {
                refused.push(body);
                return (answer, refused);
            }
            other => panic!("batch {number}: unexpected {other}: {answer}"),
        }
    }
    panic!("the disk never filled");
}

async fn wait_ready(client: &Client, url: &str) -> Duration {
    let started = Instant::now();
    loop {
        let status = client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .expect("readyz answers")
            .status();
        if status == StatusCode::OK {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "writes did not resume within 30 s of space coming back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn db_on(disk: &SmallDisk) -> PathBuf {
    disk.path().join("events.duckdb")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_and_recovers_by_itself() {
    let disk = SmallDisk::new(24);
    let db = db_on(&disk);
    let (child, url) = start(&db, &[]);
    let mut server = child;
    let client = Client::new();
    let mut acknowledged = HashSet::new();
    let (answer, mut refused) = fill(&client, &url, 0, &mut acknowledged).await;
    println!("disk full after {} acknowledged events", acknowledged.len());
    assert_eq!(answer["error"], "insufficient_storage", "{answer}");
    let message = answer["message"].as_str().expect("message");
    assert!(message.contains("full"), "says the disk is full: {message}");
    assert!(
        message.contains(db.to_str().expect("utf-8")),
        "says where: {message}"
    );

    // Reads go on, and count exactly what was acknowledged.
    assert_eq!(
        total_events(&client, &url).await,
        acknowledged.len() as u64,
        "stored = acknowledged while the disk is full"
    );
    let events = get_json(&client, &format!("{url}/analytics/events?limit=5")).await;
    assert_eq!(events.as_array().map(Vec::len), Some(5));
    // /readyz reports the condition; further writes are refused the same way, at once.
    let ready = client
        .get(format!("{url}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::INSUFFICIENT_STORAGE);
    let again = batch(0, 9_999);
    let (status, _) = post(&client, &url, &again).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    refused.push(again);

    // Space comes back: writes resume without a restart.
    disk.grow(96);
    let waited = wait_ready(&client, &url).await;
    println!("writes resumed {waited:?} after space came back");
    // The refused batches, retried with the same ids, are stored once.
    for body in &refused {
        let (status, answer) = post(&client, &url, body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        for id in answer["ids"].as_array().expect("ids") {
            acknowledged.insert(id.as_str().expect("id").to_owned());
        }
    }
    let (status, answer) = post(&client, &url, &batch(1, 0)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    for id in answer["ids"].as_array().expect("ids") {
        acknowledged.insert(id.as_str().expect("id").to_owned());
    }
    assert_eq!(
        total_events(&client, &url).await,
        acknowledged.len() as u64,
        "every acknowledged event once, nothing else"
    );
    let metrics = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(r#"coachboard_writes_refused_total{reason="insufficient_storage"}"#),
        "{metrics}"
    );

    // A clean stop, and a restart that finds the same events.
    assert!(terminate(&mut server).success());
    let (child, url) = start(&db, &[]);
    let _server = child;
    assert_eq!(total_events(&client, &url).await, acknowledged.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_the_disk_is_full_loses_nothing_and_adds_nothing() {
    let disk = SmallDisk::new(20);
    let db = db_on(&disk);
    let (child, url) = start(&db, &[]);
    let server = child;
    let client = Client::new();
    let mut acknowledged = HashSet::new();
    let (_, refused) = fill(&client, &url, 2, &mut acknowledged).await;
    // A few more refused writes in flight as it dies.
    for body in &refused {
        let _ = post(&client, &url, body).await;
    }
    drop(server); // SIGKILL
    disk.grow(96);
    let (child, url) = start(&db, &[]);
    let _server = child;
    assert_eq!(
        total_events(&client, &url).await,
        acknowledged.len() as u64,
        "after kill -9 on a full disk: every acknowledged event, and only those"
    );
    let (status, answer) = post(&client, &url, &refused[0]).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

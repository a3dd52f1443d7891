//! The binary as an operator meets it: one owner per file, a clear message for the second,
//! and a clean stop on SIGTERM.

use std::process::Command;
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub use crate::server::*;

#[test]
fn a_second_process_is_told_who_holds_the_file() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("held.duckdb");
    let (mut first, url) = start(&db, &["--demo", "--demo-rows", "2000"]);
    let started = Instant::now();
    let second = Command::new(BINARY)
        .args([
            "--db",
            db.to_str().unwrap(),
            "--addr",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .output()
        .expect("second process runs");
    assert!(started.elapsed() < Duration::from_secs(10), "fails at once");
    assert!(!second.status.success());
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(message.contains("is held by another process"), "{message}");
    assert!(
        message.contains(&format!("PID {}", first.id())),
        "names the holder: {message}"
    );
    assert!(message.contains("only one process"), "says why: {message}");
    assert!(
        !message.contains("panicked") && !message.contains("stack backtrace"),
        "{message}"
    );
    // The first keeps serving.
    let body = reqwest::blocking_get(&format!("{url}/analytics/summary"));
    assert!(body.contains("\"total_events\":2000"), "{body}");
    assert!(terminate(&mut first).success());
}

#[test]
fn sigterm_stops_cleanly_and_keeps_the_data() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("stop.duckdb");
    let (mut server, url) = start(&db, &["--demo", "--demo-rows", "500"]);
    let status = terminate(&mut server);
    assert!(status.success(), "exit 0 on SIGTERM: {status:?}");
    assert!(
        !dir.path().join("stop.duckdb.wal").exists()
            || std::fs::metadata(dir.path().join("stop.duckdb.wal"))
                .map(|m| m.len())
                .unwrap_or(0)
                == 0,
        "checkpointed"
    );
    let (mut again, url_again) = start(&db, &[]);
    assert_ne!(url, url_again);
    let body = reqwest::blocking_get(&format!("{url_again}/analytics/summary"));
    assert!(body.contains("\"total_events\":500"), "{body}");
    assert!(terminate(&mut again).success());
}

/// Once writes pause, the derived tables are brought up to date without waiting for a
/// query that needs them: after a write, a pause and a clean stop, the file's derived
/// state describes every row.
#[test]
fn derived_tables_catch_up_in_a_pause_between_writes() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("pause.duckdb");
    let (mut server, url) = start(&db, &["--demo", "--demo-rows", "500"]);
    let answer = reqwest::blocking_post(
        &format!("{url}/events"),
        r#"{"event":"offered","session_id":"pause-1","latency_ms":80,"ab_test_bucket":"A","policy_refs":["PII-01"]}"#,
    );
    assert!(answer.contains("\"stored\":1"), "{answer}");
    // Nothing asks for a derived table: only the pause can bring them up to date.
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(terminate(&mut server).success());
    let conn = duckdb::Connection::open(&db).expect("open");
    let (rows, derived): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM coach_events),
                    (SELECT rows FROM coachboard_derived_state WHERE name = 'links')",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("derived state");
    assert_eq!(rows, 501);
    assert_eq!(derived, rows, "the derived tables describe every row");
}

/// A tiny blocking GET and POST for process tests (no async runtime needed).
mod reqwest {
    pub fn blocking_post(url: &str, json: &'static str) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            ::reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(json)
                .send()
                .await
                .expect("POST")
                .text()
                .await
                .expect("body")
        })
    }

    pub fn blocking_get(url: &str) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            ::reqwest::get(url)
                .await
                .expect("GET")
                .text()
                .await
                .expect("body")
        })
    }
}

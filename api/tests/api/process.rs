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

/// A tiny blocking GET for process tests (no async runtime needed).
mod reqwest {
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

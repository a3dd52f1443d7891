//! Files the API must refuse without harm: damaged at random offsets, truncated, of another
//! format or DuckDB version, or with a `coach_events` table it cannot read. Each time: a
//! clear message naming the file and what is wrong, a non-zero exit, and the file exactly as
//! it was (no byte changed, nothing written beside it).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::process::{BINARY, free_port, start, terminate};

/// What trying to serve a file did.
enum Outcome {
    Refused(String),
    Served(u64),
}

/// Runs the API on `db` until it listens (then reads the event count and stops it) or
/// exits.
fn try_serve(db: &Path) -> Outcome {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(BINARY)
        .args(["--db", db.to_str().expect("utf-8"), "--addr", &addr])
        .env("COACHBOARD_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // The process says when it listens; that line, not a probe of the port (which another
    // test's server may hold for a moment), tells that it served.
    let stdout = child.stdout.take().expect("stdout");
    let (listening, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("is running at") {
                let _ = listening.send(());
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let output = child.wait_with_output().expect("output");
            let message = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(!status.success(), "a refused file exits non-zero");
            return Outcome::Refused(message);
        }
        if heard.recv_timeout(Duration::from_millis(50)).is_ok() {
            let url = format!("http://{addr}");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let total = runtime.block_on(async {
                let client = reqwest::Client::new();
                crate::process::total_events(&client, &url).await
            });
            terminate(&mut child);
            return Outcome::Served(total);
        }
        assert!(Instant::now() < deadline, "neither served nor exited");
    }
}

fn listing(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| entry.expect("entry").path())
        .collect()
}

/// Refused with a message naming the file; the file and its folder untouched.
fn assert_refused_untouched(db: &Path, why: &str, expect_in_message: &str) {
    let before = std::fs::read(db).expect("read");
    let folder = db.parent().expect("folder");
    let files_before = listing(folder);
    match try_serve(db) {
        Outcome::Refused(message) => {
            assert!(
                message.contains(db.to_str().expect("utf-8")),
                "{why}: names the file: {message}"
            );
            assert!(
                message
                    .to_lowercase()
                    .contains(&expect_in_message.to_lowercase()),
                "{why}: says what is wrong ({expect_in_message}): {message}"
            );
            assert!(!message.contains("panicked"), "{why}: no panic: {message}");
        }
        Outcome::Served(total) => panic!("{why}: served ({total} events) instead of refusing"),
    }
    assert!(
        std::fs::read(db).expect("read") == before,
        "{why}: the file changed"
    );
    assert_eq!(
        listing(folder),
        files_before,
        "{why}: files appeared beside it"
    );
}

/// A real database of `rows` events, checkpointed (no WAL).
fn database(dir: &TempDir, name: &str, rows: u64) -> PathBuf {
    let db = dir.path().join(name);
    let status = Command::new(BINARY)
        .args(["generate", "--rows", &rows.to_string(), "--db"])
        .arg(&db)
        .stdout(Stdio::null())
        .status()
        .expect("generate runs");
    assert!(status.success());
    db
}

#[test]
fn foreign_empty_truncated_and_other_version_files_are_refused_untouched() {
    let dir = TempDir::new().expect("temp dir");
    let original = database(&dir, "original.duckdb", 3_000);
    let bytes = std::fs::read(&original).expect("read");

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "empty"),
        (
            "csv",
            b"id,ts,event\n1,2025-10-01T00:00:00Z,offered\n".to_vec(),
            "text file",
        ),
        (
            "sqlite",
            [b"SQLite format 3\0".as_slice(), &[0_u8; 4080]].concat(),
            "SQLite",
        ),
        ("truncated header", bytes[..100].to_vec(), "truncated"),
        ("truncated data", bytes[..bytes.len() / 2].to_vec(), ""),
        (
            "random bytes",
            (0..8192).map(|n| (n * 7919 % 251) as u8).collect(),
            "not a DuckDB",
        ),
        (
            "older DuckDB",
            {
                let mut old = bytes.clone();
                old[12..20].copy_from_slice(&39_u64.to_le_bytes());
                old
            },
            "another DuckDB version",
        ),
    ];
    for (why, content, expect) in cases {
        let case_dir = TempDir::new().expect("temp dir");
        let db = case_dir.path().join("events.duckdb");
        std::fs::write(&db, &content).expect("write");
        assert_refused_untouched(&db, why, expect);
    }
}

#[test]
fn incompatible_columns_are_refused_untouched() {
    let cases = [
        (
            "no ts",
            "CREATE TABLE coach_events (id VARCHAR, event VARCHAR)",
            "no `ts` column",
        ),
        (
            "ts as a blob",
            "CREATE TABLE coach_events (id VARCHAR, ts BLOB, event VARCHAR); \
             INSERT INTO coach_events VALUES ('a', 'x'::BLOB, 'offered')",
            "cannot be read as a time",
        ),
        (
            "latency as a list",
            "CREATE TABLE coach_events (id VARCHAR, ts TIMESTAMP, event VARCHAR, latency_ms INTEGER[])",
            "cannot be read as milliseconds",
        ),
    ];
    for (why, sql, expect) in cases {
        let dir = TempDir::new().expect("temp dir");
        let db = dir.path().join("events.duckdb");
        {
            let conn = duckdb::Connection::open(&db).expect("create");
            conn.execute_batch(sql).expect("schema");
        }
        assert_refused_untouched(&db, why, expect);
    }
}

#[test]
fn damage_at_random_offsets_is_refused_or_harmless() {
    let dir = TempDir::new().expect("temp dir");
    let original = database(&dir, "original.duckdb", 20_000);
    let bytes = std::fs::read(&original).expect("read");
    // A fixed seed: the same offsets every run, spread over the whole file.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut refused, mut served) = (0, 0);
    for trial in 0..10 {
        let case_dir = TempDir::new().expect("temp dir");
        let db = case_dir.path().join("events.duckdb");
        let mut damaged = bytes.clone();
        let offset = (next() % bytes.len() as u64) as usize;
        let length = 1 + (next() % 64) as usize;
        for byte in damaged.iter_mut().skip(offset).take(length) {
            *byte ^= 0xA5;
        }
        std::fs::write(&db, &damaged).expect("write");
        match try_serve(&db) {
            Outcome::Refused(message) => {
                refused += 1;
                assert!(
                    message.contains(db.to_str().expect("utf-8")),
                    "trial {trial} (offset {offset}): names the file: {message}"
                );
                assert!(!message.contains("panicked"), "{message}");
                assert!(
                    std::fs::read(&db).expect("read") == damaged,
                    "trial {trial}: the refused file changed"
                );
            }
            // Damage in unused space: the data is whole and answered as it was.
            Outcome::Served(total) => {
                served += 1;
                assert_eq!(
                    total, 20_000,
                    "trial {trial} (offset {offset}): served wrong data"
                );
            }
        }
    }
    println!("random damage: {refused} refused, {served} harmless");
}

#[test]
fn a_healthy_file_still_serves() {
    let dir = TempDir::new().expect("temp dir");
    let db = database(&dir, "events.duckdb", 1_000);
    let (mut server, url) = start(&db, &[]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let total = runtime
        .block_on(async { crate::process::total_events(&reqwest::Client::new(), &url).await });
    assert_eq!(total, 1_000);
    assert!(terminate(&mut server).success());
}

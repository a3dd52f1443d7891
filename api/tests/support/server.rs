//! Running the real binary in tests: start it on a file, wait until it listens, read its
//! answers, stop it. Shared by the test binaries with `#[path]`.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_coachboard-api");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// The cluster the suite runs on instead of DuckDB files, when `COACHBOARD_TEST_CLICKHOUSE`
/// holds its store URL (`make test` sets it for the suite's second run).
pub fn cluster() -> Option<coachboard_api::store::ClickHouseConfig> {
    let url = std::env::var("COACHBOARD_TEST_CLICKHOUSE").ok()?;
    let env = coachboard_api::store::EnvCredentials::default();
    Some(coachboard_api::store::ClickHouseConfig::parse(&url, &env).expect("a valid store URL"))
}

/// The cluster database standing for a test's DuckDB file: one per path, the same each time.
pub fn database_for(path: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut hasher);
    format!("t_{:016x}", hasher.finish())
}

/// How the binary is told its store: `--db FILE`, or on the cluster `--store URL` of the
/// database standing for that file.
pub fn store_args(db: &Path) -> Vec<String> {
    match cluster() {
        Some(_) => {
            let url = std::env::var("COACHBOARD_TEST_CLICKHOUSE").unwrap_or_default();
            let mut url = url::Url::parse(&url).expect("a valid store URL");
            url.set_path(&database_for(db));
            vec!["--store".to_owned(), url.to_string()]
        }
        None => vec![
            "--db".to_owned(),
            db.to_str().expect("utf-8 path").to_owned(),
        ],
    }
}

/// A running `coachboard-api`, killed when dropped if still running: a test that fails
/// half-way leaves no server behind. Used as the `Child` it wraps.
pub struct Server(Child);

impl std::ops::Deref for Server {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `coachboard-api` on `db` and waits until it listens; returns it and its address.
pub fn start(db: &Path, extra: &[&str]) -> (Server, String) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(BINARY)
        .args(store_args(db))
        .args(["--addr", &addr])
        .args(extra)
        .env("COACHBOARD_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let started = Instant::now();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("is running at") => break,
            Some(_) => {}
            None => panic!("coachboard-api exited before listening"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no start within 60 s"
        );
    }
    // Keep draining stdout so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Server(child), format!("http://{addr}"))
}

/// GET a URL of a running server and read its JSON.
pub async fn get_json(client: &::reqwest::Client, url: &str) -> serde_json::Value {
    client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {url}: {error}"))
        .json()
        .await
        .unwrap_or_else(|error| panic!("GET {url}: not JSON ({error})"))
}

/// The summary's `total_events` of a running server.
pub async fn total_events(client: &::reqwest::Client, base: &str) -> u64 {
    get_json(client, &format!("{base}/analytics/summary")).await["total_events"]
        .as_u64()
        .expect("total_events")
}

pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit within 30 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

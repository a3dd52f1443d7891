//! Small HTTP servers for browser tests: a static host (what nginx or a Pages host does) and
//! the design note's Python API reduced to its three endpoints and shapes.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running server; stops when dropped.
pub struct Host {
    pub url: String,
    pub requests: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Drop for Host {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers a request: its target and what the browser fetches it as (`Sec-Fetch-Dest`:
/// "document", "script", "worker", ...).
type Handler = Arc<dyn Fn(&str, &str) -> (u16, &'static str, Vec<u8>) + Send + Sync>;

async fn serve(handler: Handler, extra_headers: &'static str, port: u16) -> Host {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (handler, seen) = (handler.clone(), seen.clone());
            tokio::spawn(async move { answer(stream, handler, seen, extra_headers).await });
        }
    });
    Host {
        url,
        requests,
        task,
    }
}

async fn answer(
    mut stream: TcpStream,
    handler: Handler,
    seen: Arc<Mutex<Vec<String>>>,
    extra_headers: &str,
) {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    if let Ok(mut seen) = seen.lock() {
        seen.push(target.clone());
    }
    let dest = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-fetch-dest")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    let (status, content_type, body) = handler(&target, &dest);
    let reason = if status == 200 { "OK" } else { "Not Found" };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.write_all(&body).await;
    let _ = stream.shutdown().await;
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "wasm" => "application/wasm",
        "js" => "text/javascript",
        "css" => "text/css",
        "json" => "application/json",
        _ => "text/html; charset=utf-8",
    }
}

/// Serves `root` under `prefix` the way nginx does with `try_files $uri /index.html`: files
/// by path, anything else (deep links) as `index.html`. `pages` override or add files.
pub async fn static_host(
    root: PathBuf,
    prefix: &'static str,
    pages: Vec<(String, String)>,
) -> Host {
    static_host_on(0, root, prefix, pages).await
}

/// The same on a chosen port (when its origin must be known in advance).
pub async fn static_host_on(
    port: u16,
    root: PathBuf,
    prefix: &'static str,
    pages: Vec<(String, String)>,
) -> Host {
    static_host_with(port, root, prefix, pages, false).await
}

/// The same, and with `refuse_workers` a 404 for every worker script (a host that cannot
/// serve them): the worker fails to load after it was made.
pub async fn static_host_with(
    port: u16,
    root: PathBuf,
    prefix: &'static str,
    pages: Vec<(String, String)>,
    refuse_workers: bool,
) -> Host {
    let handler: Handler = Arc::new(move |target: &str, dest: &str| {
        if refuse_workers && dest == "worker" {
            return (404, "text/plain", b"not found".to_vec());
        }
        let path = target.split('?').next().unwrap_or("/");
        if let Some((_, page)) = pages.iter().find(|(name, _)| name == path) {
            return (200, content_type(path), page.clone().into_bytes());
        }
        let Some(relative) = path.strip_prefix(prefix) else {
            return (404, "text/plain", b"not found".to_vec());
        };
        let file = root.join(relative.trim_start_matches('/'));
        match std::fs::read(&file) {
            Ok(bytes) if file.is_file() => (200, content_type(path), bytes),
            _ if relative
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains('.')) =>
            {
                (404, "text/plain", b"not found".to_vec())
            }
            _ => (
                200,
                "text/html; charset=utf-8",
                std::fs::read(root.join("index.html")).unwrap_or_default(),
            ),
        }
    });
    serve(handler, "", port).await
}

/// The note's FastAPI app, its three endpoints only, answering as pandas and FastAPI do
/// (naive timestamps, `policy_refs` as JSON text, 404 `{"detail": "Not Found"}` otherwise),
/// with CORS open as its middleware would be.
pub async fn seed_api() -> Host {
    let handler: Handler = Arc::new(|target: &str, _dest: &str| {
        let path = target.split('?').next().unwrap_or("/");
        let json =
            |value: serde_json::Value| (200, "application/json", value.to_string().into_bytes());
        match path {
            "/analytics/summary" => json(serde_json::json!({
                "total_events": 1234, "suggestions_offered": 600, "suggestions_accepted": 330,
                "accept_rate": 55.0, "avg_latency_ms": 412
            })),
            "/analytics/events" => json(serde_json::json!([
                {"id": "n-2", "ts": "2025-10-23T10:00:05", "event": "accepted", "session_id": "s-1",
                 "agent_draft": "Hi, your refund is on its way", "suggestion_used": "Hi! Your refund is on its way.",
                 "policy_refs": "[]", "latency_ms": 0, "ab_test_bucket": "A"},
                {"id": "n-1", "ts": "2025-10-23T10:00:00", "event": "offered", "session_id": "s-1",
                 "agent_draft": "Hi, your refund is on its way", "suggestion_used": null,
                 "policy_refs": "[\"PII-01\", \"TONE-02\"]", "latency_ms": 412, "ab_test_bucket": "A"}
            ])),
            "/analytics/policies" => json(serde_json::json!({"PII-01": 7, "TONE-02": 3})),
            _ => (
                404,
                "application/json",
                br#"{"detail":"Not Found"}"#.to_vec(),
            ),
        }
    });
    serve(handler, "Access-Control-Allow-Origin: *\r\n", 0).await
}

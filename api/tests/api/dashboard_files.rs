//! The dashboard's files from `--static-dir`: the precompressed copies `make dashboard`
//! writes are sent as they are to clients that accept them, hashed names cached for good.

use axum::body::Body;
use axum::http::Request;
use coachboard_api::Settings;
use tempfile::TempDir;

use crate::common::TestApi;

const WASM: &str = "coachboard-0123456789abcdef_bg.wasm";

/// An API serving `files` (name, contents) beside an index.html from `--static-dir`.
fn serving(files: &[(&str, &[u8])]) -> (TempDir, TestApi) {
    let dir = TempDir::new().expect("temp dir");
    let index: (&str, &[u8]) = ("index.html", b"<!DOCTYPE html><title>t</title>");
    for (name, bytes) in files.iter().chain([&index]) {
        std::fs::write(dir.path().join(name), bytes).expect("file written");
    }
    let settings = Settings {
        static_dir: Some(dir.path().to_path_buf()),
        ..Settings::default()
    };
    let api = TestApi::with_events_and(&[], settings);
    (dir, api)
}

#[tokio::test]
async fn precompressed_assets_follow_accept_encoding() {
    let (br, gz) = (format!("{WASM}.br"), format!("{WASM}.gz"));
    let (_dir, api) = serving(&[
        (WASM, b"raw wasm bytes"),
        (&br, b"brotli bytes"),
        (&gz, b"gzip bytes"),
    ]);
    for (accept, encoding, body) in [
        (Some("gzip, deflate, br"), Some("br"), "brotli bytes"),
        (Some("gzip"), Some("gzip"), "gzip bytes"),
        (Some("br;q=0, gzip;q=0.8"), Some("gzip"), "gzip bytes"),
        (None, None, "raw wasm bytes"),
    ] {
        let mut request = Request::get(format!("/{WASM}"));
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        let answer = api
            .send(request.body(Body::empty()).expect("request"))
            .await;
        assert_eq!(answer.status, 200, "{accept:?}");
        assert_eq!(
            answer.header("content-encoding").as_deref(),
            encoding,
            "{accept:?}"
        );
        assert_eq!(String::from_utf8_lossy(&answer.body), body, "{accept:?}");
        assert_eq!(
            answer.header("cache-control").as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(
            answer.header("content-type").as_deref(),
            Some("application/wasm"),
            "{accept:?}"
        );
    }
}

/// boot.js runs as a worker too, under its own response's policy: it must be allowed to fetch
/// the WebAssembly from its origin and compile it, and nothing else. Other files keep the
/// API's strict default.
#[tokio::test]
async fn scripts_may_compile_the_webassembly_as_workers() {
    let (_dir, api) = serving(&[
        ("boot-0123456789abcdef.js", b"onmessage = () => {};"),
        (WASM, b"raw wasm bytes"),
    ]);
    let script = api.get("/boot-0123456789abcdef.js").await;
    assert_eq!(script.status, 200);
    let policy = script.header("content-security-policy").expect("a policy");
    for directive in [
        "default-src 'none'",
        "connect-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    let wasm = api.get(&format!("/{WASM}")).await;
    assert_eq!(
        wasm.header("content-security-policy").as_deref(),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
}

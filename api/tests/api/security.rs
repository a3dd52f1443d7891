//! Access: tokens per kind of request, CORS by allow-list, security headers everywhere, and
//! no anonymous listening beyond loopback.

use std::process::Command;

use axum::body::Body;
use axum::http::Request;
use coachboard_api::Settings;
use coachboard_api::access::Access;

use crate::common::{TestApi, fixture};
use crate::process::{BINARY, free_port};

fn guarded() -> TestApi {
    let settings = Settings {
        access: Access::new(&["reader-secret".into()], &["writer-secret".into()]),
        cors_origins: vec!["https://portal.example.com".into()],
        frame_ancestors: "'self' https://portal.example.com".into(),
        ..Settings::default()
    };
    TestApi::with_events_and(&fixture(), settings)
}

fn with_token(request: axum::http::request::Builder, token: &str) -> axum::http::request::Builder {
    request.header("authorization", format!("Bearer {token}"))
}

#[tokio::test]
async fn tokens_are_checked_per_kind() {
    let api = guarded();
    let read = |token: Option<&'static str>| {
        let mut request = Request::get("/analytics/summary");
        if let Some(token) = token {
            request = with_token(request, token);
        }
        request.body(Body::empty()).expect("request")
    };
    let missing = api.send(read(None)).await;
    assert_eq!(missing.status.as_u16(), 401);
    assert_eq!(missing.json()["error"], "unauthorized");
    assert_eq!(
        missing.header("www-authenticate").as_deref(),
        Some("Bearer")
    );
    assert_eq!(api.send(read(Some("wrong"))).await.status.as_u16(), 401);
    assert_eq!(
        api.send(read(Some("writer-secret"))).await.status.as_u16(),
        401,
        "an ingest token cannot read"
    );
    assert_eq!(
        api.send(read(Some("reader-secret"))).await.status.as_u16(),
        200
    );

    let write = |token: &'static str| {
        with_token(Request::post("/events"), token)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"event":"offered"}"#))
            .expect("request")
    };
    assert_eq!(
        api.send(write("reader-secret")).await.status.as_u16(),
        401,
        "a read token cannot write"
    );
    assert_eq!(api.send(write("writer-secret")).await.status.as_u16(), 201);
    // Health stays open for load balancers.
    assert_eq!(api.get("/healthz").await.status.as_u16(), 200);
}

#[tokio::test]
async fn cors_allows_only_listed_origins() {
    let api = guarded();
    let preflight = |origin: &str| {
        Request::options("/analytics/summary")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .body(Body::empty())
            .expect("request")
    };
    let allowed = api.send(preflight("https://portal.example.com")).await;
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some("https://portal.example.com")
    );
    let headers = allowed
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    let other = api.send(preflight("https://evil.example.net")).await;
    assert_eq!(other.header("access-control-allow-origin"), None);
    let open = TestApi::with_events(&fixture());
    assert_eq!(
        open.send(preflight("https://portal.example.com"))
            .await
            .header("access-control-allow-origin"),
        None,
        "nothing is open by default"
    );
}

#[tokio::test]
async fn security_headers_on_everything() {
    let api = guarded();
    for uri in ["/healthz", "/analytics/nothing", "/openapi.json"] {
        let answer = api.get(uri).await;
        assert_eq!(
            answer.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{uri}"
        );
        assert_eq!(
            answer.header("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{uri}"
        );
        assert!(
            answer
                .header("content-security-policy")
                .is_some_and(|csp| csp.contains("frame-ancestors")),
            "{uri}"
        );
    }
}

#[test]
fn no_anonymous_listening_beyond_loopback() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let db = dir.path().join("open.duckdb");
    let refused = Command::new(BINARY)
        .args([
            "--db",
            db.to_str().unwrap(),
            "--addr",
            &format!("0.0.0.0:{}", free_port()),
        ])
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("refusing to listen") && message.contains("--allow-anonymous"),
        "{message}"
    );
}

//! Hostile and broken requests, table-driven, against the real binary over HTTP: each gets a
//! 4xx with the JSON error shape, the server stays up, and no row is added.

use reqwest::{Client, Method};
use tempfile::TempDir;

use crate::process::{start, terminate, total_events};

struct Bad {
    what: &'static str,
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

fn get(what: &'static str, path: &str) -> Bad {
    Bad {
        what,
        method: Method::GET,
        path: path.to_owned(),
        content_type: None,
        body: Vec::new(),
    }
}

fn post(what: &'static str, body: impl Into<Vec<u8>>) -> Bad {
    Bad {
        what,
        method: Method::POST,
        path: "/events".to_owned(),
        content_type: Some("application/json"),
        body: body.into(),
    }
}

fn cases() -> Vec<Bad> {
    let sql = "1%27%3B%20DROP%20TABLE%20coach_events%3B--";
    let mut cases = vec![
        post("malformed JSON", "{\"event\": \"offered\""),
        post("not an object", "42"),
        post("array of numbers", "[1, 2]"),
        post("empty body", ""),
        post("empty array", "[]"),
        post("unknown event type", r#"{"event":"clicked"}"#),
        post("missing event", r#"{"session_id":"s"}"#),
        post("event of wrong type", r#"{"event":5}"#),
        post(
            "latency as text",
            r#"{"event":"offered","latency_ms":"fast"}"#,
        ),
        post("negative latency", r#"{"event":"offered","latency_ms":-1}"#),
        post("huge latency", r#"{"event":"offered","latency_ms":1e300}"#),
        post(
            "unknown bucket",
            r#"{"event":"offered","ab_test_bucket":"Z"}"#,
        ),
        post(
            "impossible date",
            r#"{"event":"offered","ts":"2025-02-30T10:00:00Z"}"#,
        ),
        post(
            "far future",
            r#"{"event":"offered","ts":"9999-01-01T00:00:00Z"}"#,
        ),
        post(
            "before the epoch",
            r#"{"event":"offered","ts":"1900-01-01T00:00:00Z"}"#,
        ),
        post(
            "NUL in text",
            "{\"event\":\"offered\",\"agent_draft\":\"a\\u0000b\"}",
        ),
        post(
            "invalid UTF-8",
            b"{\"event\":\"offered\",\"agent_draft\":\"\xff\xfe\"}".to_vec(),
        ),
        post("unknown field", r#"{"event":"offered","latncy_ms":5}"#),
        post(
            "policy refs not a list",
            r#"{"event":"offered","policy_refs":{"a":1}}"#,
        ),
        post(
            "policy refs of numbers",
            r#"{"event":"offered","policy_refs":[1,2]}"#,
        ),
        post(
            "too many policies",
            format!(
                r#"{{"event":"offered","policy_refs":{}}}"#,
                serde_json::json!((0..40).map(|n| format!("P{n}")).collect::<Vec<_>>())
            ),
        ),
        post(
            "id too long",
            format!(r#"{{"event":"offered","id":"{}"}}"#, "x".repeat(500)),
        ),
        post(
            "draft too long",
            format!(
                r#"{{"event":"offered","agent_draft":"{}"}}"#,
                "x".repeat(25_000)
            ),
        ),
        post("empty id", r#"{"event":"offered","id":"   "}"#),
        post(
            "duplicate ids in one batch",
            r#"[{"id":"d","event":"offered"},{"id":"d","event":"rejected"}]"#,
        ),
        post(
            "deep nesting",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
        ),
        post(
            "too many events",
            serde_json::to_vec(&vec![serde_json::json!({"event":"offered"}); 10_001])
                .expect("json"),
        ),
        post(
            "SQL in the id",
            r#"{"event":"offered","id":"x'); DROP TABLE coach_events; --","latency_ms":-5}"#,
        ),
        Bad {
            what: "form content type",
            method: Method::POST,
            path: "/events".into(),
            content_type: Some("application/x-www-form-urlencoded"),
            body: b"event=offered".to_vec(),
        },
        Bad {
            what: "NDJSON with a broken line",
            method: Method::POST,
            path: "/events".into(),
            content_type: Some("application/x-ndjson"),
            body: b"{\"event\":\"offered\"}\n{oops}\n".to_vec(),
        },
        get("limit too large", "/analytics/events?limit=1001"),
        get("negative limit", "/analytics/events?limit=-5"),
        get(
            "huge offset",
            "/analytics/events?offset=99999999999999999999",
        ),
        get("limit as text", "/analytics/events?limit=ten"),
        get("bad sort column", "/analytics/events?sort=agent_draft"),
        get("forged cursor", "/analytics/events?cursor=abc"),
        get(
            "impossible from",
            "/analytics/summary?from=2025-13-45T99:00:00Z",
        ),
        get(
            "from after to",
            "/analytics/summary?from=2025-10-02T00:00:00Z&to=2025-10-01T00:00:00Z",
        ),
        get("unknown time zone", "/analytics/timeseries?tz=Not/AZone"),
        get(
            "unknown interval",
            "/analytics/timeseries?interval=fortnight",
        ),
        get(
            "hourly over a year",
            "/analytics/timeseries?interval=hour&from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
        ),
        get("unknown event filter", "/analytics/summary?event=clicked"),
        get("unknown compare", "/analytics/summary?compare=lastyear"),
        get("NUL in a filter", "/analytics/events?session_id=a%00b"),
        get("invalid UTF-8 in a filter", "/analytics/events?q=%FF%FE"),
        get("parameter twice", "/analytics/summary?bucket=A&bucket=B"),
        get(
            "overlong search",
            &format!("/analytics/events?q={}", "x".repeat(300)),
        ),
        get("unknown endpoint", "/analytics/secrets"),
        Bad {
            what: "wrong method",
            method: Method::DELETE,
            path: "/analytics/summary".into(),
            content_type: None,
            body: Vec::new(),
        },
    ];
    for (endpoint, parameter) in [
        ("events", "from"),
        ("events", "to"),
        ("events", "event"),
        ("events", "limit"),
        ("events", "offset"),
        ("events", "sort"),
        ("events", "order"),
        ("events", "cursor"),
        ("timeseries", "interval"),
        ("timeseries", "tz"),
        ("summary", "compare"),
    ] {
        cases.push(Bad {
            what: "SQL in a parameter",
            method: Method::GET,
            path: format!("/analytics/{endpoint}?{parameter}={sql}"),
            content_type: None,
            body: Vec::new(),
        });
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_gets_a_clear_4xx() {
    let dir = TempDir::new().expect("temp dir");
    let (mut server, url) = start(
        &dir.path().join("bad.duckdb"),
        &["--demo", "--demo-rows", "1000"],
    );
    let client = Client::new();
    let before = total_events(&client, &url).await;
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for case in cases {
        let mut request = client
            .request(case.method.clone(), format!("{url}{}", case.path))
            .body(case.body);
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        let response = tokio::time::timeout(std::time::Duration::from_secs(20), request.send())
            .await
            .unwrap_or_else(|_| panic!("{}: no answer within 20 s", case.what))
            .unwrap_or_else(|error| panic!("{}: {error}", case.what));
        let status = response.status();
        assert!(status.is_client_error(), "{}: {status}", case.what);
        let body: serde_json::Value =
            tokio::time::timeout(std::time::Duration::from_secs(20), response.json())
                .await
                .unwrap_or_else(|_| panic!("{}: no body within 20 s", case.what))
                .unwrap_or_else(|error| panic!("{}: not JSON ({error})", case.what));
        assert!(
            body["error"].is_string() && !body["message"].as_str().unwrap_or_default().is_empty(),
            "{}: {body}",
            case.what
        );
    }
    assert_eq!(
        oversized_body(&url).await,
        413,
        "a 100 MB body is refused before it is read"
    );
    // SQL in free-text filters is only ever a bound value: it matches nothing, harms nothing.
    for parameter in ["bucket", "policy", "session_id", "q"] {
        let sql = "x%27%20OR%20%271%27%3D%271";
        let answer = client
            .get(format!("{url}/analytics/events?{parameter}={sql}"))
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status().as_u16(), 200, "{parameter}");
        assert_eq!(
            answer.headers()["x-total-count"],
            "0",
            "{parameter} matched nothing"
        );
    }
    assert_eq!(
        total_events(&client, &url).await,
        before,
        "no bad request stored anything"
    );
    let health = client
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("still up");
    assert!(health.status().is_success());
    assert!(terminate(&mut server).success());
}

/// Announces a 100 MB body and sends its first megabyte, as an attacker would: the server
/// must answer 413 without waiting for (or reading) the rest.
async fn oversized_body(url: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    let head = format!(
        "POST /events HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        100_u64 << 20
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    let _ = stream.write_all(&vec![b' '; 1 << 20]).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the server answers and closes the connection");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("payload_too_large"), "{text}");
    text.split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0)
}

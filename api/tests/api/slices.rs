//! Sliced read tokens: a portal's token sees one bucket or policy on every endpoint, the CSV
//! and the live stream, and no parameter widens it.

use axum::body::Body;
use axum::http::Request;
use coachboard_api::Settings;
use coachboard_api::access::Access;
use coachboard_api::slice::Slice;

use crate::common::{Answer, TestApi, fixture};

const FULL: &str = "reader-secret";
const BUCKET_A: &str = "portal-a";
const PII: &str = "portal-pii";
const SET: &str = "portal-set";

fn sliced_api() -> TestApi {
    let access = Access::new(&[FULL.into()], &["writer-secret".into()])
        .with_sliced_read(BUCKET_A, Slice::parse("bucket=A").expect("slice"))
        .with_sliced_read(PII, Slice::parse("policy=PII-01").expect("slice"))
        .with_sliced_read(
            SET,
            Slice::parse("policies=TONE-02,REFUND-03").expect("slice"),
        );
    TestApi::with_events_and(
        &fixture(),
        Settings {
            access,
            ..Settings::default()
        },
    )
}

async fn read(api: &TestApi, uri: &str, token: &str) -> Answer {
    api.send(
        Request::get(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

/// Every read endpoint, with and without filters of its own.
fn endpoints() -> Vec<String> {
    let mut uris = Vec::new();
    for path in [
        "summary?compare=previous&from=2025-10-02T00:00:00Z&to=2025-10-04T00:00:00Z",
        "summary?event=offered",
        "events?limit=50",
        "events?limit=2&sort=latency_ms",
        "events.csv?x=1",
        "policies?x=1",
        "timeseries?interval=hour",
        "timeseries?interval=day&tz=Europe/Berlin",
        "latency?x=1",
        "experiment?x=1",
        "suggestions?x=1",
        "policy-outcomes?x=1",
        "rewrites?q=refund",
        "sessions/s1?x=1",
        "sessions/s2?x=1",
    ] {
        uris.push(format!("/analytics/{path}"));
    }
    uris
}

#[tokio::test]
async fn a_sliced_token_sees_what_its_filter_shows_on_every_endpoint() {
    let api = sliced_api();
    for (token, filter) in [
        (BUCKET_A, "bucket=A"),
        (PII, "policy=PII-01"),
        (SET, "policies=TONE-02%2CREFUND-03"),
    ] {
        let mut narrower = 0;
        for uri in endpoints() {
            let sliced = read(&api, &uri, token).await;
            let filtered = read(&api, &format!("{uri}&{filter}"), FULL).await;
            let whole = read(&api, &uri, FULL).await;
            assert_eq!(
                sliced.status.as_u16(),
                200,
                "{token} {uri}: {}",
                sliced.text()
            );
            assert_eq!(
                sliced.body, filtered.body,
                "{token} {uri}: not what `{filter}` shows"
            );
            assert_eq!(
                sliced.header("x-total-count"),
                filtered.header("x-total-count")
            );
            assert_eq!(sliced.header("x-coachboard-slice").as_deref(), Some(filter));
            assert_eq!(whole.header("x-coachboard-slice"), None);
            narrower += usize::from(sliced.body != whole.body);
        }
        // The slice is really narrower: most answers differ from the whole database's.
        assert!(narrower >= 11, "{token}: only {narrower} answers differ");
    }
    // Bucket B's session is empty for the bucket A portal.
    let other = read(&api, "/analytics/sessions/s2", BUCKET_A).await.json();
    assert_eq!(other["suggestions"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn no_parameter_widens_a_slice() {
    let api = sliced_api();
    for uri in endpoints() {
        for (token, widen) in [
            (BUCKET_A, "bucket=B"),
            (BUCKET_A, "%62ucket=B"),
            (BUCKET_A, "bucket=A&bucket=B"),
            (BUCKET_A, "bucket=B&bucket=A"),
            (BUCKET_A, "bucket=a"),
            (BUCKET_A, "bucket=A%20"),
            (PII, "policy=TONE-02"),
            (PII, "policy=PII-01&policy=REFUND-03"),
            (PII, "pol%69cy=REFUND-03"),
            (SET, "policies=PII-01"),
            (SET, "policies=TONE-02,PII-01"),
            (SET, "policies=TONE-02&policies=PII-01"),
        ] {
            let answer = read(&api, &format!("{uri}&{widen}"), token).await;
            assert_eq!(answer.status.as_u16(), 403, "{token} {uri}&{widen}");
            assert_eq!(answer.json()["error"], "forbidden");
        }
        // An empty value is no filter: it cannot clear the slice either.
        let cleared = read(&api, &format!("{uri}&bucket="), BUCKET_A).await;
        let sliced = read(&api, &uri, BUCKET_A).await;
        assert_eq!(cleared.body, sliced.body, "{uri}&bucket=");
    }
}

#[tokio::test]
async fn a_sliced_token_reads_nothing_else() {
    let api = sliced_api();
    let metrics = read(&api, "/metrics", BUCKET_A).await;
    assert_eq!(metrics.status.as_u16(), 403, "{}", metrics.text());
    assert!(
        metrics.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("bucket=A")
    );
    assert_eq!(read(&api, "/metrics", FULL).await.status.as_u16(), 200);
    let write = api
        .send(
            Request::post("/events")
                .header("authorization", format!("Bearer {BUCKET_A}"))
                .header("content-type", "application/json")
                .body(Body::from(r#"{"event":"offered"}"#))
                .expect("request"),
        )
        .await;
    assert_eq!(write.status.as_u16(), 401, "a read token cannot write");
}

#[tokio::test]
async fn the_live_stream_hides_everyones_count_from_a_slice() {
    let api = sliced_api();
    let first_message = |answer: Answer| -> String {
        let text = answer.text();
        text.lines()
            .find(|line| line.starts_with("data:"))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    // A stream never ends: read its first message only.
    let open = |token: &'static str| {
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            api.first_chunk("/analytics/stream", token),
        )
    };
    let sliced = first_message(open(BUCKET_A).await.expect("the stream answers"));
    let whole = first_message(open(FULL).await.expect("the stream answers"));
    assert!(sliced.contains("\"version\""), "{sliced}");
    assert!(!sliced.contains("total_events"), "{sliced}");
    assert!(whole.contains("\"total_events\":10"), "{whole}");
    let widened = read(&api, "/analytics/stream?bucket=B", BUCKET_A).await;
    assert_eq!(widened.status.as_u16(), 403);
}

#[tokio::test]
async fn a_set_of_policies_covers_the_offers_that_touch_any_of_them() {
    let api = TestApi::with_events(&fixture());
    let total = |query: &'static str| {
        let api = &api;
        async move { api.json(&format!("/analytics/summary?{query}")).await["total_events"].clone() }
    };
    // e01–e08: offers touching PII-01 or REFUND-03 and their answers; not e09/e10.
    assert_eq!(total("policies=PII-01,REFUND-03").await, 8);
    assert_eq!(total("policies=TONE-02").await, 2);
    assert_eq!(
        total("policies=TONE-02&policy=PII-01").await,
        2,
        "both hold"
    );
    assert_eq!(total("policies=REFUND-03&policy=PII-01").await, 0);
    assert_eq!(
        total("policies=%20,%20").await,
        10,
        "a blank list is no filter"
    );
    let ids: Vec<String> = api
        .json("/analytics/events?policies=TONE-02,REFUND-03&order=asc")
        .await
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids, ["e01", "e02", "e05", "e06"]);
    let too_many = (0..65)
        .map(|n| format!("P{n}"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        api.get(&format!("/analytics/summary?policies={too_many}"))
            .await
            .status
            .as_u16(),
        400
    );
}

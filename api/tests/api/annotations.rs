//! `/annotations`: notes pinned to a time, stored in the database beside the events (kept
//! across restarts), written with the ingest token, listed by range, text kept verbatim.

use axum::body::Body;
use axum::http::Request;
use coachboard_api::Settings;
use coachboard_api::access::Access;
use serde_json::{Value, json};

use crate::common::{Answer, TestApi, fixture};

const READ: &str = "reader-secret";
const INGEST: &str = "writer-secret";

fn settings() -> Settings {
    Settings {
        access: Access::new(&[READ.into()], &[INGEST.into()]),
        ..Settings::default()
    }
}

async fn post(api: &TestApi, token: &str, content_type: &str, body: impl Into<Body>) -> Answer {
    api.send(
        Request::post("/annotations")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(body.into())
            .expect("request"),
    )
    .await
}

async fn add(api: &TestApi, ts: &str, text: &str) -> Value {
    let answer = post(
        api,
        INGEST,
        "application/json",
        json!({"ts": ts, "text": text}).to_string(),
    )
    .await;
    assert_eq!(answer.status.as_u16(), 201, "{}", answer.text());
    let note = answer.json();
    assert_eq!(
        answer.header("location"),
        Some(format!("/annotations/{}", note["id"].as_str().expect("id")))
    );
    note
}

async fn list(api: &TestApi, query: &str) -> Vec<Value> {
    let answer = api
        .send(
            Request::get(format!("/annotations{query}"))
                .header("authorization", format!("Bearer {READ}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.text());
    answer.json().as_array().cloned().expect("a list")
}

async fn delete(api: &TestApi, id: &str, token: &str) -> Answer {
    api.send(
        Request::delete(format!("/annotations/{id}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

fn texts(notes: &[Value]) -> Vec<&str> {
    notes
        .iter()
        .map(|note| note["text"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn notes_are_added_listed_by_range_and_deleted() {
    let api = TestApi::with_events_and(&fixture(), settings());
    assert!(list(&api, "").await.is_empty(), "a new database has none");
    let v3 = add(&api, "2025-10-02T09:00:00+02:00", "prompt v3 rolled out").await;
    assert_eq!(v3["ts"], "2025-10-02T07:00:00Z");
    add(&api, "2025-10-01T12:00:00Z", "PII-02 policy added").await;
    let hostile = "<img src=x onerror=alert(1)> & \"quotes\"\nsecond line";
    add(&api, "2025-10-03T00:00:00Z", hostile).await;

    let all = list(&api, "").await;
    assert_eq!(
        texts(&all),
        ["PII-02 policy added", "prompt v3 rolled out", hostile],
        "in time order, text verbatim"
    );
    let window = list(&api, "?from=2025-10-02T00:00:00Z&to=2025-10-03T00:00:00Z").await;
    assert_eq!(
        texts(&window),
        ["prompt v3 rolled out"],
        "`to` is exclusive"
    );
    assert_eq!(
        list(&api, "?to=2025-10-01T12:00:00Z").await.len(),
        0,
        "open start"
    );

    let id = v3["id"].as_str().expect("id");
    assert_eq!(delete(&api, id, READ).await.status.as_u16(), 401);
    assert_eq!(delete(&api, id, INGEST).await.status.as_u16(), 204);
    let again = delete(&api, id, INGEST).await;
    assert_eq!(again.status.as_u16(), 404);
    assert_eq!(again.json()["error"], "not_found");
    assert_eq!(list(&api, "").await.len(), 2);
    // Notes are not events.
    let summary = api
        .send(
            Request::get("/analytics/summary")
                .header("authorization", format!("Bearer {READ}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .json();
    assert_eq!(summary["total_events"], 10);
}

#[tokio::test]
async fn notes_stay_in_the_database_across_restarts() {
    let api = TestApi::with_events_and(&fixture(), settings());
    add(&api, "2025-10-02T07:00:00Z", "kept").await;
    let reopened = TestApi::open(api.into_dir(), settings());
    assert_eq!(texts(&list(&reopened, "").await), ["kept"]);
}

#[tokio::test]
async fn bad_notes_are_refused_with_a_reason() {
    let api = TestApi::with_events_and(&fixture(), settings());
    let cases: [(&str, String, u16); 9] = [
        (
            "application/json",
            json!({"ts": "2025-10-02T07:00:00Z", "text": "  "}).to_string(),
            400,
        ),
        (
            "application/json",
            json!({"ts": "2025-10-02T07:00:00Z", "text": "x".repeat(281)}).to_string(),
            400,
        ),
        (
            "application/json",
            json!({"ts": "2025-10-02T07:00:00Z", "text": "a\u{7}b"}).to_string(),
            400,
        ),
        (
            "application/json",
            json!({"ts": "yesterday", "text": "v3"}).to_string(),
            400,
        ),
        ("application/json", json!({"text": "v3"}).to_string(), 400),
        (
            "application/json",
            json!({"ts": "2025-10-02T07:00:00Z", "text": "v3", "id": "mine"}).to_string(),
            400,
        ),
        ("application/json", "{\"ts\":".to_owned(), 400),
        (
            "text/plain",
            json!({"ts": "2025-10-02T07:00:00Z", "text": "v3"}).to_string(),
            415,
        ),
        (
            "application/json",
            format!(
                "{{\"ts\":\"2025-10-02T07:00:00Z\",\"text\":\"{}\"}}",
                "x".repeat(20_000)
            ),
            413,
        ),
    ];
    for (content_type, body, status) in cases {
        let answer = post(&api, INGEST, content_type, body.clone()).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{body:.80}: {}",
            answer.text()
        );
        assert!(
            answer.json()["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let unauthorised = post(
        &api,
        READ,
        "application/json",
        json!({"ts": "2025-10-02T07:00:00Z", "text": "v3"}).to_string(),
    )
    .await;
    assert_eq!(
        unauthorised.status.as_u16(),
        401,
        "a read token cannot annotate"
    );
    assert!(list(&api, "").await.is_empty(), "nothing half-written");
    assert_eq!(
        delete(&api, &"x".repeat(65), INGEST).await.status.as_u16(),
        400
    );
}

#[tokio::test]
async fn copying_a_store_takes_its_notes_once() {
    let api = TestApi::with_events_and(&fixture(), settings());
    add(&api, "2025-10-02T07:00:00Z", "prompt v3").await;
    let source = api.into_dir();
    let target = tempfile::TempDir::new().expect("temp dir");
    let (from, to) = (
        crate::common::open_any_store(&crate::common::db_path(&source)),
        crate::common::open_any_store(&crate::common::db_path(&target)),
    );
    let copy = |from: &dyn coachboard_api::store::EventStore| {
        coachboard_api::copy::copy(from, to.as_ref(), 100, &mut |_| {}).expect("copied")
    };
    let first = copy(from.as_ref());
    assert_eq!((first.written, first.notes), (10, 1));
    let again = copy(from.as_ref());
    assert_eq!((again.written, again.notes), (0, 0), "nothing doubled");
    let notes = to.annotations(None, None).expect("notes");
    assert_eq!(notes, from.annotations(None, None).expect("notes"));
}

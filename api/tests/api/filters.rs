//! Filters narrow every endpoint alike; time zones move day boundaries.

use crate::common::{TestApi, close, fixture};

#[tokio::test]
async fn each_filter_narrows_the_rows() {
    let api = TestApi::with_events(&fixture());
    let total = |query: &'static str| {
        let api = &api;
        async move {
            api.json(&format!("/analytics/summary?{query}")).await["total_events"]
                .as_u64()
                .unwrap()
        }
    };
    assert_eq!(total("bucket=B").await, 6);
    assert_eq!(total("event=offered").await, 5);
    // The three offers that touched PII-01 (e01, e03, e07) and what became of them (e02,
    // e04, e08, each inferred as the answer to the latest open offer of its session).
    assert_eq!(total("policy=PII-01").await, 6);
    assert_eq!(total("session_id=s2").await, 2);
    assert_eq!(total("from=2025-10-02T00:00:00Z").await, 4);
    assert_eq!(total("to=2025-10-02T00:00:00Z").await, 6);
    // Partial hours at both ends: [09:00:00, 10:00:03) keeps e07 (10:00:00), not e08 (10:00:05).
    assert_eq!(
        total("from=2025-10-01T09:00:00Z&to=2025-10-02T10:00:03Z").await,
        5
    );
    assert_eq!(
        total("from=2025-10-01T08:00:05Z&to=2025-10-01T08:00:11Z").await,
        1
    );
    assert_eq!(total("bucket=B&event=offered&policy=PII-01").await, 2);
    assert_eq!(total("bucket=C").await, 0);
    let b = api.json("/analytics/summary?bucket=B").await;
    close(b["accept_rate"].as_f64().unwrap(), 200.0 / 3.0);
    assert_eq!(b["avg_latency_ms"], 566);
    let searched = api.get("/analytics/events?q=REFUND").await;
    assert_eq!(
        searched.header("x-total-count").as_deref(),
        Some("2"),
        "case-insensitive, draft or suggestion"
    );
    let ids: Vec<String> = searched
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["e02", "e01"]);
    // Letters outside ASCII are folded as DuckDB's lower() folds them, by the word index and
    // by the phrase match alike.
    let unicode = TestApi::with_events(&[]);
    let drafts = ["Ärger mit der RÜCKERSTATTUNG", "Straße gesperrt", "ΣΟΦΙΑ"];
    let body: Vec<serde_json::Value> = drafts
        .iter()
        .enumerate()
        .map(|(n, draft)| {
            serde_json::json!({"id": format!("u{n}"), "event": "offered", "session_id": "u",
                               "ts": "2025-10-01T08:00:00Z", "agent_draft": draft})
        })
        .collect();
    let stored = unicode.post_json(serde_json::json!(body)).await;
    assert!(stored.status.is_success(), "{}", stored.text());
    for (needle, expected) in [
        ("rückerstattung", "1"),
        ("ärger%20mit", "1"),
        ("STRASSE", "0"),
        ("straße", "1"),
        ("σοφια", "1"),
        ("Σοφ", "1"),
        ("ß", "1"),
    ] {
        let answer = unicode.get(&format!("/analytics/events?q={needle}")).await;
        assert_eq!(
            answer.header("x-total-count").as_deref(),
            Some(expected),
            "q={needle}"
        );
    }
    // The user's % and _ are literal characters, not wildcards.
    for wildcard in ["%25", "_", "%25refund"] {
        let answer = api.get(&format!("/analytics/events?q={wildcard}")).await;
        assert_eq!(
            answer.header("x-total-count").as_deref(),
            Some("0"),
            "q={wildcard}"
        );
    }
    assert_eq!(
        api.json("/analytics/policies?event=offered&bucket=A").await,
        serde_json::json!({"PII-01": 1, "REFUND-03": 1, "TONE-02": 1})
    );
    assert_eq!(
        api.json("/analytics/experiment?policy=PII-01").await["buckets"][1]["offered"],
        2
    );
}

#[tokio::test]
async fn days_follow_the_requested_time_zone() {
    let api = TestApi::with_events(&fixture());
    // Tokyo (UTC+9): e05/e06 at 23:30 UTC Oct 1 fall on Oct 2 there.
    for (zone, first_start) in [
        ("Asia/Tokyo", "2025-10-01T00:00:00+09:00"),
        ("Asia/Kolkata", "2025-10-01T00:00:00+05:30"),
    ] {
        let series = api
            .json(&format!("/analytics/timeseries?interval=day&tz={zone}"))
            .await;
        assert_eq!(series["tz"], zone);
        let points = series["points"].as_array().unwrap();
        assert_eq!(points.len(), 3, "{zone}");
        assert_eq!(points[0]["start"], first_start);
        let counts = |index: usize| {
            let point = &points[index];
            ["offered", "accepted", "edited", "rejected"].map(|key| point[key].as_u64().unwrap())
        };
        assert_eq!(counts(0), [2, 1, 1, 0], "{zone} Oct 1: e01–e04");
        assert_eq!(counts(1), [2, 1, 0, 1], "{zone} Oct 2: e05–e08");
        assert_eq!(counts(2), [1, 0, 0, 1], "{zone} Oct 3: e09, e10");
    }
    // New York (UTC−4 in October) keeps them all on Oct 1, as UTC does.
    let new_york = api
        .json("/analytics/timeseries?interval=day&tz=America/New_York")
        .await;
    assert_eq!(new_york["points"][0]["start"], "2025-10-01T00:00:00-04:00");
    assert_eq!(new_york["points"][0]["offered"], 3);
    let bad = api.get("/analytics/timeseries?tz=Mars/Base").await;
    assert_eq!(bad.status.as_u16(), 400);
    assert!(bad.json()["message"].as_str().unwrap().contains("IANA"));
}

//! Every endpoint on the ten-event fixture (see `common::fixture`), answers worked out by hand.

use serde_json::json;

use crate::common::{TestApi, close, fixture};

#[tokio::test]
async fn summary_matches_the_notes_definitions() {
    let api = TestApi::with_events(&fixture());
    let summary = api.json("/analytics/summary").await;
    // 10 events; offered e01 e03 e05 e07 e09; accepted = accepted (e02, e08) + edited (e04).
    assert_eq!(summary["total_events"], 10);
    assert_eq!(summary["suggestions_offered"], 5);
    assert_eq!(summary["suggestions_accepted"], 3);
    close(summary["accept_rate"].as_f64().unwrap(), 60.0);
    // Mean of the positive latencies 100, 300, 200, 400, 1000.
    assert_eq!(summary["avg_latency_ms"], 400);
    // p50 is 300, reported as its bin [300, 302); p95 interpolates 400 → 1000 (bins
    // [400, 402) and [1000, 1004)): 400.5 + 0.8 × (1001.5 − 400.5) = 881.3.
    close(summary["latency_p50_ms"].as_f64().unwrap(), 300.5);
    close(summary["latency_p95_ms"].as_f64().unwrap(), 881.3);
    assert_eq!(
        summary["events_by_type"],
        json!({"offered": 5, "accepted": 2, "edited": 1, "rejected": 2})
    );
    assert_eq!(summary["database"]["total_events"], 10);
    assert_eq!(
        summary["database"]["first_event_at"],
        "2025-10-01T08:00:00Z"
    );
    assert_eq!(summary["database"]["last_event_at"], "2025-10-03T12:00:01Z");
    // The note's five fields come first, for clients that read the object in order.
    let text = api.get("/analytics/summary").await.text();
    assert!(text.starts_with(r#"{"total_events":10,"suggestions_offered":5,"suggestions_accepted":3,"accept_rate":60.0,"avg_latency_ms":400"#), "{text}");
}

#[tokio::test]
async fn summary_compares_with_the_previous_period() {
    let api = TestApi::with_events(&fixture());
    // [09:00 Oct 1, 10:00:03 Oct 2) holds e03..e07; the period before, of equal length
    // (25 h 0 min 3 s), holds e01 and e02.
    let summary = api
        .json(
            "/analytics/summary?from=2025-10-01T09:00:00Z&to=2025-10-02T10:00:03Z&compare=previous",
        )
        .await;
    assert_eq!(summary["total_events"], 5);
    assert_eq!(summary["suggestions_offered"], 3);
    assert_eq!(summary["suggestions_accepted"], 1);
    assert_eq!(summary["avg_latency_ms"], 300);
    let previous = &summary["previous"];
    assert_eq!(previous["from"], "2025-09-30T07:59:57Z");
    assert_eq!(previous["to"], "2025-10-01T09:00:00Z");
    assert_eq!(previous["total_events"], 2);
    close(previous["accept_rate"].as_f64().unwrap(), 100.0);
    assert!(
        api.json("/analytics/summary?compare=previous").await["previous"].is_null(),
        "no start, no previous period"
    );
}

#[tokio::test]
async fn events_are_newest_first_with_the_notes_nine_fields() {
    let api = TestApi::with_events(&fixture());
    let answer = api.get("/analytics/events?limit=3").await;
    assert_eq!(answer.header("x-total-count").as_deref(), Some("10"));
    let events = answer.json();
    let ids: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["e10", "e09", "e08"]);
    let mut keys: Vec<&String> = events[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "ab_test_bucket",
            "agent_draft",
            "event",
            "id",
            "latency_ms",
            "policy_refs",
            "session_id",
            "suggestion_used",
            "ts"
        ]
    );
    assert_eq!(events[2]["ts"], "2025-10-02T10:00:05Z");
    assert_eq!(
        events[2]["policy_refs"], "[]",
        "policy_refs stays the stored JSON text"
    );
    assert_eq!(events[0]["suggestion_used"], serde_json::Value::Null);

    let cursor = answer
        .header("x-next-cursor")
        .expect("a full page has a next cursor");
    let next = api
        .json(&format!(
            "/analytics/events?limit=3&cursor={}",
            urlencode(&cursor)
        ))
        .await;
    let next_ids: Vec<&str> = next
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(next_ids, ["e07", "e06", "e05"]);
    let by_offset = api.json("/analytics/events?limit=3&offset=3").await;
    assert_eq!(by_offset, next);

    let slowest = api
        .json("/analytics/events?limit=2&sort=latency_ms&order=desc")
        .await;
    assert_eq!(slowest[0]["id"], "e09");
    assert_eq!(slowest[1]["id"], "e07");
    let oldest = api.json("/analytics/events?limit=1&order=asc").await;
    assert_eq!(oldest[0]["id"], "e01");
    assert_eq!(
        api.json("/analytics/events")
            .await
            .as_array()
            .unwrap()
            .len(),
        10,
        "default limit is 100"
    );
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn policies_count_references_largest_first() {
    let api = TestApi::with_events(&fixture());
    let text = api.get("/analytics/policies").await.text();
    assert_eq!(text, r#"{"PII-01":3,"REFUND-03":1,"TONE-02":1}"#);
    assert_eq!(
        api.json("/analytics/policies?bucket=B").await,
        json!({"PII-01": 2})
    );
}

#[tokio::test]
async fn experiment_compares_buckets() {
    let api = TestApi::with_events(&fixture());
    let experiment = api.json("/analytics/experiment").await;
    let (a, b) = (&experiment["buckets"][0], &experiment["buckets"][1]);
    assert_eq!(
        (
            a["bucket"].as_str(),
            a["offered"].as_u64(),
            a["accepted"].as_u64(),
            a["events"].as_u64()
        ),
        (Some("A"), Some(2), Some(1), Some(4))
    );
    assert_eq!(
        (
            b["bucket"].as_str(),
            b["offered"].as_u64(),
            b["accepted"].as_u64(),
            b["events"].as_u64()
        ),
        (Some("B"), Some(3), Some(2), Some(6))
    );
    close(a["accept_rate"].as_f64().unwrap(), 50.0);
    close(b["avg_latency_ms"].as_f64().unwrap(), 1700.0 / 3.0);
    assert!(a["ci_low"].as_f64().unwrap() < 50.0 && a["ci_high"].as_f64().unwrap() > 50.0);
    close(
        experiment["comparison"]["difference_pt"].as_f64().unwrap(),
        200.0 / 3.0 - 50.0,
    );
    assert_eq!(experiment["comparison"]["treatment"], "B");
    assert_eq!(experiment["sample_too_small"], true);
}

#[tokio::test]
async fn timeseries_counts_per_day() {
    let api = TestApi::with_events(&fixture());
    let series = api.json("/analytics/timeseries?interval=day").await;
    assert_eq!(series["tz"], "UTC");
    let points = series["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    assert_eq!(points[0]["start"], "2025-10-01T00:00:00Z");
    assert_eq!(
        (
            points[0]["offered"].as_u64(),
            points[0]["accepted"].as_u64(),
            points[0]["edited"].as_u64(),
            points[0]["rejected"].as_u64()
        ),
        (Some(3), Some(1), Some(1), Some(1))
    );
    close(points[0]["accept_rate"].as_f64().unwrap(), 200.0 / 3.0);
    // Latencies 100, 300, 200: p50 is exactly 200; p95 is 200 + 0.9 × (300.5 − 200).
    close(points[0]["latency_p50_ms"].as_f64().unwrap(), 200.0);
    close(points[0]["latency_p95_ms"].as_f64().unwrap(), 290.45);
    close(points[1]["accept_rate"].as_f64().unwrap(), 100.0);
    close(points[2]["accept_rate"].as_f64().unwrap(), 0.0);
    let weeks = api.json("/analytics/timeseries?interval=week").await;
    assert_eq!(
        weeks["points"][0]["start"], "2025-09-29T00:00:00Z",
        "weeks start on Monday"
    );
    assert_eq!(weeks["points"][0]["offered"], 5);
    let hours = api
        .json(
            "/analytics/timeseries?interval=hour&from=2025-10-01T08:00:00Z&to=2025-10-01T10:00:00Z",
        )
        .await;
    let hours = hours["points"].as_array().unwrap();
    assert_eq!(hours.len(), 2);
    assert_eq!(
        (hours[0]["offered"].as_u64(), hours[0]["accepted"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (hours[1]["offered"].as_u64(), hours[1]["edited"].as_u64()),
        (Some(1), Some(1))
    );
}

#[tokio::test]
async fn latency_distribution_and_percentiles() {
    let api = TestApi::with_events(&fixture());
    let latency = api.json("/analytics/latency").await;
    assert_eq!(latency["count"], 5);
    close(latency["mean_ms"].as_f64().unwrap(), 400.0);
    close(latency["min_ms"].as_f64().unwrap(), 100.0);
    close(latency["max_ms"].as_f64().unwrap(), 1001.5);
    close(latency["p50_ms"].as_f64().unwrap(), 300.5);
    let bins = latency["bins"].as_array().unwrap();
    assert_eq!(
        bins.iter()
            .map(|bin| bin["count"].as_u64().unwrap())
            .sum::<u64>(),
        5
    );
    // Ten bins per decade from 100 ms to 1 s, contiguous.
    close(bins[0]["lower_ms"].as_f64().unwrap(), 100.0);
    assert_eq!(bins.len(), 11);
}

#[tokio::test]
async fn csv_has_every_filtered_event() {
    let api = TestApi::with_events(&fixture());
    let answer = api.get("/analytics/events.csv?bucket=A").await;
    assert_eq!(
        answer.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let text = answer.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id,ts,event,session_id,agent_draft,suggestion_used,policy_refs,latency_ms,ab_test_bucket,offer_id"
    );
    assert_eq!(
        lines.len(),
        5,
        "header and the four bucket-A events: {text}"
    );
    assert_eq!(
        lines[1],
        r#"e06,2025-10-01T23:30:30Z,rejected,s3,The parcel left today,,[],0,A,"#
    );
    assert!(
        text.contains(r#""[""PII-01"",""TONE-02""]""#),
        "quoted JSON: {text}"
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let api = TestApi::with_events(&fixture());
    assert_eq!(api.json("/healthz").await["status"], "ok");
    let ready = api.json("/readyz").await;
    assert_eq!(
        (ready["status"].as_str(), ready["total_events"].as_u64()),
        (Some("ready"), Some(10))
    );
}

#[tokio::test]
async fn errors_have_one_json_shape() {
    let api = TestApi::with_events(&fixture());
    for (uri, status) in [
        ("/analytics/nothing", 404),
        ("/analytics/events?limit=1001", 400),
        ("/analytics/summary?from=yesterday", 400),
        ("/analytics/timeseries?interval=minute", 400),
    ] {
        let answer = api.get(uri).await;
        assert_eq!(answer.status.as_u16(), status, "{uri}");
        let body = answer.json();
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{uri}: {body}"
        );
    }
    let wrong_method = api
        .send(
            axum::http::Request::delete("/events")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(wrong_method.status.as_u16(), 405);
    assert_eq!(wrong_method.json()["error"], "method_not_allowed");
}

#[tokio::test]
async fn openapi_document_lists_every_endpoint() {
    let api = TestApi::with_events(&fixture());
    let document = api.json("/openapi.json").await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    for path in coachboard_api::routes::API_PATHS
        .into_iter()
        .filter(|path| *path != "/openapi.json")
    {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
}

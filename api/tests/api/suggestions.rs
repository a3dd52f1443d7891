//! Suggestions as a whole: offers linked to their outcomes (named or inferred), and what the
//! answers say about them, on a fixture whose answers are worked out by hand below.

use serde_json::{Value, json};

use crate::common::{TestApi, db_path};

/// | session | bucket | events (time, id, type, offer_id)                    | first answer           |
/// |---------|--------|------------------------------------------------------|------------------------|
/// | s1      | A      | 10:00:00 o1 offered [PII-01]; 10:00:10 a1 accepted o1 | o1 accepted, 10 s      |
/// | s2      | A      | 11:00:00 o2 offered [PII-01,TONE-02]; 11:00:05 o3     | o3 rejected (x2), 15 s |
/// |         |        | offered [TONE-02]; 11:00:20 x2 rejected; 11:00:50 x3  | o2 edited (x3), 50 s   |
/// |         |        | edited (both inferred: latest open offer first)       |                        |
/// | s3      | B      | 12:00:30 y1 accepted o4 (posted first); 12:00:00 o4   | o4 accepted, 30 s      |
/// | s4      | B      | 13:00:00 o5 offered [REFUND-03]; 13:00:20 z1 rejected | o5 rejected, 20 s,     |
/// |         |        | o5; 13:01:00 z2 accepted o5                           | answered twice         |
/// | s5      | B      | 14:00:00 o6 offered [PII-01]                          | unanswered             |
/// | s6      | A      | 15:00:00 w1 accepted (no offer in its session)        | (links to nothing)     |
/// | s7      | A      | 16:00:00 o7 offered; 16:00:10 o8 offered; 16:00:20 v1 | o8 accepted, 10 s      |
/// |         |        | accepted o8; 16:00:30 v2 rejected (inferred: o8 is    | o7 rejected, 30 s      |
/// |         |        | claimed, so o7)                                       |                        |
fn first_batch() -> Value {
    json!([
        ev("o1", "10:00:00", "offered", "s1", "A", &["PII-01"], None),
        ev("a1", "10:00:10", "accepted", "s1", "A", &[], Some("o1")),
        ev(
            "o2",
            "11:00:00",
            "offered",
            "s2",
            "A",
            &["PII-01", "TONE-02"],
            None
        ),
        ev("o3", "11:00:05", "offered", "s2", "A", &["TONE-02"], None),
        ev("x2", "11:00:20", "rejected", "s2", "A", &[], None),
        ev("x3", "11:00:50", "edited", "s2", "A", &[], None),
        ev("y1", "12:00:30", "accepted", "s3", "B", &[], Some("o4")),
    ])
}

fn second_batch() -> Value {
    json!([
        ev("o4", "12:00:00", "offered", "s3", "B", &[], None),
        ev("o5", "13:00:00", "offered", "s4", "B", &["REFUND-03"], None),
        ev("z1", "13:00:20", "rejected", "s4", "B", &[], Some("o5")),
        ev("z2", "13:01:00", "accepted", "s4", "B", &[], Some("o5")),
        ev("o6", "14:00:00", "offered", "s5", "B", &["PII-01"], None),
        ev("w1", "15:00:00", "accepted", "s6", "A", &[], None),
        ev("o7", "16:00:00", "offered", "s7", "A", &[], None),
        ev("o8", "16:00:10", "offered", "s7", "A", &[], None),
        ev("v1", "16:00:20", "accepted", "s7", "A", &[], Some("o8")),
        ev("v2", "16:00:30", "rejected", "s7", "A", &[], None),
    ])
}

fn ev(
    id: &str,
    time: &str,
    kind: &str,
    session: &str,
    bucket: &str,
    policies: &[&str],
    offer: Option<&str>,
) -> Value {
    let mut event = json!({
        "id": id,
        "ts": format!("2025-10-01T{time}Z"),
        "event": kind,
        "session_id": session,
        "ab_test_bucket": bucket,
        "agent_draft": format!("draft of {id}"),
        "policy_refs": policies,
        "latency_ms": if kind == "offered" { 400 } else { 0 },
    });
    if let Some(offer) = offer {
        event["offer_id"] = json!(offer);
    }
    event
}

async fn fixture_api() -> TestApi {
    let api = TestApi::with_events(&[]);
    for batch in [first_batch(), second_batch()] {
        let answer = api.post_json(batch).await;
        assert_eq!(answer.status, 201, "{}", answer.text());
    }
    api
}

fn assert_near(actual: &Value, expected: f64, tolerance: f64) {
    let actual = actual.as_f64().unwrap_or(f64::NAN);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not {expected} ± {tolerance}"
    );
}

/// Wilson 95% intervals worked out by hand (z = 1.959964), in percent.
const WILSON_2_OF_3: (f64, f64) = (20.77, 93.85);
const WILSON_1_OF_2: (f64, f64) = (9.45, 90.55);

#[tokio::test]
async fn links_outcomes_to_offers_named_and_inferred() {
    let api = fixture_api().await;
    let answer = api
        .json("/analytics/suggestions?unanswered_after=600")
        .await;
    let overall = &answer["overall"];
    assert_eq!(overall["suggestions"], 8, "{answer}");
    assert_eq!(overall["accepted"], 3, "o1, o4, o8: {answer}");
    assert_eq!(overall["edited"], 1, "o2: {answer}");
    assert_eq!(
        overall["rejected"], 3,
        "o3, o5 (first answer), o7: {answer}"
    );
    assert_eq!(overall["unanswered"], 1, "o6: {answer}");
    assert_eq!(overall["pending"], 0);
    assert_near(&overall["accept_rate"], 50.0, 1e-9);
    assert_near(&overall["unanswered_rate"], 12.5, 1e-9);
    assert_eq!(answer["inferred_links"], 3, "o2, o3, o7: {answer}");
    assert_eq!(answer["answered_more_than_once"], 1, "o5");
    // Decision times 10, 10, 15, 20, 30, 30, 50 s: p50 is the 4th, p95 is 30 + 0.7 × 20;
    // histogram bins are under 0.8% wide.
    let decision = &answer["decision_time"];
    assert_eq!(decision["count"], 7);
    assert_near(&decision["p50_ms"], 20_000.0, 160.0);
    assert_near(&decision["p95_ms"], 44_000.0, 350.0);
    assert_near(&overall["decision_p50_ms"], 20_000.0, 160.0);
    // Per bucket: A has o1 o2 o3 o7 o8 (accepted o1 o8, edited o2), B has o4 o5 o6.
    let buckets = answer["buckets"].as_array().expect("buckets");
    assert_eq!(buckets[0]["bucket"], "A");
    assert_eq!(buckets[0]["stats"]["suggestions"], 5);
    assert_near(&buckets[0]["stats"]["accept_rate"], 60.0, 1e-9);
    assert_eq!(buckets[1]["bucket"], "B");
    assert_eq!(buckets[1]["stats"]["suggestions"], 3);
    assert_eq!(buckets[1]["stats"]["unanswered"], 1);
    assert_near(&buckets[1]["stats"]["accept_rate"], 100.0 / 3.0, 1e-9);
    // An event filter keeps the suggestions whose outcome it names.
    let rejected = api.json("/analytics/suggestions?event=rejected").await;
    assert_eq!(rejected["overall"]["suggestions"], 3);
}

#[tokio::test]
async fn a_policy_filter_follows_the_suggestion_to_its_outcome() {
    let api = fixture_api().await;
    // The note's accept rate over the rows of PII-01's suggestions: offers o1, o2, o6 and
    // their answers a1 (named) and x3 (inferred).
    let summary = api.json("/analytics/summary?policy=PII-01").await;
    assert_eq!(summary["total_events"], 5, "{summary}");
    assert_eq!(summary["suggestions_offered"], 3);
    assert_eq!(summary["suggestions_accepted"], 2);
    assert_near(&summary["accept_rate"], 200.0 / 3.0, 1e-9);
    let events = api.get("/analytics/events?policy=PII-01&order=asc").await;
    let ids: Vec<String> = events
        .json()
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids, ["o1", "a1", "o2", "x3", "o6"]);
    let suggestions = api.json("/analytics/suggestions?policy=PII-01").await;
    assert_eq!(suggestions["overall"]["suggestions"], 3);
    assert_eq!(suggestions["overall"]["accepted"], 1);
    assert_eq!(suggestions["overall"]["edited"], 1);
    assert_eq!(suggestions["overall"]["unanswered"], 1);
    // The experiment counts the same rows.
    let experiment = api.json("/analytics/experiment?policy=PII-01").await;
    let a = &experiment["buckets"][0];
    assert_eq!(a["bucket"], "A");
    assert_eq!(a["offered"], 2);
    assert_eq!(a["accepted"], 2);
}

#[tokio::test]
async fn policy_outcomes_have_rates_and_intervals() {
    let api = fixture_api().await;
    let answer = api.json("/analytics/policy-outcomes").await;
    let policies = answer["policies"].as_array().expect("policies");
    let names: Vec<&str> = policies
        .iter()
        .map(|row| row["policy"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["PII-01", "TONE-02", "REFUND-03"], "{answer}");
    // PII-01: o1 accepted, o2 edited, o6 unanswered.
    let pii = &policies[0];
    assert_eq!(pii["suggestions"], 3);
    assert_eq!(pii["unanswered"], 1);
    assert_near(&pii["accept_rate"]["percent"], 200.0 / 3.0, 1e-9);
    assert_near(&pii["accept_rate"]["ci_low"], WILSON_2_OF_3.0, 0.01);
    assert_near(&pii["accept_rate"]["ci_high"], WILSON_2_OF_3.1, 0.01);
    assert_near(&pii["edit_rate"]["percent"], 100.0 / 3.0, 1e-9);
    assert_near(&pii["reject_rate"]["percent"], 0.0, 1e-9);
    // TONE-02: o2 edited, o3 rejected.
    let tone = &policies[1];
    assert_eq!(tone["suggestions"], 2);
    assert_near(&tone["reject_rate"]["percent"], 50.0, 1e-9);
    assert_near(&tone["reject_rate"]["ci_low"], WILSON_1_OF_2.0, 0.01);
    assert_near(&tone["reject_rate"]["ci_high"], WILSON_1_OF_2.1, 0.01);
    // REFUND-03: o5, whose first answer was a rejection.
    assert_eq!(policies[2]["rejected"], 1);
    assert_eq!(policies[2]["accepted"], 0);
    // Filtered by bucket: only B's offers.
    let b = api.json("/analytics/policy-outcomes?bucket=B").await;
    assert_eq!(b["policies"].as_array().map(Vec::len), Some(2), "{b}");
}

#[tokio::test]
async fn offer_ids_are_stored_shown_and_checked() {
    let api = fixture_api().await;
    let events = api.json("/analytics/events?session_id=s3").await;
    assert_eq!(events[0]["id"], "y1");
    assert_eq!(events[0]["offer_id"], "o4");
    assert!(
        events[1].get("offer_id").is_none(),
        "left out when empty: {events}"
    );
    let csv = api.get("/analytics/events.csv?session_id=s3").await.text();
    assert!(
        csv.contains("y1,2025-10-01T12:00:30Z,accepted,s3,draft of y1,,[],0,B,o4"),
        "{csv}"
    );
    for (body, says) in [
        (
            json!({"event": "offered", "offer_id": "o1"}),
            "an `offered` event has none",
        ),
        (json!({"event": "accepted", "offer_id": " "}), "is empty"),
        (
            json!({"id": "same", "event": "accepted", "offer_id": "same"}),
            "the event itself",
        ),
    ] {
        let answer = api.post_json(body.clone()).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.text());
        assert!(answer.text().contains(says), "{body}: {}", answer.text());
    }
}

#[tokio::test]
async fn a_fresh_offer_is_pending_until_its_time_is_up() {
    let api = fixture_api().await;
    let answer = api
        .post_json(json!({"event": "offered", "session_id": "s9", "ab_test_bucket": "A"}))
        .await;
    assert_eq!(answer.status, 201);
    let overall = api
        .json("/analytics/suggestions?unanswered_after=600")
        .await["overall"]
        .clone();
    assert_eq!(overall["suggestions"], 9);
    assert_eq!(overall["pending"], 1);
    assert_eq!(overall["unanswered"], 1);
    let bad = api.get("/analytics/suggestions?unanswered_after=-5").await;
    assert_eq!(bad.status, 400);
    let too_long = api
        .get("/analytics/suggestions?unanswered_after=99999999")
        .await;
    assert_eq!(too_long.status, 400);
}

#[tokio::test]
async fn links_survive_a_restart_and_follow_changes_made_while_down() {
    let api = fixture_api().await;
    let before = api.json("/analytics/suggestions").await;
    let dir = api.into_dir();
    // Another program answers o6 while the API is down, the note's way (no offer_id).
    {
        let conn = duckdb::Connection::open(db_path(&dir)).expect("open");
        conn.execute_batch(
            "INSERT INTO coach_events (id, ts, event, session_id, ab_test_bucket)
             VALUES ('late', TIMESTAMP '2025-10-01 14:05:00', 'accepted', 's5', 'B')",
        )
        .expect("insert");
    }
    let api = TestApi::open(dir, coachboard_api::Settings::default());
    let after = api.json("/analytics/suggestions").await;
    assert_eq!(
        after["overall"]["accepted"].as_u64(),
        before["overall"]["accepted"].as_u64().map(|n| n + 1),
        "{after}"
    );
    assert_eq!(after["overall"]["unanswered"], 0);
    assert_eq!(after["inferred_links"], 4);
    // Unchanged since, a second restart answers the same.
    let dir = api.into_dir();
    let api = TestApi::open(dir, coachboard_api::Settings::default());
    assert_eq!(api.json("/analytics/suggestions").await, after);
}

#[tokio::test]
async fn the_links_table_can_be_thrown_away() {
    let api = fixture_api().await;
    let before = api.json("/analytics/suggestions").await;
    let dir = api.into_dir();
    {
        let conn = duckdb::Connection::open(db_path(&dir)).expect("open");
        conn.execute_batch("DROP TABLE coachboard_links; DROP TABLE coachboard_derived_state")
            .expect("drop");
    }
    let api = TestApi::open(dir, coachboard_api::Settings::default());
    assert_eq!(api.json("/analytics/suggestions").await, before);
}

#[tokio::test]
async fn the_experiment_shows_its_trust_checks() {
    let api = fixture_api().await;
    let experiment = api.json("/analytics/experiment").await;
    assert_eq!(
        experiment["multiple_exposure"],
        json!({"sessions": 6, "in_several_buckets": 0})
    );
    // Sessions offered a suggestion: s1–s5 and s7 (s6 has an outcome only). s1 was in A;
    // an offer to it in B exposes it twice.
    let answer = api
        .post_json(
            json!({"event": "offered", "session_id": "s1", "ab_test_bucket": "B",
                          "ts": "2025-10-01T17:00:00Z"}),
        )
        .await;
    assert_eq!(answer.status, 201);
    let experiment = api.json("/analytics/experiment").await;
    assert_eq!(
        experiment["multiple_exposure"],
        json!({"sessions": 6, "in_several_buckets": 1})
    );
    let metrics: Vec<&str> = experiment["guardrails"]
        .as_array()
        .expect("guardrails")
        .iter()
        .map(|guardrail| guardrail["metric"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        metrics,
        ["latency_p95_ms", "decision_p95_ms", "policy_reference_rate"]
    );
    // Policy references: A's offers o1 o2 o3 (of o1 o2 o3 o7 o8) → 60%; B's o5 o6 (of
    // o4 o5 o6 and the new one) → 50%.
    let policy = &experiment["guardrails"][2];
    assert_near(&policy["control"]["value"], 60.0, 1e-9);
    assert_near(&policy["treatment"]["value"], 50.0, 1e-9);
    assert_eq!(policy["treatment_worse"], false);
    let sequential = &experiment["sequential"];
    assert!(
        sequential["ci_low_pt"].as_f64() < experiment["comparison"]["ci_low_pt"].as_f64(),
        "the always-valid interval is the wider one: {experiment}"
    );
}

#[tokio::test]
async fn rewrite_sizes_are_computed_once_per_offer() {
    let api = TestApi::with_events(&[]);
    // Rewrites by hand: 0% (same words), 20% (2 of 4 + 6 words added), 100% (no shared word).
    let offers = json!([
        {"id": "r1", "event": "offered", "session_id": "t1", "agent_draft": "thanks for waiting",
         "suggestion_used": "thanks for waiting", "ts": "2025-10-02T10:00:00Z"},
        {"id": "r1a", "event": "accepted", "offer_id": "r1", "session_id": "t1", "ts": "2025-10-02T10:00:09Z"},
        {"id": "r2", "event": "offered", "session_id": "t2", "agent_draft": "your order has shipped",
         "suggestion_used": "good news: your order has shipped", "ts": "2025-10-02T10:01:00Z"},
        {"id": "r2a", "event": "edited", "offer_id": "r2", "session_id": "t2", "ts": "2025-10-02T10:01:09Z"},
        {"id": "r3", "event": "offered", "session_id": "t3", "agent_draft": "a b",
         "suggestion_used": "c d", "ts": "2025-10-02T10:02:00Z"},
        {"id": "r3a", "event": "rejected", "offer_id": "r3", "session_id": "t3", "ts": "2025-10-02T10:02:09Z"},
        {"id": "r4", "event": "offered", "session_id": "t4", "agent_draft": "no suggestion text",
         "ts": "2025-10-02T10:03:00Z"},
    ]);
    assert_eq!(api.post_json(offers).await.status, 201);
    let check = |answer: Value| {
        let bands = answer["bands"].as_array().expect("bands").clone();
        assert_eq!(bands.len(), 10);
        let counts: Vec<u64> = bands
            .iter()
            .map(|band| band["suggestions"].as_u64().unwrap_or(0))
            .collect();
        assert_eq!(counts, [1, 0, 1, 0, 0, 0, 0, 0, 0, 1], "{answer}");
        assert_near(&bands[0]["accept_rate"]["percent"], 100.0, 1e-9);
        assert_near(&bands[2]["accept_rate"]["percent"], 100.0, 1e-9);
        assert_near(&bands[9]["accept_rate"]["percent"], 0.0, 1e-9);
        assert_eq!(answer["without_text"], 1);
    };
    check(api.json("/analytics/rewrites").await);
    if crate::common::cluster().is_some() {
        // On a cluster sizes are worked out per query: there is no table to throw away.
        return;
    }
    // Thrown away, the sizes come back at the next start, the same.
    let dir = api.into_dir();
    {
        let conn = duckdb::Connection::open(db_path(&dir)).expect("open");
        conn.execute_batch("DROP TABLE coachboard_rewrites")
            .expect("drop");
    }
    let api = TestApi::open(dir, coachboard_api::Settings::default());
    check(api.json("/analytics/rewrites").await);
}

#[tokio::test]
async fn a_session_lists_its_suggestions_with_their_outcomes() {
    let api = fixture_api().await;
    let s2 = api.json("/analytics/sessions/s2").await;
    let suggestions = s2["suggestions"].as_array().expect("suggestions");
    assert_eq!(suggestions.len(), 2, "{s2}");
    assert_eq!(suggestions[0]["offer"]["id"], "o2");
    assert_eq!(suggestions[0]["outcome"]["id"], "x3");
    assert_eq!(suggestions[0]["inferred"], true);
    assert_eq!(suggestions[0]["decision_ms"], 50_000);
    assert_eq!(suggestions[1]["offer"]["id"], "o3");
    assert_eq!(suggestions[1]["outcome"]["id"], "x2");
    assert_eq!(suggestions[1]["decision_ms"], 15_000);
    let s4 = api.json("/analytics/sessions/s4").await;
    assert_eq!(s4["suggestions"][0]["outcome"]["id"], "z1");
    assert_eq!(s4["suggestions"][0]["inferred"], false);
    assert_eq!(s4["suggestions"][0]["later_answers"][0]["id"], "z2");
    let s6 = api.json("/analytics/sessions/s6").await;
    assert_eq!(s6["suggestions"].as_array().map(Vec::len), Some(0));
    assert_eq!(s6["unlinked"][0]["id"], "w1");
    // Ids are path segments: encoded characters arrive decoded, hostile ones find nothing.
    let odd = api.json("/analytics/sessions/x'%20OR%201=1%20--").await;
    assert_eq!(odd["suggestions"].as_array().map(Vec::len), Some(0));
    let too_long = api
        .get(&format!("/analytics/sessions/{}", "s".repeat(300)))
        .await;
    assert_eq!(too_long.status, 400);
}

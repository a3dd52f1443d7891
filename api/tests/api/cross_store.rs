//! The same events in a DuckDB file and on the ClickHouse cluster: every endpoint answers the
//! same under every filter, time zones, intervals, paging and compare=previous included,
//! before and after writes through the API (inferred links moved by late events too), and
//! after `copy` moved a file to the cluster and back.
//! Needs the cluster (`scripts/cluster-test.sh` starts it and runs this), hence ignored in
//! the plain run.

use std::sync::Arc;

use coachboard_api::Settings;
use coachboard_api::copy::copy;
use coachboard_api::generate::{DemoSpec, generate};
use coachboard_api::store::{ClickHouseStore, EventStore, StoredEvent};
use coachboard_contract::Annotation;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::{TestApi, at, cluster, database_for, db_path, open_store};

fn generated() -> Vec<StoredEvent> {
    let spec = DemoSpec {
        rows: 12_000,
        seed: 17,
        end: at("2025-10-23T12:00:00Z"),
        days: 20,
    };
    let mut events = Vec::new();
    generate(&spec, |event| events.push(event));
    events
}

/// A DuckDB-backed and a cluster-backed API holding `events`.
fn both(events: &[StoredEvent]) -> (TestApi, TestApi) {
    let config = cluster().expect("COACHBOARD_TEST_CLICKHOUSE names the cluster");
    let duck_dir = TempDir::new().expect("temp dir");
    let duck = open_store(&db_path(&duck_dir));
    duck.insert(events).expect("DuckDB fixture");
    let duck: Arc<dyn EventStore> = Arc::new(duck);
    let cluster_dir = TempDir::new().expect("temp dir");
    let config = config
        .with_database(&database_for(&db_path(&cluster_dir)))
        .expect("plain name");
    let house = ClickHouseStore::open(config).expect("the cluster opens");
    for chunk in events.chunks(5_000) {
        house.insert(chunk).expect("cluster fixture");
    }
    let house: Arc<dyn EventStore> = Arc::new(house);
    (
        TestApi::on_store(duck_dir, duck, Settings::default()),
        TestApi::on_store(cluster_dir, house, Settings::default()),
    )
}

/// Every query the dashboard and the note's clients make, under each filter.
fn queries(session: &str) -> Vec<String> {
    let filters = [
        String::new(),
        "bucket=A".to_owned(),
        "event=accepted".to_owned(),
        "policy=PII-01".to_owned(),
        "policy=TONE-02&bucket=B".to_owned(),
        "policies=PII-01,REFUND-03".to_owned(),
        "policies=TONE-02&policy=PII-01&bucket=A".to_owned(),
        format!("session_id={session}"),
        "q=refund".to_owned(),
        "q=Order%20%23&bucket=B".to_owned(),
        "q=sam&policy=PII-01".to_owned(),
        "from=2025-10-10T00:00:00Z&to=2025-10-15T00:00:00Z".to_owned(),
        "from=2025-10-10T07:30:15Z&to=2025-10-12T19:45:00Z&policy=PII-01".to_owned(),
        // Past the last event, and open at the start (an open end would compare with "now").
        "from=2025-10-20T00:00:00Z&to=2025-10-30T00:00:00Z".to_owned(),
        "to=2025-10-08T00:00:00Z&event=offered".to_owned(),
    ];
    let mut queries = Vec::new();
    for filter in &filters {
        let and = if filter.is_empty() {
            String::new()
        } else {
            format!("&{filter}")
        };
        for path in [
            "summary?compare=previous",
            "latency?x=1",
            "experiment?x=1",
            "policies?x=1",
            "suggestions?x=1",
            "policy-outcomes?x=1",
            "rewrites?x=1",
            "timeseries?interval=hour",
            "timeseries?interval=day&tz=America/New_York",
            "timeseries?interval=week&tz=Asia/Kolkata",
            "events?limit=50",
            "events?limit=20&offset=35&sort=latency_ms",
            "events?limit=20&sort=latency_ms&order=asc",
            "events?limit=30&order=asc&offset=7",
            // Deep pages: the ClickHouse store skips whole hours by count (`pages.rs`).
            "events?limit=40&offset=2000",
            "events?limit=40&order=asc&offset=3000",
            "events?limit=25&offset=900&sort=latency_ms",
            "events.csv?x=1",
        ] {
            queries.push(format!("/analytics/{path}{and}"));
        }
    }
    queries.push(format!("/analytics/sessions/{session}"));
    queries
}

async fn answer(api: &TestApi, uri: &str) -> (u16, Option<String>, Value) {
    let answer = api.get(uri).await;
    let body = if uri.contains(".csv") {
        Value::String(answer.text())
    } else {
        answer.json()
    };
    (answer.status.as_u16(), answer.header("x-total-count"), body)
}

async fn assert_same(duck: &TestApi, house: &TestApi, session: &str) {
    let mut compared = 0;
    for uri in queries(session) {
        let expected = answer(duck, &uri).await;
        let actual = answer(house, &uri).await;
        assert_eq!(expected.0, 200, "{uri}: {}", expected.2);
        assert_eq!(actual, expected, "{uri} differs between the stores");
        compared += 1;
    }
    assert!(compared > 150, "{compared}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the ClickHouse cluster: scripts/cluster-test.sh runs it"]
async fn every_endpoint_answers_the_same_on_both_stores() {
    let events = generated();
    let session = events
        .iter()
        .filter(|event| event.event == "offered")
        .nth(100)
        .and_then(|event| event.session_id.clone())
        .expect("a session");
    let (duck, house) = both(&events);
    assert_same(&duck, &house, &session).await;
    // Writes through the API: a late offer that takes over an inferred answer, an outcome
    // that names its offer, one answering the latest open offer, and a re-sent id.
    let writes = json!([
        {"id": "x-offer", "ts": "2025-10-12T08:00:00Z", "event": "offered",
         "session_id": session, "ab_test_bucket": "A", "policy_refs": "[\"PII-01\"]",
         "agent_draft": "your refund is late", "suggestion_used": "Your refund is on its way"},
        {"id": "x-named", "ts": "2025-10-12T08:00:05Z", "event": "accepted",
         "session_id": session, "ab_test_bucket": "A", "offer_id": "x-offer", "latency_ms": 40},
        {"id": "x-late", "ts": "2025-10-12T08:00:09Z", "event": "edited",
         "session_id": session, "ab_test_bucket": "A", "latency_ms": 900},
        {"id": "x-early", "ts": "2025-10-01T00:00:00Z", "event": "offered",
         "session_id": session, "ab_test_bucket": "B"}
    ]);
    for api in [&duck, &house] {
        let answer = api.post_json(writes.clone()).await;
        assert!(answer.status.is_success(), "{}", answer.text());
        let again = api.post_json(writes.clone()).await;
        assert!(again.status.is_success(), "{}", again.text());
    }
    assert_same(&duck, &house, &session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the ClickHouse cluster: scripts/cluster-test.sh runs it"]
async fn copy_moves_a_file_to_the_cluster_and_back_without_doubling() {
    let events = generated();
    let session = events[500].session_id.clone().expect("a session");
    let file_dir = TempDir::new().expect("temp dir");
    let file = open_store(&db_path(&file_dir));
    file.insert(&events).expect("fixture");
    let note = Annotation {
        id: "0193a4f0-0000-7000-8000-000000000001".into(),
        ts: chrono::DateTime::parse_from_rfc3339("2025-10-12T09:30:00Z")
            .expect("instant")
            .to_utc(),
        text: "prompt v3 <b>rolled</b> out".into(),
    };
    file.add_annotation(&note).expect("a note");
    let file: Arc<dyn EventStore> = Arc::new(file);
    let cluster_dir = TempDir::new().expect("temp dir");
    let config = cluster()
        .expect("COACHBOARD_TEST_CLICKHOUSE names the cluster")
        .with_database(&database_for(&db_path(&cluster_dir)))
        .expect("plain name");
    let house: Arc<dyn EventStore> =
        Arc::new(ClickHouseStore::open(config).expect("the cluster opens"));
    // An interrupted copy: the first events only, then the whole copy run again.
    let first_part = TempDir::new().expect("temp dir");
    let part = open_store(&db_path(&first_part));
    part.insert(&events[..3_000]).expect("part");
    let copied = copy(&part, house.as_ref(), 1_000, &mut |_| {}).expect("first part");
    assert_eq!(copied.written, 3_000);
    let mut seen = Vec::new();
    let copied = copy(file.as_ref(), house.as_ref(), 1_000, &mut |done| {
        seen.push(done)
    })
    .expect("the rest");
    assert_eq!((copied.written, copied.present), (9_000, 3_000));
    assert_eq!(seen.last(), Some(&12_000));
    assert_eq!(copied.notes, 1);
    assert_eq!(
        house.annotations(None, None).expect("notes"),
        std::slice::from_ref(&note)
    );
    let again = copy(file.as_ref(), house.as_ref(), 1_000, &mut |_| {}).expect("again");
    assert_eq!((again.written, again.notes), (0, 0), "nothing doubled");
    // And back into a new file: the three stores answer alike.
    let back_dir = TempDir::new().expect("temp dir");
    let back: Arc<dyn EventStore> = Arc::new(open_store(&db_path(&back_dir)));
    let copied = copy(house.as_ref(), back.as_ref(), 5_000, &mut |_| {}).expect("back");
    assert_eq!(copied.written, 12_000);
    assert_eq!(back.annotations(None, None).expect("notes"), [note]);
    let file_api = TestApi::on_store(file_dir, file, Settings::default());
    let house_api = TestApi::on_store(cluster_dir, house, Settings::default());
    let back_api = TestApi::on_store(back_dir, back, Settings::default());
    assert_same(&file_api, &house_api, &session).await;
    assert_same(&file_api, &back_api, &session).await;
}

//! The roll-up never disagrees with a raw query on the same data, before and after writes.

use std::collections::BTreeMap;

use chrono::Duration;
use coachboard_api::analytics::{Aggregate, Engine, Wants};
use coachboard_api::generate::{DemoSpec, generate};
use coachboard_api::store::{EventStore, EventsQuery, GroupRow, PolicyRow, Scope, StoredEvent};
use coachboard_contract::{SortKey, SortOrder};
use serde_json::json;

use crate::common::{TestApi, at};

fn generated(rows: u64) -> Vec<StoredEvent> {
    let spec = DemoSpec {
        rows,
        seed: 9,
        end: at("2025-10-23T12:00:00Z"),
        days: 20,
    };
    let mut events = Vec::new();
    generate(&spec, |event| events.push(event));
    events
}

fn aggregate(engine: &Engine, scope: &Scope, rollup: bool) -> Aggregate {
    let mut aggregate = Aggregate::default();
    let wants = Wants {
        policies: true,
        raw_slot: None,
        buckets: None,
        rollup,
    };
    engine
        .run(scope, wants, &mut aggregate)
        .expect("query runs");
    aggregate
        .groups
        .sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    aggregate
}

fn assert_agree(engine: &Engine, scope: &Scope) {
    let (rolled, raw) = (
        aggregate(engine, scope, true),
        aggregate(engine, scope, false),
    );
    assert_eq!(
        rolled.groups, raw.groups,
        "counts and latency sums for {scope:?}"
    );
    assert_eq!(
        rolled.latency, raw.latency,
        "latency histogram for {scope:?}"
    );
    assert_eq!(rolled.policies, raw.policies, "policy counts for {scope:?}");
    assert!(
        raw.total().count > 0 || scope.from.is_some(),
        "the scope selects rows"
    );
}

fn scopes() -> Vec<Scope> {
    let start = at("2025-10-10T07:23:11Z");
    vec![
        Scope::default(),
        Scope {
            from: Some(start),
            to: Some(start + Duration::hours(50) + Duration::minutes(7)),
            ..Scope::default()
        },
        Scope {
            from: Some(start),
            ..Scope::default()
        },
        Scope {
            to: Some(start),
            bucket: Some("B".into()),
            ..Scope::default()
        },
        Scope {
            event: Some("offered".into()),
            from: Some(at("2025-10-12T00:00:00Z")),
            ..Scope::default()
        },
        Scope {
            from: Some(start),
            to: Some(start + Duration::minutes(20)),
            ..Scope::default()
        },
    ]
}

#[tokio::test]
async fn rollup_and_raw_queries_agree() {
    let api = TestApi::with_events(&generated(30_000));
    for scope in scopes() {
        assert_agree(&api.engine, &scope);
    }
    // Writes go to the roll-up in Rust and to DuckDB: both must still agree.
    let batch: Vec<_> = (0..400)
        .map(|n| {
            let kind = ["offered", "accepted", "edited", "rejected"][n % 4];
            let policies = [vec!["PII-01"], vec!["TONE-02", "PII-01"], vec![]][n % 3].clone();
            json!({
                "id": format!("late-{n}"),
                // Every 50th is among the newest, several at the very same instant.
                "ts": if n % 50 == 0 { "2025-10-23T11:59:59Z".to_owned() } else { format!("2025-10-1{}T{:02}:{:02}:17Z", n % 10, n % 24, n % 60) },
                "event": kind,
                "latency_ms": (n * 37) % 3000,
                "ab_test_bucket": if n % 3 == 0 { "A" } else { "B" },
                "policy_refs": policies,
            })
        })
        .collect();
    assert_eq!(api.post_json(json!(batch)).await.json()["stored"], 400);
    for scope in scopes() {
        assert_agree(&api.engine, &scope);
    }
    // The newest events kept in memory are the ones DuckDB sorts first.
    for offset in [0, 100, 900] {
        let query = coachboard_api::store::EventsQuery {
            scope: Scope::default(),
            sort: coachboard_contract::SortKey::Ts,
            order: coachboard_contract::SortOrder::Desc,
            limit: 100,
            offset,
            after: None,
        };
        let from_memory = api.engine.recent_page(offset, 100).expect("in memory");
        let from_duckdb = api.engine.store().events(&query).expect("query");
        assert_eq!(from_memory, from_duckdb, "page at offset {offset}");
    }
}

/// Every cell of a roll-up (by hour or all time), in a comparable order.
#[allow(clippy::type_complexity)]
fn cells(
    cube: &coachboard_api::rollup::Cube,
    by_hour: bool,
) -> Vec<(
    Option<i64>,
    Option<String>,
    Option<String>,
    u64,
    i64,
    Vec<(u16, u64)>,
    Vec<(String, u64)>,
)> {
    let mut seen = Vec::new();
    let all = coachboard_api::rollup::HourRange {
        start: std::ops::Bound::Unbounded,
        end: std::ops::Bound::Unbounded,
        untimed: true,
    };
    cube.visit(all, None, None, by_hour, |hour, cell| {
        let bins: Vec<(u16, u64)> = cell.latency_bins().collect();
        let mut policies: Vec<(String, u64)> =
            cell.policies().map(|(p, n)| (p.to_owned(), n)).collect();
        policies.sort();
        seen.push((
            hour,
            cell.bucket().map(str::to_owned),
            cell.event().map(str::to_owned),
            cell.count(),
            cell.latency_sum(),
            bins,
            policies,
        ));
    });
    seen.sort();
    seen
}

/// Appends events the way another program would, while the API is down.
fn append_as_another_program(dir: &tempfile::TempDir, events: &[StoredEvent]) {
    let conn = duckdb::Connection::open(crate::common::db_path(dir)).expect("open");
    let mut appender = conn.appender("coach_events").expect("appender");
    for event in events {
        appender
            .append_row(duckdb::params![
                event.id,
                event.ts,
                event.event,
                event.session_id,
                event.agent_draft,
                event.suggestion_used,
                event.policy_refs,
                event.latency_ms,
                event.ab_test_bucket,
                event.offer_id
            ])
            .expect("append");
    }
    appender.flush().expect("flush");
}

/// Start-up reads a large table in chunks of rows: chunked or not, the roll-up is the same.
#[tokio::test]
async fn chunked_start_up_builds_the_same_rollup() {
    use coachboard_api::rollup::Cube;
    let api = TestApi::with_events(&generated(30_000));
    let store = crate::common::open_store_of(&api);
    let whole = Cube::build_in_chunks(&store, 1_000_000).expect("one chunk");
    let chunked = Cube::build_in_chunks(&store, 7_001).expect("five chunks");
    assert!(
        cells(&whole, true) == cells(&chunked, true),
        "hourly cells differ"
    );
    assert!(
        cells(&whole, false) == cells(&chunked, false),
        "all-time cells differ"
    );
    assert_eq!(whole.extent(), chunked.extent());
}

/// The roll-up kept on disk, brought up to date after the API's writes and after rows
/// another program appended, builds exactly the cube that reading every row builds.
#[tokio::test]
async fn the_stored_rollup_builds_the_same_cube_as_every_row() {
    use coachboard_api::rollup::Cube;
    let events = generated(30_000);
    let api = TestApi::with_events(&events[..20_000]);
    // Out of time order, in several writes, partial groups pile up.
    for batch in events[20_000..25_000].chunks(700).rev() {
        api.engine.write(batch.to_vec()).await.expect("write");
        api.json("/analytics/suggestions").await;
    }
    let dir = api.into_dir();
    append_as_another_program(&dir, &events[25_000..]);
    let store = crate::common::open_store(&crate::common::db_path(&dir));
    let extent = store.extent().expect("extent");
    assert_eq!((extent.total, extent.last_row), (30_000, Some(29_999)));
    let mut groups = 0;
    let up_to_date = store
        .stored_rollup(&extent, &mut |_| groups += 1)
        .expect("readable");
    assert!(up_to_date && groups > 0, "up to date with every row");
    let behind = coachboard_api::store::Extent {
        total: 29_999,
        ..extent
    };
    let mut sent = 0;
    let describes_less = store
        .stored_rollup(&behind, &mut |_| sent += 1)
        .expect("readable");
    assert!(!describes_less && sent == 0, "nothing sent for other rows");
    let from_disk = Cube::build(&store).expect("from the stored roll-up");
    let from_rows = Cube::build_in_chunks(&store, 1_000_000).expect("from every row");
    assert!(
        cells(&from_disk, true) == cells(&from_rows, true),
        "hourly cells differ"
    );
    assert!(
        cells(&from_disk, false) == cells(&from_rows, false),
        "all-time cells differ"
    );
    assert_eq!(from_disk.extent(), from_rows.extent());
}

/// The API stopped, `drop` run on its file, and started again.
fn reopened_without(api: TestApi, drop: &str) -> TestApi {
    let dir = api.into_dir();
    {
        let conn = duckdb::Connection::open(crate::common::db_path(&dir)).expect("open");
        conn.execute_batch(drop).expect("drop");
    }
    TestApi::open(dir, coachboard_api::Settings::default())
}

/// Links, suggestion facts and rewrite sizes brought up to date after each write (batches
/// out of time order, so outcomes often arrive before their offers), and after rows another
/// program appended while the API was down, agree exactly with ones derived afresh from the
/// whole table.
#[tokio::test]
async fn derived_links_agree_with_a_rebuild_after_writes_and_restarts() {
    let mut events = generated(12_600);
    // The last rows are appended by another program while the API is down.
    let by_another_program = events.split_off(12_000);
    let api = TestApi::with_events(&[]);
    // Batches of 97 events, every third one sent late: a session's events cross batches.
    let batches: Vec<&[StoredEvent]> = events.chunks(97).collect();
    let (late, on_time): (Vec<_>, Vec<_>) = batches
        .iter()
        .enumerate()
        .partition(|(index, _)| index % 3 == 0);
    for (_, batch) in on_time.into_iter().chain(late) {
        api.engine.write(batch.to_vec()).await.expect("write");
        // A read that needs the derived tables brings them up to date with this batch.
        api.json("/analytics/suggestions").await;
    }
    let endpoints = [
        "/analytics/suggestions?unanswered_after=600",
        "/analytics/policy-outcomes",
        "/analytics/rewrites",
        "/analytics/summary?policy=PII-01",
        "/analytics/timeseries?interval=day&tz=America/New_York&policy=TONE-02\
         &from=2025-10-11T07:31:00Z&to=2025-10-14T19:12:00Z",
        "/analytics/experiment?policy=TONE-02",
        "/analytics/events?policy=PII-01&limit=50",
        "/analytics/summary?q=refund",
        "/analytics/events?q=Sam&limit=50",
        "/analytics/suggestions?q=ORDER",
    ];
    let mut before = Vec::new();
    for endpoint in endpoints {
        before.push(api.json(endpoint).await);
    }
    assert!(
        before[0]["inferred_links"].as_u64().unwrap_or(0) > 100,
        "both kinds of link are exercised: {}",
        before[0]
    );
    // Over all time the suggestion groups answer (over every offer, or per policy); over a
    // range holding every event, the facts do: both the same after the catch-ups'
    // retracted and added groups.
    const EVERYTHING: &str = "from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z";
    for endpoint in [
        "/analytics/suggestions?unanswered_after=600",
        "/analytics/suggestions?bucket=B&event=accepted",
        "/analytics/rewrites",
        "/analytics/rewrites?bucket=A",
        "/analytics/experiment",
        "/analytics/policy-outcomes",
        "/analytics/policy-outcomes?bucket=A",
        // The groups kept per policy: the dashboard's policy click.
        "/analytics/suggestions?policy=PII-01&unanswered_after=600",
        "/analytics/suggestions?policy=TONE-02&bucket=B",
        "/analytics/rewrites?policy=TONE-02",
        "/analytics/experiment?policy=PII-01",
        "/analytics/policy-outcomes?policy=PII-01",
        "/analytics/policy-outcomes?policy=TONE-02&bucket=A",
    ] {
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        assert_eq!(
            api.json(endpoint).await,
            api.json(&format!("{endpoint}{separator}{EVERYTHING}"))
                .await,
            "{endpoint} from the groups and from the facts"
        );
    }
    // Restarted as it is, then with every derived table thrown away.
    let api = TestApi::open(api.into_dir(), coachboard_api::Settings::default());
    for (endpoint, expected) in endpoints.iter().zip(&before) {
        assert_eq!(
            &api.json(endpoint).await,
            expected,
            "{endpoint} after a restart"
        );
    }
    // A file derived before the suggestion groups and the policy hours existed (one missing
    // table of each is enough): both grouped afresh from what they sum.
    let api = reopened_without(
        api,
        "DROP TABLE coachboard_suggestion_groups; DROP TABLE coachboard_policy_hour_refs",
    );
    for (endpoint, expected) in endpoints.iter().zip(&before) {
        assert_eq!(
            &api.json(endpoint).await,
            expected,
            "{endpoint} after the groups were regrouped"
        );
    }
    let api = reopened_without(
        api,
        "DROP TABLE coachboard_links; DROP TABLE coachboard_rewrites;
         DROP TABLE coachboard_derived_state",
    );
    for (endpoint, expected) in endpoints.iter().zip(&before) {
        assert_eq!(
            &api.json(endpoint).await,
            expected,
            "{endpoint} after a rebuild"
        );
    }
    // Another program appends rows while the API is down: at start-up only their sessions
    // are derived again, and the answers are those of a rebuild from scratch.
    let dir = api.into_dir();
    append_as_another_program(&dir, &by_another_program);
    let api = TestApi::open(dir, coachboard_api::Settings::default());
    let mut caught_up = Vec::new();
    for endpoint in endpoints {
        caught_up.push(api.json(endpoint).await);
    }
    assert_ne!(caught_up, before, "the appended rows are in the answers");
    assert_a_rebuild_agrees(api, &endpoints, &caught_up, "caught up at start-up").await;
}

/// Counts, latency sums and bins per (bucket start, event), as a timeseries groups rows.
#[derive(Debug, Default, PartialEq)]
struct PerBucket {
    starts: Vec<i64>,
    rows: std::collections::BTreeMap<(i64, Option<String>), (u64, i64)>,
    bins: std::collections::BTreeMap<(i64, u16), u64>,
}

impl PerBucket {
    fn bucket(&self, slot: Option<i64>) -> i64 {
        let slot = slot.expect("grouped by time");
        let index = self.starts.partition_point(|start| *start <= slot);
        index
            .checked_sub(1)
            .map_or(i64::MIN, |index| self.starts[index])
    }
}

impl coachboard_api::analytics::Accumulate for PerBucket {
    fn rows(
        &mut self,
        slot: Option<i64>,
        key: coachboard_api::analytics::GroupKey<'_>,
        totals: coachboard_api::analytics::Totals,
    ) {
        let bucket = self.bucket(slot);
        let entry = self
            .rows
            .entry((bucket, key.event.map(str::to_owned)))
            .or_default();
        entry.0 += totals.count;
        entry.1 += totals.latency_sum;
    }

    fn latency(
        &mut self,
        slot: Option<i64>,
        _key: coachboard_api::analytics::GroupKey<'_>,
        bin: u16,
        count: u64,
    ) {
        let bucket = self.bucket(slot);
        *self.bins.entry((bucket, bin)).or_default() += count;
    }

    fn policy(&mut self, _slot: Option<i64>, _policy: &str, _count: u64) {}
}

/// Days of a zone with a half-hour (Kolkata) or 45-minute (Kathmandu) offset: the roll-up
/// answers the whole hours inside them and the hours holding their starts are read as rows,
/// which gives what reading every row gives, over all time and over a range that starts and
/// ends inside hours.
#[tokio::test]
async fn buckets_starting_off_the_hour_agree_with_every_row_read() {
    let api = TestApi::with_events(&generated(6_000));
    for (first, width) in [
        ("2025-10-02T18:30:00Z", 1_800),
        ("2025-10-02T18:15:00Z", 900),
    ] {
        let first = at(first).and_utc().timestamp();
        let starts: Vec<i64> = (0..22).map(|day| first + day * 86_400).collect();
        for scope in [
            Scope::default(),
            Scope {
                from: Some(at("2025-10-05T18:40:00Z")),
                to: Some(at("2025-10-15T03:10:00Z")),
                bucket: Some("A".into()),
                ..Scope::default()
            },
        ] {
            let answer = |rollup: bool| {
                let mut sink = PerBucket {
                    starts: starts.clone(),
                    ..PerBucket::default()
                };
                let wants = Wants {
                    policies: false,
                    raw_slot: Some(width),
                    buckets: Some(&starts),
                    rollup,
                };
                api.engine
                    .run(&scope, wants, &mut sink)
                    .expect("query runs");
                sink
            };
            let every_row = answer(false);
            assert!(every_row.rows.len() > 20, "{:?}", every_row.rows.len());
            assert_eq!(answer(true), every_row, "{scope:?}, slots of {width} s");
            // A store that plans its own parts (ClickHouse: its roll-up and the split
            // hours' rows) agrees with its rows read slot by slot.
            let store = api.engine.store();
            let by_store = store
                .aggregate_in_buckets(&scope, width, &starts)
                .expect("bucketed");
            let by_slot = store.aggregate(&scope, Some(width)).expect("slotted");
            assert_eq!(
                in_buckets(by_store, &starts),
                in_buckets(by_slot, &starts),
                "{scope:?}, slots of {width} s"
            );
        }
    }
}

/// Reads that bring the derived tables up to date while a writer goes on (each catch-up
/// between two of its commits, with rows of a session on both sides) leave them as a
/// rebuild from scratch derives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catch_ups_between_concurrent_writes_leave_what_a_rebuild_derives() {
    let events = generated(3_000);
    let api = TestApi::with_events(&[]);
    let writer = {
        let engine = api.engine.clone();
        tokio::spawn(async move {
            for batch in events.chunks(61) {
                engine.write(batch.to_vec()).await.expect("write");
            }
        })
    };
    // Filtered reads bring the derived tables up to date again and again meanwhile.
    let mut catch_ups = 0;
    while !writer.is_finished() {
        api.json("/analytics/summary?policy=PII-01").await;
        catch_ups += 1;
    }
    writer.await.expect("the writer");
    assert!(
        catch_ups > 3,
        "only {catch_ups} reads ran during the writes"
    );
    let endpoints = [
        "/analytics/suggestions?unanswered_after=600",
        "/analytics/summary?policy=PII-01",
        "/analytics/events?policy=TONE-02&limit=50",
        "/analytics/experiment?policy=PII-01",
        "/analytics/summary?q=refund",
    ];
    let mut answers = Vec::new();
    for endpoint in endpoints {
        answers.push(api.json(endpoint).await);
    }
    assert_eq!(
        answers[1]["total_events"].as_u64().map(|n| n > 0),
        Some(true)
    );
    assert_a_rebuild_agrees(api, &endpoints, &answers, "caught up between writes").await;
}

/// Events whose outcomes name an offer of another session, have no session, or come
/// before their offer, beside inferred links and a session written to again.
fn cross_session_events() -> Vec<StoredEvent> {
    let at_minute = |minute: u32| format!("2025-10-01T08:{minute:02}:00Z");
    let offer = |id: &str, minute: u32, session: Option<&str>, policies: &str| StoredEvent {
        session_id: session.map(str::to_owned),
        ..crate::common::event(
            id,
            &at_minute(minute),
            "offered",
            "-",
            "A",
            100,
            policies,
            "Hi",
        )
    };
    let answer = |id: &str, minute: u32, kind: &str, session: Option<&str>, offer: Option<&str>| {
        StoredEvent {
            session_id: session.map(str::to_owned),
            offer_id: offer.map(str::to_owned),
            ..crate::common::event(id, &at_minute(minute), kind, "-", "A", 0, "[]", "Hi")
        }
    };
    vec![
        offer("o1", 1, Some("s1"), r#"["PII-01"]"#),
        // Names an offer of another session.
        answer("a1", 2, "accepted", Some("s2"), Some("o1")),
        // No session, and its offer comes later.
        answer("a2", 3, "edited", None, Some("o2")),
        offer("o2", 4, Some("s3"), r#"["TONE-02"]"#),
        // Its offer comes later, in another session.
        answer("a3", 5, "rejected", Some("s4"), Some("o3")),
        offer("o3", 6, Some("s5"), r#"["PII-01"]"#),
        // An offer without a session, named later.
        offer("o4", 7, None, r#"["PII-01", "TONE-02"]"#),
        answer("a4", 8, "accepted", Some("s6"), Some("o4")),
        // Inferred links beside them, and a session that is written to again.
        offer("o5", 9, Some("s7"), r#"["TONE-02"]"#),
        answer("a5", 10, "rejected", Some("s7"), None),
        offer("o6", 11, Some("s7"), r#"["PII-01"]"#),
        answer("a6", 12, "accepted", Some("s7"), Some("o6")),
        answer("a7", 13, "edited", Some("s1"), None),
        answer("a8", 14, "accepted", None, None),
        // A second answer to an offer of another session, after the first.
        answer("a9", 15, "rejected", Some("s8"), Some("o3")),
    ]
}

const CROSS_SESSION_ENDPOINTS: [&str; 8] = [
    "/analytics/suggestions",
    "/analytics/policy-outcomes",
    "/analytics/summary?policy=PII-01",
    "/analytics/summary?policy=TONE-02",
    "/analytics/events?policy=PII-01&limit=50",
    "/analytics/events?policy=TONE-02&limit=50",
    "/analytics/sessions/s3",
    "/analytics/sessions/s5",
];

/// A fresh API given the cross-session events one at a time, each followed by a read that
/// brings what it derives up to date; with the answers of `CROSS_SESSION_ENDPOINTS`.
async fn cross_session_answers() -> (TestApi, Vec<serde_json::Value>) {
    let api = TestApi::with_events(&[]);
    for event in cross_session_events() {
        api.engine.write(vec![event]).await.expect("write");
        api.json("/analytics/suggestions").await;
    }
    let mut answers = Vec::new();
    for endpoint in CROSS_SESSION_ENDPOINTS {
        answers.push(api.json(endpoint).await);
    }
    (api, answers)
}

/// Outcomes that name an offer of another session, or have no session, or come before
/// their offer, are linked to it whatever the order they arrive in (on every store).
#[tokio::test]
async fn outcomes_named_across_sessions_are_linked() {
    let (_api, answers) = cross_session_answers().await;
    // Every offer but o5 is answered by name; o2, o3 and o4 only from other sessions or
    // none; a7 and a8 answer nothing.
    let outcomes = &answers[0];
    for (field, count) in [
        ("suggestions", 6),
        ("accepted", 3),
        ("edited", 1),
        ("rejected", 2),
    ] {
        assert_eq!(
            outcomes["overall"][field],
            json!(count),
            "{field}: {outcomes}"
        );
    }
    assert_eq!(outcomes["inferred_links"], json!(1), "{outcomes}");
    assert_eq!(outcomes["answered_more_than_once"], json!(1), "{outcomes}");
    let ids = |page: &serde_json::Value| -> Vec<String> {
        let mut ids: Vec<String> = page
            .as_array()
            .expect("a page of events")
            .iter()
            .map(|row| row["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&answers[4]),
        ["a1", "a3", "a4", "a6", "a9", "o1", "o3", "o4", "o6"],
        "PII-01's suggestions and what became of them"
    );
    assert_eq!(
        ids(&answers[5]),
        ["a2", "a4", "a5", "o2", "o4", "o5"],
        "TONE-02's suggestions and what became of them"
    );
}

/// The same events, derived one at a time by catch-ups (which find such outcomes through
/// those recorded as named elsewhere, not through their sessions), give the answers of a
/// rebuild from scratch.
#[tokio::test]
async fn links_across_sessions_agree_with_a_rebuild() {
    let (api, caught_up) = cross_session_answers().await;
    assert_a_rebuild_agrees(
        api,
        &CROSS_SESSION_ENDPOINTS,
        &caught_up,
        "caught up event by event",
    )
    .await;
}

/// Stops `api`, throws its derived state away (so the next start rebuilds every derived
/// table from scratch) and checks that the rebuilt answers of `endpoints` are `expected`.
async fn assert_a_rebuild_agrees(
    api: TestApi,
    endpoints: &[&str],
    expected: &[serde_json::Value],
    how: &str,
) {
    let dir = api.into_dir();
    {
        let conn = duckdb::Connection::open(crate::common::db_path(&dir)).expect("open");
        conn.execute_batch("DROP TABLE coachboard_derived_state")
            .expect("drop");
    }
    let api = TestApi::open(dir, coachboard_api::Settings::default());
    for (endpoint, expected) in endpoints.iter().zip(expected) {
        assert_eq!(
            &api.json(endpoint).await,
            expected,
            "{endpoint}: {how} vs rebuilt"
        );
    }
}

/// The scopes a derived structure is compared in: everything, a bucket over 30 hours, a
/// range that starts and ends within an hour, and one event type.
fn narrowed_scopes() -> Vec<Scope> {
    let start = at("2025-10-12T05:00:00Z");
    vec![
        Scope::default(),
        Scope {
            bucket: Some("B".into()),
            from: Some(start),
            to: Some(start + Duration::hours(30)),
            ..Scope::default()
        },
        Scope {
            from: Some(start + Duration::seconds(1_050)),
            to: Some(start + Duration::hours(52) + Duration::seconds(731)),
            ..Scope::default()
        },
        Scope {
            event: Some("accepted".into()),
            ..Scope::default()
        },
    ]
}

/// Asserts that two scopes get the same answers from `store`: counts per hour, policy
/// counts, the number of events (returned) and an events page at each sort and offset.
fn assert_same_answers(
    store: &dyn EventStore,
    one: &Scope,
    other: &Scope,
    pages: &[(SortKey, u64)],
) -> u64 {
    let groups = |mut rows: Vec<GroupRow>| {
        rows.sort_by(|a, b| {
            (a.slot, &a.bucket, &a.event, a.bin).cmp(&(b.slot, &b.bucket, &b.event, b.bin))
        });
        rows
    };
    let policies = |mut rows: Vec<PolicyRow>| {
        rows.sort_by(|a, b| {
            (a.slot, &a.bucket, &a.event, &a.policy).cmp(&(b.slot, &b.bucket, &b.event, &b.policy))
        });
        rows
    };
    let label = format!("{one:?} and {other:?}");
    for slot in [None, Some(3_600), Some(86_400), Some(900)] {
        assert_eq!(
            groups(store.aggregate(one, slot).expect("aggregate")),
            groups(store.aggregate(other, slot).expect("aggregate")),
            "counts per {slot:?} s: {label}"
        );
    }
    assert_eq!(
        policies(store.policy_counts(one, None).expect("policy counts")),
        policies(store.policy_counts(other, None).expect("policy counts")),
        "policy counts: {label}"
    );
    let count = store.count(one).expect("count");
    assert_eq!(count, store.count(other).expect("count"), "{label}");
    for &(sort, offset) in pages {
        let page = |scope: &Scope| {
            store
                .events(&EventsQuery {
                    scope: scope.clone(),
                    sort,
                    order: SortOrder::Desc,
                    limit: 100,
                    offset,
                    after: None,
                })
                .expect("page")
        };
        assert_eq!(page(one), page(other), "page of {label}");
    }
    count
}

/// (slot, bucket, event)
type GroupKey = (Option<i64>, Option<String>, Option<String>);
/// Counts per (group, latency bin) and latency sums per group.
type Bucketed = (
    BTreeMap<(GroupKey, Option<u16>), u64>,
    BTreeMap<GroupKey, i64>,
);

/// Rows moved to the buckets starting at `starts` (slots before the first stay as they are):
/// counts per latency bin, latency sums per group, as `GroupRow` promises them.
fn in_buckets(rows: Vec<GroupRow>, starts: &[i64]) -> Bucketed {
    let mut counts: BTreeMap<_, u64> = BTreeMap::new();
    let mut sums: BTreeMap<_, i64> = BTreeMap::new();
    for row in rows {
        let slot = row.slot.map(|slot| {
            let index = starts.partition_point(|start| *start <= slot);
            index.checked_sub(1).map_or(slot, |index| starts[index])
        });
        let key = (slot, row.bucket, row.event);
        *counts.entry((key.clone(), row.bin)).or_default() += row.count;
        *sums.entry(key).or_default() += row.latency_sum;
    }
    (counts, sums)
}

/// Rows slotted by hour and moved to their buckets by the store agree with the same rows
/// moved in Rust, for buckets of uneven width (a week at a daylight-saving change), over
/// the events table, the policy rows and the policy hours.
#[tokio::test]
async fn rows_bucketed_by_the_store_agree_with_rows_bucketed_here() {
    let api = TestApi::with_events(&generated(6_000));
    let store = api.engine.store();
    let start = at("2025-10-04T04:00:00Z").and_utc().timestamp();
    // Uneven buckets, every start on an hour; the first starts after some rows.
    let starts: Vec<i64> = [0, 26, 30, 101, 102, 250, 480]
        .iter()
        .map(|hours| start + hours * 3_600)
        .collect();
    let bucketed_here = |rows: Vec<GroupRow>| in_buckets(rows, &starts);
    let policy = |from: &str, to: &str| Scope {
        policy: Some("PII-01".into()),
        from: Some(at(from)),
        to: Some(at(to)),
        ..Scope::default()
    };
    for scope in [
        Scope::default(),
        policy("2025-10-04T03:12:00Z", "2025-10-19T17:40:00Z"),
        Scope {
            bucket: Some("A".into()),
            ..policy("2025-10-01T00:00:00Z", "2025-10-30T00:00:00Z")
        },
        Scope {
            text: Some("refund".into()),
            ..Scope::default()
        },
    ] {
        let by_store = store
            .aggregate_in_buckets(&scope, 3_600, &starts)
            .expect("bucketed");
        let by_hour = store.aggregate(&scope, Some(3_600)).expect("slotted");
        assert!(!by_hour.is_empty(), "{scope:?} selects rows");
        assert_eq!(bucketed_here(by_store), bucketed_here(by_hour), "{scope:?}");
    }
}

/// Pages narrowed by the roll-up (by its hour counts for time-sorted pages, by its latency
/// bins for latency-sorted ones: what lies before the page skipped, the offset shrunk by
/// its rows) are the pages the store gives for the query as asked: at offsets deep into the
/// table and near its ends, in both orders, over ranges on and off the hour, with a bucket
/// or an event type, and after a cursor.
#[tokio::test]
async fn pages_narrowed_by_the_rollup_are_the_pages_asked_for() {
    let api = TestApi::with_events(&generated(6_000));
    let range = |from: &str, to: &str| Scope {
        from: Some(at(from)),
        to: Some(at(to)),
        ..Scope::default()
    };
    let last = api.engine.store().events(&EventsQuery {
        scope: Scope::default(),
        sort: SortKey::Ts,
        order: SortOrder::Desc,
        limit: 1,
        offset: 2_500,
        after: None,
    });
    let cursor = last
        .expect("page")
        .pop()
        .map(|event| (event.ts.naive_utc(), event.id))
        .expect("a row at 2,500");
    for scope in [
        Scope::default(),
        range("2025-10-06T00:00:00Z", "2025-10-18T00:00:00Z"),
        range("2025-10-06T00:20:00Z", "2025-10-18T07:45:00Z"),
        Scope {
            bucket: Some("B".into()),
            ..range("2025-10-05T00:00:00Z", "2025-10-20T00:00:00Z")
        },
        Scope {
            event: Some("offered".into()),
            ..Scope::default()
        },
        // Narrowed by the policy hours instead of the roll-up.
        Scope {
            policy: Some("PII-01".into()),
            ..Scope::default()
        },
        Scope {
            policy: Some("TONE-02".into()),
            bucket: Some("B".into()),
            ..range("2025-10-06T00:20:00Z", "2025-10-18T07:45:00Z")
        },
        // Narrowed by the word index's hours (outcomes through their offers' words).
        Scope {
            text: Some("frustrating".into()),
            ..Scope::default()
        },
        Scope {
            text: Some("Refund".into()),
            ..range("2025-10-06T00:20:00Z", "2025-10-18T07:45:00Z")
        },
    ] {
        let everything = EventsQuery {
            scope: scope.clone(),
            sort: SortKey::Ts,
            order: SortOrder::Desc,
            limit: u32::MAX,
            offset: 0,
            after: None,
        };
        let mut rows = 0;
        api.engine
            .store()
            .export(&everything, &mut |_| {
                rows += 1;
                true
            })
            .expect("export");
        assert_eq!(
            coachboard_api::analytics::count(&api.engine, &scope).expect("count"),
            rows,
            "{scope:?}"
        );
        let pages = [
            (SortKey::Ts, Some(cursor.clone())),
            (SortKey::LatencyMs, None),
        ];
        for ((sort, cursor), order) in pages
            .into_iter()
            .flat_map(|page| [(page.clone(), SortOrder::Desc), (page, SortOrder::Asc)])
        {
            for (offset, after) in [
                (0, None),
                (1, None),
                (777, None),
                (2_950, None),
                (5_990, None),
                (40, cursor.clone()),
            ] {
                let query = EventsQuery {
                    scope: scope.clone(),
                    sort,
                    order,
                    limit: 25,
                    offset,
                    after,
                };
                let page = coachboard_api::analytics::events_page(&api.engine, &query)
                    .expect("page")
                    .events;
                let asked = api.engine.store().events(&query).expect("page");
                assert_eq!(page, asked, "{query:?}");
            }
        }
    }
}

/// A policy filter answered from the policy rows and their hourly groups agrees with the
/// same filter worked out on the events table (each outcome followed to its offer), on
/// generated data written out of order, each batch caught up before the next. Every
/// generated row has a space in its draft, so adding the text filter `" "` sends a query
/// down the direct path without changing which rows match.
#[tokio::test]
async fn policy_rows_agree_with_following_each_outcome_to_its_offer() {
    let events = generated(12_000);
    let api = TestApi::with_events(&events[..8_000]);
    let any_policy = Scope {
        policy: Some("PII-01".into()),
        ..Scope::default()
    };
    for batch in events[8_000..].chunks(500).rev() {
        api.engine.write(batch.to_vec()).await.expect("write");
        // A policy-filtered read catches the derived tables up with this batch.
        api.engine.store().count(&any_policy).expect("count");
    }
    let store = api.engine.store();
    for policy in ["PII-01", "TONE-02", "ACCESS-12", "NOT-A-POLICY"] {
        for narrowed in narrowed_scopes() {
            let fast = Scope {
                policy: Some(policy.into()),
                ..narrowed
            };
            let direct = Scope {
                text: Some(" ".into()),
                ..fast.clone()
            };
            let pages = [
                (SortKey::Ts, 0),
                (SortKey::LatencyMs, 0),
                (SortKey::Ts, 250),
            ];
            let count = assert_same_answers(store, &fast, &direct, &pages);
            assert!(
                count > 0 || policy == "NOT-A-POLICY",
                "{fast:?} selects rows"
            );
        }
    }
}

/// A one-word text filter answered from the word index agrees with the same filter matched
/// on every text (`ILIKE`), on generated data written out of order. Each pair of needles
/// selects the same rows of generated data (the word is always followed by the phrase's
/// punctuation), and the phrase, which is not one word, is matched on the texts.
#[tokio::test]
async fn word_index_agrees_with_matching_every_text() {
    let events = generated(12_000);
    let api = TestApi::with_events(&events[..8_000]);
    let searched = Scope {
        text: Some("refund".into()),
        ..Scope::default()
    };
    for batch in events[8_000..].chunks(500).rev() {
        api.engine.write(batch.to_vec()).await.expect("write");
        // Each batch is derived by a catch-up (a text query needs the index).
        api.engine.store().count(&searched).expect("count");
    }
    let store = api.engine.store();
    for (word, phrase) in [
        ("refund", "refund "),
        ("ORDER", "order #"),
        ("sAm", "sam,"),
        ("riy", "priya,"),
        // Only in suggestions: a rejected outcome (its draft alone) matches through its offer.
        ("fRUSTRATIN", "frustrating this"),
    ] {
        let with_policy = Scope {
            policy: Some("PII-01".into()),
            ..Scope::default()
        };
        for narrowed in narrowed_scopes().into_iter().chain([with_policy]) {
            let indexed = Scope {
                text: Some(word.into()),
                ..narrowed.clone()
            };
            let direct = Scope {
                text: Some(phrase.into()),
                ..narrowed
            };
            let label = format!("{indexed:?}");
            let pages = [(SortKey::Ts, 0), (SortKey::LatencyMs, 250)];
            let count = assert_same_answers(store, &indexed, &direct, &pages);
            assert!(count > 0, "{label} selects rows");
            // The offers, counted here without the index.
            for (scope, needle) in [(&indexed, word), (&direct, phrase)] {
                if scope.policy.is_some() || scope.event.is_some() {
                    continue;
                }
                let offers = Scope {
                    event: Some("offered".into()),
                    ..scope.clone()
                };
                let lowered = needle.to_lowercase();
                let has = |text: &Option<String>| {
                    text.as_deref()
                        .is_some_and(|text| text.to_lowercase().contains(&lowered))
                };
                let expected = events
                    .iter()
                    .filter(|e| e.event == "offered")
                    .filter(|e| has(&e.agent_draft) || has(&e.suggestion_used))
                    .filter(|e| offers.bucket.is_none() || e.ab_test_bucket == offers.bucket)
                    .filter(|e| offers.from.is_none_or(|from| e.ts >= from))
                    .filter(|e| offers.to.is_none_or(|to| e.ts < to))
                    .count() as u64;
                assert_eq!(
                    store.count(&offers).expect("offers"),
                    expected,
                    "offers of {offers:?}"
                );
            }
            // In one order: a cluster returns the groups in any order.
            let cut_off = at("2025-10-20T00:00:00Z");
            let suggestions = |scope: &Scope| {
                let mut rows = store.suggestions(scope, cut_off).expect("suggestions");
                rows.sort_by_key(|row| format!("{row:?}"));
                rows
            };
            assert_eq!(
                suggestions(&indexed),
                suggestions(&direct),
                "suggestions of {label}"
            );
        }
    }
}

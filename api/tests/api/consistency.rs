//! The roll-up never disagrees with a raw query on the same data, before and after writes.

use chrono::Duration;
use coachboard_api::analytics::{Aggregate, Engine, Wants};
use coachboard_api::generate::{DemoSpec, generate};
use coachboard_api::store::{Scope, StoredEvent};
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

/// Start-up reads a large table in chunks of rows: chunked or not, the roll-up is the same.
#[tokio::test]
async fn chunked_start_up_builds_the_same_rollup() {
    use coachboard_api::rollup::{Cube, HourRange};
    use std::ops::Bound;
    let api = TestApi::with_events(&generated(30_000));
    let store = crate::common::open_store_of(&api);
    let cells = |cube: &Cube, by_hour: bool| {
        let mut seen = Vec::new();
        let all = HourRange {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
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
    };
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

/// Links and rewrite sizes kept up to date write by write (batches out of time order, so
/// outcomes often arrive before their offers) agree exactly with ones derived afresh from the
/// whole table.
#[tokio::test]
async fn derived_links_agree_with_a_rebuild_after_writes_and_restarts() {
    let events = generated(12_000);
    let api = TestApi::with_events(&[]);
    // Batches of 97 events, every third one sent late: a session's events cross batches.
    let batches: Vec<&[StoredEvent]> = events.chunks(97).collect();
    let (late, on_time): (Vec<_>, Vec<_>) = batches
        .iter()
        .enumerate()
        .partition(|(index, _)| index % 3 == 0);
    for (_, batch) in on_time.into_iter().chain(late) {
        api.engine.write(batch.to_vec()).expect("write");
    }
    let endpoints = [
        "/analytics/suggestions?unanswered_after=600",
        "/analytics/policy-outcomes",
        "/analytics/rewrites",
        "/analytics/summary?policy=PII-01",
        "/analytics/experiment?policy=TONE-02",
        "/analytics/events?policy=PII-01&limit=50",
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
    // Restarted as it is, then with every derived table thrown away.
    let api = TestApi::open(api.into_dir(), coachboard_api::Settings::default());
    for (endpoint, expected) in endpoints.iter().zip(&before) {
        assert_eq!(
            &api.json(endpoint).await,
            expected,
            "{endpoint} after a restart"
        );
    }
    let dir = api.into_dir();
    {
        let conn = duckdb::Connection::open(crate::common::db_path(&dir)).expect("open");
        conn.execute_batch(
            "DROP TABLE coachboard_links; DROP TABLE coachboard_rewrites;
             DROP TABLE coachboard_derived_state",
        )
        .expect("drop");
    }
    let api = TestApi::open(dir, coachboard_api::Settings::default());
    for (endpoint, expected) in endpoints.iter().zip(&before) {
        assert_eq!(
            &api.json(endpoint).await,
            expected,
            "{endpoint} after a rebuild"
        );
    }
}

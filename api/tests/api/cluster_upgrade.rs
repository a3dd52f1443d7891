//! A cluster database made by an older version of the API, without a table added since,
//! is brought up to date when the API opens it. Needs the cluster (`scripts/cluster-test.sh`
//! runs it), hence ignored in the plain run.

use coachboard_api::Settings;
use coachboard_api::store::ClickHouseConfig;
use serde_json::json;

use crate::common::{TestApi, cluster, database_for, db_path, fixture};

/// Runs one statement as the writer; returns what it answered.
async fn run(config: &ClickHouseConfig, statement: &str) -> String {
    let response = reqwest::Client::new()
        .post(&config.http_url)
        .basic_auth(&config.writer.user, Some(&config.writer.password))
        .body(statement.to_owned())
        .send()
        .await
        .expect("ClickHouse answers");
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "{statement}: {status} {body}");
    body
}

/// Drops `tables` of `database` on every server, in this order.
async fn drop_tables(config: &ClickHouseConfig, database: &str, tables: &[&str]) {
    for table in tables {
        run(
            config,
            &format!(
                "DROP TABLE {database}.{table} ON CLUSTER {}",
                config.cluster
            ),
        )
        .await;
    }
}

/// The roll-up an earlier version kept (a row per hour, bucket, event and latency bin), as
/// it created it.
fn retired_rollup(database: &str, cluster: &str) -> [String; 3] {
    [
        format!(
            "CREATE TABLE {database}.hourly_local ON CLUSTER {cluster} (hour DateTime,
                 has_bucket UInt8, bucket String, event String, bin Int32, n UInt64,
                 latency_sum Int64)
             ENGINE = ReplicatedSummingMergeTree(
                 '/clickhouse/tables/{{shard}}/{database}.hourly_local', '{{replica}}')
             PARTITION BY toYYYYMM(hour) ORDER BY (hour, has_bucket, bucket, event, bin)"
        ),
        format!(
            "CREATE TABLE {database}.hourly ON CLUSTER {cluster} AS {database}.hourly_local
             ENGINE = Distributed({cluster}, {database}, hourly_local, rand())"
        ),
        format!(
            "CREATE MATERIALIZED VIEW {database}.hourly_view ON CLUSTER {cluster}
             TO {database}.hourly_local AS
             SELECT toStartOfHour(ts) AS hour, toUInt8(isNotNull(ab_test_bucket)) AS has_bucket,
                    ifNull(ab_test_bucket, '') AS bucket, event, toInt32(-1) AS bin,
                    toUInt64(1) AS n, toInt64(0) AS latency_sum
             FROM {database}.events_local"
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the ClickHouse cluster: scripts/cluster-test.sh runs it"]
async fn a_database_with_the_retired_rollup_gets_the_new_one_filled_and_the_old_dropped() {
    let config = cluster().expect("COACHBOARD_TEST_CLICKHOUSE names the cluster");
    let api = TestApi::with_events(&fixture());
    let paths = [
        "/analytics/summary",
        "/analytics/latency",
        "/analytics/timeseries?interval=hour",
        "/analytics/events?sort=latency_ms&limit=5",
    ];
    let mut before = Vec::new();
    for path in paths {
        before.push(api.json(path).await);
    }
    let dir = api.into_dir();
    let database = database_for(&db_path(&dir));
    // As a database an earlier version kept: the per-bin roll-up, not the current one.
    drop_tables(
        &config,
        &database,
        &["hourly_bins_view", "hourly_bins", "hourly_bins_local"],
    )
    .await;
    for statement in retired_rollup(&database, &config.cluster) {
        run(&config, &statement).await;
    }
    let api = TestApi::open(dir, Settings::default());
    for (path, before) in paths.iter().zip(&before) {
        assert_eq!(&api.json(path).await, before, "{path}");
    }
    let tables = run(
        &config,
        &format!(
            "SELECT name FROM system.tables WHERE database = '{database}'
             AND name LIKE 'hourly%' AND name NOT LIKE 'hourly_policies%' ORDER BY name"
        ),
    )
    .await;
    assert_eq!(
        tables.lines().collect::<Vec<_>>(),
        ["hourly_bins", "hourly_bins_local", "hourly_bins_view"]
    );
    // The new roll-up follows writes from then on.
    let total = api.total().await;
    api.post_json(json!([{"id": "after-upgrade", "event": "offered", "latency_ms": 7}]))
        .await;
    assert_eq!(api.total().await, total + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the ClickHouse cluster: scripts/cluster-test.sh runs it"]
async fn a_database_without_the_id_table_gets_it_filled_from_its_events() {
    let config = cluster().expect("COACHBOARD_TEST_CLICKHOUSE names the cluster");
    let dir = TestApi::with_events(&fixture()).into_dir();
    let database = database_for(&db_path(&dir));
    // As a database written before the id table existed: events, no ids.
    drop_tables(&config, &database, &["ids_view", "ids", "ids_local"]).await;
    let api = TestApi::open(dir, Settings::default());
    let total = api.total().await;
    // An id stored before the upgrade is still known: a duplicate, counted once.
    let answer = api
        .post_json(json!([
            {"id": "e01", "event": "offered"},
            {"id": "after-upgrade", "event": "offered"}
        ]))
        .await
        .json();
    assert_eq!(
        (answer["stored"].as_u64(), answer["duplicates"].as_u64()),
        (Some(1), Some(1)),
        "{answer}"
    );
    assert_eq!(api.total().await, total + 1);
    let again = api
        .post_json(json!([{"id": "after-upgrade", "event": "offered"}]))
        .await
        .json();
    assert_eq!(again["duplicates"].as_u64(), Some(1), "{again}");
}

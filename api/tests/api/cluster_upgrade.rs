//! A cluster database made by an older version of the API, without a table added since,
//! is brought up to date when the API opens it. Needs the cluster (`scripts/cluster-test.sh`
//! runs it), hence ignored in the plain run.

use coachboard_api::Settings;
use coachboard_api::store::ClickHouseConfig;
use serde_json::json;

use crate::common::{TestApi, cluster, database_for, db_path, fixture};

/// Runs one statement as the writer.
async fn run(config: &ClickHouseConfig, statement: &str) {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the ClickHouse cluster: scripts/cluster-test.sh runs it"]
async fn a_database_without_the_id_table_gets_it_filled_from_its_events() {
    let config = cluster().expect("COACHBOARD_TEST_CLICKHOUSE names the cluster");
    let dir = TestApi::with_events(&fixture()).into_dir();
    let database = database_for(&db_path(&dir));
    // As a database written before the id table existed: events, no ids.
    for table in ["ids_view", "ids", "ids_local"] {
        run(
            &config,
            &format!(
                "DROP TABLE {database}.{table} ON CLUSTER {}",
                config.cluster
            ),
        )
        .await;
    }
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

//! The id index kept beside the database (`<db>.coachboard-ids`): a re-sent id is known after
//! restarts, after another program added or removed rows while the API was down, and when
//! the index beside the file belongs to another database. DuckDB's only (a cluster keeps
//! no index: it asks the store).

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::{TestApi, db_path, event, fixture};

fn run_path(dir: &TempDir) -> std::path::PathBuf {
    dir.path().join("events.duckdb.coachboard-ids")
}

fn open(dir: TempDir) -> TestApi {
    TestApi::open(dir, coachboard_api::Settings::default())
}

/// (stored, duplicates) of posting these ids as offers.
async fn post_ids(api: &TestApi, ids: &[&str]) -> (u64, u64) {
    let batch: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "event": "offered", "session_id": "s-index"}))
        .collect();
    let answer = api.post_json(Value::Array(batch)).await;
    assert_eq!(answer.status.as_u16(), 201, "{}", answer.text());
    let body = answer.json();
    (
        body["stored"].as_u64().unwrap_or(u64::MAX),
        body["duplicates"].as_u64().unwrap_or(u64::MAX),
    )
}

fn reopen(api: TestApi) -> TestApi {
    open(api.into_dir())
}

#[tokio::test]
async fn re_sent_ids_are_known_across_restarts_and_changes_made_while_down() {
    let api = TestApi::with_events(&fixture());
    assert_eq!(post_ids(&api, &["k1", "k2", "k3"]).await, (3, 0));
    let dir = api.into_dir();
    assert!(run_path(&dir).exists(), "the run is written at start-up");
    let api = open(dir);
    assert_eq!(post_ids(&api, &["k1", "k2", "k3"]).await, (0, 3));
    // Written after the run: known from the rows after it at the next start.
    assert_eq!(post_ids(&api, &["k4"]).await, (1, 0));
    let api = reopen(api);
    assert_eq!(post_ids(&api, &["k4", "k1", "k5"]).await, (1, 2));

    // Another program appends a row while the API is down.
    let dir = api.into_dir();
    {
        let conn = duckdb::Connection::open(db_path(&dir)).expect("open");
        conn.execute(
            "INSERT INTO coach_events (id, ts, event) VALUES ('outside', now(), 'offered')",
            [],
        )
        .expect("append");
    }
    let api = open(dir);
    assert_eq!(post_ids(&api, &["outside", "k5"]).await, (0, 2));

    // And removes rows, one of them among those the run covers: it is built again.
    let dir = api.into_dir();
    let first = fixture()[0].id.clone();
    {
        let conn = duckdb::Connection::open(db_path(&dir)).expect("open");
        conn.execute(
            "DELETE FROM coach_events WHERE id IN ('k2', 'outside', ?)",
            [&first],
        )
        .expect("delete");
    }
    let api = open(dir);
    assert_eq!(
        post_ids(&api, &["k2", "k1", "outside", &first, "k5"]).await,
        (3, 2)
    );
    assert_eq!(api.total().await, fixture().len() as u64 + 6);
}

#[tokio::test]
async fn an_index_beside_the_file_that_belongs_to_another_database_is_not_trusted() {
    // Two databases of the same size, so row counts and row ids alike; each start wrote
    // its own index.
    let events = |prefix: &str| {
        (0..20)
            .map(|n| {
                event(
                    &format!("{prefix}{n}"),
                    "2025-10-20T10:00:00Z",
                    "offered",
                    "s",
                    "A",
                    100,
                    "",
                    "hello",
                )
            })
            .collect::<Vec<_>>()
    };
    let ours = TestApi::with_events(&events("ours-")).into_dir();
    let theirs = TestApi::with_events(&events("theirs-")).into_dir();
    std::fs::copy(run_path(&theirs), run_path(&ours)).expect("copy their index over ours");
    let api = open(ours);
    assert_eq!(
        post_ids(&api, &["ours-5", "ours-19", "theirs-5"]).await,
        (1, 2)
    );
    assert_eq!(api.total().await, 21);
}

#[tokio::test]
async fn a_damaged_index_is_rebuilt_and_nothing_is_stored_twice() {
    let api = TestApi::with_events(&fixture());
    assert_eq!(post_ids(&api, &["d1", "d2"]).await, (2, 0));
    let mut dir = reopen(api).into_dir();
    let bytes = std::fs::read(run_path(&dir)).expect("read the run");
    let damages: [&[u8]; 3] = [&bytes[..bytes.len() / 2], b"not an index", b""];
    let mut rebuilt = Vec::new();
    for damaged in damages {
        std::fs::write(run_path(&dir), damaged).expect("damage");
        let api = open(dir);
        assert_eq!(post_ids(&api, &["d1", "d2"]).await, (0, 2));
        dir = api.into_dir();
        // Built again from the same rows: the same index each time.
        let now = std::fs::read(run_path(&dir)).expect("rebuilt");
        assert!(
            now.len() > bytes.len(),
            "the rebuilt index holds d1 and d2 too"
        );
        assert!(rebuilt.is_empty() || rebuilt == now);
        rebuilt = now;
    }
}

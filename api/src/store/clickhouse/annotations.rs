//! Notes pinned to a time on the cluster (`schema::ANNOTATIONS`). 18.16 has no lightweight
//! DELETE, so a note's row is versioned: a deletion writes a version with `deleted = 1`, and
//! reads take each note's latest version (argMax, exact before parts merge).

use chrono::DateTime;
use coachboard_contract::Annotation;
use serde::{Deserialize, Serialize};

use super::schema::ANNOTATIONS;
use super::sql::{Arg, Statement, micros};
use super::{ClickHouseStore, StoreError};

/// Each note's latest version.
const LATEST: &str = "
    SELECT id, argMax(ts_us, version) AS ts_us, argMax(text, version) AS text,
           argMax(deleted, version) AS deleted
    FROM annotations GROUP BY id";

#[derive(Debug, Clone, clickhouse::Row, Serialize, Deserialize)]
pub(crate) struct AnnotationRow {
    pub id: String,
    pub ts_us: i64,
    pub text: String,
    pub deleted: u8,
    pub version: u64,
}

#[derive(Debug, Clone, clickhouse::Row, Deserialize)]
struct Stored {
    id: String,
    ts_us: i64,
    text: String,
}

impl Stored {
    fn annotation(self) -> Option<Annotation> {
        Some(Annotation {
            ts: DateTime::from_timestamp_micros(self.ts_us)?,
            id: self.id,
            text: self.text,
        })
    }
}

fn in_range_statement(from_us: i64, to_us: i64) -> Statement {
    Statement {
        sql: format!(
            "SELECT id, ts_us, text FROM ({LATEST})
             WHERE deleted = 0 AND ts_us >= ? AND ts_us < ?
             ORDER BY ts_us, id"
        ),
        args: vec![Arg::Int(from_us), Arg::Int(to_us)],
    }
}

fn one_statement(id: &str) -> Statement {
    Statement {
        sql: format!("SELECT id, ts_us, text FROM ({LATEST}) WHERE deleted = 0 AND id = ?"),
        args: vec![Arg::Text(id.to_owned())],
    }
}

/// A version number that grows: microseconds since the epoch.
fn next_version() -> u64 {
    chrono::Utc::now().timestamp_micros().max(0) as u64
}

pub(crate) fn in_range(
    store: &ClickHouseStore,
    from: Option<chrono::NaiveDateTime>,
    to: Option<chrono::NaiveDateTime>,
) -> Result<Vec<Annotation>, StoreError> {
    let statement = in_range_statement(from.map_or(i64::MIN, micros), to.map_or(i64::MAX, micros));
    let rows: Vec<Stored> = store.fetch(statement)?;
    Ok(rows.into_iter().filter_map(Stored::annotation).collect())
}

pub(crate) fn insert(store: &ClickHouseStore, annotation: &Annotation) -> Result<(), StoreError> {
    let row = AnnotationRow {
        id: annotation.id.clone(),
        ts_us: annotation.ts.timestamp_micros(),
        text: annotation.text.clone(),
        deleted: 0,
        version: next_version(),
    };
    store.insert_rows(ANNOTATIONS, vec![row])
}

/// True when a note was deleted.
pub(crate) fn delete(store: &ClickHouseStore, id: &str) -> Result<bool, StoreError> {
    let found: Vec<Stored> = store.fetch(one_statement(id))?;
    let Some(note) = found.into_iter().next() else {
        return Ok(false);
    };
    let tombstone = AnnotationRow {
        id: note.id,
        ts_us: note.ts_us,
        text: note.text,
        deleted: 1,
        version: next_version(),
    };
    store.insert_rows(ANNOTATIONS, vec![tombstone])?;
    Ok(true)
}

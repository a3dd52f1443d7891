//! Notes pinned to a time, kept in `coachboard_annotations` beside the events: users' data,
//! not derived (never dropped or rebuilt). Created by the first note, so that a database
//! nobody annotates keeps exactly the tables it had.

use chrono::NaiveDateTime;
use coachboard_contract::Annotation;
use duckdb::{Connection, OptionalExt, params};

use super::sql::timestamp;

const TABLE: &str = "coachboard_annotations";

const CREATE: &str = "
    -- Notes pinned to a time (coachboard-api's /annotations); users' data, keep it.
    CREATE TABLE IF NOT EXISTS coachboard_annotations (
        id         VARCHAR PRIMARY KEY,
        ts         TIMESTAMP NOT NULL,
        text       VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )";

const EXISTS: &str =
    "SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'";

/// Open bounds are `-infinity` and `infinity`, so one statement serves every range.
const IN_RANGE: &str = "
    SELECT id, ts, text FROM coachboard_annotations
    WHERE ts >= coalesce(?, '-infinity'::TIMESTAMP) AND ts < coalesce(?, 'infinity'::TIMESTAMP)
    ORDER BY ts, id";

const INSERT: &str = "INSERT INTO coachboard_annotations (id, ts, text) VALUES (?, ?, ?)";

const DELETE: &str = "DELETE FROM coachboard_annotations WHERE id = ? RETURNING id";

fn exists(conn: &Connection) -> duckdb::Result<bool> {
    conn.query_row(EXISTS, [TABLE], |row| row.get(0))
}

pub(crate) fn in_range(
    conn: &Connection,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> duckdb::Result<Vec<Annotation>> {
    if !exists(conn)? {
        return Ok(Vec::new());
    }
    let mut statement = conn.prepare_cached(IN_RANGE)?;
    let rows = statement.query_map(params![from.map(timestamp), to.map(timestamp)], |row| {
        Ok(Annotation {
            id: row.get(0)?,
            ts: row.get::<_, NaiveDateTime>(1)?.and_utc(),
            text: row.get(2)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn insert(conn: &Connection, annotation: &Annotation) -> duckdb::Result<()> {
    conn.execute_batch(CREATE)?;
    conn.execute(
        INSERT,
        params![
            annotation.id,
            timestamp(annotation.ts.naive_utc()),
            annotation.text
        ],
    )?;
    Ok(())
}

/// True when a note was deleted.
pub(crate) fn delete(conn: &Connection, id: &str) -> duckdb::Result<bool> {
    if !exists(conn)? {
        return Ok(false);
    }
    let deleted: Option<String> = conn.query_row(DELETE, [id], |row| row.get(0)).optional()?;
    Ok(deleted.is_some())
}

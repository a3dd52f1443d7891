//! Builds every derived table afresh, a chunk of sessions at a time, so a table of any size
//! is derived within DuckDB's memory limit: the links of a session, the facts of its offers
//! and the policy rows and answers of its rows depend on that session's rows alone, except
//! for outcomes that name an offer outside their session, which `coachboard_named_elsewhere`
//! records (`links.rs`).
//!
//! A chunk is the sessions whose first row lies in one `ROW_CHUNK` of row ids, with the rows
//! without a session in that range. Its rows are found between its first row id and the
//! last row of its sessions, which DuckDB reads through its row-id zone maps: sessions are
//! short in time, so a chunk reads little more than its own rows (a session that spans the
//! table only makes its chunk read more, never a wrong answer).
//!
//! Three passes: (1) the outcomes named elsewhere, every chunk; (2) each chunk's links and
//! the facts of its offers, both with the outcomes from elsewhere that name them, and the
//! policy rows and answers of its rows; (3) the rows named elsewhere derived again, now that
//! the facts of every offer they may name exist.
//!
//! One case reads differently from a single pass over the whole table, as a catch-up always
//! has: an offer id that another program stored in two sessions, named by an outcome of
//! one of them, is claimed in that session only (the other may then take an inferred
//! answer).

use duckdb::Connection;

use super::derive::{COLUMNS, Commits, laps};
use super::{answers, facts, links, policy_rows};
use crate::store::ROW_CHUNK;

/// Per session: its chunk and last row.
const SPANS: &str = "coachboard_session_spans";

/// One chunk: the sessions whose first row is in `[start, end)`, whose rows all lie in
/// `[start, last_row]`, and the rows of `[start, end)` without a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Chunk {
    number: i64,
    start: i64,
    end: i64,
    last_row: i64,
}

/// Fills the links, facts, policy rows and answers (created and empty) from `source`.
pub(crate) fn derive_all(conn: &Connection, source: &str, commits: Commits) -> duckdb::Result<()> {
    derive_in_chunks(conn, source, ROW_CHUNK, commits)
}

/// `derive_all` with chunks of `rows_per_chunk` row ids.
fn derive_in_chunks(
    conn: &Connection,
    source: &str,
    rows_per_chunk: i64,
    commits: Commits,
) -> duckdb::Result<()> {
    let lap = laps("deriving every session");
    let chunks = plan(conn, source, rows_per_chunk)?;
    lap("sessions spanned");
    // Each chunk's rows are a query, not a table: a table replaced per chunk would keep
    // every version until the rebuild commits, and the rows of a range are cheap to read
    // again.
    commits.chunk_done(conn)?;
    for chunk in &chunks {
        let own = own_rows(source, chunk);
        links::record_named_elsewhere(conn, &own, &own)?;
        commits.chunk_done(conn)?;
    }
    lap("outcomes named elsewhere");
    // Time per step, summed over the chunks, for finding the slow one.
    let mut spent = [std::time::Duration::ZERO; 4];
    for chunk in &chunks {
        let own = own_rows(source, chunk);
        // The outcomes from elsewhere name their offer: they claim it, and take no part in
        // the inference of their own sessions' links.
        let with_named = with_named(source, &own);
        let steps: [&dyn Fn() -> duckdb::Result<()>; 4] = [
            &|| links::add(conn, &with_named),
            &|| facts::add(conn, &with_named),
            &|| policy_rows::add(conn, &own),
            &|| answers::add(conn, &own),
        ];
        for (step, spent) in steps.iter().zip(&mut spent) {
            let started = std::time::Instant::now();
            step()?;
            *spent += started.elapsed();
        }
        commits.chunk_done(conn)?;
    }
    tracing::debug!(
        links_ms = spent[0].as_millis() as u64,
        facts_ms = spent[1].as_millis() as u64,
        policy_rows_ms = spent[2].as_millis() as u64,
        answers_ms = spent[3].as_millis() as u64,
        "time per step over every chunk"
    );
    lap("facts, policy rows, answers");
    // The outcomes named elsewhere were derived with their chunk, perhaps before the offer
    // they name had its facts: derived again, with every fact in place.
    let named = format!(
        "SELECT {COLUMNS} FROM ({source})
         WHERE row_number IN (SELECT row_number FROM {elsewhere})",
        elsewhere = links::ELSEWHERE
    );
    policy_rows::update(conn, &named)?;
    answers::update(conn, &named)?;
    conn.execute_batch(&format!("DROP TABLE {SPANS}"))?;
    lap("named elsewhere");
    Ok(())
}

/// Spans every session (one aggregate, which DuckDB spills to disk when it must; in chunk
/// order, so a chunk's sessions are found through zone maps) and returns the chunks, one per
/// `rows_per_chunk` row ids whether or not a session starts there (its rows without a
/// session are in it).
fn plan(conn: &Connection, source: &str, rows_per_chunk: i64) -> duckdb::Result<Vec<Chunk>> {
    let rows_per_chunk = rows_per_chunk.max(1);
    conn.execute(
        &format!(
            "CREATE OR REPLACE TEMP TABLE {SPANS} AS
             WITH src AS ({source})
             SELECT session_id, min(row_number) // ? AS chunk, max(row_number) AS last_row
             FROM src WHERE session_id IS NOT NULL GROUP BY session_id
             ORDER BY chunk"
        ),
        [rows_per_chunk],
    )?;
    let last_row: Option<i64> = conn.query_row(
        &format!("SELECT max(row_number) FROM ({source})"),
        [],
        |row| row.get(0),
    )?;
    let Some(last_row) = last_row else {
        return Ok(Vec::new());
    };
    let mut chunks: Vec<Chunk> = (0..=last_row / rows_per_chunk)
        .map(|number| {
            let start = number * rows_per_chunk;
            let end = (start + rows_per_chunk).min(last_row + 1);
            Chunk {
                number,
                start,
                end,
                last_row: end - 1,
            }
        })
        .collect();
    let mut statement = conn.prepare(&format!(
        "SELECT chunk, max(last_row) FROM {SPANS} GROUP BY chunk"
    ))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let (number, session_end): (i64, i64) = (row.get(0)?, row.get(1)?);
        if let Some(chunk) = usize::try_from(number)
            .ok()
            .and_then(|index| chunks.get_mut(index))
        {
            chunk.last_row = chunk.last_row.max(session_end);
        }
    }
    Ok(chunks)
}

/// The chunk's rows. (The bounds are the chunk's own numbers, not a user's values.)
fn own_rows(source: &str, chunk: &Chunk) -> String {
    let Chunk {
        number,
        start,
        end,
        last_row,
    } = chunk;
    format!(
        "SELECT {COLUMNS} FROM ({source})
         WHERE row_number >= {start} AND row_number <= {last_row}
           AND (session_id IN (SELECT session_id FROM {SPANS} WHERE chunk = {number})
                OR (session_id IS NULL AND row_number < {end}))"
    )
}

/// The rows of `own` and the outcomes recorded as naming one of its offers from elsewhere
/// (usually none: DuckDB then reads nothing more of the table).
fn with_named(source: &str, own: &str) -> String {
    format!(
        "WITH own AS ({own})
         SELECT * FROM own
         UNION ALL
         SELECT {COLUMNS} FROM ({source})
         WHERE row_number IN (
             SELECT row_number FROM {elsewhere}
             WHERE offer_id IN (SELECT id FROM own WHERE event = 'offered')
         ) AND row_number NOT IN (SELECT row_number FROM own)",
        elsewhere = links::ELSEWHERE
    )
}

#[cfg(test)]
mod tests {
    use super::super::schema::CREATE_TABLE;
    use super::*;
    use duckdb::params;

    const SOURCE: &str = "SELECT id, ts, event, session_id, agent_draft, suggestion_used,
        policy_refs, latency_ms, ab_test_bucket, offer_id, rowid AS row_number
        FROM coach_events";

    /// One event: id, seconds after the start, type, session, policies, offer it names.
    type Row<'a> = (
        &'a str,
        i64,
        &'a str,
        Option<&'a str>,
        &'a str,
        Option<&'a str>,
    );

    fn events_table(rows: &[Row]) -> Connection {
        let conn = Connection::open_in_memory().expect("in-memory DuckDB");
        conn.execute_batch(CREATE_TABLE).expect("table");
        for create in [
            links::CREATE,
            facts::CREATE,
            policy_rows::CREATE,
            answers::CREATE,
        ] {
            conn.execute_batch(create).expect("derived table");
        }
        for &(id, seconds, event, session, policies, offer) in rows {
            conn.execute(
                "INSERT INTO coach_events VALUES (?, TIMESTAMP '2026-11-01' + to_seconds(?),
                 ?, ?, 'draft', 'reply', ?, 40 + ?, 'control', ?)",
                params![id, seconds, event, session, policies, seconds, offer],
            )
            .expect("row");
        }
        conn
    }

    fn sessions_only(sessions: &[Option<&'static str>]) -> Connection {
        let rows: Vec<Row> = sessions
            .iter()
            .enumerate()
            .map(|(n, &session)| ("x", n as i64, "offered", session, "[]", None))
            .collect();
        events_table(&rows)
    }

    /// Every derived table's rows, in one order.
    fn derived(conn: &Connection) -> Vec<String> {
        [
            links::LINKS,
            links::ELSEWHERE,
            facts::FACTS,
            policy_rows::TABLE,
            answers::ANSWERS,
        ]
        .iter()
        .map(|table| {
            conn.query_row(
                &format!(
                    "SELECT coalesce(string_agg(t::VARCHAR, '\n' ORDER BY t::VARCHAR), '')
                     FROM {table} t"
                ),
                [],
                |row| row.get(0),
            )
            .expect("rows")
        })
        .collect()
    }

    #[test]
    fn an_empty_table_has_no_chunks() {
        let conn = sessions_only(&[]);
        assert_eq!(plan(&conn, SOURCE, 2).expect("plan"), Vec::new());
    }

    #[test]
    fn a_chunk_reaches_the_last_row_of_the_sessions_starting_in_it() {
        // Session a starts in chunk 0 and ends at row 3; b starts and ends in chunk 1.
        let conn = sessions_only(&[Some("a"), None, Some("b"), Some("a"), Some("c")]);
        let chunk = |number, start, end, last_row| Chunk {
            number,
            start,
            end,
            last_row,
        };
        assert_eq!(
            plan(&conn, SOURCE, 2).expect("plan"),
            vec![chunk(0, 0, 2, 3), chunk(1, 2, 4, 3), chunk(2, 4, 5, 4)]
        );
    }

    #[test]
    fn small_chunks_derive_what_one_chunk_derives() {
        let pii = r#"["PII-01"]"#;
        let tone = r#"["TONE-02"]"#;
        let both = r#"["PII-01", "TONE-02"]"#;
        let rows: &[Row] = &[
            // s1: two offers, answers inferred; spans into later chunks.
            ("o1", 0, "offered", Some("s1"), pii, None),
            ("o2", 1, "offered", Some("s1"), tone, None),
            ("a1", 2, "accepted", Some("s1"), "[]", None),
            // An offer without a session, answered from s2 and from no session.
            ("o3", 3, "offered", None, pii, None),
            ("o4", 4, "offered", Some("s2"), "[]", None),
            ("a2", 5, "rejected", Some("s2"), "[]", Some("o3")),
            ("a3", 6, "edited", None, "[]", Some("o3")),
            ("a4", 7, "edited", Some("s1"), "[]", None),
            // s3 names an offer of s4, which starts in a later chunk.
            ("a5", 8, "accepted", Some("s3"), tone, Some("o6")),
            ("o5", 9, "offered", Some("s3"), "[]", None),
            ("o6", 10, "offered", Some("s4"), pii, None),
            ("a6", 11, "rejected", Some("s4"), "[]", None),
            ("a7", 12, "accepted", Some("s1"), "[]", Some("o1")),
            ("a8", 13, "rejected", Some("s2"), "[]", None),
            ("a9", 14, "accepted", Some("s3"), "[]", None),
            // Another program stored o1 twice: a7 answers both.
            ("o1", 15, "offered", Some("s1"), both, None),
        ];
        let whole = events_table(rows);
        derive_in_chunks(&whole, SOURCE, 1_000, Commits::Once).expect("one chunk");
        let tables = derived(&whole);
        assert!(
            tables.iter().all(|rows| !rows.is_empty()),
            "every table has rows: {tables:?}"
        );
        let a7: Vec<String> = whole
            .prepare(&format!(
                "SELECT policy FROM {} WHERE id = 'a7' ORDER BY policy",
                policy_rows::TABLE
            ))
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| row.get(0))?
                    .collect::<duckdb::Result<_>>()
            })
            .expect("policy rows");
        assert_eq!(a7, ["PII-01", "TONE-02"], "once per policy of both offers");
        for rows_per_chunk in [1, 2, 3, 5] {
            let chunked = events_table(rows);
            derive_in_chunks(&chunked, SOURCE, rows_per_chunk, Commits::Once).expect("chunks");
            assert_eq!(derived(&chunked), tables, "chunks of {rows_per_chunk}");
        }
    }
}

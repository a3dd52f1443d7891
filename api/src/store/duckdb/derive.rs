//! Keeps the derived tables (links, suggestion facts and their groups, policy rows,
//! answers, the word index, rewrite sizes, roll-up) in step with `coach_events`. They are
//! not written with each event: a write appends its rows and commits (many writers then
//! share one cheap commit), and the derived tables are brought up to date when a query
//! needs them, for every row appended since, in one transaction.
//!
//! `coachboard_derived_state` records the table's row count and largest row id they were
//! derived from. When rows were only appended since (by this API, or by another program
//! while it was down) just the sessions of those rows are derived again; when the table
//! changed otherwise (rows deleted), a quarter of it is new, a derived table is missing or
//! was derived with another layout, all are rebuilt. A crash between a write and its
//! derivation leaves the state behind, never wrong.

use duckdb::{Connection, OptionalExt, params};

use super::schema::TABLE;
use super::{
    answers, facts, links, policy_hours, policy_rows, rebuild, rewrites, rollup, suggestion_groups,
    words,
};
use crate::store::{ROW_CHUNK, row_chunks};

const STATE: &str = "
    -- What coach_events looked like when the derived tables were last brought up to date.
    CREATE TABLE IF NOT EXISTS coachboard_derived_state (
        name     VARCHAR PRIMARY KEY,
        rows     BIGINT NOT NULL,
        last_row BIGINT
    )";

/// The layout of the derived tables: a file whose tables were derived by a build with
/// another layout has them all built afresh.
const LAYOUT: i64 = 9;

/// Per connection: the sessions derived again, and the offers the new rows name that are
/// not among those sessions' rows.
const SCRATCH: &str = "
    CREATE TEMP TABLE IF NOT EXISTS coachboard_touched (session VARCHAR);
    CREATE TEMP TABLE IF NOT EXISTS coachboard_named (id VARCHAR);";
const TOUCHED: &str = "coachboard_touched";
const NAMED: &str = "coachboard_named";
const LOCAL: &str = "coachboard_local";
const PENDING: &str = "coachboard_pending";
const MORE: &str = "coachboard_more_sessions";

/// The columns the derived tables read, as a chunk or a catch-up gathers them.
pub(super) const COLUMNS: &str =
    "id, ts, event, session_id, policy_refs, latency_ms, ab_test_bucket, offer_id, row_number";

/// Every derived table, the state included.
const DERIVED_TABLES: [&str; 11] = [
    "coachboard_derived_state",
    links::LINKS,
    links::ELSEWHERE,
    facts::FACTS,
    rewrites::TABLE,
    rollup::GROUPS,
    rollup::POLICIES,
    policy_rows::TABLE,
    answers::ANSWERS,
    words::WORDS,
    words::VOCABULARY,
];

/// What bringing the derived tables up to date takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    Nothing,
    /// Rows were only appended after this row id (-1: to an empty table).
    Appended {
        after_row: i64,
    },
    /// Build everything afresh.
    Everything,
}

/// True when every one of `tables` exists (one catalog query).
pub(super) fn all_exist(conn: &Connection, tables: &[&str]) -> duckdb::Result<bool> {
    let names = super::sql::placeholders(tables.len());
    let count: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM information_schema.tables
             WHERE table_schema = 'main' AND table_name IN ({names})"
        ),
        duckdb::params_from_iter(tables),
        |row| row.get(0),
    )?;
    Ok(count == tables.len() as i64)
}

pub(crate) fn state(conn: &Connection) -> duckdb::Result<Option<(i64, Option<i64>)>> {
    conn.query_row(
        "SELECT rows, last_row FROM coachboard_derived_state WHERE name = 'links'",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
}

fn current(conn: &Connection) -> duckdb::Result<(i64, Option<i64>)> {
    conn.query_row(
        &format!("SELECT count(*), max(rowid) FROM {TABLE}"),
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
}

fn save_state(conn: &Connection) -> duckdb::Result<()> {
    let (rows, last_row) = current(conn)?;
    conn.execute(
        "INSERT OR REPLACE INTO coachboard_derived_state VALUES ('links', ?, ?)",
        params![rows, last_row],
    )?;
    Ok(())
}

/// What is due. Reads only the catalog, the recorded state and the row ids, so it also
/// runs on a read-only connection.
pub(crate) fn due(conn: &Connection) -> duckdb::Result<Due> {
    if !all_exist(conn, &DERIVED_TABLES)? {
        return Ok(Due::Everything);
    }
    let layout: Option<i64> = conn
        .query_row(
            "SELECT rows FROM coachboard_derived_state WHERE name = 'layout'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    let Some((rows, last_row)) = state(conn)?.filter(|_| layout == Some(LAYOUT)) else {
        return Ok(Due::Everything);
    };
    let now = current(conn)?;
    if now == (rows, last_row) {
        return Ok(Due::Nothing);
    }
    // Only appended: every row counted then is still there, and the rest came after.
    let after_row = last_row.unwrap_or(-1);
    let appended: i64 = conn.query_row(
        &format!("SELECT count(*) FROM {TABLE} WHERE rowid > ?"),
        [after_row],
        |row| row.get(0),
    )?;
    // Catching up walks the new rows' sessions; past a quarter of the table, building
    // everything afresh is faster.
    Ok(if rows + appended == now.0 && appended * 4 <= now.0 {
        Due::Appended { after_row }
    } else {
        Due::Everything
    })
}

/// The grouped tables that are missing unless everything is rebuilt anyway (a file derived
/// before they existed): they are grouped afresh from the tables they sum, before a
/// catch-up, which then keeps them in step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Regroup {
    suggestions: bool,
    policy_hours: bool,
}

impl Regroup {
    fn of(conn: &Connection, due: Due) -> duckdb::Result<Self> {
        if due == Due::Everything {
            return Ok(Self::default());
        }
        Ok(Self {
            suggestions: !all_exist(conn, &suggestion_groups::TABLES)?,
            policy_hours: !all_exist(conn, &policy_hours::TABLES)?,
        })
    }

    fn any(self) -> bool {
        self.suggestions || self.policy_hours
    }

    fn run(self, conn: &Connection) -> duckdb::Result<()> {
        if self.suggestions {
            suggestion_groups::build(conn)?;
        }
        if self.policy_hours {
            policy_hours::build(conn, Commits::Once)?;
        }
        Ok(())
    }
}

/// True when anything derived is behind the table or missing (a read-only connection
/// cannot bring it up to date).
pub(crate) fn behind(conn: &Connection) -> duckdb::Result<bool> {
    let due = due(conn)?;
    Ok(due != Due::Nothing || Regroup::of(conn, due)?.any())
}

/// Tables of partial groups (the roll-up's, the suggestion groups, the policy hours) grow
/// with each catch-up and are folded together once they have doubled: `record_fold` notes a
/// table's size after its fold in the derived state (as `name`), and `grown_since_fold`
/// tells when it has more than twice as many rows again.
pub(super) fn record_fold(conn: &Connection, name: &str, table: &str) -> duckdb::Result<()> {
    conn.execute(
        &format!(
            "INSERT OR REPLACE INTO coachboard_derived_state SELECT ?, count(*), NULL FROM {table}"
        ),
        [name],
    )?;
    Ok(())
}

pub(super) fn grown_since_fold(conn: &Connection, name: &str, table: &str) -> duckdb::Result<bool> {
    let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
        row.get(0)
    })?;
    let folded: Option<i64> = conn
        .query_row(
            "SELECT rows FROM coachboard_derived_state WHERE name = ?",
            [name],
            |row| row.get(0),
        )
        .optional()?;
    Ok(folded.is_none_or(|folded| rows > 2 * folded + 10_000))
}

/// Reads every column of every event, as a rebuild will: on a read-only connection, before
/// anything may write, a damaged block then refuses the file untouched.
pub(crate) fn check_readable(conn: &Connection, source: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "WITH src AS ({source})
         SELECT count(*), sum(length(id)), sum(length(event)), sum(length(session_id)),
                sum(length(agent_draft)), sum(length(suggestion_used)),
                sum(length(policy_refs)), sum(latency_ms), sum(length(ab_test_bucket)),
                sum(length(offer_id)), min(ts), max(row_number)
         FROM src"
    ))
}

/// How a rebuild commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Commits {
    /// In one transaction: while serving, so no reader ever sees half-built tables.
    Once,
    /// Each chunk on its own: at start-up, before anyone reads. One transaction over a large
    /// table holds more than DuckDB's memory limit allows (100M events did not fit in
    /// 256 MB); the state is recorded last, so a crash midway leaves none and the next start
    /// rebuilds.
    PerChunk,
}

impl Commits {
    /// Called between two chunks of a rebuild.
    pub(super) fn chunk_done(self, conn: &Connection) -> duckdb::Result<()> {
        match self {
            Self::Once => Ok(()),
            Self::PerChunk => conn.execute_batch("COMMIT; BEGIN TRANSACTION"),
        }
    }
}

/// Brings every derived table up to date in one transaction of its own (a rebuild, with
/// `Commits::PerChunk`, in one per chunk); returns what was due.
pub(crate) fn bring_up_to_date(
    conn: &Connection,
    source: &str,
    commits: Commits,
) -> duckdb::Result<Due> {
    conn.execute_batch(SCRATCH)?;
    let due = due(conn)?;
    let regroup = Regroup::of(conn, due)?;
    if due == Due::Nothing && !regroup.any() {
        return Ok(due);
    }
    conn.execute_batch("BEGIN TRANSACTION")?;
    let derived = regroup
        .run(conn)
        .and_then(|()| match due {
            Due::Nothing => Ok(()),
            Due::Appended { after_row } => catch_up(conn, source, after_row),
            Due::Everything => rebuild(conn, source, commits),
        })
        .and_then(|()| save_state(conn));
    match derived {
        Ok(()) => conn.execute_batch("COMMIT").map(|()| due),
        Err(error) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

/// Logs (at debug) the time from its creation to each step, for finding slow steps.
pub(super) fn laps(what: &'static str) -> impl Fn(&str) {
    let started = std::time::Instant::now();
    move |step| {
        tracing::debug!(
            step,
            micros = started.elapsed().as_micros() as u64,
            "{what}"
        );
    }
}

/// Runs `each` on every chunk `[start, end)` of `ROW_CHUNK` row ids of `source`: a
/// rebuild's joins then hold one chunk at a time, so a large table stays within DuckDB's
/// memory limit.
fn for_each_row_chunk(
    conn: &Connection,
    source: &str,
    mut each: impl FnMut(i64, i64) -> duckdb::Result<()>,
) -> duckdb::Result<()> {
    let last_row: Option<i64> = conn.query_row(
        &format!("SELECT max(row_number) FROM ({source})"),
        [],
        |row| row.get(0),
    )?;
    for (start, end) in row_chunks(last_row, ROW_CHUNK) {
        each(start, end)?;
    }
    Ok(())
}

/// Adds what each row after `after_row` holds on its own, whatever its session: its words
/// and, for an offer, its rewrite size. A catch-up's new rows are one range; a rebuild's
/// (`after_row` -1) go a chunk of `ROW_CHUNK` at a time, each committed as `commits` says.
fn add_row_own(
    conn: &Connection,
    source: &str,
    after_row: i64,
    commits: Commits,
) -> duckdb::Result<()> {
    let add = |start, end| {
        words::add_range(conn, source, start, end)?;
        rewrites::add_range(conn, source, start, end)
    };
    if after_row >= 0 {
        return add(after_row + 1, i64::MAX);
    }
    for_each_row_chunk(conn, source, |start, end| {
        add(start, end)?;
        commits.chunk_done(conn)
    })
}

/// Drops every derived table (nothing of the old ones is read) and builds them afresh.
fn rebuild(conn: &Connection, source: &str, commits: Commits) -> duckdb::Result<()> {
    for table in DERIVED_TABLES
        .iter()
        .chain(&suggestion_groups::TABLES)
        .chain(&policy_hours::TABLES)
    {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {table}"))?;
    }
    for create in [
        STATE,
        links::CREATE,
        facts::CREATE,
        rewrites::CREATE,
        rollup::CREATE,
        policy_rows::CREATE,
        answers::CREATE,
        words::CREATE,
    ] {
        conn.execute_batch(create)?;
    }
    conn.execute(
        "INSERT INTO coachboard_derived_state VALUES ('layout', ?, NULL)",
        [LAYOUT],
    )?;
    commits.chunk_done(conn)?;
    let lap = laps("rebuilding derived tables");
    rebuild::derive_all(conn, source, commits)?;
    lap("links, suggestion facts, policy rows, answers");
    add_row_own(conn, source, -1, commits)?;
    lap("words, rewrite sizes");
    // After the rewrite sizes: the groups count offers by their size's band.
    suggestion_groups::build(conn)?;
    lap("suggestion groups");
    policy_hours::build(conn, commits)?;
    lap("policy hours");
    rollup::add_rows(conn, source, -1)?;
    lap("roll-up");
    Ok(())
}

/// Derives again what the rows after `after_row` change: the links of their sessions, the
/// facts of those sessions' offers and of the offers the new rows name, the policy rows of
/// all those rows, and the rewrite sizes of the new offers.
///
/// Reads only those sessions' rows (the few columns the derived tables need, gathered once
/// into a temporary table) and the outcomes recorded as naming an offer elsewhere; the
/// derived tables are found by row id. Every lookup by id or session over a whole table is
/// a semi-join whose other side is usually empty (DuckDB then reads nothing): an offer
/// named from another session, or an outcome sent before its offer.
fn catch_up(conn: &Connection, source: &str, after_row: i64) -> duckdb::Result<()> {
    let lap = laps("catching up derived tables");
    const OUTCOME: &str = "event IN ('accepted', 'edited', 'rejected')";
    conn.execute(
        &format!(
            "CREATE OR REPLACE TEMP TABLE {PENDING} AS
             WITH src AS ({source})
             SELECT {COLUMNS} FROM src WHERE row_number > ?"
        ),
        [after_row],
    )?;
    conn.execute_batch(&format!(
        "DELETE FROM {TOUCHED}; DELETE FROM {NAMED};
         INSERT INTO {TOUCHED}
         SELECT DISTINCT session_id FROM {PENDING} WHERE session_id IS NOT NULL;
         CREATE OR REPLACE TEMP TABLE {LOCAL} AS
         WITH src AS ({source})
         SELECT {COLUMNS} FROM src WHERE session_id IN (SELECT session FROM {TOUCHED});
         INSERT INTO {LOCAL} SELECT {COLUMNS} FROM {PENDING} WHERE session_id IS NULL;
         -- The offers the new rows name that are not among their sessions' rows: offers of
         -- other sessions (their sessions are derived again too) or without one.
         INSERT INTO {NAMED}
         SELECT DISTINCT offer_id FROM {PENDING}
         WHERE {OUTCOME} AND offer_id IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM {LOCAL} WHERE {LOCAL}.event = 'offered' AND {LOCAL}.id = {PENDING}.offer_id
         );
         CREATE OR REPLACE TEMP TABLE {MORE} AS
         SELECT DISTINCT session_id AS session FROM {facts}
         WHERE offer_id IN (SELECT id FROM {NAMED}) AND session_id IS NOT NULL
           AND session_id NOT IN (SELECT session FROM {TOUCHED});
         INSERT INTO {TOUCHED} SELECT session FROM {MORE};
         INSERT INTO {LOCAL}
         WITH src AS ({source})
         SELECT {COLUMNS} FROM src WHERE session_id IN (SELECT session FROM {MORE});
         INSERT INTO {LOCAL}
         WITH src AS ({source})
         SELECT {COLUMNS} FROM src
         WHERE session_id IS NULL AND id IN (SELECT id FROM {NAMED})
           AND row_number NOT IN (SELECT row_number FROM {LOCAL});
         DROP TABLE {MORE};",
        facts = facts::FACTS
    ))?;
    // A new outcome that names an offer outside its session is recorded before the
    // outcomes of the gathered offers are looked up, so it is among them.
    links::record_named_elsewhere(
        conn,
        &format!("SELECT * FROM {PENDING}"),
        &format!("SELECT * FROM {LOCAL}"),
    )?;
    conn.execute_batch(&format!(
        "INSERT INTO {LOCAL}
         WITH src AS ({source})
         SELECT {COLUMNS} FROM src
         WHERE row_number IN (
             SELECT row_number FROM {elsewhere}
             WHERE offer_id IN (SELECT id FROM {LOCAL} WHERE event = 'offered')
         ) AND row_number NOT IN (SELECT row_number FROM {LOCAL});",
        elsewhere = links::ELSEWHERE
    ))?;
    lap("rows gathered");
    // The new rows only: their words, and one rewrite size per new offer, as a rebuild
    // (before the groups, which count offers by their size's band).
    add_row_own(conn, source, after_row, Commits::Once)?;
    lap("words, rewrite sizes");
    let input = format!("SELECT * FROM {LOCAL}");
    links::replace(conn, &input, TOUCHED)?;
    lap("links");
    // The groups of the facts replaced are taken back, those of the new facts added.
    suggestion_groups::retract(conn, &input)?;
    facts::update(conn, &input)?;
    suggestion_groups::add(conn, &input)?;
    lap("suggestion facts and groups");
    policy_hours::retract(conn, &input)?;
    policy_rows::update(conn, &input)?;
    policy_hours::add(conn, &input)?;
    lap("policy rows and their hours");
    answers::update(conn, &input)?;
    lap("answers");
    conn.execute_batch(&format!("DROP TABLE {LOCAL}; DROP TABLE {PENDING};"))?;
    rollup::add_rows(conn, source, after_row)?;
    lap("roll-up");
    Ok(())
}

//! Which offer each outcome answers. A link an outcome names itself (`offer_id`) is read from
//! its row; the others are inferred and kept in `coachboard_links`, a table derived from
//! `coach_events` that can be dropped at any time: it is rebuilt whenever the events table
//! differs from the state it was built from (another program wrote while the API was down),
//! and updated in the same transaction as every write, so a crash never leaves it stale.
//!
//! The inference: an outcome without `offer_id` answers the latest earlier offer of its
//! session that has no answer yet. Offers named by some outcome's `offer_id` are answered
//! already and take no inferred answer.

use duckdb::{Connection, OptionalExt, params};

use super::schema::TABLE;
use super::{facts, rewrites};

pub(crate) const LINKS: &str = "coachboard_links";

const CREATE: &str = "
    -- Derived by coachboard-api from coach_events; safe to drop, rebuilt when missing.
    CREATE TABLE IF NOT EXISTS coachboard_links (
        outcome_id   VARCHAR NOT NULL,
        offer_id     VARCHAR NOT NULL,
        link_session VARCHAR NOT NULL
    );
    -- What coach_events looked like when the derived tables were last brought up to date.
    CREATE TABLE IF NOT EXISTS coachboard_derived_state (
        name     VARCHAR PRIMARY KEY,
        rows     BIGINT NOT NULL,
        last_row BIGINT
    );
    CREATE TEMP TABLE IF NOT EXISTS coachboard_touched (session VARCHAR);
    CREATE TEMP TABLE IF NOT EXISTS coachboard_named (id VARCHAR);";

/// Sessions written by the current transaction, whose links are inferred again.
const TOUCHED: &str = "coachboard_touched";
/// Offers the current transaction writes or names: their facts are derived again.
const NAMED: &str = "coachboard_named";

/// The inferred links of the sessions `{sessions}` selects (a condition on `session_id`).
/// Each session's offers and unlinked outcomes are walked in time order as a bracket
/// sequence: an offer opens, an outcome closes the latest open offer. `open_after` is the
/// number of open offers after each step (an outcome with none open changes nothing), so an
/// outcome answers the latest earlier offer left with as many open as it found.
fn inference(source: &str, sessions: &str) -> String {
    format!(
        "WITH src AS ({source}),
         claimed AS (
             SELECT DISTINCT offer_id FROM src
             WHERE offer_id IS NOT NULL AND event IN ('accepted', 'edited', 'rejected')
         ),
         walk AS (
             SELECT id, session_id, ts, row_number,
                    CASE WHEN event = 'offered' THEN 1 ELSE -1 END AS step
             FROM src
             WHERE session_id IS NOT NULL AND ts IS NOT NULL AND id IS NOT NULL AND ({sessions})
               AND ((event = 'offered' AND id NOT IN (SELECT offer_id FROM claimed))
                    OR (event IN ('accepted', 'edited', 'rejected') AND offer_id IS NULL))
         ),
         ordered AS (
             SELECT *, row_number() OVER w AS pos, sum(step) OVER w AS level
             FROM walk
             WINDOW w AS (PARTITION BY session_id ORDER BY ts, step DESC, row_number
                          ROWS UNBOUNDED PRECEDING)
         ),
         clamped AS (
             SELECT *, level - least(0, min(level) OVER w) AS open_after
             FROM ordered
             WINDOW w AS (PARTITION BY session_id ORDER BY pos ROWS UNBOUNDED PRECEDING)
         ),
         steps AS (
             SELECT *, coalesce(lag(open_after) OVER (PARTITION BY session_id ORDER BY pos), 0)
                       AS open_before
             FROM clamped
         ),
         offers AS (SELECT id, session_id, pos, open_after FROM steps WHERE step = 1),
         answers AS (
             SELECT id, session_id, pos, open_before FROM steps
             WHERE step = -1 AND open_before > 0
         )
         SELECT answers.id, offers.id, answers.session_id
         FROM answers ASOF JOIN offers
           ON answers.session_id = offers.session_id
          AND answers.open_before = offers.open_after
          AND answers.pos > offers.pos"
    )
}

fn state(conn: &Connection) -> duckdb::Result<Option<(i64, Option<i64>)>> {
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

fn table_exists(conn: &Connection, name: &str) -> duckdb::Result<bool> {
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM information_schema.tables
         WHERE table_name = ? AND table_schema = 'main'",
        [name],
        |row| row.get(0),
    )?;
    Ok(count > 0)
}

/// True when the derived tables (links, suggestion facts, rewrite sizes) must be built
/// again: one is missing, or `coach_events` is not what they were built from. Reads only
/// the catalog and the recorded state, so it also runs on a read-only connection.
pub(crate) fn rebuild_due(conn: &Connection) -> duckdb::Result<bool> {
    for table in [
        "coachboard_derived_state",
        LINKS,
        facts::FACTS,
        rewrites::TABLE,
    ] {
        if !table_exists(conn, table)? {
            return Ok(true);
        }
    }
    Ok(state(conn)? != Some(current(conn)?))
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

/// Builds every derived table afresh when one is due (dropped first: nothing of the old
/// ones is read). Returns true when it rebuilt them.
pub(crate) fn rebuild_if_due(conn: &Connection, source: &str) -> duckdb::Result<bool> {
    if !rebuild_due(conn)? {
        conn.execute_batch(CREATE)?;
        return Ok(false);
    }
    conn.execute_batch("BEGIN TRANSACTION")?;
    let rebuilt = (|| {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS {LINKS}; DROP TABLE IF EXISTS {};
             DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS coachboard_derived_state;",
            facts::FACTS,
            rewrites::TABLE
        ))?;
        conn.execute_batch(CREATE)?;
        conn.execute_batch(&format!(
            "INSERT INTO {LINKS} {}",
            inference(source, "TRUE")
        ))?;
        facts::rebuild(conn, source)?;
        rewrites::fill(conn, source)?;
        save_state(conn)
    })();
    match rebuilt {
        Ok(()) => conn.execute_batch("COMMIT").map(|()| true),
        Err(error) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

/// Inside the transaction of a write: infers the links of the sessions it touched again,
/// derives the facts of their offers and of the offers it wrote or named, and records the
/// table's new state.
pub(crate) fn update<'a>(
    conn: &Connection,
    source: &str,
    sessions: impl IntoIterator<Item = &'a str>,
    offers: impl IntoIterator<Item = &'a str>,
) -> duckdb::Result<()> {
    conn.execute_batch(CREATE)?;
    conn.execute_batch(&format!("DELETE FROM {TOUCHED}; DELETE FROM {NAMED}"))?;
    let mut any = false;
    {
        let mut appender = conn.appender(TOUCHED)?;
        for session in sessions {
            appender.append_row([session])?;
            any = true;
        }
        appender.flush()?;
        let mut appender = conn.appender(NAMED)?;
        for offer in offers {
            appender.append_row([offer])?;
        }
        appender.flush()?;
    }
    if any {
        let touched = format!("session_id IN (SELECT session FROM {TOUCHED})");
        conn.execute_batch(&format!(
            "DELETE FROM {LINKS} WHERE link_session IN (SELECT session FROM {TOUCHED})"
        ))?;
        conn.execute_batch(&format!(
            "INSERT INTO {LINKS} {}",
            inference(source, &touched)
        ))?;
    }
    facts::update(conn, source, TOUCHED, NAMED)?;
    save_state(conn)
}

/// Every link, given or inferred, as `(outcome_id, offer_id, inferred)` rows for queries
/// whose source CTE is `src`.
pub(crate) const ALL_LINKS: &str = "
    SELECT id AS outcome_id, offer_id, false AS inferred FROM src
    WHERE offer_id IS NOT NULL AND event IN ('accepted', 'edited', 'rejected')
    UNION ALL
    SELECT outcome_id, offer_id, true AS inferred FROM coachboard_links";

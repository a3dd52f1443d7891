//! How much each offer's suggestion rewrote the agent's draft, in percent of words
//! (`coachboard_contract::diff::rewrite_percent`, the dashboard's own diff). A word diff is
//! not SQL, so it is computed once per offer, here in Rust, and kept in
//! `coachboard_rewrites`, a table derived from `coach_events`: written in the same
//! transaction as each new offer, computed afresh with the other derived tables when they
//! are rebuilt, and safe to drop.

use coachboard_contract::diff::rewrite_percent;
use duckdb::{Connection, params};

use crate::store::StoredEvent;

const CREATE: &str = "
    -- Derived by coachboard-api from coach_events; safe to drop, rebuilt when missing.
    CREATE TABLE IF NOT EXISTS coachboard_rewrites (
        offer_id    VARCHAR NOT NULL,
        rewrite_pct DOUBLE NOT NULL
    )";

pub(crate) const TABLE: &str = "coachboard_rewrites";

/// Offers with both texts.
fn offers(source: &str) -> String {
    format!(
        "WITH src AS ({source})
         SELECT id, agent_draft, suggestion_used FROM src
         WHERE event = 'offered' AND id IS NOT NULL
           AND agent_draft IS NOT NULL AND suggestion_used IS NOT NULL"
    )
}

/// Computes the rewrite size of every offer into an empty table (inside the caller's
/// transaction, during a rebuild of the derived tables).
pub(crate) fn fill(conn: &Connection, source: &str) -> duckdb::Result<()> {
    conn.execute_batch(CREATE)?;
    let mut statement = conn.prepare(&offers(source))?;
    let mut rows = statement.query([])?;
    let mut appender = conn.appender(TABLE)?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let draft: String = row.get(1)?;
        let suggestion: String = row.get(2)?;
        if let Some(percent) = rewrite_percent(&draft, &suggestion) {
            appender.append_row(params![id, percent])?;
        }
    }
    appender.flush()
}

/// The rewrite sizes of a batch's offers, computed before the write takes the writer.
pub(crate) fn sizes(events: &[StoredEvent]) -> Vec<(&str, f64)> {
    events
        .iter()
        .filter(|event| event.event == "offered")
        .filter_map(|event| {
            let draft = event.agent_draft.as_deref()?;
            let suggestion = event.suggestion_used.as_deref()?;
            Some((event.id.as_str(), rewrite_percent(draft, suggestion)?))
        })
        .collect()
}

/// Inside the transaction of a write: the rewrite sizes of its offers.
pub(crate) fn record(conn: &Connection, sizes: &[(&str, f64)]) -> duckdb::Result<()> {
    if sizes.is_empty() {
        return Ok(());
    }
    let mut appender = conn.appender(TABLE)?;
    for (id, percent) in sizes {
        appender.append_row(params![*id, *percent])?;
    }
    appender.flush()
}

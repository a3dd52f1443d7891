//! How much each offer's suggestion rewrote the agent's draft, in percent of words
//! (`coachboard_contract::diff::rewrite_percent`, the dashboard's own diff). A word diff is
//! not SQL, so it is computed once per offer, here in Rust, and kept in
//! `coachboard_rewrites` by the offer's row id (a join of numbers with the facts' `offer_row`,
//! not of id strings), a table derived from `coach_events` and kept in step with it
//! (`derive.rs`); safe to drop. Over all time the suggestion groups answer instead: at 100M
//! events the join of every offer with its size took 50 s.

use coachboard_contract::diff::rewrite_percent;
use duckdb::{Connection, params};

pub(crate) const CREATE: &str = "
    -- Derived by coachboard-api from coach_events; safe to drop, rebuilt when missing.
    CREATE TABLE IF NOT EXISTS coachboard_rewrites (
        offer_row   BIGINT NOT NULL,
        rewrite_pct DOUBLE NOT NULL
    )";

pub(crate) const TABLE: &str = "coachboard_rewrites";

/// The ten-point band a rewrite size falls in (0 to 9, 100% in the last), from
/// this table's `rewrite_pct`; NULL without a size (least() skips NULLs in DuckDB).
pub(crate) const BAND: &str = "CASE WHEN rewrite_pct IS NOT NULL
         THEN CAST(least(floor(rewrite_pct / 10), 9) AS INTEGER) END";

/// Offers with both texts among the rows with ids in `[start, end)`.
fn offers(source: &str) -> String {
    format!(
        "WITH src AS ({source})
         SELECT row_number, agent_draft, suggestion_used FROM src
         WHERE event = 'offered' AND id IS NOT NULL AND row_number >= ? AND row_number < ?
           AND agent_draft IS NOT NULL AND suggestion_used IS NOT NULL"
    )
}

/// The rewrite sizes of the offers with row ids in `[start, end)`. The word diffs are the
/// costly part: each chunk of offers is split over the cores.
pub(crate) fn add_range(
    conn: &Connection,
    source: &str,
    start: i64,
    end: i64,
) -> duckdb::Result<()> {
    const CHUNK: usize = 20_000;
    let mut statement = conn.prepare(&offers(source))?;
    let mut rows = statement.query([start, end])?;
    let mut appender = conn.appender(TABLE)?;
    let mut chunk: Vec<(i64, String, String)> = Vec::with_capacity(CHUNK);
    loop {
        let row = rows.next()?;
        if let Some(row) = row {
            chunk.push((row.get(0)?, row.get(1)?, row.get(2)?));
            if chunk.len() < CHUNK {
                continue;
            }
        }
        for (row, percent) in sizes(&chunk) {
            appender.append_row(params![row, percent])?;
        }
        chunk.clear();
        if row.is_none() {
            break;
        }
    }
    appender.flush()
}

/// The rewrite size of each (row id, draft, suggestion) that has one, computed in parallel.
fn sizes(offers: &[(i64, String, String)]) -> Vec<(i64, f64)> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_worker = offers.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = offers
            .chunks(per_worker)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|(row, draft, suggestion)| {
                            Some((*row, rewrite_percent(draft, suggestion)?))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            // A worker's panic is a bug: raised again here, never a silently missing row.
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

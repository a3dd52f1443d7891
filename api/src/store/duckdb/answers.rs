//! Which offer row each outcome row answers, in `coachboard_answers`: the offer it names
//! (`offer_id`) or the one inferred for it (`links.rs`), by row id. A filter on what an
//! offer says (its text, its policies) selects the outcomes of the offers it matches; with
//! this table that is a join of row ids instead of offer ids against every outcome's
//! `offer_id` and every link. Derived from `coach_events` and kept in step with it
//! (`derive.rs`), in outcome row order so a catch-up finds a few sessions' rows by row id.

use duckdb::Connection;

use super::facts::FACTS;
use super::links::LINKS;
use super::sql::hour_of;

pub(crate) const ANSWERS: &str = "coachboard_answers";

pub(crate) const CREATE: &str = "
    -- Derived by coachboard-api from coach_events; safe to drop, rebuilt when missing.
    CREATE TABLE IF NOT EXISTS coachboard_answers (
        outcome_row  BIGINT NOT NULL,
        offer_row    BIGINT NOT NULL,
        -- The outcome's UTC hour (seconds since the epoch), NULL without a time: a text
        -- filter counts the outcomes of the offers it matches per hour from here.
        outcome_hour BIGINT
    )";

/// The outcomes answering the offers among `offer_rows` (a query of row numbers).
pub(crate) fn outcomes_of(offer_rows: &str) -> String {
    format!("SELECT outcome_row FROM {ANSWERS} WHERE offer_row IN ({offer_rows})")
}

/// The answers of the outcomes of `input` (rows shaped like the source): each outcome's
/// offer, named or inferred, joined to every offered row with that id through the
/// suggestion facts, which must be up to date. The offers among `input` are its own rows;
/// only the others are looked up by id (usually none: DuckDB then reads nothing for them).
fn rows(input: &str) -> String {
    format!(
        "WITH src AS ({input}),
         inferred AS (
             SELECT outcome_row, offer_id FROM {LINKS}
             WHERE outcome_row IN (SELECT row_number FROM src)
         ),
         answered AS (
             SELECT src.row_number, {hour} AS hour,
                    coalesce(src.offer_id, inferred.offer_id) AS suggestion
             FROM src LEFT JOIN inferred
               ON inferred.outcome_row = src.row_number AND src.offer_id IS NULL
             WHERE src.event IN ('accepted', 'edited', 'rejected')
         ),
         own AS (SELECT id, row_number FROM src WHERE event = 'offered' AND id IS NOT NULL),
         offers AS (
             SELECT id AS offer_id, row_number AS offer_row FROM own
             UNION ALL
             SELECT offer_id, offer_row FROM {FACTS}
             WHERE offer_id IN (
                 SELECT suggestion FROM answered WHERE suggestion NOT IN (SELECT id FROM own)
             )
         )
         SELECT DISTINCT answered.row_number AS outcome_row, offers.offer_row, answered.hour
         FROM answered JOIN offers ON offers.offer_id = answered.suggestion",
        hour = hour_of("src.ts"),
    )
}

/// Adds the rows derived from `input` (a rebuild's chunk: rows shaped like the source),
/// inside the caller's transaction, after the facts of the offers they answer.
pub(crate) fn add(conn: &Connection, input: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "INSERT INTO {ANSWERS} SELECT * FROM ({}) ORDER BY outcome_row",
        rows(input)
    ))
}

/// Derives again the answers of the outcomes of `input` (the rows a catch-up gathered),
/// inside the caller's transaction, after the facts.
pub(crate) fn update(conn: &Connection, input: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "DELETE FROM {ANSWERS} WHERE outcome_row IN (SELECT row_number FROM ({input}));
         INSERT INTO {ANSWERS} SELECT * FROM ({}) ORDER BY outcome_row",
        rows(input)
    ))
}

//! Which offer each outcome answers. A link an outcome names itself (`offer_id`) is read from
//! its row; the others are inferred and kept in `coachboard_links`, a table derived from
//! `coach_events` that can be dropped at any time (`derive.rs` keeps it in step).
//!
//! The inference: an outcome without `offer_id` answers the latest earlier offer of its
//! session that has no answer yet. Offers named by some outcome's `offer_id` are answered
//! already and take no inferred answer.

use duckdb::Connection;

pub(crate) const LINKS: &str = "coachboard_links";
pub(crate) const ELSEWHERE: &str = "coachboard_named_elsewhere";

/// Both tables are kept in row order (`outcome_row`, `row_number`: the outcome's row id),
/// so DuckDB's zone maps let a catch-up find the rows of a few sessions without reading
/// the rest.
pub(crate) const CREATE: &str = "
    -- Derived by coachboard-api from coach_events; safe to drop, rebuilt when missing.
    CREATE TABLE IF NOT EXISTS coachboard_links (
        outcome_id   VARCHAR NOT NULL,
        offer_id     VARCHAR NOT NULL,
        link_session VARCHAR NOT NULL,
        outcome_row  BIGINT NOT NULL
    );
    -- Outcomes that name an offer which was not in their own session when they were
    -- derived (or that have no session): the only answers a session's rows do not hold.
    CREATE TABLE IF NOT EXISTS coachboard_named_elsewhere (
        offer_id   VARCHAR NOT NULL,
        row_number BIGINT NOT NULL
    );";

/// Adds the inferred links of `input` (a rebuild's chunk: rows shaped like the source,
/// holding every row of their sessions and every outcome that names one of their offers
/// from elsewhere).
pub(crate) fn add(conn: &Connection, input: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "INSERT INTO {LINKS} SELECT * FROM ({}) ORDER BY outcome_row",
        inference(input, "TRUE")
    ))
}

/// Replaces the inferred links of the sessions in `touched` (a table of `session`),
/// inferring them from `input` (rows shaped like the source, holding every row of those
/// sessions and every outcome that names one of their offers). An inferred link joins an
/// outcome to an offer of its own session, so the links to replace are those of `input`'s
/// outcomes.
pub(crate) fn replace(conn: &Connection, input: &str, touched: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "DELETE FROM {LINKS} WHERE outcome_row IN (SELECT row_number FROM ({input}));
         INSERT INTO {LINKS} {}",
        inference(
            input,
            &format!("session_id IN (SELECT session FROM {touched})")
        )
    ))
}

/// Records which of the outcomes of `new` (rows shaped like the source) name an offer
/// that is not among `local`'s offers of their session (`local` holds every row of their
/// sessions).
pub(crate) fn record_named_elsewhere(
    conn: &Connection,
    new: &str,
    local: &str,
) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "INSERT INTO {ELSEWHERE} {} ORDER BY row_number",
        named_elsewhere(new, local)
    ))
}

/// The outcomes of `outcomes` whose named offer is not an offered row of `offers` in the
/// same session, as `(offer_id, row_number)`.
fn named_elsewhere(outcomes: &str, offers: &str) -> String {
    format!(
        "SELECT answer.offer_id, answer.row_number FROM ({outcomes}) answer
         WHERE answer.offer_id IS NOT NULL AND answer.event IN ('accepted', 'edited', 'rejected')
           AND NOT EXISTS (
               SELECT 1 FROM ({offers}) offer
               WHERE offer.event = 'offered' AND offer.id = answer.offer_id
                 AND offer.session_id = answer.session_id
           )"
    )
}

/// The inferred links of the sessions `{sessions}` selects (a condition on `session_id`).
/// Each session's offers and unlinked outcomes are walked in time order as a bracket
/// sequence: an offer opens, an outcome closes the latest open offer. `open_after` is the
/// number of open offers after each step (an outcome with none open changes nothing), so an
/// outcome answers the latest earlier offer left with as many open as it found.
fn inference(input: &str, sessions: &str) -> String {
    format!(
        "WITH src AS ({input}),
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
             SELECT id, session_id, pos, open_before, row_number FROM steps
             WHERE step = -1 AND open_before > 0
         )
         SELECT answers.id, offers.id, answers.session_id, answers.row_number AS outcome_row
         FROM answers ASOF JOIN offers
           ON answers.session_id = offers.session_id
          AND answers.open_before = offers.open_after
          AND answers.pos > offers.pos"
    )
}

/// Every link, given or inferred, as `(outcome_id, offer_id, inferred)` rows for queries
/// whose source CTE is `src`.
pub(crate) const ALL_LINKS: &str = "
    SELECT id AS outcome_id, offer_id, false AS inferred FROM src
    WHERE offer_id IS NOT NULL AND event IN ('accepted', 'edited', 'rejected')
    UNION ALL
    SELECT outcome_id, offer_id, true AS inferred FROM coachboard_links";

/// The links, given or inferred, of the outcomes in `src` alone (as `ALL_LINKS`): what a
/// catch-up, whose `src` holds every outcome it derives, reads instead of every link.
pub(crate) const SOURCE_LINKS: &str = "
    SELECT id AS outcome_id, offer_id, false AS inferred FROM src
    WHERE offer_id IS NOT NULL AND event IN ('accepted', 'edited', 'rejected')
    UNION ALL
    SELECT outcome_id, offer_id, true AS inferred FROM coachboard_links
    WHERE outcome_row IN (SELECT row_number FROM src)";

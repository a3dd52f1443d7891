//! The rows a policy filter selects, kept ready: one row per (event, policy of its
//! suggestion) in `coachboard_policy_rows`, with the few columns the analytics read. A
//! policy filter follows outcomes to their offers (an outcome is in scope when its offer
//! references the policy), which is a join per query on the events table; here that join
//! is done once, when the rows are derived (`derive.rs`), and a policy-filtered query
//! reads only this narrow table with `policy = ?`.

use duckdb::Connection;

use super::facts::FACTS;
use super::links::LINKS;
use super::sql::{EXPONENT, LATENCY_BIN, POLICY_LIST};
use crate::histogram::MAX_LATENCY_MS;

pub(crate) const TABLE: &str = "coachboard_policy_rows";

pub(crate) const CREATE: &str = "
    -- Derived by coachboard-api from coach_events; safe to drop, rebuilt when missing.
    CREATE TABLE IF NOT EXISTS coachboard_policy_rows (
        policy         VARCHAR NOT NULL,
        row_number     BIGINT NOT NULL,
        id             VARCHAR,
        ts             TIMESTAMP,
        event          VARCHAR,
        session_id     VARCHAR,
        policy_refs    VARCHAR,
        latency_ms     BIGINT,
        ab_test_bucket VARCHAR,
        -- The positive latency as the aggregates count it, and its histogram bin: worked
        -- out once here instead of for every row of every policy-filtered query.
        lat            BIGINT,
        bin            INTEGER,
        -- The row's own policy references, parsed as the note counts them.
        refs           VARCHAR[]
    )";

/// The columns of the table, in the source's names: a source for queries whose only
/// filter through offers is a policy (`policy = ?` then selects the rows). Each chunk of a
/// rebuild is written in policy order, so DuckDB's zone maps skip the row groups of other
/// policies.
pub(crate) const SOURCE: &str = "SELECT policy, id, ts, event, session_id, policy_refs,
        latency_ms, ab_test_bucket, row_number, lat, bin, refs FROM coachboard_policy_rows";

/// The policy rows of every row of `input` (rows shaped like the source). An offer's
/// policies are its own; an outcome's are its own and those of the offer it answers (named
/// or inferred), read from the suggestion facts, which must be up to date.
fn rows(input: &str) -> String {
    format!(
        "WITH src AS ({input}),
         inferred AS (
             SELECT outcome_row, offer_id FROM {LINKS}
             WHERE outcome_row IN (SELECT row_number FROM src)
         ),
         answered AS (
             SELECT src.*,
                    CASE WHEN src.event = 'offered' THEN src.id
                         WHEN src.event IN ('accepted', 'edited', 'rejected')
                         THEN coalesce(src.offer_id, inferred.offer_id) END AS suggestion
             FROM src LEFT JOIN inferred
               ON inferred.outcome_row = src.row_number AND src.offer_id IS NULL
         ),
         -- Only the offers these rows answer: the join then holds no more than them. The
         -- offers among these rows are found by row id (the facts are in row order); only
         -- those answered from elsewhere are looked up by id (usually none: then DuckDB
         -- does not read the facts for them at all).
         own AS (SELECT id, row_number FROM src WHERE event = 'offered' AND id IS NOT NULL),
         -- One row per offer id, even if another program stored an offer id twice: each
         -- row then joins one offer, and its policies are distinct.
         offers AS (
             SELECT offer_id, flatten(list(policies)) AS policies FROM (
                 SELECT offer_id, policies FROM {FACTS}
                 WHERE len(policies) > 0 AND offer_row IN (SELECT row_number FROM own)
                 UNION ALL
                 SELECT offer_id, policies FROM {FACTS}
                 WHERE len(policies) > 0 AND offer_id IN (
                     SELECT suggestion FROM answered
                     WHERE event <> 'offered' AND suggestion NOT IN (SELECT id FROM own)
                 )
             ) GROUP BY offer_id
         ),
         listed AS (
             SELECT *, list_distinct(list_concat(coalesce(refs, []),
                                                 coalesce(suggested, []))) AS policies
             FROM (
                 SELECT answered.*, {POLICY_LIST} AS refs, offers.policies AS suggested
                 FROM answered LEFT JOIN offers ON offers.offer_id = answered.suggestion
             )
         ),
         per_policy AS (
             SELECT unnest(policies) AS policy, row_number, id, ts, event, session_id,
                    policy_refs, latency_ms, ab_test_bucket, refs,
                    CASE WHEN latency_ms > 0 THEN least(latency_ms, {MAX_LATENCY_MS}) END AS lat
             FROM listed WHERE len(policies) > 0
         ),
         binned AS (SELECT *, floor(log2(lat))::BIGINT AS e0 FROM per_policy),
         exact AS (SELECT *, {EXPONENT} AS e FROM binned)
         SELECT policy, row_number, id, ts, event, session_id, policy_refs, latency_ms,
                ab_test_bucket, lat, {LATENCY_BIN} AS bin, refs
         FROM exact"
    )
}

/// Adds the rows derived from `input` (a rebuild's chunk: rows shaped like the source),
/// inside the caller's transaction, after the facts of the offers they answer.
pub(crate) fn add(conn: &Connection, input: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "INSERT INTO {TABLE} SELECT * FROM ({}) ORDER BY policy, row_number",
        rows(input)
    ))
}

/// Derives again the rows of `input` (the rows a catch-up gathered: every row whose
/// suggestion may have changed), inside the caller's transaction, after the facts.
pub(crate) fn update(conn: &Connection, input: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "DELETE FROM {TABLE} WHERE row_number IN (SELECT row_number FROM ({input}));
         INSERT INTO {TABLE} {}",
        rows(input)
    ))
}

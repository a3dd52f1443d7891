//! One row per suggestion (offer) with what became of it, in `coachboard_suggestions`: the
//! offer's time, bucket and session, its first answer (type, time, how it was linked), how
//! many answers it had, the decision time and the policies it references. Derived from
//! `coach_events` and the links, kept in step with them (`derive.rs`), so the suggestion
//! answers read a narrow table instead of pairing every offer with its outcomes per query.
//! Rows are derived after their commit, so `offer_row` (the offer's row id) is final; the
//! table is kept in its order, so a catch-up finds a few sessions' offers by row id
//! through DuckDB's zone maps instead of reading every offer id.

use duckdb::Connection;

use super::links::SOURCE_LINKS;
use super::sql::{EXPONENT, LATENCY_BIN, POLICY_LIST};
use crate::histogram::MAX_LATENCY_MS;

pub(crate) const FACTS: &str = "coachboard_suggestions";

pub(crate) const CREATE: &str = "
    -- Derived by coachboard-api from coach_events; safe to drop, rebuilt when missing.
    CREATE TABLE IF NOT EXISTS coachboard_suggestions (
        offer_id       VARCHAR NOT NULL,
        ts             TIMESTAMP,
        ab_test_bucket VARCHAR,
        session_id     VARCHAR,
        outcome        VARCHAR,
        inferred       BOOLEAN NOT NULL,
        answers        BIGINT NOT NULL,
        decision_bin   INTEGER,
        touches_policy BOOLEAN NOT NULL,
        policies       VARCHAR[],
        offer_row      BIGINT NOT NULL
    )";

/// The facts of every offer of `input` (rows shaped like the source holding those offers
/// and every outcome linked to them), in row order.
fn facts(input: &str) -> String {
    format!(
        "WITH src AS ({input}),
         offers AS (
             SELECT id, ts, ab_test_bucket, session_id, policy_refs, row_number FROM src
             WHERE event = 'offered' AND id IS NOT NULL
         ),
         links AS ({SOURCE_LINKS}),
         answers AS (
             SELECT links.offer_id, links.inferred, answer.event AS outcome, answer.ts,
                    row_number() OVER (PARTITION BY links.offer_id ORDER BY answer.ts, answer.id)
                        AS nth,
                    count(*) OVER (PARTITION BY links.offer_id) AS answers
             FROM links JOIN src answer ON answer.id = links.outcome_id
             WHERE links.offer_id IN (SELECT id FROM offers)
         ),
         first AS (SELECT * FROM answers WHERE nth = 1),
         decided AS (
             SELECT offers.*, first.outcome, coalesce(first.inferred, false) AS inferred,
                    coalesce(first.answers, 0) AS answers,
                    CASE WHEN first.ts > offers.ts
                         THEN least(epoch_ms(first.ts) - epoch_ms(offers.ts), {MAX_LATENCY_MS})
                    END AS lat
             FROM offers LEFT JOIN first ON first.offer_id = offers.id
         ),
         binned AS (SELECT *, floor(log2(lat))::BIGINT AS e0 FROM decided),
         exact AS (SELECT *, {EXPONENT} AS e FROM binned)
         SELECT id, ts, ab_test_bucket, session_id, outcome, inferred, answers,
                {LATENCY_BIN} AS decision_bin, coalesce(len(policies), 0) > 0, policies,
                row_number
         FROM (SELECT *, {POLICY_LIST} AS policies FROM exact)
         ORDER BY row_number"
    )
}

/// Adds the facts of the offers of `input` (a rebuild's chunk: rows shaped like the source,
/// holding every row of their sessions and every outcome that names one of its offers
/// from elsewhere), inside the caller's transaction, after the links.
pub(crate) fn add(conn: &Connection, input: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!("INSERT INTO {FACTS} {}", facts(input)))
}

/// Inside the caller's transaction, after the links: the facts of every offer of `input`,
/// which holds every row of the sessions derived again, the offers named by the new rows,
/// and every outcome that names one of its offers.
pub(crate) fn update(conn: &Connection, input: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "DELETE FROM {FACTS}
         WHERE offer_row IN (SELECT row_number FROM ({input}) WHERE event = 'offered');
         INSERT INTO {FACTS} {}",
        facts(input)
    ))
}

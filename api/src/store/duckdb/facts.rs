//! One row per suggestion (offer) with what became of it, in `coachboard_suggestions`: the
//! offer's time, bucket and session, its first answer (type, time, how it was linked), how
//! many answers it had, the decision time and the policies it references. Derived from
//! `coach_events` and the links, kept in step with them (`derive.rs`), so the suggestion
//! answers read a narrow table instead of pairing every offer with its outcomes per query. Offers are known by id, never by row id:
//! rows appended inside a transaction have provisional row ids until it commits.

use duckdb::Connection;

use super::links::ALL_LINKS;
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
        policies       VARCHAR[]
    )";

/// The facts of the offers `{offers}` selects (a condition on the offer's columns), from
/// `input`: rows shaped like the source holding those offers and every outcome linked to
/// them.
fn facts(input: &str, offers: &str) -> String {
    format!(
        "WITH src AS ({input}),
         offers AS (
             SELECT id, ts, ab_test_bucket, session_id, policy_refs FROM src
             WHERE event = 'offered' AND id IS NOT NULL AND ({offers})
         ),
         links AS ({ALL_LINKS}),
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
                {LATENCY_BIN} AS decision_bin, coalesce(len(policies), 0) > 0, policies
         FROM (SELECT *, {POLICY_LIST} AS policies FROM exact)"
    )
}

/// Replaces every row (inside the caller's transaction).
pub(crate) fn rebuild(conn: &Connection, input: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!("DELETE FROM {FACTS}"))?;
    conn.execute_batch(&format!("INSERT INTO {FACTS} {}", facts(input, "TRUE")))
}

/// Inside the caller's transaction, after the links: the facts of every offer of the
/// sessions in `touched` (a table of `session`) and of the offers in `named` (a table of
/// `id`), derived from `input` (which holds them and their outcomes).
pub(crate) fn update(
    conn: &Connection,
    input: &str,
    touched: &str,
    named: &str,
) -> duckdb::Result<()> {
    let offers =
        format!("session_id IN (SELECT session FROM {touched}) OR id IN (SELECT id FROM {named})");
    conn.execute_batch(&format!(
        "DELETE FROM {FACTS} WHERE session_id IN (SELECT session FROM {touched});
         DELETE FROM {FACTS} WHERE offer_id IN (SELECT id FROM {named});"
    ))?;
    conn.execute_batch(&format!("INSERT INTO {FACTS} {}", facts(input, &offers)))
}

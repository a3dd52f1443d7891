//! The suggestion facts grouped, so the suggestion panels over all time (the dashboard's
//! default) sum a few thousand groups instead of reading one fact per offer (100M events:
//! 51M offers; `/analytics/suggestions` took 1.9 s, the experiment 9 s).
//!
//! - `coachboard_suggestion_groups`: offers per (bucket, outcome, link kind, answered
//!   again, decision-time bin, policy reference, rewrite band): outcomes, rewrite sizes and
//!   the experiment's guardrails. Whether an offer without an answer counts as unanswered
//!   depends on the request's cut-off, so those offers keep their hour (`slot`); the hour
//!   holding the cut-off is read from the facts themselves.
//! - `coachboard_session_groups`: sessions offered a suggestion, by whether in several
//!   buckets (bucket NULL), and per bucket: the experiment's multiple exposure.
//! - `coachboard_policy_outcome_groups`: offers per (bucket, policy referenced, outcome).
//!
//! Derived from the facts and kept in step with them in the same transaction: a catch-up
//! appends the groups of the facts it replaces with negative counts, then those of the
//! new facts (partial groups add up), and the tables are folded together once grown. Not
//! among the tables whose absence rebuilds everything: when one is missing (a file derived
//! before they existed) all are grouped afresh from the facts.

use duckdb::Connection;
use duckdb::types::{TimeUnit, Value};

use super::derive;
use super::facts::FACTS;
use super::rewrites;

/// The name under which the derived state keeps the offers' groups' size after a fold.
const STATE: &str = "suggestion_groups";

/// The width of a slot, in seconds.
pub(crate) const SLOT: i64 = 3600;

/// One grouped table: its name, its definition, its key columns, and the query of the
/// groups of the facts a condition selects, each count times a sign.
struct Grouping {
    table: &'static str,
    create: &'static str,
    keys: &'static str,
    select: fn(facts_where: &str, sign: i64) -> String,
}

const OFFERS: Grouping = Grouping {
    table: "coachboard_suggestion_groups",
    create: "
        -- Derived by coachboard-api from coachboard_suggestions; safe to drop, regrouped when missing.
        CREATE TABLE coachboard_suggestion_groups (
            slot           BIGINT,
            ab_test_bucket VARCHAR,
            outcome        VARCHAR,
            inferred       BOOLEAN NOT NULL,
            answered_again BOOLEAN NOT NULL,
            decision_bin   INTEGER,
            touches_policy BOOLEAN NOT NULL,
            rewrite_band   INTEGER,
            n              BIGINT NOT NULL
        )",
    keys: "slot, ab_test_bucket, outcome, inferred, answered_again, decision_bin,
           touches_policy, rewrite_band",
    select: offers_grouped,
};

const SESSIONS: Grouping = Grouping {
    table: "coachboard_session_groups",
    create: "
        -- Derived by coachboard-api from coachboard_suggestions; safe to drop, regrouped when missing.
        -- A NULL bucket counts sessions over every bucket.
        CREATE TABLE coachboard_session_groups (
            ab_test_bucket  VARCHAR,
            several_buckets BOOLEAN NOT NULL,
            n               BIGINT NOT NULL
        )",
    keys: "ab_test_bucket, several_buckets",
    select: sessions_grouped,
};

const POLICIES: Grouping = Grouping {
    table: "coachboard_policy_outcome_groups",
    create: "
        -- Derived by coachboard-api from coachboard_suggestions; safe to drop, regrouped when missing.
        CREATE TABLE coachboard_policy_outcome_groups (
            ab_test_bucket VARCHAR,
            policy         VARCHAR NOT NULL,
            outcome        VARCHAR,
            n              BIGINT NOT NULL
        )",
    keys: "ab_test_bucket, policy, outcome",
    select: policy_outcomes_grouped,
};

const GROUPINGS: [Grouping; 3] = [OFFERS, SESSIONS, POLICIES];

/// Every grouped table, for dropping them with the other derived tables and for finding one
/// missing.
pub(crate) const TABLES: [&str; 3] = [OFFERS.table, SESSIONS.table, POLICIES.table];

/// Each offer with its rewrite size's band, found by row id.
fn offers_grouped(facts_where: &str, sign: i64) -> String {
    format!(
        "SELECT CASE WHEN outcome IS NULL
                     THEN epoch(time_bucket(INTERVAL {SLOT} SECOND, ts))::BIGINT END AS slot,
                ab_test_bucket, outcome, inferred, answers > 1, decision_bin, touches_policy,
                {band}, {sign} * count(*) AS n
         FROM (SELECT * FROM {FACTS} WHERE {facts_where}) picked
         LEFT JOIN {sizes} sizes ON sizes.offer_row = picked.offer_row
         GROUP BY ALL",
        band = rewrites::BAND,
        sizes = rewrites::TABLE,
    )
}

/// Counts sessions: the condition selects every offer of a session or none (a catch-up
/// gathers whole sessions).
fn sessions_grouped(facts_where: &str, sign: i64) -> String {
    format!(
        "WITH exposed AS (
             SELECT session_id, ab_test_bucket FROM {FACTS}
             WHERE ({facts_where}) AND session_id IS NOT NULL AND ab_test_bucket IS NOT NULL
         ),
         sessions AS (
             SELECT min(ab_test_bucket) <> max(ab_test_bucket) AS several
             FROM exposed GROUP BY session_id
         ),
         in_buckets AS (SELECT DISTINCT session_id, ab_test_bucket FROM exposed)
         SELECT NULL::VARCHAR, several, {sign} * count(*) FROM sessions GROUP BY ALL
         UNION ALL
         SELECT ab_test_bucket, false, {sign} * count(*) FROM in_buckets GROUP BY ALL"
    )
}

/// Each fact keeps its offer's policies, parsed as the note counts them.
fn policy_outcomes_grouped(facts_where: &str, sign: i64) -> String {
    format!(
        "WITH refs AS (
             SELECT ab_test_bucket, unnest(policies) AS policy, outcome FROM {FACTS}
             WHERE touches_policy AND ({facts_where})
         )
         SELECT ab_test_bucket, coalesce(policy, 'null'), outcome, {sign} * count(*)
         FROM refs GROUP BY ALL"
    )
}

/// The facts of the offers among `input` (rows shaped like the source).
fn offers_of(input: &str) -> String {
    format!("offer_row IN (SELECT row_number FROM ({input}) WHERE event = 'offered')")
}

/// Groups every fact afresh (inside the caller's transaction).
pub(crate) fn build(conn: &Connection) -> duckdb::Result<()> {
    for grouping in GROUPINGS {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS {table}; {create};
             INSERT INTO {table} {select};",
            table = grouping.table,
            create = grouping.create,
            select = (grouping.select)("TRUE", 1),
        ))?;
    }
    record_fold(conn)
}

/// Appends the groups of the facts of `input`'s offers, times `sign`.
fn append(conn: &Connection, input: &str, sign: i64) -> duckdb::Result<()> {
    let offers = offers_of(input);
    for grouping in GROUPINGS {
        conn.execute_batch(&format!(
            "INSERT INTO {} {}",
            grouping.table,
            (grouping.select)(&offers, sign)
        ))?;
    }
    Ok(())
}

/// Takes back the groups of the facts of `input`'s offers, before a catch-up replaces
/// them (inside its transaction).
pub(crate) fn retract(conn: &Connection, input: &str) -> duckdb::Result<()> {
    append(conn, input, -1)
}

/// Adds the groups of the facts of `input`'s offers, once a catch-up has derived them,
/// and folds the tables when they have grown.
pub(crate) fn add(conn: &Connection, input: &str) -> duckdb::Result<()> {
    append(conn, input, 1)?;
    compact_if_grown(conn)
}

/// The offers' groups (the largest table) after the last fold, in the derived state.
fn record_fold(conn: &Connection) -> duckdb::Result<()> {
    derive::record_fold(conn, STATE, OFFERS.table)
}

/// Folds partial groups together once the offers' table has grown to twice its size after
/// the last fold; the others, which grow with it, too.
fn compact_if_grown(conn: &Connection) -> duckdb::Result<()> {
    if !derive::grown_since_fold(conn, STATE, OFFERS.table)? {
        return Ok(());
    }
    for grouping in GROUPINGS {
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE coachboard_folded AS
                 SELECT {keys}, sum(n)::BIGINT AS n FROM {table}
                 GROUP BY ALL HAVING sum(n) <> 0;
             DELETE FROM {table};
             INSERT INTO {table} SELECT * FROM coachboard_folded;
             DROP TABLE coachboard_folded;",
            keys = grouping.keys,
            table = grouping.table,
        ))?;
    }
    record_fold(conn)
}

/// A query of the groups, filtered to one bucket or none, and its parameters.
pub(crate) struct Grouped {
    pub sql: String,
    pub params: Vec<Value>,
}

/// The rows of `sql::suggestions` for every offer (of one bucket): the groups, with the
/// offers without an answer counted as unanswered when their hour ended by the cut-off,
/// and those of the cut-off's own hour from their facts. `cut_off` in microseconds since
/// the epoch.
pub(crate) fn suggestions(bucket: Option<&str>, cut_off: i64) -> Grouped {
    let cut_off_slot = cut_off.div_euclid(SLOT * 1_000_000) * SLOT;
    let micros = |value| Value::Timestamp(TimeUnit::Microsecond, value);
    let bucket_value = bucket.map(|bucket| Value::Text(bucket.to_owned()));
    let bucket_test = if bucket.is_some() {
        "ab_test_bucket = ?"
    } else {
        "TRUE"
    };
    // In the order the placeholders appear below.
    let mut params = vec![Value::BigInt(cut_off_slot)];
    params.extend(bucket_value.clone());
    params.extend([Value::BigInt(cut_off_slot), micros(cut_off)]);
    params.extend(bucket_value);
    params.extend([
        micros(cut_off_slot * 1_000_000),
        micros((cut_off_slot + SLOT) * 1_000_000),
    ]);
    let sql = format!(
        "WITH parts AS (
             SELECT ab_test_bucket, outcome, inferred, answered_again,
                    coalesce(outcome IS NULL AND slot < ?, false) AS unanswered, decision_bin,
                    touches_policy, n
             FROM {offers} WHERE {bucket_test} AND slot IS DISTINCT FROM ?
             UNION ALL
             SELECT ab_test_bucket, outcome, inferred, answers > 1, coalesce(ts < ?, false),
                    decision_bin, touches_policy, 1
             FROM {FACTS}
             WHERE {bucket_test} AND outcome IS NULL AND ts >= ? AND ts < ?
         )
         SELECT ab_test_bucket, outcome, inferred, answered_again, unanswered, decision_bin,
                touches_policy, sum(n)::BIGINT
         FROM parts GROUP BY ALL HAVING sum(n) <> 0",
        offers = OFFERS.table,
    );
    Grouped { sql, params }
}

/// `columns` of `table`'s groups with their counts summed, over every offer (of one
/// bucket).
fn summed(columns: &str, table: &str, bucket: Option<&str>) -> Grouped {
    let (condition, params) = match bucket {
        Some(bucket) => ("ab_test_bucket = ?", vec![Value::Text(bucket.to_owned())]),
        None => ("TRUE", Vec::new()),
    };
    Grouped {
        sql: format!(
            "SELECT {columns}, sum(n)::BIGINT FROM {table} WHERE {condition}
             GROUP BY ALL HAVING sum(n) <> 0"
        ),
        params,
    }
}

/// The rows of `sql::rewrite_outcomes` for every offer (of one bucket).
pub(crate) fn rewrite_outcomes(bucket: Option<&str>) -> Grouped {
    summed("rewrite_band, outcome", OFFERS.table, bucket)
}

/// The row of `sql::multiple_exposure` for every offer (of one bucket): sessions offered a
/// suggestion, and those offered in several buckets (none within one bucket).
pub(crate) fn multiple_exposure(bucket: Option<&str>) -> Grouped {
    let (condition, params) = match bucket {
        Some(bucket) => ("ab_test_bucket = ?", vec![Value::Text(bucket.to_owned())]),
        None => ("ab_test_bucket IS NULL", Vec::new()),
    };
    Grouped {
        sql: format!(
            "SELECT coalesce(sum(n), 0)::BIGINT,
                    coalesce(sum(n) FILTER (WHERE several_buckets), 0)::BIGINT
             FROM {} WHERE {condition}",
            SESSIONS.table
        ),
        params,
    }
}

/// The rows of `sql::policy_outcomes` for every offer (of one bucket).
pub(crate) fn policy_outcomes(bucket: Option<&str>) -> Grouped {
    summed("policy, outcome", POLICIES.table, bucket)
}

#[cfg(test)]
mod tests {
    use super::super::schema::CREATE_TABLE;
    use super::super::{facts, sql};
    use super::*;
    use duckdb::params_from_iter;

    const SOURCE: &str = "SELECT *, rowid AS row_number FROM coach_events";
    /// Seconds of 2026-11-01T00:00:00Z.
    const START: i64 = 1_793_491_200;

    /// Offers at `START` + the given seconds, with an outcome or none, in two buckets, and
    /// the rewrite sizes of most of them.
    fn facts_table(offers: &[(i64, Option<&str>)]) -> Connection {
        let conn = Connection::open_in_memory().expect("in-memory DuckDB");
        conn.execute_batch(CREATE_TABLE).expect("events");
        conn.execute_batch(facts::CREATE).expect("facts");
        conn.execute_batch(rewrites::CREATE).expect("rewrite sizes");
        conn.execute_batch(&format!(
            "INSERT INTO {} SELECT range, range * 7 % 101 FROM range(0, 100) WHERE range % 5 > 0",
            rewrites::TABLE
        ))
        .expect("sizes");
        conn.execute_batch(
            "CREATE TABLE coachboard_derived_state (
                 name VARCHAR PRIMARY KEY, rows BIGINT NOT NULL, last_row BIGINT)",
        )
        .expect("state");
        for (row, (seconds, outcome)) in offers.iter().enumerate() {
            conn.execute(
                "INSERT INTO coachboard_suggestions VALUES (?, to_timestamp(?)::TIMESTAMP,
                 ?, ?, ?, ? % 3 = 0, CASE WHEN ? IS NULL THEN 0 ELSE 1 + ? % 2 END,
                 CASE WHEN ? IS NOT NULL THEN 600 + ? % 7 END, ? % 4 < 3,
                 CASE WHEN ? % 4 < 3 THEN ['PII-01', 'TONE-' || (? % 3)] ELSE [] END, ?)",
                duckdb::params![
                    format!("o{row}"),
                    START + seconds,
                    if row % 2 == 0 { "A" } else { "B" },
                    session(row),
                    outcome,
                    row,
                    outcome,
                    row,
                    outcome,
                    row,
                    row,
                    row,
                    row,
                    row as i64,
                ],
            )
            .expect("fact");
        }
        conn
    }

    /// Five sessions offered in both buckets, two in one, and offers without a session.
    fn session(row: usize) -> Option<String> {
        match row {
            0..26 => Some(format!("s{}", row % 5)),
            26 | 27 => Some(format!("solo{row}")),
            _ => None,
        }
    }

    fn sorted_rows(conn: &Connection, query: &str, params: Vec<Value>) -> Vec<String> {
        let mut statement = conn.prepare(query).expect("prepare");
        let mut rows: Vec<String> = statement
            .query_map(params_from_iter(params), |row| {
                let columns = row.as_ref().column_count();
                let mut text = Vec::with_capacity(columns);
                for column in 0..columns {
                    text.push(format!("{:?}", row.get::<_, Value>(column)?));
                }
                Ok(text.join(" "))
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        rows.sort();
        rows
    }

    /// The groups answer exactly what the facts answer, for a cut-off before, inside, on
    /// the edge of and after the offers' hours, for every bucket and one.
    fn assert_agree(conn: &Connection) {
        for cut_off in [
            -10_000, 0, 1_800, 3_600, 3_601, 5_400, 7_199, 7_200, 100_000,
        ] {
            let micros = (START + cut_off) * 1_000_000;
            for bucket in [None, Some("A")] {
                let grouped = suggestions(bucket, micros);
                let (condition, mut params) = match bucket {
                    Some(bucket) => ("ab_test_bucket = ?", vec![Value::Text(bucket.into())]),
                    None => ("TRUE", Vec::new()),
                };
                params.push(Value::Timestamp(TimeUnit::Microsecond, micros));
                assert_eq!(
                    sorted_rows(conn, &grouped.sql, grouped.params),
                    sorted_rows(conn, &sql::suggestions(SOURCE, condition), params),
                    "cut-off {cut_off} s, bucket {bucket:?}"
                );
            }
            for (bucket, condition, params) in [
                (None, "TRUE", Vec::new()),
                (
                    Some("B"),
                    "ab_test_bucket = ?",
                    vec![Value::Text("B".into())],
                ),
            ] {
                let grouped = multiple_exposure(bucket);
                assert_eq!(
                    sorted_rows(conn, &grouped.sql, grouped.params),
                    sorted_rows(conn, &sql::multiple_exposure(SOURCE, condition), params),
                    "multiple exposure, bucket {bucket:?}"
                );
            }
            let grouped = rewrite_outcomes(None);
            assert_eq!(
                sorted_rows(conn, &grouped.sql, grouped.params),
                sorted_rows(conn, &sql::rewrite_outcomes(SOURCE, "TRUE"), Vec::new()),
            );
            let grouped = policy_outcomes(Some("A"));
            let policies = sorted_rows(conn, &grouped.sql, grouped.params);
            assert!(policies.len() > 3, "{policies:?}");
            assert_eq!(
                policies,
                sorted_rows(
                    conn,
                    &sql::policy_outcomes(SOURCE, "ab_test_bucket = ?"),
                    vec![Value::Text("A".into())]
                ),
            );
        }
    }

    fn offers() -> Vec<(i64, Option<&'static str>)> {
        // Three hours of offers every 7 minutes, a third of them answered, and unanswered
        // ones right on the cut-offs tested.
        (0..26)
            .map(|n| {
                (
                    n * 420,
                    ["accepted", "rejected"].get((n % 3) as usize).copied(),
                )
            })
            .chain([(1_800, None), (3_600, None), (7_200, None)])
            .collect()
    }

    #[test]
    fn the_groups_answer_what_the_facts_answer() {
        let conn = facts_table(&offers());
        build(&conn).expect("build");
        assert_agree(&conn);
    }

    #[test]
    fn a_catch_up_that_replaces_facts_keeps_the_groups_exact_and_a_fold_changes_nothing() {
        let conn = facts_table(&offers());
        build(&conn).expect("build");
        // A catch-up derives again two sessions' offers: each now answered, and one more
        // offered, in the other bucket than the single-bucket session's.
        let input = "SELECT 'offered' AS event, offer_row AS row_number
                     FROM coachboard_suggestions WHERE session_id IN ('s2', 'solo26')";
        retract(&conn, input).expect("retract");
        conn.execute_batch(
            "UPDATE coachboard_suggestions SET outcome = 'edited', answers = 1,
                 decision_bin = 640
             WHERE session_id IN ('s2', 'solo26');
             INSERT INTO coachboard_suggestions
             SELECT 'late', ts, 'B', 'solo26', NULL, false, 0, NULL, false, [], 99
             FROM coachboard_suggestions WHERE offer_row = 0",
        )
        .expect("facts replaced");
        add(&conn, input).expect("add");
        assert_agree(&conn);
        let count = |table: &str| -> i64 {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .expect("count")
        };
        let partial = TABLES.map(count);
        conn.execute("DELETE FROM coachboard_derived_state", [])
            .expect("forget the last fold");
        compact_if_grown(&conn).expect("fold");
        let folded = TABLES.map(count);
        assert!(
            folded
                .iter()
                .zip(&partial)
                .all(|(after, before)| after < before),
            "{folded:?} groups after the fold, {partial:?} before"
        );
        assert_agree(&conn);
    }
}

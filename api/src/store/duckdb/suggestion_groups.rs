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
//! Each is kept twice: over every offer, and per policy (`by_policy`) for the dashboard's
//! policy click, where an offer counts once under each distinct policy it references, which
//! is the offers a `policy=` filter selects (100M events: the experiment of PII-01 read
//! 19M facts in 5.2 s).
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

/// The facts a catch-up groups, picked once per sign (a temporary table).
const PICKED: &str = "coachboard_picked_facts";

/// The name under which the derived state keeps the offers' groups' size after a fold.
const STATE: &str = "suggestion_groups";

/// The width of a slot, in seconds.
pub(crate) const SLOT: i64 = 3600;

/// Over which offers a table keeps its groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// Every offer once.
    Whole,
    /// Per policy an offer references (`by_policy`): the offers a policy filter selects.
    PerPolicy,
}

impl Split {
    /// The facts of table `facts` that `facts_where` selects, with their policy when split
    /// by it.
    fn picked(self, facts: &str, facts_where: &str) -> String {
        match self {
            Split::Whole => format!("(SELECT * FROM {facts} WHERE {facts_where})"),
            // `list_distinct` drops repeats and NULLs: a `policy=` filter matches an offer
            // once, and never on a null reference.
            Split::PerPolicy => format!(
                "(SELECT *, unnest(list_distinct(policies)) AS by_policy FROM {facts}
                  WHERE touches_policy AND ({facts_where}))"
            ),
        }
    }

    /// The leading key column of the groups, with its comma.
    fn key(self) -> &'static str {
        match self {
            Split::Whole => "",
            Split::PerPolicy => "by_policy, ",
        }
    }

    /// Its definition, with its comma.
    fn column(self) -> &'static str {
        match self {
            Split::Whole => "",
            Split::PerPolicy => "by_policy VARCHAR NOT NULL, ",
        }
    }
}

/// One grouped table: its name, its columns besides the split's and the count, its key
/// columns besides the split's, and the query of the groups of picked facts, each count
/// times a sign.
struct Grouping {
    table: &'static str,
    split: Split,
    columns: &'static str,
    keys: &'static str,
    select: fn(picked: &str, key: &str, sign: i64) -> String,
}

impl Grouping {
    fn create(&self) -> String {
        format!(
            "-- Derived by coachboard-api from coachboard_suggestions; safe to drop, regrouped when missing.
             CREATE TABLE {} ({}{}, n BIGINT NOT NULL)",
            self.table,
            self.split.column(),
            self.columns
        )
    }

    fn keys(&self) -> String {
        format!("{}{}", self.split.key(), self.keys)
    }

    /// The groups of the facts of table `facts` that `facts_where` selects, times `sign`.
    fn select(&self, facts: &str, facts_where: &str, sign: i64) -> String {
        (self.select)(
            &self.split.picked(facts, facts_where),
            self.split.key(),
            sign,
        )
    }
}

const OFFER_COLUMNS: &str = "
    slot           BIGINT,
    ab_test_bucket VARCHAR,
    outcome        VARCHAR,
    inferred       BOOLEAN NOT NULL,
    answered_again BOOLEAN NOT NULL,
    decision_bin   INTEGER,
    touches_policy BOOLEAN NOT NULL,
    rewrite_band   INTEGER";
const OFFER_KEYS: &str = "slot, ab_test_bucket, outcome, inferred, answered_again, decision_bin,
    touches_policy, rewrite_band";

// A NULL bucket counts sessions over every bucket.
const SESSION_COLUMNS: &str = "ab_test_bucket VARCHAR, several_buckets BOOLEAN NOT NULL";
const SESSION_KEYS: &str = "ab_test_bucket, several_buckets";

const POLICY_COLUMNS: &str = "ab_test_bucket VARCHAR, policy VARCHAR NOT NULL, outcome VARCHAR";
const POLICY_KEYS: &str = "ab_test_bucket, policy, outcome";

const OFFERS: Grouping = Grouping {
    table: "coachboard_suggestion_groups",
    split: Split::Whole,
    columns: OFFER_COLUMNS,
    keys: OFFER_KEYS,
    select: offers_grouped,
};

const SESSIONS: Grouping = Grouping {
    table: "coachboard_session_groups",
    split: Split::Whole,
    columns: SESSION_COLUMNS,
    keys: SESSION_KEYS,
    select: sessions_grouped,
};

const POLICIES: Grouping = Grouping {
    table: "coachboard_policy_outcome_groups",
    split: Split::Whole,
    columns: POLICY_COLUMNS,
    keys: POLICY_KEYS,
    select: policy_outcomes_grouped,
};

const OFFERS_BY_POLICY: Grouping = Grouping {
    table: "coachboard_suggestion_groups_by_policy",
    split: Split::PerPolicy,
    ..OFFERS
};

const SESSIONS_BY_POLICY: Grouping = Grouping {
    table: "coachboard_session_groups_by_policy",
    split: Split::PerPolicy,
    ..SESSIONS
};

const POLICIES_BY_POLICY: Grouping = Grouping {
    table: "coachboard_policy_outcome_groups_by_policy",
    split: Split::PerPolicy,
    ..POLICIES
};

const GROUPINGS: [Grouping; 6] = [
    OFFERS,
    SESSIONS,
    POLICIES,
    OFFERS_BY_POLICY,
    SESSIONS_BY_POLICY,
    POLICIES_BY_POLICY,
];

/// Every grouped table, for dropping them with the other derived tables and for finding one
/// missing.
pub(crate) const TABLES: [&str; 6] = [
    OFFERS.table,
    SESSIONS.table,
    POLICIES.table,
    OFFERS_BY_POLICY.table,
    SESSIONS_BY_POLICY.table,
    POLICIES_BY_POLICY.table,
];

/// Each offer with its rewrite size's band, found by row id.
fn offers_grouped(picked: &str, key: &str, sign: i64) -> String {
    format!(
        "SELECT {key} CASE WHEN outcome IS NULL
                     THEN epoch(time_bucket(INTERVAL {SLOT} SECOND, ts))::BIGINT END AS slot,
                ab_test_bucket, outcome, inferred, answers > 1, decision_bin, touches_policy,
                {band}, {sign} * count(*) AS n
         FROM {picked} picked
         LEFT JOIN {sizes} sizes ON sizes.offer_row = picked.offer_row
         GROUP BY ALL",
        band = rewrites::BAND,
        sizes = rewrites::TABLE,
    )
}

/// Counts sessions: the condition selects every offer of a session or none (a catch-up
/// gathers whole sessions). A session is in several buckets when it has several
/// (session, bucket) pairs: counting those pairs needs far less memory than a smallest and
/// largest bucket per session (100M events, per policy: within 256 MB, where that ran out).
fn sessions_grouped(picked: &str, key: &str, sign: i64) -> String {
    format!(
        "WITH in_buckets AS (
             SELECT DISTINCT {key} session_id, ab_test_bucket FROM {picked} picked
             WHERE session_id IS NOT NULL AND ab_test_bucket IS NOT NULL
         ),
         sessions AS (
             SELECT {key} count(*) > 1 AS several FROM in_buckets GROUP BY {key} session_id
         )
         SELECT {key} NULL::VARCHAR, several, {sign} * count(*) FROM sessions GROUP BY ALL
         UNION ALL
         SELECT {key} ab_test_bucket, false, {sign} * count(*) FROM in_buckets GROUP BY ALL"
    )
}

/// Each fact keeps its offer's policies, parsed as the note counts them.
fn policy_outcomes_grouped(picked: &str, key: &str, sign: i64) -> String {
    format!(
        "WITH refs AS (
             SELECT {key} ab_test_bucket, unnest(policies) AS policy, outcome FROM {picked} picked
             WHERE touches_policy
         )
         SELECT {key} ab_test_bucket, coalesce(policy, 'null'), outcome, {sign} * count(*)
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
            create = grouping.create(),
            select = grouping.select(FACTS, "TRUE", 1),
        ))?;
    }
    record_fold(conn)
}

/// Appends the groups of the facts of `input`'s offers, times `sign`. Those facts are
/// picked once into a temporary table: each grouping then reads a few rows instead of
/// looking them up among every fact (10M events: 73 ms of a one-event catch-up, when each
/// of the twelve statements looked them up).
fn append(conn: &Connection, input: &str, sign: i64) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {PICKED} AS SELECT * FROM {FACTS} WHERE {}",
        offers_of(input)
    ))?;
    for grouping in GROUPINGS {
        conn.execute_batch(&format!(
            "INSERT INTO {} {}",
            grouping.table,
            grouping.select(PICKED, "TRUE", sign)
        ))?;
    }
    conn.execute_batch(&format!("DROP TABLE {PICKED}"))
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
            keys = grouping.keys(),
            table = grouping.table,
        ))?;
    }
    record_fold(conn)
}

/// The offers a request's groups are read for: every offer, or those of one bucket, of
/// one policy, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Slice<'a> {
    pub bucket: Option<&'a str>,
    pub policy: Option<&'a str>,
}

impl Slice<'_> {
    /// Which of a whole grouping and its per-policy twin holds the slice's groups.
    fn table(self, whole: &Grouping, per_policy: &Grouping) -> &'static str {
        match self.policy {
            Some(_) => per_policy.table,
            None => whole.table,
        }
    }

    /// The condition selecting the slice's groups, and its parameters.
    fn on_groups(self) -> (String, Vec<Value>) {
        self.condition("by_policy = ?")
    }

    /// The condition selecting the slice's facts, and its parameters.
    fn on_facts(self) -> (String, Vec<Value>) {
        self.condition("list_contains(policies, ?)")
    }

    fn condition(self, policy_test: &str) -> (String, Vec<Value>) {
        let mut clauses = vec!["TRUE"];
        let mut params = Vec::new();
        if let Some(bucket) = self.bucket {
            clauses.push("ab_test_bucket = ?");
            params.push(Value::Text(bucket.to_owned()));
        }
        if let Some(policy) = self.policy {
            clauses.push(policy_test);
            params.push(Value::Text(policy.to_owned()));
        }
        (clauses.join(" AND "), params)
    }
}

/// A query of the groups of a slice, and its parameters.
pub(crate) struct Grouped {
    pub sql: String,
    pub params: Vec<Value>,
}

/// The rows of `sql::suggestions` for a slice's offers: the groups, with the offers
/// without an answer counted as unanswered when their hour ended by the cut-off, and those
/// of the cut-off's own hour from their facts. `cut_off` in microseconds since the epoch.
pub(crate) fn suggestions(slice: Slice<'_>, cut_off: i64) -> Grouped {
    let cut_off_slot = cut_off.div_euclid(SLOT * 1_000_000) * SLOT;
    let micros = |value| Value::Timestamp(TimeUnit::Microsecond, value);
    let (on_groups, groups_params) = slice.on_groups();
    let (on_facts, facts_params) = slice.on_facts();
    // In the order the placeholders appear below.
    let mut params = vec![Value::BigInt(cut_off_slot)];
    params.extend(groups_params);
    params.extend([Value::BigInt(cut_off_slot), micros(cut_off)]);
    params.extend(facts_params);
    params.extend([
        micros(cut_off_slot * 1_000_000),
        micros((cut_off_slot + SLOT) * 1_000_000),
    ]);
    let sql = format!(
        "WITH parts AS (
             SELECT ab_test_bucket, outcome, inferred, answered_again,
                    coalesce(outcome IS NULL AND slot < ?, false) AS unanswered, decision_bin,
                    touches_policy, n
             FROM {offers} WHERE {on_groups} AND slot IS DISTINCT FROM ?
             UNION ALL
             SELECT ab_test_bucket, outcome, inferred, answers > 1, coalesce(ts < ?, false),
                    decision_bin, touches_policy, 1
             FROM {FACTS}
             WHERE {on_facts} AND outcome IS NULL AND ts >= ? AND ts < ?
         )
         SELECT ab_test_bucket, outcome, inferred, answered_again, unanswered, decision_bin,
                touches_policy, sum(n)::BIGINT
         FROM parts GROUP BY ALL HAVING sum(n) <> 0",
        offers = slice.table(&OFFERS, &OFFERS_BY_POLICY),
    );
    Grouped { sql, params }
}

/// `columns` of a slice's groups with their counts summed.
fn summed(columns: &str, table: &str, slice: Slice<'_>) -> Grouped {
    let (condition, params) = slice.on_groups();
    Grouped {
        sql: format!(
            "SELECT {columns}, sum(n)::BIGINT FROM {table} WHERE {condition}
             GROUP BY ALL HAVING sum(n) <> 0"
        ),
        params,
    }
}

/// The rows of `sql::rewrite_outcomes` for a slice's offers.
pub(crate) fn rewrite_outcomes(slice: Slice<'_>) -> Grouped {
    summed(
        "rewrite_band, outcome",
        slice.table(&OFFERS, &OFFERS_BY_POLICY),
        slice,
    )
}

/// The row of `sql::multiple_exposure` for a slice's offers: sessions offered a
/// suggestion, and those offered in several buckets (none within one bucket).
pub(crate) fn multiple_exposure(slice: Slice<'_>) -> Grouped {
    let (condition, params) = slice.on_groups();
    // Over every bucket, the sessions are counted once, in the groups without a bucket.
    let across = if slice.bucket.is_none() {
        " AND ab_test_bucket IS NULL"
    } else {
        ""
    };
    Grouped {
        sql: format!(
            "SELECT coalesce(sum(n), 0)::BIGINT,
                    coalesce(sum(n) FILTER (WHERE several_buckets), 0)::BIGINT
             FROM {} WHERE {condition}{across}",
            slice.table(&SESSIONS, &SESSIONS_BY_POLICY)
        ),
        params,
    }
}

/// The rows of `sql::policy_outcomes` for a slice's offers.
pub(crate) fn policy_outcomes(slice: Slice<'_>) -> Grouped {
    summed(
        "policy, outcome",
        slice.table(&POLICIES, &POLICIES_BY_POLICY),
        slice,
    )
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
                 CASE WHEN ? % 4 < 3 THEN ['PII-01', 'TONE-' || (? % 3), 'PII-01'] ELSE [] END, ?)",
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

    /// The slices the tests read: every offer, one bucket, one policy, and both.
    const SLICES: [Slice<'static>; 5] = [
        Slice {
            bucket: None,
            policy: None,
        },
        Slice {
            bucket: Some("A"),
            policy: None,
        },
        Slice {
            bucket: None,
            policy: Some("PII-01"),
        },
        Slice {
            bucket: None,
            policy: Some("TONE-2"),
        },
        Slice {
            bucket: Some("B"),
            policy: Some("TONE-1"),
        },
    ];

    /// The condition of a slice on the facts, as `sql::suggestion_conditions` writes it.
    fn facts_condition(slice: Slice<'_>) -> (String, Vec<Value>) {
        let mut clauses = vec!["TRUE".to_owned()];
        let mut params = Vec::new();
        if let Some(bucket) = slice.bucket {
            clauses.push("ab_test_bucket = ?".into());
            params.push(Value::Text(bucket.into()));
        }
        if let Some(policy) = slice.policy {
            clauses.push("list_contains(policies, ?)".into());
            params.push(Value::Text(policy.into()));
        }
        (clauses.join(" AND "), params)
    }

    /// The groups answer exactly what the facts answer, for a cut-off before, inside, on
    /// the edge of and after the offers' hours, for every slice.
    fn assert_agree(conn: &Connection) {
        for slice in SLICES {
            let (condition, params) = facts_condition(slice);
            for cut_off in [
                -10_000, 0, 1_800, 3_600, 3_601, 5_400, 7_199, 7_200, 100_000,
            ] {
                let micros = (START + cut_off) * 1_000_000;
                let grouped = suggestions(slice, micros);
                let mut at_cut_off = params.clone();
                at_cut_off.push(Value::Timestamp(TimeUnit::Microsecond, micros));
                let rows = sorted_rows(conn, &grouped.sql, grouped.params);
                assert!(!rows.is_empty(), "{slice:?}");
                assert_eq!(
                    rows,
                    sorted_rows(conn, &sql::suggestions(SOURCE, &condition), at_cut_off),
                    "cut-off {cut_off} s, {slice:?}"
                );
            }
            // Each panel: its groups for a slice, and its query of the facts.
            type Groups = fn(Slice<'_>) -> Grouped;
            type Facts = fn(&str, &str) -> String;
            let panels: [(&str, Groups, Facts); 3] = [
                (
                    "multiple exposure",
                    multiple_exposure,
                    sql::multiple_exposure,
                ),
                ("rewrites", rewrite_outcomes, sql::rewrite_outcomes),
                ("policy outcomes", policy_outcomes, sql::policy_outcomes),
            ];
            for (panel, grouped, facts) in panels {
                let grouped = grouped(slice);
                let rows = sorted_rows(conn, &grouped.sql, grouped.params);
                assert!(!rows.is_empty(), "{panel}, {slice:?}");
                assert_eq!(
                    rows,
                    sorted_rows(conn, &facts(SOURCE, &condition), params.clone()),
                    "{panel}, {slice:?}"
                );
            }
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

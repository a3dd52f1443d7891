//! The policy rows grouped by UTC hour, so a policy-filtered panel (the dashboard's policy
//! click) sums a policy's hourly groups instead of reading each of its rows (100M events:
//! 67M policy rows, 19M of them for one policy; `summary?policy=PII-01` took 3.7 s).
//!
//! - `coachboard_policy_hours`: per (policy, hour, bucket, event, latency bin) the rows and
//!   the sum of their positive latencies.
//! - `coachboard_policy_hour_refs`: per (policy, hour, bucket, event, reference) the policy
//!   references the rows hold themselves (the policies panel under a policy filter).
//!
//! A query reads the whole hours of its range from the groups and the ends outside them
//! from the policy rows, in one statement (one snapshot). Kept in step with the policy rows
//! as the suggestion groups are with the facts: a catch-up appends the groups of the rows it
//! derives again with negative counts, then those of their new policy rows (partial groups
//! add up); grouped afresh once grown, or when missing (a file derived before they were).

use duckdb::Connection;
use duckdb::types::Value;

use super::derive::{self, Commits};
use super::policy_rows;
use super::sql;
use crate::rollup::{HOUR, HourRange, split_at_hours};
use crate::store::{ROW_CHUNK, Scope, row_chunks};

pub(crate) const HOURS: &str = "coachboard_policy_hours";
pub(crate) const REFS: &str = "coachboard_policy_hour_refs";

/// The policy rows a catch-up groups, picked once per sign (a temporary table).
const PICKED: &str = "coachboard_picked_policy_rows";

/// The name under which the derived state keeps the hours' size after their last grouping.
const STATE: &str = "policy_hours";

/// Both tables, for dropping them with the other derived tables and for finding one missing.
pub(crate) const TABLES: [&str; 2] = [HOURS, REFS];

const CREATE: &str = "
    -- Derived by coachboard-api from coachboard_policy_rows; safe to drop, regrouped when missing.
    CREATE TABLE coachboard_policy_hours (
        policy      VARCHAR NOT NULL,
        hour        BIGINT,
        bucket      VARCHAR,
        event       VARCHAR,
        bin         INTEGER,
        n           BIGINT NOT NULL,
        latency_sum BIGINT NOT NULL
    );
    CREATE TABLE coachboard_policy_hour_refs (
        policy VARCHAR NOT NULL,
        hour   BIGINT,
        bucket VARCHAR,
        event  VARCHAR,
        ref    VARCHAR NOT NULL,
        n      BIGINT NOT NULL
    );";

/// Row ids grouped per statement when grouping afresh: a group-by of a few million policy
/// rows stays within DuckDB's memory limit, and each statement's groups, written in policy
/// order, leave one run per policy that zone maps find.
const ROWS_PER_PASS: i64 = 16 * ROW_CHUNK;

/// The groups of the policy rows of `table` that `rows_where` selects, each count times
/// `sign`.
fn hours_of(table: &str, rows_where: &str, sign: i64) -> String {
    format!(
        "SELECT policy, {hour} AS hour, ab_test_bucket, event, bin, {sign} * count(*),
                {sign} * coalesce(sum(lat), 0)::BIGINT
         FROM {table} WHERE {rows_where} GROUP BY ALL ORDER BY policy, hour",
        hour = sql::hour_of("ts"),
    )
}

/// The references of the policy rows of `table` that `rows_where` selects, each count times
/// `sign`; JSON null items count as "null", as in `sql::listed_policy_counts`.
fn refs_of(table: &str, rows_where: &str, sign: i64) -> String {
    format!(
        "WITH refs AS (
             SELECT policy, {hour} AS hour, ab_test_bucket, event, unnest(refs) AS ref
             FROM {table} WHERE len(refs) > 0 AND ({rows_where})
         )
         SELECT policy, hour, ab_test_bucket, event, coalesce(ref, 'null'), {sign} * count(*)
         FROM refs GROUP BY ALL ORDER BY policy, hour",
        hour = sql::hour_of("ts"),
    )
}

fn append(conn: &Connection, table: &str, rows_where: &str, sign: i64) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "INSERT INTO {HOURS} {}; INSERT INTO {REFS} {};",
        hours_of(table, rows_where, sign),
        refs_of(table, rows_where, sign)
    ))
}

/// [`append`] for the policy rows of `input`'s rows (rows shaped like the source), picked
/// once into a temporary table that both groupings read, instead of each looking them up
/// among every policy row.
fn append_rows_of(conn: &Connection, input: &str, sign: i64) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {PICKED} AS
         SELECT * FROM {rows} WHERE row_number IN (SELECT row_number FROM ({input}))",
        rows = policy_rows::TABLE,
    ))?;
    append(conn, PICKED, "TRUE", sign)?;
    conn.execute_batch(&format!("DROP TABLE {PICKED}"))
}

/// Groups every policy row afresh, a range of row ids per statement, committed between
/// them as `commits` says.
pub(crate) fn build(conn: &Connection, commits: Commits) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {HOURS}; DROP TABLE IF EXISTS {REFS}; {CREATE}"
    ))?;
    let last_row: Option<i64> = conn.query_row(
        &format!("SELECT max(row_number) FROM {}", policy_rows::TABLE),
        [],
        |row| row.get(0),
    )?;
    for (start, end) in row_chunks(last_row, ROWS_PER_PASS) {
        // The bounds are the passes' own numbers, not a user's values.
        append(
            conn,
            policy_rows::TABLE,
            &format!("row_number >= {start} AND row_number < {end}"),
            1,
        )?;
        commits.chunk_done(conn)?;
    }
    derive::record_fold(conn, STATE, HOURS)
}

/// Takes back the groups of `input`'s policy rows, before a catch-up derives them again
/// (inside its transaction).
pub(crate) fn retract(conn: &Connection, input: &str) -> duckdb::Result<()> {
    append_rows_of(conn, input, -1)
}

/// Adds the groups of `input`'s policy rows once derived again, and groups every row
/// afresh once the partial groups have doubled the tables.
pub(crate) fn add(conn: &Connection, input: &str) -> duckdb::Result<()> {
    append_rows_of(conn, input, 1)?;
    if derive::grown_since_fold(conn, STATE, HOURS)? {
        build(conn, Commits::Once)?;
    }
    Ok(())
}

/// A query and its parameters, in placeholder order.
pub(crate) struct Query {
    pub sql: String,
    pub params: Vec<Value>,
}

/// The part of a scope the groups can answer: a policy filter with nothing else through
/// offers and no session, slotted by whole hours, and a range holding a whole hour.
struct Answerable<'a> {
    policy: &'a str,
    hours: HourRange,
    edges: Vec<Scope>,
}

impl Answerable<'_> {
    /// The same whole hours, without the rows that have no time.
    fn timed(&self) -> Self {
        Answerable {
            policy: self.policy,
            hours: HourRange {
                untimed: false,
                ..self.hours
            },
            edges: Vec::new(),
        }
    }
}

fn answerable(scope: &Scope, slot_seconds: Option<i64>) -> Option<Answerable<'_>> {
    let Scope {
        policy: Some(policy),
        policies: None,
        text: None,
        session_id: None,
        rows: None,
        latency: None,
        ..
    } = scope
    else {
        return None;
    };
    if slot_seconds.is_some_and(|width| width <= 0 || width % HOUR != 0) {
        return None;
    }
    let split = split_at_hours(scope.from, scope.to);
    Some(Answerable {
        policy,
        hours: split.hours?,
        edges: split
            .edges
            .into_iter()
            .map(|(from, to)| scope.with_range(from, to))
            .collect(),
    })
}

/// The groups' conditions for the scope's policy, whole hours, bucket and event.
fn group_conditions(scope: &Scope, answerable: &Answerable<'_>) -> sql::Conditions {
    use std::ops::Bound;
    let mut clauses = vec!["policy = ?".to_owned()];
    let mut params = vec![Value::Text(answerable.policy.to_owned())];
    let HourRange {
        start,
        end,
        untimed,
    } = answerable.hours;
    for (bound, included, excluded) in [(start, ">=", ">"), (end, "<=", "<")] {
        match bound {
            Bound::Included(hour) => {
                clauses.push(format!("hour {included} ?"));
                params.push(Value::BigInt(hour));
            }
            Bound::Excluded(hour) => {
                clauses.push(format!("hour {excluded} ?"));
                params.push(Value::BigInt(hour));
            }
            Bound::Unbounded => {}
        }
    }
    if !untimed {
        clauses.push("hour IS NOT NULL".to_owned());
    }
    for (column, value) in [("bucket", &scope.bucket), ("event", &scope.event)] {
        if let Some(value) = value {
            clauses.push(format!("{column} = ?"));
            params.push(Value::Text(value.clone()));
        }
    }
    sql::Conditions {
        sql: clauses.join(" AND "),
        params,
    }
}

/// The slot of a group's hour, as `sql::aggregate` slots its rows' times (a slot of whole
/// hours holds whole hours). Parameters: the slot width, if grouped.
fn slot_of_hour(grouped: bool) -> &'static str {
    if grouped {
        "epoch(time_bucket(to_seconds(?::BIGINT), make_timestamp(hour * 1000000)))::BIGINT"
    } else {
        "NULL::BIGINT"
    }
}

/// `sql::aggregate`'s rows for a policy-filtered scope, from the groups and the policy
/// rows at the range's ends, each slot moved to the start of its bucket when `starts`
/// (ascending) are given; `None` when the groups cannot answer it.
pub(crate) fn aggregate(
    scope: &Scope,
    slot_seconds: Option<i64>,
    starts: Option<&[i64]>,
) -> Option<Query> {
    let parts = Parts::of(scope, slot_seconds)?;
    Some(parts.summed(
        &format!(
            "SELECT {slot} AS slot, bucket, event, bin, n, latency_sum FROM {HOURS}",
            slot = slot_of_hour(slot_seconds.is_some())
        ),
        |conditions| sql::binned_aggregate(policy_rows::SOURCE, conditions, parts.grouped),
        "bucket, event, bin, sum(n)::BIGINT AS n, sum(latency_sum)::BIGINT AS latency_sum",
        starts,
    ))
}

/// `sql::policy_counts`' rows for a policy-filtered scope, as [`aggregate`].
pub(crate) fn policy_counts(scope: &Scope, slot_seconds: Option<i64>) -> Option<Query> {
    let parts = Parts::of(scope, slot_seconds)?;
    Some(parts.summed(
        &format!(
            "SELECT {slot} AS slot, bucket, event, ref AS policy, n FROM {REFS}",
            slot = slot_of_hour(slot_seconds.is_some())
        ),
        |conditions| sql::listed_policy_counts(policy_rows::SOURCE, conditions, parts.grouped),
        "bucket, event, policy, sum(n)::BIGINT AS n",
        None,
    ))
}

/// Rows per whole UTC hour of a policy-filtered scope, ascending (parameters bound); `None`
/// when the groups cannot answer it.
pub(crate) fn hour_counts(scope: &Scope) -> Option<Query> {
    counts_by(scope, "hour").map(|(query, _)| query)
}

/// Rows with a positive latency per bin in the whole UTC hours of a policy-filtered scope,
/// ascending, and whether those hours are all of its range; `None` when the groups cannot
/// answer it.
pub(crate) fn latency_bins(scope: &Scope) -> Option<(Query, bool)> {
    counts_by(scope, "bin")
}

/// Rows per value of the groups' `key` column (ascending, NULL left out) in the whole
/// UTC hours of a policy-filtered scope, rows without a time left out, and whether those
/// hours are all of its range.
fn counts_by(scope: &Scope, key: &str) -> Option<(Query, bool)> {
    let answerable = answerable(scope, None)?;
    let conditions = group_conditions(scope, &answerable.timed());
    let query = Query {
        sql: format!(
            "SELECT {key}, sum(n)::BIGINT FROM {HOURS} WHERE {} AND {key} IS NOT NULL
             GROUP BY {key} HAVING sum(n) <> 0 ORDER BY {key}",
            conditions.sql
        ),
        params: conditions.params,
    };
    Some((query, answerable.edges.is_empty()))
}

/// A scope the groups answer, cut into their part and the ends read from rows.
struct Parts<'a> {
    scope: &'a Scope,
    answerable: Answerable<'a>,
    slot_seconds: Option<i64>,
    grouped: bool,
}

impl<'a> Parts<'a> {
    fn of(scope: &'a Scope, slot_seconds: Option<i64>) -> Option<Self> {
        Some(Self {
            scope,
            answerable: answerable(scope, slot_seconds)?,
            slot_seconds,
            grouped: slot_seconds.is_some(),
        })
    }

    /// The groups (`groups`, filtered) and each end's rows (`rows`, given its
    /// conditions), summed per slot (or per bucket of `starts`) by `summed` (the other keys
    /// then the sums), without the groups that partial counts cancelled.
    fn summed(
        &self,
        groups: &str,
        rows: impl Fn(&str) -> String,
        summed: &str,
        starts: Option<&[i64]>,
    ) -> Query {
        let slot: Vec<Value> = self.slot_seconds.map(Value::BigInt).into_iter().collect();
        let conditions = group_conditions(self.scope, &self.answerable);
        let mut parts = vec![format!("{groups} WHERE {}", conditions.sql)];
        let mut params = slot.clone();
        params.extend(conditions.params);
        for edge in &self.answerable.edges {
            let conditions = sql::policy_row_conditions(edge);
            parts.push(format!("SELECT * FROM ({})", rows(&conditions.sql)));
            params.extend(slot.iter().cloned());
            params.extend(conditions.params);
        }
        let parts = parts.join(" UNION ALL ");
        let sql = match starts {
            // Straight from the hours to the buckets: no pass per slot in between.
            Some(starts) => {
                let buckets = sql::to_buckets(starts, self.slot_seconds.unwrap_or(HOUR));
                params.extend(buckets.params);
                format!(
                    "WITH parts AS ({parts})
                     SELECT {start} AS slot, {summed}
                     FROM parts {join}
                     GROUP BY ALL HAVING sum(n) <> 0",
                    start = buckets.start,
                    join = buckets.join,
                )
            }
            None => format!(
                "WITH parts AS ({parts})
                 SELECT slot, {summed} FROM parts GROUP BY ALL HAVING sum(n) <> 0"
            ),
        };
        Query { sql, params }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveDateTime};

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, 10, 1)
            .and_then(|day| day.and_hms_opt(h, m, 0))
            .expect("valid time")
    }

    fn policy(from: Option<NaiveDateTime>, to: Option<NaiveDateTime>) -> Scope {
        Scope {
            policy: Some("PII-01".into()),
            from,
            to,
            ..Scope::default()
        }
    }

    #[test]
    fn groups_answer_whole_hours_of_a_policy_filter_and_rows_the_ends() {
        let scope = policy(Some(at(9, 30)), Some(at(12, 15)));
        let parts = answerable(&scope, Some(HOUR)).expect("answerable");
        assert_eq!(
            parts.edges,
            vec![
                scope.with_range(Some(at(9, 30)), Some(at(10, 0))),
                scope.with_range(Some(at(12, 0)), Some(at(12, 15))),
            ]
        );
        let query = aggregate(&scope, Some(86_400), None).expect("answerable");
        // Slot, policy and two hour bounds for the groups; slot and four values per end.
        assert_eq!(query.params.len(), 4 + 2 * 4);
        assert!(answerable(&policy(None, None), None).is_some_and(|parts| parts.edges.is_empty()));
    }

    #[test]
    fn rows_answer_what_the_groups_cannot() {
        // Within one hour; slots narrower than an hour; a session; no policy at all.
        assert!(answerable(&policy(Some(at(9, 10)), Some(at(9, 50))), None).is_none());
        assert!(answerable(&policy(None, None), Some(900)).is_none());
        let session = Scope {
            session_id: Some("s1".into()),
            ..policy(None, None)
        };
        assert!(answerable(&session, None).is_none());
        assert!(answerable(&Scope::default(), None).is_none());
    }
}

//! Every SQL statement of the API, written out. Values are always bound parameters; the only
//! text spliced in is the table's canonical SELECT (`schema::Source`) and the fixed
//! fragments below.
//!
//! The events are the CTE `src`, `NOT MATERIALIZED`: a filter that follows outcomes to their
//! offers reads it more than once, and DuckDB would otherwise copy the whole table first.

use chrono::NaiveDateTime;
use coachboard_contract::{SortKey, SortOrder};
use duckdb::types::{TimeUnit, Value};

use super::facts::FACTS;
use super::links::ALL_LINKS;
use super::words::{Hours, Needle};
use super::{EventsQuery, GroupRow, PolicyRow, Scope};
use super::{answers, rewrites};
use crate::histogram::MAX_LATENCY_MS;
use crate::rollup::HOUR;

/// `histogram::bin_of` in SQL, over a positive latency `lat` (NULL stays NULL). `log2` is
/// corrected by one where floating point lands on the wrong side of a power of two.
pub(crate) const LATENCY_BIN: &str = "CASE WHEN lat < 256 THEN lat
     ELSE (e - 7) * 128 + (lat >> (e - 7)) END";
pub(crate) const EXPONENT: &str = "e0 - CASE WHEN (1::BIGINT << e0) > lat THEN 1 ELSE 0 END
          + CASE WHEN (1::BIGINT << (e0 + 1)) <= lat THEN 1 ELSE 0 END";

/// The policy ids of a row exactly as the note's Python counts them: `json.loads(policy_refs)`
/// iterated, errors skipped. So a JSON array gives its items (strings as they are, other
/// scalars as JSON text: `1`, `true`, `null`) up to the first nested array or object, where
/// Python's `TypeError` ends the row; an object gives its keys; a string its characters;
/// anything else, malformed JSON included, nothing. Nested CASEs keep the JSON functions away
/// from invalid JSON.
pub(crate) const POLICY_LIST: &str = "CASE WHEN json_valid(policy_refs) THEN
        CASE WHEN json_type(policy_refs) = 'ARRAY' AND NOT contains(substr(policy_refs, 2), '[')
                  AND NOT contains(policy_refs, '{') THEN
            -- The usual case, an array of scalars: one parse.
            list_transform(from_json(policy_refs, '[\"VARCHAR\"]'), lambda x: coalesce(x, 'null'))
        ELSE CASE json_type(policy_refs)
            WHEN 'ARRAY' THEN list_transform(
                list_slice(from_json(policy_refs, '[\"JSON\"]'), 1,
                    coalesce(nullif(list_position(
                        list_transform(from_json(policy_refs, '[\"JSON\"]'), lambda x: json_type(x) IN ('ARRAY', 'OBJECT')),
                        true), 0), len(from_json(policy_refs, '[\"JSON\"]')) + 1) - 1),
                lambda x: CASE WHEN json_type(x) = 'VARCHAR' THEN x ->> '$' ELSE CAST(x AS VARCHAR) END)
            WHEN 'OBJECT' THEN json_keys(policy_refs)
            WHEN 'VARCHAR' THEN CASE WHEN length(policy_refs ->> '$') > 0 THEN string_split(policy_refs ->> '$', '') END
        END END
     END";

/// A row of [`aggregate`]'s columns.
pub(crate) fn group_row(row: &duckdb::Row<'_>) -> duckdb::Result<GroupRow> {
    Ok(GroupRow {
        slot: row.get(0)?,
        bucket: row.get(1)?,
        event: row.get(2)?,
        bin: row.get::<_, Option<i64>>(3)?.map(|bin| bin as u16),
        count: row.get::<_, i64>(4)? as u64,
        latency_sum: row.get(5)?,
    })
}

/// A row of [`policy_counts`]' columns.
pub(crate) fn policy_row(row: &duckdb::Row<'_>) -> duckdb::Result<PolicyRow> {
    Ok(PolicyRow {
        slot: row.get(0)?,
        bucket: row.get(1)?,
        event: row.get(2)?,
        policy: row.get(3)?,
        count: row.get::<_, i64>(4)? as u64,
    })
}

/// A WHERE clause and its parameters, in order.
pub(crate) struct Conditions {
    pub sql: String,
    pub params: Vec<Value>,
}

/// The UTC hour of a timestamp column, in seconds since the epoch, as the aggregates slot
/// it: the key of every derived table kept per hour.
pub(crate) fn hour_of(column: &str) -> String {
    format!("epoch(time_bucket(INTERVAL {HOUR} SECOND, {column}))::BIGINT")
}

pub(crate) fn timestamp(value: NaiveDateTime) -> Value {
    Value::Timestamp(TimeUnit::Microsecond, value.and_utc().timestamp_micros())
}

/// The conditions of a scope, joined with AND (`TRUE` when there are none). The offer's
/// attributes (policy, text) select an outcome through the offer it answers. `needle` is
/// the scope's text filter resolved against the word index (`words::needle`).
pub(crate) fn conditions(scope: &Scope, needle: Option<&Needle>) -> Conditions {
    row_conditions(scope, true, needle)
}

/// The same conditions on each row's own values only (for offers, which are their own).
pub(crate) fn own_conditions(scope: &Scope, needle: Option<&Needle>) -> Conditions {
    row_conditions(scope, false, needle)
}

fn row_conditions(scope: &Scope, through_offer: bool, needle: Option<&Needle>) -> Conditions {
    let mut clauses: Vec<String> = Vec::new();
    let mut params = Vec::new();
    if let Some(from) = scope.from {
        clauses.push("ts >= ?".into());
        params.push(timestamp(from));
    }
    if let Some(to) = scope.to {
        clauses.push("ts < ?".into());
        params.push(timestamp(to));
    }
    if let Some(bucket) = &scope.bucket {
        clauses.push("ab_test_bucket = ?".into());
        params.push(Value::Text(bucket.clone()));
    }
    if let Some(event) = &scope.event {
        clauses.push("event = ?".into());
        params.push(Value::Text(event.clone()));
    }
    if let Some(session_id) = &scope.session_id {
        clauses.push("session_id = ?".into());
        params.push(Value::Text(session_id.clone()));
    }
    if let Some((start, end)) = scope.rows {
        clauses.push("row_number >= ? AND row_number < ?".into());
        params.push(Value::BigInt(start));
        params.push(Value::BigInt(end));
    }
    if let Some((at_least, below)) = scope.latency {
        clauses.push("latency_ms >= ?".into());
        params.push(Value::BigInt(at_least));
        if let Some(below) = below {
            clauses.push("latency_ms < ?".into());
            params.push(Value::BigInt(below));
        }
    }
    let text_only = scope.policy.is_none() && scope.policies.is_none();
    match (needle, offer_conditions(scope, needle)) {
        (Some(needle), Some(_)) if through_offer && text_only => {
            match needle.rows_in(Hours::covering(scope.from, scope.to)) {
                // A word: the index's rows and answers of the range's hours.
                Some((rows, rows_params)) => {
                    clauses.push(format!("row_number IN ({rows})"));
                    params.extend(rows_params);
                }
                // A phrase: the rows whose texts match, and the outcomes of the offers
                // among them.
                None => {
                    let (rows, rows_params) = needle.own_rows();
                    clauses.push(format!(
                        "(row_number IN ({rows}) OR row_number IN ({}))",
                        answers::outcomes_of(&rows)
                    ));
                    params.extend(rows_params.iter().cloned());
                    params.extend(rows_params);
                }
            }
        }
        (_, Some(offer)) if through_offer => {
            // The row itself, or an outcome whose offer (named or inferred) matches.
            let offers = format!("SELECT row_number FROM src WHERE {}", offer.sql);
            clauses.push(format!(
                "({} OR row_number IN ({}))",
                offer.sql,
                answers::outcomes_of(&offers)
            ));
            for _ in 0..2 {
                params.extend(offer.params.iter().cloned());
            }
        }
        (_, Some(offer)) => {
            clauses.push(offer.sql);
            params.extend(offer.params);
        }
        (_, None) => {}
    }
    let sql = if clauses.is_empty() {
        "TRUE".to_owned()
    } else {
        clauses.join(" AND ")
    };
    Conditions { sql, params }
}

/// The conditions on what a suggestion's offer says (policies, text), on unqualified columns.
fn offer_conditions(scope: &Scope, needle: Option<&Needle>) -> Option<Conditions> {
    let mut clauses: Vec<String> = Vec::new();
    let mut params = Vec::new();
    if let Some(needle) = needle {
        let (rows, rows_params) = needle.own_rows();
        clauses.push(format!("row_number IN ({rows})"));
        params.extend(rows_params);
    }
    if let Some(policy) = &scope.policy {
        // A plain substring test first skips most rows cheaply; it is only sound when the
        // policy id is written the same way inside JSON text (no escapes needed).
        let plain = policy
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\');
        if plain {
            params.push(Value::Text(policy.clone()));
            clauses.push(format!(
                "(contains(policy_refs, ?) AND list_contains({POLICY_LIST}, ?))"
            ));
        } else {
            clauses.push(format!("list_contains({POLICY_LIST}, ?)"));
        }
        params.push(Value::Text(policy.clone()));
    }
    if let Some(set) = &scope.policies {
        clauses.push(format!(
            "list_has_any({POLICY_LIST}, [{}])",
            placeholders(set.len())
        ));
        params.extend(set.iter().cloned().map(Value::Text));
    }
    (!clauses.is_empty()).then(|| Conditions {
        sql: format!("({})", clauses.join(" AND ")),
        params,
    })
}

/// `?, ?, …` for a list of `count` values.
pub(crate) fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// Start of a time slot `?` seconds wide, in seconds since the epoch (NULL when not grouped).
fn slot_expression(grouped: bool) -> &'static str {
    if grouped {
        "epoch(time_bucket(to_seconds(?::BIGINT), ts))::BIGINT"
    } else {
        "NULL::BIGINT"
    }
}

/// Rows per (slot, bucket, event, latency bin): count and sum of positive latencies.
/// Parameters: [slot width if grouped], then the conditions'.
pub(crate) fn aggregate(source: &str, conditions: &str, grouped: bool) -> String {
    let slot = slot_expression(grouped);
    format!(
        "WITH src AS NOT MATERIALIZED ({source}),
         picked AS (
             SELECT {slot} AS slot, ab_test_bucket AS bucket, event,
                    CASE WHEN latency_ms > 0 THEN least(latency_ms, {MAX_LATENCY_MS}) END AS lat
             FROM src WHERE {conditions}
         ),
         binned AS (
             SELECT slot, bucket, event, lat, floor(log2(lat))::BIGINT AS e0 FROM picked
         ),
         exact AS (SELECT slot, bucket, event, lat, {EXPONENT} AS e FROM binned)
         SELECT slot, bucket, event, {LATENCY_BIN} AS bin, count(*) AS n,
                coalesce(sum(lat), 0)::BIGINT AS latency_sum
         FROM exact GROUP BY ALL"
    )
}

pub(crate) fn list_of(values: &[i64]) -> Value {
    Value::List(values.iter().copied().map(Value::BigInt).collect())
}

/// The longest list of slots [`to_buckets`] binds; past it, an ASOF join does the work
/// (a list of this length is a few MB of bound values).
const MAX_SLOT_LIST: i64 = 100_000;

/// How the rows of `parts` move to the start of the bucket holding their `slot` (the
/// latest start at or before it; a slot before every start keeps its own): the join to
/// add after `FROM parts`, the expression of the bucket's start, and their parameters.
pub(crate) struct ToBuckets {
    pub join: String,
    pub start: String,
    pub params: Vec<Value>,
}

/// [`ToBuckets`] for `starts` (ascending, each a multiple of `width`, the slots' width).
/// Each slot from the first start to the last is looked up in a list of its bucket's
/// start, by position: an ASOF join sorts every row first (100M events, a week in New York
/// for one policy: 380 ms with the join, 142 ms with the list).
pub(crate) fn to_buckets(starts: &[i64], width: i64) -> ToBuckets {
    let slots = match (starts.first(), starts.last()) {
        (Some(first), Some(last)) if width > 0 => (last - first) / width + 1,
        _ => 0,
    };
    if slots == 0 || slots > MAX_SLOT_LIST {
        return ToBuckets {
            join: "ASOF LEFT JOIN (SELECT unnest(?::BIGINT[]) AS start) starts
                   ON parts.slot >= starts.start"
                .to_owned(),
            start: "coalesce(starts.start, parts.slot)".to_owned(),
            params: vec![list_of(starts)],
        };
    }
    let first = starts[0];
    let mut bucket = 0;
    let bucket_of_slot: Vec<i64> = (0..slots)
        .map(|index| {
            let slot = first + index * width;
            while starts.get(bucket + 1).is_some_and(|next| *next <= slot) {
                bucket += 1;
            }
            starts[bucket]
        })
        .collect();
    ToBuckets {
        join: String::new(),
        // Slots past the last start are in the last bucket: the position stops there.
        start: "CASE WHEN parts.slot < ? THEN parts.slot
                     ELSE list_extract(?::BIGINT[], least((parts.slot - ?) // ?, ?) + 1) END"
            .to_owned(),
        params: vec![
            Value::BigInt(first),
            list_of(&bucket_of_slot),
            Value::BigInt(first),
            Value::BigInt(width),
            Value::BigInt(slots - 1),
        ],
    }
}

/// The rows of `slotted` (a query with [`aggregate`]'s columns, slots `width` wide) with
/// each slot moved to the start of the bucket holding it, and the parameters that follow
/// `slotted`'s.
pub(crate) fn in_buckets(slotted: &str, starts: &[i64], width: i64) -> (String, Vec<Value>) {
    let ToBuckets {
        join,
        start,
        params,
    } = to_buckets(starts, width);
    let sql = format!(
        "WITH parts AS ({slotted})
         SELECT {start} AS slot, bucket, event, bin,
                sum(n)::BIGINT AS n, sum(latency_sum)::BIGINT AS latency_sum
         FROM parts {join}
         GROUP BY ALL"
    );
    (sql, params)
}

/// As [`aggregate`], from a source whose rows carry their positive latency (`lat`) and
/// its bin (`bin`) already: the policy rows.
pub(crate) fn binned_aggregate(source: &str, conditions: &str, grouped: bool) -> String {
    let slot = slot_expression(grouped);
    format!(
        "WITH src AS NOT MATERIALIZED ({source})
         SELECT {slot} AS slot, ab_test_bucket AS bucket, event, bin, count(*) AS n,
                coalesce(sum(lat), 0)::BIGINT AS latency_sum
         FROM src WHERE {conditions} GROUP BY ALL"
    )
}

/// Policy references per (slot, bucket, event, policy); JSON null items count as "null"
/// as they do in the note's Python. Parameters as for [`aggregate`].
pub(crate) fn policy_counts(source: &str, conditions: &str, grouped: bool) -> String {
    let slot = slot_expression(grouped);
    format!(
        "WITH src AS NOT MATERIALIZED ({source}),
         refs AS (
             SELECT {slot} AS slot, ab_test_bucket AS bucket, event,
                    unnest({POLICY_LIST}) AS policy
             FROM src
             WHERE policy_refs IS NOT NULL AND policy_refs <> '[]' AND ({conditions})
         )
         SELECT slot, bucket, event, coalesce(policy, 'null') AS policy, count(*) AS n
         FROM refs GROUP BY ALL"
    )
}

/// As [`policy_counts`], from a source whose rows carry their parsed references (`refs`)
/// already: the policy rows.
pub(crate) fn listed_policy_counts(source: &str, conditions: &str, grouped: bool) -> String {
    let slot = slot_expression(grouped);
    format!(
        "WITH src AS NOT MATERIALIZED ({source}),
         refs AS (
             SELECT {slot} AS slot, ab_test_bucket AS bucket, event, unnest(refs) AS policy
             FROM src WHERE len(refs) > 0 AND ({conditions})
         )
         SELECT slot, bucket, event, coalesce(policy, 'null') AS policy, count(*) AS n
         FROM refs GROUP BY ALL"
    )
}

pub(crate) fn count(source: &str, conditions: &str) -> String {
    format!("WITH src AS NOT MATERIALIZED ({source}) SELECT count(*) FROM src WHERE {conditions}")
}

pub(crate) fn extent(source: &str) -> String {
    format!(
        "WITH src AS NOT MATERIALIZED ({source}) SELECT count(*), min(ts), max(ts), max(row_number) FROM src"
    )
}

/// The ORDER BY of an events page.
fn order_by(query: &EventsQuery) -> String {
    let direction = match query.order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    match query.sort {
        SortKey::Ts => format!("ts {direction}, id {direction}"),
        SortKey::LatencyMs => {
            format!("latency_ms {direction} NULLS LAST, ts {direction}, id {direction}")
        }
    }
}

/// The columns of an events page, from `src`.
const EVENT_COLUMNS: &str = "id, ts, event, session_id, agent_draft, suggestion_used,
    policy_refs, latency_ms, ab_test_bucket, offer_id";

/// The rows of an events page: `columns` of the rows `conditions` select in the query's
/// order. Parameters: the conditions', [cursor ts, ts, id], limit, offset.
fn page(source: &str, columns: &str, query: &EventsQuery, conditions: &str) -> String {
    let after = match (query.after.is_some(), query.order) {
        (false, _) => "",
        (true, SortOrder::Desc) => " AND (ts < ? OR (ts = ? AND id < ?))",
        (true, SortOrder::Asc) => " AND (ts > ? OR (ts = ? AND id > ?))",
    };
    format!(
        "WITH src AS NOT MATERIALIZED ({source})
         SELECT {columns}
         FROM src WHERE ts IS NOT NULL AND {conditions}{after}
         ORDER BY {} LIMIT ? OFFSET ?",
        order_by(query)
    )
}

/// A page of events. Parameters: the conditions', [cursor ts, ts, id], limit, offset.
pub(crate) fn events_page(source: &str, query: &EventsQuery, conditions: &str) -> String {
    page(source, EVENT_COLUMNS, query, conditions)
}

/// The row numbers of a page of events, chosen from `source` (narrower than the events').
/// Parameters as for [`events_page`].
pub(crate) fn page_rows(source: &str, query: &EventsQuery, conditions: &str) -> String {
    page(source, "row_number", query, conditions)
}

/// Row ids apart by less than this may share a row group (DuckDB's holds 122,880 rows).
const NEAR_ROWS: i64 = 122_880;

/// Row numbers sorted and cut into runs of near ones: each run is read through the row-id
/// zone maps of its own few row groups (a page sorted by latency has rows all over the
/// table, and one range from the first to the last would read all of it).
pub(crate) fn runs_of(mut rows: Vec<i64>) -> Vec<Vec<i64>> {
    rows.sort_unstable();
    let mut runs: Vec<Vec<i64>> = Vec::new();
    for row in rows {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|last| row - last < NEAR_ROWS) => run.push(row),
            _ => runs.push(vec![row]),
        }
    }
    runs
}

/// The events of the row numbers in `runs` ([`runs_of`]), in the query's order.
/// Parameters: for each run, its first and last row number, then each of them.
pub(crate) fn events_at_rows(source: &str, query: &EventsQuery, runs: &[Vec<i64>]) -> String {
    let reads: Vec<String> = runs
        .iter()
        .map(|run| {
            format!(
                "SELECT {EVENT_COLUMNS} FROM src
                 WHERE row_number BETWEEN ? AND ? AND row_number IN ({})",
                placeholders(run.len())
            )
        })
        .collect();
    format!(
        "WITH src AS NOT MATERIALIZED ({source})
         SELECT * FROM ({}) ORDER BY {}",
        reads.join(" UNION ALL "),
        order_by(query)
    )
}

/// One event into the table's `columns`.
pub(crate) fn insert_one(columns: &[&str]) -> String {
    format!(
        "INSERT INTO coach_events ({}) VALUES ({})",
        columns.join(", "),
        placeholders(columns.len())
    )
}

pub(crate) fn stored_ids(source: &str, how_many: usize) -> String {
    format!(
        "WITH src AS NOT MATERIALIZED ({source}) SELECT DISTINCT id FROM src WHERE id IN ({})",
        placeholders(how_many)
    )
}

pub(crate) fn ids(source: &str, conditions: &str) -> String {
    format!(
        "WITH src AS NOT MATERIALIZED ({source}) SELECT id FROM src WHERE id IS NOT NULL AND {conditions}"
    )
}

/// Which suggestions (rows of `coachboard_suggestions`) a scope covers: time, bucket and
/// session on the suggestion's own columns, what the offer says (policy, text) through its
/// row. `event` and row ranges do not apply to suggestions.
pub(crate) fn suggestion_conditions(scope: &Scope, needle: Option<&Needle>) -> Conditions {
    let own = Scope {
        event: None,
        policy: None,
        policies: None,
        text: None,
        rows: None,
        latency: None,
        ..scope.clone()
    };
    let mut conditions = own_conditions(&own, None);
    if let Some(policy) = &scope.policy {
        // The facts keep each offer's policies, parsed as the note counts them.
        conditions.sql = format!("{} AND list_contains(policies, ?)", conditions.sql);
        conditions.params.push(Value::Text(policy.clone()));
    }
    if let Some(set) = &scope.policies {
        conditions.sql = format!(
            "{} AND list_has_any(policies, [{}])",
            conditions.sql,
            placeholders(set.len())
        );
        conditions
            .params
            .extend(set.iter().cloned().map(Value::Text));
    }
    if let Some(needle) = needle {
        // Every offered row with a matching offer's id, as `conditions` selects them.
        let (rows, rows_params) = needle.own_rows();
        conditions.sql = format!(
            "{} AND offer_id IN (SELECT offer_id FROM {FACTS} WHERE offer_row IN ({rows}))",
            conditions.sql
        );
        conditions.params.extend(rows_params);
    }
    conditions
}

/// The conditions of a scope read from `coachboard_policy_rows` (see
/// `policy_rows::SOURCE`): its policy through the `policy` column, which already follows
/// outcomes to their offers, the other filters on the rows' own columns.
pub(crate) fn policy_row_conditions(scope: &Scope) -> Conditions {
    // Never asked with a set of policies (`uses_policy_rows`); kept if it were, so no filter
    // is ever dropped.
    let mut conditions = own_conditions(
        &Scope {
            policy: None,
            ..scope.clone()
        },
        None,
    );
    if let Some(policy) = &scope.policy {
        conditions.sql = format!("{} AND policy = ?", conditions.sql);
        conditions.params.push(Value::Text(policy.clone()));
    }
    conditions
}

/// The scope's suggestions as the CTE `picked`. Parameters: the conditions'.
fn picked(source: &str, conditions: &str) -> String {
    format!(
        "WITH src AS NOT MATERIALIZED ({source}),
         picked AS (SELECT * FROM {FACTS} WHERE {conditions})"
    )
}

/// Suggestions per (bucket, outcome, link kind, decision-time bin, policy reference).
/// Parameters: the conditions', then the unanswered cut-off.
pub(crate) fn suggestions(source: &str, conditions: &str) -> String {
    let with = picked(source, conditions);
    format!(
        "{with}
         SELECT ab_test_bucket, outcome, inferred, answers > 1,
                coalesce(outcome IS NULL AND ts < ?, false), decision_bin, touches_policy,
                count(*) AS n
         FROM picked GROUP BY ALL"
    )
}

/// Suggestions per (policy referenced by the offer, outcome). Parameters: the conditions'.
pub(crate) fn policy_outcomes(source: &str, conditions: &str) -> String {
    let with = picked(source, &format!("touches_policy AND {conditions}"));
    // Each fact keeps its offer's policies, parsed as the note counts them: no join back
    // to the offer's row (10M events: 7 s with it).
    format!(
        "{with},
         refs AS (SELECT unnest(policies) AS policy, outcome FROM picked)
         SELECT coalesce(policy, 'null') AS policy, outcome, count(*) AS n
         FROM refs GROUP BY ALL"
    )
}

/// Sessions offered a suggestion, and those offered in two buckets or more. Parameters:
/// the conditions'.
pub(crate) fn multiple_exposure(source: &str, conditions: &str) -> String {
    let with = picked(source, conditions);
    format!(
        "{with},
         -- Two buckets or more is a smallest and a largest that differ: cheaper per group
         -- than a DISTINCT count (10M events: 0.96 s to 0.79 s).
         sessions AS (
             SELECT session_id, min(ab_test_bucket) <> max(ab_test_bucket) AS several
             FROM picked
             WHERE session_id IS NOT NULL AND ab_test_bucket IS NOT NULL
             GROUP BY session_id
         )
         SELECT count(*), count(*) FILTER (WHERE several) FROM sessions"
    )
}

/// Suggestions per (rewrite-size band, outcome). Parameters: the conditions'.
pub(crate) fn rewrite_outcomes(source: &str, conditions: &str) -> String {
    let with = picked(source, conditions);
    format!(
        "{with}
         SELECT {band} AS band, picked.outcome, count(*) AS n
         FROM picked LEFT JOIN {sizes} sizes ON sizes.offer_row = picked.offer_row
         GROUP BY ALL",
        band = rewrites::BAND,
        sizes = rewrites::TABLE,
    )
}

/// The links of one session's outcomes. Parameters: the session id.
pub(crate) fn session_links(source: &str) -> String {
    format!(
        "WITH src AS NOT MATERIALIZED ({source}), links AS ({ALL_LINKS})
         SELECT links.outcome_id, links.offer_id, links.inferred
         FROM links JOIN src outcome ON outcome.id = links.outcome_id
         WHERE outcome.session_id = ?"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_far_apart_are_read_as_runs_of_their_own() {
        let far = NEAR_ROWS * 10;
        assert_eq!(
            runs_of(vec![far + 7, 3, far, 1, NEAR_ROWS + 3]),
            vec![vec![1, 3], vec![NEAR_ROWS + 3], vec![far, far + 7]]
        );
        assert!(runs_of(Vec::new()).is_empty());
    }

    /// The latest start at or before a slot; the slot itself before every start.
    fn bucket_of(starts: &[i64], slot: i64) -> i64 {
        starts
            .iter()
            .rev()
            .find(|start| **start <= slot)
            .copied()
            .unwrap_or(slot)
    }

    /// Both ways of moving slots to buckets (the list, and the ASOF join past
    /// `MAX_SLOT_LIST` slots) put every slot where the rule puts it: before the first
    /// start, on and between starts of uneven width, and past the last.
    #[test]
    fn slots_move_to_the_bucket_holding_them() {
        let conn = duckdb::Connection::open_in_memory().expect("in-memory DuckDB");
        let width = 900;
        let short = vec![3_600, 7_200, 9_000, 90_000, 90_900];
        let long = vec![
            3_600,
            7_200,
            3_600 + width * MAX_SLOT_LIST,
            3_600 + width * (MAX_SLOT_LIST + 5),
        ];
        for starts in [short, long] {
            let last = *starts.last().expect("starts");
            let slots: Vec<i64> = (0..40)
                .map(|n| n * width)
                .chain([last - width, last, last + width, last + 100 * width])
                .chain(starts.iter().flat_map(|start| [*start, start + width]))
                .collect();
            let slotted = "SELECT unnest(?::BIGINT[]) AS slot, 'A' AS bucket, 'offered' AS event,
                                  NULL::INTEGER AS bin, 1 AS n, 0 AS latency_sum";
            let (query, bucket_params) = in_buckets(slotted, &starts, width);
            let mut params = vec![list_of(&slots)];
            params.extend(bucket_params);
            let mut statement = conn.prepare(&query).expect("prepare");
            let mut found: Vec<(i64, i64)> = statement
                .query_map(duckdb::params_from_iter(params), |row| {
                    Ok((row.get(0)?, row.get(4)?))
                })
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            found.sort_unstable();
            let mut expected: std::collections::BTreeMap<i64, i64> = Default::default();
            for slot in &slots {
                *expected.entry(bucket_of(&starts, *slot)).or_default() += 1;
            }
            assert_eq!(
                found,
                expected.into_iter().collect::<Vec<_>>(),
                "{starts:?}"
            );
        }
    }
}

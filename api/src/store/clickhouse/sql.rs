//! Every ClickHouse statement of the API, written out. Values are `?` placeholders bound by
//! the client library (`clickhouse::sql::Bind`, which escapes them); the only text spliced
//! in is the fixed fragments below and identifiers checked in `config.rs`.

use chrono::NaiveDateTime;
use coachboard_contract::{SortKey, SortOrder};

use super::super::{EventsQuery, Scope};
use super::rollup::WholeHours;
use crate::histogram::MAX_LATENCY_MS;

/// A value for a `?` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    /// An array, bound as `[1, 2, …]`.
    Ints(Vec<i64>),
}

/// SQL text and its arguments, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Statement {
    pub sql: String,
    pub args: Vec<Arg>,
}

pub(crate) fn micros(instant: NaiveDateTime) -> i64 {
    instant.and_utc().timestamp_micros()
}

/// The `ts` column of a row at `micros`: its second, within `DateTime`'s range, as
/// `rows::EventRow` writes it. Monotonic, so a bound on `ts_us` implies one on `ts`.
pub(crate) fn second_of(micros: i64) -> i64 {
    in_datetime_range(micros.div_euclid(1_000_000))
}

/// A second as `DateTime` (UInt32) holds it.
fn in_datetime_range(second: i64) -> i64 {
    second.clamp(0, i64::from(u32::MAX))
}

/// DuckDB's `time_bucket` origin for widths without months (Monday 2000-01-03 UTC): slots
/// start where the DuckDB store's do, weeks on Mondays.
const SLOT_ORIGIN: i64 = 946_857_600;

/// Start of the slot `width` seconds wide holding the row's `time` column (`ts` of an
/// event, `hour` of a roll-up row), in seconds since the epoch.
fn slot(time: &str, width: Option<i64>) -> String {
    match width {
        Some(width) => format!(
            "toInt64(floor((toInt64({time}) - {SLOT_ORIGIN}) / {width})) * {width} + {SLOT_ORIGIN}"
        ),
        None => "toInt64(0)".to_owned(),
    }
}

/// `histogram::bin_of` over a positive latency `lat`: exact below 256, then 128 bins per
/// power of two. `log2` is corrected by one where floating point lands on the wrong side.
const LATENCY_BIN: &str = "if(lat < 256, lat, (e - 7) * 128 + bitShiftRight(lat, e - 7))";
const EXPONENT: &str = "e0 - if(bitShiftLeft(toInt64(1), e0) > lat, 1, 0)
        + if(bitShiftLeft(toInt64(1), e0 + 1) <= lat, 1, 0)";

/// The conditions of a scope on `events`' own columns, joined with AND (`1` when none).
/// `policy` and `text` select a row when it or the offer it answers matches; the links an
/// outcome does not name are in `links`.
pub(crate) fn conditions(scope: &Scope) -> Statement {
    let mut clauses: Vec<String> = Vec::new();
    let mut args = Vec::new();
    // Each time bound twice: exactly on `ts_us`, and as the second it implies on `ts`, which
    // the primary key (toDate(ts), id) and the monthly partitions can skip days by.
    if let Some(from) = scope.from {
        clauses.push("ts_us >= ? AND ts >= toDateTime(?)".into());
        args.push(Arg::Int(micros(from)));
        args.push(Arg::Int(second_of(micros(from))));
    }
    if let Some(to) = scope.to {
        clauses.push("ts_us < ? AND ts <= toDateTime(?)".into());
        args.push(Arg::Int(micros(to)));
        args.push(Arg::Int(second_of(micros(to) - 1)));
    }
    if let Some(bucket) = &scope.bucket {
        clauses.push("ab_test_bucket = ?".into());
        args.push(Arg::Text(bucket.clone()));
    }
    if let Some(event) = &scope.event {
        clauses.push("event = ?".into());
        args.push(Arg::Text(event.clone()));
    }
    if let Some(session_id) = &scope.session_id {
        clauses.push("session_id = ?".into());
        args.push(Arg::Text(session_id.clone()));
    }
    if let Some((at_least, below)) = scope.latency {
        clauses.push("latency_ms >= ?".into());
        args.push(Arg::Int(at_least));
        if let Some(below) = below {
            clauses.push("latency_ms < ?".into());
            args.push(Arg::Int(below));
        }
    }
    if let Some(offer) = offer_conditions(scope) {
        // The row itself, or an outcome whose offer (named or inferred) matches.
        clauses.push(format!(
            "({p} OR (event IN ('accepted', 'edited', 'rejected') AND (
                offer_id GLOBAL IN (SELECT id FROM events WHERE event = 'offered' AND {p})
                OR id GLOBAL IN (SELECT outcome_id FROM links FINAL WHERE offer_id GLOBAL IN
                          (SELECT id FROM events WHERE event = 'offered' AND {p})))))",
            p = offer.sql
        ));
        for _ in 0..3 {
            args.extend(offer.args.iter().cloned());
        }
    }
    Statement {
        sql: if clauses.is_empty() {
            "1".to_owned()
        } else {
            clauses.join(" AND ")
        },
        args,
    }
}

/// What a suggestion's offer says (policies, text), on unqualified columns.
pub(crate) fn offer_conditions(scope: &Scope) -> Option<Statement> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args = Vec::new();
    if let Some(text) = &scope.text {
        // A case-insensitive substring (positionCaseInsensitiveUTF8: 18.16's `match` ignores
        // `(?i)`).
        clauses.push(
            "(positionCaseInsensitiveUTF8(ifNull(agent_draft, ''), ?) > 0
              OR positionCaseInsensitiveUTF8(ifNull(suggestion_used, ''), ?) > 0)"
                .into(),
        );
        args.push(Arg::Text(text.clone()));
        args.push(Arg::Text(text.clone()));
    }
    if let Some(policy) = &scope.policy {
        clauses.push("has(policies, ?)".into());
        args.push(Arg::Text(policy.clone()));
    }
    if let Some(set) = &scope.policies {
        let (list, values) = text_list(set);
        clauses.push(format!("hasAny(policies, [{list}])"));
        args.extend(values);
    }
    (!clauses.is_empty()).then(|| Statement {
        sql: format!("({})", clauses.join(" AND ")),
        args,
    })
}

/// Rows per (slot, bucket, event, latency bin): count and sum of positive latencies.
pub(crate) fn aggregate(scope: &Scope, width: Option<i64>) -> Statement {
    aggregate_by(
        scope,
        Statement {
            sql: slot("ts", width),
            args: Vec::new(),
        },
    )
}

/// [`aggregate`] with each slot reported as the start of its bucket ([`bucket_map`]).
pub(crate) fn aggregate_in_buckets(
    scope: &Scope,
    width: i64,
    starts: &[i64],
    map: &(Vec<i64>, Vec<i64>),
) -> Statement {
    aggregate_by(scope, bucket_of_slot("ts", width, starts, map))
}

/// [`aggregate_in_buckets`] over the rows in the whole UTC hours starting at `hours` only
/// (seconds): `map` need only hold the slots of those hours.
pub(crate) fn aggregate_in_hours(
    scope: &Scope,
    hours: &[i64],
    width: i64,
    starts: &[i64],
    map: &(Vec<i64>, Vec<i64>),
) -> Statement {
    let Statement {
        sql: cond,
        mut args,
    } = conditions(scope);
    // A set, not `has` over an array: that compared every row with every hour.
    args.extend(hours.iter().copied().map(Arg::Int));
    aggregate_by_where(
        Statement {
            sql: format!(
                "{cond} AND toInt64(toStartOfHour(ts)) IN ({})",
                marks(hours.len().max(1))
            ),
            args,
        },
        bucket_of_slot("ts", width, starts, map),
    )
}

/// [`aggregate`] grouped by the slot expression `slot`.
fn aggregate_by(scope: &Scope, slot: Statement) -> Statement {
    aggregate_by_where(conditions(scope), slot)
}

/// [`aggregate_by`] over the rows `cond` selects.
fn aggregate_by_where(cond: Statement, slot: Statement) -> Statement {
    let Statement {
        sql: cond,
        args: cond_args,
    } = cond;
    let Statement {
        sql: slot,
        mut args,
    } = slot;
    args.extend(cond_args);
    Statement {
        sql: format!(
            "SELECT slot, bucket, event, if(lat > 0, {LATENCY_BIN}, -1) AS bin,
                    count() AS n, toInt64(sum(lat)) AS latency_sum
             FROM (
                 SELECT slot, bucket, event, lat, {EXPONENT} AS e
                 FROM (
                     SELECT {slot} AS slot, ab_test_bucket AS bucket, event,
                            if(ifNull(latency_ms, 0) > 0, least(assumeNotNull(latency_ms), toInt64({MAX_LATENCY_MS})), 0) AS lat,
                            if(lat > 0, toInt64(floor(log2(lat))), 0) AS e0
                     FROM events WHERE {cond}
                 )
             )
             GROUP BY slot, bucket, event, bin"
        ),
        args,
    }
}

/// Most slots a timeseries maps to its buckets in SQL; past this (hours of a long range in
/// a zone with a 15-minute offset) the slots are sent as they are.
const MAX_MAPPED_SLOTS: usize = 20_000;

/// Which bucket each slot `width` wide between the first and the last of `starts` falls
/// in (bucket starts, ascending, each a slot start): `(slots, their buckets)`, `None` when
/// there would be too many.
pub(crate) fn bucket_map(starts: &[i64], width: i64) -> Option<(Vec<i64>, Vec<i64>)> {
    let (first, last) = (*starts.first()?, *starts.last()?);
    // One bucket takes every slot as it is.
    if starts.len() < 2 {
        return None;
    }
    map_slots(slots_within(width, first, last)?, starts)
}

/// The slots `width` wide (on the grid of [`slot`]) that hold a moment of `[from, to)`, the
/// first starting at or before `from`; `None` for a width that is not positive.
pub(crate) fn slots_within(width: i64, from: i64, to: i64) -> Option<impl Iterator<Item = i64>> {
    let step = usize::try_from(width).ok().filter(|step| *step > 0)?;
    let first = from - (from - SLOT_ORIGIN).rem_euclid(width);
    Some((first..to).step_by(step))
}

/// `(slots, their buckets)` for those of `slots` (ascending) from the first of `starts` to
/// the last (bucket starts, ascending); slots before it stay as they are and those after
/// it go to the last bucket ([`bucket_of_slot`]). `None` when there are too many.
pub(crate) fn map_slots(
    slots: impl Iterator<Item = i64>,
    starts: &[i64],
) -> Option<(Vec<i64>, Vec<i64>)> {
    let (first, last) = (*starts.first()?, *starts.last()?);
    let slots: Vec<i64> = slots
        .skip_while(|slot| *slot < first)
        .take_while(|slot| *slot < last)
        .take(MAX_MAPPED_SLOTS + 1)
        .collect();
    if slots.len() > MAX_MAPPED_SLOTS {
        return None;
    }
    let buckets = slots
        .iter()
        .map(|slot| starts[starts.partition_point(|start| start <= slot) - 1])
        .collect();
    Some((slots, buckets))
}

/// The slot of `time` (`width` wide) reported as the start of the bucket it falls in, by
/// `map` ([`map_slots`]): a timeseries of local days then groups a row per day and
/// group, not one per hour (Europe/Berlin over 90 days of the roll-up: 1.3M groups in
/// 1.1 s, against 97k in 0.17 s). Slots before the first bucket stay as they are (the
/// caller drops them); those from the last bucket's start on are in it.
fn bucket_of_slot(time: &str, width: i64, starts: &[i64], map: &(Vec<i64>, Vec<i64>)) -> Statement {
    let (slots, buckets) = map.clone();
    let first = starts.first().copied().unwrap_or_default();
    let last = starts.last().copied().unwrap_or_default();
    let slot = slot(time, Some(width));
    // `transform` wants arrays to map.
    if slots.is_empty() {
        return Statement {
            sql: format!("if({slot} < ?, {slot}, toInt64(?))"),
            args: vec![Arg::Int(first), Arg::Int(last)],
        };
    }
    Statement {
        sql: format!(
            "if({slot} < ?, {slot},
                transform({slot}, CAST(? AS Array(Int64)), CAST(? AS Array(Int64)), toInt64(?)))"
        ),
        args: vec![
            Arg::Int(first),
            Arg::Ints(slots),
            Arg::Ints(buckets),
            Arg::Int(last),
        ],
    }
}

/// The roll-ups' whole hours (`[start, end)` in seconds since the epoch, open where `None`,
/// but the skipped ones) with the scope's bucket and event.
fn rollup_conditions(scope: &Scope, hours: &WholeHours) -> Statement {
    let mut clauses = vec!["1".to_owned()];
    let mut args = Vec::new();
    if let Some(start) = hours.range.0 {
        clauses.push("hour >= toDateTime(?)".into());
        args.push(Arg::Int(start));
    }
    if let Some(end) = hours.range.1 {
        clauses.push("hour < toDateTime(?)".into());
        args.push(Arg::Int(end));
    }
    if !hours.skipped.is_empty() {
        clauses.push(format!(
            "toInt64(hour) NOT IN ({})",
            marks(hours.skipped.len())
        ));
        args.extend(hours.skipped.iter().copied().map(Arg::Int));
    }
    if let Some(bucket) = &scope.bucket {
        clauses.push("has_bucket = 1 AND bucket = ?".into());
        args.push(Arg::Text(bucket.clone()));
    }
    if let Some(event) = &scope.event {
        clauses.push("event = ?".into());
        args.push(Arg::Text(event.clone()));
    }
    Statement {
        sql: clauses.join(" AND "),
        args,
    }
}

/// [`aggregate`] over the whole hours of the roll-up.
pub(crate) fn rollup_aggregate(scope: &Scope, hours: &WholeHours, width: Option<i64>) -> Statement {
    rollup_aggregate_by(
        scope,
        hours,
        Statement {
            sql: slot("hour", width),
            args: Vec::new(),
        },
    )
}

/// [`rollup_aggregate`] with each slot reported as the start of its bucket ([`bucket_map`]).
pub(crate) fn rollup_aggregate_in_buckets(
    scope: &Scope,
    hours: &WholeHours,
    width: i64,
    starts: &[i64],
    map: &(Vec<i64>, Vec<i64>),
) -> Statement {
    rollup_aggregate_by(scope, hours, bucket_of_slot("hour", width, starts, map))
}

fn rollup_aggregate_by(scope: &Scope, hours: &WholeHours, slot: Statement) -> Statement {
    let Statement {
        sql: cond,
        args: cond_args,
    } = rollup_conditions(scope, hours);
    let Statement {
        sql: slot,
        mut args,
    } = slot;
    args.extend(cond_args);
    Statement {
        // Summed per (slot, bucket, event), bins and all; then a row per bin, the first
        // carrying the group's latency sum (answers only add the sums up per group).
        sql: format!(
            "SELECT slot, bucket, event, toInt64(bin_key) AS bin, bin_n AS n,
                    if(nth = 1, group_latency, 0) AS latency_sum FROM (
                 SELECT {slot} AS slot, if(has_bucket = 1, toNullable(bucket), NULL) AS bucket,
                        event, sum(latency_sum) AS group_latency,
                        sumMap(latencyMap.bin, latencyMap.count) AS sums
                 FROM hourly_bins WHERE {cond}
                 GROUP BY slot, has_bucket, bucket, event
             ) ARRAY JOIN sums.1 AS bin_key, sums.2 AS bin_n, arrayEnumerate(sums.1) AS nth"
        ),
        args,
    }
}

/// [`policy_counts`] over the whole hours of the roll-up.
pub(crate) fn rollup_policy_counts(
    scope: &Scope,
    hours: &WholeHours,
    width: Option<i64>,
) -> Statement {
    let Statement { sql: cond, args } = rollup_conditions(scope, hours);
    let slot = slot("hour", width);
    Statement {
        sql: format!(
            "SELECT {slot} AS slot, if(has_bucket = 1, toNullable(bucket), NULL) AS bucket,
                    event, policy, sum(n) AS n
             FROM hourly_policies WHERE {cond}
             GROUP BY slot, has_bucket, bucket, event, policy"
        ),
        args,
    }
}

/// [`count`] over the whole hours of the roll-up.
pub(crate) fn rollup_count(scope: &Scope, hours: &WholeHours) -> Statement {
    let Statement { sql: cond, args } = rollup_conditions(scope, hours);
    Statement {
        sql: format!("SELECT sum(n) FROM hourly_bins WHERE {cond}"),
        args,
    }
}

/// Policy references per (slot, bucket, event, policy).
pub(crate) fn policy_counts(scope: &Scope, width: Option<i64>) -> Statement {
    let Statement { sql: cond, args } = conditions(scope);
    let slot = slot("ts", width);
    Statement {
        sql: format!(
            "SELECT {slot} AS slot, ab_test_bucket AS bucket, event, policy, count() AS n
             FROM events ARRAY JOIN policies AS policy
             WHERE {cond}
             GROUP BY slot, bucket, event, policy"
        ),
        args,
    }
}

pub(crate) fn count(scope: &Scope) -> Statement {
    let Statement { sql: cond, args } = conditions(scope);
    Statement {
        sql: format!("SELECT count() FROM events WHERE {cond}"),
        args,
    }
}

pub(crate) const EXTENT: &str =
    "SELECT count(), if(count() > 0, min(ts_us), 0), if(count() > 0, max(ts_us), 0) FROM events";

/// The first and last hours the roll-up holds (seconds).
pub(crate) const ROLLUP_ENDS: &str =
    "SELECT toInt64(min(hour)) AS first, toInt64(max(hour)) AS last FROM hourly_bins";

/// The earliest instant among the events before a second (only the days before it are
/// read), and how many there are.
pub(crate) fn earliest_before(second: i64) -> Statement {
    Statement {
        sql: "SELECT count() AS n, if(count() > 0, min(ts_us), 0) AS at FROM events
              WHERE ts < toDateTime(?)"
            .to_owned(),
        args: vec![Arg::Int(in_datetime_range(second))],
    }
}

/// The latest instant among the events from a second on, and how many there are.
pub(crate) fn latest_from(second: i64) -> Statement {
    Statement {
        sql: "SELECT count() AS n, if(count() > 0, max(ts_us), 0) AS at FROM events
              WHERE ts >= toDateTime(?)"
            .to_owned(),
        args: vec![Arg::Int(in_datetime_range(second))],
    }
}

/// The columns of an event, as `rows::EventRow` reads them.
pub(crate) const EVENT_COLUMNS: &str = "id, ts_us, event, session_id, agent_draft, \
     suggestion_used, policy_refs, latency_ms, ab_test_bucket, offer_id";

/// The conditions of a page: its scope's, and past its cursor.
fn page_conditions(query: &EventsQuery) -> Statement {
    let Statement {
        sql: mut cond,
        mut args,
    } = conditions(&query.scope);
    if let Some((ts, id)) = &query.after {
        cond.push_str(match query.order {
            SortOrder::Desc => " AND (ts_us < ? OR (ts_us = ? AND id < ?))",
            SortOrder::Asc => " AND (ts_us > ? OR (ts_us = ? AND id > ?))",
        });
        args.push(Arg::Int(micros(*ts)));
        args.push(Arg::Int(micros(*ts)));
        args.push(Arg::Text(id.clone()));
    }
    Statement { sql: cond, args }
}

/// A page (or, with no limit, every row) of events in the query's order.
pub(crate) fn events(query: &EventsQuery, limit: Option<u64>) -> Statement {
    let Statement {
        sql: cond,
        mut args,
    } = page_conditions(query);
    let direction = match query.order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    let order = match query.sort {
        SortKey::Ts => format!("ts_us {direction}, id {direction}"),
        SortKey::LatencyMs => {
            format!("latency_ms {direction} NULLS LAST, ts_us {direction}, id {direction}")
        }
    };
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE {cond} ORDER BY {order}");
    if let Some(limit) = limit {
        sql.push_str(" LIMIT ?, ?");
        args.push(Arg::Int(query.offset.min(i64::MAX as u64) as i64));
        args.push(Arg::Int(limit.min(i64::MAX as u64) as i64));
    } else if query.offset > 0 {
        sql.push_str(" LIMIT ?, 18446744073709551615");
        args.push(Arg::Int(query.offset.min(i64::MAX as u64) as i64));
    }
    Statement { sql, args }
}

/// The rows a page's query selects before its offset and limit.
pub(crate) fn page_count(query: &EventsQuery) -> Statement {
    let Statement { sql: cond, args } = page_conditions(query);
    Statement {
        sql: format!("SELECT count() FROM events WHERE {cond}"),
        args,
    }
}

/// Rows per whole hour in the roll-up (ascending), under a scope's bucket and event.
pub(crate) fn hour_counts(scope: &Scope, hours: &WholeHours) -> Statement {
    let Statement { sql: cond, args } = rollup_conditions(scope, hours);
    Statement {
        sql: format!(
            "SELECT toInt64(hour) AS key, toUInt64(sum(n)) AS n FROM hourly_bins WHERE {cond}
             GROUP BY key HAVING n > 0 ORDER BY key"
        ),
        args,
    }
}

/// Rows per latency bin in the roll-up (ascending; -1: no positive latency).
pub(crate) fn bin_counts(scope: &Scope, hours: &WholeHours) -> Statement {
    let Statement { sql: cond, args } = rollup_conditions(scope, hours);
    Statement {
        sql: format!(
            "SELECT toInt64(bin_key) AS key, toUInt64(bin_n) AS n FROM (
                 SELECT sumMap(latencyMap.bin, latencyMap.count) AS sums
                 FROM hourly_bins WHERE {cond}
             ) ARRAY JOIN sums.1 AS bin_key, sums.2 AS bin_n
             WHERE bin_n > 0 ORDER BY key"
        ),
        args,
    }
}

/// Bytes of the database's active parts on one replica of each shard.
pub(crate) fn size_bytes(cluster: &str) -> String {
    format!(
        "SELECT toUInt64(sum(bytes)) FROM cluster('{cluster}', system, parts)
         WHERE database = ? AND active"
    )
}

pub(crate) fn stored_ids(ids: &[&str]) -> Statement {
    let (placeholders, args) = text_list(ids);
    Statement {
        sql: format!("SELECT DISTINCT id FROM ids WHERE id IN ({placeholders})"),
        args,
    }
}

/// `count` placeholders for a list: `?, ?, ?`.
fn marks(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// `"?, ?, …"` for the values of an `IN (…)` list, and their arguments (one `?` when empty,
/// so the list stays valid SQL and matches nothing).
pub(crate) fn text_list<S: AsRef<str>>(values: &[S]) -> (String, Vec<Arg>) {
    (
        marks(values.len().max(1)),
        values
            .iter()
            .map(|value| Arg::Text(value.as_ref().to_owned()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_slot_maps_to_the_bucket_holding_it() {
        // Local days of 23, 24 and 25 hours (a zone's DST changes), in hour slots.
        let hour = 3_600;
        let starts = [0, 23 * hour, 47 * hour];
        let (slots, buckets) = bucket_map(&starts, hour).expect("a map");
        assert_eq!(slots, (0..47).map(|n| n * hour).collect::<Vec<_>>());
        assert_eq!(buckets[0], 0);
        assert_eq!(buckets[22], 0);
        assert_eq!(buckets[23], 23 * hour);
        assert_eq!(buckets[46], 23 * hour);
        // One bucket, or too many slots to send: the slots go as they are.
        assert_eq!(bucket_map(&[0], hour), None);
        let most = MAX_MAPPED_SLOTS as i64;
        assert_eq!(bucket_map(&[0, (most + 1) * 900], 900), None);
        assert!(bucket_map(&[0, most * 900], 900).is_some());
    }

    #[test]
    fn slots_off_the_hour_map_to_the_bucket_holding_them() {
        // Local days starting at :30 (Asia/Kolkata), in half-hour slots of two hours that
        // hold a day's start, the first hour before the first day.
        let (hour, day) = (3_600, 86_400);
        let first = SLOT_ORIGIN + 18 * hour + 1_800;
        let starts = [first, first + day, first + 2 * day];
        let hours = [first - 1_800, first + day - 1_800];
        let slots = hours
            .iter()
            .flat_map(|hour_start| slots_within(1_800, *hour_start, hour_start + hour))
            .flatten();
        let (slots, buckets) = map_slots(slots, &starts).expect("a map");
        // 18:00 lies before the first day: it stays as it is (left out of the map).
        assert_eq!(slots, vec![first, first + day - 1_800, first + day]);
        assert_eq!(buckets, vec![first, first, first + day]);
        // Slots lie on the grid, the first holding the range's start.
        let on_grid: Vec<i64> = slots_within(1_800, first - 10, first + 1_800)
            .expect("a width")
            .collect();
        assert_eq!(on_grid, vec![first - 1_800, first]);
        assert!(slots_within(0, 0, hour).is_none());
    }

    #[test]
    fn every_value_is_a_placeholder() {
        let scope = Scope {
            bucket: Some("A' OR 1=1 --".into()),
            policy: Some("PII-01".into()),
            text: Some("re?und".into()),
            ..Scope::default()
        };
        let statement = aggregate(&scope, Some(3600));
        assert!(!statement.sql.contains("OR 1=1"));
        assert!(!statement.sql.contains("re?und"));
        let placeholders = statement.sql.matches('?').count();
        assert_eq!(placeholders, statement.args.len());
        assert_eq!(statement.args.len(), 1 + 3 * 3);
    }

    #[test]
    fn skipped_hours_are_left_out_of_the_rollup_and_bound() {
        let hours = WholeHours {
            range: (Some(7_200), None),
            skipped: vec![10_800, 18_000],
        };
        let statement = rollup_count(&Scope::default(), &hours);
        assert!(statement.sql.contains("toInt64(hour) NOT IN (?, ?)"));
        assert_eq!(
            statement.args,
            [Arg::Int(7_200), Arg::Int(10_800), Arg::Int(18_000)]
        );
        assert_eq!(statement.sql.matches('?').count(), statement.args.len());
    }

    #[test]
    fn pages_bind_their_cursor_offset_and_limit() {
        let query = EventsQuery {
            scope: Scope::default(),
            sort: SortKey::Ts,
            order: SortOrder::Desc,
            limit: 50,
            offset: 100,
            after: None,
        };
        let statement = events(&query, Some(50));
        assert!(
            statement
                .sql
                .ends_with("ORDER BY ts_us DESC, id DESC LIMIT ?, ?")
        );
        assert_eq!(statement.args, vec![Arg::Int(100), Arg::Int(50)]);
    }
}

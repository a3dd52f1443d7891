//! `/analytics/timeseries`: per hour, day or week of a time zone, counts per event type,
//! accept rate and latency p50/p95.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use coachboard_contract::{Interval, Timeseries, TimeseriesPoint};

use super::summary::percent;
use super::{Accumulate, Engine, GroupKey, Totals, Wants};
use crate::histogram::SparseHistogram;
use crate::store::{Scope, StoreError};

/// Raw rows are grouped in slots of the widest of these widths that divides every bucket
/// start, so no slot straddles two buckets: whole UTC days for days and weeks in UTC, hours
/// in most zones, and 15 minutes in any (every zone's offset is a multiple of that). Fewer
/// slots are fewer groups for the database to make (a policy's 90 days in UTC: 90 slots,
/// not 8,640).
const SLOT_WIDTHS: [i64; 3] = [86_400, 3_600, 900];
/// Longest range hourly buckets may cover.
pub const MAX_HOURLY_DAYS: i64 = 31;
const MAX_POINTS: usize = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum TimeseriesError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    TooLong(String),
}

pub fn timeseries(
    engine: &Engine,
    scope: &Scope,
    interval: Interval,
    tz: Tz,
) -> Result<Timeseries, TimeseriesError> {
    let extent = engine.extent()?;
    let from = scope.from.or(extent.first);
    let to = scope
        .to
        .or(extent.last.map(|last| last + Duration::microseconds(1)));
    let starts = match (from, to) {
        (Some(from), Some(to)) if from < to => bucket_starts(from, to, interval, tz)?,
        _ => Vec::new(),
    };
    let mut points = PointSink::new(&starts);
    if !starts.is_empty() {
        let wants = Wants {
            policies: false,
            raw_slot: Some(slot_width(&starts)),
            buckets: Some(&starts),
            rollup: true,
        };
        engine.run(scope, wants, &mut points)?;
    }
    Ok(Timeseries {
        interval,
        tz: tz.name().to_owned(),
        points: points.finish(tz),
    })
}

/// The widest of [`SLOT_WIDTHS`] that divides every bucket start.
fn slot_width(starts: &[i64]) -> i64 {
    SLOT_WIDTHS
        .into_iter()
        .find(|width| starts.iter().all(|start| start.rem_euclid(*width) == 0))
        .unwrap_or(SLOT_WIDTHS[SLOT_WIDTHS.len() - 1])
}

/// Starts (UTC seconds) of the buckets that overlap `[from, to)`.
fn bucket_starts(
    from: NaiveDateTime,
    to: NaiveDateTime,
    interval: Interval,
    tz: Tz,
) -> Result<Vec<i64>, TimeseriesError> {
    if interval == Interval::Hour && to - from > Duration::days(MAX_HOURLY_DAYS) {
        return Err(TimeseriesError::TooLong(format!(
            "hourly buckets cover at most {MAX_HOURLY_DAYS} days; narrow from/to or use interval=day"
        )));
    }
    let end = to.and_utc();
    let mut start = floor_local(from.and_utc(), interval, tz);
    let mut starts = Vec::new();
    while start < end {
        if starts.len() == MAX_POINTS {
            return Err(TimeseriesError::TooLong(format!(
                "more than {MAX_POINTS} {interval} buckets; use a longer interval or a shorter range"
            )));
        }
        starts.push(start.timestamp());
        start = next_start(start, interval, tz);
    }
    Ok(starts)
}

/// The start of the local hour, day or ISO week that contains `instant`.
fn floor_local(instant: DateTime<Utc>, interval: Interval, tz: Tz) -> DateTime<Utc> {
    let local = instant.with_timezone(&tz);
    match interval {
        Interval::Hour => {
            let into_hour = i64::from(local.minute() * 60 + local.second());
            let floored = instant - Duration::seconds(into_hour);
            floored - Duration::nanoseconds(i64::from(floored.timestamp_subsec_nanos()))
        }
        Interval::Day => local_midnight(local.date_naive(), tz),
        Interval::Week => {
            let monday = local.date_naive()
                - Duration::days(i64::from(local.weekday().num_days_from_monday()));
            local_midnight(monday, tz)
        }
    }
}

fn next_start(start: DateTime<Utc>, interval: Interval, tz: Tz) -> DateTime<Utc> {
    match interval {
        Interval::Hour => start + Duration::hours(1),
        Interval::Day | Interval::Week => {
            let days = if interval == Interval::Day { 1 } else { 7 };
            let date = start.with_timezone(&tz).date_naive() + Duration::days(days);
            local_midnight(date, tz)
        }
    }
}

/// The first instant of a local date (midnight, or the end of a DST gap at midnight).
fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    (0..=16)
        .find_map(|quarter| {
            tz.from_local_datetime(&(midnight + Duration::minutes(15 * quarter)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |local| local.with_timezone(&Utc))
}

#[derive(Default)]
struct PointAccumulator {
    offered: u64,
    accepted: u64,
    edited: u64,
    rejected: u64,
    other: u64,
    latency: SparseHistogram,
}

struct PointSink<'a> {
    starts: &'a [i64],
    points: Vec<PointAccumulator>,
    /// The slot looked up last and its point.
    last: Option<(i64, usize)>,
}

impl<'a> PointSink<'a> {
    fn new(starts: &'a [i64]) -> Self {
        Self {
            starts,
            points: starts.iter().map(|_| PointAccumulator::default()).collect(),
            last: None,
        }
    }

    fn point(&mut self, slot: Option<i64>) -> Option<&mut PointAccumulator> {
        let slot = slot?;
        // Rows come grouped by slot: look the point up once per slot, not once per row.
        let index = match self.last {
            Some((last_slot, index)) if last_slot == slot => index,
            _ => {
                let index = self
                    .starts
                    .partition_point(|start| *start <= slot)
                    .checked_sub(1)?;
                self.last = Some((slot, index));
                index
            }
        };
        self.points.get_mut(index)
    }

    fn finish(self, tz: Tz) -> Vec<TimeseriesPoint> {
        self.starts
            .iter()
            .zip(self.points)
            .map(|(start, mut point)| {
                let quantiles = point.latency.quantiles(&[0.5, 0.95]);
                let start = DateTime::from_timestamp(*start, 0).unwrap_or_default();
                TimeseriesPoint {
                    start: start.with_timezone(&tz).fixed_offset(),
                    offered: point.offered,
                    accepted: point.accepted,
                    edited: point.edited,
                    rejected: point.rejected,
                    other: point.other,
                    accept_rate: percent(point.accepted + point.edited, point.offered),
                    latency_p50_ms: quantiles[0],
                    latency_p95_ms: quantiles[1],
                }
            })
            .collect()
    }
}

impl Accumulate for PointSink<'_> {
    fn rows(&mut self, slot: Option<i64>, key: GroupKey<'_>, totals: Totals) {
        if let Some(point) = self.point(slot) {
            let counter = match key.event {
                Some("offered") => &mut point.offered,
                Some("accepted") => &mut point.accepted,
                Some("edited") => &mut point.edited,
                Some("rejected") => &mut point.rejected,
                _ => &mut point.other,
            };
            *counter += totals.count;
        }
    }

    fn latency(&mut self, slot: Option<i64>, _key: GroupKey<'_>, bin: u16, count: u64) {
        if let Some(point) = self.point(slot) {
            point.latency.add(bin, count);
        }
    }

    fn policy(&mut self, _slot: Option<i64>, _policy: &str, _count: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> NaiveDateTime {
        DateTime::parse_from_rfc3339(text)
            .expect("valid")
            .naive_utc()
    }

    #[test]
    fn raw_slots_are_as_wide_as_every_bucket_start_allows() {
        let (from, to) = (utc("2025-10-20T10:30:00Z"), utc("2025-11-03T00:00:00Z"));
        let width = |interval, zone: &str| {
            let tz: Tz = zone.parse().expect("zone");
            slot_width(&bucket_starts(from, to, interval, tz).expect("starts"))
        };
        assert_eq!(width(Interval::Day, "UTC"), 86_400);
        assert_eq!(width(Interval::Week, "UTC"), 86_400);
        assert_eq!(width(Interval::Hour, "UTC"), 3_600);
        // Midnight in Berlin is 22:00 or 23:00 UTC (DST ends inside the range).
        assert_eq!(width(Interval::Day, "Europe/Berlin"), 3_600);
        assert_eq!(width(Interval::Day, "Asia/Kolkata"), 900);
        assert_eq!(width(Interval::Hour, "Asia/Kathmandu"), 900);
    }

    #[test]
    fn days_follow_the_zone_across_dst() {
        let tz: Tz = "Europe/Berlin".parse().expect("zone");
        // DST ends on 2025-10-26: that day lasts 25 hours.
        let starts = bucket_starts(
            utc("2025-10-25T12:00:00Z"),
            utc("2025-10-27T12:00:00Z"),
            Interval::Day,
            tz,
        )
        .unwrap();
        let as_text: Vec<String> = starts
            .iter()
            .map(|s| DateTime::from_timestamp(*s, 0).unwrap().to_rfc3339())
            .collect();
        assert_eq!(
            as_text,
            [
                "2025-10-24T22:00:00+00:00",
                "2025-10-25T22:00:00+00:00",
                "2025-10-26T23:00:00+00:00"
            ]
        );
    }

    #[test]
    fn half_hour_zones_and_weeks() {
        let kolkata: Tz = "Asia/Kolkata".parse().expect("zone");
        let starts = bucket_starts(
            utc("2025-10-01T00:00:00Z"),
            utc("2025-10-01T20:00:00Z"),
            Interval::Day,
            kolkata,
        )
        .unwrap();
        assert_eq!(starts.len(), 2);
        assert_eq!(starts[1] % 3600, 1800, "local midnight is 18:30 UTC");
        // 2025-10-01 is a Wednesday: its week starts on Monday 2025-09-29.
        let weeks = bucket_starts(
            utc("2025-10-01T10:00:00Z"),
            utc("2025-10-02T00:00:00Z"),
            Interval::Week,
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(
            weeks,
            vec![utc("2025-09-29T00:00:00Z").and_utc().timestamp()]
        );
    }

    #[test]
    fn hourly_ranges_are_bounded() {
        let result = bucket_starts(
            utc("2025-01-01T00:00:00Z"),
            utc("2025-03-01T00:00:00Z"),
            Interval::Hour,
            Tz::UTC,
        );
        assert!(matches!(result, Err(TimeseriesError::TooLong(_))));
    }
}

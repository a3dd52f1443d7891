//! Which part of a query the hourly roll-ups answer (`hourly`, `hourly_policies`, summed by
//! ClickHouse as parts merge) and which part reads the events: whole UTC hours from the
//! roll-ups, the partial hours at either end and the unsettled hours (`unsettled.rs`) from
//! the events.

use crate::rollup::{HOUR, ceil_hour, floor_hour};
use crate::store::Scope;

/// More separate stretches of unsettled hours than this in one query: it reads only the
/// events (one query) rather than one query per stretch.
const MOST_UNSETTLED_STRETCHES: usize = 16;

/// How to answer one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub hours: Option<WholeHours>,
    /// Scopes read from the events.
    pub raw: Vec<Scope>,
}

/// The hours read from the roll-ups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WholeHours {
    /// Whole hours `[start, end)` in seconds (open where `None`).
    pub range: (Option<i64>, Option<i64>),
    /// Hours in the range left out (read from the events instead), in seconds.
    pub skipped: Vec<i64>,
}

/// The roll-ups answer time, bucket and event filters, grouped by slots of whole hours,
/// except in `unsettled` hours (starts in seconds, sorted).
pub(crate) fn plan(scope: &Scope, slot_seconds: Option<i64>, unsettled: &[i64]) -> Plan {
    let raw_only = Plan {
        hours: None,
        raw: vec![scope.clone()],
    };
    if !scope.fits_rollup() || slot_seconds.is_some_and(|width| width % HOUR != 0) {
        return raw_only;
    }
    let first = scope.from.map(ceil_hour);
    let end = scope.to.map(floor_hour);
    if let (Some(first), Some(end)) = (first, end)
        && first >= end
    {
        return raw_only;
    }
    let instant = |seconds: i64| {
        chrono::DateTime::from_timestamp(seconds, 0).map(|instant| instant.naive_utc())
    };
    let mut raw = Vec::new();
    if let (Some(from), Some(first)) = (scope.from, first.and_then(instant))
        && from < first
    {
        raw.push(scope.with_range(Some(from), Some(first)));
    }
    if let (Some(to), Some(end)) = (scope.to, end.and_then(instant))
        && end < to
    {
        raw.push(scope.with_range(Some(end), Some(to)));
    }
    let skipped: Vec<i64> = unsettled
        .iter()
        .copied()
        .filter(|hour| {
            first.is_none_or(|first| first <= *hour) && end.is_none_or(|end| *hour < end)
        })
        .collect();
    let stretches = stretches(&skipped);
    if stretches.len() > MOST_UNSETTLED_STRETCHES {
        return raw_only;
    }
    for (start, end) in stretches {
        if let (Some(start), Some(end)) = (instant(start), instant(end)) {
            raw.push(scope.with_range(Some(start), Some(end)));
        }
    }
    Plan {
        hours: Some(WholeHours {
            range: (first, end),
            skipped,
        }),
        raw,
    }
}

/// Sorted hour starts as `[start, end)` stretches of consecutive hours.
fn stretches(hours: &[i64]) -> Vec<(i64, i64)> {
    let mut stretches: Vec<(i64, i64)> = Vec::new();
    for &hour in hours {
        match stretches.last_mut() {
            Some((_, end)) if *end == hour => *end = hour + HOUR,
            _ => stretches.push((hour, hour + HOUR)),
        }
    }
    stretches
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, 10, 1)
            .and_then(|day| day.and_hms_opt(h, m, 0))
            .expect("valid time")
    }

    #[test]
    fn whole_hours_from_the_rollup_and_the_edges_raw() {
        let scope = Scope {
            from: Some(at(9, 30)),
            to: Some(at(12, 15)),
            bucket: Some("A".into()),
            ..Scope::default()
        };
        let plan = plan(&scope, Some(HOUR), &[]);
        assert_eq!(
            plan.hours,
            Some(WholeHours {
                range: (Some(floor_hour(at(10, 0))), Some(floor_hour(at(12, 0)))),
                skipped: Vec::new()
            })
        );
        assert_eq!(
            plan.raw,
            vec![
                scope.with_range(Some(at(9, 30)), Some(at(10, 0))),
                scope.with_range(Some(at(12, 0)), Some(at(12, 15)))
            ]
        );
    }

    #[test]
    fn filters_short_ranges_and_odd_slots_read_the_events() {
        let policy = Scope {
            policy: Some("PII-01".into()),
            ..Scope::default()
        };
        assert_eq!(plan(&policy, None, &[]).hours, None);
        let short = Scope {
            from: Some(at(9, 10)),
            to: Some(at(9, 50)),
            ..Scope::default()
        };
        assert_eq!(plan(&short, None, &[]).hours, None);
        assert_eq!(plan(&Scope::default(), Some(1800), &[]).hours, None);
        assert_eq!(
            plan(&Scope::default(), Some(86_400), &[]),
            Plan {
                hours: Some(WholeHours {
                    range: (None, None),
                    skipped: Vec::new()
                }),
                raw: Vec::new()
            }
        );
    }

    #[test]
    fn unsettled_hours_in_range_are_read_from_the_events_in_stretches() {
        let scope = Scope {
            from: Some(at(9, 30)),
            to: Some(at(15, 0)),
            ..Scope::default()
        };
        let hour = |h| floor_hour(at(h, 0));
        // 8:00 is before the range; 11:00 and 12:00 are one stretch; 15:00 is past it.
        let unsettled = [hour(8), hour(11), hour(12), hour(14), hour(15)];
        let plan = plan(&scope, None, &unsettled);
        assert_eq!(
            plan.hours,
            Some(WholeHours {
                range: (Some(hour(10)), Some(hour(15))),
                skipped: vec![hour(11), hour(12), hour(14)]
            })
        );
        assert_eq!(
            plan.raw,
            vec![
                scope.with_range(Some(at(9, 30)), Some(at(10, 0))),
                scope.with_range(Some(at(11, 0)), Some(at(13, 0))),
                scope.with_range(Some(at(14, 0)), Some(at(15, 0))),
            ]
        );
    }

    #[test]
    fn too_many_unsettled_stretches_read_only_the_events() {
        let scope = Scope::default();
        let scattered: Vec<i64> = (0..=MOST_UNSETTLED_STRETCHES as i64)
            .map(|n| n * 2 * HOUR)
            .collect();
        assert_eq!(plan(&scope, None, &scattered).hours, None);
        assert_eq!(plan(&scope, None, &scattered).raw, vec![scope.clone()]);
        let fewer = &scattered[1..];
        assert!(plan(&scope, None, fewer).hours.is_some());
    }
}

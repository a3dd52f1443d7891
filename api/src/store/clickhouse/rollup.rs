//! Which part of a query the hourly roll-ups answer (`hourly`, `hourly_policies`, summed by
//! ClickHouse as parts merge) and which part reads the events: whole UTC hours from the
//! roll-ups, the partial hours at either end from the events.

use crate::rollup::{HOUR, ceil_hour, floor_hour};
use crate::store::Scope;

/// How to answer one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Whole hours `[start, end)` in seconds (open where `None`) read from the roll-ups.
    pub hours: Option<(Option<i64>, Option<i64>)>,
    /// Scopes read from the events.
    pub raw: Vec<Scope>,
}

/// The roll-ups answer time, bucket and event filters, grouped by slots of whole hours.
pub(crate) fn plan(scope: &Scope, slot_seconds: Option<i64>) -> Plan {
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
    Plan {
        hours: Some((first, end)),
        raw,
    }
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
        let plan = plan(&scope, Some(HOUR));
        assert_eq!(
            plan.hours,
            Some((Some(floor_hour(at(10, 0))), Some(floor_hour(at(12, 0)))))
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
        assert_eq!(plan(&policy, None).hours, None);
        let short = Scope {
            from: Some(at(9, 10)),
            to: Some(at(9, 50)),
            ..Scope::default()
        };
        assert_eq!(plan(&short, None).hours, None);
        assert_eq!(plan(&Scope::default(), Some(1800)).hours, None);
        assert_eq!(
            plan(&Scope::default(), Some(86_400)),
            Plan {
                hours: Some((None, None)),
                raw: Vec::new()
            }
        );
    }
}

//! `/analytics/summary`: the note's five figures, percentiles, counts per type, and the
//! preceding period for comparison.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use coachboard_contract::{DatabaseExtent, Figures, Period, PreviousPeriod, Summary};

use super::{Aggregate, Engine, aggregate};
use crate::store::{Scope, StoreError};

/// Event types the note counts as accepted suggestions.
const ACCEPTED: [&str; 2] = ["accepted", "edited"];

pub fn figures(aggregate: &Aggregate) -> Figures {
    let total = aggregate.total();
    let offered = aggregate.count_of("offered");
    let accepted: u64 = ACCEPTED.iter().map(|kind| aggregate.count_of(kind)).sum();
    let mut events_by_type = BTreeMap::new();
    for (_, event, totals) in &aggregate.groups {
        let name = event.clone().unwrap_or_else(|| "(none)".to_owned());
        *events_by_type.entry(name).or_insert(0) += totals.count;
    }
    Figures {
        total_events: total.count,
        suggestions_offered: offered,
        suggestions_accepted: accepted,
        accept_rate: percent(accepted, offered).unwrap_or(0.0),
        // The note: int(AVG(latency_ms) WHERE latency_ms > 0), 0 when there is none.
        avg_latency_ms: if total.latency_count > 0 {
            (total.latency_sum as f64 / total.latency_count as f64).trunc() as i64
        } else {
            0
        },
        latency_p50_ms: aggregate.latency.quantile(0.50),
        latency_p95_ms: aggregate.latency.quantile(0.95),
        latency_p99_ms: aggregate.latency.quantile(0.99),
        events_by_type,
    }
}

pub fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64 * 100.0)
}

/// The summary of `scope`; with `compare`, also of the period of equal length just before
/// it (which needs a start; an open end counts as `now`).
pub fn summary(
    engine: &Engine,
    scope: &Scope,
    compare: bool,
    now: NaiveDateTime,
) -> Result<Summary, StoreError> {
    let current = aggregate(engine, scope, false)?;
    let previous = match (compare, scope.from) {
        (true, Some(from)) => {
            let to = scope.to.unwrap_or(now).max(from);
            // A period reaching before the calendar has no previous one.
            let Some(start) = from.checked_sub_signed(to - from) else {
                return Ok(Summary {
                    figures: figures(&current),
                    ..summarise_extent(engine, scope)?
                });
            };
            let before = aggregate(engine, &scope.with_range(Some(start), Some(from)), false)?;
            Some(PreviousPeriod {
                from: start.and_utc(),
                to: from.and_utc(),
                figures: figures(&before),
            })
        }
        _ => None,
    };
    Ok(Summary {
        figures: figures(&current),
        previous,
        ..summarise_extent(engine, scope)?
    })
}

/// The period and database parts of a summary.
fn summarise_extent(engine: &Engine, scope: &Scope) -> Result<Summary, StoreError> {
    let extent = engine.extent()?;
    Ok(Summary {
        figures: Figures::default(),
        period: Some(Period {
            from: scope.from.map(|from| from.and_utc()),
            to: scope.to.map(|to| to.and_utc()),
        }),
        previous: None,
        database: Some(DatabaseExtent {
            total_events: extent.total,
            first_event_at: extent.first.map(|first| first.and_utc()),
            last_event_at: extent.last.map(|last| last.and_utc()),
        }),
    })
}

//! `/analytics/events`: one page of events, the total that match, and the next cursor.

use chrono::{Duration, NaiveDateTime};
use coachboard_contract::{EventRecord, SortKey, SortOrder};

use super::{Accumulate, Engine, GroupKey, Totals, Wants};
use crate::rollup::HOUR;
use crate::store::{EventsQuery, Scope, StoreError};

pub struct EventsPage {
    pub events: Vec<EventRecord>,
    pub total: u64,
    /// Position after the last event, when the page is full and sorted by time.
    pub next: Option<(NaiveDateTime, String)>,
}

#[derive(Default)]
struct CountOnly(u64);

impl Accumulate for CountOnly {
    fn rows(&mut self, _slot: Option<i64>, _key: GroupKey<'_>, totals: Totals) {
        self.0 += totals.count;
    }
    fn latency(&mut self, _slot: Option<i64>, _bin: u16, _count: u64) {}
    fn policy(&mut self, _slot: Option<i64>, _policy: &str, _count: u64) {}
}

pub fn count(engine: &Engine, scope: &Scope) -> Result<u64, StoreError> {
    if !scope.fits_rollup() {
        return engine.store().count(scope);
    }
    let mut counter = CountOnly::default();
    let wants = Wants {
        policies: false,
        raw_slot: None,
        buckets: None,
        rollup: true,
    };
    engine.run(scope, wants, &mut counter)?;
    Ok(counter.0)
}

pub fn events_page(engine: &Engine, query: &EventsQuery) -> Result<EventsPage, StoreError> {
    let total = count(engine, &query.scope)?;
    let newest_of_all = query.scope == Scope::default()
        && query.sort == SortKey::Ts
        && query.order == SortOrder::Desc
        && query.after.is_none();
    let in_memory = newest_of_all
        .then(|| engine.recent_page(query.offset, query.limit))
        .flatten();
    let events = match in_memory {
        Some(events) => events,
        None => {
            let narrowed = EventsQuery {
                scope: narrow_to_page(engine, query),
                ..query.clone()
            };
            engine.store().events(&narrowed)?
        }
    };
    let next = match (query.sort, events.last()) {
        (SortKey::Ts, Some(last)) if events.len() == query.limit as usize => {
            Some((last.ts.naive_utc(), last.id.clone()))
        }
        _ => None,
    };
    Ok(EventsPage {
        events,
        total,
        next,
    })
}

/// For a time-sorted page, the roll-up tells which hours hold the rows wanted: limiting the
/// scan to them lets DuckDB skip the rest of the table. Partial hours at the ends count as
/// empty, which can only widen the window, never cut a row off.
fn narrow_to_page(engine: &Engine, query: &EventsQuery) -> Scope {
    let mut scope = query.scope.clone();
    if query.sort != SortKey::Ts {
        return scope;
    }
    if let Some((ts, _)) = &query.after {
        match query.order {
            SortOrder::Desc => {
                scope.to = Some(scope.to.map_or(*ts, |to| to.min(*ts)) + Duration::microseconds(1))
            }
            SortOrder::Asc => scope.from = Some(scope.from.map_or(*ts, |from| from.max(*ts))),
        }
    }
    let wanted = query.offset.saturating_add(u64::from(query.limit));
    let newest_first = query.order == SortOrder::Desc;
    let Some(hours) = engine.hour_counts(&scope, newest_first) else {
        return query.scope.clone();
    };
    let mut seen = 0;
    for (hour, count) in hours {
        seen += count;
        if seen >= wanted {
            let Some(start) =
                chrono::DateTime::from_timestamp(hour, 0).map(|start| start.naive_utc())
            else {
                break;
            };
            match query.order {
                SortOrder::Desc => {
                    scope.from = Some(scope.from.map_or(start, |from| from.max(start)))
                }
                SortOrder::Asc => {
                    let end = start
                        .checked_add_signed(Duration::seconds(HOUR))
                        .unwrap_or(start);
                    scope.to = Some(scope.to.map_or(end, |to| to.min(end)));
                }
            }
            return scope;
        }
    }
    query.scope.clone()
}

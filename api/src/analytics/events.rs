//! `/analytics/events`: one page of events, the total that match, and the next cursor.

use chrono::{Duration, NaiveDateTime};
use coachboard_contract::{EventRecord, SortKey, SortOrder};

use super::{Accumulate, Engine, GroupKey, Totals, Wants};
use crate::histogram::{NUM_BINS, bin_bounds};
use crate::paging::page_window;
use crate::rollup::{HOUR, ceil_hour, floor_hour};
use crate::store::{EventsQuery, LatencyBins, Scope, StoreError};

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
    fn latency(&mut self, _slot: Option<i64>, _key: GroupKey<'_>, _bin: u16, _count: u64) {}
    fn policy(&mut self, _slot: Option<i64>, _policy: &str, _count: u64) {}
}

/// Rows in `scope`: from the engine's roll-up where it answers, else counted by the store
/// (ClickHouse sums its roll-up's counts without reading its latency bins).
pub fn count(engine: &Engine, scope: &Scope) -> Result<u64, StoreError> {
    if !scope.fits_rollup() || engine.store_answers_all() {
        return engine.store().count(scope);
    }
    let mut counter = CountOnly::default();
    let wants = Wants::over_all_time(false);
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
            let (scope, offset) = match query.sort {
                SortKey::Ts => narrow_to_page(engine, query),
                SortKey::LatencyMs => narrow_by_latency(engine, query),
            };
            let narrowed = EventsQuery {
                scope,
                offset,
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
/// empty, which can only widen the window, never cut a row off. When the counts start at
/// the range's near end, the whole hours before the page's first row are skipped by time
/// too, and the offset shrinks by their rows: a page deep into the table reads about an
/// hour of rows instead of every row before it. Returns the scope and offset to query.
fn narrow_to_page(engine: &Engine, query: &EventsQuery) -> (Scope, u64) {
    let unchanged = (query.scope.clone(), query.offset);
    let mut scope = query.scope.clone();
    if query.sort != SortKey::Ts {
        return unchanged;
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
        return unchanged;
    };
    let on_hour =
        |instant: Option<NaiveDateTime>| instant.is_none_or(|i| ceil_hour(i) == floor_hour(i));
    // No row of the page's order lies between the range's near end and the first hour
    // counted (a cursor's own hour is counted whole, though part of it is behind it).
    let counted_from_near_end = query.after.is_none()
        && match query.order {
            SortOrder::Desc => on_hour(scope.to),
            SortOrder::Asc => on_hour(scope.from),
        };
    let instant = |hour: i64| chrono::DateTime::from_timestamp(hour, 0).map(|t| t.naive_utc());
    let Some(window) = page_window(hours, query.offset, wanted) else {
        return unchanged;
    };
    let (Some(start), Some(end)) = (instant(window.last), instant(window.last + HOUR)) else {
        return unchanged;
    };
    let mut offset = query.offset;
    match query.order {
        SortOrder::Desc => scope.from = Some(scope.from.map_or(start, |from| from.max(start))),
        SortOrder::Asc => scope.to = Some(scope.to.map_or(end, |to| to.min(end))),
    }
    if counted_from_near_end
        && let (Some(first_start), Some(first_end)) =
            (instant(window.first), instant(window.first + HOUR))
    {
        match query.order {
            SortOrder::Desc => scope.to = Some(scope.to.map_or(first_end, |to| to.min(first_end))),
            SortOrder::Asc => {
                scope.from = Some(scope.from.map_or(first_start, |from| from.max(first_start)))
            }
        }
        offset -= window.skipped;
    }
    (scope, offset)
}

/// For a page sorted by latency, highest first, the roll-up's latency bins tell which
/// latencies the page holds: the scan keeps only rows at or above the lowest of them (DuckDB
/// filters the latency column before sorting anything). When the bins count every row of
/// the scope, the rows above the page's first bin are skipped by latency too and the offset
/// shrinks by their count. Returns the scope and offset to query.
fn narrow_by_latency(engine: &Engine, query: &EventsQuery) -> (Scope, u64) {
    let unchanged = (query.scope.clone(), query.offset);
    if query.order != SortOrder::Desc || query.after.is_some() {
        return unchanged;
    }
    let Some(LatencyBins { bins, every_row }) = engine.latency_bins(&query.scope) else {
        return unchanged;
    };
    let wanted = query.offset.saturating_add(u64::from(query.limit));
    let top_bin = (NUM_BINS - 1) as u16;
    let Some(window) = page_window(bins.into_iter().rev(), query.offset, wanted) else {
        return unchanged;
    };
    let mut offset = query.offset;
    let mut below = None;
    // The last bin also holds every latency beyond its bounds: nothing is above it.
    if every_row && window.first < top_bin {
        below = Some(bin_bounds(window.first).1);
        offset -= window.skipped;
    }
    let scope = Scope {
        latency: Some((bin_bounds(window.last).0, below)),
        ..query.scope.clone()
    };
    (scope, offset)
}

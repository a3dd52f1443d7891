//! The roll-up: per UTC hour × bucket × event type, the row count, latency sum and latency
//! histogram, and policy reference counts. Built from the database at start-up with the
//! same SQL as raw queries and updated on every committed write, so queries that filter
//! only by time, bucket and event never scan raw rows, and agree exactly with a raw scan.

mod cell;
mod dictionary;

use std::collections::BTreeMap;
use std::ops::Bound;

use chrono::NaiveDateTime;
use coachboard_contract::parse_policy_refs;

use cell::Cell;
pub use cell::CellView;
use dictionary::Dictionary;

use crate::histogram::bin_of;
use crate::store::{
    EventStore, Extent, GroupRow, PolicyRow, ROW_CHUNK, Scope, StoreError, StoredEvent,
    StoredGroup, row_chunks,
};

/// Width of a roll-up cell.
pub const HOUR: i64 = 3600;

/// Start of the UTC hour holding `instant`, in seconds since the epoch.
pub fn floor_hour(instant: NaiveDateTime) -> i64 {
    instant.and_utc().timestamp().div_euclid(HOUR) * HOUR
}

/// Start of the first whole UTC hour at or after `instant`.
pub fn ceil_hour(instant: NaiveDateTime) -> i64 {
    let utc = instant.and_utc();
    let floor = floor_hour(instant);
    if utc.timestamp() == floor && utc.timestamp_subsec_nanos() == 0 {
        floor
    } else {
        floor + HOUR
    }
}

#[derive(Debug, Default)]
pub struct Cube {
    names: Dictionary,
    /// Cells by hour start (seconds since the epoch); `None` holds rows without a time.
    hours: BTreeMap<Option<i64>, Vec<Cell>>,
    /// The same cells summed over all hours: answers about all time without a pass over
    /// every hour (the dashboard's default view).
    totals: Vec<Cell>,
    extent: Extent,
}

fn find_or_add(cells: &mut Vec<Cell>, bucket: u32, event: u32) -> &mut Cell {
    let index = match cells
        .iter()
        .position(|cell| cell.bucket == bucket && cell.event == event)
    {
        Some(index) => index,
        None => {
            cells.push(Cell::new(bucket, event));
            cells.len() - 1
        }
    };
    &mut cells[index]
}

/// The hours a query covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourRange {
    pub start: Bound<i64>,
    pub end: Bound<i64>,
    /// Whether rows without a timestamp belong (only for an unbounded range).
    pub untimed: bool,
}

impl HourRange {
    /// The range without the whole hours of `taken` (UTC hour starts) that lie in it: the
    /// ranges left, in order, and the hours taken out. A timeseries in a zone whose buckets
    /// start off the hour (Asia/Kolkata's days at :30 UTC) reads those hours' rows instead,
    /// since the roll-up cannot split an hour, and the roll-up answers the rest.
    pub fn without(&self, taken: &[i64]) -> (Vec<HourRange>, Vec<i64>) {
        let mut hours: Vec<i64> = taken
            .iter()
            .copied()
            .filter(|hour| self.holds(*hour))
            .collect();
        hours.sort_unstable();
        hours.dedup();
        let mut left = Vec::with_capacity(hours.len() + 1);
        let (mut start, mut untimed) = (self.start, self.untimed);
        for &hour in &hours {
            left.push(HourRange {
                start,
                end: Bound::Excluded(hour),
                untimed,
            });
            // Rows without a time go with the first range only.
            untimed = false;
            start = Bound::Included(hour + HOUR);
        }
        left.push(HourRange {
            start,
            end: self.end,
            untimed,
        });
        (left, hours)
    }

    /// True when the hour starting at `hour` lies in the range.
    fn holds(&self, hour: i64) -> bool {
        let after_start = match self.start {
            Bound::Included(start) => hour >= start,
            Bound::Excluded(start) => hour > start,
            Bound::Unbounded => true,
        };
        let before_end = match self.end {
            Bound::Included(end) => hour <= end,
            Bound::Excluded(end) => hour < end,
            Bound::Unbounded => true,
        };
        after_start && before_end
    }
}

/// A time range cut at whole UTC hours: the hours inside it, which hourly groups answer,
/// and the ends outside them (`[from, to)` each), which only rows can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourSplit {
    /// `None` when the range holds no whole hour: then `edges` is the whole range.
    pub hours: Option<HourRange>,
    pub edges: Vec<(Option<NaiveDateTime>, Option<NaiveDateTime>)>,
}

/// Cuts `[from, to)` (either end open) at whole UTC hours.
pub fn split_at_hours(from: Option<NaiveDateTime>, to: Option<NaiveDateTime>) -> HourSplit {
    let first_hour = from.map(ceil_hour);
    let end_hour = to.map(floor_hour);
    if let (Some(first), Some(end)) = (first_hour, end_hour)
        && first >= end
    {
        return HourSplit {
            hours: None,
            edges: vec![(from, to)],
        };
    }
    let mut edges = Vec::new();
    if let (Some(from), Some(first)) = (from, first_hour.and_then(instant_of))
        && from < first
    {
        edges.push((Some(from), Some(first)));
    }
    if let (Some(to), Some(end)) = (to, end_hour.and_then(instant_of))
        && end < to
    {
        edges.push((Some(end), Some(to)));
    }
    HourSplit {
        hours: Some(HourRange {
            start: first_hour.map_or(Bound::Unbounded, Bound::Included),
            end: end_hour.map_or(Bound::Unbounded, Bound::Excluded),
            untimed: from.is_none() && to.is_none(),
        }),
        edges,
    }
}

/// The UTC hours (starts, ascending, once each) that hold a bucket start off the hour (a
/// local day in Asia/Kolkata starts at :30): a roll-up cannot split such an hour, so each
/// store reads its rows and the roll-up answers the hours around it.
pub fn hours_holding_off_hour_starts(starts: &[i64]) -> Vec<i64> {
    let mut hours: Vec<i64> = starts
        .iter()
        .filter(|start| start.rem_euclid(HOUR) != 0)
        .map(|start| start - start.rem_euclid(HOUR))
        .collect();
    hours.dedup();
    hours
}

pub(crate) fn instant_of(seconds: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp(seconds, 0).map(|instant| instant.naive_utc())
}

impl Cube {
    /// The cube of the whole table: from the roll-up the store keeps when it describes the
    /// table as it is, else read from every row.
    pub fn build(store: &dyn EventStore) -> Result<Self, StoreError> {
        let extent = store.extent()?;
        let mut cube = Cube {
            extent,
            ..Cube::default()
        };
        match store.stored_rollup(&extent, &mut |group| cube.add_stored(group)) {
            Ok(true) => Ok(cube),
            Ok(false) => Self::build_in_chunks(store, ROW_CHUNK),
            Err(error) => {
                tracing::warn!(%error, "the stored roll-up cannot be read: reading every row");
                Self::build_in_chunks(store, ROW_CHUNK)
            }
        }
    }

    /// The same, reading `chunk` rows per query.
    pub fn build_in_chunks(store: &dyn EventStore, chunk: i64) -> Result<Self, StoreError> {
        let extent = store.extent()?;
        let mut cube = Cube {
            extent,
            ..Cube::default()
        };
        // A chunk of rows at a time: partial groups add up, and memory stays bounded.
        for (start, end) in row_chunks(extent.last_row, chunk) {
            let chunk = Scope::row_chunk(start, end);
            for row in store.aggregate(&chunk, Some(HOUR))? {
                cube.add_group_row(&row);
            }
            for row in store.policy_counts(&chunk, Some(HOUR))? {
                cube.add_policy_row(&row);
            }
        }
        Ok(cube)
    }

    pub fn extent(&self) -> Extent {
        self.extent
    }

    /// The cell of an hour and the all-time cell of the same bucket and event.
    fn cells(
        &mut self,
        hour: Option<i64>,
        bucket: Option<&str>,
        event: Option<&str>,
    ) -> (&mut Cell, &mut Cell) {
        let bucket = self.names.intern(bucket);
        let event = self.names.intern(event);
        let hourly = find_or_add(self.hours.entry(hour).or_default(), bucket, event);
        let total = find_or_add(&mut self.totals, bucket, event);
        (hourly, total)
    }

    fn add_stored(&mut self, group: StoredGroup<'_>) {
        match group {
            StoredGroup::Latency {
                slot,
                bucket,
                event,
                bin,
                count,
                latency_sum,
            } => {
                let (hourly, total) = self.cells(slot, bucket, event);
                hourly.add_rows(count, bin, latency_sum);
                total.add_rows(count, bin, latency_sum);
            }
            StoredGroup::Policy {
                slot,
                bucket,
                event,
                policy,
                count,
            } => {
                let policy = self.names.intern(Some(policy));
                let (hourly, total) = self.cells(slot, bucket, event);
                hourly.add_policy(policy, count);
                total.add_policy(policy, count);
            }
        }
    }

    fn add_group_row(&mut self, row: &GroupRow) {
        self.add_stored(StoredGroup::Latency {
            slot: row.slot,
            bucket: row.bucket.as_deref(),
            event: row.event.as_deref(),
            bin: row.bin,
            count: row.count,
            latency_sum: row.latency_sum,
        });
    }

    fn add_policy_row(&mut self, row: &PolicyRow) {
        self.add_stored(StoredGroup::Policy {
            slot: row.slot,
            bucket: row.bucket.as_deref(),
            event: row.event.as_deref(),
            policy: &row.policy,
            count: row.count,
        });
    }

    /// Adds events that were just committed.
    pub fn record(&mut self, events: &[StoredEvent]) {
        for event in events {
            let hour = event.ts.and_utc().timestamp().div_euclid(HOUR) * HOUR;
            let latency = event.latency_ms.unwrap_or(0);
            let bin = bin_of(latency);
            let policies: Vec<u32> = parse_policy_refs(event.policy_refs.as_deref())
                .iter()
                .map(|policy| self.names.intern(Some(policy)))
                .collect();
            let (hourly, total) = self.cells(
                Some(hour),
                event.ab_test_bucket.as_deref(),
                Some(event.event.as_str()),
            );
            let latency_sum = if bin.is_some() { latency } else { 0 };
            hourly.add_rows(1, bin, latency_sum);
            total.add_rows(1, bin, latency_sum);
            for policy in policies {
                hourly.add_policy(policy, 1);
                total.add_policy(policy, 1);
            }
            self.extent.total += 1;
            self.extent.first = Some(
                self.extent
                    .first
                    .map_or(event.ts, |first| first.min(event.ts)),
            );
            self.extent.last = Some(self.extent.last.map_or(event.ts, |last| last.max(event.ts)));
        }
    }

    /// Calls `visit` with every cell in `hours` that matches the bucket and event filters,
    /// in time order. Unless `by_hour`, all time may come as one cell per bucket and event
    /// (with no hour).
    pub fn visit(
        &self,
        hours: HourRange,
        bucket: Option<&str>,
        event: Option<&str>,
        by_hour: bool,
        mut visit: impl FnMut(Option<i64>, CellView<'_>),
    ) {
        // A filter value the cube has never seen matches no cell.
        let wanted = |filter: Option<&str>| match filter {
            None => Some(None),
            Some(value) => self.names.lookup(Some(value)).map(Some),
        };
        let (Some(bucket), Some(event)) = (wanted(bucket), wanted(event)) else {
            return;
        };
        let mut emit = |hour: Option<i64>, cells: &[Cell]| {
            for cell in cells {
                if bucket.is_none_or(|id| id == cell.bucket)
                    && event.is_none_or(|id| id == cell.event)
                {
                    visit(hour, CellView::new(cell, &self.names));
                }
            }
        };
        let everything =
            hours.untimed && hours.start == Bound::Unbounded && hours.end == Bound::Unbounded;
        if everything && !by_hour {
            emit(None, &self.totals);
            return;
        }
        if hours.untimed
            && let Some(cells) = self.hours.get(&None)
        {
            emit(None, cells);
        }
        let start = match hours.start {
            Bound::Unbounded => Bound::Excluded(None),
            Bound::Included(hour) => Bound::Included(Some(hour)),
            Bound::Excluded(hour) => Bound::Excluded(Some(hour)),
        };
        let end = match hours.end {
            Bound::Unbounded => Bound::Unbounded,
            Bound::Included(hour) => Bound::Included(Some(hour)),
            Bound::Excluded(hour) => Bound::Excluded(Some(hour)),
        };
        for (hour, cells) in self.hours.range((start, end)) {
            emit(*hour, cells);
        }
    }

    /// Heap entries held, for the start-up log.
    pub fn size(&self) -> (usize, usize) {
        let cells = self.hours.values().map(Vec::len).sum();
        let bins = self.hours.values().flatten().map(Cell::bins).sum();
        (cells, bins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_starts_off_the_hour_split_their_hour() {
        let day = 24 * HOUR;
        // Kolkata's days (+5:30), and one start on the hour (a zone's midnight in UTC).
        let starts = [-HOUR / 2, day - HOUR / 2, 2 * day, 3 * day - HOUR / 4];
        assert_eq!(
            hours_holding_off_hour_starts(&starts),
            vec![-HOUR, day - HOUR, 3 * day - HOUR]
        );
        assert_eq!(hours_holding_off_hour_starts(&[0, day]), Vec::<i64>::new());
    }

    #[test]
    fn hours_taken_out_split_the_range_around_them() {
        let range = HourRange {
            start: Bound::Included(0),
            end: Bound::Excluded(10 * HOUR),
            untimed: true,
        };
        // Hours outside the range, repeated or out of order, change nothing more.
        let (left, taken) = range.without(&[7 * HOUR, 2 * HOUR, 2 * HOUR, 10 * HOUR, -HOUR]);
        assert_eq!(taken, vec![2 * HOUR, 7 * HOUR]);
        assert_eq!(
            left,
            vec![
                HourRange {
                    start: Bound::Included(0),
                    end: Bound::Excluded(2 * HOUR),
                    untimed: true,
                },
                HourRange {
                    start: Bound::Included(3 * HOUR),
                    end: Bound::Excluded(7 * HOUR),
                    untimed: false,
                },
                HourRange {
                    start: Bound::Included(8 * HOUR),
                    end: Bound::Excluded(10 * HOUR),
                    untimed: false,
                },
            ]
        );
        // Nothing to take: the range as it was.
        assert_eq!(range.without(&[]), (vec![range], vec![]));
        let open = HourRange {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
            untimed: false,
        };
        let (left, taken) = open.without(&[5 * HOUR]);
        assert_eq!(taken, vec![5 * HOUR]);
        assert_eq!(left[0].end, Bound::Excluded(5 * HOUR));
        assert_eq!(left[1].start, Bound::Included(6 * HOUR));
    }
}

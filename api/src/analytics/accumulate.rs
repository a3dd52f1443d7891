//! One way to consume rows, whether they come from roll-up cells or from raw SQL groups:
//! answers are computed by the same code on either, so they cannot disagree.

use std::collections::HashMap;

use crate::histogram::LatencyHistogram;
use crate::rollup::CellView;
use crate::store::{GroupRow, PolicyRow};

pub trait Accumulate {
    /// `count` rows of a bucket and event type; `latency_count` of them had a positive
    /// latency, summing to `latency_sum`.
    fn rows(&mut self, slot: Option<i64>, key: GroupKey<'_>, totals: Totals);
    /// `count` of those rows had a latency in `bin`.
    fn latency(&mut self, slot: Option<i64>, key: GroupKey<'_>, bin: u16, count: u64);
    fn policy(&mut self, slot: Option<i64>, policy: &str, count: u64);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupKey<'a> {
    pub bucket: Option<&'a str>,
    pub event: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub count: u64,
    pub latency_count: u64,
    pub latency_sum: i64,
}

impl Totals {
    pub fn add(&mut self, other: Totals) {
        self.count += other.count;
        self.latency_count += other.latency_count;
        self.latency_sum += other.latency_sum;
    }
}

pub fn feed_cell(sink: &mut impl Accumulate, hour: Option<i64>, cell: &CellView<'_>) {
    let key = GroupKey {
        bucket: cell.bucket(),
        event: cell.event(),
    };
    sink.rows(
        hour,
        key,
        Totals {
            count: cell.count(),
            latency_count: cell.latency_count(),
            latency_sum: cell.latency_sum(),
        },
    );
    for (bin, count) in cell.latency_bins() {
        sink.latency(hour, key, bin, count);
    }
    for (policy, count) in cell.policies() {
        sink.policy(hour, policy, count);
    }
}

pub fn feed_groups(sink: &mut impl Accumulate, rows: &[GroupRow]) {
    for row in rows {
        let key = GroupKey {
            bucket: row.bucket.as_deref(),
            event: row.event.as_deref(),
        };
        let latency_count = if row.bin.is_some() { row.count } else { 0 };
        sink.rows(
            row.slot,
            key,
            Totals {
                count: row.count,
                latency_count,
                latency_sum: row.latency_sum,
            },
        );
        if let Some(bin) = row.bin {
            sink.latency(row.slot, key, bin, row.count);
        }
    }
}

pub fn feed_policies(sink: &mut impl Accumulate, rows: &[PolicyRow]) {
    for row in rows {
        sink.policy(row.slot, &row.policy, row.count);
    }
}

/// Everything the summary, experiment, latency and policy answers need, over all time
/// slots together.
#[derive(Debug, Default)]
pub struct Aggregate {
    /// Totals per (bucket, event type).
    pub groups: Vec<(Option<String>, Option<String>, Totals)>,
    pub latency: LatencyHistogram,
    pub policies: HashMap<String, u64>,
}

impl Aggregate {
    pub fn total(&self) -> Totals {
        let mut total = Totals::default();
        for (_, _, totals) in &self.groups {
            total.add(*totals);
        }
        total
    }

    /// Rows of the given event type across buckets.
    pub fn count_of(&self, event: &str) -> u64 {
        self.groups
            .iter()
            .filter(|(_, kind, _)| kind.as_deref() == Some(event))
            .map(|(_, _, totals)| totals.count)
            .sum()
    }
}

impl Accumulate for Aggregate {
    fn rows(&mut self, _slot: Option<i64>, key: GroupKey<'_>, totals: Totals) {
        match self.groups.iter_mut().find(|(bucket, event, _)| {
            bucket.as_deref() == key.bucket && event.as_deref() == key.event
        }) {
            Some((_, _, existing)) => existing.add(totals),
            None => self.groups.push((
                key.bucket.map(str::to_owned),
                key.event.map(str::to_owned),
                totals,
            )),
        }
    }

    fn latency(&mut self, _slot: Option<i64>, _key: GroupKey<'_>, bin: u16, count: u64) {
        self.latency.add(bin, count);
    }

    fn policy(&mut self, _slot: Option<i64>, policy: &str, count: u64) {
        match self.policies.get_mut(policy) {
            Some(total) => *total += count,
            None => {
                self.policies.insert(policy.to_owned(), count);
            }
        }
    }
}

//! One roll-up cell: the rows of one hour, bucket and event type.

use super::dictionary::Dictionary;

#[derive(Debug, Clone)]
pub(super) struct Cell {
    pub bucket: u32,
    pub event: u32,
    count: u64,
    latency_sum: i64,
    latency_count: u64,
    /// (latency bin, rows), sorted by bin.
    latency_bins: Vec<(u16, u32)>,
    /// (policy name id, references).
    policies: Vec<(u32, u64)>,
}

impl Cell {
    pub fn new(bucket: u32, event: u32) -> Self {
        Self {
            bucket,
            event,
            count: 0,
            latency_sum: 0,
            latency_count: 0,
            latency_bins: Vec::new(),
            policies: Vec::new(),
        }
    }

    /// Adds `count` rows; with a latency bin, they had positive latencies summing to
    /// `latency_sum`.
    pub fn add_rows(&mut self, count: u64, bin: Option<u16>, latency_sum: i64) {
        self.count += count;
        let Some(bin) = bin else {
            return;
        };
        self.latency_sum += latency_sum;
        self.latency_count += count;
        let added = u32::try_from(count).unwrap_or(u32::MAX);
        match self.latency_bins.binary_search_by_key(&bin, |(b, _)| *b) {
            Ok(index) => {
                let slot = &mut self.latency_bins[index].1;
                *slot = slot.saturating_add(added);
            }
            Err(index) => self.latency_bins.insert(index, (bin, added)),
        }
    }

    pub fn add_policy(&mut self, policy: u32, count: u64) {
        match self.policies.iter_mut().find(|(id, _)| *id == policy) {
            Some((_, total)) => *total += count,
            None => self.policies.push((policy, count)),
        }
    }

    pub fn bins(&self) -> usize {
        self.latency_bins.len()
    }
}

/// A read-only look at a cell, with its names resolved.
pub struct CellView<'a> {
    cell: &'a Cell,
    names: &'a Dictionary,
}

impl<'a> CellView<'a> {
    pub(super) fn new(cell: &'a Cell, names: &'a Dictionary) -> Self {
        Self { cell, names }
    }

    pub fn bucket(&self) -> Option<&'a str> {
        self.names.name(self.cell.bucket)
    }

    pub fn event(&self) -> Option<&'a str> {
        self.names.name(self.cell.event)
    }

    pub fn count(&self) -> u64 {
        self.cell.count
    }

    pub fn latency_sum(&self) -> i64 {
        self.cell.latency_sum
    }

    pub fn latency_count(&self) -> u64 {
        self.cell.latency_count
    }

    pub fn latency_bins(&self) -> impl Iterator<Item = (u16, u64)> + 'a {
        self.cell
            .latency_bins
            .iter()
            .map(|(bin, count)| (*bin, u64::from(*count)))
    }

    pub fn policies(&self) -> impl Iterator<Item = (&'a str, u64)> + 'a {
        let names = self.names;
        self.cell
            .policies
            .iter()
            .map(move |(id, count)| (names.name(*id).unwrap_or("null"), *count))
    }
}

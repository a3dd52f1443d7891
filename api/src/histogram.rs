//! Latency histograms with integer bins: exact below 256 ms, then 128 bins per doubling
//! (each under 0.8% wide). The same bin function runs in SQL (`store::sql::LATENCY_BIN`) and
//! here, so roll-ups and raw queries produce identical percentiles.

/// Latencies at or above this are counted in the last bin (2^40 ms is 35 years).
pub const MAX_LATENCY_MS: i64 = (1 << 40) - 1;
const SIGNIFICANT_BITS: u32 = 8;
const EXACT_BELOW: i64 = 1 << SIGNIFICANT_BITS;
const HALF: i64 = EXACT_BELOW / 2;
/// Number of distinct bins `bin_of` can return.
pub const NUM_BINS: usize = bin_of_positive(MAX_LATENCY_MS) as usize + 1;

/// The bin of a latency; `None` for latencies that are not positive (the note's average
/// ignores them, and so do the percentiles).
pub fn bin_of(latency_ms: i64) -> Option<u16> {
    (latency_ms > 0).then(|| bin_of_positive(latency_ms.min(MAX_LATENCY_MS)))
}

const fn bin_of_positive(v: i64) -> u16 {
    if v < EXACT_BELOW {
        return v as u16;
    }
    let exponent = 63 - v.leading_zeros() as i64;
    let shift = exponent - (SIGNIFICANT_BITS as i64 - 1);
    (shift * HALF + (v >> shift)) as u16
}

/// The half-open range `[lower, upper)` of latencies that fall in `bin`.
pub fn bin_bounds(bin: u16) -> (i64, i64) {
    let bin = i64::from(bin);
    if bin < EXACT_BELOW {
        return (bin, bin + 1);
    }
    let shift = (bin - HALF) / HALF;
    let mantissa = bin - shift * HALF;
    (mantissa << shift, (mantissa + 1) << shift)
}

/// The value a bin stands for: its midpoint (its only value when it is exact).
pub fn bin_value(bin: u16) -> f64 {
    let (lower, upper) = bin_bounds(bin);
    (lower + upper - 1) as f64 / 2.0
}

/// A dense histogram used to merge cells and to compute percentiles.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            counts: vec![0; NUM_BINS],
            total: 0,
        }
    }
}

impl LatencyHistogram {
    pub fn add(&mut self, bin: u16, count: u64) {
        if let Some(slot) = self.counts.get_mut(usize::from(bin)) {
            *slot += count;
            self.total += count;
        }
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// Non-empty bins in ascending order.
    pub fn bins(&self) -> impl Iterator<Item = (u16, u64)> + Clone + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(bin, count)| (bin as u16, *count))
    }

    /// The `q` quantile (see [`quantile_of_bins`]).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        quantile_of_bins(self.bins(), self.total, q)
    }

    /// A distribution-free 95% interval of the `q` quantile: the values at the order
    /// statistics n·q ∓ 1.96·√(n·q·(1−q)) (the binomial normal approximation).
    pub fn quantile_interval(&self, q: f64) -> Option<(f64, f64)> {
        if self.total == 0 {
            return None;
        }
        let n = self.total as f64;
        let spread = crate::stats::Z_95 * (n * q * (1.0 - q)).sqrt();
        let last = self.total - 1;
        let lower = ((n * q - spread).floor().max(0.0) as u64).min(last);
        let upper = ((n * q + spread).ceil().max(0.0) as u64).min(last);
        Some((
            value_at_rank(self.bins(), lower)?,
            value_at_rank(self.bins(), upper)?,
        ))
    }

    /// Smallest and largest bin values present.
    pub fn min_max(&self) -> Option<(f64, f64)> {
        let first = self.bins().next()?;
        let last = self.bins().last()?;
        Some((bin_value(first.0), bin_value(last.0)))
    }
}

/// The `q` quantile of `total` values given as (bin, count) in ascending bin order, with
/// linear interpolation between order statistics (DuckDB's `quantile_cont`), each value
/// taken as its bin's value.
pub fn quantile_of_bins(
    bins: impl Iterator<Item = (u16, u64)> + Clone,
    total: u64,
    q: f64,
) -> Option<f64> {
    if total == 0 {
        return None;
    }
    let position = (total - 1) as f64 * q.clamp(0.0, 1.0);
    let below = position.floor() as u64;
    let fraction = position - below as f64;
    let low = value_at_rank(bins.clone(), below)?;
    if fraction == 0.0 {
        return Some(low);
    }
    let high = value_at_rank(bins, below + 1)?;
    Some(low + fraction * (high - low))
}

/// The value of the `rank`-th smallest latency (0-based).
fn value_at_rank(bins: impl Iterator<Item = (u16, u64)>, rank: u64) -> Option<f64> {
    let mut seen = 0;
    for (bin, count) in bins {
        seen += count;
        if rank < seen {
            return Some(bin_value(bin));
        }
    }
    None
}

/// A histogram per time-series point: (bin, count) pairs, compacted into bin order on
/// demand, so a point with few values costs little memory (a dense one per point of 20,000
/// would hold 700 MB). A point that gets many values switches to a dense histogram: sorting
/// the pairs again and again took half of a timeseries' time (10M events by day: 1.3M
/// roll-up bins), and the dense one is no larger than the pairs it replaces.
#[derive(Debug, Clone, Default)]
pub struct SparseHistogram {
    entries: Vec<(u16, u64)>,
    sorted_len: usize,
    total: u64,
    adds: usize,
    dense: Option<LatencyHistogram>,
}

/// Adds after which a point's histogram is dense: as many pairs take about the dense
/// histogram's memory.
const DENSE_AFTER: usize = NUM_BINS / 2;

impl SparseHistogram {
    pub fn add(&mut self, bin: u16, count: u64) {
        if let Some(dense) = &mut self.dense {
            dense.add(bin, count);
            return;
        }
        self.entries.push((bin, count));
        self.total += count;
        self.adds += 1;
        if self.adds >= DENSE_AFTER {
            let mut dense = LatencyHistogram::default();
            for (bin, count) in std::mem::take(&mut self.entries) {
                dense.add(bin, count);
            }
            self.dense = Some(dense);
        } else if self.entries.len() - self.sorted_len > NUM_BINS.max(1024) {
            self.compact();
        }
    }

    fn compact(&mut self) {
        self.entries.sort_unstable_by_key(|(bin, _)| *bin);
        let mut merged: Vec<(u16, u64)> = Vec::with_capacity(self.entries.len());
        for &(bin, count) in &self.entries {
            match merged.last_mut() {
                Some((last, total)) if *last == bin => *total += count,
                _ => merged.push((bin, count)),
            }
        }
        self.entries = merged;
        self.sorted_len = self.entries.len();
    }

    pub fn quantiles(&mut self, qs: &[f64]) -> Vec<Option<f64>> {
        if let Some(dense) = &self.dense {
            return qs.iter().map(|&q| dense.quantile(q)).collect();
        }
        self.compact();
        qs.iter()
            .map(|&q| quantile_of_bins(self.entries.iter().copied(), self.total, q))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_exact_below_256_and_contiguous_above() {
        assert_eq!(bin_of(0), None);
        assert_eq!(bin_of(-5), None);
        for v in 1..256 {
            assert_eq!(bin_of(v), Some(v as u16));
            assert_eq!(bin_bounds(v as u16), (v, v + 1));
        }
        let mut previous_upper = 256;
        for bin in 256..NUM_BINS as u16 {
            let (lower, upper) = bin_bounds(bin);
            assert_eq!(
                lower, previous_upper,
                "bin {bin} starts where the last ended"
            );
            assert_eq!(bin_of(lower), Some(bin));
            assert_eq!(bin_of(upper - 1), Some(bin));
            assert!((upper - lower) as f64 / lower as f64 <= 1.0 / 128.0);
            previous_upper = upper;
        }
        assert_eq!(bin_of(i64::MAX), Some(NUM_BINS as u16 - 1));
    }

    #[test]
    fn quantiles_interpolate_like_quantile_cont() {
        let mut histogram = LatencyHistogram::default();
        for v in [10, 20, 30, 40] {
            histogram.add(bin_of(v).unwrap(), 1);
        }
        // DuckDB: quantile_cont([10,20,30,40], 0.5) = 25, 0.95 = 38.5
        assert_eq!(histogram.quantile(0.5), Some(25.0));
        assert_eq!(histogram.quantile(0.95), Some(38.5));
        assert_eq!(histogram.quantile(0.0), Some(10.0));
        assert_eq!(LatencyHistogram::default().quantile(0.5), None);
    }

    #[test]
    fn large_values_stay_within_their_bin() {
        let mut histogram = LatencyHistogram::default();
        histogram.add(bin_of(1000).unwrap(), 3);
        let p50 = histogram.quantile(0.5).unwrap();
        assert!((p50 - 1000.0).abs() <= 1000.0 / 256.0, "{p50}");
    }

    #[test]
    fn sparse_and_dense_agree_with_few_values_and_with_many() {
        // 143 adds stay pairs; 28,572 pass DENSE_AFTER and go dense midway.
        for step in [700, 7] {
            let mut dense = LatencyHistogram::default();
            let mut sparse = SparseHistogram::default();
            for v in (1..200_000).step_by(step) {
                let bin = bin_of(v * 13 % 5000 + 1).unwrap();
                dense.add(bin, 1 + v as u64 % 3);
                sparse.add(bin, 1 + v as u64 % 3);
            }
            assert_eq!(sparse.dense.is_some(), step == 7);
            let qs = [0.0, 0.5, 0.95, 0.99, 1.0];
            let expected: Vec<_> = qs.iter().map(|&q| dense.quantile(q)).collect();
            assert_eq!(sparse.quantiles(&qs), expected);
        }
    }
}

//! `/analytics/latency`: a log-spaced histogram for display and the percentiles.

use coachboard_contract::{LatencyBin, LatencyDistribution};

use super::{Engine, aggregate};
use crate::histogram::{LatencyHistogram, bin_bounds};
use crate::store::{Scope, StoreError};

/// Display bins per tenfold increase of latency.
const BINS_PER_DECADE: f64 = 10.0;

pub fn latency_distribution(
    engine: &Engine,
    scope: &Scope,
) -> Result<LatencyDistribution, StoreError> {
    let aggregate = aggregate(engine, scope, false)?;
    let total = aggregate.total();
    Ok(describe(
        &aggregate.latency,
        (total.latency_count > 0).then(|| total.latency_sum as f64 / total.latency_count as f64),
    ))
}

pub fn describe(histogram: &LatencyHistogram, mean_ms: Option<f64>) -> LatencyDistribution {
    let (min_ms, max_ms) = histogram.min_max().unzip();
    LatencyDistribution {
        count: histogram.total(),
        mean_ms,
        min_ms,
        max_ms,
        p50_ms: histogram.quantile(0.50),
        p90_ms: histogram.quantile(0.90),
        p95_ms: histogram.quantile(0.95),
        p99_ms: histogram.quantile(0.99),
        bins: display_bins(histogram),
    }
}

/// Regroups the fine bins into bins of equal width on a log scale (edges at
/// 10^(k/10) ms); a fine bin goes where its lower bound falls.
fn display_bins(histogram: &LatencyHistogram) -> Vec<LatencyBin> {
    let decade_step =
        |lower_ms: i64| ((lower_ms.max(1) as f64).log10() * BINS_PER_DECADE + 1e-9).floor() as i64;
    let edge = |step: i64| 10f64.powf(step as f64 / BINS_PER_DECADE);
    let mut bins: Vec<LatencyBin> = Vec::new();
    let mut current: Option<(i64, u64)> = None;
    for (bin, count) in histogram.bins() {
        let step = decade_step(bin_bounds(bin).0);
        match &mut current {
            Some((current_step, total)) if *current_step == step => *total += count,
            _ => {
                if let Some((done_step, total)) = current.take() {
                    push_with_gaps(&mut bins, done_step, total, edge);
                }
                current = Some((step, count));
            }
        }
    }
    if let Some((step, total)) = current {
        push_with_gaps(&mut bins, step, total, edge);
    }
    bins
}

/// Appends a bin, first filling any empty bins since the previous one so the axis is even.
fn push_with_gaps(bins: &mut Vec<LatencyBin>, step: i64, count: u64, edge: impl Fn(i64) -> f64) {
    if let Some(last) = bins.last() {
        let mut next = (last.upper_ms.log10() * BINS_PER_DECADE).round() as i64;
        while next < step {
            bins.push(LatencyBin {
                lower_ms: edge(next),
                upper_ms: edge(next + 1),
                count: 0,
            });
            next += 1;
        }
    }
    bins.push(LatencyBin {
        lower_ms: edge(step),
        upper_ms: edge(step + 1),
        count,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::bin_of;

    #[test]
    fn display_bins_are_log_spaced_without_gaps() {
        let mut histogram = LatencyHistogram::default();
        for (v, n) in [(100, 2), (110, 1), (400, 5), (1000, 1)] {
            histogram.add(bin_of(v).unwrap(), n);
        }
        let bins = display_bins(&histogram);
        assert_eq!(bins.iter().map(|bin| bin.count).sum::<u64>(), 9);
        assert!((bins[0].lower_ms - 100.0).abs() < 1e-9);
        assert_eq!(bins[0].count, 3);
        for pair in bins.windows(2) {
            assert!((pair[0].upper_ms - pair[1].lower_ms).abs() < 1e-9);
        }
        assert!((bins.last().unwrap().lower_ms - 1000.0).abs() < 1e-9);
        assert_eq!(bins.len(), 11);
    }
}

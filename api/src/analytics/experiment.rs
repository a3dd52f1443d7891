//! `/analytics/experiment`: accept rate per A/B bucket with Wilson intervals, the lift of the
//! second bucket over the first with a z-test, and a sample-ratio-mismatch check.

use std::collections::BTreeMap;

use coachboard_contract::{BucketStats, Comparison, Experiment, SampleRatioCheck};

use super::summary::percent;
use super::{Engine, Totals, aggregate};
use crate::stats::{sample_ratio_test, two_proportion_test, wilson_interval};
use crate::store::{Scope, StoreError};

/// Below these counts per bucket the normal approximation is not to be trusted.
const MIN_OFFERED: u64 = 100;
const MIN_OUTCOMES: u64 = 10;
/// The usual SRM alarm threshold: a split this unlikely points at broken assignment.
const SRM_ALPHA: f64 = 0.001;
const SIGNIFICANCE: f64 = 0.05;

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    all: Totals,
    offered: u64,
    accepted: u64,
}

pub fn experiment(engine: &Engine, scope: &Scope) -> Result<Experiment, StoreError> {
    let aggregate = aggregate(engine, scope, false)?;
    let mut per_bucket: BTreeMap<String, Counts> = BTreeMap::new();
    for (bucket, event, totals) in &aggregate.groups {
        let Some(bucket) = bucket else { continue };
        let counts = per_bucket.entry(bucket.clone()).or_default();
        counts.all.add(*totals);
        match event.as_deref() {
            Some("offered") => counts.offered += totals.count,
            Some("accepted" | "edited") => counts.accepted += totals.count,
            _ => {}
        }
    }
    Ok(compare(&per_bucket))
}

fn compare(per_bucket: &BTreeMap<String, Counts>) -> Experiment {
    let buckets: Vec<BucketStats> = per_bucket
        .iter()
        .map(|(bucket, counts)| {
            let interval = wilson_interval(counts.accepted, counts.offered);
            BucketStats {
                bucket: bucket.clone(),
                events: counts.all.count,
                offered: counts.offered,
                accepted: counts.accepted,
                accept_rate: percent(counts.accepted, counts.offered),
                ci_low: interval.map(|(low, _)| low * 100.0),
                ci_high: interval.map(|(_, high)| high * 100.0),
                avg_latency_ms: (counts.all.latency_count > 0)
                    .then(|| counts.all.latency_sum as f64 / counts.all.latency_count as f64),
            }
        })
        .collect();
    let comparison = match buckets.as_slice() {
        [control, treatment, ..] => two_proportion_test(
            (control.accepted, control.offered),
            (treatment.accepted, treatment.offered),
        )
        .map(|test| Comparison {
            control: control.bucket.clone(),
            treatment: treatment.bucket.clone(),
            difference_pt: test.difference * 100.0,
            ci_low_pt: test.ci_low * 100.0,
            ci_high_pt: test.ci_high * 100.0,
            z: test.z,
            p_value: test.p_value,
            significant: test.p_value < SIGNIFICANCE,
        }),
        _ => None,
    };
    let offered: Vec<u64> = buckets.iter().map(|bucket| bucket.offered).collect();
    let sample_ratio = sample_ratio_test(&offered).map(|(chi_square, p_value)| SampleRatioCheck {
        chi_square,
        p_value,
        mismatch: p_value < SRM_ALPHA,
    });
    let sample_too_small = buckets.len() < 2
        || buckets.iter().any(|bucket| {
            bucket.offered < MIN_OFFERED
                || bucket.accepted < MIN_OUTCOMES
                || bucket.offered.saturating_sub(bucket.accepted) < MIN_OUTCOMES
        });
    Experiment {
        buckets,
        comparison,
        sample_ratio,
        sample_too_small,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(offered: u64, accepted: u64) -> Counts {
        Counts {
            all: Totals {
                count: offered + accepted,
                latency_count: offered,
                latency_sum: offered as i64 * 400,
            },
            offered,
            accepted,
        }
    }

    #[test]
    fn compares_b_with_a() {
        let per_bucket = BTreeMap::from([
            ("A".to_owned(), counts(1000, 500)),
            ("B".to_owned(), counts(1000, 550)),
        ]);
        let experiment = compare(&per_bucket);
        let comparison = experiment.comparison.expect("two buckets");
        assert_eq!(
            (comparison.control.as_str(), comparison.treatment.as_str()),
            ("A", "B")
        );
        assert!((comparison.difference_pt - 5.0).abs() < 1e-9);
        assert!((comparison.p_value - 0.025_164).abs() < 1e-5);
        assert!(comparison.significant);
        assert!(!experiment.sample_ratio.expect("two buckets").mismatch);
        assert!(!experiment.sample_too_small);
        assert_eq!(experiment.buckets[0].avg_latency_ms, Some(400.0));
    }

    #[test]
    fn flags_small_samples_and_uneven_splits() {
        let small = BTreeMap::from([
            ("A".to_owned(), counts(20, 10)),
            ("B".to_owned(), counts(25, 12)),
        ]);
        assert!(compare(&small).sample_too_small);
        let uneven = BTreeMap::from([
            ("A".to_owned(), counts(10_000, 5000)),
            ("B".to_owned(), counts(11_000, 5600)),
        ]);
        let experiment = compare(&uneven);
        assert!(experiment.sample_ratio.expect("two buckets").mismatch);
        let single = BTreeMap::from([("A".to_owned(), counts(500, 200))]);
        assert!(compare(&single).comparison.is_none());
    }
}

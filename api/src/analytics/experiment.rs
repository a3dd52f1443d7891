//! `/analytics/experiment`: accept rate per A/B bucket with Wilson intervals, the lift of the
//! second bucket over the first with a z-test and an always-valid interval, and the checks
//! that say whether to trust it: sample ratio, sessions in both buckets, guardrails.

use std::collections::{BTreeMap, HashMap};

use chrono::DateTime;
use coachboard_contract::{
    BucketStats, Comparison, Experiment, Guardrail, GuardrailValue, MultipleExposure,
    SampleRatioCheck, SequentialComparison,
};

use super::summary::percent;
use super::{Accumulate, Aggregate, Engine, GroupKey, Totals, Wants};
use crate::histogram::LatencyHistogram;
use crate::stats::{
    SEQUENTIAL_TUNING_N, sample_ratio_test, sequential_test, two_proportion_test, wilson_interval,
};
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
    let mut rows = PerBucket::default();
    let wants = Wants::over_all_time(false);
    engine.run(scope, wants, &mut rows)?;
    let mut per_bucket: BTreeMap<String, Counts> = BTreeMap::new();
    for (bucket, event, totals) in &rows.aggregate.groups {
        let Some(bucket) = bucket else { continue };
        let counts = per_bucket.entry(bucket.clone()).or_default();
        counts.all.add(*totals);
        match event.as_deref() {
            Some("offered") => counts.offered += totals.count,
            Some("accepted" | "edited") => counts.accepted += totals.count,
            _ => {}
        }
    }
    let mut experiment = compare(&per_bucket);
    let (sessions, in_several_buckets) = engine.store().multiple_exposure(scope)?;
    experiment.multiple_exposure = (sessions > 0).then_some(MultipleExposure {
        sessions,
        in_several_buckets,
    });
    if let [control, treatment, ..] = experiment.buckets.as_slice() {
        let inputs = guardrail_inputs(
            engine,
            scope,
            &mut rows,
            [&control.bucket, &treatment.bucket],
        )?;
        experiment.guardrails = guardrails(&inputs[0], &inputs[1]);
    }
    Ok(experiment)
}

/// The scope's rows per (bucket, event), and their latencies per bucket: the guardrails
/// compare the buckets' latencies, so one pass over the rows serves both.
#[derive(Default)]
struct PerBucket {
    /// Only its groups are filled: the latencies over every bucket are not needed.
    aggregate: Aggregate,
    latency: HashMap<String, LatencyHistogram>,
}

impl Accumulate for PerBucket {
    fn rows(&mut self, slot: Option<i64>, key: GroupKey<'_>, totals: Totals) {
        self.aggregate.rows(slot, key, totals);
    }

    fn latency(&mut self, _slot: Option<i64>, key: GroupKey<'_>, bin: u16, count: u64) {
        if let Some(bucket) = key.bucket {
            match self.latency.get_mut(bucket) {
                Some(histogram) => histogram.add(bin, count),
                None => {
                    let mut histogram = LatencyHistogram::default();
                    histogram.add(bin, count);
                    self.latency.insert(bucket.to_owned(), histogram);
                }
            }
        }
    }

    fn policy(&mut self, _slot: Option<i64>, _policy: &str, _count: u64) {}
}

/// What the guardrails of one bucket are computed from.
#[derive(Debug, Default)]
struct GuardrailInputs {
    latency: LatencyHistogram,
    decision: LatencyHistogram,
    offers: u64,
    offers_with_policy: u64,
}

/// The guardrail inputs of two buckets: latency from each bucket's rows, the rest from one
/// query of the scope's suggestions, split by bucket.
fn guardrail_inputs(
    engine: &Engine,
    scope: &Scope,
    rows: &mut PerBucket,
    buckets: [&String; 2],
) -> Result<Vec<GuardrailInputs>, StoreError> {
    let mut inputs: Vec<GuardrailInputs> = buckets
        .iter()
        .map(|bucket| GuardrailInputs {
            latency: rows.latency.remove(*bucket).unwrap_or_default(),
            ..GuardrailInputs::default()
        })
        .collect();
    // No offer counts as unanswered here: the cut-off lies before any event.
    for row in engine
        .store()
        .suggestions(scope, DateTime::UNIX_EPOCH.naive_utc())?
    {
        let Some(index) = buckets
            .iter()
            .position(|bucket| row.bucket.as_ref() == Some(*bucket))
        else {
            continue;
        };
        let inputs = &mut inputs[index];
        inputs.offers += row.count;
        if row.touches_policy {
            inputs.offers_with_policy += row.count;
        }
        if let Some(bin) = row.decision_bin {
            inputs.decision.add(bin, row.count);
        }
    }
    Ok(inputs)
}

fn p95(histogram: &LatencyHistogram) -> GuardrailValue {
    let interval = histogram.quantile_interval(0.95);
    GuardrailValue {
        value: histogram.quantile(0.95),
        ci_low: interval.map(|(low, _)| low),
        ci_high: interval.map(|(_, high)| high),
    }
}

fn share(part: u64, whole: u64) -> GuardrailValue {
    let interval = wilson_interval(part, whole);
    GuardrailValue {
        value: percent(part, whole),
        ci_low: interval.map(|(low, _)| low * 100.0),
        ci_high: interval.map(|(_, high)| high * 100.0),
    }
}

/// Latency p95, decision-time p95 and policy-reference rate of both buckets; higher is worse
/// for each, and the treatment is marked worse only when its interval lies wholly above the
/// control's (a conservative test: no alarm from noise).
fn guardrails(control: &GuardrailInputs, treatment: &GuardrailInputs) -> Vec<Guardrail> {
    let pairs = [
        (
            "latency_p95_ms",
            p95(&control.latency),
            p95(&treatment.latency),
        ),
        (
            "decision_p95_ms",
            p95(&control.decision),
            p95(&treatment.decision),
        ),
        (
            "policy_reference_rate",
            share(control.offers_with_policy, control.offers),
            share(treatment.offers_with_policy, treatment.offers),
        ),
    ];
    pairs
        .into_iter()
        .map(|(metric, control, treatment)| Guardrail {
            metric: metric.to_owned(),
            treatment_worse: matches!(
                (treatment.ci_low, control.ci_high),
                (Some(low), Some(high)) if low > high
            ),
            control,
            treatment,
        })
        .collect()
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
    let sequential = match buckets.as_slice() {
        [control, treatment, ..] => sequential_test(
            (control.accepted, control.offered),
            (treatment.accepted, treatment.offered),
            SIGNIFICANCE,
            SEQUENTIAL_TUNING_N,
        )
        .map(|(low, high, p_value)| SequentialComparison {
            ci_low_pt: low * 100.0,
            ci_high_pt: high * 100.0,
            p_value,
            significant: low > 0.0 || high < 0.0,
            tuning_n: SEQUENTIAL_TUNING_N,
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
        sequential,
        ..Experiment::default()
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
    fn guardrails_mark_a_treatment_worse_beyond_its_interval() {
        let inputs = |latency_ms: i64, with_policy: u64| {
            let mut inputs = GuardrailInputs {
                offers: 1000,
                offers_with_policy: with_policy,
                ..GuardrailInputs::default()
            };
            for step in 0..1000 {
                let bin = crate::histogram::bin_of(latency_ms + step).expect("positive");
                inputs.latency.add(bin, 1);
                inputs.decision.add(bin, 1);
            }
            inputs
        };
        let same = guardrails(&inputs(400, 300), &inputs(400, 300));
        assert_eq!(same.len(), 3);
        assert!(same.iter().all(|guardrail| !guardrail.treatment_worse));
        let slower = guardrails(&inputs(400, 300), &inputs(900, 400));
        assert!(slower.iter().all(|guardrail| guardrail.treatment_worse));
        let faster = guardrails(&inputs(900, 400), &inputs(400, 300));
        assert!(faster.iter().all(|guardrail| !guardrail.treatment_worse));
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

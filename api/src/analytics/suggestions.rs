//! `/analytics/suggestions` and `/analytics/policy-outcomes`: suggestions as a whole (an
//! offer and its first answer), from the store's grouped rows.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use coachboard_contract::{
    BucketSuggestions, DecisionTime, PolicyOutcome, PolicyOutcomes, Rate, RewriteBand,
    RewriteSizes, SuggestionOutcomes, SuggestionStats,
};

use super::Engine;
use super::latency::describe;
use super::summary::percent;
use crate::histogram::LatencyHistogram;
use crate::stats::wilson_interval;
use crate::store::{Scope, StoreError, SuggestionRow};

/// Counts of one group of suggestions, before rates are taken.
#[derive(Debug, Default)]
struct Tally {
    suggestions: u64,
    accepted: u64,
    edited: u64,
    rejected: u64,
    unanswered: u64,
    pending: u64,
    decision: LatencyHistogram,
}

impl Tally {
    fn add(&mut self, row: &SuggestionRow) {
        self.suggestions += row.count;
        match row.outcome.as_deref() {
            Some("accepted") => self.accepted += row.count,
            Some("edited") => self.edited += row.count,
            Some("rejected") => self.rejected += row.count,
            Some(_) => {}
            None if row.unanswered => self.unanswered += row.count,
            None => self.pending += row.count,
        }
        if let Some(bin) = row.decision_bin {
            self.decision.add(bin, row.count);
        }
    }

    fn stats(&self) -> SuggestionStats {
        let taken = self.accepted + self.edited;
        let rate = rate(taken, self.suggestions);
        SuggestionStats {
            suggestions: self.suggestions,
            accepted: self.accepted,
            edited: self.edited,
            rejected: self.rejected,
            unanswered: self.unanswered,
            pending: self.pending,
            accept_rate: rate.percent,
            accept_ci_low: rate.ci_low,
            accept_ci_high: rate.ci_high,
            unanswered_rate: percent(self.unanswered, self.suggestions),
            decision_p50_ms: self.decision.quantile(0.50),
            decision_p95_ms: self.decision.quantile(0.95),
        }
    }
}

/// A share in percent with its 95% Wilson interval.
pub fn rate(part: u64, whole: u64) -> Rate {
    let interval = wilson_interval(part, whole);
    Rate {
        percent: percent(part, whole),
        ci_low: interval.map(|(low, _)| low * 100.0),
        ci_high: interval.map(|(_, high)| high * 100.0),
    }
}

/// Whether a suggestion with this first outcome passes an `event` filter: `offered` keeps
/// every suggestion, an outcome type those answered so.
fn passes(row: &SuggestionRow, event: Option<&str>) -> bool {
    match event {
        None | Some("offered") => true,
        Some(kind) => row.outcome.as_deref() == Some(kind),
    }
}

pub fn suggestion_outcomes(
    engine: &Engine,
    scope: &Scope,
    unanswered_after_s: u64,
    now: NaiveDateTime,
) -> Result<SuggestionOutcomes, StoreError> {
    let cut_off = now - Duration::seconds(i64::try_from(unanswered_after_s).unwrap_or(i64::MAX));
    let rows = engine.store().suggestions(scope, cut_off)?;
    let mut overall = Tally::default();
    let mut buckets: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut inferred_links, mut answered_more_than_once) = (0, 0);
    for row in rows
        .iter()
        .filter(|row| passes(row, scope.event.as_deref()))
    {
        overall.add(row);
        if let Some(bucket) = &row.bucket {
            buckets.entry(bucket.clone()).or_default().add(row);
        }
        if row.outcome.is_some() && row.inferred {
            inferred_links += row.count;
        }
        if row.answered_again {
            answered_more_than_once += row.count;
        }
    }
    let distribution = describe(&overall.decision, None);
    Ok(SuggestionOutcomes {
        unanswered_after_s,
        overall: overall.stats(),
        buckets: buckets
            .into_iter()
            .map(|(bucket, tally)| BucketSuggestions {
                bucket,
                stats: tally.stats(),
            })
            .collect(),
        inferred_links,
        answered_more_than_once,
        decision_time: DecisionTime {
            count: distribution.count,
            p50_ms: distribution.p50_ms,
            p90_ms: distribution.p90_ms,
            p95_ms: distribution.p95_ms,
            bins: distribution.bins,
        },
    })
}

pub fn rewrite_sizes(engine: &Engine, scope: &Scope) -> Result<RewriteSizes, StoreError> {
    let mut counts = [(0u64, 0u64); 10];
    let mut without_text = 0;
    for row in engine.store().rewrite_outcomes(scope)? {
        let Some(band) = row.band else {
            without_text += row.count;
            continue;
        };
        let (suggestions, accepted) = &mut counts[usize::from(band.min(9))];
        *suggestions += row.count;
        if matches!(row.outcome.as_deref(), Some("accepted" | "edited")) {
            *accepted += row.count;
        }
    }
    let bands = counts
        .iter()
        .enumerate()
        .map(|(band, &(suggestions, accepted))| RewriteBand {
            lower_pct: band as f64 * 10.0,
            upper_pct: (band + 1) as f64 * 10.0,
            suggestions,
            accepted,
            accept_rate: rate(accepted, suggestions),
        })
        .collect();
    Ok(RewriteSizes {
        bands,
        without_text,
    })
}

pub fn policy_outcomes(engine: &Engine, scope: &Scope) -> Result<PolicyOutcomes, StoreError> {
    let mut tallies: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for row in engine.store().policy_outcomes(scope)? {
        let counts = tallies.entry(row.policy).or_default();
        let slot = match row.outcome.as_deref() {
            Some("accepted") => 0,
            Some("edited") => 1,
            Some("rejected") => 2,
            _ => 3,
        };
        counts[slot] += row.count;
    }
    let mut policies: Vec<PolicyOutcome> = tallies
        .into_iter()
        .map(|(policy, [accepted, edited, rejected, unanswered])| {
            let suggestions = accepted + edited + rejected + unanswered;
            PolicyOutcome {
                policy,
                suggestions,
                accepted,
                edited,
                rejected,
                unanswered,
                accept_rate: rate(accepted + edited, suggestions),
                edit_rate: rate(edited, suggestions),
                reject_rate: rate(rejected, suggestions),
            }
        })
        .collect();
    policies.sort_by(|a, b| {
        b.suggestions
            .cmp(&a.suggestions)
            .then_with(|| a.policy.cmp(&b.policy))
    });
    Ok(PolicyOutcomes { policies })
}

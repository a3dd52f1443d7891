//! The A/B experiment: rates with intervals, the lift in words, and warnings.

use coachboard_contract::Experiment;
use leptos::prelude::*;

use crate::charts::experiment;
use crate::components::data_table::TableData;
use crate::components::panel::{ChartView, Load, Panel, chart_body};
use crate::format::{duration_ms, lift_sentence, percent, thousands};

/// The verdict and warnings under the title (pure). With an always-valid interval the
/// verdict is its own, and says so.
pub fn verdict(experiment: &Experiment) -> (Option<String>, Vec<String>) {
    let sentence = experiment
        .comparison
        .as_ref()
        .map(|comparison| match &experiment.sequential {
            Some(sequential) => format!(
                "{} (always-valid interval {:+.1} to {:+.1} pt: safe to check every day)",
                lift_sentence(
                    &comparison.treatment,
                    comparison.difference_pt,
                    sequential.p_value,
                    sequential.significant,
                ),
                sequential.ci_low_pt,
                sequential.ci_high_pt
            ),
            None => lift_sentence(
                &comparison.treatment,
                comparison.difference_pt,
                comparison.p_value,
                comparison.significant,
            ),
        });
    let mut warnings = Vec::new();
    if let Some(exposure) = &experiment.multiple_exposure
        && exposure.in_several_buckets > 0
    {
        warnings.push(format!(
            "{} of {} sessions saw more than one bucket (multiple exposure): their events blur the comparison.",
            thousands(exposure.in_several_buckets),
            thousands(exposure.sessions)
        ));
    }
    if let Some(comparison) = &experiment.comparison {
        for guardrail in experiment.guardrails.iter().filter(|g| g.treatment_worse) {
            warnings.push(format!(
                "Guardrail: {} is worse in {} ({} against {}), beyond both intervals.",
                guardrail_name(&guardrail.metric),
                comparison.treatment,
                guardrail_value(&guardrail.metric, guardrail.treatment.value),
                guardrail_value(&guardrail.metric, guardrail.control.value)
            ));
        }
    }
    if experiment
        .sample_ratio
        .as_ref()
        .is_some_and(|check| check.mismatch)
    {
        warnings.push("The split between buckets is uneven beyond chance (sample ratio mismatch): check how sessions are assigned before trusting the lift.".to_owned());
    }
    if experiment.sample_too_small {
        warnings.push("The sample is too small for a reliable comparison yet.".to_owned());
    }
    (sentence, warnings)
}

#[component]
pub fn ExperimentPanel(data: Signal<Load<Experiment>>) -> impl IntoView {
    let as_table = RwSignal::new(false);
    let subtitle = Signal::derive(move || {
        data.with(|load| load.ready().and_then(|experiment| verdict(experiment).0))
    });
    let warnings = move || {
        data.with(|load| {
            load.ready()
                .map(|experiment| verdict(experiment).1)
                .unwrap_or_default()
        })
        .into_iter()
        .map(|warning| view! { <p class="warning" role="note">"⚠ "{warning}</p> })
        .collect_view()
    };
    let guardrails = move || {
        let lines = data.with(|load| load.ready().map(guardrail_lines).unwrap_or_default());
        (!lines.is_empty()).then(|| {
            let items = lines
                .into_iter()
                .map(|line| view! { <li>{line}</li> })
                .collect_view();
            view! { <ul class="guardrails" aria-label="Guardrails">{items}</ul> }
        })
    };
    let body = chart_body(
        data,
        as_table,
        ChartView {
            class: "chart experiment",
            table: table_data,
            describe: experiment::describe,
            draw: |area, value, theme| {
                let _ = experiment::draw(area, value, theme);
            },
        },
    );
    view! {
        <Panel title="A/B experiment" id="panel-experiment" as_table=as_table subtitle=subtitle>
            {warnings}
            {body}
            {guardrails}
        </Panel>
    }
}

pub fn guardrail_name(metric: &str) -> &str {
    match metric {
        "latency_p95_ms" => "latency p95",
        "decision_p95_ms" => "decision time p95",
        "policy_reference_rate" => "policy-reference rate",
        other => other,
    }
}

pub fn guardrail_value(metric: &str, value: Option<f64>) -> String {
    match value {
        None => "–".to_owned(),
        Some(value) if metric.ends_with("_ms") => duration_ms(value),
        Some(value) => percent(value),
    }
}

/// One line per guardrail: each bucket's value, and whether the treatment is worse.
fn guardrail_lines(experiment: &Experiment) -> Vec<String> {
    let (Some(control), Some(treatment)) = (experiment.buckets.first(), experiment.buckets.get(1))
    else {
        return Vec::new();
    };
    experiment
        .guardrails
        .iter()
        .map(|guardrail| {
            format!(
                "{}: {} {} · {} {} — {}",
                guardrail_name(&guardrail.metric),
                control.bucket,
                guardrail_value(&guardrail.metric, guardrail.control.value),
                treatment.bucket,
                guardrail_value(&guardrail.metric, guardrail.treatment.value),
                if guardrail.treatment_worse {
                    "worse"
                } else {
                    "ok"
                }
            )
        })
        .collect()
}

/// The table view: one row per bucket.
pub fn table_data(experiment: &Experiment) -> TableData {
    let dash = || "–".to_owned();
    TableData {
        headers: vec![
            "Bucket",
            "Offered",
            "Accepted",
            "Rate",
            "95% interval",
            "Avg latency",
        ],
        rows: experiment
            .buckets
            .iter()
            .map(|bucket| {
                vec![
                    bucket.bucket.clone(),
                    thousands(bucket.offered),
                    thousands(bucket.accepted),
                    bucket.accept_rate.map(percent).unwrap_or_else(dash),
                    match (bucket.ci_low, bucket.ci_high) {
                        (Some(low), Some(high)) => format!("{low:.1} – {high:.1}%"),
                        _ => dash(),
                    },
                    bucket.avg_latency_ms.map(duration_ms).unwrap_or_else(dash),
                ]
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coachboard_contract::{Comparison, SampleRatioCheck};

    #[test]
    fn verdict_in_words_with_warnings() {
        let experiment = Experiment {
            comparison: Some(Comparison {
                control: "A".into(),
                treatment: "B".into(),
                difference_pt: 5.8,
                ci_low_pt: 2.0,
                ci_high_pt: 9.6,
                z: 3.0,
                p_value: 0.003,
                significant: true,
            }),
            sample_ratio: Some(SampleRatioCheck {
                chi_square: 20.0,
                p_value: 0.00001,
                mismatch: true,
            }),
            sample_too_small: false,
            ..Experiment::default()
        };
        let (sentence, warnings) = verdict(&experiment);
        assert_eq!(
            sentence.as_deref(),
            Some("B accepts 5.8 points more; significant, p = 0.003")
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("sample ratio mismatch"));
        let sequential = Experiment {
            sequential: Some(coachboard_contract::SequentialComparison {
                ci_low_pt: -0.4,
                ci_high_pt: 12.0,
                p_value: 0.3,
                significant: false,
                tuning_n: 5000.0,
            }),
            multiple_exposure: Some(coachboard_contract::MultipleExposure {
                sessions: 1000,
                in_several_buckets: 12,
            }),
            ..experiment
        };
        let (sentence, warnings) = verdict(&sequential);
        assert_eq!(
            sentence.as_deref(),
            Some(
                "B accepts 5.8 points more; not significant, p = 0.30 (always-valid interval \
                 -0.4 to +12.0 pt: safe to check every day)"
            )
        );
        assert!(warnings[0].contains("12 of 1,000 sessions"));
    }
}

//! The A/B experiment: rates with intervals, the lift in words, and warnings.

use coachboard_contract::Experiment;
use leptos::prelude::*;

use crate::charts::experiment;
use crate::components::data_table::TableData;
use crate::components::panel::{ChartView, Load, Panel, chart_body};
use crate::format::{duration_ms, lift_sentence, percent, thousands};

/// The verdict and warnings under the title (pure).
pub fn verdict(experiment: &Experiment) -> (Option<String>, Vec<String>) {
    let sentence = experiment.comparison.as_ref().map(|comparison| {
        lift_sentence(
            &comparison.treatment,
            comparison.difference_pt,
            comparison.p_value,
            comparison.significant,
        )
    });
    let mut warnings = Vec::new();
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
        </Panel>
    }
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
    }
}

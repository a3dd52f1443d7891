//! The panels about suggestions as a whole: decision time (offer to answer) beside rewrite
//! size against accept rate.

use coachboard_contract::{LatencyDistribution, RewriteSizes, SuggestionOutcomes};
use leptos::prelude::*;

use crate::charts::latency::{self, LatencyView};
use crate::charts::rewrites;
use crate::components::data_table::TableData;
use crate::components::latency_panel;
use crate::components::panel::{ChartView, Load, Panel, chart_body};
use crate::format::{duration_ms, percent, thousands};

/// The decision times as a distribution the latency chart can draw.
pub fn decision_distribution(suggestions: &SuggestionOutcomes) -> LatencyDistribution {
    let decision = &suggestions.decision_time;
    LatencyDistribution {
        count: decision.count,
        p50_ms: decision.p50_ms,
        p90_ms: decision.p90_ms,
        p95_ms: decision.p95_ms,
        bins: decision.bins.clone(),
        ..LatencyDistribution::default()
    }
}

fn describe_decision(view: &LatencyView) -> String {
    let decision = &view.latency;
    match (decision.p50_ms, decision.p95_ms) {
        (Some(p50), Some(p95)) => format!(
            "Time from offer to answer of {} suggestions: median {}, 95th percentile {}.",
            thousands(decision.count),
            duration_ms(p50),
            duration_ms(p95)
        ),
        _ => "Decision time: no answered suggestion in this range.".to_owned(),
    }
}

#[component]
pub fn DecisionPanel(data: Signal<Load<SuggestionOutcomes>>) -> impl IntoView {
    let as_table = RwSignal::new(false);
    let distribution = Signal::derive(move || {
        data.with(|load| {
            load.map(|suggestions| LatencyView {
                latency: decision_distribution(suggestions),
                baseline: None,
            })
        })
    });
    let subtitle = Signal::derive(move || {
        data.with(|load| {
            load.ready().and_then(|suggestions| {
                let overall = &suggestions.overall;
                Some(format!(
                    "p50 {} · p95 {} · {} unanswered",
                    duration_ms(overall.decision_p50_ms?),
                    duration_ms(overall.decision_p95_ms?),
                    overall.unanswered_rate.map(percent)?
                ))
            })
        })
    });
    let body = chart_body(
        distribution,
        as_table,
        ChartView {
            class: "chart latency",
            table: latency_panel::table_data,
            describe: describe_decision,
            draw: |area, value, theme| {
                let _ = latency::draw(area, value, theme);
            },
        },
    );
    view! {
        <Panel title="Decision time" id="panel-decision" as_table=as_table subtitle=subtitle>
            {body}
        </Panel>
    }
}

#[component]
pub fn RewritePanel(data: Signal<Load<RewriteSizes>>) -> impl IntoView {
    let as_table = RwSignal::new(false);
    let body = chart_body(
        data,
        as_table,
        ChartView {
            class: "chart rewrites",
            table: rewrite_table,
            describe: rewrites::describe,
            draw: |area, value, theme| {
                let _ = rewrites::draw(area, value, theme);
            },
        },
    );
    let subtitle = Signal::derive(move || {
        Some("Bars: suggestions by words changed · line: accept rate".to_owned())
    });
    view! {
        <Panel title="Rewrite size and accept rate" id="panel-rewrites" as_table=as_table subtitle=subtitle>
            {body}
        </Panel>
    }
}

/// The table view: one row per band with suggestions.
pub fn rewrite_table(sizes: &RewriteSizes) -> TableData {
    TableData {
        headers: vec!["Words changed", "Suggestions", "Accept rate"],
        rows: sizes
            .bands
            .iter()
            .filter(|band| band.suggestions > 0)
            .map(|band| {
                vec![
                    format!("{:.0}–{:.0}%", band.lower_pct, band.upper_pct),
                    thousands(band.suggestions),
                    crate::policy_outcomes::rate_text(&band.accept_rate),
                ]
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coachboard_contract::{Rate, RewriteBand};

    #[test]
    fn rewrite_table_lists_bands_with_suggestions() {
        let band = |lower: f64, suggestions: u64| RewriteBand {
            lower_pct: lower,
            upper_pct: lower + 10.0,
            suggestions,
            accepted: suggestions / 2,
            accept_rate: Rate {
                percent: Some(50.0),
                ci_low: Some(40.0),
                ci_high: Some(60.0),
            },
        };
        let table = rewrite_table(&RewriteSizes {
            bands: vec![band(0.0, 100), band(10.0, 0), band(20.0, 1200)],
            without_text: 3,
        });
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[1], ["20–30%", "1,200", "50.0% (40.0–60.0)"]);
        assert!(rewrites::describe(&RewriteSizes::default()).contains("no suggestion"));
    }
}

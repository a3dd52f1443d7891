//! Latency distribution with p50/p95 marked.

use coachboard_contract::LatencyDistribution;
use leptos::prelude::*;

use crate::charts::latency;
use crate::components::data_table::TableData;
use crate::components::panel::{ChartView, Load, Panel, chart_body};
use crate::format::{duration_ms, thousands};

#[component]
pub fn LatencyPanel(data: Signal<Load<LatencyDistribution>>) -> impl IntoView {
    let as_table = RwSignal::new(false);
    let subtitle = Signal::derive(move || {
        data.with(|load| {
            load.ready().and_then(|latency| {
                Some(format!(
                    "p50 {} · p95 {} · p99 {}",
                    duration_ms(latency.p50_ms?),
                    duration_ms(latency.p95_ms?),
                    duration_ms(latency.p99_ms?)
                ))
            })
        })
    });
    let body = chart_body(
        data,
        as_table,
        ChartView {
            class: "chart latency",
            table: table_data,
            describe: latency::describe,
            draw: |area, value, theme| {
                let _ = latency::draw(area, value, theme);
            },
        },
    );
    view! {
        <Panel title="Latency distribution" id="panel-latency" as_table=as_table subtitle=subtitle>
            {body}
        </Panel>
    }
}

/// The table view: one row per non-empty bin.
pub fn table_data(latency: &LatencyDistribution) -> TableData {
    TableData {
        headers: vec!["Latency", "Suggestions"],
        rows: latency
            .bins
            .iter()
            .filter(|bin| bin.count > 0)
            .map(|bin| {
                vec![
                    format!(
                        "{} – {}",
                        duration_ms(bin.lower_ms),
                        duration_ms(bin.upper_ms)
                    ),
                    thousands(bin.count),
                ]
            })
            .collect(),
    }
}

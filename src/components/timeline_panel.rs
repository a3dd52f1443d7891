//! Events over time, stacked by type, with the accept rate.

use coachboard_contract::Timeseries;
use leptos::prelude::*;

use crate::charts::events_over_time;
use crate::components::data_table::TableData;
use crate::components::panel::{ChartView, Load, Panel, chart_body};
use crate::format::{clock, date, duration_ms, percent, thousands};

#[component]
pub fn TimelinePanel(data: Signal<Load<Timeseries>>) -> impl IntoView {
    let as_table = RwSignal::new(false);
    let legend = [("offered", "Offered"), ("accepted", "Accepted"), ("edited", "Edited"), ("rejected", "Rejected"), ("rate", "Accept rate")]
        .map(|(class, label)| view! { <span class="legend-item"><i class=format!("swatch {class}")></i>{label}</span> })
        .collect_view();
    let body = chart_body(
        data,
        as_table,
        ChartView {
            class: "chart timeline",
            table: table_data,
            describe: events_over_time::describe,
            draw: |area, value, theme| {
                let _ = events_over_time::draw(area, value, theme);
            },
        },
    );
    view! {
        <Panel title="Events over time" id="panel-timeline" as_table=as_table>
            <div class="legend">{legend}</div>
            {body}
        </Panel>
    }
}

/// The table view: one row per bucket with events.
pub fn table_data(series: &Timeseries) -> TableData {
    let dash = || "–".to_owned();
    TableData {
        headers: vec![
            "Start",
            "Offered",
            "Accepted",
            "Edited",
            "Rejected",
            "Accept rate",
            "p50",
            "p95",
        ],
        rows: series
            .points
            .iter()
            .filter(|point| point.total() > 0)
            .map(|point| {
                vec![
                    format!("{} {}", date(&point.start), clock(&point.start, false)),
                    thousands(point.offered),
                    thousands(point.accepted),
                    thousands(point.edited),
                    thousands(point.rejected),
                    point.accept_rate.map(percent).unwrap_or_else(dash),
                    point.latency_p50_ms.map(duration_ms).unwrap_or_else(dash),
                    point.latency_p95_ms.map(duration_ms).unwrap_or_else(dash),
                ]
            })
            .collect(),
    }
}

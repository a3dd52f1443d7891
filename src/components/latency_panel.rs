//! Latency distribution with p50/p95 marked.

use coachboard_contract::LatencyDistribution;
use leptos::prelude::*;

use crate::charts::latency::{self, LatencyView, baseline_count};
use crate::components::data_table::TableData;
use crate::components::panel::{ChartView, Load, Panel, chart_body};
use crate::format::{duration_ms, thousands};

#[component]
pub fn LatencyPanel(
    data: Signal<Load<LatencyDistribution>>,
    /// The earlier period and its name, when comparing.
    baseline: Signal<Option<(&'static str, LatencyDistribution)>>,
) -> impl IntoView {
    let as_table = RwSignal::new(false);
    let view_data = Memo::new(move |_| {
        data.with(|load| {
            load.map(|latency| LatencyView {
                latency: latency.clone(),
                baseline: baseline.get(),
            })
        })
    });
    let subtitle = Signal::derive(move || {
        data.with(|load| {
            load.ready().and_then(|latency| {
                let now = format!(
                    "p50 {} · p95 {} · p99 {}",
                    duration_ms(latency.p50_ms?),
                    duration_ms(latency.p95_ms?),
                    duration_ms(latency.p99_ms?)
                );
                let before = baseline.with(|baseline| {
                    let (name, before) = baseline.as_ref()?;
                    Some(format!(
                        " ({name}, faint: p50 {} · p95 {})",
                        duration_ms(before.p50_ms?),
                        duration_ms(before.p95_ms?)
                    ))
                });
                Some(now + &before.unwrap_or_default())
            })
        })
    });
    let body = chart_body(
        view_data.into(),
        as_table,
        ChartView {
            class: "chart latency",
            table: table_data,
            describe: latency::describe_view,
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

/// The table view: one row per non-empty bin, the earlier period's count beside it.
pub fn table_data(view: &LatencyView) -> TableData {
    let mut headers = vec!["Latency", "Suggestions"];
    if let Some((name, _)) = &view.baseline {
        headers.push(name);
    }
    TableData {
        headers,
        rows: view
            .latency
            .bins
            .iter()
            .filter(|bin| bin.count > 0)
            .map(|bin| {
                let mut row = vec![
                    format!(
                        "{} – {}",
                        duration_ms(bin.lower_ms),
                        duration_ms(bin.upper_ms)
                    ),
                    thousands(bin.count),
                ];
                if let Some((_, before)) = &view.baseline {
                    row.push(thousands(baseline_count(
                        before,
                        bin.lower_ms,
                        bin.upper_ms,
                    )));
                }
                row
            })
            .collect(),
    }
}

//! Latency distribution with p50/p95 marked.

use coachboard_contract::LatencyDistribution;
use leptos::prelude::*;

use crate::app::AppContext;
use crate::charts::canvas::ChartCanvas;
use crate::charts::latency;
use crate::components::data_table::{DataTable, TableData};
use crate::components::panel::{Load, Panel, unready_view};
use crate::format::{duration_ms, thousands};
use crate::theme::ChartTheme;

#[component]
pub fn LatencyPanel(data: Signal<Load<LatencyDistribution>>) -> impl IntoView {
    let context = expect_context::<AppContext>();
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
    let body = move || {
        let load = data.get();
        if let Some(view) = unready_view(&load) {
            return view;
        }
        if as_table.get() {
            let data = load.ready().map(table_data).unwrap_or_default();
            return view! { <DataTable data=data/> }.into_any();
        }
        let label = Signal::derive(move || {
            data.with(|load| load.ready().map(latency::describe).unwrap_or_default())
        });
        view! {
            <ChartCanvas class="chart latency" label=label draw=move |area| {
                let theme = ChartTheme::new(context.dark());
                data.with(|load| if let Some(distribution) = load.ready() {
                    let _ = latency::draw(area, distribution, &theme);
                });
            }/>
        }
        .into_any()
    };
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

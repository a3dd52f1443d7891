//! Policy violations: click a bar (or a row of the table) to filter the page by it.

use coachboard_contract::PolicyCounts;
use leptos::prelude::*;

use crate::app::AppContext;
use crate::charts::canvas::ChartCanvas;
use crate::charts::policies::{self, Bar};
use crate::components::data_table::{DataTable, TableData};
use crate::components::panel::{Load, Panel, unready_view};
use crate::format::thousands;
use crate::page_nav::PageNav;
use crate::theme::ChartTheme;

#[component]
pub fn PoliciesPanel(data: Signal<Load<PolicyCounts>>) -> impl IntoView {
    let context = expect_context::<AppContext>();
    let nav = expect_context::<PageNav>();
    let as_table = RwSignal::new(false);
    let selected = Signal::derive(move || nav.state.with(|state| state.policy.clone()));
    let bars = StoredValue::new(Vec::<Bar>::new());
    let choose = move |policy: String| {
        let toggled =
            (selected.get_untracked().as_deref() != Some(policy.as_str())).then_some(policy);
        nav.filter(|state| state.policy = toggled);
    };
    let on_click = Callback::new(move |(x, y, width): (f64, f64, f64)| {
        let hit = bars.with_value(|bars| policies::hit(bars, x, y, width).map(str::to_owned));
        if let Some(policy) = hit {
            choose(policy);
        }
    });
    let body = move || {
        let load = data.get();
        if let Some(view) = unready_view(&load) {
            return view;
        }
        if as_table.get() {
            let data = load.ready().map(table_data).unwrap_or_default();
            let pick = Callback::new(move |policy: String| choose(policy));
            return view! { <DataTable data=data on_pick=pick selected=selected/> }.into_any();
        }
        let label = Signal::derive(move || {
            data.with(|load| load.ready().map(policies::describe).unwrap_or_default())
        });
        let points = Signal::derive(move || {
            data.with(|load| load.ready().map(table_data).unwrap_or_default())
        });
        view! {
            <ChartCanvas class="chart policies" label=label on_click=on_click points=points draw=move |area| {
                let theme = ChartTheme::new(context.dark());
                let chosen = selected.get();
                data.with(|load| if let Some(counts) = load.ready()
                    && let Ok(drawn) = policies::draw(area, counts, chosen.as_deref(), &theme) {
                        bars.set_value(drawn);
                    });
            }/>
        }
        .into_any()
    };
    view! {
        <Panel title="Policy violations" id="panel-policies" as_table=as_table>
            {body}
        </Panel>
    }
}

/// The table view: every policy with its count.
pub fn table_data(counts: &PolicyCounts) -> TableData {
    TableData {
        headers: vec!["Policy", "Violations"],
        rows: counts
            .0
            .iter()
            .map(|(policy, count)| vec![policy.clone(), thousands(*count)])
            .collect(),
    }
}

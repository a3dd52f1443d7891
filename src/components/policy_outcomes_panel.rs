//! Policy outcomes: per policy an offer touched, how often those suggestions were accepted,
//! edited or rejected, with 95% intervals; sortable, and a click on a policy filters the page.

use coachboard_contract::PolicyOutcomes;
use leptos::prelude::*;

use crate::components::panel::{Load, unready_view};
use crate::page_nav::PageNav;
use crate::policy_outcomes::{Column, Order, rows};

#[component]
pub fn PolicyOutcomesPanel(
    data: Signal<Load<PolicyOutcomes>>,
    /// Under the title: how outcomes were linked to their offers.
    #[prop(into)]
    note: Signal<Option<String>>,
) -> impl IntoView {
    let nav = expect_context::<PageNav>();
    let order = RwSignal::new(Order::default());
    let selected = Signal::derive(move || nav.state.with(|state| state.policy.clone()));
    let choose = move |policy: String| {
        let toggled =
            (selected.get_untracked().as_deref() != Some(policy.as_str())).then_some(policy);
        nav.filter(|state| state.policy = toggled);
    };
    let headers = move || {
        Column::ALL
            .into_iter()
            .map(|column| {
                view! {
                    <th scope="col" class:num={column != Column::Policy}
                        aria-sort=move || order.get().aria_sort(column)>
                        <button class="sort" on:click=move |_| order.update(|order| *order = order.clicked(column))>
                            {column.label()}
                        </button>
                    </th>
                }
            })
            .collect_view()
    };
    // The rows are built once the panel comes near the viewport.
    let section = NodeRef::<leptos::html::Section>::new();
    let shown = crate::components::panel::once_near(section, data);
    let body = move || {
        let load = shown.get();
        if let Some(view) = unready_view(&load) {
            return view;
        }
        let Some(outcomes) = load.ready() else {
            return ().into_any();
        };
        if outcomes.policies.is_empty() {
            return view! { <p class="empty-note">"No suggestion in this view referenced a policy."</p> }
                .into_any();
        }
        let rows = rows(&outcomes.policies, order.get())
            .into_iter()
            .map(|row| {
                let policy = row.policy.clone();
                let is_selected = {
                    let policy = policy.clone();
                    move || selected.get().as_deref() == Some(policy.as_str())
                };
                view! {
                    <tr class:selected=is_selected>
                        <th scope="row">
                            <button class="link" on:click=move |_| choose(policy.clone())>{row.policy}</button>
                        </th>
                        <td class="num">{row.suggestions}</td>
                        <td class="num">{row.accept}</td>
                        <td class="num">{row.edit}</td>
                        <td class="num">{row.reject}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-scroll outcomes-table">
                <table>
                    <caption class="sr-only">"Outcomes of the suggestions per policy, with 95% intervals"</caption>
                    <thead><tr>{headers}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="panel wide" id="panel-policy-outcomes" node_ref=section>
            <header class="panel-head">
                <h2>"Policy outcomes"</h2>
                {crate::definitions::definition("panel-policy-outcomes").map(|text| view! { <crate::components::info_tip::InfoTip subject="Policy outcomes" id="panel-policy-outcomes".to_owned() text=text/> })}
            </header>
            {move || note.get().map(|text| view! { <p class="panel-subtitle note">{text}</p> })}
            <div class="panel-body">{body}</div>
        </section>
    }
}

//! The "show as table" view of any chart: the chart's data as plain rows.

use leptos::prelude::*;

/// A chart's data as text (built by plain functions beside each panel).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableData {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// Renders the rows; with `on_pick`, the first cell of each row is a button (e.g. to filter
/// by that policy), and the row equal to `selected` is highlighted.
#[component]
pub fn DataTable(
    data: TableData,
    #[prop(optional, into)] on_pick: Option<Callback<String>>,
    #[prop(optional, into)] selected: Option<Signal<Option<String>>>,
) -> impl IntoView {
    let headers = data
        .headers
        .iter()
        .enumerate()
        .map(|(index, header)| {
            view! { <th class:num={index > 0}>{*header}</th> }
        })
        .collect_view();
    let rows = data.rows.into_iter().map(|cells| {
        let key = cells.first().cloned().unwrap_or_default();
        let is_selected = {
            let key = key.clone();
            move || selected.is_some_and(|selected| selected.get().as_deref() == Some(key.as_str()))
        };
        let cells = cells.into_iter().enumerate().map(|(index, cell)| match (index, on_pick) {
            (0, Some(pick)) => {
                let value = cell.clone();
                view! { <td><button class="link" on:click=move |_| pick.run(value.clone())>{cell}</button></td> }.into_any()
            }
            _ => view! { <td class:num={index > 0}>{cell}</td> }.into_any(),
        }).collect_view();
        view! { <tr class:selected=is_selected>{cells}</tr> }
    }).collect_view();
    view! {
        <div class="table-scroll chart-table">
            <table><thead><tr>{headers}</tr></thead><tbody>{rows}</tbody></table>
        </div>
    }
}

//! The time range: presets, and a custom from–to in the viewer's local time.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::browser;
use crate::format::{clock, date};
use crate::page_nav::PageNav;
use crate::query::RangePreset;

/// `datetime-local` input text in the viewer's zone, and back.
fn to_input(instant: Option<DateTime<Utc>>) -> String {
    instant
        .map(|instant| {
            let local = instant.with_timezone(&browser::offset_at(instant));
            format!("{}T{}", date(&local), clock(&local, false))
        })
        .unwrap_or_default()
}

fn from_input(text: &str) -> Option<DateTime<Utc>> {
    // The browser parses a date-time without offset as local time.
    let millis = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(text)).get_time();
    (millis.is_finite() && !text.is_empty())
        .then(|| DateTime::from_timestamp_millis(millis as i64))
        .flatten()
}

#[component]
pub fn RangePicker() -> impl IntoView {
    let nav = expect_context::<PageNav>();
    let range = Signal::derive(move || nav.state.with(|state| state.range));
    let presets = RangePreset::ALL
        .iter()
        .filter(|preset| **preset != RangePreset::Custom)
        .map(|&preset| {
            view! {
                <button class="segment" aria-pressed=move || (range.get() == preset).to_string()
                    on:click=move |_| nav.filter(|state| { state.range = preset; })>
                    {preset.label()}
                </button>
            }
        })
        .collect_view();
    let custom_open = RwSignal::new(false);
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let open_custom = move |_| {
        let state = nav.state.get_untracked();
        let filter = state.filter(browser::now(), None);
        from.set(to_input(filter.from.or(state.from)));
        to.set(to_input(filter.to.or(state.to)));
        custom_open.update(|open| *open = !*open);
    };
    let apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (start, end) = (
            from_input(&from.get_untracked()),
            from_input(&to.get_untracked()),
        );
        if let (Some(start), Some(end)) = (start, end)
            && start >= end
        {
            return;
        }
        if start.is_none() && end.is_none() {
            return;
        }
        custom_open.set(false);
        nav.filter(|state| {
            state.range = RangePreset::Custom;
            state.from = start;
            state.to = end;
        });
    };
    view! {
        <div class="range-picker" role="group" aria-label="Time range">
            {presets}
            <button class="segment" aria-pressed=move || (range.get() == RangePreset::Custom).to_string()
                aria-expanded=move || custom_open.get().to_string() on:click=open_custom>"Custom"</button>
            {move || custom_open.get().then(|| view! {
                <form class="custom-range" on:submit=apply>
                    <label>"From" <input type="datetime-local" prop:value=move || from.get()
                        on:input:target=move |event| from.set(event.target().value())/></label>
                    <label>"To" <input type="datetime-local" prop:value=move || to.get()
                        on:input:target=move |event| to.set(event.target().value())/></label>
                    <button class="primary" type="submit">"Apply"</button>
                </form>
            })}
        </div>
    }
}

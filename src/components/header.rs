//! The header: title, time range, bucket, auto-refresh, "updated N s ago", theme, zone.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::app::AppContext;
use crate::comparison::Comparison;
use crate::components::range_picker::RangePicker;
use crate::components::saved_views_menu::SavedViewsMenu;
use crate::components::shortcuts_help::KeyboardShortcuts;
use crate::format::relative_time;
use crate::page_nav::PageNav;
use crate::query::{PageState, Refresh};
use crate::storage::{self, Kind};
use crate::theme::ThemeChoice;

/// What the dashboard shows, in a sentence under the controls. index.html's frame paints the
/// same line before the WebAssembly arrives.
pub const LEDE: &str = "Every suggestion the AI reply coach offered, and what agents did with it.";

#[component]
pub fn Header(
    last_updated: RwSignal<Option<DateTime<Utc>>>,
    now: RwSignal<DateTime<Utc>>,
    live_connected: RwSignal<bool>,
    buckets: Signal<Vec<String>>,
    /// A sliced token's slice (`bucket=A`): its bucket cannot be changed.
    slice: Signal<Option<String>>,
) -> impl IntoView {
    let fixed_bucket = Signal::derive(move || {
        slice.with(|slice| slice.as_deref().and_then(crate::query::slice_bucket))
    });
    let context = expect_context::<AppContext>();
    let nav = expect_context::<PageNav>();
    let title = context.config.with_value(|config| config.title.clone());
    let bucket = Signal::derive(move || {
        nav.state
            .with(|state| state.bucket.clone().unwrap_or_default())
    });
    let refresh = Signal::derive(move || nav.state.with(|state| state.refresh));
    let compare = Signal::derive(move || nav.state.with(|state| state.compare));
    let bounded = Signal::derive(move || nav.state.with(PageState::is_bounded));
    let updated = move || match last_updated.get() {
        Some(at) => format!("Updated {}", relative_time(at, now.get())),
        None => "Loading…".to_owned(),
    };
    let zone = context.tz.get_value().unwrap_or_else(|| "UTC".to_owned());
    let bucket_options = move || {
        buckets
            .get()
            .into_iter()
            .map(|name| {
                let label = format!("Bucket {name}");
                view! { <option value=name.clone()>{label}</option> }
            })
            .collect_view()
    };
    view! {
        <header class="page-header">
            <div class="title-row">
                <h1>{title}</h1>
                <span class="updated" aria-live="polite">{updated}
                    {move || (refresh.get() == Refresh::Live).then(|| {
                        let text = if live_connected.get() { " · live" } else { " · reconnecting…" };
                        view! { <span class="live" class:connected=live_connected.get()>{text}</span> }
                    })}
                </span>
            </div>
            <div class="controls">
                <RangePicker/>
                <label class="control">
                    <span class="sr-only">"Compare with"</span>
                    <select class="compare" prop:value=move || compare.get().key() disabled=move || !bounded.get()
                        title=move || (!bounded.get()).then_some("Pick a range with a start to compare it with an earlier one")
                        on:change:target=move |event| {
                            let value = Comparison::from_key(&event.target().value()).unwrap_or_default();
                            nav.update(|state| state.compare = value, true);
                        }>
                        {Comparison::ALL.iter().map(|choice| view! { <option value=choice.key()>{choice.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="control">
                    <span class="sr-only">"A/B bucket"</span>
                    <select prop:value=move || fixed_bucket.get().unwrap_or_else(|| bucket.get())
                        disabled=move || fixed_bucket.get().is_some()
                        on:change:target=move |event| {
                        let value = event.target().value();
                        nav.filter(|state| state.bucket = Some(value).filter(|value| !value.is_empty()));
                    }>
                        <option value="">"All buckets"</option>
                        {bucket_options}
                    </select>
                </label>
                <label class="control">
                    <span class="label">"Refresh"</span>
                    <select prop:value=move || refresh.get().key().to_owned() on:change:target=move |event| {
                        let value = Refresh::from_key(&event.target().value()).unwrap_or_default();
                        nav.update(|state| state.refresh = value, true);
                    }>
                        {Refresh::ALL.iter().map(|refresh| view! { <option value=refresh.key()>{refresh.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="control">
                    <span class="sr-only">"Theme"</span>
                    <select prop:value=move || context.theme.get().key() on:change:target=move |event| {
                        let choice = ThemeChoice::from_key(&event.target().value()).unwrap_or_default();
                        storage::set(Kind::Local, storage::THEME_KEY, choice.key());
                        context.theme.set(choice);
                    }>
                        {ThemeChoice::ALL.iter().map(|choice| view! { <option value=choice.key()>{format!("◐ {}", choice.label())}</option> }).collect_view()}
                    </select>
                </label>
                <span class="zone" title="Days and hours are counted in this time zone">{zone}</span>
                <SavedViewsMenu/>
                <KeyboardShortcuts/>
            </div>
            <p class="lede">{LEDE}</p>
        </header>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_frame_of_index_html_says_the_same_lede() {
        let index = include_str!("../../index.html");
        assert!(
            index.contains(&format!("<p class=\"lede\">{}</p>", super::LEDE)),
            "index.html's frame and the header must show the same line"
        );
    }
}

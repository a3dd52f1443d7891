//! The events table: one server page at a time, sortable by time and latency, filter chips,
//! a debounced search, rows that expand, and a CSV download of the current filters.

use coachboard_contract::{EventKind, EventRecord, SortKey, SortOrder};
use leptos::prelude::*;

use crate::api::EventsPage;
use crate::app::AppContext;
use crate::browser;
use crate::components::event_detail::EventDetail;
use crate::components::panel::{Load, unready_view};
use crate::format::{thousands, timestamp};
use crate::page_nav::PageNav;
use crate::pages::session::OpenedFromDashboard;
use crate::session_links::session_href;

/// Rows per page: the page holds one page of events, never the table.
pub const PAGE_SIZE: u32 = 25;
const SEARCH_DEBOUNCE_MS: i32 = 300;

#[component]
pub fn EventsTable(data: Signal<Load<EventsPage>>, csv_url: Signal<String>) -> impl IntoView {
    let context = expect_context::<AppContext>();
    let nav = expect_context::<PageNav>();
    let expanded = RwSignal::new(None::<String>);
    let chips = move || {
        nav.state.with(|state| state.chips()).into_iter().map(|(key, label)| view! {
            <button class="chip" on:click=move |_| nav.go(nav.state.get_untracked().without(key), false)
                aria-label=format!("Remove filter {label}")>{label.clone()}" ×"</button>
        }).collect_view()
    };
    let event_filter = Signal::derive(move || {
        nav.state.with(|state| {
            state
                .event
                .map(|kind| kind.as_str().to_owned())
                .unwrap_or_default()
        })
    });
    // The rows are built once the table comes near the viewport.
    let section = NodeRef::<leptos::html::Section>::new();
    let shown = crate::components::panel::once_near(section, data);
    let rows = move || {
        let load = shown.get();
        if let Some(view) = unready_view(&load) {
            return view;
        }
        let Some(page) = load.ready() else {
            return ().into_any();
        };
        if page.events.is_empty() {
            return view! { <p class="empty-table">"No events match these filters."</p> }
                .into_any();
        }
        let rows = page
            .events
            .iter()
            .cloned()
            .map(|event| row(event, expanded, nav))
            .collect_view();
        view! {
            <div class="table-scroll">
                <table class="events">
                    <thead>
                        <tr>
                            {sortable_header(nav, SortKey::Ts, "Time", "")}
                            <th>"Event"</th>
                            <th>"Session"</th>
                            <th>"Bucket"</th>
                            {sortable_header(nav, SortKey::LatencyMs, "Latency", "num")}
                            <th>"Policies"</th>
                            <th>"Draft"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let pager = move || {
        let state = nav.state.get();
        let (shown, total) = data.with(|load| match load {
            Load::Ready(page) => (page.events.len() as u64, page.total),
            _ => (0, None),
        });
        let first = u64::from(state.page) * u64::from(PAGE_SIZE);
        let has_next = match total {
            Some(total) => first + shown < total,
            None => false,
        };
        let summary = match total {
            Some(0) | None if shown == 0 => String::new(),
            Some(total) => format!(
                "{}–{} of {}",
                thousands(first + 1),
                thousands(first + shown),
                thousands(total)
            ),
            None => format!("{} most recent", shown),
        };
        view! {
            <nav class="pager" aria-label="Pages of events">
                <span class="count">{summary}</span>
                <button disabled=state.page == 0 on:click=move |_| nav.update(|s| s.page = s.page.saturating_sub(1), false)>"‹ Previous"</button>
                <button disabled=!has_next on:click=move |_| nav.update(|s| s.page += 1, false)>"Next ›"</button>
            </nav>
        }
    };
    let download = move |event: leptos::ev::MouseEvent| {
        // With a token, a plain link cannot authenticate: fetch the file and save it.
        let api = context.api.get_untracked();
        if api.token.is_some() {
            event.prevent_default();
            let url = csv_url.get_untracked();
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(error) = api.download(&url, "coach_events.csv").await {
                    leptos::logging::warn!("CSV download failed: {error}");
                }
            });
        }
    };
    view! {
        <section class="panel events-panel" id="panel-events" node_ref=section>
            <header class="panel-head">
                <h2>"Events"</h2>
                <div class="table-tools">
                    {chips}
                    <select aria-label="Event type" prop:value=move || event_filter.get() on:change:target=move |event| {
                        let kind = event.target().value().parse::<EventKind>().ok();
                        nav.filter(|state| state.event = kind);
                    }>
                        <option value="">"All types"</option>
                        {EventKind::ALL.iter().map(|kind| view! { <option value=kind.as_str()>{kind.as_str()}</option> }).collect_view()}
                    </select>
                    <SearchBox/>
                    <a class="button" href=move || csv_url.get() download="coach_events.csv" on:click=download>"Download CSV"</a>
                </div>
            </header>
            {rows}
            {pager}
        </section>
    }
}

/// A column header that sorts the table; `aria-sort` belongs on the header cell itself.
fn sortable_header(
    nav: PageNav,
    key: SortKey,
    label: &'static str,
    class: &'static str,
) -> impl IntoView {
    let state = nav.state;
    let arrow = move || {
        state.with(|state| match (state.sort == key, state.order) {
            (true, SortOrder::Desc) => " ▾",
            (true, SortOrder::Asc) => " ▴",
            (false, _) => "",
        })
    };
    let sorted = move || {
        state.with(|state| match (state.sort == key, state.order) {
            (true, SortOrder::Desc) => "descending",
            (true, SortOrder::Asc) => "ascending",
            (false, _) => "none",
        })
    };
    view! {
        <th class=class aria-sort=sorted><button class="sort" on:click=move |_| nav.update(|state| {
            if state.sort == key {
                state.order = if state.order == SortOrder::Desc { SortOrder::Asc } else { SortOrder::Desc };
            } else {
                state.sort = key;
                state.order = SortOrder::Desc;
            }
            state.page = 0;
        }, false)>{label}{arrow}</button></th>
    }
}

fn row(event: EventRecord, expanded: RwSignal<Option<String>>, nav: PageNav) -> impl IntoView {
    let id = event.id.clone();
    let is_open = {
        let id = id.clone();
        Signal::derive(move || expanded.with(|open| open.as_deref() == Some(id.as_str())))
    };
    let toggle = {
        let id = id.clone();
        move || {
            expanded.update(|open| {
                *open = if open.as_deref() == Some(id.as_str()) {
                    None
                } else {
                    Some(id.clone())
                }
            })
        }
    };
    let toggle_button = toggle.clone();
    let when = timestamp(event.ts, browser::offset_at(event.ts));
    let kind = event.event.clone();
    let kind_filter = kind.parse::<EventKind>().ok();
    let session = event.session_id.clone();
    // Taken now: an event handler runs outside the component's owner.
    let opened_from_dashboard = use_context::<OpenedFromDashboard>();
    let policies = event.policies();
    let latency = event
        .latency_ms
        .map(|ms| format!("{} ms", thousands(ms.max(0) as u64)))
        .unwrap_or_else(|| "–".to_owned());
    let detail = event.clone();
    view! {
        // A click anywhere on the row opens it; the keyboard and screen readers use the
        // disclosure button in its first cell (a table row cannot be expanded in ARIA).
        <tr class="event-row" class:open=move || is_open.get() on:click=move |_| toggle()>
            <td class="time"><button class="disclose" aria-expanded=move || is_open.get().to_string()
                aria-label=format!("{when}: show the texts of this event") on:click=move |click| {
                    click.stop_propagation();
                    toggle_button();
                }>{when.clone()}</button></td>
            <td><button class=format!("badge {kind}") on:click=move |click| {
                click.stop_propagation();
                if let Some(kind) = kind_filter { nav.filter(|state| state.event = Some(kind)); }
            }>{kind.clone()}</button></td>
            <td>{session.clone().map(|session| {
                let href = session_href(&browser::base_path(), &session, &browser::query_pairs());
                let label = format!("Open session {session}");
                view! {
                    <a class="link" href=href aria-label=label on:click=move |click| {
                        click.stop_propagation();
                        if let Some(opened) = opened_from_dashboard {
                            opened.0.set(true);
                        }
                    }>{session}</a>
                }
            })}</td>
            <td class="bucket">{event.ab_test_bucket.clone().unwrap_or_else(|| "–".to_owned())}</td>
            <td class="num">{latency}</td>
            <td class="policies">{policies.into_iter().map(|policy| {
                let chosen = policy.clone();
                view! { <button class="tag" on:click=move |click| {
                    click.stop_propagation();
                    let chosen = chosen.clone();
                    nav.filter(|state| state.policy = Some(chosen));
                }>{policy}</button> }
            }).collect_view()}</td>
            <td class="draft">{event.agent_draft.clone().unwrap_or_default()}</td>
        </tr>
        {move || is_open.get().then(|| view! {
            <tr class="detail-row"><td colspan="7"><EventDetail event=detail.clone()/></td></tr>
        })}
    }
}

/// Text search, debounced: the URL follows typing without a history entry per key.
#[component]
fn SearchBox() -> impl IntoView {
    let nav = expect_context::<PageNav>();
    let text = RwSignal::new(nav.state.get_untracked().search);
    Effect::new(move |_| {
        let from_url = nav.state.with(|state| state.search.clone());
        if from_url != text.get_untracked() {
            text.set(from_url);
        }
    });
    let pending = StoredValue::new_local(None::<TimeoutHandle>);
    let on_input = move |value: String| {
        text.set(value.clone());
        pending.update_value(|handle| {
            if let Some(handle) = handle.take() {
                handle.clear();
            }
        });
        let handle = set_timeout_with_handle(
            move || {
                nav.update(
                    |state| {
                        state.search = value.clone();
                        state.page = 0;
                    },
                    true,
                )
            },
            std::time::Duration::from_millis(SEARCH_DEBOUNCE_MS as u64),
        );
        pending.set_value(handle.ok());
    };
    view! {
        <input type="search" class="search" placeholder="Search drafts and suggestions…" aria-label="Search drafts and suggestions"
            prop:value=move || text.get() on:input:target=move |event| on_input(event.target().value())/>
    }
}

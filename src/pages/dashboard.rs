//! The one page: reads its state from the URL, fetches each panel's data (one resource per
//! endpoint), keeps itself current, and composes the panels.

use chrono::{DateTime, Utc};
use coachboard_contract::{Experiment, LatencyDistribution, Summary, Timeseries};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{ApiError, TableQuery};
use crate::app::AppContext;
use crate::browser;
use crate::components::events_table::{EventsTable, PAGE_SIZE};
use crate::components::experiment_panel::ExperimentPanel;
use crate::components::header::Header;
use crate::components::kpi_cards::KpiCards;
use crate::components::latency_panel::LatencyPanel;
use crate::components::panel::Load;
use crate::components::policies_panel::PoliciesPanel;
use crate::components::states::{EmptyDatabase, EmptyRange, TokenPrompt, Unreachable};
use crate::components::timeline_panel::TimelinePanel;
use crate::live::{self, Subscription};
use crate::page_nav::PageNav;
use crate::query::{Defaults, PageState, RangePreset, Refresh};

/// What the API behind the page can do, learnt from its first summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApiKind {
    /// coachboard-api: every endpoint.
    Full,
    /// The note's Python API: summary, events and policies only.
    Seed,
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let context = expect_context::<AppContext>();
    let defaults = context.config.with_value(|config| Defaults {
        range: config.default_range,
        refresh: config.default_refresh,
    });
    let query = use_query_map();
    let state = Memo::new(move |_| {
        query.with(|map| {
            PageState::from_pairs(
                map.into_iter().map(|(key, value)| (key.as_ref(), value)),
                defaults,
            )
        })
    });
    let nav = PageNav::new(state, defaults, use_navigate());
    provide_context(nav);

    // Refetch on every tick; the memo stops equal filters from refetching by themselves.
    let filter = Memo::new(move |_| {
        context.tick.track();
        context.filter(&state.get())
    });
    let compare = Memo::new(move |_| state.with(PageState::is_bounded));
    let interval = Memo::new(move |_| {
        context.tick.track();
        state.with(|state| state.interval(browser::now()))
    });

    let summary = LocalResource::new(move || {
        let (api, filter, compare) = (context.api.get(), filter.get(), compare.get());
        context.tick.track();
        async move { api.summary(&filter, compare).await }
    });
    // Memos over the resources: a refresh that brings the same data redraws nothing.
    let summary = Memo::new(move |_| summary.get());
    let kind = Memo::new(
        move |previous: Option<&Option<ApiKind>>| match summary.get() {
            Some(Ok(summary)) => Some(if summary.database.is_some() {
                ApiKind::Full
            } else {
                ApiKind::Seed
            }),
            _ => previous.copied().flatten(),
        },
    );
    let last_updated = RwSignal::new(None::<DateTime<Utc>>);
    Effect::new(move |_| {
        if matches!(summary.get(), Some(Ok(_))) {
            last_updated.set(Some(browser::now()));
        }
    });

    let table = Memo::new(move |_| {
        state.with(|state| TableQuery {
            limit: PAGE_SIZE,
            offset: u64::from(state.page) * u64::from(PAGE_SIZE),
            sort: state.sort,
            order: state.order,
            search: state.search.clone(),
        })
    });
    let events = LocalResource::new(move || {
        let (api, filter, table) = (context.api.get(), filter.get(), table.get());
        context.tick.track();
        async move { api.events(&filter, &table).await }
    });
    let events = Memo::new(move |_| Load::from_result(events.get()));
    let policies = LocalResource::new(move || {
        let (api, filter) = (context.api.get(), filter.get());
        context.tick.track();
        async move { api.policies(&filter).await }
    });
    let policies = Memo::new(move |_| Load::from_result(policies.get()));

    // The endpoints beyond the note's wait until the summary says the API has them, so the
    // note's own API is never asked for what it lacks. One resource fetches the three at once.
    let extended = LocalResource::new(move || {
        let (api, filter, interval, kind) =
            (context.api.get(), filter.get(), interval.get(), kind.get());
        context.tick.track();
        async move {
            match kind {
                Some(ApiKind::Full) => {
                    let (timeseries, latency, experiment) = futures_util::join!(
                        api.timeseries(&filter, interval),
                        api.latency(&filter),
                        api.experiment(&filter)
                    );
                    Some(Extended {
                        timeseries,
                        latency,
                        experiment,
                    })
                }
                _ => None,
            }
        }
    });
    let extended = Memo::new(move |_| extended.get());
    let timeseries =
        Memo::new(move |_| panel_load(kind.get(), extended.get().map(|e| e.map(|e| e.timeseries))));
    let latency =
        Memo::new(move |_| panel_load(kind.get(), extended.get().map(|e| e.map(|e| e.latency))));
    let experiment =
        Memo::new(move |_| panel_load(kind.get(), extended.get().map(|e| e.map(|e| e.experiment))));

    let buckets = Signal::derive(move || {
        let from_experiment = experiment.with(|load| {
            load.ready().map(|e| {
                e.buckets
                    .iter()
                    .map(|b| b.bucket.clone())
                    .collect::<Vec<_>>()
            })
        });
        from_experiment
            .filter(|names| !names.is_empty())
            .unwrap_or_else(|| vec!["A".to_owned(), "B".to_owned()])
    });
    let csv_url = Signal::derive(move || {
        context
            .api
            .with(|api| api.csv_url(&filter.get(), &table.get()))
    });

    let now = RwSignal::new(browser::now());
    let live_connected = RwSignal::new(false);
    keep_current(context, state, now, live_connected);
    mark_when_drawn(summary, events);

    let embed = context.config.with_value(|config| config.embed);
    let show_all = Callback::new(move |()| nav.filter(|state| state.range = RangePreset::All));
    let status = move || match summary.get() {
        Some(Err(ApiError::Unreachable { url })) => {
            Some(view! { <Unreachable url=url/> }.into_any())
        }
        Some(Err(ApiError::Unauthorized { message })) => {
            Some(view! { <TokenPrompt message=message/> }.into_any())
        }
        _ => None,
    };
    let body = move || {
        let summary_now = summary.get();
        if matches!(
            summary_now,
            Some(Err(
                ApiError::Unreachable { .. } | ApiError::Unauthorized { .. }
            ))
        ) {
            return None;
        }
        let (database_total, range_total, last_event) = match &summary_now {
            Some(Ok(Summary {
                figures,
                database: Some(database),
                ..
            })) => (
                Some(database.total_events),
                figures.total_events,
                database.last_event_at,
            ),
            Some(Ok(summary)) => (None, summary.figures.total_events, None),
            _ => (None, 1, None),
        };
        if database_total == Some(0) {
            return Some(view! { <EmptyDatabase/> }.into_any());
        }
        let empty_range = (range_total == 0 && database_total.is_some_and(|total| total > 0))
            .then(|| view! { <EmptyRange last_event=last_event show_all=show_all/> });
        Some(
            view! {
                {empty_range}
                <section class="charts">
                    <TimelinePanel data=timeseries.into()/>
                    <LatencyPanel data=latency.into()/>
                    <PoliciesPanel data=policies.into()/>
                    <ExperimentPanel data=experiment.into()/>
                </section>
                <EventsTable data=events.into() csv_url=csv_url/>
            }
            .into_any(),
        )
    };
    view! {
        <div class="page">
            <Show when=move || !embed>
                <Header last_updated=last_updated now=now live_connected=live_connected buckets=buckets/>
            </Show>
            <main>
                {status}
                <Show when=move || !matches!(summary.get(), Some(Err(ApiError::Unreachable { .. } | ApiError::Unauthorized { .. })))>
                    <KpiCards summary=summary/>
                </Show>
                {body}
            </main>
        </div>
    }
}

/// The answers of the endpoints beyond the note's.
#[derive(Debug, Clone, PartialEq)]
struct Extended {
    timeseries: Result<Timeseries, ApiError>,
    latency: Result<LatencyDistribution, ApiError>,
    experiment: Result<Experiment, ApiError>,
}

/// The face of a panel beyond the note's endpoints.
fn panel_load<T>(kind: Option<ApiKind>, result: Option<Option<Result<T, ApiError>>>) -> Load<T> {
    match (kind, result) {
        (Some(ApiKind::Seed), _) => Load::NotOffered,
        (_, Some(inner)) => Load::from_result(inner),
        (_, None) => Load::Waiting,
    }
}

/// Auto-refresh on a timer (paused while the tab is hidden, caught up when it shows), or
/// Live from the API's change stream; a clock for "updated N s ago".
fn keep_current(
    context: AppContext,
    state: Memo<PageState>,
    now: RwSignal<DateTime<Utc>>,
    live_connected: RwSignal<bool>,
) {
    let refresh = Memo::new(move |_| state.with(|state| state.refresh));
    let _ = set_interval_with_handle(
        move || {
            if live::page_visible() {
                now.set(browser::now());
            }
        },
        std::time::Duration::from_secs(1),
    );
    Effect::new(move |previous: Option<Option<IntervalHandle>>| {
        if let Some(Some(handle)) = previous {
            handle.clear();
        }
        let period = refresh.get().period_ms()?;
        set_interval_with_handle(
            move || {
                if live::page_visible() {
                    context.refresh();
                }
            },
            std::time::Duration::from_millis(period),
        )
        .ok()
    });
    let subscription = StoredValue::new_local(None::<Subscription>);
    Effect::new(move |_| {
        let live_mode = refresh.get() == Refresh::Live;
        let api = context.api.get();
        subscription.set_value(None);
        live_connected.set(false);
        if !live_mode {
            return;
        }
        let last_version = std::rc::Rc::new(std::cell::Cell::new(None::<u64>));
        let handle = live::subscribe(
            api.stream_url(),
            api.token.clone(),
            move |change| {
                // The first message tells where the data stands; refetch on later ones only.
                if last_version
                    .replace(Some(change.version))
                    .is_some_and(|seen| seen != change.version)
                {
                    context.refresh();
                }
            },
            move |connected| live_connected.set(connected),
        );
        subscription.set_value(Some(handle));
    });
    on_cleanup(move || subscription.set_value(None));
}

/// Performance marks for the benchmark: the KPI cards and the table rendered.
fn mark_when_drawn(
    summary: Memo<Option<Result<Summary, ApiError>>>,
    events: Memo<Load<crate::api::EventsPage>>,
) {
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let ready =
            matches!(summary.get(), Some(Ok(_))) && events.with(|load| load.ready().is_some());
        if ready {
            browser::mark("coachboard:data-shown");
        }
        ready
    });
}

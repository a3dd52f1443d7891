//! The one page: reads its state from the URL, fetches each panel's data (one resource per
//! endpoint), keeps itself current, and composes the panels.

use chrono::{DateTime, Utc};
use coachboard_contract::{
    Experiment, Filter, Interval, LatencyDistribution, PolicyCounts, PolicyOutcomes, RewriteSizes,
    SuggestionOutcomes, Summary, Timeseries,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{Api, ApiError, TableQuery};
use crate::app::AppContext;
use crate::boot_frame;
use crate::browser;
use crate::components::events_table::{EventsTable, PAGE_SIZE};
use crate::components::experiment_panel::ExperimentPanel;
use crate::components::header::Header;
use crate::components::kpi_cards::KpiCards;
use crate::components::latency_panel::LatencyPanel;
use crate::components::panel::Load;
use crate::components::policies_panel::PoliciesPanel;
use crate::components::policy_outcomes_panel::PolicyOutcomesPanel;
use crate::components::states::{EmptyDatabase, EmptyRange, TokenPrompt, Unreachable};
use crate::components::suggestion_panels::{DecisionPanel, RewritePanel};
use crate::components::timeline_panel::TimelinePanel;
use crate::live::{self, Subscription};
use crate::page_nav::PageNav;
use crate::query::{Defaults, PageState, RangePreset, Refresh};
use crate::staged::{self, Stage};

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

    // One resource for every panel but the table: the summary first (it tells whether the
    // API is coachboard-api or the note's own, which must not be asked for what it lacks),
    // then the rest at once. The table pages on its own.
    let panels = LocalResource::new(move || {
        let (api, filter, compare, interval) = (
            context.api.get(),
            filter.get(),
            compare.get(),
            interval.get(),
        );
        context.tick.track();
        async move { fetch_panels(&api, &filter, compare, interval).await }
    });
    // Memos over the resources: a refresh that brings the same data redraws nothing.
    let panels = Memo::new(move |_| panels.get());
    let summary = Memo::new(move |_| {
        panels.with(|panels| panels.as_ref().map(|panels| panels.summary.clone()))
    });
    // A sliced token's slice, kept while a later request fails (say, one outside it).
    let slice = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        panels.with(|panels| {
            if let Some(panels) = panels.as_ref().filter(|panels| panels.summary.is_ok()) {
                slice.set(panels.slice.clone());
            }
        })
    });
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

    let policies =
        Signal::derive(move || panels.with(|panels| panel(panels, |p| p.policies.clone())));
    let timeseries = Signal::derive(move || {
        panels.with(|panels| {
            panel(panels, |p| {
                p.extended.as_ref().map(|e| e.timeseries.clone())
            })
        })
    });
    let latency = Signal::derive(move || {
        panels.with(|panels| panel(panels, |p| p.extended.as_ref().map(|e| e.latency.clone())))
    });
    let experiment = Signal::derive(move || {
        panels.with(|panels| {
            panel(panels, |p| {
                p.extended.as_ref().map(|e| e.experiment.clone())
            })
        })
    });
    let suggestions = Signal::derive(move || {
        panels.with(|panels| {
            panel(panels, |p| {
                p.extended.as_ref().map(|e| e.suggestions.clone())
            })
        })
    });
    let policy_outcomes = Signal::derive(move || {
        panels.with(|panels| {
            panel(panels, |p| {
                p.extended.as_ref().map(|e| e.policy_outcomes.clone())
            })
        })
    });
    let rewrites = Signal::derive(move || {
        panels.with(|panels| panel(panels, |p| p.extended.as_ref().map(|e| e.rewrites.clone())))
    });
    let links_note =
        Signal::derive(move || suggestions.with(|load| load.ready().and_then(links_note)));

    // Drawn over the charts, fetched apart so that neither delays the panels: the earlier
    // period when comparing, the annotations of the range. Only coachboard-api has them.
    let full_api = Memo::new(move |_| {
        summary.with(|summary| {
            matches!(
                summary,
                Some(Ok(Summary {
                    database: Some(_),
                    ..
                }))
            )
        })
    });
    let comparison = Memo::new(move |_| state.with(|state| state.compare));
    let baseline = LocalResource::new(move || {
        let (api, filter, comparison, interval, full) = (
            context.api.get(),
            filter.get(),
            comparison.get(),
            interval.get(),
            full_api.get(),
        );
        async move {
            let earlier = comparison
                .baseline(&filter, browser::now())
                .filter(|_| full)?;
            let (timeseries, latency) = (api.timeseries(&earlier, interval), api.latency(&earlier));
            Some(Baseline {
                name: comparison.series_name(),
                timeseries: timeseries.await.ok(),
                latency: latency.await.ok(),
            })
        }
    });
    let baseline = Memo::new(move |_| baseline.get().flatten());
    let baseline_timeseries = Signal::derive(move || {
        baseline.with(|baseline| {
            let baseline = baseline.as_ref()?;
            Some((baseline.name, baseline.timeseries.clone()?))
        })
    });
    let baseline_latency = Signal::derive(move || {
        baseline.with(|baseline| {
            let baseline = baseline.as_ref()?;
            Some((baseline.name, baseline.latency.clone()?))
        })
    });
    let notes = LocalResource::new(move || {
        let (api, filter, full) = (context.api.get(), filter.get(), full_api.get());
        async move {
            if !full {
                return Vec::new();
            }
            api.annotations(&filter).await.unwrap_or_default()
        }
    });
    let notes = Memo::new(move |_| notes.get().unwrap_or_default());

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
    // What the page body is, apart from its data: it is rebuilt only when this changes, so
    // the answers arriving (or refreshing) never replace the table under the reader.
    let mode = Memo::new(move |_| body_mode(summary.get().as_ref()));
    // The first screen is built over four tasks (see `staged`); the static frame stays
    // until the cards are built, and the page is shown in its place then. Opened by going
    // back from a session, with no frame to show meanwhile, it is built at once.
    let stage = if boot_frame::hold() {
        staged::advancing()
    } else {
        staged::complete()
    };
    let header_built = staged::reached(stage, Stage::Header);
    let cards_built = staged::reached(stage, Stage::Cards);
    let body_built = staged::reached(stage, Stage::Body);
    Effect::new(move |_| {
        if cards_built.get() {
            boot_frame::remove();
        }
    });
    let body = move || {
        if !body_built.get() {
            return None;
        }
        let empty_range = match mode.get() {
            BodyMode::Blocked => return None,
            BodyMode::EmptyDatabase => return Some(view! { <EmptyDatabase/> }.into_any()),
            BodyMode::Panels { empty_range } => empty_range,
        };
        let last_event = summary.with_untracked(|summary| match summary {
            Some(Ok(Summary {
                database: Some(database),
                ..
            })) => database.last_event_at,
            _ => None,
        });
        let empty_range =
            empty_range.then(|| view! { <EmptyRange last_event=last_event show_all=show_all/> });
        Some(
            view! {
                {empty_range}
                <section class="charts">
                    <TimelinePanel data=timeseries baseline=baseline_timeseries notes=notes.into()/>
                    <PoliciesPanel data=policies/>
                    <LatencyPanel data=latency baseline=baseline_latency/>
                    <DecisionPanel data=suggestions/>
                    <ExperimentPanel data=experiment/>
                    <RewritePanel data=rewrites/>
                    <PolicyOutcomesPanel data=policy_outcomes note=links_note/>
                </section>
                <EventsTable data=events.into() csv_url=csv_url/>
            }
            .into_any(),
        )
    };
    let header = move || {
        (header_built.get() && !embed).then(|| view! { <Header last_updated=last_updated now=now live_connected=live_connected buckets=buckets slice=slice.into()/> })
    };
    let cards = move || {
        cards_built
            .get()
            .then(|| view! { <KpiCards summary=summary suggestions=suggestions/> })
    };
    view! {
        <div class="page" hidden=move || !cards_built.get()>
            {header}
            <main>
                {status}
                {move || slice.get().as_deref().and_then(crate::query::slice_label).map(|label| view! {
                    <p class="slice-note">"This view is limited to "<strong>{label}</strong>" by its access token."</p>
                })}
                {cards}
                {body}
            </main>
        </div>
    }
}

/// What the page body shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyMode {
    /// The API is unreachable or asks for a token: the page says so instead.
    Blocked,
    EmptyDatabase,
    /// The panels and the table; with a notice when the range holds no event.
    Panels {
        empty_range: bool,
    },
}

fn body_mode(summary: Option<&Result<Summary, ApiError>>) -> BodyMode {
    match summary {
        Some(Err(ApiError::Unreachable { .. } | ApiError::Unauthorized { .. })) => {
            BodyMode::Blocked
        }
        Some(Ok(Summary {
            figures,
            database: Some(database),
            ..
        })) => {
            if database.total_events == 0 {
                BodyMode::EmptyDatabase
            } else {
                BodyMode::Panels {
                    empty_range: figures.total_events == 0,
                }
            }
        }
        _ => BodyMode::Panels { empty_range: false },
    }
}

/// The answers behind every panel but the table.
#[derive(Debug, Clone, PartialEq)]
struct Panels {
    summary: Result<Summary, ApiError>,
    /// What the token is limited to (`X-Coachboard-Slice`), for a portal's sliced token.
    slice: Option<String>,
    /// `None` when the summary failed.
    policies: Option<Result<PolicyCounts, ApiError>>,
    /// `None` from the note's API (which lacks these endpoints) or when the summary failed.
    extended: Option<Extended>,
}

/// The earlier period's answers, drawn faintly behind the current ones.
#[derive(Debug, Clone, PartialEq)]
struct Baseline {
    name: &'static str,
    timeseries: Option<Timeseries>,
    latency: Option<LatencyDistribution>,
}

/// The answers of the endpoints beyond the note's.
#[derive(Debug, Clone, PartialEq)]
struct Extended {
    timeseries: Result<Timeseries, ApiError>,
    latency: Result<LatencyDistribution, ApiError>,
    experiment: Result<Experiment, ApiError>,
    suggestions: Result<SuggestionOutcomes, ApiError>,
    policy_outcomes: Result<PolicyOutcomes, ApiError>,
    rewrites: Result<RewriteSizes, ApiError>,
}

async fn fetch_panels(api: &Api, filter: &Filter, compare: bool, interval: Interval) -> Panels {
    let (summary, slice) = match api.summary(filter, compare).await {
        Ok((summary, slice)) => (Ok(summary), slice),
        Err(error) => (Err(error), None),
    };
    let full = match &summary {
        Ok(summary) => summary.database.is_some(),
        Err(_) => {
            return Panels {
                summary,
                slice,
                policies: None,
                extended: None,
            };
        }
    };
    if !full {
        let policies = api.policies(filter).await;
        return Panels {
            summary,
            slice,
            policies: Some(policies),
            extended: None,
        };
    }
    // Each call starts its request at once: they all run together.
    let (policies, timeseries, latency, experiment, suggestions, policy_outcomes, rewrites) = (
        api.policies(filter),
        api.timeseries(filter, interval),
        api.latency(filter),
        api.experiment(filter),
        api.suggestions(filter),
        api.policy_outcomes(filter),
        api.rewrites(filter),
    );
    let (policies, timeseries, latency, experiment, suggestions, policy_outcomes, rewrites) = (
        policies.await,
        timeseries.await,
        latency.await,
        experiment.await,
        suggestions.await,
        policy_outcomes.await,
        rewrites.await,
    );
    Panels {
        summary,
        slice,
        policies: Some(policies),
        extended: Some(Extended {
            timeseries,
            latency,
            experiment,
            suggestions,
            policy_outcomes,
            rewrites,
        }),
    }
}

/// Says how outcomes were tied to their offers, when some links were inferred.
fn links_note(suggestions: &SuggestionOutcomes) -> Option<String> {
    let overall = &suggestions.overall;
    let answered = overall.accepted + overall.edited + overall.rejected;
    (suggestions.inferred_links > 0).then(|| {
        format!(
            "{} of {} answers name no offer: each is linked to the latest unanswered offer \
             of its session.",
            crate::format::thousands(suggestions.inferred_links),
            crate::format::thousands(answered)
        )
    })
}

/// What one panel shows, picked from the panels' answers.
fn panel<T: Clone>(
    panels: &Option<Panels>,
    pick: impl Fn(&Panels) -> Option<Result<T, ApiError>>,
) -> Load<T> {
    let Some(panels) = panels else {
        return Load::Waiting;
    };
    match (pick(panels), &panels.summary) {
        (Some(result), _) => Load::from_result(Some(result)),
        (None, Err(error)) => Load::Failed(error.clone()),
        (None, Ok(_)) => Load::NotOffered,
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

/// Performance marks for the benchmark: the KPI cards and the table rendered, first and
/// last.
fn mark_when_drawn(
    summary: Memo<Option<Result<Summary, ApiError>>>,
    events: Memo<Load<crate::api::EventsPage>>,
) {
    Effect::new(move |shown_before: Option<bool>| {
        let ready =
            matches!(summary.get(), Some(Ok(_))) && events.with(|load| load.ready().is_some());
        if ready {
            if shown_before != Some(true) {
                browser::mark("coachboard:data-shown");
            }
            browser::mark_latest("coachboard:data-redrawn");
        }
        ready || shown_before == Some(true)
    });
}

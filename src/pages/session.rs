//! A session's page (`/sessions/ID`): its suggestions in order, each with its outcome,
//! decision time, policies, latency, rewrite size and the draft/suggestion diff. Its
//! address keeps the dashboard's query, so Back (the link, the browser's, or Esc) returns
//! to the view exactly as it was.

use coachboard_contract::{EventRecord, SessionDetail, SessionSuggestion};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::ApiError;
use crate::app::AppContext;
use crate::browser;
use crate::components::event_detail::EventDetail;
use crate::components::states::{Failed, Skeleton};
use crate::format::{duration_ms, thousands, timestamp};
use crate::session_links::{dashboard_href, encoded_session_id};

/// Set when the dashboard opened the session page in this tab: Back then goes back in
/// history (restoring scroll too) instead of loading the dashboard anew.
#[derive(Clone, Copy)]
pub struct OpenedFromDashboard(pub RwSignal<bool>);

#[component]
pub fn SessionPage() -> impl IntoView {
    let context = expect_context::<AppContext>();
    let opened_here = use_context::<OpenedFromDashboard>().map(|opened| opened.0);
    let location = use_location();
    let base = browser::base_path();
    let session_id = {
        let base = base.clone();
        Memo::new(move |_| {
            location
                .pathname
                .with(|path| encoded_session_id(path, &base).map(browser::decode_component))
        })
    };
    let back_href = {
        let base = base.clone();
        Memo::new(move |_| {
            location.search.track();
            dashboard_href(&base, &browser::query_pairs())
        })
    };
    // The dashboard narrowed to this session's events.
    let filter_href = Memo::new(move |_| {
        location.search.track();
        let mut pairs: Vec<(String, String)> = browser::query_pairs()
            .into_iter()
            .filter(|(key, _)| key != "session" && key != "page")
            .collect();
        pairs.extend(session_id.get().map(|id| ("session".to_owned(), id)));
        dashboard_href(&base, &pairs)
    });
    // Taken now: the key and click handlers run outside the component's owner.
    let navigate = StoredValue::new_local(leptos_router::hooks::use_navigate());
    let go_back = move || {
        if opened_here.is_some_and(|opened| opened.get_untracked()) {
            if let Some(opened) = opened_here {
                opened.set(false);
            }
            browser::history_back();
        } else {
            navigate
                .with_value(|navigate| navigate(&back_href.get_untracked(), Default::default()));
        }
    };
    let escape = window_event_listener(leptos::ev::keydown, move |key| {
        if key.key() == "Escape" {
            go_back();
        }
    });
    on_cleanup(move || escape.remove());
    let detail = LocalResource::new(move || {
        let (api, id) = (context.api.get(), session_id.get());
        context.tick.track();
        async move {
            match id {
                Some(id) => api.session(&id).await,
                None => Err(ApiError::Status {
                    status: 404,
                    message: "no session in this address".to_owned(),
                }),
            }
        }
    });
    let title = move || session_id.get().unwrap_or_default();
    view! {
        <div class="page session-page">
            <header class="session-head">
                <a class="back" href=move || back_href.get() on:click=move |click| {
                    if opened_here.is_some_and(|opened| opened.get_untracked()) {
                        click.prevent_default();
                        go_back();
                    }
                }>"← Back to the dashboard"</a>
                <h1>"Session "<span class="session-id">{title}</span></h1>
                <a class="link" href=move || filter_href.get()>"Show its events in the dashboard"</a>
                <p class="hint">"Esc goes back. Outcomes without an offer_id are linked to the latest unanswered offer of the session."</p>
            </header>
            <main>
                <Transition fallback=|| view! { <SessionSkeleton/> }>
                    <ErrorBoundary fallback=|errors| {
                        let message = errors.with(|errors| {
                            errors.iter().next().map(|(_, error)| error.to_string()).unwrap_or_default()
                        });
                        view! { <Failed error=ApiError::Decode(message)/> }
                    }>
                        {move || detail.get().map(|answer| answer.map(|detail| view! { <SessionView detail=detail/> }))}
                    </ErrorBoundary>
                </Transition>
            </main>
        </div>
    }
}

#[component]
fn SessionSkeleton() -> impl IntoView {
    view! {
        <section class="panel" aria-busy="true">
            <Skeleton width="40%" height="1.4rem"/>
            <div class="chart skeleton-block"></div>
        </section>
    }
}

/// Counts of the session's suggestions by outcome, in words (pure).
pub fn session_summary(detail: &SessionDetail) -> String {
    let count = |kind: &str| {
        detail
            .suggestions
            .iter()
            .filter(|suggestion| {
                suggestion.outcome.as_ref().map(|o| o.event.as_str()) == Some(kind)
            })
            .count() as u64
    };
    let unanswered = detail
        .suggestions
        .iter()
        .filter(|suggestion| suggestion.outcome.is_none())
        .count() as u64;
    format!(
        "{} suggestions: {} accepted, {} edited, {} rejected, {} unanswered",
        thousands(detail.suggestions.len() as u64),
        thousands(count("accepted")),
        thousands(count("edited")),
        thousands(count("rejected")),
        thousands(unanswered)
    )
}

#[component]
fn SessionView(detail: SessionDetail) -> impl IntoView {
    if detail.suggestions.is_empty() && detail.unlinked.is_empty() {
        return view! {
            <section class="notice" data-state="empty-session">
                <h2>"No events in this session"</h2>
                <p class="hint">"It may be outside the stored events, or the id may be mistyped."</p>
            </section>
        }
        .into_any();
    }
    let summary = session_summary(&detail);
    let truncated = detail.truncated.then(|| {
        view! { <p class="warning" role="note">"⚠ Only the session's first 5,000 events are shown."</p> }
    });
    let cards = detail
        .suggestions
        .into_iter()
        .enumerate()
        .map(|(index, suggestion)| view! { <SuggestionCard number=index + 1 suggestion=suggestion/> })
        .collect_view();
    let unlinked = (!detail.unlinked.is_empty()).then(|| {
        let rows = detail
            .unlinked
            .into_iter()
            .map(|event| {
                let when = timestamp(event.ts, browser::offset_at(event.ts));
                view! { <li><span class=format!("badge {}", event.event)>{event.event.clone()}</span>" "{when}" · "{event.id}</li> }
            })
            .collect_view();
        view! {
            <section class="panel unlinked">
                <h2>"Outcomes linked to no offer of this session"</h2>
                <ul>{rows}</ul>
            </section>
        }
    });
    view! {
        <p class="session-summary">{summary}</p>
        {truncated}
        <h2 class="sr-only">"Suggestions in order"</h2>
        <ol class="session-suggestions">{cards}</ol>
        {unlinked}
    }
    .into_any()
}

/// The offer as the diff shows it: its own suggestion text, or else the one its outcome
/// carries (the note's format keeps it there).
fn diff_event(suggestion: &SessionSuggestion) -> EventRecord {
    let mut offer = suggestion.offer.clone();
    if offer.suggestion_used.is_none() {
        offer.suggestion_used = suggestion
            .outcome
            .as_ref()
            .and_then(|outcome| outcome.suggestion_used.clone());
    }
    offer
}

#[component]
fn SuggestionCard(number: usize, suggestion: SessionSuggestion) -> impl IntoView {
    let offer = &suggestion.offer;
    let when = timestamp(offer.ts, browser::offset_at(offer.ts));
    let (outcome, outcome_class) = match &suggestion.outcome {
        Some(outcome) => (outcome.event.clone(), outcome.event.clone()),
        None => ("unanswered".to_owned(), "unanswered".to_owned()),
    };
    let decision = suggestion
        .decision_ms
        .map(|ms| format!("decided in {}", duration_ms(ms as f64)));
    let link = suggestion.outcome.as_ref().map(|_| {
        if suggestion.inferred {
            "link inferred"
        } else {
            "linked by offer_id"
        }
    });
    let latency = offer
        .latency_ms
        .map(|ms| format!("latency {}", duration_ms(ms as f64)));
    let rewrite = suggestion
        .rewrite_pct
        .map(|pct| format!("{pct:.0}% of words changed"));
    let again = (!suggestion.later_answers.is_empty()).then(|| {
        format!(
            "answered {} more time(s) later",
            suggestion.later_answers.len()
        )
    });
    let facts: Vec<String> = [decision, link.map(str::to_owned), latency, rewrite, again]
        .into_iter()
        .flatten()
        .collect();
    let policies = offer
        .policies()
        .into_iter()
        .map(|policy| view! { <span class="tag">{policy}</span> })
        .collect_view();
    let bucket = offer
        .ab_test_bucket
        .clone()
        .map(|bucket| format!("bucket {bucket}"));
    let detail = diff_event(&suggestion);
    view! {
        <li class="suggestion-card panel">
            <header class="suggestion-head">
                <span class="number">{format!("#{number}")}</span>
                <span class="time">{when}</span>
                <span class=format!("badge {outcome_class}")>{outcome}</span>
                <span class="facts">{facts.join(" · ")}</span>
                <span class="bucket">{bucket}</span>
                <span class="policies">{policies}</span>
            </header>
            <EventDetail event=detail/>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn record(id: &str, kind: &str) -> EventRecord {
        EventRecord {
            id: id.to_owned(),
            ts: Utc::now(),
            event: kind.to_owned(),
            session_id: Some("s".to_owned()),
            agent_draft: Some("draft".to_owned()),
            suggestion_used: None,
            policy_refs: None,
            latency_ms: None,
            ab_test_bucket: None,
            offer_id: None,
        }
    }

    #[test]
    fn summary_counts_outcomes_and_the_diff_finds_the_suggestion_text() {
        let answered = |outcome: Option<EventRecord>| SessionSuggestion {
            offer: record("o", "offered"),
            outcome,
            inferred: false,
            decision_ms: None,
            later_answers: Vec::new(),
            rewrite_pct: None,
        };
        let mut edited = record("e", "edited");
        edited.suggestion_used = Some("the agent's version".to_owned());
        let detail = SessionDetail {
            session_id: "s".to_owned(),
            suggestions: vec![
                answered(Some(record("a", "accepted"))),
                answered(Some(edited.clone())),
                answered(None),
            ],
            ..SessionDetail::default()
        };
        assert_eq!(
            session_summary(&detail),
            "3 suggestions: 1 accepted, 1 edited, 0 rejected, 1 unanswered"
        );
        let shown = diff_event(&answered(Some(edited)));
        assert_eq!(
            shown.suggestion_used.as_deref(),
            Some("the agent's version")
        );
    }
}

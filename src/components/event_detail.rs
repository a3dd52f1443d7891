//! An expanded event: the agent's draft beside the suggestion used, changed words marked.
//! Event text is always rendered as text nodes, never as HTML.

use coachboard_contract::EventRecord;
use leptos::prelude::*;

use coachboard_contract::diff::{Span, word_diff};

fn spans_view(spans: Vec<Span>, class: &'static str) -> impl IntoView {
    spans
        .into_iter()
        .map(|span| {
            if span.changed {
                view! { <mark class=class>{span.text}</mark> }.into_any()
            } else {
                view! { <span>{span.text}</span> }.into_any()
            }
        })
        .collect_view()
}

#[component]
pub fn EventDetail(event: EventRecord) -> impl IntoView {
    let draft = event.agent_draft.clone().unwrap_or_default();
    let suggestion = event.suggestion_used.clone();
    let (left, right) = match &suggestion {
        Some(suggestion) => word_diff(&draft, suggestion),
        None => (
            vec![Span {
                text: draft.clone(),
                changed: false,
            }],
            Vec::new(),
        ),
    };
    let has_suggestion = suggestion.is_some();
    view! {
        <div class="event-detail">
            <div class="side">
                <h3>"Agent draft"</h3>
                <p class="text draft">{spans_view(left, "removed")}</p>
            </div>
            <div class="side">
                <h3>{if event.event == "offered" { "Suggestion offered" } else { "Suggestion used" }}</h3>
                {if has_suggestion {
                    view! { <p class="text suggestion">{spans_view(right, "added")}</p> }.into_any()
                } else {
                    view! { <p class="text muted">"None: this event carries no suggestion text."</p> }.into_any()
                }}
            </div>
            <dl class="meta">
                <dt>"Event id"</dt><dd>{event.id.clone()}</dd>
                <dt>"Policies"</dt><dd>{event.policy_refs.clone().unwrap_or_else(|| "–".to_owned())}</dd>
            </dl>
        </div>
    }
}

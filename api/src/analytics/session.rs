//! `/analytics/sessions/{id}`: one session's suggestions in time order, each offer with its
//! answers (linked as everywhere else) and the draft/suggestion rewrite size.

use std::collections::HashMap;

use coachboard_contract::diff::rewrite_percent;
use coachboard_contract::{EventRecord, SessionDetail, SessionSuggestion, SortKey, SortOrder};

use super::Engine;
use crate::store::{EventsQuery, Scope, StoreError};

/// Events of one session read at most: a session is a conversation, not a table.
pub const MAX_SESSION_EVENTS: u32 = 5000;

/// The session's events within `scope` (a sliced token's bucket or policy, a client's own
/// filters); `scope`'s own session id is replaced by this one.
pub fn session_detail(
    engine: &Engine,
    session_id: &str,
    scope: Scope,
) -> Result<SessionDetail, StoreError> {
    let query = EventsQuery {
        scope: Scope {
            session_id: Some(session_id.to_owned()),
            ..scope
        },
        sort: SortKey::Ts,
        order: SortOrder::Asc,
        limit: MAX_SESSION_EVENTS + 1,
        offset: 0,
        after: None,
    };
    let mut events = engine.store().events(&query)?;
    let truncated = events.len() > MAX_SESSION_EVENTS as usize;
    events.truncate(MAX_SESSION_EVENTS as usize);
    let links = engine.store().session_links(session_id)?;
    Ok(assemble(session_id, events, &links, truncated))
}

/// Pairs the session's offers with their answers (pure).
fn assemble(
    session_id: &str,
    events: Vec<EventRecord>,
    links: &[(String, String, bool)],
    truncated: bool,
) -> SessionDetail {
    let offer_of: HashMap<&str, (&str, bool)> = links
        .iter()
        .map(|(outcome, offer, inferred)| (outcome.as_str(), (offer.as_str(), *inferred)))
        .collect();
    let mut suggestions: Vec<SessionSuggestion> = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    let mut outcomes = Vec::new();
    for event in events {
        if event.event == "offered" {
            index_of.insert(event.id.clone(), suggestions.len());
            let rewrite_pct = match (&event.agent_draft, &event.suggestion_used) {
                (Some(draft), Some(suggestion)) => rewrite_percent(draft, suggestion),
                _ => None,
            };
            suggestions.push(SessionSuggestion {
                offer: event,
                outcome: None,
                inferred: false,
                decision_ms: None,
                later_answers: Vec::new(),
                rewrite_pct,
            });
        } else {
            outcomes.push(event);
        }
    }
    let mut unlinked = Vec::new();
    // Outcomes in time order: the first to reach an offer is its answer.
    for outcome in outcomes {
        let target = offer_of
            .get(outcome.id.as_str())
            .and_then(|(offer, inferred)| Some((*index_of.get(*offer)?, *inferred)));
        let Some((index, inferred)) = target else {
            unlinked.push(outcome);
            continue;
        };
        let suggestion = &mut suggestions[index];
        if suggestion.outcome.is_none() {
            let decision = (outcome.ts - suggestion.offer.ts).num_milliseconds();
            suggestion.decision_ms = (decision > 0).then_some(decision);
            suggestion.inferred = inferred;
            suggestion.outcome = Some(outcome);
        } else {
            suggestion.later_answers.push(outcome);
        }
    }
    SessionDetail {
        session_id: session_id.to_owned(),
        suggestions,
        unlinked,
        truncated,
    }
}

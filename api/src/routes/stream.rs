//! `GET /analytics/stream`: Server-Sent Events, one `change` message whenever new events
//! are committed, at most a few per second however fast writes come.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;

use crate::access::Grant;
use crate::state::AppState;

/// Writes within this window are announced in one message.
const COALESCE: Duration = Duration::from_millis(250);

pub async fn stream(
    State(state): State<AppState>,
    grant: Option<Extension<Grant>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // A sliced token learns that something changed, not how many events everyone has.
    let sliced = matches!(grant, Some(Extension(Grant::Slice(_))));
    let mut changes = state.engine.subscribe();
    let shutdown = state.shutdown.clone();
    let messages = async_stream::stream! {
        // The current version first, so a client knows where it stands.
        let current = changes.borrow_and_update().clone();
        yield Ok(message(&current, sliced));
        loop {
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { break },
                () = shutdown.cancelled() => break,
            }
            tokio::time::sleep(COALESCE).await;
            let latest = changes.borrow_and_update().clone();
            yield Ok(message(&latest, sliced));
        }
    };
    Sse::new(messages).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn message(change: &coachboard_contract::DataChanged, sliced: bool) -> Event {
    let change = coachboard_contract::DataChanged {
        total_events: change.total_events.filter(|_| !sliced),
        ..change.clone()
    };
    let data = serde_json::to_string(&change).unwrap_or_else(|_| "{}".to_owned());
    Event::default()
        .event("change")
        .id(change.version.to_string())
        .data(data)
}

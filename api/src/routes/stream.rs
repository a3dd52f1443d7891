//! `GET /analytics/stream`: Server-Sent Events, one `change` message whenever new events
//! are committed, at most a few per second however fast writes come.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;

use crate::state::AppState;

/// Writes within this window are announced in one message.
const COALESCE: Duration = Duration::from_millis(250);

pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut changes = state.engine.subscribe();
    let shutdown = state.shutdown.clone();
    let messages = async_stream::stream! {
        // The current version first, so a client knows where it stands.
        let current = changes.borrow_and_update().clone();
        yield Ok(message(&current));
        loop {
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { break },
                () = shutdown.cancelled() => break,
            }
            tokio::time::sleep(COALESCE).await;
            let latest = changes.borrow_and_update().clone();
            yield Ok(message(&latest));
        }
    };
    Sse::new(messages).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn message(change: &coachboard_contract::DataChanged) -> Event {
    let data = serde_json::to_string(change).unwrap_or_else(|_| "{}".to_owned());
    Event::default()
        .event("change")
        .id(change.version.to_string())
        .data(data)
}

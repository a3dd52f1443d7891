//! Brings what the store derives from the events up to date in the background once writes
//! pause, so the first filtered click after a few writes does not wait for it (about
//! 0.2 s whatever the table's size). While writes keep coming nothing runs here: a catch-up
//! holds the writer, and the queries that need the derived tables bring them up to date
//! themselves, as they always have.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::analytics::Engine;

/// How long writes must pause before the derived tables are brought up to date.
const PAUSE: Duration = Duration::from_millis(250);

pub async fn keep_settled(engine: Arc<Engine>, shutdown: CancellationToken) {
    let mut changes = engine.subscribe();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            changed = changes.changed() => if changed.is_err() { return },
        }
        // Each further write starts the pause again.
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = tokio::time::timeout(PAUSE, changes.changed()) => match changed {
                    Ok(Ok(())) => continue,
                    Ok(Err(_)) => return,
                    Err(_) => break,
                },
            }
        }
        let settling = engine.clone();
        match tokio::task::spawn_blocking(move || settling.store().settle()).await {
            Ok(Ok(())) => tracing::debug!("derived tables brought up to date in a pause"),
            Ok(Err(error)) => tracing::warn!(
                %error,
                "derived tables not brought up to date in the background; the next query that needs them will"
            ),
            Err(error) => tracing::warn!(%error, "background derivation did not finish"),
        }
    }
}

//! `coachboard-api copy --from STORE --to STORE`: every event of one store into another, in
//! batches, with a progress bar, then the annotations. Resumable: each batch skips the ids the
//! target holds already, so a copy run again after an interruption goes on where it stopped
//! and never doubles a row (annotations alike, by id).

use std::time::Instant;

use anyhow::Context;
use coachboard_contract::{EventRecord, SortKey, SortOrder};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{CopyArgs, named_store};
use crate::serve::{describe, open_store};
use crate::store::{EventStore, EventsQuery, Scope, StoreOptions, StoredEvent};

/// What a copy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    /// Events the target did not hold yet.
    pub written: u64,
    /// Events it held already (an earlier, interrupted copy).
    pub present: u64,
    /// Annotations the target did not hold yet.
    pub notes: u64,
}

pub fn run(args: &CopyArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let (from, to) = (named_store(&args.from)?, named_store(&args.to)?);
    if from == to {
        anyhow::bail!("--from and --to name the same store");
    }
    let (from_name, to_name) = (describe(&from), describe(&to));
    let source = open_store(from, &StoreOptions::default())
        .with_context(|| format!("cannot open {from_name}"))?;
    let target = open_store(to, &StoreOptions::default())
        .with_context(|| format!("cannot open {to_name}"))?;
    let total = source.extent()?.total;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} events ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let copied = copy(
        source.as_ref(),
        target.as_ref(),
        args.batch as usize,
        &mut |done| bar.set_position(done),
    )?;
    bar.finish_and_clear();
    println!(
        "copied {} events and {} annotations from {from_name} to {to_name} in {:.1} s \
         ({} events were there already{})",
        copied.written,
        copied.notes,
        started.elapsed().as_secs_f64(),
        copied.present,
        match total.saturating_sub(copied.written + copied.present) {
            0 => String::new(),
            untimed => format!("; {untimed} without a time or id were left out"),
        }
    );
    Ok(())
}

/// Copies every event of `source` into `target`, `batch` at a time, in time order; calls
/// `progress` with the events handled so far.
pub fn copy(
    source: &dyn EventStore,
    target: &dyn EventStore,
    batch: usize,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<Copied> {
    let query = EventsQuery {
        scope: Scope::default(),
        sort: SortKey::Ts,
        order: SortOrder::Asc,
        limit: 0,
        offset: 0,
        after: None,
    };
    let mut copied = Copied::default();
    let mut pending: Vec<StoredEvent> = Vec::with_capacity(batch);
    let mut failure = None;
    source.export(&query, &mut |record| {
        pending.push(stored(record));
        if pending.len() < batch {
            return true;
        }
        match write(target, &mut pending, &mut copied) {
            Ok(()) => {
                progress(copied.written + copied.present);
                true
            }
            Err(error) => {
                failure = Some(error);
                false
            }
        }
    })?;
    if let Some(error) = failure {
        return Err(error);
    }
    write(target, &mut pending, &mut copied)?;
    progress(copied.written + copied.present);
    copied.notes = copy_annotations(source, target)?;
    target.settle()?;
    target.checkpoint()?;
    Ok(copied)
}

/// Every annotation the target lacks (by id), with its id: a few, so all at once.
fn copy_annotations(source: &dyn EventStore, target: &dyn EventStore) -> anyhow::Result<u64> {
    let present: std::collections::HashSet<String> = target
        .annotations(None, None)?
        .into_iter()
        .map(|note| note.id)
        .collect();
    let mut written = 0;
    for note in source.annotations(None, None)? {
        if !present.contains(&note.id) {
            target.add_annotation(&note)?;
            written += 1;
        }
    }
    Ok(written)
}

/// Writes the events of `pending` the target lacks, and empties it.
fn write(
    target: &dyn EventStore,
    pending: &mut Vec<StoredEvent>,
    copied: &mut Copied,
) -> anyhow::Result<()> {
    let ids: Vec<&str> = pending.iter().map(|event| event.id.as_str()).collect();
    let present = target.stored_ids(&ids)?;
    let fresh: Vec<StoredEvent> = pending
        .drain(..)
        .filter(|event| !present.contains(&event.id))
        .collect();
    target.insert(&fresh)?;
    copied.written += fresh.len() as u64;
    copied.present += present.len() as u64;
    Ok(())
}

fn stored(record: EventRecord) -> StoredEvent {
    StoredEvent {
        id: record.id,
        ts: record.ts.naive_utc(),
        event: record.event,
        session_id: record.session_id,
        agent_draft: record.agent_draft,
        suggestion_used: record.suggestion_used,
        policy_refs: record.policy_refs,
        latency_ms: record.latency_ms,
        ab_test_bucket: record.ab_test_bucket,
        offer_id: record.offer_id,
    }
}

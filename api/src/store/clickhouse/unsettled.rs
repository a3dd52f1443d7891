//! Writes that may have left the derived tables behind the events, and how they are made
//! whole.
//!
//! The roll-ups, steps, claims and ids are filled by materialized views as part of each
//! insert.
//! A replica can take a block into `events_local` and die (or time out) before the views
//! have written theirs; the retry of that block is deduplicated by the replicated table, so
//! the views never see it. ClickHouse 18.16 has no setting that makes the views follow a
//! deduplicated block. So:
//! - an insert that failed, or that was sent more than once, marks the hours it touches as
//!   unsettled (`unsettled`, replicated): every API replica reads those hours from the
//!   events, whatever the roll-ups hold;
//! - the steps, claims and ids of an uncertain insert's rows, and of events a write finds
//!   stored already (a retry), are written again (the latter from the stored rows), and
//!   their sessions relinked; readers take each step once;
//! - links are inferred from the steps read back plus the written rows themselves
//!   (`pairing::relink`), so a read that fails over to a replica still behind cannot drop
//!   the links of what was just written.
//!
//! A mark that cannot be written (the cluster unreachable) stays in this process and is
//! written before its next read or write; until then the write is refused, so nothing is
//! acknowledged that another replica could count short.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::pairing::{self, StepRow};
use super::rows::InsertRow;
use super::sql::{self, Statement};
use super::{ClickHouseStore, schema};
use crate::rollup::HOUR;
use crate::store::StoreError;

/// How long a list of unsettled hours read from the cluster is used again: a mark another
/// API replica writes is seen within this (as its events are, `max_replica_delay`).
const READ_AGAIN_AFTER: Duration = Duration::from_secs(1);

/// This process's view of the unsettled hours (starts in seconds).
#[derive(Debug, Default)]
pub(crate) struct Marks(Mutex<Known>);

#[derive(Debug, Default)]
struct Known {
    /// Marked here but not yet written to the cluster.
    pending: BTreeSet<i64>,
    /// Read from the cluster (and written by this process since), and when.
    read: BTreeSet<i64>,
    read_at: Option<Instant>,
}

impl Marks {
    fn lock(&self) -> MutexGuard<'_, Known> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug, Clone, clickhouse::Row, Serialize)]
struct MarkRow {
    /// Seconds since the epoch (`DateTime`).
    hour: u32,
    marked_at: u32,
}

/// What the views derive steps and claims from, of one stored event.
#[derive(Debug, Clone, clickhouse::Row, Deserialize)]
pub(crate) struct Source {
    pub id: String,
    pub ts_us: i64,
    pub seq: u64,
    pub event: String,
    pub session_id: Option<String>,
    pub offer_id: Option<String>,
}

impl Source {
    pub fn of(row: &InsertRow) -> Self {
        Self {
            id: row.id.clone(),
            ts_us: row.ts_us,
            seq: row.seq,
            event: row.event.clone(),
            session_id: row.session_id.clone(),
            offer_id: row.offer_id.clone(),
        }
    }

    /// The row the steps view derives from this event, if it keeps one
    /// (`schema::create_derived`).
    pub fn step(&self) -> Option<StepRow> {
        if !STEP_EVENTS.contains(&self.event.as_str()) {
            return None;
        }
        Some(StepRow {
            id: self.id.clone(),
            session_id: self.session_id.clone()?,
            ts_us: self.ts_us,
            seq: self.seq,
            event: self.event.clone(),
            offer_id: self.offer_id.clone(),
        })
    }

    /// The offer this event claims, as the claims view keeps it: an outcome's named offer.
    pub fn claim(&self) -> Option<&str> {
        OUTCOMES
            .contains(&self.event.as_str())
            .then_some(self.offer_id.as_deref())
            .flatten()
    }
}

#[derive(Debug, Clone, clickhouse::Row, Serialize)]
struct IdRow {
    id: String,
}

#[derive(Debug, Clone, clickhouse::Row, Serialize)]
struct ClaimRow {
    offer_id: String,
    id: String,
}

const STEP_EVENTS: [&str; 4] = ["offered", "accepted", "edited", "rejected"];
const OUTCOMES: [&str; 3] = ["accepted", "edited", "rejected"];

/// Marks the hours of `rows` unsettled on the cluster (and here until that is done).
pub(crate) fn mark(store: &ClickHouseStore, rows: &[InsertRow]) -> Result<(), StoreError> {
    let hours: BTreeSet<i64> = rows
        .iter()
        .map(|row| i64::from(row.ts).div_euclid(HOUR) * HOUR)
        .collect();
    tracing::warn!(
        rows = rows.len(),
        hours = hours.len(),
        "a write may have reached a replica unanswered: its hours are read from the events"
    );
    store.unsettled.lock().pending.extend(hours);
    flush(store)
}

/// Writes the marks kept here to the cluster.
fn flush(store: &ClickHouseStore) -> Result<(), StoreError> {
    let pending: Vec<i64> = store.unsettled.lock().pending.iter().copied().collect();
    if pending.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp().clamp(0, i64::from(u32::MAX)) as u32;
    let marks = pending
        .iter()
        .map(|hour| MarkRow {
            hour: (*hour).clamp(0, i64::from(u32::MAX)) as u32,
            marked_at: now,
        })
        .collect();
    store.insert_rows(schema::UNSETTLED, marks)?;
    let mut known = store.unsettled.lock();
    for hour in pending {
        known.pending.remove(&hour);
        known.read.insert(hour);
    }
    Ok(())
}

/// Every unsettled hour (starts in seconds, sorted): the cluster's, read at most
/// `READ_AGAIN_AFTER` ago, and this process's.
pub(crate) fn hours(store: &ClickHouseStore) -> Result<Vec<i64>, StoreError> {
    // A mark that still cannot be written is answered from here.
    let _ = flush(store);
    let fresh = store
        .unsettled
        .lock()
        .read_at
        .is_some_and(|at| at.elapsed() < READ_AGAIN_AFTER);
    if !fresh {
        let asked_at = Instant::now();
        let stored: Vec<i64> = store.fetch(Statement {
            sql: format!("SELECT DISTINCT toInt64(hour) FROM {}", schema::UNSETTLED),
            args: Vec::new(),
        })?;
        let mut known = store.unsettled.lock();
        known.read.extend(stored);
        known.read_at = Some(asked_at);
    }
    let known = store.unsettled.lock();
    Ok(known.read.union(&known.pending).copied().collect())
}

/// The steps, claims and ids of `rows`, as the views derive them, written again (a row the
/// view wrote too is then there twice: readers take each id once).
pub(crate) fn write_view_rows(store: &ClickHouseStore, rows: &[Source]) -> Result<(), StoreError> {
    if !rows.is_empty() {
        let ids = rows.iter().map(|row| IdRow { id: row.id.clone() });
        store.insert_rows(schema::IDS, ids.collect())?;
    }
    let steps: Vec<StepRow> = rows.iter().filter_map(Source::step).collect();
    let claims: Vec<ClaimRow> = rows
        .iter()
        .filter_map(|row| {
            row.claim().map(|offer_id| ClaimRow {
                offer_id: offer_id.to_owned(),
                id: row.id.clone(),
            })
        })
        .collect();
    if !steps.is_empty() {
        store.insert_rows(schema::STEPS, steps)?;
    }
    if !claims.is_empty() {
        store.insert_rows(schema::CLAIMS, claims)?;
    }
    Ok(())
}

/// Events a write found stored already: their steps and claims are written again from the
/// stored rows and their sessions relinked, in case the write that stored them failed
/// before the views ran.
pub(crate) fn resettle(store: &ClickHouseStore, ids: &HashSet<String>) -> Result<(), StoreError> {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut stored: Vec<Source> = Vec::new();
    for chunk in ids.chunks(1000) {
        let (marks, args) = sql::text_list(chunk);
        stored.extend(store.fetch::<Source>(Statement {
            sql: format!(
                "SELECT id, ts_us, seq, event, session_id, offer_id FROM {} WHERE id IN ({marks})",
                schema::DISTRIBUTED
            ),
            args,
        })?);
    }
    if stored.is_empty() {
        return Ok(());
    }
    write_view_rows(store, &stored)?;
    pairing::relink(store, &stored)
}

/// Each id's first step (the views and a resettle may both have written it).
pub(crate) fn once_each<T>(rows: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
    let mut seen: HashSet<String> = HashSet::new();
    rows.into_iter()
        .filter(|row| seen.insert(id(row).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_written_twice_is_read_once() {
        let rows = vec![("a", 1), ("b", 2), ("a", 3)];
        assert_eq!(once_each(rows, |row| row.0), [("a", 1), ("b", 2)]);
    }
}

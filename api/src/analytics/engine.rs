//! The analytics engine: owns the store, the roll-up and the id index, decides for each
//! query which rows come from the roll-up and which from raw SQL, and serialises writes.

use std::collections::HashSet;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::Instant;

use coachboard_contract::DataChanged;
use tokio::sync::watch;

use super::accumulate::{Accumulate, feed_cell, feed_groups, feed_policies};
use super::group_commit::GroupCommit;
use super::recent::Recent;
use crate::ids::IdIndex;
use crate::rollup::{
    Cube, HOUR, HourRange, ceil_hour, floor_hour, hours_holding_off_hour_starts, instant_of,
    split_at_hours,
};
use crate::store::{EventStore, Extent, LatencyBins, Scope, StoreError, StoredEvent};

pub struct Engine {
    store: Arc<dyn EventStore>,
    /// True when other processes write to the same store (ClickHouse): nothing derived is
    /// kept in memory and every answer comes from the store.
    shared: bool,
    /// The total last announced to live streams, for a shared store's change polling.
    announced_total: AtomicU64,
    cube: RwLock<Cube>,
    recent: RwLock<Recent>,
    /// Held for the whole of a write: one writer at a time, and the id index with it.
    writer: Mutex<IdIndex>,
    /// Writes waiting for the next group commit.
    queue: GroupCommit<Vec<StoredEvent>, Result<WriteOutcome, StoreError>>,
    /// Transactions that stored events: fewer than the writes when writes share commits.
    commits: AtomicU64,
    /// Held (shared) by queries that read the roll-up and the table, (exclusive) by each
    /// commit.
    commit_gate: RwLock<()>,
    /// Writes begun and writes finished: equal when no write is in flight.
    writes_started: AtomicU64,
    version: AtomicU64,
    /// The store generation (reopens) the derived data was last checked against.
    synced_generation: AtomicU64,
    changes: watch::Sender<DataChanged>,
}

/// Everything kept in memory that is derived from the stored rows.
struct Derived {
    cube: Cube,
    ids: IdIndex,
    recent: Recent,
}

impl Derived {
    fn build(store: &dyn EventStore) -> Result<Self, StoreError> {
        let started = Instant::now();
        let cube = Cube::build(store)?;
        let rollup_ms = started.elapsed().as_millis() as u64;
        let ids = crate::ids::load(store, &cube.extent())?;
        let ids_ms = started.elapsed().as_millis() as u64 - rollup_ms;
        let recent = Recent::load(store)?;
        tracing::debug!(
            rollup_ms,
            ids_ms,
            recent_ms = started.elapsed().as_millis() as u64 - rollup_ms - ids_ms,
            "derived data loaded"
        );
        Ok(Self { cube, ids, recent })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    pub stored: u64,
    pub duplicates: HashSet<String>,
}

/// Where the rows of one part of a query come from.
#[derive(Debug, Clone, PartialEq)]
enum Part<'a> {
    Rollup(HourRange),
    Raw(Scope),
    /// The rows of a scope in the whole UTC hours starting at `hours`, in slots `width`
    /// wide, each reported as the start of its bucket (`starts`).
    Hours {
        scope: Scope,
        hours: Vec<i64>,
        width: i64,
        starts: &'a [i64],
    },
}

/// What a query wants besides counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wants<'a> {
    pub policies: bool,
    /// Slot width for raw rows (`None`: not grouped by time).
    pub raw_slot: Option<i64>,
    /// The starts of the answer's time buckets (ascending), when grouped by time: raw rows
    /// may come a row per bucket instead of per slot.
    pub buckets: Option<&'a [i64]>,
    /// False to read every row (the roll-up answers nothing). Buckets starting off the hour
    /// (a zone with a half-hour offset) are answered all the same: the hours holding those
    /// starts are read as rows, the roll-up answers the others.
    pub rollup: bool,
}

impl Wants<'_> {
    /// Everything about a scope's rows over all of its time, with their policy counts or
    /// without.
    pub fn over_all_time(policies: bool) -> Self {
        Wants {
            policies,
            raw_slot: None,
            buckets: None,
            rollup: true,
        }
    }
}

impl Engine {
    /// Builds the roll-up and the id index from the stored events.
    pub fn start(store: Arc<dyn EventStore>) -> Result<Self, StoreError> {
        let started = Instant::now();
        let shared = !store.keeps_state();
        let Derived { cube, ids, recent } = if shared {
            Derived {
                cube: Cube::default(),
                ids: IdIndex::default(),
                recent: Recent::default(),
            }
        } else {
            Derived::build(store.as_ref())?
        };
        let extent = if shared {
            store.extent()?
        } else {
            cube.extent()
        };
        let (cells, bins) = cube.size();
        tracing::info!(
            events = extent.total,
            rollup_cells = cells,
            rollup_bins = bins,
            id_index_mb = ids.bytes() / (1 << 20),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "roll-up and id index built"
        );
        let generation = store.generation();
        let (changes, _) = watch::channel(DataChanged {
            version: 0,
            total_events: Some(extent.total),
        });
        Ok(Self {
            store,
            shared,
            announced_total: AtomicU64::new(extent.total),
            cube: RwLock::new(cube),
            recent: RwLock::new(recent),
            writer: Mutex::new(ids),
            queue: GroupCommit::default(),
            commits: AtomicU64::new(0),
            commit_gate: RwLock::new(()),
            writes_started: AtomicU64::new(0),
            version: AtomicU64::new(0),
            synced_generation: AtomicU64::new(generation),
            changes,
        })
    }

    pub fn store(&self) -> &dyn EventStore {
        self.store.as_ref()
    }

    /// True when the store answers every query itself (a store several API replicas share)
    /// and this engine keeps no roll-up of its own.
    pub fn store_answers_all(&self) -> bool {
        self.shared
    }

    /// The version, when no write is in flight: an answer computed between two equal
    /// readings shows exactly that version's data and may be cached under it.
    pub fn settled_version(&self) -> Option<u64> {
        if self.shared {
            // Other replicas write too: no version of this process describes the data.
            return None;
        }
        let version = self.version.load(Ordering::Acquire);
        let started = self.writes_started.load(Ordering::Acquire);
        (started == version).then_some(version)
    }

    pub fn subscribe(&self) -> watch::Receiver<DataChanged> {
        self.changes.subscribe()
    }

    fn read_cube(&self) -> RwLockReadGuard<'_, Cube> {
        self.cube
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Newest-first events `offset..offset + limit` of the whole table, when memory has them.
    pub fn recent_page(
        &self,
        offset: u64,
        limit: u32,
    ) -> Option<Vec<coachboard_contract::EventRecord>> {
        if self.shared {
            return None;
        }
        self.recent
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .page(offset, limit)
    }

    /// Row count and time extent of the table.
    pub fn extent(&self) -> Result<Extent, StoreError> {
        if self.shared {
            self.store.extent()
        } else {
            Ok(self.read_cube().extent())
        }
    }

    /// For a store other replicas write to: tells live streams when the table changed
    /// (called every second by the server).
    pub fn poll_changes(&self) -> Result<(), StoreError> {
        if !self.shared {
            return Ok(());
        }
        let total = self.store.extent()?.total;
        if self.announced_total.swap(total, Ordering::AcqRel) != total {
            let version = self.version.fetch_add(1, Ordering::AcqRel) + 1;
            self.writes_started.store(version, Ordering::Release);
            self.changes.send_replace(DataChanged {
                version,
                total_events: Some(total),
            });
        }
        Ok(())
    }

    /// Transactions that stored events since start-up, for /metrics.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Cells and latency bins of the roll-up, for /metrics.
    pub fn rollup_size(&self) -> (usize, usize) {
        self.read_cube().size()
    }

    /// Feeds every row of `scope` into `sink`.
    pub fn run(
        &self,
        scope: &Scope,
        wants: Wants<'_>,
        sink: &mut impl Accumulate,
    ) -> Result<(), StoreError> {
        let parts = if wants.rollup && !self.shared {
            without_split_hours(plan(scope), scope, wants)
        } else {
            vec![Part::Raw(scope.clone())]
        };
        let uses_rollup = parts.iter().any(|part| matches!(part, Part::Rollup(_)));
        let uses_table = parts
            .iter()
            .any(|part| matches!(part, Part::Raw(_) | Part::Hours { .. }));
        // A query answered by both the roll-up and the table holds the commit gate, so no
        // commit lands between the two: a write is wholly in the answer or wholly out of it.
        // The others never wait for a commit (nor does a commit wait for a slow search).
        let _gate = (uses_rollup && uses_table).then(|| {
            self.commit_gate
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        });
        let cube = uses_rollup.then(|| self.read_cube());
        for part in parts {
            match part {
                Part::Rollup(hours) => {
                    if let Some(cube) = &cube {
                        // Answers not grouped by time may take all of it in one cell.
                        let by_hour = wants.raw_slot.is_some();
                        cube.visit(
                            hours,
                            scope.bucket.as_deref(),
                            scope.event.as_deref(),
                            by_hour,
                            |hour, cell| feed_cell(sink, hour, &cell),
                        );
                    }
                }
                Part::Hours {
                    scope: part_scope,
                    hours,
                    width,
                    starts,
                } => {
                    let rows = self
                        .store
                        .aggregate_in_hours(&part_scope, &hours, width, starts)?;
                    feed_groups(sink, &rows);
                    if wants.policies {
                        for &hour in &hours {
                            let hour_scope =
                                part_scope.with_range(instant_of(hour), instant_of(hour + HOUR));
                            let policies = self.store.policy_counts(&hour_scope, wants.raw_slot)?;
                            feed_policies(sink, &policies);
                        }
                    }
                }
                Part::Raw(part_scope) => {
                    let rows = match (wants.raw_slot, wants.buckets) {
                        (Some(width), Some(starts)) => {
                            self.store
                                .aggregate_in_buckets(&part_scope, width, starts)?
                        }
                        (slot, _) => self.store.aggregate(&part_scope, slot)?,
                    };
                    feed_groups(sink, &rows);
                    if wants.policies {
                        let policies = self.store.policy_counts(&part_scope, wants.raw_slot)?;
                        feed_policies(sink, &policies);
                    }
                }
            }
        }
        Ok(())
    }

    /// Row counts per whole UTC hour inside a scope the roll-up (or the store's groups) can
    /// answer, newest or oldest first; `None` when neither can. Partial hours at the ends
    /// are left out.
    pub fn hour_counts(&self, scope: &Scope, newest_first: bool) -> Option<Vec<(i64, u64)>> {
        if self.shared {
            return None;
        }
        if !scope.fits_rollup() {
            // The store may keep them for the scope; without them, the page reads unnarrowed.
            let mut counts = self.store.hour_counts(scope).ok().flatten()?;
            if newest_first {
                counts.reverse();
            }
            return Some(counts);
        }
        let mut counts: Vec<(i64, u64)> = Vec::new();
        let hours = HourRange {
            start: scope
                .from
                .map_or(Bound::Unbounded, |from| Bound::Included(ceil_hour(from))),
            end: scope
                .to
                .map_or(Bound::Unbounded, |to| Bound::Excluded(floor_hour(to))),
            untimed: false,
        };
        self.read_cube().visit(
            hours,
            scope.bucket.as_deref(),
            scope.event.as_deref(),
            true,
            |hour, cell| {
                if let Some(hour) = hour {
                    match counts.last_mut() {
                        Some((last, count)) if *last == hour => *count += cell.count(),
                        _ => counts.push((hour, cell.count())),
                    }
                }
            },
        );
        if newest_first {
            counts.reverse();
        }
        Some(counts)
    }

    /// Rows with a positive latency per latency bin (ascending) in the whole UTC hours of a
    /// scope the roll-up (or the store's groups) can answer, rows without a time left out;
    /// `None` when neither can.
    /// The flag is true when those hours hold every timed row of the scope (its range
    /// starts and ends on the hour).
    pub fn latency_bins(&self, scope: &Scope) -> Option<LatencyBins> {
        if self.shared {
            return None;
        }
        if !scope.fits_rollup() {
            return self.store.latency_bins(scope).ok().flatten();
        }
        let split = split_at_hours(scope.from, scope.to);
        let hours = HourRange {
            untimed: false,
            ..split.hours?
        };
        let mut bins = vec![0u64; crate::histogram::NUM_BINS];
        self.read_cube().visit(
            hours,
            scope.bucket.as_deref(),
            scope.event.as_deref(),
            true,
            |_, cell| {
                for (bin, count) in cell.latency_bins() {
                    if let Some(total) = bins.get_mut(usize::from(bin)) {
                        *total += count;
                    }
                }
            },
        );
        let bins = (0..).zip(bins).filter(|(_, count)| *count > 0).collect();
        Some(LatencyBins {
            bins,
            every_row: split.edges.is_empty(),
        })
    }

    /// Writes events that are not stored yet, all or nothing, and records them in the
    /// roll-up. Returns only after the commit.
    ///
    /// Concurrent writes share commits (see `group_commit`); each is still answered only
    /// after the commit that holds it. The commits run on a blocking thread; a caller that
    /// goes away does not stop its write.
    pub async fn write(
        self: &Arc<Self>,
        events: Vec<StoredEvent>,
    ) -> Result<WriteOutcome, StoreError> {
        let queued = self.queue.queue(events);
        if queued.lead {
            let engine = Arc::clone(self);
            tokio::task::spawn_blocking(move || {
                engine.queue.lead(|group| {
                    let mut ids = lock(&engine.writer);
                    engine.commit_group(&mut ids, group)
                });
            });
        }
        queued.answer.await.unwrap_or_else(|_| {
            Err(StoreError::Database(
                "the write was dropped before its commit".to_owned(),
            ))
        })
    }

    /// Commits a group of writes together and answers each, in order. A write is never
    /// answered with another's fault: when the table refuses the group, each write is tried
    /// on its own, so one bad write fails alone.
    fn commit_group(
        &self,
        ids: &mut IdIndex,
        group: Vec<Vec<StoredEvent>>,
    ) -> Vec<Result<WriteOutcome, StoreError>> {
        if group.len() > 1 {
            match self.commit_together(ids, &group) {
                Ok(outcomes) => return outcomes.into_iter().map(Ok).collect(),
                // Each on its own below, so the refused write fails alone.
                Err(StoreError::Rejected(_)) => {}
                Err(error) => return group.iter().map(|_| Err(error.clone())).collect(),
            }
        }
        group
            .into_iter()
            .map(|events| self.commit(ids, events))
            .collect()
    }

    /// Commits several writes as one; an id in two of them is stored by the first and a
    /// duplicate for the later ones.
    fn commit_together(
        &self,
        ids: &mut IdIndex,
        group: &[Vec<StoredEvent>],
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut repeated: Vec<HashSet<&str>> = Vec::with_capacity(group.len());
        let mut merged: Vec<StoredEvent> = Vec::new();
        for events in group {
            let mut again = HashSet::new();
            for event in events {
                if seen.insert(&event.id) {
                    merged.push(event.clone());
                } else {
                    again.insert(event.id.as_str());
                }
            }
            repeated.push(again);
        }
        let together = self.commit(ids, merged)?;
        Ok(group
            .iter()
            .zip(repeated)
            .map(|(events, again)| {
                let duplicates: HashSet<String> = events
                    .iter()
                    .filter(|event| {
                        again.contains(event.id.as_str()) || together.duplicates.contains(&event.id)
                    })
                    .map(|event| event.id.clone())
                    .collect();
                WriteOutcome {
                    stored: (events.len() - duplicates.len()) as u64,
                    duplicates,
                }
            })
            .collect())
    }

    /// Writes one batch, holding the writer.
    fn commit(
        &self,
        ids: &mut IdIndex,
        events: Vec<StoredEvent>,
    ) -> Result<WriteOutcome, StoreError> {
        let started = Instant::now();
        // A store broken by a fault is reopened first (the insert reports it if it cannot
        // be), and what a reopen may have brought in is known before duplicates are judged.
        let _ = self.store.recover();
        self.resync_if_reopened(ids)?;
        let maybe_stored: Vec<&str> = events
            .iter()
            .map(|event| event.id.as_str())
            // A shared store's ids are not in this process's index: ask the store.
            .filter(|id| self.shared || ids.may_contain(id))
            .collect();
        let duplicates = if maybe_stored.is_empty() {
            HashSet::new()
        } else {
            self.store.stored_ids(&maybe_stored)?
        };
        if !duplicates.is_empty() {
            self.store.resent(&duplicates)?;
        }
        let fresh: Vec<StoredEvent> = events
            .into_iter()
            .filter(|event| !duplicates.contains(&event.id))
            .collect();
        if fresh.is_empty() {
            return Ok(WriteOutcome {
                stored: 0,
                duplicates,
            });
        }
        // The commit happens behind the commit gate, so no query that reads both the roll-up
        // and the table runs across it; the roll-up and the version then move together under
        // the roll-up's lock, held only for that, so queries never wait for the disk on it.
        let committed = {
            let _gate = self
                .commit_gate
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            self.writes_started.fetch_add(1, Ordering::AcqRel);
            match self.store.insert(&fresh) {
                Ok(()) if self.shared => {
                    self.commits.fetch_add(1, Ordering::Relaxed);
                    let version = self.version.fetch_add(1, Ordering::AcqRel) + 1;
                    let total = self
                        .announced_total
                        .fetch_add(fresh.len() as u64, Ordering::AcqRel)
                        + fresh.len() as u64;
                    Ok((total, version))
                }
                Ok(()) => {
                    self.commits.fetch_add(1, Ordering::Relaxed);
                    let mut cube = self
                        .cube
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    cube.record(&fresh);
                    self.recent
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .record(&fresh);
                    let version = self.version.fetch_add(1, Ordering::AcqRel) + 1;
                    Ok((cube.extent().total, version))
                }
                Err(error) => {
                    // Nothing changed: the write is over without a new version.
                    self.writes_started.fetch_sub(1, Ordering::AcqRel);
                    Err(error)
                }
            }
        };
        // A fault during this write (a full disk, a checkpoint that failed after a durable
        // commit) is met at once: reads move off a broken instance before the next request.
        let _ = self.store.recover();
        let (total, version) = committed?;
        for event in &fresh {
            ids.insert(&event.id);
        }
        ids.finish_spill(false);
        if ids.spill_due() {
            // Exactly the rows whose ids the index holds: nobody else writes meanwhile.
            match self.store.extent() {
                Ok(extent) => crate::ids::spill(ids, self.store.as_ref(), &extent),
                Err(error) => tracing::warn!(%error, "id index not written this time"),
            }
        }
        tracing::debug!(
            rows = fresh.len(),
            micros = started.elapsed().as_micros() as u64,
            "write committed"
        );
        self.changes.send_replace(DataChanged {
            version,
            total_events: Some(total),
        });
        Ok(WriteOutcome {
            stored: fresh.len() as u64,
            duplicates,
        })
    }
}

impl Engine {
    /// Called now and then while the store is broken: reopens it when it can, so writes
    /// resume (and `/readyz` turns ready) without waiting for a write to try.
    pub fn recover(&self) -> Result<(), StoreError> {
        if self.store.recover()? {
            let mut ids = lock(&self.writer);
            self.resync_if_reopened(&mut ids)?;
        }
        Ok(())
    }

    /// After a reopen, the table may hold a write whose commit failed to report (a full disk
    /// mid-commit): when its rows differ from what the roll-up counted, everything derived
    /// is rebuilt, so a retry of that write is recognised as a duplicate and every answer
    /// counts what is stored.
    fn resync_if_reopened(&self, ids: &mut IdIndex) -> Result<(), StoreError> {
        let generation = self.store.generation();
        if generation == self.synced_generation.load(Ordering::Acquire) {
            return Ok(());
        }
        let stored = self.store.extent()?;
        let known = self.read_cube().extent();
        if (stored.total, stored.last_row) != (known.total, known.last_row) {
            tracing::warn!(
                stored = stored.total,
                counted = known.total,
                "the reopened database differs from the roll-up: rebuilding derived data"
            );
            // A run still being written would land after the new index's own.
            ids.finish_spill(true);
            let derived = Derived::build(self.store.as_ref())?;
            let (total, version) = {
                let mut cube = self
                    .cube
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                *cube = derived.cube;
                *self
                    .recent
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = derived.recent;
                self.writes_started.fetch_add(1, Ordering::AcqRel);
                let version = self.version.fetch_add(1, Ordering::AcqRel) + 1;
                (cube.extent().total, version)
            };
            *ids = derived.ids;
            self.changes.send_replace(DataChanged {
                version,
                total_events: Some(total),
            });
        }
        self.synced_generation.store(generation, Ordering::Release);
        Ok(())
    }
}

/// Splits a scope into whole UTC hours the roll-up answers and raw edges at either end.
fn plan(scope: &Scope) -> Vec<Part<'static>> {
    if !scope.fits_rollup() {
        return vec![Part::Raw(scope.clone())];
    }
    let split = split_at_hours(scope.from, scope.to);
    let Some(hours) = split.hours else {
        return vec![Part::Raw(scope.clone())];
    };
    std::iter::once(Part::Rollup(hours))
        .chain(
            split
                .edges
                .into_iter()
                .map(|(from, to)| Part::Raw(scope.with_range(from, to))),
        )
        .collect()
}

/// `parts` with the hours holding a bucket start off the hour taken out of the roll-up's
/// ranges and read as rows (at 10M in Asia/Kolkata by day: 1.6-1.9 s when every row was
/// read, 0.25 s so).
fn without_split_hours<'a>(parts: Vec<Part<'a>>, scope: &Scope, wants: Wants<'a>) -> Vec<Part<'a>> {
    let (Some(width), Some(starts)) = (wants.raw_slot, wants.buckets) else {
        return parts;
    };
    let split = hours_holding_off_hour_starts(starts);
    if split.is_empty() {
        return parts;
    }
    let mut planned = Vec::with_capacity(parts.len() + 1);
    for part in parts {
        let Part::Rollup(hours) = part else {
            planned.push(part);
            continue;
        };
        let (left, taken) = hours.without(&split);
        planned.extend(left.into_iter().map(Part::Rollup));
        if !taken.is_empty() {
            planned.push(Part::Hours {
                scope: scope.clone(),
                hours: taken,
                width,
                starts,
            });
        }
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveDateTime};

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, 10, 1)
            .and_then(|day| day.and_hms_opt(h, m, 0))
            .expect("valid time")
    }

    #[test]
    fn plans_whole_hours_from_the_rollup_and_edges_raw() {
        let scope = Scope {
            from: Some(at(9, 30)),
            to: Some(at(12, 15)),
            ..Scope::default()
        };
        let parts = plan(&scope);
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0],
            Part::Rollup(HourRange {
                start: Bound::Included(floor_hour(at(10, 0))),
                end: Bound::Excluded(floor_hour(at(12, 0))),
                untimed: false,
            })
        );
        assert_eq!(
            parts[1],
            Part::Raw(scope.with_range(Some(at(9, 30)), Some(at(10, 0))))
        );
        assert_eq!(
            parts[2],
            Part::Raw(scope.with_range(Some(at(12, 0)), Some(at(12, 15))))
        );
    }

    #[test]
    fn plans_short_or_filtered_ranges_raw() {
        let short = Scope {
            from: Some(at(9, 10)),
            to: Some(at(9, 50)),
            ..Scope::default()
        };
        assert_eq!(plan(&short), vec![Part::Raw(short.clone())]);
        let by_session = Scope {
            session_id: Some("s1".into()),
            ..Scope::default()
        };
        assert_eq!(plan(&by_session), vec![Part::Raw(by_session.clone())]);
        assert_eq!(
            plan(&Scope::default()),
            vec![Part::Rollup(HourRange {
                start: Bound::Unbounded,
                end: Bound::Unbounded,
                untimed: true
            })]
        );
    }
}

//! Which event ids are stored, kept as 64-bit hashes so that a re-sent event is recognised
//! without scanning the table. A hash match is confirmed against the database before an
//! event is skipped, so a collision can never drop a new event.
//!
//! The bulk of the hashes lives in a sorted run on disk beside the database (`run.rs`):
//! start-up opens it instead of reading every id, and memory holds only its fence and the
//! ids written since. Once those are many, a new run holding them too is written by a thread
//! of its own (writes go on meanwhile) and put in place at a later write. Stores without a
//! folder of their own keep everything in memory.

mod load;
mod partition;
mod run;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

pub use load::{load, spill};
use run::Run;
pub use run::{Coverage, RunError};

/// Hashes of stored ids: the run on disk (rows it covers), a sorted vector of the later
/// ones (8 bytes an id) and a set of the newest, merged into the vector now and then.
#[derive(Debug, Default)]
pub struct IdIndex {
    run: Option<Run>,
    /// Where the run is kept; `None` keeps every hash in memory.
    path: Option<PathBuf>,
    sorted: Vec<u64>,
    recent: HashSet<u64>,
    /// A new run being written in the background, and the hashes it adds to the current
    /// one (answered from here until it is in place).
    writing: Option<Writing>,
}

#[derive(Debug)]
struct Writing {
    hashes: Arc<Vec<u64>>,
    done: Receiver<Result<Run, RunError>>,
}

const MERGE_AT: usize = 1 << 18;
/// The in-memory hashes are written into the run once they number this many, or an eighth
/// of the run if that is more (so rewriting the run costs a bounded share of the writes).
const SPILL_AT: usize = 1 << 20;

impl IdIndex {
    /// Every hash in memory.
    pub fn from_ids(ids: impl IntoIterator<Item = u64>) -> Self {
        let mut sorted: Vec<u64> = ids.into_iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        Self {
            sorted,
            ..Self::default()
        }
    }

    pub fn hash(id: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64(id.as_bytes())
    }

    /// True when an id with the same hash may be stored (confirm with the database). A run
    /// that cannot be read answers "maybe", so the database decides.
    pub fn may_contain(&self, id: &str) -> bool {
        let hash = Self::hash(id);
        self.recent.contains(&hash)
            || self.sorted.binary_search(&hash).is_ok()
            || self
                .writing
                .as_ref()
                .is_some_and(|writing| writing.hashes.binary_search(&hash).is_ok())
            || self.run.as_ref().is_some_and(|run| {
                run.contains(hash).unwrap_or_else(|error| {
                    tracing::warn!(%error, "the id index cannot be read: asking the database");
                    true
                })
            })
    }

    pub fn insert(&mut self, id: &str) {
        let hash = Self::hash(id);
        if self.sorted.binary_search(&hash).is_err() {
            self.recent.insert(hash);
        }
        if self.recent.len() >= MERGE_AT {
            self.merge();
        }
    }

    /// Moves the newest hashes into the sorted vector: one pass over it (sorting it whole
    /// again would cost a second at a hundred million events, under the writer's lock).
    fn merge(&mut self) {
        let mut fresh: Vec<u64> = self.recent.drain().collect();
        fresh.sort_unstable();
        let old = std::mem::take(&mut self.sorted);
        self.sorted = Vec::with_capacity(old.len() + fresh.len());
        let mut fresh = fresh.into_iter().peekable();
        for hash in old {
            while let Some(next) = fresh.next_if(|&next| next < hash) {
                self.sorted.push(next);
            }
            self.sorted.push(hash);
        }
        self.sorted.extend(fresh);
    }

    /// True when the hashes in memory should go to the run (see [`IdIndex::spill`]).
    pub fn spill_due(&self) -> bool {
        let run = self.run.as_ref().map_or(0, |run| run.len() as usize);
        self.path.is_some()
            && self.writing.is_none()
            && self.sorted.len() + self.recent.len() >= SPILL_AT.max(run / 8)
    }

    /// Starts writing a new run of every hash, covering `coverage` (which must describe
    /// exactly the rows whose ids this index holds now), on a thread of its own.
    /// [`IdIndex::finish_spill`] puts it in place.
    pub fn spill(&mut self, coverage: Coverage) {
        let Some(path) = self.path.clone() else {
            return;
        };
        if self.writing.is_some() {
            return;
        }
        self.merge();
        let hashes = Arc::new(std::mem::take(&mut self.sorted));
        let (sender, done) = sync_channel(1);
        let written = Arc::clone(&hashes);
        let merge_with_old = self.run.is_some();
        let spawned = std::thread::Builder::new()
            .name("coachboard-ids".to_owned())
            .spawn(move || {
                let _ = sender.send(write_merged(&path, coverage, &written, merge_with_old));
            });
        match spawned {
            Ok(_) => self.writing = Some(Writing { hashes, done }),
            Err(error) => {
                tracing::warn!(%error, "cannot start writing the id index: keeping new ids in memory");
                self.sorted = Arc::unwrap_or_clone(hashes);
            }
        }
    }

    /// Puts a run written in the background in place once it is done (with `wait`, waits
    /// for it). If it failed, its hashes stay in memory and a later write tries again.
    pub fn finish_spill(&mut self, wait: bool) {
        let Some(writing) = &self.writing else {
            return;
        };
        let written = if wait {
            writing
                .done
                .recv()
                .unwrap_or_else(|_| Err(RunError::Stopped))
        } else {
            match writing.done.try_recv() {
                Ok(written) => written,
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => Err(RunError::Stopped),
            }
        };
        let Some(writing) = self.writing.take() else {
            return;
        };
        match written {
            Ok(run) => {
                tracing::info!(ids = run.len(), "id index written");
                self.run = Some(run);
            }
            Err(error) => {
                tracing::warn!(%error, "cannot write the id index: keeping new ids in memory");
                self.sorted.extend(writing.hashes.iter());
                self.sorted.sort_unstable();
                self.sorted.dedup();
            }
        }
    }

    /// Approximate heap size, for the start-up log.
    pub fn bytes(&self) -> usize {
        self.sorted.capacity() * 8
            + self
                .writing
                .as_ref()
                .map_or(0, |writing| writing.hashes.capacity() * 8)
            + self.recent.capacity() * 16
            + self.run.as_ref().map_or(0, Run::bytes)
    }

    /// Hashes held on disk.
    pub fn on_disk(&self) -> u64 {
        self.run.as_ref().map_or(0, Run::len)
    }
}

/// The run at `path` (when `merge_with_old`) and `hashes` (sorted), written as one new
/// run at `path`, then opened.
fn write_merged(
    path: &Path,
    coverage: Coverage,
    hashes: &[u64],
    merge_with_old: bool,
) -> Result<Run, RunError> {
    let old = merge_with_old.then(|| Run::open(path)).transpose()?;
    run::write(path, coverage, |emit| {
        let mut fresh = hashes.iter().copied().peekable();
        if let Some(old) = &old {
            let mut stored = old.hashes()?;
            while let Some(hash) = stored.next_hash()? {
                while let Some(next) = fresh.next_if(|&next| next < hash) {
                    emit(next)?;
                }
                emit(hash)?;
            }
        }
        for hash in fresh {
            emit(hash)?;
        }
        Ok(())
    })?;
    Run::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coverage(rows: u64) -> Coverage {
        Coverage {
            rows,
            last_row: rows.checked_sub(1).map(|last| last as i64),
            last_id: 7,
        }
    }

    #[test]
    fn knows_what_was_added() {
        let mut index = IdIndex::from_ids(["a", "b"].map(IdIndex::hash));
        assert!(index.may_contain("a"));
        assert!(!index.may_contain("c"));
        index.insert("c");
        assert!(index.may_contain("c"));
        // Merged twice into the sorted vector, which stays sorted.
        for n in 0..(2 * MERGE_AT + 10) {
            index.insert(&format!("id-{n}"));
        }
        assert!(index.sorted.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(
            index.sorted.len(),
            2 + 2 * MERGE_AT,
            "a, b, c and the ids, once each"
        );
        assert!(index.may_contain("id-0"));
        assert!(index.may_contain(&format!("id-{}", 2 * MERGE_AT + 9)));
        assert!(!index.may_contain("never"));
    }

    #[test]
    fn a_spilled_index_answers_from_its_run_and_memory() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("events.duckdb.coachboard-ids");
        let mut index = IdIndex {
            path: Some(path.clone()),
            ..IdIndex::default()
        };
        // Enough ids for many blocks of the run, spilled twice so the second merges.
        for n in 0..5_000 {
            index.insert(&format!("first-{n}"));
        }
        index.spill(coverage(5_000));
        // Answered from memory while the run is written.
        assert!(index.may_contain("first-4999"));
        index.finish_spill(true);
        for n in 0..3_000 {
            index.insert(&format!("second-{n}"));
        }
        index.insert("first-10"); // already in the run: kept once
        index.spill(coverage(8_000));
        index.finish_spill(true);
        index.insert("after");
        assert_eq!(index.on_disk(), 8_000);
        assert!(index.sorted.is_empty());
        for n in (0..5_000).step_by(7) {
            assert!(index.may_contain(&format!("first-{n}")), "first-{n}");
        }
        for n in (0..3_000).step_by(5) {
            assert!(index.may_contain(&format!("second-{n}")), "second-{n}");
        }
        assert!(index.may_contain("after"));
        let absent = (0..10_000)
            .filter(|n| index.may_contain(&format!("never-{n}")))
            .count();
        assert_eq!(absent, 0);
        // The run reopened from its file says the same and what it covers.
        let reopened = Run::open(&path).expect("reopen");
        assert_eq!(reopened.coverage(), coverage(8_000));
        assert!(
            reopened
                .contains(IdIndex::hash("second-2999"))
                .expect("read")
        );
        assert!(!reopened.contains(IdIndex::hash("after")).expect("read"));
    }

    #[test]
    fn writes_go_on_while_a_run_is_written_and_a_failed_one_loses_nothing() {
        let folder = tempfile::tempdir().expect("temp dir");
        let mut index = IdIndex {
            path: Some(folder.path().join("ids")),
            ..IdIndex::default()
        };
        for n in 0..2_000 {
            index.insert(&format!("before-{n}"));
        }
        index.spill(coverage(2_000));
        assert!(!index.spill_due(), "one run at a time");
        for n in 0..500 {
            index.insert(&format!("during-{n}"));
        }
        index.finish_spill(true);
        assert_eq!(index.on_disk(), 2_000);
        let known = |index: &IdIndex| {
            (0..2_000).all(|n| index.may_contain(&format!("before-{n}")))
                && (0..500).all(|n| index.may_contain(&format!("during-{n}")))
        };
        assert!(known(&index));
        // A run that cannot be written (its folder is gone): the ids stay in memory.
        index.path = Some(folder.path().join("gone").join("ids"));
        index.spill(coverage(2_500));
        index.finish_spill(true);
        assert_eq!(index.on_disk(), 2_000);
        assert!(known(&index));
        assert_eq!(index.sorted.len(), 500);
    }

    #[test]
    fn a_torn_or_foreign_file_is_not_taken_for_a_run() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("ids");
        let mut index = IdIndex {
            path: Some(path.clone()),
            ..IdIndex::default()
        };
        for n in 0..100 {
            index.insert(&format!("id-{n}"));
        }
        index.spill(coverage(100));
        index.finish_spill(true);
        assert_eq!(index.on_disk(), 100);
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() - 4]).expect("truncate");
        assert!(matches!(Run::open(&path), Err(RunError::Length { .. })));
        std::fs::write(&path, b"id,ts\n1,2\n").expect("write");
        assert!(matches!(Run::open(&path), Err(RunError::Header)));
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(folder.path()).expect("list").count(), 1);
    }

    #[test]
    fn spilling_is_due_at_a_share_of_the_run() {
        let folder = tempfile::tempdir().expect("temp dir");
        let mut index = IdIndex {
            path: Some(folder.path().join("ids")),
            ..IdIndex::default()
        };
        assert!(!index.spill_due());
        for n in 0..SPILL_AT {
            index.insert(&format!("id-{n}"));
        }
        assert!(index.spill_due());
        // In memory only, nothing is ever spilled.
        assert!(!IdIndex::from_ids((0..SPILL_AT as u64 * 2).collect::<Vec<_>>()).spill_due());
    }
}

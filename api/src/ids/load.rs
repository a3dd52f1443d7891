//! Building the id index of a store at start-up (or after a reopen): from the run beside
//! the database when it still describes the table, reading only the rows added after it;
//! otherwise from every id, written as a new run for the next start.

use std::path::Path;

use super::IdIndex;
use super::partition::Partitioned;
use super::run::{self, Coverage, Run};
use crate::store::{EventStore, Extent, ROW_CHUNK, Scope, StoreError, row_chunks};

/// The run's file name beside the database: `<db file>.coachboard-ids`.
pub const SUFFIX: &str = "coachboard-ids";

/// The id index of everything `store` holds now (`extent`).
pub fn load(store: &dyn EventStore, extent: &Extent) -> Result<IdIndex, StoreError> {
    let Some(path) = store.derived_file(SUFFIX) else {
        return in_memory(store, extent);
    };
    run::remove_leftovers(&path);
    match Run::open(&path) {
        Ok(run) if describes(store, extent, run.coverage())? => {
            let mut index = IdIndex {
                path: Some(path),
                ..IdIndex::default()
            };
            let after = run.coverage().last_row.map_or(0, |last| last + 1);
            index.run = Some(run);
            scan(store, after, extent.last_row, &mut |hash| {
                index.sorted.push(hash);
                Ok(())
            })
            .map_err(Failure::into_store_error)?;
            index.sorted.sort_unstable();
            index.sorted.dedup();
            if index.spill_due() {
                spill(&mut index, store, extent);
            }
            Ok(index)
        }
        Ok(_) => {
            tracing::info!(path = %path.display(), "the id index describes other rows: building it again");
            build(store, extent, &path)
        }
        Err(run::RunError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
            build(store, extent, &path)
        }
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "the id index is unusable: building it again");
            build(store, extent, &path)
        }
    }
}

/// Where `extent` of the store ends, as a run would record it.
pub fn coverage(store: &dyn EventStore, extent: &Extent) -> Result<Coverage, StoreError> {
    Ok(Coverage {
        rows: extent.total,
        last_row: extent.last_row,
        last_id: match extent.last_row {
            Some(last) => id_hash_at(store, last)?,
            None => 0,
        },
    })
}

/// True when the table still holds exactly the rows the run covers (and maybe more after
/// them): as many rows up to its last row id, and the same id in that row.
fn describes(
    store: &dyn EventStore,
    extent: &Extent,
    covered: Coverage,
) -> Result<bool, StoreError> {
    let Some(last) = covered.last_row else {
        return Ok(covered.rows == 0);
    };
    if extent.last_row.is_none_or(|now| now < last) {
        return Ok(false);
    }
    Ok(store.count(&Scope::row_chunk(0, last + 1))? == covered.rows
        && id_hash_at(store, last)? == covered.last_id)
}

fn id_hash_at(store: &dyn EventStore, row: i64) -> Result<u64, StoreError> {
    let mut hash = 0;
    store.scan_ids(&Scope::row_chunk(row, row + 1), &mut |id| {
        hash = IdIndex::hash(id);
    })?;
    Ok(hash)
}

/// Why a run could not be built: the store failed (the caller reports it), or the file
/// could not be written (the index then stays in memory).
enum Failure {
    Store(StoreError),
    File(String),
}

impl Failure {
    fn into_store_error(self) -> StoreError {
        match self {
            Self::Store(error) => error,
            Self::File(error) => {
                StoreError::Unavailable(format!("the id index beside the database: {error}"))
            }
        }
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// Sends the hash of every id in the rows from `first` to `last_row`, a chunk at a time.
fn scan(
    store: &dyn EventStore,
    first: i64,
    last_row: Option<i64>,
    visit: &mut dyn FnMut(u64) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let mut failed = None;
    for (start, end) in row_chunks(last_row, ROW_CHUNK).filter(|&(_, end)| end > first) {
        store.scan_ids(&Scope::row_chunk(start.max(first), end), &mut |id| {
            if failed.is_none()
                && let Err(error) = visit(IdIndex::hash(id))
            {
                failed = Some(error);
            }
        })?;
    }
    match failed {
        Some(error) => Err(Failure::File(error.to_string())),
        None => Ok(()),
    }
}

/// Reads every id into a new run; when the run cannot be written (a full disk, a folder
/// that is not writable), keeps every hash in memory instead.
fn build(store: &dyn EventStore, extent: &Extent, path: &Path) -> Result<IdIndex, StoreError> {
    let started = std::time::Instant::now();
    let written = Partitioned::beside(path)
        .map_err(|error| Failure::File(error.to_string()))
        .and_then(|mut parts| {
            scan(store, 0, extent.last_row, &mut |hash| parts.push(hash))?;
            let covered = coverage(store, extent)?;
            run::write(path, covered, |emit| Ok(parts.drain_sorted(emit)?))
                .and_then(|()| Run::open(path))
                .map_err(|error| Failure::File(error.to_string()))
        });
    match written {
        Ok(run) => {
            tracing::info!(
                path = %path.display(),
                ids = run.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "id index written"
            );
            Ok(IdIndex {
                run: Some(run),
                path: Some(path.to_owned()),
                ..IdIndex::default()
            })
        }
        Err(Failure::Store(error)) => Err(error),
        Err(Failure::File(error)) => {
            tracing::warn!(path = %path.display(), %error, "cannot write the id index: keeping it in memory");
            in_memory(store, extent)
        }
    }
}

fn in_memory(store: &dyn EventStore, extent: &Extent) -> Result<IdIndex, StoreError> {
    let mut hashes = Vec::with_capacity(extent.total as usize);
    scan(store, 0, extent.last_row, &mut |hash| {
        hashes.push(hash);
        Ok(())
    })
    .map_err(Failure::into_store_error)?;
    Ok(IdIndex::from_ids(hashes))
}

/// Starts writing the hashes in memory into a new run (see [`IdIndex::spill`]).
pub fn spill(index: &mut IdIndex, store: &dyn EventStore, extent: &Extent) {
    match coverage(store, extent) {
        Ok(covered) => index.spill(covered),
        Err(error) => tracing::warn!(%error, "id index not written this time"),
    }
}

//! A sorted run of id hashes in a file beside the database (`<db>.coachboard-ids`), so the
//! API starts without reading every id and keeps only a sparse fence of the run in memory.
//!
//! The file is derived and disposable: a header names it and says which rows of the table
//! it covers, the sorted hashes follow, then the fence (the first hash of every block), so
//! opening it reads the header and the fence only. It is written to a temporary file and
//! renamed into place, so a kill at any moment leaves either the old run or the new one,
//! never a torn one.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// "This is Coachboard's derived index of event-id hashes (xxh3-64), not your data."
const MAGIC: &[u8; 16] = b"COACHBOARD-IDS\x001";
const HEADER_BYTES: u64 = 64;
/// Hashes per block: the fence keeps the first hash of each, a lookup reads one block.
const BLOCK: usize = 512;

/// Which rows of the table a run holds the ids of: every row whose row id is at most
/// `last_row`, `rows` of them, the last one's id hashing to `last_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub rows: u64,
    pub last_row: Option<i64>,
    pub last_id: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a Coachboard id index (wrong header)")]
    Header,
    #[error("the id index is truncated: {actual} bytes, {expected} expected")]
    Length { actual: u64, expected: u64 },
    #[error("the thread writing the id index stopped")]
    Stopped,
}

/// An open run: the file, how many hashes it holds, and the first hash of every block.
#[derive(Debug)]
pub struct Run {
    file: File,
    len: u64,
    fences: Vec<u64>,
    coverage: Coverage,
}

impl Run {
    /// Opens a run written by [`write`], checking its header and length; reads the fence.
    pub fn open(path: &Path) -> Result<Self, RunError> {
        let file = File::open(path)?;
        let mut header = [0_u8; HEADER_BYTES as usize];
        file.read_exact_at(&mut header, 0)
            .map_err(|_| RunError::Header)?;
        if &header[..16] != MAGIC {
            return Err(RunError::Header);
        }
        let field = |at: usize| {
            let mut bytes = [0_u8; 8];
            bytes.copy_from_slice(&header[at..at + 8]);
            u64::from_le_bytes(bytes)
        };
        let len = field(16);
        let last_row = field(32) as i64;
        let coverage = Coverage {
            rows: field(24),
            last_row: (last_row >= 0).then_some(last_row),
            last_id: field(40),
        };
        let blocks = len.div_ceil(BLOCK as u64);
        let expected = HEADER_BYTES + 8 * (len + blocks);
        let actual = file.metadata()?.len();
        if actual != expected {
            return Err(RunError::Length { actual, expected });
        }
        let mut bytes = vec![0_u8; 8 * blocks as usize];
        file.read_exact_at(&mut bytes, HEADER_BYTES + 8 * len)?;
        let fences = words(&bytes);
        Ok(Self {
            file,
            len,
            fences,
            coverage,
        })
    }

    pub fn coverage(&self) -> Coverage {
        self.coverage
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// Memory held: the fence only.
    pub fn bytes(&self) -> usize {
        self.fences.capacity() * 8
    }

    /// True when `hash` is in the run: one read of the block the fence points to.
    pub fn contains(&self, hash: u64) -> Result<bool, RunError> {
        let block = self.fences.partition_point(|&first| first <= hash);
        let Some(block) = block.checked_sub(1) else {
            return Ok(false);
        };
        let start = (block * BLOCK) as u64;
        let count = (self.len - start).min(BLOCK as u64) as usize;
        let mut buffer = [0_u8; BLOCK * 8];
        let bytes = &mut buffer[..count * 8];
        self.file.read_exact_at(bytes, HEADER_BYTES + start * 8)?;
        let mut hashes = [0_u64; BLOCK];
        for (slot, chunk) in hashes.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut word = [0_u8; 8];
            word.copy_from_slice(chunk);
            *slot = u64::from_le_bytes(word);
        }
        Ok(hashes[..count].binary_search(&hash).is_ok())
    }

    /// Every hash, in order, read sequentially.
    pub fn hashes(&self) -> Result<Hashes<'_>, RunError> {
        Hashes::new(&self.file, self.len)
    }
}

/// Names of the files and folders a run is staged in, beside it: `.<run's name>.…`, so
/// those a killed process left are known as this run's (and no other file's) and removed
/// at the next start.
pub(super) fn staging_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    format!(".{name}.")
}

/// Removes what a killed process left while staging the run at `path`. Only one process
/// writes a database (DuckDB's lock), so nothing of them is in use.
pub fn remove_leftovers(path: &Path) {
    let prefix = staging_prefix(path);
    let Ok(entries) = std::fs::read_dir(folder_of(path)) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let removed = if entry.path().is_dir() {
            std::fs::remove_dir_all(entry.path())
        } else {
            std::fs::remove_file(entry.path())
        };
        if let Err(error) = removed {
            tracing::warn!(path = %entry.path().display(), %error, "cannot remove a leftover of the id index");
        }
    }
}

/// The folder holding `path` (`.` for a bare file name).
pub(super) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    }
}

/// Little-endian 64-bit words.
pub(super) fn words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|chunk| {
            let mut word = [0_u8; 8];
            word.copy_from_slice(chunk);
            u64::from_le_bytes(word)
        })
        .collect()
}

/// A sequential reader of a run's hashes.
pub struct Hashes<'a> {
    reader: BufReader<&'a File>,
    left: u64,
}

impl<'a> Hashes<'a> {
    fn new(file: &'a File, len: u64) -> Result<Self, RunError> {
        use std::io::{Seek, SeekFrom};
        let mut reader = BufReader::with_capacity(1 << 16, file);
        reader.seek(SeekFrom::Start(HEADER_BYTES))?;
        Ok(Self { reader, left: len })
    }

    pub fn next_hash(&mut self) -> Result<Option<u64>, RunError> {
        if self.left == 0 {
            return Ok(None);
        }
        let mut word = [0_u8; 8];
        self.reader.read_exact(&mut word)?;
        self.left -= 1;
        Ok(Some(u64::from_le_bytes(word)))
    }
}

/// Writes the hashes `fill` sends (in increasing order; repeats are kept once) as the run
/// at `path`, replacing any run there only once the new one is complete and on disk.
pub fn write(
    path: &Path,
    coverage: Coverage,
    fill: impl FnOnce(&mut dyn FnMut(u64) -> std::io::Result<()>) -> Result<(), RunError>,
) -> Result<(), RunError> {
    let folder = folder_of(path);
    let staged = tempfile::Builder::new()
        .prefix(&staging_prefix(path))
        .tempfile_in(folder)?;
    let mut writer = BufWriter::with_capacity(1 << 16, staged.as_file());
    writer.write_all(&[0_u8; HEADER_BYTES as usize])?;
    let mut len = 0_u64;
    let mut previous: Option<u64> = None;
    let mut fences = Vec::new();
    fill(&mut |hash| {
        match previous {
            Some(last) if hash == last => return Ok(()),
            Some(last) if hash < last => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "id hashes must be written in order",
                ));
            }
            _ => {}
        }
        previous = Some(hash);
        if len.is_multiple_of(BLOCK as u64) {
            fences.push(hash);
        }
        len += 1;
        writer.write_all(&hash.to_le_bytes())
    })?;
    for fence in fences {
        writer.write_all(&fence.to_le_bytes())?;
    }
    writer.flush()?;
    drop(writer);
    let mut header = [0_u8; HEADER_BYTES as usize];
    header[..16].copy_from_slice(MAGIC);
    header[16..24].copy_from_slice(&len.to_le_bytes());
    header[24..32].copy_from_slice(&coverage.rows.to_le_bytes());
    header[32..40].copy_from_slice(&coverage.last_row.unwrap_or(-1).to_le_bytes());
    header[40..48].copy_from_slice(&coverage.last_id.to_le_bytes());
    staged.as_file().write_all_at(&header, 0)?;
    staged.as_file().sync_all()?;
    staged
        .persist(path)
        .map_err(|error| RunError::Io(error.error))?;
    // The rename itself is durable once the folder is synced.
    File::open(folder)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_this_run_are_removed_and_nothing_else() {
        let folder = tempfile::tempdir().expect("temp dir");
        let run = folder.path().join("events.duckdb.coachboard-ids");
        let keep = [
            "events.duckdb",
            "events.duckdb.wal",
            "events.duckdb.coachboard-ids",
            ".other.duckdb.coachboard-ids.x1",
        ];
        for name in keep {
            std::fs::write(folder.path().join(name), b"x").expect("write");
        }
        std::fs::write(
            folder.path().join(".events.duckdb.coachboard-ids.a1B2"),
            b"x",
        )
        .expect("write");
        let build = folder.path().join(".events.duckdb.coachboard-ids.buildQ9");
        std::fs::create_dir(&build).expect("mkdir");
        std::fs::write(build.join("07"), b"x").expect("write");
        remove_leftovers(&run);
        let mut left: Vec<String> = std::fs::read_dir(folder.path())
            .expect("list")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        left.sort();
        let mut expected = keep.map(str::to_owned).to_vec();
        expected.sort();
        assert_eq!(left, expected);
    }
}

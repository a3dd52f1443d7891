//! Opening the database file: checks that a file is one this API can use before anything
//! writes to it, and turns DuckDB's open errors into messages a person can act on.

use std::path::{Path, PathBuf};

use duckdb::{AccessMode, Config, Connection};

use super::StoreOptions;
use super::{derive, schema};

/// Why the database file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "{path} is held by another process ({holder}).\n\
         DuckDB lets only one process open a database file while it is written, and not even a \
         read-only connection can share it with that writer. In Coachboard the API alone owns \
         the file and every dashboard reads it through HTTP: stop the other process (or, if it \
         is another coachboard-api, use that one), then start this API again."
    )]
    Locked { path: PathBuf, holder: String },
    #[error("cannot create the folder for {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open {path}: {message}")]
    Database { path: PathBuf, message: String },
    #[error("{path} {message}. The file was left untouched.")]
    File { path: PathBuf, message: String },
    #[error("{path}: {message}. The file was left untouched.")]
    Schema { path: PathBuf, message: String },
}

impl OpenError {
    pub(crate) fn from_duckdb(path: &Path, error: &duckdb::Error) -> Self {
        let message = error.to_string();
        match lock_holder(&message) {
            Some(holder) => Self::Locked {
                path: path.to_owned(),
                holder,
            },
            None => Self::Database {
                path: path.to_owned(),
                message,
            },
        }
    }
}

/// Checks an existing file before anything may write to it: it must be a DuckDB database
/// of a storage version this build reads, and a `coach_events` table in it must have
/// columns the API can read. The file is opened read-only for this, so a file that fails
/// is left exactly as it was.
pub(super) fn validate(path: &Path, options: &StoreOptions) -> Result<(), OpenError> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(OpenError::File {
                path: path.to_owned(),
                message: format!("cannot read it: {error}"),
            });
        }
    };
    if metadata.is_dir() {
        return Err(OpenError::File {
            path: path.to_owned(),
            message: "is a folder, not a database file".to_owned(),
        });
    }
    let mut header = [0_u8; HEADER_BYTES];
    let read = std::fs::File::open(path)
        .and_then(|mut file| read_up_to(&mut file, &mut header))
        .map_err(|error| OpenError::File {
            path: path.to_owned(),
            message: format!("cannot read it: {error}"),
        })?;
    if let Some(problem) = header_problem(&header[..read], metadata.len()) {
        return Err(OpenError::File {
            path: path.to_owned(),
            message: problem,
        });
    }
    let connection = connect(path, options, AccessMode::ReadOnly)?;
    // A write-ahead log is replayed into memory at open, and the blocks it adds are
    // counted with the file's: only a file without one is measured.
    let logged = std::fs::metadata(super::wal_path(path)).is_ok_and(|wal| wal.len() > 0);
    if !logged
        && let Some(problem) = truncation(&connection, metadata.len())
            .map_err(|error| OpenError::from_duckdb(path, &error))?
    {
        return Err(OpenError::File {
            path: path.to_owned(),
            message: problem,
        });
    }
    let source = schema::inspect(&connection).map_err(|message| OpenError::Schema {
        path: path.to_owned(),
        message,
    })?;
    // When the derived tables will be built from every event, every event is read first.
    if let Some(source) = source {
        let due = derive::due(&connection).map_err(|error| OpenError::from_duckdb(path, &error))?;
        if due == derive::Due::Everything {
            derive::check_readable(&connection, &source.select).map_err(|error| {
                OpenError::Schema {
                    path: path.to_owned(),
                    message: format!("its events cannot all be read: {error}"),
                }
            })?;
        }
    }
    Ok(())
}

/// Whether the file holds fewer blocks than its header says are in use: cut short by a
/// copy or a full disk. DuckDB opens such a file when its catalog survived, and fails only
/// when a query reaches a missing block (which may be a derived table's, long after
/// start-up). Free blocks at the end are not written, so only used ones are counted.
fn truncation(connection: &Connection, length: u64) -> duckdb::Result<Option<String>> {
    let (block_size, used): (i64, i64) = connection.query_row(
        "SELECT block_size, used_blocks FROM pragma_database_size()
         WHERE database_name = current_database()",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let block_size = u64::try_from(block_size).unwrap_or(0).max(1);
    let held = length.saturating_sub(SMALLEST_DATABASE) / block_size;
    let used = u64::try_from(used).unwrap_or(0);
    Ok((held < used)
        .then(|| format!("is truncated: it holds {held} blocks, and {used} are in use")))
}

/// Opens a new database instance on the file (creating its folder when writing).
pub(super) fn connect(
    path: &Path,
    options: &StoreOptions,
    mode: AccessMode,
) -> Result<Connection, OpenError> {
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .filter(|_| matches!(mode, AccessMode::ReadWrite))
    {
        std::fs::create_dir_all(folder).map_err(|source| OpenError::Folder {
            path: path.to_owned(),
            source,
        })?;
    }
    let as_open_error = |error: duckdb::Error| OpenError::from_duckdb(path, &error);
    let config = Config::default()
        .access_mode(mode)
        .and_then(|config| config.threads(options.threads.max(1) as i64))
        .and_then(|config| config.max_memory(&options.memory_limit))
        .map_err(as_open_error)?;
    Connection::open_with_flags(path, config).map_err(as_open_error)
}

/// DuckDB's main header: a checksum, "DUCK", then the storage version (little-endian).
const HEADER_BYTES: usize = 20;
const MAGIC_AT: usize = 8;
/// Storage versions this build of DuckDB reads (its `VERSION_NUMBER_LOWER..=UPPER`).
const STORAGE_VERSIONS: std::ops::RangeInclusive<u64> = 64..=69;
/// Newer files say "see the flags" here (DuckDB's `DEPRECATED_VERSION_NUMBER`).
const VERSION_IN_FLAGS: u64 = 999;
/// A database file is at least its three header blocks.
const SMALLEST_DATABASE: u64 = 3 * 4096;

fn read_up_to(file: &mut std::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    Ok(filled)
}

/// What is wrong with a file, judged from its first bytes and its size, if anything.
fn header_problem(header: &[u8], size: u64) -> Option<String> {
    if size == 0 {
        return Some(
            "is empty (0 bytes), so it is no DuckDB database; move it away (or delete it) and \
             the API creates a new database there"
                .to_owned(),
        );
    }
    let magic = header.get(MAGIC_AT..MAGIC_AT + 4);
    if magic != Some(b"DUCK".as_slice()) {
        let kind = if header.starts_with(b"SQLite format 3") {
            "an SQLite database"
        } else if header.starts_with(b"PAR1") {
            "a Parquet file"
        } else if header.starts_with(b"\x1f\x8b") {
            "a gzip archive"
        } else if header.starts_with(b"PK") {
            "a zip archive"
        } else if header
            .iter()
            .all(|byte| byte.is_ascii_graphic() || byte.is_ascii_whitespace())
        {
            "a text file"
        } else {
            "of an unknown format (its header lacks DuckDB's signature)"
        };
        return Some(format!(
            "is {kind}, not a DuckDB database file; point --db at a DuckDB file or a new path"
        ));
    }
    let version = header
        .get(MAGIC_AT + 4..HEADER_BYTES)
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map(u64::from_le_bytes);
    match version {
        Some(version) if !STORAGE_VERSIONS.contains(&version) && version != VERSION_IN_FLAGS => {
            Some(format!(
                "was written by another DuckDB version (storage version {version}; this API's \
             DuckDB reads {}..={}); convert it with that version's `EXPORT DATABASE` and this \
             one's `IMPORT DATABASE`",
                STORAGE_VERSIONS.start(),
                STORAGE_VERSIONS.end()
            ))
        }
        _ if size < SMALLEST_DATABASE => Some(format!(
            "is truncated: {size} bytes, less than a DuckDB database's headers ({SMALLEST_DATABASE} bytes)"
        )),
        _ => None,
    }
}

/// From "… Conflicting lock is held in /usr/bin/python3.11 (PID 22448) …", a description of
/// the holder such as "PID 22448, /usr/bin/python3.11: python -m app.api".
fn lock_holder(message: &str) -> Option<String> {
    if !message.contains("Could not set lock") && !message.contains("Conflicting lock") {
        return None;
    }
    let pid = message
        .split("PID ")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|pid| !pid.is_empty());
    let program = message
        .split("is held in ")
        .nth(1)
        .and_then(|rest| rest.split(" (PID").next())
        .map(str::trim)
        .filter(|program| !program.is_empty());
    let command_line = pid.as_deref().and_then(command_line_of);
    let mut holder = match (&pid, program) {
        (Some(pid), Some(program)) => format!("PID {pid}, {program}"),
        (Some(pid), None) => format!("PID {pid}"),
        (None, Some(program)) => program.to_owned(),
        (None, None) => "another process".to_owned(),
    };
    if let Some(command_line) = command_line {
        holder.push_str(": ");
        holder.push_str(&command_line);
    }
    Some(holder)
}

fn command_line_of(pid: &str) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<String> = raw
        .split(|byte| *byte == 0)
        .filter(|word| !word.is_empty())
        .map(|word| String::from_utf8_lossy(word).into_owned())
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_holder_of_the_lock() {
        let message = "IO Error: Could not set lock on file \"/d/x.duckdb\": Conflicting lock is \
                       held in /usr/bin/python3.11 (PID 4242424) by user root. See also …";
        assert_eq!(
            lock_holder(message).as_deref(),
            Some("PID 4242424, /usr/bin/python3.11")
        );
        assert_eq!(lock_holder("Catalog Error: no table"), None);
    }

    #[test]
    fn tells_what_a_file_is() {
        let mut duck = vec![0_u8; HEADER_BYTES];
        duck[MAGIC_AT..MAGIC_AT + 4].copy_from_slice(b"DUCK");
        duck[12] = 69;
        assert_eq!(header_problem(&duck, 1 << 20), None);
        assert!(header_problem(&duck, 100).is_some_and(|p| p.contains("truncated")));
        duck[12] = 39;
        assert!(header_problem(&duck, 1 << 20).is_some_and(|p| p.contains("storage version 39")));
        assert!(
            header_problem(b"SQLite format 3\0....", 4096).is_some_and(|p| p.contains("SQLite"))
        );
        assert!(
            header_problem(b"id,ts,event\n1,2,3\n", 18).is_some_and(|p| p.contains("text file"))
        );
        assert!(header_problem(b"", 0).is_some_and(|p| p.contains("empty")));
    }
}

//! What a DuckDB error means for the API: the client's mistake, a fault of the machine that
//! passes (full disk, memory), or a fatal error after which the database instance must be
//! reopened. DuckDB's C API reports errors as text that starts with their type
//! ("IO Error: …", "Out of Memory Error: …", "FATAL Error: …"), so that is what is read.

use crate::store::StoreError;

/// What an error of DuckDB says about the database instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// The device is full: writes fail until space is freed; the instance may be broken.
    DiskFull,
    /// The query needed more than the memory limit; nothing else is wrong.
    OutOfMemory,
    /// The instance is invalidated (a failed checkpoint, a fatal error) or its disk failed
    /// to read or write (EIO): every later call fails until it is reopened.
    Fatal,
    /// The commit is durable but the checkpoint after it failed: the write happened, and the
    /// instance must be reopened.
    DurableButBroken,
    /// Anything else: a bad statement or value, a constraint of the user's table.
    Other,
}

pub(super) fn classify(message: &str) -> Fault {
    let lower = message.to_lowercase();
    if lower.contains("commit succeeded and is durable") {
        Fault::DurableButBroken
    } else if lower.contains("no space left on device")
        || lower.contains("disk is full")
        || lower.contains("not enough space")
        || lower.contains("disk quota exceeded")
    {
        Fault::DiskFull
    } else if lower.starts_with("out of memory") || lower.contains("out of memory error") {
        Fault::OutOfMemory
    } else if lower.contains("fatal error")
        || lower.contains("input/output error")
        || lower.contains("has been invalidated")
        || lower.contains("database must be restarted")
        || lower.contains("reopen the database")
    {
        Fault::Fatal
    } else {
        Fault::Other
    }
}

/// The error a request gets for a DuckDB error; `place` names the database file.
pub(super) fn store_error(error: &duckdb::Error, place: &str) -> StoreError {
    let message = error.to_string();
    let detail = message.lines().next().unwrap_or_default().to_owned();
    match classify(&message) {
        Fault::DiskFull => StoreError::DiskFull {
            place: place.to_owned(),
            detail,
        },
        Fault::OutOfMemory => StoreError::OutOfMemory { detail },
        Fault::Fatal | Fault::DurableButBroken => StoreError::Unavailable(format!(
            "{place} hit a fatal error and is being reopened ({detail})"
        )),
        Fault::Other => StoreError::Database(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_duckdb_messages() {
        let cases = [
            (
                "IO Error: Could not write file \"/d/x.duckdb.wal\": No space left on device",
                Fault::DiskFull,
            ),
            (
                "TransactionContext Error: Failed to commit: Transaction COMMIT succeeded and is \
                 durable, but the autocheckpoint failed. Reopen the database instance to recover. \
                 Could not write file: No space left on device",
                Fault::DurableButBroken,
            ),
            (
                "Out of Memory Error: failed to allocate data of size 16.0 MiB (12.0 MiB/16.0 MiB used)",
                Fault::OutOfMemory,
            ),
            (
                "FATAL Error: Failed: database has been invalidated because of a previous fatal error.",
                Fault::Fatal,
            ),
            (
                "IO Error: Could not read from file \"/d/x.duckdb\": Input/output error",
                Fault::Fatal,
            ),
            (
                "Constraint Error: Duplicate key \"id: a\" violates primary key constraint",
                Fault::Other,
            ),
        ];
        for (message, fault) in cases {
            assert_eq!(classify(message), fault, "{message}");
        }
    }
}

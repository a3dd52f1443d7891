//! Turns DuckDB's open errors into messages a person can act on.

use std::path::{Path, PathBuf};

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
    #[error("{path}: {message}")]
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
}

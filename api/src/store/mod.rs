//! The storage interface: everything the API needs from a database, as plain data, and the
//! errors any engine reports. Each engine implements it in its own folder with all of its
//! SQL: `duckdb/` (one file, one owner; derived data persisted beside the events) and
//! `clickhouse/` (a cluster several API replicas share; the API keeps no state). `spec.rs`
//! reads which one `--store` names. Handlers and analytics never know which answers.

mod clickhouse;
mod duckdb;
mod spec;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use coachboard_contract::{Annotation, EventRecord, SortKey, SortOrder};

use crate::rollup::{HOUR, instant_of};

pub use self::clickhouse::{
    ClickHouseConfig, ClickHouseOpenError, ClickHouseStore, ConfigError, EnvCredentials,
};
pub use self::duckdb::{DuckDbStore, OpenError, StoreOptions};
pub use self::spec::{SpecError, StoreSpec};

/// The rows a query covers: every filter the analytics endpoints accept, validated.
/// Times are UTC; `from` is inclusive and `to` exclusive.
///
/// `policy` and `text` describe a suggestion's offer: an outcome is in scope when the offer
/// it answers matches them (or it matches them itself), so a policy filter covers what
/// became of the suggestions that touched that policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub bucket: Option<String>,
    pub event: Option<String>,
    pub policy: Option<String>,
    /// The offer references at least one of these (sorted); with `policy`, both hold.
    pub policies: Option<Vec<String>>,
    pub session_id: Option<String>,
    /// Case-insensitive text search in the draft and the suggestion.
    pub text: Option<String>,
    /// Internal, never from a request: a half-open range of the table's row ids, so that
    /// start-up reads a large table a chunk at a time.
    pub rows: Option<(i64, i64)>,
    /// Internal, never from a request: latencies in `[at least, below)` (`below` open when
    /// `None`), so a page sorted by latency reads only the latencies the roll-up says it
    /// holds.
    pub latency: Option<(i64, Option<i64>)>,
}

impl Scope {
    /// The same filters over another time range.
    pub fn with_range(&self, from: Option<NaiveDateTime>, to: Option<NaiveDateTime>) -> Self {
        Self {
            from,
            to,
            ..self.clone()
        }
    }

    /// True when only time, bucket and event narrow the rows: the roll-up can answer.
    pub fn fits_rollup(&self) -> bool {
        self.policy.is_none()
            && self.policies.is_none()
            && self.session_id.is_none()
            && self.text.is_none()
            && self.rows.is_none()
            && self.latency.is_none()
    }

    /// Every row whose row id is in `[start, end)`.
    pub fn row_chunk(start: i64, end: i64) -> Self {
        Self {
            rows: Some((start, end)),
            ..Self::default()
        }
    }
}

/// Counts and latency of the rows of one (time slot, bucket, event, latency bin) group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    /// Start of the slot in seconds since the epoch, when grouped by time.
    pub slot: Option<i64>,
    pub bucket: Option<String>,
    pub event: Option<String>,
    /// Latency bin (`histogram::bin_of`); `None` for rows without a positive latency.
    pub bin: Option<u16>,
    pub count: u64,
    /// Sum of the positive latencies of the group. Answers only add these up per (slot,
    /// bucket, event), so a store may carry that whole sum on one of its bins' rows.
    pub latency_sum: i64,
}

/// How often a policy was referenced by the rows of one (slot, bucket, event) group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub slot: Option<i64>,
    pub bucket: Option<String>,
    pub event: Option<String>,
    pub policy: String,
    pub count: u64,
}

/// One group of the hourly roll-up as a store keeps it, borrowed from the store's reader
/// (partial groups of the same key add up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredGroup<'a> {
    /// Rows of one (hour, bucket, event, latency bin).
    Latency {
        slot: Option<i64>,
        bucket: Option<&'a str>,
        event: Option<&'a str>,
        bin: Option<u16>,
        count: u64,
        latency_sum: i64,
    },
    /// References to one policy by the rows of one (hour, bucket, event).
    Policy {
        slot: Option<i64>,
        bucket: Option<&'a str>,
        event: Option<&'a str>,
        policy: &'a str,
        count: u64,
    },
}

/// Suggestions (offers in a scope) of one (bucket, outcome, decision-time bin) group.
/// A suggestion's outcome is its first answer in time, linked by `offer_id` or inferred.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SuggestionRow {
    /// The offer's bucket.
    pub bucket: Option<String>,
    /// The first outcome's type; `None` while the offer has no answer.
    pub outcome: Option<String>,
    /// True when that answer's link was inferred rather than given.
    pub inferred: bool,
    /// True when the offer has more than one answer.
    pub answered_again: bool,
    /// True for an offer without an answer that is older than the query's cut-off.
    pub unanswered: bool,
    /// Bin (`histogram::bin_of`) of the positive time from offer to first answer in ms.
    pub decision_bin: Option<u16>,
    /// True when the offer references at least one policy.
    pub touches_policy: bool,
    pub count: u64,
}

/// Suggestions of one policy with one outcome (`None`: not answered yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOutcomeRow {
    pub policy: String,
    pub outcome: Option<String>,
    pub count: u64,
}

/// Suggestions of one (rewrite-size band, outcome) group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewriteRow {
    /// Tenth of the 0–100% rewrite range (0: under 10%, …, 9: 90% and more); `None` for
    /// offers without both texts.
    pub band: Option<u8>,
    pub outcome: Option<String>,
    pub count: u64,
}

/// A page of `/analytics/events`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventsQuery {
    pub scope: Scope,
    pub sort: SortKey,
    pub order: SortOrder,
    pub limit: u32,
    pub offset: u64,
    /// Keyset position (ts, id) for ts-sorted pages: rows strictly after it in sort order.
    pub after: Option<(NaiveDateTime, String)>,
}

/// An event ready to be written: validated and with its id and time assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: String,
    pub ts: NaiveDateTime,
    pub event: String,
    pub session_id: Option<String>,
    pub agent_draft: Option<String>,
    pub suggestion_used: Option<String>,
    /// JSON text of an array of strings, as the note stores it.
    pub policy_refs: Option<String>,
    pub latency_ms: Option<i64>,
    pub ab_test_bucket: Option<String>,
    /// For an outcome: the offer it answers, as the client said.
    pub offer_id: Option<String>,
}

/// Row count and time extent of the whole table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extent {
    pub total: u64,
    pub first: Option<NaiveDateTime>,
    pub last: Option<NaiveDateTime>,
    /// The largest row id, for reading the table in chunks.
    pub last_row: Option<i64>,
}

/// Table rows read per query at start-up: bounds the memory a large table needs then.
pub const ROW_CHUNK: i64 = 500_000;

/// The row-id chunks `[start, end)` of `chunk` rows covering a table whose largest row id
/// is `last_row`.
pub fn row_chunks(last_row: Option<i64>, chunk: i64) -> impl Iterator<Item = (i64, i64)> {
    let end = last_row.map_or(0, |last| last + 1);
    let chunk = chunk.max(1);
    (0..end)
        .step_by(chunk as usize)
        .map(move |start| (start, (start + chunk).min(end)))
}

/// Why the store could not do what was asked. The first three are faults of the machine
/// that pass by themselves (the store recovers without a restart); `Rejected` is the
/// client's; `Database` is anything else.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("the disk holding {place} is full; writes are refused until space is freed ({detail})")]
    DiskFull { place: String, detail: String },
    #[error(
        "this query needs more memory than the database may use ({detail}); narrow the filters \
         or raise --memory-limit"
    )]
    OutOfMemory { detail: String },
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("the stored events cannot take this write: {0}")]
    Rejected(String),
    #[error("database error: {0}")]
    Database(String),
}

impl StoreError {
    /// True for the faults that pass by themselves: worth retrying later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::DiskFull { .. } | Self::OutOfMemory { .. } | Self::Unavailable(_)
        )
    }
}

/// Rows with a positive latency per latency bin (ascending) in the whole UTC hours of a
/// scope, and whether those hours hold every timed row of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyBins {
    pub bins: Vec<(u16, u64)>,
    pub every_row: bool,
}

/// Everything the API asks of a database. Calls block; run them off the async executor.
pub trait EventStore: Send + Sync + 'static {
    /// Counts and latency bins per (slot, bucket, event), slots `slot_seconds` wide.
    fn aggregate(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
    ) -> Result<Vec<GroupRow>, StoreError>;
    /// As [`aggregate`](Self::aggregate) in slots `slot_seconds` wide, where a store may
    /// report each slot as the start of the bucket holding it (`starts`, ascending, each a
    /// slot start): a timeseries of days or weeks then reads a row per bucket, not per slot.
    fn aggregate_in_buckets(
        &self,
        scope: &Scope,
        slot_seconds: i64,
        starts: &[i64],
    ) -> Result<Vec<GroupRow>, StoreError> {
        let _ = starts;
        self.aggregate(scope, Some(slot_seconds))
    }
    /// As [`aggregate_in_buckets`](Self::aggregate_in_buckets) over the rows of `scope` in
    /// the whole UTC hours starting at `hours` only: a timeseries whose buckets start off the
    /// hour reads those hours' rows (one query where the store can) and the roll-up the rest.
    fn aggregate_in_hours(
        &self,
        scope: &Scope,
        hours: &[i64],
        slot_seconds: i64,
        starts: &[i64],
    ) -> Result<Vec<GroupRow>, StoreError> {
        let mut rows = Vec::new();
        for &hour in hours {
            let part = scope.with_range(instant_of(hour), instant_of(hour + HOUR));
            rows.extend(self.aggregate_in_buckets(&part, slot_seconds, starts)?);
        }
        Ok(rows)
    }
    /// Policy references per (slot, bucket, event), counted like the note's code.
    fn policy_counts(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
    ) -> Result<Vec<PolicyRow>, StoreError>;
    fn count(&self, scope: &Scope) -> Result<u64, StoreError>;
    /// Rows per whole UTC hour of a scope (ascending; the partial hours at its ends and
    /// rows without a time left out), when the store keeps them grouped for that scope
    /// (the engine's roll-up has them for scopes without a filter through offers).
    fn hour_counts(&self, scope: &Scope) -> Result<Option<Vec<(i64, u64)>>, StoreError> {
        let _ = scope;
        Ok(None)
    }
    /// Rows with a positive latency per latency bin (ascending) in the whole UTC hours of a
    /// scope, and whether those hours hold every timed row of it, when the store keeps them
    /// grouped for that scope.
    fn latency_bins(&self, scope: &Scope) -> Result<Option<LatencyBins>, StoreError> {
        let _ = scope;
        Ok(None)
    }
    /// The offers of the scope as suggestions, grouped with their outcomes. `event` in the
    /// scope is ignored (a suggestion is an offer); offers older than `unanswered_before`
    /// without an answer are marked unanswered.
    fn suggestions(
        &self,
        scope: &Scope,
        unanswered_before: NaiveDateTime,
    ) -> Result<Vec<SuggestionRow>, StoreError>;
    /// Suggestions per policy their offer references (counted like `policy_counts`) and
    /// outcome; `event` in the scope is ignored.
    fn policy_outcomes(&self, scope: &Scope) -> Result<Vec<PolicyOutcomeRow>, StoreError>;
    /// The offers of the scope by rewrite-size band and outcome; `event` is ignored.
    fn rewrite_outcomes(&self, scope: &Scope) -> Result<Vec<RewriteRow>, StoreError>;
    /// Every link (outcome id, offer id, inferred) of the outcomes of one session.
    fn session_links(&self, session_id: &str) -> Result<Vec<(String, String, bool)>, StoreError>;
    /// Sessions offered a suggestion (with a bucket) in the scope, and how many of them were
    /// offered suggestions in two buckets or more.
    fn multiple_exposure(&self, scope: &Scope) -> Result<(u64, u64), StoreError>;
    fn events(&self, query: &EventsQuery) -> Result<Vec<EventRecord>, StoreError>;
    fn extent(&self) -> Result<Extent, StoreError>;
    /// The hourly roll-up as the store keeps it: when it was derived from exactly the rows
    /// of `extent`, sends every group to `visit` and returns true; otherwise (or when the
    /// store keeps none) returns false having sent nothing. Start-up builds the in-memory
    /// roll-up from it instead of from every event.
    fn stored_rollup(
        &self,
        extent: &Extent,
        visit: &mut dyn FnMut(StoredGroup<'_>),
    ) -> Result<bool, StoreError>;
    /// Which of these ids are stored already.
    fn stored_ids(&self, candidates: &[&str]) -> Result<HashSet<String>, StoreError>;
    /// Calls `visit` with every stored id of the rows in the scope's row range.
    fn scan_ids(&self, scope: &Scope, visit: &mut dyn FnMut(&str)) -> Result<(), StoreError>;
    /// Writes all events in one transaction: all or nothing.
    fn insert(&self, events: &[StoredEvent]) -> Result<(), StoreError>;
    /// Ids a write found stored already (sent again, perhaps after a write that failed
    /// midway): a store that derives rows at insert time makes sure theirs are there.
    fn resent(&self, _ids: &HashSet<String>) -> Result<(), StoreError> {
        Ok(())
    }
    /// Notes pinned to a time within `[from, to)` (open where `None`), in time order.
    fn annotations(
        &self,
        from: Option<NaiveDateTime>,
        to: Option<NaiveDateTime>,
    ) -> Result<Vec<Annotation>, StoreError>;
    /// Stores a note under its (new) id.
    fn add_annotation(&self, annotation: &Annotation) -> Result<(), StoreError>;
    /// Deletes a note; false when none has that id.
    fn delete_annotation(&self, id: &str) -> Result<bool, StoreError>;
    /// A trivial query: the database answers.
    fn ping(&self) -> Result<(), StoreError>;
    /// Calls `visit` with every event of the scope in the query's order (no paging), until
    /// it returns false.
    fn export(
        &self,
        query: &EventsQuery,
        visit: &mut dyn FnMut(EventRecord) -> bool,
    ) -> Result<(), StoreError>;
    /// Writes the WAL into the database file.
    fn checkpoint(&self) -> Result<(), StoreError>;
    /// Brings what the store derives from the events up to date now, rather than when a
    /// query first needs it (after a bulk load, so the first dashboard does not wait).
    fn settle(&self) -> Result<(), StoreError>;
    /// Whether writes can be taken now; the error a write would get when not.
    fn health(&self) -> Result<(), StoreError>;
    /// After a fault, tries to make the store whole again (for DuckDB: reopen the database
    /// inside the process). Returns true when the store was reopened, so that anything
    /// derived from its rows must be checked against them again.
    fn recover(&self) -> Result<bool, StoreError>;
    /// How many times the store has been reopened: derived data built before the latest
    /// reopen may miss rows whose commit outcome was unknown to the writer.
    fn generation(&self) -> u64;
    /// Writes a consistent copy of the whole database to `to` while the API keeps running.
    fn backup(&self, to: &Path) -> Result<(), StoreError>;
    /// Bytes the database takes on disk.
    fn size_bytes(&self) -> u64;
    /// True when this process is the data's only owner, so the engine may keep what it
    /// derives from the rows in memory (roll-up, id index, newest events) and update it with
    /// its own writes. False for a store that several API replicas share: every answer
    /// then comes from the store.
    fn keeps_state(&self) -> bool {
        true
    }
    /// Where this store lets the engine keep a derived file (`<data>.<suffix>` beside its
    /// own file), if anywhere.
    fn derived_file(&self, _suffix: &str) -> Option<PathBuf> {
        None
    }
}

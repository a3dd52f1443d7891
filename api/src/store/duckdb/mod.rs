//! The DuckDB implementation of [`EventStore`]: one database opened once per process, a
//! writer connection and a pool of cloned reader connections. After a fault that breaks the
//! instance (a full disk, a failed checkpoint) the database is reopened inside the process.

mod annotations;
mod answers;
mod derive;
mod facts;
mod faults;
mod links;
mod open;
mod policy_hours;
mod policy_rows;
mod rebuild;
mod rewrites;
mod rollup;
mod schema;
mod sql;
mod suggestion_groups;
mod words;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use coachboard_contract::{Annotation, EventRecord, SortKey};
use duckdb::arrow::array::{ArrayRef, Int32Array, StringArray, TimestampMicrosecondArray};
use duckdb::arrow::datatypes::{Field, Schema};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::types::Value;
use duckdb::{AccessMode, Connection, params_from_iter};

pub use open::OpenError;
use schema::Source;
use sql::timestamp;

use super::{
    EventStore, EventsQuery, Extent, GroupRow, LatencyBins, PolicyOutcomeRow, PolicyRow,
    RewriteRow, Scope, StoreError, StoredEvent, StoredGroup, SuggestionRow,
};

/// Resource settings handed to DuckDB.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Worker threads DuckDB may use per query.
    pub threads: usize,
    /// DuckDB's `memory_limit`, e.g. "256MB".
    pub memory_limit: String,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            threads: 2,
            memory_limit: "256MB".to_owned(),
        }
    }
}

pub struct DuckDbStore {
    path: PathBuf,
    options: StoreOptions,
    /// How to read the table; replaced when a write adds the `offer_id` column.
    source: RwLock<Arc<Source>>,
    /// The open database, `None` while a reopen is failing. Queries hold the read side for
    /// their whole run and a reopen the write side, so the old instance is closed before a
    /// new one opens the file: never two instances on one file.
    instance: RwLock<Option<Instance>>,
    /// Why writes are refused, after a fault, until a reopen succeeds.
    fault: Mutex<Option<Broken>>,
    generation: AtomicU64,
    /// Commits (and reopens) so far, and how many of them the derived tables are known to
    /// include: unequal, the derived tables are brought up to date before a query reads
    /// them.
    appends: AtomicU64,
    derived_appends: AtomicU64,
}

/// One DuckDB database instance: a writer connection and idle readers cloned from it.
struct Instance {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Opened read-only because a read-write open failed (a full disk cannot replay the WAL
    /// into the file): reads go on, writes wait for the next reopen.
    read_only: bool,
}

struct Broken {
    error: StoreError,
    last_attempt: Instant,
}

/// Shortest wait between two reopen attempts: a flood of refused writes does not turn into
/// a flood of reopens.
const REOPEN_EVERY: Duration = Duration::from_millis(500);
/// Free space a full disk must have again before a reopen is tried.
const SPACE_TO_RESUME: u64 = 4 << 20;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl DuckDbStore {
    /// Opens (or creates) the database file. Fails at once, with a message naming the
    /// holder, when another process has the file open, and with a message naming the file
    /// and what is wrong when it is not a database this API can use; such a file is left
    /// untouched.
    pub fn open(path: &Path, options: &StoreOptions) -> Result<Self, OpenError> {
        open::validate(path, options)?;
        let writer = open::connect(path, options, AccessMode::ReadWrite)?;
        let schema_error = |message: String| OpenError::Schema {
            path: path.to_owned(),
            message,
        };
        schema::ensure_table(&writer).map_err(|error| schema_error(error.to_string()))?;
        let source = schema::inspect(&writer)
            .map_err(schema_error)?
            .ok_or_else(|| schema_error(format!("no table {} after creating it", schema::TABLE)))?;
        let started = Instant::now();
        let due = derive::bring_up_to_date(&writer, &source.select, derive::Commits::PerChunk)
            .map_err(|error| OpenError::from_duckdb(path, &error))?;
        if due != derive::Due::Nothing {
            tracing::info!(
                ?due,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "derived tables brought up to date with the events"
            );
        }
        Ok(Self {
            path: path.to_owned(),
            options: options.clone(),
            source: RwLock::new(Arc::new(source)),
            instance: RwLock::new(Some(Instance {
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                read_only: false,
            })),
            fault: Mutex::new(None),
            generation: AtomicU64::new(0),
            appends: AtomicU64::new(0),
            derived_appends: AtomicU64::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks a file as `open` would, read-only, and counts its events: for checking a
    /// backup without taking the file.
    pub fn count_events_in(path: &Path) -> Result<u64, OpenError> {
        let options = StoreOptions::default();
        if !path.exists() {
            return Err(OpenError::File {
                path: path.to_owned(),
                message: "does not exist".to_owned(),
            });
        }
        open::validate(path, &options)?;
        let connection = open::connect(path, &options, AccessMode::ReadOnly)?;
        let count: i64 = connection
            .query_row(
                &format!("SELECT count(*) FROM {}", schema::TABLE),
                [],
                |row| row.get(0),
            )
            .map_err(|error| OpenError::from_duckdb(path, &error))?;
        Ok(count.max(0) as u64)
    }

    /// True when the table has the note's column types exactly.
    pub fn native_schema(&self) -> bool {
        self.source().native
    }

    fn place(&self) -> String {
        self.path.display().to_string()
    }

    fn error(&self, error: &duckdb::Error) -> StoreError {
        faults::store_error(error, &self.place())
    }

    fn instance(&self) -> RwLockReadGuard<'_, Option<Instance>> {
        self.instance
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The error while no instance is open.
    fn closed(&self) -> StoreError {
        match lock(&self.fault).as_ref() {
            Some(broken) => broken.error.clone(),
            None => StoreError::Unavailable(format!("{} is being reopened", self.place())),
        }
    }

    /// Records a fault that needs a reopen; writes are refused with `error` until then.
    fn mark_broken(&self, error: StoreError) {
        tracing::error!(db = %self.place(), %error, "database fault: writes refused until it is reopened");
        let mut fault = lock(&self.fault);
        // A new fault may be met at once; a repeated one waits its turn.
        let last_attempt = fault.as_ref().map_or_else(
            || {
                Instant::now()
                    .checked_sub(REOPEN_EVERY)
                    .unwrap_or_else(Instant::now)
            },
            |broken| broken.last_attempt,
        );
        *fault = Some(Broken {
            error,
            last_attempt,
        });
    }

    /// Runs `work` on an idle reader connection, cloning a new one when none is idle.
    fn read<T>(
        &self,
        work: impl FnOnce(&Connection) -> duckdb::Result<T>,
    ) -> Result<T, StoreError> {
        let guard = self.instance();
        let Some(instance) = guard.as_ref() else {
            return Err(self.closed());
        };
        let idle = lock(&instance.readers).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => lock(&instance.writer)
                .try_clone()
                .map_err(|error| self.error(&error))?,
        };
        let result = work(&connection);
        lock(&instance.readers).push(connection);
        result.map_err(|error| {
            if faults::classify(&error.to_string()) == faults::Fault::Fatal {
                self.mark_broken(self.error(&error));
            }
            self.error(&error)
        })
    }

    /// Runs `work` on the writer connection, after reopening the database if a fault broke
    /// it; refuses at once while the fault lasts.
    fn write<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, WriteFailure>,
    ) -> Result<T, StoreError> {
        // Refuses at once while a fault lasts; after it, the fault is cleared.
        self.recover()?;
        let guard = self.instance();
        let Some(instance) = guard.as_ref().filter(|instance| !instance.read_only) else {
            return Err(self.closed());
        };
        let conn = lock(&instance.writer);
        match work(&conn) {
            Ok(value) => Ok(value),
            Err(WriteFailure::Refused(error)) => Err(error),
            Err(WriteFailure::Database(error)) => Err(self.write_error(&error)),
        }
    }

    /// What a failed write means: a full disk or a fatal error breaks the store until a
    /// reopen; a value the user's table refuses is the client's conflict.
    fn write_error(&self, error: &duckdb::Error) -> StoreError {
        let store_error = self.error(error);
        match faults::classify(&error.to_string()) {
            faults::Fault::DiskFull | faults::Fault::Fatal => {
                self.mark_broken(store_error.clone());
                store_error
            }
            _ => rejected_by_table(error).unwrap_or(store_error),
        }
    }

    /// Reopens the database: the old instance is closed first (an invalidated one closes
    /// without writing), then the file is opened read-write, or read-only if that fails,
    /// so that reads go on while the disk is full.
    fn reopen(&self) -> Result<(), StoreError> {
        let mut slot = self
            .instance
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = None;
        let opened = open::connect(&self.path, &self.options, AccessMode::ReadWrite);
        let (connection, read_only, failure) = match opened {
            Ok(connection) => (Some(connection), false, None),
            Err(error) => {
                let failure = open_failure(&self.place(), &error);
                match open::connect(&self.path, &self.options, AccessMode::ReadOnly) {
                    Ok(connection) => (Some(connection), true, Some(failure)),
                    Err(_) => (None, true, Some(failure)),
                }
            }
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.appends.fetch_add(1, Ordering::AcqRel);
        *slot = connection.map(|writer| Instance {
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            read_only,
        });
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn is_read_only(&self) -> bool {
        self.instance()
            .as_ref()
            .is_some_and(|instance| instance.read_only)
    }

    fn reopen_read_only(&self) {
        let mut slot = self
            .instance
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = None;
        match open::connect(&self.path, &self.options, AccessMode::ReadOnly) {
            Ok(writer) => {
                *slot = Some(Instance {
                    writer: Mutex::new(writer),
                    readers: Mutex::new(Vec::new()),
                    read_only: true,
                });
                tracing::info!(db = %self.place(), "serving reads from a read-only instance until writes can resume");
            }
            Err(error) => {
                tracing::error!(db = %self.place(), %error, "cannot open the database even read-only");
            }
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.appends.fetch_add(1, Ordering::AcqRel);
    }

    /// Brings the derived tables up to date when a commit may have left them behind. On a
    /// read-only instance (a full disk) they cannot be written: a query that needs them is
    /// refused with the fault while they are behind.
    fn derive_if_behind(&self) -> Result<(), StoreError> {
        let target = self.appends.load(Ordering::Acquire);
        if self.derived_appends.load(Ordering::Acquire) >= target {
            return Ok(());
        }
        if self.is_read_only() {
            if self.read(derive::behind)? {
                return Err(self.closed());
            }
        } else {
            let source = self.source();
            let started = Instant::now();
            let due = self.write(|conn| {
                Ok(derive::bring_up_to_date(
                    conn,
                    &source.select,
                    derive::Commits::Once,
                )?)
            })?;
            tracing::debug!(
                ?due,
                micros = started.elapsed().as_micros() as u64,
                "derived tables brought up to date"
            );
        }
        self.derived_appends.fetch_max(target, Ordering::AcqRel);
        Ok(())
    }

    /// The derived tables up to date when the scope's filters read them (a policy or text
    /// filter follows outcomes to their offers).
    fn derive_for(&self, scope: &Scope) -> Result<(), StoreError> {
        if scope.policy.is_some() || scope.policies.is_some() || scope.text.is_some() {
            self.derive_if_behind()?;
        }
        Ok(())
    }

    /// Streams the events of a query, at most `limit`, until `visit` returns false.
    fn each_event(
        &self,
        query: &EventsQuery,
        limit: i64,
        visit: &mut dyn FnMut(EventRecord) -> bool,
    ) -> Result<(), StoreError> {
        self.derive_for(&query.scope)?;
        let mut params = Vec::new();
        let text = match self.page_rows(query, limit)? {
            // A page: its row numbers from narrow columns, then those rows.
            Some(rows) => {
                if rows.is_empty() {
                    return Ok(());
                }
                let runs = sql::runs_of(rows);
                for run in &runs {
                    let bounds = [run.first(), run.last()].into_iter().flatten();
                    params.extend(bounds.chain(run).map(|row| Value::BigInt(*row)));
                }
                sql::events_at_rows(&self.source().select, query, &runs)
            }
            None => {
                let conditions = self.conditions(&query.scope)?;
                params = conditions.params;
                page_parameters(&mut params, query, limit);
                sql::events_page(&self.source().select, query, &conditions.sql)
            }
        };
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&text)?;
            let mut rows = statement.query(params_from_iter(params))?;
            while let Some(row) = rows.next()? {
                let ts: NaiveDateTime = row.get(1)?;
                let event = EventRecord {
                    id: row.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    ts: ts.and_utc(),
                    event: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    session_id: row.get(3)?,
                    agent_draft: row.get(4)?,
                    suggestion_used: row.get(5)?,
                    policy_refs: row.get(6)?,
                    latency_ms: row.get(7)?,
                    ab_test_bucket: row.get(8)?,
                    offer_id: row.get(9)?,
                };
                if !visit(event) {
                    break;
                }
            }
            Ok(())
        })
    }

    /// The row numbers of a page, chosen on the few columns its order and filters read
    /// (from the policy rows when they answer the scope): the texts are then read for
    /// these rows only. `None` for long exports, which are read directly.
    fn page_rows(&self, query: &EventsQuery, limit: i64) -> Result<Option<Vec<i64>>, StoreError> {
        const MAX_PAGE: i64 = 1_000;
        if limit > MAX_PAGE || latency_window(query) {
            return Ok(None);
        }
        let (source, conditions) = self.rows_of(&query.scope)?;
        let text = sql::page_rows(&source, query, &conditions.sql);
        let mut params = conditions.params;
        page_parameters(&mut params, query, limit);
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&text)?;
            let rows = statement.query_map(params_from_iter(params), |row| row.get(0))?;
            rows.collect::<Result<Vec<i64>, _>>().map(Some)
        })
    }

    /// Where a scope's rows are read from, and with which conditions.
    fn rows_of(&self, scope: &Scope) -> Result<(String, sql::Conditions), StoreError> {
        Ok(if uses_policy_rows(scope) {
            (
                policy_rows::SOURCE.to_owned(),
                sql::policy_row_conditions(scope),
            )
        } else {
            (self.source().select.clone(), self.conditions(scope)?)
        })
    }

    /// The conditions on the events table selecting a scope's rows.
    fn conditions(&self, scope: &Scope) -> Result<sql::Conditions, StoreError> {
        Ok(sql::conditions(scope, self.needle(scope)?.as_ref()))
    }

    /// The conditions on the suggestions selecting a scope's offers.
    fn suggestion_conditions(&self, scope: &Scope) -> Result<sql::Conditions, StoreError> {
        Ok(sql::suggestion_conditions(
            scope,
            self.needle(scope)?.as_ref(),
        ))
    }

    /// Reads a suggestion panel with `run`: from its groups (`grouped`, given the slice)
    /// when the scope selects every offer of a bucket, a policy, both or neither; else from
    /// the facts (`facts`, given the source and the scope's conditions).
    fn read_suggestions<T>(
        &self,
        scope: &Scope,
        facts: impl FnOnce(&str, sql::Conditions) -> (String, Vec<Value>),
        grouped: impl FnOnce(suggestion_groups::Slice<'_>) -> suggestion_groups::Grouped,
        run: impl FnOnce(&Connection, &str, Vec<Value>) -> duckdb::Result<T>,
    ) -> Result<T, StoreError> {
        self.derive_if_behind()?;
        let (mut query, mut params) =
            facts(&self.source().select, self.suggestion_conditions(scope)?);
        self.read(|conn| {
            if let Some(slice) = grouped_slice(scope) {
                let groups = grouped(slice);
                (query, params) = (groups.sql, groups.params);
            }
            run(conn, &query, params)
        })
    }

    /// A grouped query (`aggregate`'s or `policy_counts`') over the scope's rows and its
    /// parameters: the policy rows' form (`listed`) when they answer the scope, else the
    /// events' (`plain`).
    fn rows_query(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
        listed: fn(&str, &str, bool) -> String,
        plain: fn(&str, &str, bool) -> String,
    ) -> Result<(String, Vec<Value>), StoreError> {
        self.rows_query_and(scope, slot_seconds, listed, plain, None)
    }

    /// [`rows_query`](Self::rows_query) with a further condition on the rows.
    fn rows_query_and(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
        listed: fn(&str, &str, bool) -> String,
        plain: fn(&str, &str, bool) -> String,
        and: Option<sql::Conditions>,
    ) -> Result<(String, Vec<Value>), StoreError> {
        let (source, mut conditions) = self.rows_of(scope)?;
        if let Some(and) = and {
            conditions.sql = format!("({}) AND {}", conditions.sql, and.sql);
            conditions.params.extend(and.params);
        }
        let build = if uses_policy_rows(scope) {
            listed
        } else {
            plain
        };
        let query = build(&source, &conditions.sql, slot_seconds.is_some());
        Ok((query, with_slot(slot_seconds, conditions.params)))
    }

    /// A scope's rows (and those `and` selects), slotted, then grouped per bucket.
    fn rows_in_buckets(
        &self,
        scope: &Scope,
        slot_seconds: i64,
        starts: &[i64],
        and: Option<sql::Conditions>,
    ) -> Result<Vec<GroupRow>, StoreError> {
        let (slotted, mut params) = self.rows_query_and(
            scope,
            Some(slot_seconds),
            sql::binned_aggregate,
            sql::aggregate,
            and,
        )?;
        let (query, bucket_params) = sql::in_buckets(&slotted, starts, slot_seconds);
        params.extend(bucket_params);
        self.query_rows(&query, params, sql::group_row)
    }

    fn query_rows<T>(
        &self,
        query: &str,
        params: Vec<Value>,
        row: fn(&duckdb::Row<'_>) -> duckdb::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(query)?;
            let rows = statement.query_map(params_from_iter(params), row)?;
            rows.collect::<Result<_, _>>()
        })
    }

    /// The count of a scope whose only filters are one word and a range, from the word
    /// index: its query and parameters.
    fn counted_from_words(
        &self,
        scope: &Scope,
    ) -> Result<Option<(String, Vec<Value>)>, StoreError> {
        if !words::text_and_range_only(scope) {
            return Ok(None);
        }
        let Some(needle) = self.needle(scope)? else {
            return Ok(None);
        };
        let source = self.source();
        Ok(words::count(scope, &needle, |edge| {
            let conditions = sql::conditions(edge, Some(&needle));
            (
                sql::count(&source.select, &conditions.sql),
                conditions.params,
            )
        }))
    }

    /// The scope's text filter resolved against the word index.
    fn needle(&self, scope: &Scope) -> Result<Option<words::Needle>, StoreError> {
        let Some(text) = &scope.text else {
            return Ok(None);
        };
        self.read(|conn| words::needle(conn, text).map(Some))
    }

    fn source(&self) -> Arc<Source> {
        self.source
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Adds `offer_id` to a table in the note's format, the first time an event names its
    /// offer.
    fn add_offer_id_column(&self) -> Result<(), StoreError> {
        self.write(|conn| {
            conn.execute_batch(schema::ADD_OFFER_ID)?;
            let source = schema::inspect(conn)
                .map_err(|message| WriteFailure::Refused(StoreError::Database(message)))?
                .ok_or_else(|| {
                    WriteFailure::Refused(StoreError::Database("the table disappeared".into()))
                })?;
            *self
                .source
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(source);
            tracing::info!(db = %self.place(), "added column offer_id to coach_events");
            Ok(())
        })
    }
}

/// How a write failed: DuckDB's error (classified by `write`), or ours.
enum WriteFailure {
    Database(duckdb::Error),
    Refused(StoreError),
}

impl From<duckdb::Error> for WriteFailure {
    fn from(error: duckdb::Error) -> Self {
        Self::Database(error)
    }
}

/// The error of a failed reopen, as requests see it.
fn open_failure(place: &str, error: &OpenError) -> StoreError {
    let message = error.to_string();
    match faults::classify(&message) {
        faults::Fault::DiskFull => StoreError::DiskFull {
            place: place.to_owned(),
            detail: message,
        },
        _ => StoreError::Unavailable(format!("{place} could not be reopened: {message}")),
    }
}

/// Events as an Arrow batch of the table's exact column types, its first `width` columns.
fn record_batch(events: &[StoredEvent], width: usize) -> Result<RecordBatch, WriteFailure> {
    let text = |pick: fn(&StoredEvent) -> Option<&str>| -> ArrayRef {
        Arc::new(events.iter().map(pick).collect::<StringArray>())
    };
    let columns: Vec<ArrayRef> = vec![
        text(|e| Some(e.id.as_str())),
        Arc::new(
            events
                .iter()
                .map(|e| Some(e.ts.and_utc().timestamp_micros()))
                .collect::<TimestampMicrosecondArray>(),
        ),
        text(|e| Some(e.event.as_str())),
        text(|e| e.session_id.as_deref()),
        text(|e| e.agent_draft.as_deref()),
        text(|e| e.suggestion_used.as_deref()),
        text(|e| e.policy_refs.as_deref()),
        Arc::new(
            events
                .iter()
                .map(|e| e.latency_ms.map(|ms| i32::try_from(ms).unwrap_or(i32::MAX)))
                .collect::<Int32Array>(),
        ),
        text(|e| e.ab_test_bucket.as_deref()),
        text(|e| e.offer_id.as_deref()),
    ];
    let columns: Vec<ArrayRef> = columns.into_iter().take(width).collect();
    let fields: Vec<Field> = schema::COLUMNS
        .iter()
        .zip(&columns)
        .map(|(name, column)| Field::new(*name, column.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|error| {
        WriteFailure::Refused(StoreError::Rejected(format!(
            "cannot lay out the batch: {error}"
        )))
    })
}

/// A write the table itself refuses (a constraint or type of the user's schema) is the
/// client's conflict, not a server fault.
fn rejected_by_table(error: &duckdb::Error) -> Option<StoreError> {
    let message = error.to_string();
    let lower = message.to_lowercase();
    let refused = [
        "constraint",
        "conversion",
        "could not convert",
        "failed to append",
        "invalid input",
        "out of range",
    ]
    .iter()
    .any(|kind| lower.contains(kind));
    refused.then(|| StoreError::Rejected(message.lines().next().unwrap_or_default().to_owned()))
}

/// When a scope selects every offer of one bucket, one policy, both or neither (its
/// `event` filter applies after the store answers), that slice: the suggestion groups
/// answer it.
fn grouped_slice(scope: &Scope) -> Option<suggestion_groups::Slice<'_>> {
    let Scope {
        from: None,
        to: None,
        session_id: None,
        policies: None,
        text: None,
        rows: None,
        latency: None,
        bucket,
        policy,
        ..
    } = scope
    else {
        return None;
    };
    Some(suggestion_groups::Slice {
        bucket: bucket.as_deref(),
        policy: policy.as_deref(),
    })
}

/// True when a scope's only filter through offers is a policy: the policy rows answer it.
fn uses_policy_rows(scope: &Scope) -> bool {
    scope.policy.is_some() && scope.policies.is_none() && scope.text.is_none()
}

/// The keyset cursor, limit and offset of a page, after its conditions' parameters.
fn page_parameters(params: &mut Vec<Value>, query: &EventsQuery, limit: i64) {
    if let Some((ts, id)) = &query.after {
        params.extend([timestamp(*ts), timestamp(*ts), Value::Text(id.clone())]);
    }
    params.push(Value::BigInt(limit));
    params.push(Value::BigInt(query.offset.min(i64::MAX as u64) as i64));
}

/// A page sorted by latency within the latency bounds the roll-up gave it (few rows, all
/// over the table): one query reads them whole. Fetching them by row number cost a
/// decompressed vector per row (10M events: 190 ms for 100 rows, against ~90 ms).
fn latency_window(query: &EventsQuery) -> bool {
    query.sort == SortKey::LatencyMs
        && query.scope.latency.is_some()
        && !uses_policy_rows(&query.scope)
}

fn with_slot(slot_seconds: Option<i64>, params: Vec<Value>) -> Vec<Value> {
    match slot_seconds {
        Some(seconds) => std::iter::once(Value::BigInt(seconds))
            .chain(params)
            .collect(),
        None => params,
    }
}

fn optional_text(value: &Option<String>) -> Value {
    value.clone().map_or(Value::Null, Value::Text)
}

impl EventStore for DuckDbStore {
    fn aggregate(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
    ) -> Result<Vec<GroupRow>, StoreError> {
        self.derive_for(scope)?;
        let (query, params) = match policy_hours::aggregate(scope, slot_seconds, None) {
            Some(grouped) => (grouped.sql, grouped.params),
            None => self.rows_query(scope, slot_seconds, sql::binned_aggregate, sql::aggregate)?,
        };
        self.query_rows(&query, params, sql::group_row)
    }

    fn aggregate_in_buckets(
        &self,
        scope: &Scope,
        slot_seconds: i64,
        starts: &[i64],
    ) -> Result<Vec<GroupRow>, StoreError> {
        self.derive_for(scope)?;
        // The policy hours go straight to the buckets; rows are slotted, then bucketed.
        if let Some(grouped) = policy_hours::aggregate(scope, Some(slot_seconds), Some(starts)) {
            return self.query_rows(&grouped.sql, grouped.params, sql::group_row);
        }
        self.rows_in_buckets(scope, slot_seconds, starts, None)
    }

    fn aggregate_in_hours(
        &self,
        scope: &Scope,
        hours: &[i64],
        slot_seconds: i64,
        starts: &[i64],
    ) -> Result<Vec<GroupRow>, StoreError> {
        self.derive_for(scope)?;
        // One query for every hour (a query per hour of 90 days took 2 s).
        let in_hours = sql::Conditions {
            sql: format!(
                "{} IN ({})",
                sql::hour_of("ts"),
                sql::placeholders(hours.len())
            ),
            params: hours.iter().map(|hour| Value::BigInt(*hour)).collect(),
        };
        self.rows_in_buckets(scope, slot_seconds, starts, Some(in_hours))
    }

    fn policy_counts(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
    ) -> Result<Vec<PolicyRow>, StoreError> {
        self.derive_for(scope)?;
        let (query, params) = match policy_hours::policy_counts(scope, slot_seconds) {
            Some(grouped) => (grouped.sql, grouped.params),
            None => self.rows_query(
                scope,
                slot_seconds,
                sql::listed_policy_counts,
                sql::policy_counts,
            )?,
        };
        self.query_rows(&query, params, sql::policy_row)
    }

    fn count(&self, scope: &Scope) -> Result<u64, StoreError> {
        self.derive_for(scope)?;
        let (query, params) = match policy_hours::aggregate(scope, None, None) {
            Some(grouped) => (
                format!("SELECT coalesce(sum(n), 0)::BIGINT FROM ({})", grouped.sql),
                grouped.params,
            ),
            None => match self.counted_from_words(scope)? {
                Some(counted) => counted,
                None => {
                    let (source, conditions) = self.rows_of(scope)?;
                    (sql::count(&source, &conditions.sql), conditions.params)
                }
            },
        };
        self.read(|conn| {
            let count: i64 = conn.query_row(&query, params_from_iter(params), |row| row.get(0))?;
            Ok(count as u64)
        })
    }

    fn hour_counts(&self, scope: &Scope) -> Result<Option<Vec<(i64, u64)>>, StoreError> {
        // Before the text filter is resolved: its words are listed from the vocabulary.
        self.derive_for(scope)?;
        let (query, params) = match policy_hours::hour_counts(scope) {
            Some(query) => (query.sql, query.params),
            None if !words::text_and_range_only(scope) => return Ok(None),
            None => {
                let needle = self.needle(scope)?;
                match needle.and_then(|needle| words::hour_counts(scope, &needle)) {
                    Some(query) => query,
                    None => return Ok(None),
                }
            }
        };
        let counts = self.query_rows(&query, params, |row| {
            Ok((row.get(0)?, row.get::<_, i64>(1)? as u64))
        })?;
        Ok(Some(counts))
    }

    fn latency_bins(&self, scope: &Scope) -> Result<Option<LatencyBins>, StoreError> {
        let Some((query, every_row)) = policy_hours::latency_bins(scope) else {
            return Ok(None);
        };
        self.derive_for(scope)?;
        let bins = self.query_rows(&query.sql, query.params, |row| {
            Ok((row.get::<_, i64>(0)? as u16, row.get::<_, i64>(1)? as u64))
        })?;
        Ok(Some(LatencyBins { bins, every_row }))
    }

    fn suggestions(
        &self,
        scope: &Scope,
        unanswered_before: NaiveDateTime,
    ) -> Result<Vec<SuggestionRow>, StoreError> {
        let cut_off = unanswered_before.and_utc().timestamp_micros();
        let facts = |source: &str, conditions: sql::Conditions| {
            let mut params = conditions.params;
            params.push(timestamp(unanswered_before));
            (sql::suggestions(source, &conditions.sql), params)
        };
        let grouped =
            |slice: suggestion_groups::Slice<'_>| suggestion_groups::suggestions(slice, cut_off);
        self.read_suggestions(scope, facts, grouped, |conn, query, params| {
            let mut statement = conn.prepare_cached(query)?;
            let rows = statement.query_map(params_from_iter(params), |row| {
                Ok(SuggestionRow {
                    bucket: row.get(0)?,
                    outcome: row.get(1)?,
                    inferred: row.get(2)?,
                    answered_again: row.get(3)?,
                    unanswered: row.get(4)?,
                    decision_bin: row.get::<_, Option<i64>>(5)?.map(|bin| bin as u16),
                    touches_policy: row.get(6)?,
                    count: row.get::<_, i64>(7)? as u64,
                })
            })?;
            rows.collect::<Result<_, _>>()
        })
    }

    fn policy_outcomes(&self, scope: &Scope) -> Result<Vec<PolicyOutcomeRow>, StoreError> {
        let facts = |source: &str, conditions: sql::Conditions| {
            (
                sql::policy_outcomes(source, &conditions.sql),
                conditions.params,
            )
        };
        self.read_suggestions(
            scope,
            facts,
            suggestion_groups::policy_outcomes,
            |conn, query, params| {
                let mut statement = conn.prepare_cached(query)?;
                let rows = statement.query_map(params_from_iter(params), |row| {
                    Ok(PolicyOutcomeRow {
                        policy: row.get(0)?,
                        outcome: row.get(1)?,
                        count: row.get::<_, i64>(2)? as u64,
                    })
                })?;
                rows.collect::<Result<_, _>>()
            },
        )
    }

    fn rewrite_outcomes(&self, scope: &Scope) -> Result<Vec<RewriteRow>, StoreError> {
        let facts = |source: &str, conditions: sql::Conditions| {
            (
                sql::rewrite_outcomes(source, &conditions.sql),
                conditions.params,
            )
        };
        self.read_suggestions(
            scope,
            facts,
            suggestion_groups::rewrite_outcomes,
            |conn, query, params| {
                let mut statement = conn.prepare_cached(query)?;
                let rows = statement.query_map(params_from_iter(params), |row| {
                    Ok(RewriteRow {
                        band: row
                            .get::<_, Option<i64>>(0)?
                            .map(|band| band.clamp(0, 9) as u8),
                        outcome: row.get(1)?,
                        count: row.get::<_, i64>(2)? as u64,
                    })
                })?;
                rows.collect::<Result<_, _>>()
            },
        )
    }

    fn session_links(&self, session_id: &str) -> Result<Vec<(String, String, bool)>, StoreError> {
        self.derive_if_behind()?;
        let query = sql::session_links(&self.source().select);
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&query)?;
            let rows = statement.query_map([session_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
            rows.collect::<Result<_, _>>()
        })
    }

    fn multiple_exposure(&self, scope: &Scope) -> Result<(u64, u64), StoreError> {
        let facts = |source: &str, conditions: sql::Conditions| {
            (
                sql::multiple_exposure(source, &conditions.sql),
                conditions.params,
            )
        };
        self.read_suggestions(
            scope,
            facts,
            suggestion_groups::multiple_exposure,
            |conn, query, params| {
                conn.query_row(query, params_from_iter(params), |row| {
                    Ok((row.get::<_, i64>(0)? as u64, row.get::<_, i64>(1)? as u64))
                })
            },
        )
    }

    fn events(&self, query: &EventsQuery) -> Result<Vec<EventRecord>, StoreError> {
        let mut events = Vec::with_capacity(query.limit as usize);
        self.each_event(query, i64::from(query.limit), &mut |event| {
            events.push(event);
            true
        })?;
        Ok(events)
    }

    fn export(
        &self,
        query: &EventsQuery,
        visit: &mut dyn FnMut(EventRecord) -> bool,
    ) -> Result<(), StoreError> {
        self.each_event(query, i64::MAX, visit)
    }

    fn stored_rollup(
        &self,
        extent: &Extent,
        visit: &mut dyn FnMut(StoredGroup<'_>),
    ) -> Result<bool, StoreError> {
        self.derive_if_behind()?;
        self.read(|conn| {
            // One snapshot: the state the groups were derived from, then the groups.
            conn.execute_batch("BEGIN TRANSACTION")?;
            let read = derive::state(conn).and_then(|state| {
                let describes = state.is_some_and(|(rows, last_row)| {
                    (rows.max(0) as u64, last_row) == (extent.total, extent.last_row)
                });
                if describes {
                    rollup::read(conn, visit)?;
                }
                Ok(describes)
            });
            let _ = conn.execute_batch("ROLLBACK");
            read
        })
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.execute_batch("SELECT 1"))
    }

    fn extent(&self) -> Result<Extent, StoreError> {
        let query = sql::extent(&self.source().select);
        self.read(|conn| {
            conn.query_row(&query, [], |row| {
                Ok(Extent {
                    total: row.get::<_, i64>(0)? as u64,
                    first: row.get(1)?,
                    last: row.get(2)?,
                    last_row: row.get(3)?,
                })
            })
        })
    }

    fn derived_file(&self, suffix: &str) -> Option<PathBuf> {
        Some(beside(&self.path, suffix))
    }

    fn stored_ids(&self, candidates: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        for chunk in candidates.chunks(1000) {
            let query = sql::stored_ids(&self.source().select, chunk.len());
            self.read(|conn| {
                let mut statement = conn.prepare_cached(&query)?;
                let rows = statement.query_map(params_from_iter(chunk.iter()), |row| {
                    row.get::<_, String>(0)
                })?;
                for id in rows {
                    found.insert(id?);
                }
                Ok(())
            })?;
        }
        Ok(found)
    }

    fn scan_ids(&self, scope: &Scope, visit: &mut dyn FnMut(&str)) -> Result<(), StoreError> {
        self.derive_for(scope)?;
        let conditions = self.conditions(scope)?;
        let query = sql::ids(&self.source().select, &conditions.sql);
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&query)?;
            let mut rows = statement.query(params_from_iter(conditions.params))?;
            while let Some(row) = rows.next()? {
                let id: duckdb::types::ValueRef = row.get_ref(0)?;
                if let Ok(text) = id.as_str() {
                    visit(text);
                }
            }
            Ok(())
        })
    }

    fn insert(&self, events: &[StoredEvent]) -> Result<(), StoreError> {
        if events.iter().any(|event| event.offer_id.is_some())
            && !self.source().writable.contains(&"offer_id")
        {
            self.add_offer_id_column()?;
        }
        let source = self.source();
        let outcome = self.write(|conn| {
            conn.execute_batch("BEGIN TRANSACTION")?;
            match append(conn, &source, events) {
                Ok(()) => Ok(conn.execute_batch("COMMIT")),
                Err(error) => {
                    // The transaction holds the only trace of the failed batch; dropping it
                    // keeps the request all-or-nothing.
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(error)
                }
            }
        })?;
        // Whatever the commit reports, the derived tables are checked before the next read.
        self.appends.fetch_add(1, Ordering::AcqRel);
        // The commit itself: DuckDB may report a durable commit whose checkpoint failed.
        match outcome {
            Ok(()) => Ok(()),
            Err(error)
                if faults::classify(&error.to_string()) == faults::Fault::DurableButBroken =>
            {
                // Stored: acknowledge it, and reopen before the next write.
                self.mark_broken(self.error(&error));
                Ok(())
            }
            Err(error) => Err(self.write_error(&error)),
        }
    }

    fn annotations(
        &self,
        from: Option<NaiveDateTime>,
        to: Option<NaiveDateTime>,
    ) -> Result<Vec<Annotation>, StoreError> {
        self.read(|conn| annotations::in_range(conn, from, to))
    }

    fn add_annotation(&self, annotation: &Annotation) -> Result<(), StoreError> {
        self.write(|conn| Ok(annotations::insert(conn, annotation)?))
    }

    fn delete_annotation(&self, id: &str) -> Result<bool, StoreError> {
        self.write(|conn| Ok(annotations::delete(conn, id)?))
    }

    fn settle(&self) -> Result<(), StoreError> {
        self.derive_if_behind()
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        self.write(|conn| Ok(conn.execute_batch("CHECKPOINT")?))
    }

    fn health(&self) -> Result<(), StoreError> {
        match lock(&self.fault).as_ref() {
            Some(broken) => Err(broken.error.clone()),
            None => Ok(()),
        }
    }

    fn recover(&self) -> Result<bool, StoreError> {
        {
            let mut fault = lock(&self.fault);
            let Some(broken) = fault.as_mut() else {
                return Ok(false);
            };
            if broken.last_attempt.elapsed() < REOPEN_EVERY {
                return Err(broken.error.clone());
            }
            broken.last_attempt = Instant::now();
            if matches!(broken.error, StoreError::DiskFull { .. })
                && free_space(&self.path).is_some_and(|free| free < SPACE_TO_RESUME)
            {
                let error = broken.error.clone();
                drop(fault);
                // Still full. The instance that hit the full disk may be invalidated (a failed
                // checkpoint is fatal to DuckDB): reads move to a read-only instance, which
                // needs no space, until writes can resume.
                if !self.is_read_only() {
                    self.reopen_read_only();
                }
                return Err(error);
            }
        }
        match self.reopen() {
            Ok(()) => {
                *lock(&self.fault) = None;
                tracing::info!(db = %self.place(), "database reopened: writes resume");
                Ok(true)
            }
            Err(error) => {
                tracing::warn!(db = %self.place(), %error, "reopen failed; reads go on, writes wait");
                if let Some(broken) = lock(&self.fault).as_mut() {
                    broken.error = error.clone();
                }
                Err(error)
            }
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn backup(&self, to: &Path) -> Result<(), StoreError> {
        // With the writer held no write can start; after the checkpoint the file alone
        // holds every committed event, and readers never change it: a byte copy is
        // consistent.
        self.write(|conn| {
            conn.execute_batch("CHECKPOINT")?;
            std::fs::copy(&self.path, to)
                .map_err(|error| WriteFailure::Refused(backup_error(&self.place(), to, &error)))?;
            Ok(())
        })
    }

    fn size_bytes(&self) -> u64 {
        let size = |path: &Path| std::fs::metadata(path).map_or(0, |meta| meta.len());
        size(&self.path) + size(&wal_path(&self.path))
    }
}

/// Appends a batch inside the open transaction, by the fastest way the table allows.
fn append(conn: &Connection, source: &Source, events: &[StoredEvent]) -> Result<(), WriteFailure> {
    let columns = &source.writable;
    if let [event] = events {
        // One event: a prepared INSERT is cheaper than an appender.
        let mut statement = conn.prepare_cached(&sql::insert_one(columns))?;
        statement.execute(duckdb::params_from_iter(values(columns, event)))?;
        return Ok(());
    }
    let mut appender = conn.appender_with_columns(schema::TABLE, columns)?;
    if source.exact {
        // The table this API creates, or the note's: whole columns at once, far faster than
        // rows.
        appender.append_record_batch(record_batch(events, columns.len())?)?;
    } else {
        for event in events {
            appender.append_row(duckdb::appender_params_from_iter(values(columns, event)))?;
        }
    }
    // Flush explicitly: dropping an appender swallows its errors.
    appender.flush()?;
    Ok(())
}

/// An event's values for the table's `columns`.
fn values(columns: &[&str], event: &StoredEvent) -> Vec<Value> {
    columns
        .iter()
        .map(|column| match *column {
            "id" => Value::Text(event.id.clone()),
            "ts" => timestamp(event.ts),
            "event" => Value::Text(event.event.clone()),
            "session_id" => optional_text(&event.session_id),
            "agent_draft" => optional_text(&event.agent_draft),
            "suggestion_used" => optional_text(&event.suggestion_used),
            "policy_refs" => optional_text(&event.policy_refs),
            "latency_ms" => event.latency_ms.map_or(Value::Null, Value::BigInt),
            "offer_id" => optional_text(&event.offer_id),
            _ => optional_text(&event.ab_test_bucket),
        })
        .collect()
}

fn wal_path(path: &Path) -> PathBuf {
    beside(path, "wal")
}

/// `<path>.<suffix>`: a file that belongs to the database at `path`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Bytes free for unprivileged writers on the filesystem holding `path`.
fn free_space(path: &Path) -> Option<u64> {
    let folder = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty());
    let stats = rustix::fs::statvfs(folder.unwrap_or(Path::new("."))).ok()?;
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

fn backup_error(place: &str, to: &Path, error: &std::io::Error) -> StoreError {
    let detail = format!("cannot write {}: {error}", to.display());
    if error.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error()) {
        StoreError::DiskFull {
            place: format!("the backup of {place}"),
            detail,
        }
    } else {
        StoreError::Database(detail)
    }
}

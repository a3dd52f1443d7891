//! The DuckDB implementation of [`EventStore`]: one database opened once per process, a
//! writer connection and a pool of cloned reader connections.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use coachboard_contract::EventRecord;
use duckdb::arrow::array::{ArrayRef, Int32Array, StringArray, TimestampMicrosecondArray};
use duckdb::arrow::datatypes::{Field, Schema};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::types::Value;
use duckdb::{Config, Connection, params_from_iter};

use super::open::OpenError;
use super::schema::{self, Source};
use super::sql::{self, timestamp};
use super::{EventStore, EventsQuery, Extent, GroupRow, PolicyRow, Scope, StoreError, StoredEvent};

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
    source: Source,
    writer: Mutex<Connection>,
    /// Idle reader connections, cloned from the writer: one database instance for all.
    readers: Mutex<Vec<Connection>>,
}

impl DuckDbStore {
    /// Opens (or creates) the database file. Fails at once, with a message naming the
    /// holder, when another process has the file open.
    pub fn open(path: &Path, options: &StoreOptions) -> Result<Self, OpenError> {
        if let Some(folder) = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(|source| OpenError::Folder {
                path: path.to_owned(),
                source,
            })?;
        }
        let as_open_error = |error: duckdb::Error| OpenError::from_duckdb(path, &error);
        let config = Config::default()
            .threads(options.threads.max(1) as i64)
            .and_then(|config| config.max_memory(&options.memory_limit))
            .map_err(as_open_error)?;
        let writer = Connection::open_with_flags(path, config).map_err(as_open_error)?;
        let schema_error = |error: StoreError| OpenError::Schema {
            path: path.to_owned(),
            message: error.to_string(),
        };
        schema::ensure_table(&writer).map_err(schema_error)?;
        let source = schema::inspect(&writer).map_err(schema_error)?;
        Ok(Self {
            path: path.to_owned(),
            source,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the table has the note's column types exactly.
    pub fn native_schema(&self) -> bool {
        self.source.native
    }

    /// Runs `work` on an idle reader connection, cloning a new one when none is idle.
    fn read<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self
                .writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .try_clone()?,
        };
        let result = work(&connection);
        self.readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(connection);
        result
    }

    fn source(&self) -> &str {
        &self.source.select
    }

    /// Streams the events of a query, at most `limit`, until `visit` returns false.
    fn each_event(
        &self,
        query: &EventsQuery,
        limit: i64,
        visit: &mut dyn FnMut(EventRecord) -> bool,
    ) -> Result<(), StoreError> {
        let conditions = sql::conditions(&query.scope);
        let text = sql::events_page(self.source(), query, &conditions.sql);
        let mut params = conditions.params;
        if let Some((ts, id)) = &query.after {
            params.extend([timestamp(*ts), timestamp(*ts), Value::Text(id.clone())]);
        }
        params.push(Value::BigInt(limit));
        params.push(Value::BigInt(query.offset.min(i64::MAX as u64) as i64));
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
                };
                if !visit(event) {
                    break;
                }
            }
            Ok(())
        })
    }
}

type Row<'a> = (
    &'a String,
    NaiveDateTime,
    &'a String,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    Option<i64>,
    &'a Option<String>,
);

/// An event's values in the note's column order, by reference.
fn row(event: &StoredEvent) -> Row<'_> {
    (
        &event.id,
        event.ts,
        &event.event,
        &event.session_id,
        &event.agent_draft,
        &event.suggestion_used,
        &event.policy_refs,
        event.latency_ms,
        &event.ab_test_bucket,
    )
}

/// Events as an Arrow batch of the table's exact column types.
fn record_batch(events: &[StoredEvent]) -> Result<RecordBatch, StoreError> {
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
    ];
    let fields: Vec<Field> = schema::COLUMNS
        .iter()
        .zip(&columns)
        .map(|(name, column)| Field::new(*name, column.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|error| StoreError::Rejected(format!("cannot lay out the batch: {error}")))
}

/// A write the table itself refuses (a constraint or type of the user's schema) is the
/// client's conflict, not a server fault.
fn rejected_by_table(error: StoreError) -> StoreError {
    match error {
        StoreError::Database(inner) => {
            let message = inner.to_string();
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
            if refused {
                StoreError::Rejected(message.lines().next().unwrap_or_default().to_owned())
            } else {
                StoreError::Database(inner)
            }
        }
        other => other,
    }
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
        let conditions = sql::conditions(scope);
        let query = sql::aggregate(self.source(), &conditions.sql, slot_seconds.is_some());
        let params = with_slot(slot_seconds, conditions.params);
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&query)?;
            let rows = statement.query_map(params_from_iter(params), |row| {
                Ok(GroupRow {
                    slot: row.get(0)?,
                    bucket: row.get(1)?,
                    event: row.get(2)?,
                    bin: row.get::<_, Option<i64>>(3)?.map(|bin| bin as u16),
                    count: row.get::<_, i64>(4)? as u64,
                    latency_sum: row.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn policy_counts(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
    ) -> Result<Vec<PolicyRow>, StoreError> {
        let conditions = sql::conditions(scope);
        let query = sql::policy_counts(self.source(), &conditions.sql, slot_seconds.is_some());
        let params = with_slot(slot_seconds, conditions.params);
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&query)?;
            let rows = statement.query_map(params_from_iter(params), |row| {
                Ok(PolicyRow {
                    slot: row.get(0)?,
                    bucket: row.get(1)?,
                    event: row.get(2)?,
                    policy: row.get(3)?,
                    count: row.get::<_, i64>(4)? as u64,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn count(&self, scope: &Scope) -> Result<u64, StoreError> {
        let conditions = sql::conditions(scope);
        let query = sql::count(self.source(), &conditions.sql);
        self.read(|conn| {
            let count: i64 =
                conn.query_row(&query, params_from_iter(conditions.params), |row| {
                    row.get(0)
                })?;
            Ok(count as u64)
        })
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

    fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| Ok(conn.execute_batch("SELECT 1")?))
    }

    fn extent(&self) -> Result<Extent, StoreError> {
        let query = sql::extent(self.source());
        self.read(|conn| {
            Ok(conn.query_row(&query, [], |row| {
                Ok(Extent {
                    total: row.get::<_, i64>(0)? as u64,
                    first: row.get(1)?,
                    last: row.get(2)?,
                    last_row: row.get(3)?,
                })
            })?)
        })
    }

    fn stored_ids(&self, candidates: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        for chunk in candidates.chunks(1000) {
            let query = sql::stored_ids(self.source(), chunk.len());
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
        let conditions = sql::conditions(scope);
        let query = sql::ids(self.source(), &conditions.sql);
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
        let conn = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let [event] = events
            && self.source.writable.as_slice() == schema::COLUMNS
        {
            // One event: one prepared INSERT is its own transaction, cheaper than an appender.
            let mut statement = conn.prepare_cached(sql::INSERT_ONE)?;
            return statement
                .execute(row(event))
                .map(|_| ())
                .map_err(|error| rejected_by_table(StoreError::Database(error)));
        }
        conn.execute_batch("BEGIN TRANSACTION")?;
        let appended = (|| -> Result<(), StoreError> {
            let columns = &self.source.writable;
            let mut appender = conn.appender_with_columns(schema::TABLE, columns)?;
            if self.source.exact {
                // The table this API creates: whole columns at once, far faster than rows.
                appender.append_record_batch(record_batch(events)?)?;
                appender.flush()?;
                return Ok(());
            }
            if columns.as_slice() == schema::COLUMNS {
                // The note's table: every column in order, appended by reference.
                for event in events {
                    appender.append_row(row(event))?;
                }
                appender.flush()?;
                return Ok(());
            }
            for event in events {
                let row: Vec<Value> = columns
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
                        _ => optional_text(&event.ab_test_bucket),
                    })
                    .collect();
                appender.append_row(duckdb::appender_params_from_iter(row))?;
            }
            // Flush explicitly: dropping an appender swallows its errors.
            appender.flush()?;
            Ok(())
        })();
        match appended {
            Ok(()) => {
                conn.execute_batch("COMMIT")?;
                Ok(())
            }
            Err(error) => {
                // The transaction holds the only trace of the failed batch; dropping it keeps
                // the request all-or-nothing.
                let _ = conn.execute_batch("ROLLBACK");
                Err(rejected_by_table(error))
            }
        }
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        let conn = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        conn.execute_batch("CHECKPOINT")?;
        Ok(())
    }
}

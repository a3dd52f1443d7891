//! The ClickHouse implementation of [`EventStore`]: a sharded, replicated cluster that any
//! number of API replicas share. The API keeps no state of its own here; every answer is
//! ClickHouse's. The SQL is in `sql.rs` (reads), `schema.rs` (tables and views) and, for the
//! links and suggestions, `pairing.rs`; rows in `rows.rs`.
//!
//! The `clickhouse` crate is async; the store trait blocks. Each call runs on a small runtime
//! of the ClickHouse client's own (one per process, never dropped) and the caller waits on a
//! channel, so it works from any thread, inside a Tokio runtime or not.

mod annotations;
mod config;
mod links;
mod pages;
mod pairing;
mod rollup;
mod rows;
mod schema;
mod split_hours;
mod sql;
mod unsettled;

use std::collections::HashSet;
use std::future::Future;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::NaiveDateTime;
use clickhouse::Client;
use coachboard_contract::{Annotation, EventRecord};

pub use config::{ClickHouseConfig, ConfigError, EnvCredentials};
use rows::{
    ColumnFields, EventRow, ExtentFields, GroupFields, HourEnds, InsertRow, InstantFields,
    PolicyFields,
};
use sql::{Arg, Statement};

use crate::rollup::HOUR;

use super::{
    EventStore, EventsQuery, Extent, GroupRow, PolicyOutcomeRow, PolicyRow, RewriteRow, Scope,
    StoreError, StoredEvent, StoredGroup, SuggestionRow,
};

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ClickHouseOpenError {
    #[error("the ClickHouse store URL: {0}")]
    Config(#[from] ConfigError),
    #[error("cannot start the ClickHouse client: {0}")]
    Runtime(#[from] std::io::Error),
    #[error("cannot reach the cluster at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the cluster refused to create the tables: {0}")]
    Schema(String),
    #[error(
        "{database}.{table} on the cluster is not a table this API understands ({detail}); \
         it is left untouched: use another database in the URL"
    )]
    UnknownSchema {
        database: String,
        table: String,
        detail: String,
    },
}

pub struct ClickHouseStore {
    config: ClickHouseConfig,
    /// The servers the API may talk to, the URL's first; each with a client per user.
    servers: Vec<Server>,
    /// The server that answered last: tried first.
    preferred: AtomicUsize,
    runtime: tokio::runtime::Handle,
    /// Orders the rows this process writes at the same instant.
    seq: AtomicU64,
    /// The unsettled hours this process knows of (`unsettled.rs`).
    unsettled: unsettled::Marks,
}

/// The runtime every ClickHouse store of the process runs its requests on.
fn client_runtime() -> std::io::Result<tokio::runtime::Handle> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("clickhouse-client")
                .enable_all()
                .build()
                .map_err(|error| error.to_string())
        })
        .as_ref()
        .map(|runtime| runtime.handle().clone())
        .map_err(|error| std::io::Error::other(error.clone()))
}

struct Server {
    writer: Client,
    reader: Client,
}

/// Which user a statement runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// DDL, inserts, and reads of system tables through table functions.
    Writer,
    /// Every other read (`readonly` on the server).
    Reader,
}

/// How long a statement may take before the store reports the cluster unavailable.
const QUERY_TIMEOUT: Duration = Duration::from_secs(60);

fn client(url: &str, config: &ClickHouseConfig, user: &config::Credentials) -> Client {
    Client::default()
        .with_url(url)
        .with_database(&config.database)
        .with_user(&user.user)
        .with_password(&user.password)
        .with_validation(false)
}

impl ClickHouseStore {
    /// Connects, creates the tables where missing (on every server of the cluster) and
    /// checks that existing ones are ours.
    pub fn open(config: ClickHouseConfig) -> Result<Self, ClickHouseOpenError> {
        let runtime = client_runtime()?;
        let store = Self {
            servers: std::iter::once(&config.http_url)
                .chain(&config.fallbacks)
                .map(|url| Server {
                    writer: client(url, &config, &config.writer),
                    reader: client(url, &config, &config.reader),
                })
                .collect(),
            preferred: AtomicUsize::new(0),
            config,
            runtime,
            seq: AtomicU64::new(0),
            unsettled: unsettled::Marks::default(),
        };
        store.create_schema()?;
        Ok(store)
    }

    pub fn config(&self) -> &ClickHouseConfig {
        &self.config
    }

    fn create_schema(&self) -> Result<(), ClickHouseOpenError> {
        let (db, cluster) = (&self.config.database, &self.config.cluster);
        // The server's default database: ours may not exist yet.
        self.run(Role::Writer, |client| {
            let admin = client.with_database("system");
            async move { admin.query("SELECT 1").execute().await }
        })
        .map_err(|error| ClickHouseOpenError::Unreachable {
            url: std::iter::once(&self.config.http_url)
                .chain(&self.config.fallbacks)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            detail: error.to_string(),
        })?;
        let statements = [
            schema::create_database(db, cluster),
            schema::create_local(db, cluster),
            schema::create_distributed(db, cluster),
            schema::create_links_local(db, cluster),
            schema::create_links(db, cluster),
        ]
        .into_iter()
        .chain(schema::create_derived(db, cluster))
        .chain(schema::create_annotations(db, cluster))
        .chain(schema::create_rollups(db, cluster))
        .chain(schema::drop_retired_rollup(db, cluster))
        .chain(schema::create_unsettled(db, cluster));
        // Each roll-up on its own: one of a newer layout is created beside the others.
        let had_hourly = self.table_exists(schema::HOURLY_LOCAL)?;
        let had_policies = self.table_exists(schema::HOURLY_POLICIES_LOCAL)?;
        let had_ids = self.table_exists(schema::IDS_LOCAL)?;
        for ddl in statements {
            self.run(Role::Writer, |client| {
                let query = client
                    .with_database("system")
                    .query(&ddl)
                    .with_setting("distributed_ddl_task_timeout", "60");
                async move { query.execute().await }
            })
            .map_err(|error| ClickHouseOpenError::Schema(error.to_string()))?;
        }
        for (table, expected) in [
            (schema::LOCAL, schema::COLUMNS),
            (schema::DISTRIBUTED, schema::COLUMNS),
            (schema::LINKS_LOCAL, schema::LINK_COLUMNS),
            (schema::LINKS, schema::LINK_COLUMNS),
            (schema::STEPS_LOCAL, schema::STEP_COLUMNS),
            (schema::STEPS, schema::STEP_COLUMNS),
            (schema::CLAIMS_LOCAL, schema::CLAIM_COLUMNS),
            (schema::CLAIMS, schema::CLAIM_COLUMNS),
            (schema::IDS_LOCAL, schema::ID_COLUMNS),
            (schema::IDS, schema::ID_COLUMNS),
            (schema::HOURLY_LOCAL, schema::HOURLY_COLUMNS),
            (schema::HOURLY, schema::HOURLY_COLUMNS),
            (schema::HOURLY_POLICIES_LOCAL, schema::HOURLY_POLICY_COLUMNS),
            (schema::HOURLY_POLICIES, schema::HOURLY_POLICY_COLUMNS),
            (schema::UNSETTLED_LOCAL, schema::UNSETTLED_COLUMNS),
            (schema::UNSETTLED, schema::UNSETTLED_COLUMNS),
        ] {
            let columns: Vec<ColumnFields> = self
                .run(Role::Reader, |client| {
                    let query = client
                        .query(schema::TABLE_COLUMNS)
                        .bind(db.as_str())
                        .bind(table);
                    async move { query.fetch_all().await }
                })
                .map_err(|error| ClickHouseOpenError::Schema(error.to_string()))?;
            let found: Vec<(String, String)> = columns
                .into_iter()
                .map(|column| (column.name, column.kind))
                .collect();
            if let Some(detail) = schema::mismatch(expected, &found) {
                return Err(ClickHouseOpenError::UnknownSchema {
                    database: db.clone(),
                    table: table.to_owned(),
                    detail,
                });
            }
        }
        let events = format!("{db}.{}", schema::DISTRIBUTED);
        let mut backfills = Vec::new();
        if !had_hourly {
            backfills.push((schema::HOURLY, schema::hourly_backfill(&events)));
        }
        if !had_policies {
            backfills.push((
                schema::HOURLY_POLICIES,
                schema::hourly_policies_select(&events),
            ));
        }
        if !had_ids {
            backfills.push((schema::IDS, format!("SELECT id FROM {events}")));
        }
        self.backfill(&backfills)
            .map_err(|error| ClickHouseOpenError::Schema(error.to_string()))?;
        Ok(())
    }

    fn table_exists(&self, table: &'static str) -> Result<bool, ClickHouseOpenError> {
        let db = self.config.database.clone();
        self.run(Role::Reader, |client| {
            // From `system`: the database itself may not exist yet.
            let query = client
                .with_database("system")
                .query("SELECT count() FROM system.tables WHERE database = ? AND name = ?")
                .bind(db.as_str())
                .bind(table);
            async move { query.fetch_all::<u64>().await }
        })
        .map(|counts| counts.first().is_some_and(|count| *count > 0))
        .map_err(|error| ClickHouseOpenError::Schema(error.to_string()))
    }

    /// Tables derived by views (roll-ups, ids) created beside events stored earlier (by an
    /// older version of the API) are filled from them once: (table, SELECT of its rows).
    /// The views keep them in step from then on.
    fn backfill(&self, tables: &[(&str, String)]) -> Result<(), StoreError> {
        let db = &self.config.database;
        for (target, select) in tables {
            let statement = format!("INSERT INTO {db}.{target} {select}");
            self.run(Role::Writer, |client| {
                let query = client
                    .query(&statement)
                    .with_setting("insert_distributed_sync", "1");
                async move { query.execute().await }
            })
            .map_err(store_error)?;
        }
        Ok(())
    }

    /// Runs a statement made by `work` for a server's client as `role`: on the server that
    /// answered last, then, while servers do not answer at all, on the next. A statement is
    /// only sent again when the server was unreachable; an insert sent again is the same
    /// block, which replicated tables store once.
    pub(crate) fn run<T, F, Fut>(&self, role: Role, work: F) -> clickhouse::error::Result<T>
    where
        T: Send + 'static,
        F: Fn(Client) -> Fut,
        Fut: Future<Output = clickhouse::error::Result<T>> + Send + 'static,
    {
        self.run_counting(role, work).0
    }

    /// [`Self::run`], and how many times the statement was sent to a server that did not
    /// answer.
    fn run_counting<T, F, Fut>(&self, role: Role, work: F) -> (clickhouse::error::Result<T>, usize)
    where
        T: Send + 'static,
        F: Fn(Client) -> Fut,
        Fut: Future<Output = clickhouse::error::Result<T>> + Send + 'static,
    {
        let count = self.servers.len();
        let first = self.preferred.load(Ordering::Relaxed) % count.max(1);
        let mut failure = None;
        for step in 0..count {
            let index = (first + step) % count;
            let server = &self.servers[index];
            let client = match role {
                Role::Writer => server.writer.clone(),
                Role::Reader => server.reader.clone(),
            };
            match self.block(work(client)) {
                Err(error @ clickhouse::error::Error::Network(_)) => {
                    tracing::warn!(server = index, %error, "a ClickHouse server does not answer");
                    failure = Some(error);
                }
                result => {
                    if step > 0 {
                        self.preferred.store(index, Ordering::Relaxed);
                    }
                    return (result, step);
                }
            }
        }
        (
            Err(failure.unwrap_or(clickhouse::error::Error::TimedOut)),
            count,
        )
    }

    /// Runs a future on the store's runtime and waits for it.
    fn block<T: Send + 'static>(
        &self,
        future: impl Future<Output = clickhouse::error::Result<T>> + Send + 'static,
    ) -> clickhouse::error::Result<T> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            let result = match tokio::time::timeout(QUERY_TIMEOUT, future).await {
                Ok(result) => result,
                Err(_) => Err(clickhouse::error::Error::TimedOut),
            };
            let _ = sender.send(result);
        });
        receiver
            .recv()
            .unwrap_or(Err(clickhouse::error::Error::TimedOut))
    }

    /// Fetches every row of a read statement, as the read-only user.
    fn fetch<T>(&self, statement: Statement) -> Result<Vec<T>, StoreError>
    where
        T: clickhouse::Row + for<'b> clickhouse::RowRead<Value<'b> = T> + Send + 'static,
    {
        let started = std::time::Instant::now();
        let rows = self
            .run(Role::Reader, |client| {
                let query = bind(client.query(&statement.sql), statement.args.clone());
                async move { query.fetch_all::<T>().await }
            })
            .map_err(store_error);
        // For finding slow statements: `COACHBOARD_LOG=coachboard_api::store=debug`.
        tracing::debug!(
            micros = started.elapsed().as_micros() as u64,
            sql = %statement.sql.split_whitespace().collect::<Vec<_>>().join(" "),
            "ClickHouse read"
        );
        rows
    }

    /// Two reads at once (each as [`Self::fetch`]): a request's independent statements then
    /// cost one round trip to the cluster, not two.
    fn fetch_both<A, B>(
        &self,
        first: Statement,
        second: Statement,
    ) -> (Result<Vec<A>, StoreError>, Result<Vec<B>, StoreError>)
    where
        A: clickhouse::Row + for<'b> clickhouse::RowRead<Value<'b> = A> + Send + 'static,
        B: clickhouse::Row + for<'b> clickhouse::RowRead<Value<'b> = B> + Send + 'static,
    {
        std::thread::scope(|scope| {
            let other = scope.spawn(|| self.fetch::<B>(second));
            let first = self.fetch::<A>(first);
            let second = other.join().unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "a ClickHouse read stopped unexpectedly".to_owned(),
                ))
            });
            (first, second)
        })
    }

    /// Inserts rows through a Distributed table, synchronously: answered only once every
    /// shard's part is written on a replica (and queued to the others by replication).
    pub(crate) fn insert_rows<R>(&self, table: &'static str, rows: Vec<R>) -> Result<(), StoreError>
    where
        R: clickhouse::Row + for<'b> clickhouse::RowWrite<Value<'b> = R> + Send + Sync + 'static,
    {
        self.send_rows(table, std::sync::Arc::new(rows))
            .0
            .map_err(store_error)
    }

    /// [`Self::insert_rows`], and whether the rows may have reached a server without being
    /// answered for (sent more than once, or failed).
    fn send_rows<R>(
        &self,
        table: &'static str,
        rows: std::sync::Arc<Vec<R>>,
    ) -> (clickhouse::error::Result<()>, bool)
    where
        R: clickhouse::Row + for<'b> clickhouse::RowWrite<Value<'b> = R> + Send + Sync + 'static,
    {
        let (result, unanswered) = self.run_counting(Role::Writer, |client| {
            let rows = rows.clone();
            async move {
                let mut insert = client
                    .insert::<R>(table)
                    .await?
                    .with_setting("insert_distributed_sync", "1");
                for row in rows.iter() {
                    insert.write(row).await?;
                }
                insert.end().await
            }
        });
        let uncertain = unanswered > 0 || result.is_err();
        (result, uncertain)
    }

    /// The rows of a scope as `rollup::plan` splits it: its whole hours from the roll-up
    /// (`whole`), the partial hours at its edges from the events (`raw`).
    fn planned<T>(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
        whole: impl Fn(&rollup::WholeHours) -> Statement,
        raw: impl Fn(&Scope) -> Statement,
    ) -> Result<Vec<T>, StoreError>
    where
        T: clickhouse::Row + for<'b> clickhouse::RowRead<Value<'b> = T> + Send + 'static,
    {
        let unsettled = if scope.fits_rollup() {
            unsettled::hours(self)?
        } else {
            Vec::new()
        };
        self.planned_around(scope, slot_seconds, &unsettled, whole, raw)
    }

    /// [`planned`](Self::planned) with the unsettled hours already read.
    fn planned_around<T>(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
        unsettled: &[i64],
        whole: impl Fn(&rollup::WholeHours) -> Statement,
        raw: impl Fn(&Scope) -> Statement,
    ) -> Result<Vec<T>, StoreError>
    where
        T: clickhouse::Row + for<'b> clickhouse::RowRead<Value<'b> = T> + Send + 'static,
    {
        let plan = rollup::plan(scope, slot_seconds, unsettled);
        let mut statements: Vec<Statement> = plan.hours.iter().map(&whole).collect();
        statements.extend(plan.raw.iter().map(&raw));
        self.fetch_each(statements)
    }

    /// The rows of every statement, read two at a time (the roll-up's part beside the first
    /// part read from the events).
    fn fetch_each<T>(&self, statements: Vec<Statement>) -> Result<Vec<T>, StoreError>
    where
        T: clickhouse::Row + for<'b> clickhouse::RowRead<Value<'b> = T> + Send + 'static,
    {
        let mut rows = Vec::new();
        let mut statements = statements.into_iter();
        while let Some(first) = statements.next() {
            match statements.next() {
                Some(second) => {
                    let (first, second) = self.fetch_both::<T, T>(first, second);
                    rows.extend(first?);
                    rows.extend(second?);
                }
                None => rows.extend(self.fetch::<T>(first)?),
            }
        }
        Ok(rows)
    }

    /// The count and time extent of every event, read from all of them.
    fn whole_extent(&self) -> Result<Extent, StoreError> {
        let rows: Vec<ExtentFields> = self.fetch(Statement {
            sql: sql::EXTENT.to_owned(),
            args: Vec::new(),
        })?;
        let Some(row) = rows.into_iter().next().filter(|row| row.total > 0) else {
            return Ok(Extent::default());
        };
        Ok(Extent {
            total: row.total,
            first: rows::instant(row.first_us),
            last: rows::instant(row.last_us),
            last_row: None,
        })
    }

    fn next_seq(&self, rows: usize) -> u64 {
        // Microseconds of the wall clock, times 1024 rows: increasing across restarts.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_micros() as u64);
        let floor = now.saturating_mul(1024);
        let reserved = rows as u64;
        let previous = self
            .seq
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                Some(current.max(floor) + reserved)
            })
            .unwrap_or(floor);
        previous.max(floor)
    }
}

fn bind(mut query: clickhouse::query::Query, args: Vec<Arg>) -> clickhouse::query::Query {
    for arg in args {
        query = match arg {
            Arg::Text(text) => query.bind(text),
            Arg::Int(number) => query.bind(number),
            Arg::Ints(numbers) => query.bind(numbers),
        };
    }
    query
}

/// What a client error means for the API: the cluster (or a shard of it) unreachable is a
/// fault that passes; anything else is the database's.
fn store_error(error: clickhouse::error::Error) -> StoreError {
    use clickhouse::error::Error;
    let text = error.to_string();
    match error {
        Error::Network(_) | Error::TimedOut => {
            StoreError::Unavailable(format!("the ClickHouse cluster does not answer ({text})"))
        }
        _ if unavailable(&text) => StoreError::Unavailable(format!(
            "a shard of the ClickHouse cluster has no replica that answers ({})",
            first_line(&text)
        )),
        _ if text.contains("Code: 241") || text.contains("Memory limit") => {
            StoreError::OutOfMemory {
                detail: first_line(&text),
            }
        }
        _ if text.contains("Code: 243") || text.contains("Cannot reserve") => {
            StoreError::DiskFull {
                place: "a ClickHouse server".to_owned(),
                detail: first_line(&text),
            }
        }
        _ => StoreError::Database(first_line(&text)),
    }
}

/// Server error codes of an unreachable shard or replica: ALL_CONNECTION_TRIES_FAILED (279),
/// NETWORK_ERROR (210), SOCKET_TIMEOUT (209), NO_ZOOKEEPER (225), TABLE_IS_READ_ONLY (242),
/// ALL_REPLICAS_ARE_STALE (369), UNKNOWN_STATUS_OF_INSERT (319), TOO_FEW_LIVE_REPLICAS (285).
fn unavailable(text: &str) -> bool {
    ["279", "210", "209", "225", "242", "369", "319", "285"]
        .iter()
        .any(|code| text.contains(&format!("Code: {code}")))
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect()
}

impl EventStore for ClickHouseStore {
    fn aggregate(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
    ) -> Result<Vec<GroupRow>, StoreError> {
        let rows: Vec<GroupFields> = self.planned(
            scope,
            slot_seconds,
            |hours| sql::rollup_aggregate(scope, hours, slot_seconds),
            |part| sql::aggregate(part, slot_seconds),
        )?;
        Ok(rows
            .into_iter()
            .map(|row| row.into_row(slot_seconds.is_some()))
            .collect())
    }

    fn aggregate_in_buckets(
        &self,
        scope: &Scope,
        slot_seconds: i64,
        starts: &[i64],
    ) -> Result<Vec<GroupRow>, StoreError> {
        if slot_seconds % HOUR != 0
            && let Some(rows) = split_hours::aggregate(self, scope, slot_seconds, starts)?
        {
            return Ok(rows);
        }
        let Some(map) = sql::bucket_map(starts, slot_seconds) else {
            return self.aggregate(scope, Some(slot_seconds));
        };
        let rows: Vec<GroupFields> = self.planned(
            scope,
            Some(slot_seconds),
            |hours| sql::rollup_aggregate_in_buckets(scope, hours, slot_seconds, starts, &map),
            |part| sql::aggregate_in_buckets(part, slot_seconds, starts, &map),
        )?;
        Ok(rows.into_iter().map(|row| row.into_row(true)).collect())
    }

    fn policy_counts(
        &self,
        scope: &Scope,
        slot_seconds: Option<i64>,
    ) -> Result<Vec<PolicyRow>, StoreError> {
        let rows: Vec<PolicyFields> = self.planned(
            scope,
            slot_seconds,
            |hours| sql::rollup_policy_counts(scope, hours, slot_seconds),
            |part| sql::policy_counts(part, slot_seconds),
        )?;
        Ok(rows
            .into_iter()
            .map(|row| row.into_row(slot_seconds.is_some()))
            .collect())
    }

    fn count(&self, scope: &Scope) -> Result<u64, StoreError> {
        let counts: Vec<u64> = self.planned(
            scope,
            None,
            |hours| sql::rollup_count(scope, hours),
            sql::count,
        )?;
        Ok(counts.iter().sum())
    }

    fn suggestions(
        &self,
        scope: &Scope,
        unanswered_before: NaiveDateTime,
    ) -> Result<Vec<SuggestionRow>, StoreError> {
        pairing::suggestions(self, scope, unanswered_before)
    }

    fn policy_outcomes(&self, scope: &Scope) -> Result<Vec<PolicyOutcomeRow>, StoreError> {
        pairing::policy_outcomes(self, scope)
    }

    fn rewrite_outcomes(&self, scope: &Scope) -> Result<Vec<RewriteRow>, StoreError> {
        pairing::rewrite_outcomes(self, scope)
    }

    fn session_links(&self, session_id: &str) -> Result<Vec<(String, String, bool)>, StoreError> {
        pairing::session_links(self, session_id)
    }

    fn multiple_exposure(&self, scope: &Scope) -> Result<(u64, u64), StoreError> {
        pairing::multiple_exposure(self, scope)
    }

    fn events(&self, query: &EventsQuery) -> Result<Vec<EventRecord>, StoreError> {
        let rows: Vec<EventRow> = match pages::read(self, query)? {
            Some(rows) => rows,
            None => self.fetch(sql::events(query, Some(u64::from(query.limit))))?,
        };
        Ok(rows.into_iter().filter_map(EventRow::into_record).collect())
    }

    /// The count as every answer counts (the roll-up, unsettled hours from the events), and
    /// the first and last instants from the events of the roll-up's first and last hours
    /// only: 0.25-0.38 s for the whole table at 10M events, on every summary.
    fn extent(&self) -> Result<Extent, StoreError> {
        // The unsettled hours read once, for the count and for the ends.
        let unsettled = unsettled::hours(self)?;
        let everything = Scope::default();
        let plan = rollup::plan(&everything, None, &unsettled);
        let ends = Statement {
            sql: sql::ROLLUP_ENDS.to_owned(),
            args: Vec::new(),
        };
        // The roll-up's count beside its ends; the unsettled hours' rows after.
        let (counts, ends) = match &plan.hours {
            Some(hours) => {
                self.fetch_both::<u64, HourEnds>(sql::rollup_count(&everything, hours), ends)
            }
            None => (Ok(Vec::new()), self.fetch::<HourEnds>(ends)),
        };
        let mut total = counts?.iter().sum::<u64>();
        for part in &plan.raw {
            total += self.fetch::<u64>(sql::count(part))?.iter().sum::<u64>();
        }
        let ends = ends?;
        if total == 0 {
            return Ok(Extent::default());
        }
        let first = ends
            .iter()
            .map(|ends| ends.first)
            .chain(unsettled.first().copied())
            .min();
        let last = ends
            .iter()
            .map(|ends| ends.last)
            .chain(unsettled.last().copied())
            .max();
        if let (Some(first), Some(last)) = (first, last) {
            // Bounded on one side only: a row the roll-up missed is still read.
            let (earliest, latest) = self.fetch_both::<InstantFields, InstantFields>(
                sql::earliest_before(first.saturating_add(HOUR)),
                sql::latest_from(last),
            );
            let (earliest, latest) = (earliest?, latest?);
            if let ([earliest], [latest]) = (earliest.as_slice(), latest.as_slice())
                && earliest.n > 0
                && latest.n > 0
            {
                return Ok(Extent {
                    total,
                    first: rows::instant(earliest.at),
                    last: rows::instant(latest.at),
                    last_row: None,
                });
            }
        }
        self.whole_extent()
    }

    fn stored_rollup(
        &self,
        _extent: &Extent,
        _visit: &mut dyn FnMut(StoredGroup<'_>),
    ) -> Result<bool, StoreError> {
        // The roll-up lives in ClickHouse; the API keeps none.
        Ok(false)
    }

    fn stored_ids(&self, candidates: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        for chunk in candidates.chunks(1000) {
            let ids: Vec<String> = self.fetch(sql::stored_ids(chunk))?;
            found.extend(ids);
        }
        Ok(found)
    }

    fn scan_ids(&self, scope: &Scope, visit: &mut dyn FnMut(&str)) -> Result<(), StoreError> {
        let query = EventsQuery {
            scope: Scope {
                rows: None,
                ..scope.clone()
            },
            sort: coachboard_contract::SortKey::Ts,
            order: coachboard_contract::SortOrder::Asc,
            limit: 0,
            offset: 0,
            after: None,
        };
        self.export(&query, &mut |event| {
            visit(&event.id);
            true
        })
    }

    fn annotations(
        &self,
        from: Option<NaiveDateTime>,
        to: Option<NaiveDateTime>,
    ) -> Result<Vec<Annotation>, StoreError> {
        annotations::in_range(self, from, to)
    }

    fn add_annotation(&self, annotation: &Annotation) -> Result<(), StoreError> {
        annotations::insert(self, annotation)
    }

    fn delete_annotation(&self, id: &str) -> Result<bool, StoreError> {
        annotations::delete(self, id)
    }

    fn insert(&self, events: &[StoredEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let first = self.next_seq(events.len());
        let rows: Vec<InsertRow> = events
            .iter()
            .enumerate()
            .map(|(index, event)| InsertRow::new(event, first + index as u64))
            .collect();
        // Synchronous through the Distributed table: answered only once every shard's part
        // is written on a replica (and queued to the others by ClickHouse's replication).
        let started = std::time::Instant::now();
        let rows = std::sync::Arc::new(rows);
        let (sent, uncertain) = self.send_rows(schema::DISTRIBUTED, rows.clone());
        if uncertain {
            // The views may have missed a block a replica took (`unsettled.rs`): reads take
            // these hours from the events. Refused when even that cannot be recorded.
            unsettled::mark(self, &rows)?;
        }
        sent.map_err(store_error)?;
        let written: Vec<unsettled::Source> = rows.iter().map(unsettled::Source::of).collect();
        if uncertain {
            unsettled::write_view_rows(self, &written)?;
        }
        let inserted = started.elapsed();
        pairing::relink(self, &written)?;
        tracing::debug!(
            rows = events.len(),
            insert_ms = inserted.as_millis() as u64,
            relink_ms = (started.elapsed() - inserted).as_millis() as u64,
            "events written"
        );
        Ok(())
    }

    fn resent(&self, ids: &HashSet<String>) -> Result<(), StoreError> {
        unsettled::resettle(self, ids)
    }

    fn ping(&self) -> Result<(), StoreError> {
        let _: Vec<u8> = self.fetch(Statement {
            sql: "SELECT toUInt8(1)".to_owned(),
            args: Vec::new(),
        })?;
        Ok(())
    }

    fn export(
        &self,
        query: &EventsQuery,
        visit: &mut dyn FnMut(EventRecord) -> bool,
    ) -> Result<(), StoreError> {
        // Keyset pages of 10,000 rows in time order; other orders read with OFFSET.
        const PAGE: u32 = 10_000;
        let mut page = EventsQuery {
            limit: PAGE,
            ..query.clone()
        };
        loop {
            let events = self.events(&page)?;
            let full = events.len() == PAGE as usize;
            let last = events
                .last()
                .map(|event| (event.ts.naive_utc(), event.id.clone()));
            for event in events {
                if !visit(event) {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
            match (page.sort, last) {
                (coachboard_contract::SortKey::Ts, Some(last)) => {
                    page.after = Some(last);
                    page.offset = 0;
                }
                _ => page.offset += u64::from(PAGE),
            }
        }
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        // ClickHouse writes parts durably itself.
        Ok(())
    }

    fn settle(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn health(&self) -> Result<(), StoreError> {
        self.ping()
    }

    fn recover(&self) -> Result<bool, StoreError> {
        // Nothing to reopen: every request goes to the cluster afresh.
        Ok(false)
    }

    fn generation(&self) -> u64 {
        0
    }

    fn backup(&self, _to: &Path) -> Result<(), StoreError> {
        Err(StoreError::Rejected(
            "a backup to a file is the DuckDB store's; a ClickHouse cluster keeps its data \
             on replicas (back it up with ClickHouse's own tools)"
                .to_owned(),
        ))
    }

    fn size_bytes(&self) -> u64 {
        // One replica of each shard: the size of one copy of the data. As the writer: a
        // read-only user may not call table functions (`cluster`).
        self.run(Role::Writer, |client| {
            let query = client
                .query(&sql::size_bytes(&self.config.cluster))
                .bind(self.config.database.as_str());
            async move { query.fetch_all::<u64>().await }
        })
        .ok()
        .and_then(|sizes| sizes.first().copied())
        .unwrap_or(0)
    }

    fn keeps_state(&self) -> bool {
        false
    }
}

//! Command line: every option has an environment twin `COACHBOARD_*`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::store::{EnvCredentials, SpecError, StoreSpec};

#[derive(Debug, Parser)]
#[command(
    name = "coachboard-api",
    version,
    about = "The Coachboard API: owns the DuckDB file (or shares a ClickHouse cluster), serves analytics over HTTP"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "COACHBOARD_LOG_JSON", global = true)]
    pub log_json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write deterministic demo events into a database file. (Without a command, the API
    /// is served.)
    Generate(GenerateArgs),
    /// Ask a running API for a consistent copy of its database and write it to a file,
    /// while the API goes on serving.
    Backup(BackupArgs),
    /// Copy every event from one store to another (a DuckDB file, the note's format
    /// included, to a ClickHouse cluster or back). Run it again after an interruption: events
    /// already there are skipped, never doubled. Stop the API on a DuckDB source first.
    Copy(CopyArgs),
    /// Print a new random read token as a tokens-file line, sliced to the filters given
    /// (for a portal's embed: it then sees that bucket or policy only).
    Token(TokenArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The slice, as a query string: `bucket=treatment`, `policy=PII-01`,
    /// `policies=PII-01,PII-02`, or a bucket and policies joined with `&`.
    #[arg(long)]
    pub slice: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CopyArgs {
    /// Where the events are: `duckdb:PATH` or `clickhouse://…`.
    #[arg(long)]
    pub from: String,
    /// Where they go (created if missing): `duckdb:PATH` or `clickhouse://…`.
    #[arg(long)]
    pub to: String,
    /// Events read and written per batch.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch: u32,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// Where to write the copy (a DuckDB file; `coachboard-api --db FILE` opens it).
    #[arg(long)]
    pub to: PathBuf,
    /// The running API.
    #[arg(
        long,
        env = "COACHBOARD_API_URL",
        default_value = "http://127.0.0.1:8000"
    )]
    pub api: String,
    /// An ingest token of that API (backups are an operator's task).
    #[arg(long, env = "COACHBOARD_BACKUP_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The DuckDB file; created with its folder if missing.
    #[arg(long, env = "COACHBOARD_DB", default_value = "data/coachboard.duckdb")]
    pub db: PathBuf,
    /// The store, instead of --db: `duckdb:PATH`, or a ClickHouse cluster as
    /// `clickhouse://USER:PASSWORD@HOST:HTTP_PORT/DATABASE?cluster=NAME&reader=USER`
    /// (credentials also from COACHBOARD_CLICKHOUSE_USER, _PASSWORD, _READER,
    /// _READER_PASSWORD).
    #[arg(long, env = "COACHBOARD_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "COACHBOARD_ADDR", default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,
    /// Serve the built dashboard from this folder at `/` (overrides the embedded one).
    #[arg(long, env = "COACHBOARD_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
    /// If the table is empty, fill it with generated demo events.
    #[arg(long, env = "COACHBOARD_DEMO")]
    pub demo: bool,
    /// How many demo events `--demo` generates.
    #[arg(long, env = "COACHBOARD_DEMO_ROWS", default_value_t = 200_000)]
    pub demo_rows: u64,
    /// DuckDB worker threads.
    #[arg(long, env = "COACHBOARD_THREADS", default_value_t = 2)]
    pub threads: usize,
    /// DuckDB memory limit, e.g. 256MB or 1GB.
    #[arg(long, env = "COACHBOARD_MEMORY_LIMIT", default_value = "256MB")]
    pub memory_limit: String,
    /// Token that allows reading analytics (repeatable, or comma-separated in the env var).
    #[arg(
        long = "read-token",
        env = "COACHBOARD_READ_TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub read_tokens: Vec<String>,
    /// Token that allows posting events (repeatable, or comma-separated in the env var).
    #[arg(
        long = "ingest-token",
        env = "COACHBOARD_INGEST_TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub ingest_tokens: Vec<String>,
    /// Read token limited to a slice, as `TOKEN bucket=A`, `TOKEN policies=PII-01,PII-02`
    /// (repeatable; `coachboard-api token --slice …` makes one).
    #[arg(long = "sliced-read-token", hide_env_values = true)]
    pub sliced_read_tokens: Vec<String>,
    /// File of tokens, one per line as `read:TOKEN`, `read:TOKEN bucket=A` (sliced) or
    /// `ingest:TOKEN` (# starts a comment).
    #[arg(long, env = "COACHBOARD_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,
    /// Listen beyond loopback without tokens for reading and ingest.
    #[arg(long, env = "COACHBOARD_ALLOW_ANONYMOUS")]
    pub allow_anonymous: bool,
    /// Browser origin allowed to call the API (CORS), e.g. https://portal.example.com (repeatable).
    #[arg(
        long = "cors-origin",
        env = "COACHBOARD_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// Who may embed the dashboard in a frame: CSP frame-ancestors sources, e.g.
    /// "'self' https://portal.example.com".
    #[arg(long, env = "COACHBOARD_FRAME_ANCESTORS", default_value = "'self'")]
    pub frame_ancestors: String,
    /// Largest request body, in bytes.
    #[arg(long, env = "COACHBOARD_MAX_BODY_BYTES", default_value_t = 16 << 20)]
    pub max_body_bytes: usize,
    /// Accepted values of ab_test_bucket on ingest.
    #[arg(long = "bucket", env = "COACHBOARD_BUCKETS", value_delimiter = ',', default_values_t = ["A".to_owned(), "B".to_owned()])]
    pub buckets: Vec<String>,
    /// Seconds a client has to send a request's headers; also how long an idle keep-alive
    /// connection stays open (slowloris defence).
    #[arg(long, env = "COACHBOARD_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's body.
    #[arg(long, env = "COACHBOARD_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,
    /// Seconds a streamed answer (CSV export) waits for a client that stopped reading
    /// before it is cut off.
    #[arg(long, env = "COACHBOARD_SEND_TIMEOUT_SECS", default_value_t = 30)]
    pub send_timeout_secs: u64,
    /// Most TCP connections open at once (0: no limit).
    #[arg(long, env = "COACHBOARD_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Most TCP connections open at once from one IP address (0: no limit; behind a proxy
    /// that does not pass client addresses, raise it or set 0).
    #[arg(
        long,
        env = "COACHBOARD_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 256
    )]
    pub max_connections_per_client: usize,
    /// Requests slower than this are logged (with their query) and counted in /metrics.
    #[arg(long, env = "COACHBOARD_SLOW_REQUEST_MS", default_value_t = 500)]
    pub slow_request_ms: u64,
    /// Certificate chain (PEM) to serve HTTPS.
    #[arg(long, env = "COACHBOARD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) to serve HTTPS.
    #[arg(long, env = "COACHBOARD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// A store named on the command line (`duckdb:PATH` or `clickhouse://…`).
pub fn named_store(text: &str) -> Result<StoreSpec, SpecError> {
    StoreSpec::parse(text, &EnvCredentials::from_env())
}

/// The store `--store` names, or the DuckDB file of `--db`.
pub fn store_spec(store: Option<&str>, db: &std::path::Path) -> Result<StoreSpec, SpecError> {
    match store {
        Some(text) => StoreSpec::parse(text, &EnvCredentials::from_env()),
        None => Ok(StoreSpec::DuckDb(db.to_path_buf())),
    }
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// How many events.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// The DuckDB file to write (created if missing; events are appended).
    #[arg(long, env = "COACHBOARD_DB", default_value = "data/coachboard.duckdb")]
    pub db: PathBuf,
    /// The store to write instead of --db (`duckdb:PATH` or `clickhouse://…`, as for serving).
    #[arg(long, env = "COACHBOARD_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// Seed of the generator: the same seed gives the same events.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Days the events span.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub days: i64,
    /// End of the span (RFC 3339); the current hour by default.
    #[arg(long)]
    pub end: Option<String>,
}

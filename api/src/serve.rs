//! Start-up and shutdown of the binary: open the database (failing clearly when another
//! process holds it), fill demo data, build the engine, listen (HTTP or HTTPS), and on
//! SIGINT/SIGTERM let in-flight requests finish, checkpoint, and exit 0.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DurationRound, Utc};
use tracing_subscriber::EnvFilter;

use crate::access::{Access, Need};
use crate::analytics::Engine;
use crate::cli::store_spec;
use crate::cli::{GenerateArgs, ServeArgs};
use crate::connections::{self, ConnectionLimits};
use crate::generate::{DemoSpec, generate};
use crate::ingest::Limits;
use crate::slice::Slice;
use crate::state::{AppState, Settings, Timeouts};
use crate::store::{
    ClickHouseStore, DuckDbStore, EventStore, StoreError, StoreOptions, StoreSpec, StoredEvent,
};

/// How long a fault other than a full disk may keep the database from reopening before the
/// process gives up and exits.
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);
/// Longest wait for in-flight requests at shutdown.
const DRAIN: Duration = Duration::from_secs(20);
const GENERATE_BATCH: usize = 100_000;

pub fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_env("COACHBOARD_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let access = load_access(&args)?;
    if !args.addr.ip().is_loopback() && !args.allow_anonymous {
        for need in [Need::Read, Need::Ingest] {
            if access.is_open(need) {
                bail!(
                    "refusing to listen on {} with no {} token: anyone who can reach it could {}. \
                     Give --read-token and --ingest-token (or a --tokens-file), or --allow-anonymous \
                     if the network in front of it is trusted.",
                    args.addr,
                    if need == Need::Read { "read" } else { "ingest" },
                    if need == Need::Read {
                        "read every event"
                    } else {
                        "write events"
                    },
                );
            }
        }
    }
    let options = StoreOptions {
        threads: args.threads,
        memory_limit: args.memory_limit.clone(),
    };
    let spec = store_spec(args.store.as_deref(), &args.db)?;
    let described = describe(&spec);
    let store = tokio::task::spawn_blocking(move || open_store(spec, &options)).await??;
    if args.demo {
        let store = store.clone();
        let rows = args.demo_rows;
        tokio::task::spawn_blocking(move || fill_demo(store.as_ref(), rows)).await??;
    }
    let engine = {
        let store = store.clone();
        let built = tokio::task::spawn_blocking(move || Engine::start(store)).await?;
        Arc::new(built.with_context(|| {
            format!("cannot read the events of {described} (nothing was changed)")
        })?)
    };
    for need in [Need::Read, Need::Ingest] {
        if access.is_open(need) {
            tracing::warn!(kind = ?need, addr = %args.addr, "no token required for this kind of request");
        }
    }
    let settings = Settings {
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            buckets: args.buckets.clone(),
            ..Limits::default()
        },
        timeouts: Timeouts {
            body: Duration::from_secs(args.body_timeout_secs.max(1)),
            send: Duration::from_secs(args.send_timeout_secs.max(1)),
            slow_request: Duration::from_millis(args.slow_request_ms),
        },
        access,
        backup_dir: args
            .db
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
            .map_or_else(|| ".".into(), Path::to_path_buf),
        static_dir: args.static_dir.clone(),
        cors_origins: args.cors_origins.clone(),
        frame_ancestors: args.frame_ancestors.clone(),
    };
    let state = AppState::new(engine.clone(), settings);
    let shutdown = state.shutdown.clone();
    let limits = ConnectionLimits::new(
        connections::Limits {
            max_total: args.max_connections,
            max_per_client: args.max_connections_per_client,
        },
        state.metrics.clone(),
    );
    // Slowloris defence: headers (and the wait for the next request on a kept-alive
    // connection) within this time, or the connection is closed.
    let header_timeout = Duration::from_secs(args.header_timeout_secs.max(1));
    if engine.store().keeps_state() {
        tokio::spawn(crate::settle::keep_settled(
            engine.clone(),
            shutdown.clone(),
        ));
    } else {
        tokio::spawn(keep_polling(engine.clone(), shutdown.clone()));
    }
    tokio::spawn(keep_recovering(engine, shutdown.clone()));
    let router = crate::app(state);
    let handle = axum_server::Handle::new();
    let signals = StopSignals::register().context("cannot listen for SIGTERM and SIGINT")?;
    tokio::spawn(stop_on_signal(signals, handle.clone(), shutdown));
    let scheme = if args.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let listener = std::net::TcpListener::bind(args.addr)
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let url = format!("{scheme}://{local}/");
    let dashboard = match &args.static_dir {
        Some(dir) => dir.display().to_string(),
        None if crate::routes::static_files::has_embedded_dashboard() => "built in".to_owned(),
        None => "none (build it with `make dashboard`, or pass --static-dir)".to_owned(),
    };
    tracing::info!(%url, %dashboard, "Coachboard API listening");
    println!("Coachboard is running at {url}  (API and dashboard; Ctrl-C stops it)");
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .with_context(|| {
                    format!(
                        "cannot load the TLS certificate {} and key {}",
                        cert.display(),
                        key.display()
                    )
                })?;
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
                .handshake_timeout(header_timeout)
                .acceptor(limits);
            server(listener, acceptor, header_timeout, handle)?
                .serve(service)
                .await?;
        }
        _ => {
            server(listener, limits, header_timeout, handle)?
                .serve(service)
                .await?;
        }
    }
    tracing::info!("requests drained; checkpointing the database");
    tokio::task::spawn_blocking(move || store.checkpoint()).await??;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// The server on `listener` with its acceptor (limits, TLS) and the slowloris timeouts.
fn server<Acc>(
    listener: std::net::TcpListener,
    acceptor: Acc,
    header_timeout: Duration,
    handle: axum_server::Handle<SocketAddr>,
) -> std::io::Result<axum_server::Server<SocketAddr, Acc>> {
    let mut server = axum_server::from_tcp(listener)?
        .acceptor(acceptor)
        .first_request_timeout(header_timeout)
        .handle(handle);
    server
        .http_builder()
        .http1()
        .header_read_timeout(header_timeout);
    Ok(server)
}

/// On a store other replicas write to, looks every second for rows they added, so this
/// replica's live streams hear of them. (A store this process owns needs none.)
async fn keep_polling(engine: Arc<Engine>, shutdown: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let engine = engine.clone();
        if let Ok(Err(error)) = tokio::task::spawn_blocking(move || engine.poll_changes()).await {
            tracing::debug!(%error, "looking for other replicas' writes failed");
        }
    }
}

/// While a fault keeps the store from writing (a full disk, a fatal error), tries every
/// second to reopen it, so writes resume and `/readyz` turns ready by themselves. A full
/// disk is waited out however long it lasts; any other fault that a reopen cannot cure
/// within `GIVE_UP_AFTER` ends the process with a clear message, for its supervisor to
/// start it afresh: never a process that stays up but can no longer write.
async fn keep_recovering(engine: Arc<Engine>, shutdown: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut failing_since: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if engine.store().health().is_ok() {
            failing_since = None;
            continue;
        }
        let attempt = {
            let engine = engine.clone();
            tokio::task::spawn_blocking(move || engine.recover()).await
        };
        match attempt {
            Ok(Err(error)) if !matches!(error, StoreError::DiskFull { .. }) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= GIVE_UP_AFTER {
                    tracing::error!(%error, "the database cannot be reopened; exiting so that a supervisor restarts the API");
                    eprintln!(
                        "coachboard-api: the database could not be reopened for {} s ({error}); \
                         exiting so that a supervisor (systemd, Kubernetes) starts it afresh",
                        GIVE_UP_AFTER.as_secs()
                    );
                    std::process::exit(1);
                }
            }
            _ => failing_since = None,
        }
    }
}

/// The signals that stop the server, registered when made: made before the server says it
/// is running, so a signal right after that is never met by the default action (death).
#[cfg(unix)]
struct StopSignals(tokio::signal::unix::Signal, tokio::signal::unix::Signal);

#[cfg(unix)]
impl StopSignals {
    fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self(
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
        ))
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.0.recv() => {},
            _ = self.1.recv() => {},
        }
    }
}

#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn register() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn wait(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Waits for SIGTERM or SIGINT, then ends live streams and drains requests.
async fn stop_on_signal(
    mut signals: StopSignals,
    handle: axum_server::Handle<SocketAddr>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    signals.wait().await;
    tracing::info!("shutting down: finishing in-flight requests");
    shutdown.cancel();
    handle.graceful_shutdown(Some(DRAIN));
}

fn load_access(args: &ServeArgs) -> anyhow::Result<Access> {
    let mut read = args.read_tokens.clone();
    let mut ingest = args.ingest_tokens.clone();
    let mut sliced = Vec::new();
    for line in &args.sliced_read_tokens {
        match sliced_token(line).context("--sliced-read-token")? {
            (token, Some(slice)) => sliced.push((token, slice)),
            (_, None) => {
                bail!("--sliced-read-token: expected `TOKEN bucket=…` or `TOKEN policy=…`")
            }
        }
    }
    if let Some(file) = &args.tokens_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the tokens file {}", file.display()))?;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let place = || format!("{} line {}", file.display(), number + 1);
            match line.split_once(':') {
                Some(("read", rest)) => match sliced_token(rest).with_context(place)? {
                    (token, Some(slice)) => sliced.push((token, slice)),
                    (token, None) => read.push(token),
                },
                Some(("ingest", token)) => ingest.push(token.trim().to_owned()),
                _ => bail!(
                    "{}: expected `read:TOKEN`, `read:TOKEN bucket=…` or `ingest:TOKEN`",
                    place()
                ),
            }
        }
    }
    Ok(sliced
        .into_iter()
        .fold(Access::new(&read, &ingest), |access, (token, slice)| {
            access.with_sliced_read(&token, slice)
        }))
}

/// `TOKEN` or `TOKEN bucket=A&policy=B`: a token, then maybe its slice after white space.
fn sliced_token(text: &str) -> anyhow::Result<(String, Option<Slice>)> {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        None => Ok((text.to_owned(), None)),
        Some((token, slice)) => Ok((token.to_owned(), Some(Slice::parse(slice)?))),
    }
}

/// Opens the store a spec names.
pub(crate) fn open_store(
    spec: StoreSpec,
    options: &StoreOptions,
) -> anyhow::Result<Arc<dyn EventStore>> {
    Ok(match spec {
        StoreSpec::DuckDb(path) => {
            let store = DuckDbStore::open(&path, options)?;
            tracing::info!(db = %store.path().display(), native_schema = store.native_schema(), "database open");
            Arc::new(store)
        }
        StoreSpec::ClickHouse(config) => {
            let store = ClickHouseStore::open(config)?;
            tracing::info!(config = ?store.config(), "ClickHouse cluster open");
            Arc::new(store)
        }
    })
}

/// The store for messages: a file's path, or a cluster's URL without credentials.
pub(crate) fn describe(spec: &StoreSpec) -> String {
    match spec {
        StoreSpec::DuckDb(path) => path.display().to_string(),
        StoreSpec::ClickHouse(config) => format!(
            "the ClickHouse database {} at {} (cluster {})",
            config.database, config.http_url, config.cluster
        ),
    }
}

/// Fills an empty table with demo events; leaves any data alone.
fn fill_demo(store: &dyn EventStore, rows: u64) -> anyhow::Result<()> {
    if store.extent()?.total > 0 {
        tracing::info!("the database has events: --demo leaves them as they are");
        return Ok(());
    }
    // The demo's last event is a moment ago, not in the future.
    let end = Utc::now()
        .duration_trunc(chrono::TimeDelta::seconds(1))?
        .naive_utc();
    let spec = DemoSpec {
        rows,
        seed: 42,
        end,
        days: 90,
    };
    let written = write_generated(store, &spec)?;
    // Derived once for all the rows, before anyone reads them.
    store.settle()?;
    tracing::info!(rows = written, "demo events written");
    Ok(())
}

fn write_generated(store: &dyn EventStore, spec: &DemoSpec) -> anyhow::Result<u64> {
    let mut batch: Vec<StoredEvent> = Vec::with_capacity(GENERATE_BATCH);
    let mut written = 0;
    let mut failure = None;
    generate(spec, |event| {
        if failure.is_some() {
            return;
        }
        batch.push(event);
        if batch.len() == GENERATE_BATCH {
            match store.insert(&batch) {
                Ok(()) => written += batch.len() as u64,
                Err(error) => failure = Some(error),
            }
            batch.clear();
        }
    });
    if let Some(error) = failure {
        return Err(error.into());
    }
    store.insert(&batch)?;
    Ok(written + batch.len() as u64)
}

/// `coachboard-api generate`: appends generated events to a database file.
pub fn generate_file(args: &GenerateArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let target = store_spec(args.store.as_deref(), &args.db)?;
    let described = describe(&target);
    let store = open_store(target.clone(), &StoreOptions::default())?;
    let end = match &args.end {
        Some(text) => coachboard_contract::parse_instant(text)
            .map_err(anyhow::Error::msg)?
            .naive_utc(),
        None => Utc::now()
            .duration_trunc(chrono::TimeDelta::seconds(1))?
            .naive_utc(),
    };
    let spec = DemoSpec {
        rows: args.rows,
        seed: args.seed,
        end,
        days: args.days,
    };
    let written = write_generated(store.as_ref(), &spec)?;
    // Derived as a start-up derives, a chunk at a time: one transaction over millions of
    // new events does not fit DuckDB's memory limit (10M did not).
    drop(store);
    let store = open_store(target, &StoreOptions::default())?;
    store.settle()?;
    store.checkpoint()?;
    println!(
        "wrote {written} events to {described} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

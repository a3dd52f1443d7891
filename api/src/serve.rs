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
use crate::cli::{GenerateArgs, ServeArgs};
use crate::generate::{DemoSpec, generate};
use crate::ingest::Limits;
use crate::state::{AppState, Settings};
use crate::store::{DuckDbStore, EventStore, StoreOptions, StoredEvent};

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
    let db = args.db.clone();
    let store = tokio::task::spawn_blocking(move || DuckDbStore::open(&db, &options)).await??;
    tracing::info!(db = %store.path().display(), native_schema = store.native_schema(), "database open");
    let store: Arc<dyn EventStore> = Arc::new(store);
    if args.demo {
        let store = store.clone();
        let rows = args.demo_rows;
        tokio::task::spawn_blocking(move || fill_demo(store.as_ref(), rows)).await??;
    }
    let engine = {
        let store = store.clone();
        Arc::new(tokio::task::spawn_blocking(move || Engine::start(store)).await??)
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
        access,
        static_dir: args.static_dir.clone(),
        cors_origins: args.cors_origins.clone(),
        frame_ancestors: args.frame_ancestors.clone(),
    };
    let state = AppState::new(engine, settings);
    let shutdown = state.shutdown.clone();
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
            axum_server::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(service)
                .await?;
        }
        _ => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(service)
                .await?
        }
    }
    tracing::info!("requests drained; checkpointing the database");
    tokio::task::spawn_blocking(move || store.checkpoint()).await??;
    tracing::info!("stopped cleanly");
    Ok(())
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
    if let Some(file) = &args.tokens_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the tokens file {}", file.display()))?;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once(':') {
                Some(("read", token)) => read.push(token.trim().to_owned()),
                Some(("ingest", token)) => ingest.push(token.trim().to_owned()),
                _ => bail!(
                    "{} line {}: expected `read:TOKEN` or `ingest:TOKEN`",
                    file.display(),
                    number + 1
                ),
            }
        }
    }
    Ok(Access::new(&read, &ingest))
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
    let store = DuckDbStore::open(&args.db, &StoreOptions::default())?;
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
    let written = write_generated(&store, &spec)?;
    store.checkpoint()?;
    println!(
        "wrote {written} events to {} in {:.1} s",
        display(&args.db),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

//! What every request handler shares.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::access::Access;
use crate::analytics::Engine;
use crate::cache::ResponseCache;
use crate::ingest::Limits;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub settings: Arc<Settings>,
    pub cache: Arc<ResponseCache>,
    pub metrics: Arc<Metrics>,
    /// Cancelled at shutdown, so that live streams end and the server can drain.
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn new(engine: Arc<Engine>, settings: Settings) -> Self {
        Self {
            engine,
            settings: Arc::new(settings),
            cache: Arc::new(ResponseCache::default()),
            metrics: Arc::new(Metrics::default()),
            shutdown: CancellationToken::new(),
        }
    }
}

/// How long the server waits for a slow client.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To receive a request's body.
    pub body: Duration,
    /// For a client to take more of a streamed answer.
    pub send: Duration,
    /// Requests slower than this are logged.
    pub slow_request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            body: Duration::from_secs(30),
            send: Duration::from_secs(30),
            slow_request: Duration::from_millis(500),
        }
    }
}

/// How the HTTP side behaves: limits, access, and what it serves besides the API.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub timeouts: Timeouts,
    pub limits: Limits,
    pub access: Access,
    /// Where `POST /admin/backup` stages its copy (the database's folder).
    pub backup_dir: PathBuf,
    /// Built dashboard to serve at `/` (overrides the one inside the binary).
    pub static_dir: Option<PathBuf>,
    /// Origins allowed to call the API from a browser (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// Value of CSP `frame-ancestors`: who may embed the dashboard.
    pub frame_ancestors: String,
}

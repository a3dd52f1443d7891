//! What every request handler shares.

use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::access::Access;
use crate::analytics::Engine;
use crate::cache::ResponseCache;
use crate::ingest::Limits;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub settings: Arc<Settings>,
    pub cache: Arc<ResponseCache>,
    /// Cancelled at shutdown, so that live streams end and the server can drain.
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn new(engine: Arc<Engine>, settings: Settings) -> Self {
        Self {
            engine,
            settings: Arc::new(settings),
            cache: Arc::new(ResponseCache::default()),
            shutdown: CancellationToken::new(),
        }
    }
}

/// How the HTTP side behaves: limits, access, and what it serves besides the API.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub limits: Limits,
    pub access: Access,
    /// Built dashboard to serve at `/` (overrides the one inside the binary).
    pub static_dir: Option<PathBuf>,
    /// Origins allowed to call the API from a browser (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// Value of CSP `frame-ancestors`: who may embed the dashboard.
    pub frame_ancestors: String,
}

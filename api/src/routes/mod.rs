//! HTTP routes, one file per concern.

pub mod analytics;
pub mod export;
pub mod health;
pub mod ingest;
pub mod static_files;
pub mod stream;

//! coachboard-api: the one process that owns the DuckDB file. It ingests coach events and
//! answers analytics queries as JSON; dashboards read through it over HTTP.

pub mod access;
pub mod analytics;
pub mod app;
pub mod backup;
pub mod cache;
pub mod cli;
pub mod connections;
pub mod copy;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod generate;
pub mod histogram;
pub mod ids;
pub mod ingest;
pub mod metrics;
pub mod openapi;
pub mod paging;
pub mod params;
pub mod rollup;
pub mod routes;
pub mod serve;
pub mod settle;
pub mod slice;
pub mod state;
pub mod stats;
pub mod store;

pub use app::app;
pub use state::{AppState, Settings};

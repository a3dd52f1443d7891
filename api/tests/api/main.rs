//! HTTP tests of coachboard-api against real DuckDB files. One test binary (the DuckDB
//! library is large to link), one module per concern.

mod bad_requests;
mod common;
mod concurrency;
mod consistency;
mod damaged_files;
mod disk_full;
mod durability;
mod endpoints;
mod filters;
mod ingest;
mod operations;
mod process;
mod security;
mod seed_format;
#[path = "../support/server.rs"]
mod server;
mod soak;
mod suggestions;
mod tls;

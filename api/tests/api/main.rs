//! HTTP tests of coachboard-api against real DuckDB files (and, run by
//! `scripts/cluster-test.sh`, the same tests against a real ClickHouse cluster). One test binary (the DuckDB
//! library is large to link), one module per concern.

mod annotations;
mod bad_requests;
mod cluster_upgrade;
mod common;
mod concurrency;
mod consistency;
mod cross_store;
mod damaged_files;
mod dashboard_files;
mod disk_full;
mod durability;
mod endpoints;
mod filters;
mod id_index;
mod ingest;
mod operations;
mod process;
mod replicas;
mod security;
mod seed_format;
#[path = "../support/server.rs"]
mod server;
mod slices;
mod soak;
mod suggestions;
mod tls;

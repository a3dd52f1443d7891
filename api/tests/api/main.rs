//! HTTP tests of coachboard-api against real DuckDB files. One test binary (the DuckDB
//! library is large to link), one module per concern.

mod common;
mod concurrency;
mod consistency;
mod endpoints;
mod filters;
mod ingest;
mod process;
mod seed_format;

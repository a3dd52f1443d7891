//! Which store `--store` names: `duckdb:PATH` (the embedded default) or
//! `clickhouse://…` (a cluster, see `clickhouse/config.rs`).

use std::path::PathBuf;

use super::{ClickHouseConfig, ConfigError, EnvCredentials};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    DuckDb(PathBuf),
    ClickHouse(ClickHouseConfig),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("--store {0:?}: expected duckdb:PATH or clickhouse://HOST:PORT/DB?cluster=NAME")]
    Unknown(String),
    #[error("--store duckdb: needs a file path after the colon")]
    NoPath,
    #[error(transparent)]
    ClickHouse(#[from] ConfigError),
}

impl StoreSpec {
    pub fn parse(text: &str, env: &EnvCredentials) -> Result<Self, SpecError> {
        if let Some(path) = text.strip_prefix("duckdb:") {
            if path.is_empty() {
                return Err(SpecError::NoPath);
            }
            return Ok(Self::DuckDb(PathBuf::from(path)));
        }
        if text.starts_with("clickhouse://") {
            return Ok(Self::ClickHouse(ClickHouseConfig::parse(text, env)?));
        }
        Err(SpecError::Unknown(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_either_engine() {
        let env = EnvCredentials::default();
        assert_eq!(
            StoreSpec::parse("duckdb:data/x.duckdb", &env),
            Ok(StoreSpec::DuckDb("data/x.duckdb".into()))
        );
        assert!(matches!(
            StoreSpec::parse("clickhouse://127.0.0.1:8123/db?cluster=c", &env),
            Ok(StoreSpec::ClickHouse(_))
        ));
        assert_eq!(StoreSpec::parse("duckdb:", &env), Err(SpecError::NoPath));
        assert!(matches!(
            StoreSpec::parse("postgres://x", &env),
            Err(SpecError::Unknown(_))
        ));
    }
}

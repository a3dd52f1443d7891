//! Where the cluster is and who the API is on it: `clickhouse://USER:PASSWORD@HOST:PORT/DB?cluster=NAME`
//! (the HTTP port), with the read-only user as `reader`/`reader_password` in the query or in
//! `COACHBOARD_CLICKHOUSE_*`, and more servers to fall back on as `hosts=HOST:PORT,…`.

use url::Url;

/// A parsed `--store clickhouse://…` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ClickHouseConfig {
    /// `http://HOST:PORT` of any server of the cluster.
    pub http_url: String,
    /// Further servers of the cluster, tried in turn when one does not answer.
    pub fallbacks: Vec<String>,
    pub database: String,
    pub cluster: String,
    /// Creates the tables and inserts.
    pub writer: Credentials,
    /// Runs every read, with `readonly` set by its profile on the server.
    pub reader: Credentials,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for ClickHouseConfig {
    // Passwords stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseConfig")
            .field("http_url", &self.http_url)
            .field("fallbacks", &self.fallbacks)
            .field("database", &self.database)
            .field("cluster", &self.cluster)
            .field("writer", &self.writer.user)
            .field("reader", &self.reader.user)
            .finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("not a URL: {0}")]
    Url(String),
    #[error("a ClickHouse store URL starts with clickhouse:// (got {0}://)")]
    Scheme(String),
    #[error("the URL names no host")]
    Host,
    #[error(
        "{what} {value:?} may hold only ASCII letters, digits and underscores, and must not \
         start with a digit"
    )]
    Identifier { what: &'static str, value: String },
    #[error("the URL needs ?cluster=NAME (the cluster in the servers' remote_servers)")]
    Cluster,
    #[error("unknown option {0:?} in the URL (known: cluster, reader, reader_password, hosts)")]
    Option(String),
    #[error("hosts= takes HOST:PORT items separated by commas (got {0:?})")]
    Hosts(String),
}

/// The environment's values, read by the binary and passed in (tests pass their own).
#[derive(Debug, Default, Clone)]
pub struct EnvCredentials {
    pub user: Option<String>,
    pub password: Option<String>,
    pub reader: Option<String>,
    pub reader_password: Option<String>,
}

impl EnvCredentials {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        Self {
            user: var("COACHBOARD_CLICKHOUSE_USER"),
            password: var("COACHBOARD_CLICKHOUSE_PASSWORD"),
            reader: var("COACHBOARD_CLICKHOUSE_READER"),
            reader_password: var("COACHBOARD_CLICKHOUSE_READER_PASSWORD"),
        }
    }
}

/// Database and cluster names go into DDL as identifiers, so only plain ones are taken.
fn identifier(what: &'static str, value: &str) -> Result<String, ConfigError> {
    let plain = !value.is_empty()
        && value.len() <= 64
        && !value.starts_with(|c: char| c.is_ascii_digit())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        Ok(value.to_owned())
    } else {
        Err(ConfigError::Identifier {
            what,
            value: value.to_owned(),
        })
    }
}

impl ClickHouseConfig {
    /// Reads a store URL; credentials missing from it come from `env`, then the defaults
    /// (`default` with no password, for both).
    pub fn parse(text: &str, env: &EnvCredentials) -> Result<Self, ConfigError> {
        let url = Url::parse(text).map_err(|error| ConfigError::Url(error.to_string()))?;
        if url.scheme() != "clickhouse" {
            return Err(ConfigError::Scheme(url.scheme().to_owned()));
        }
        let host = url.host_str().ok_or(ConfigError::Host)?;
        let port = url.port().unwrap_or(8123);
        let database =
            identifier("the database", url.path().trim_start_matches('/')).or_else(|error| {
                match url.path().trim_start_matches('/') {
                    "" => Ok("coachboard".to_owned()),
                    _ => Err(error),
                }
            })?;
        let mut cluster = None;
        let mut reader = env.reader.clone();
        let mut reader_password = env.reader_password.clone();
        let mut fallbacks = Vec::new();
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "hosts" => {
                    for item in value.split(',').filter(|item| !item.is_empty()) {
                        let parsed = Url::parse(&format!("http://{item}"))
                            .ok()
                            .filter(|parsed| parsed.host_str().is_some() && parsed.path() == "/")
                            .ok_or_else(|| ConfigError::Hosts(value.to_string()))?;
                        let host = parsed.host_str().unwrap_or_default();
                        fallbacks.push(format!(
                            "http://{}:{}",
                            bracketed(host),
                            parsed.port().unwrap_or(8123)
                        ));
                    }
                }
                "cluster" => cluster = Some(identifier("the cluster", &value)?),
                "reader" => reader = Some(value.into_owned()),
                "reader_password" => reader_password = Some(value.into_owned()),
                other => return Err(ConfigError::Option(other.to_owned())),
            }
        }
        let decode = |text: &str| percent_decode(text).unwrap_or_else(|| text.to_owned());
        let user = Some(url.username())
            .filter(|user| !user.is_empty())
            .map(decode)
            .or_else(|| env.user.clone())
            .unwrap_or_else(|| "default".to_owned());
        let password = url
            .password()
            .map(decode)
            .or_else(|| env.password.clone())
            .unwrap_or_default();
        Ok(Self {
            http_url: format!("http://{}:{port}", bracketed(host)),
            fallbacks,
            database,
            cluster: cluster.ok_or(ConfigError::Cluster)?,
            writer: Credentials {
                user: user.clone(),
                password: password.clone(),
            },
            reader: Credentials {
                user: reader.unwrap_or(user),
                password: reader_password.unwrap_or(password),
            },
        })
    }

    /// The same cluster with another database (tests give each run its own).
    pub fn with_database(&self, database: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            database: identifier("the database", database)?,
            ..self.clone()
        })
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn percent_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_part_of_the_url() {
        let config = ClickHouseConfig::parse(
            "clickhouse://writer:p%40ss@127.0.0.1:18121/coach_1?cluster=main&reader=ro&reader_password=x&hosts=127.0.0.1:18122,db2",
            &EnvCredentials::default(),
        )
        .expect("parses");
        assert_eq!(config.http_url, "http://127.0.0.1:18121");
        assert_eq!(
            config.fallbacks,
            ["http://127.0.0.1:18122", "http://db2:8123"]
        );
        assert_eq!(config.database, "coach_1");
        assert_eq!(config.cluster, "main");
        assert_eq!(config.writer.user, "writer");
        assert_eq!(config.writer.password, "p@ss");
        assert_eq!(config.reader.user, "ro");
        assert_eq!(config.reader.password, "x");
        assert!(!format!("{config:?}").contains("p@ss"));
    }

    #[test]
    fn takes_credentials_from_the_environment_when_the_url_has_none() {
        let env = EnvCredentials {
            user: Some("w".into()),
            password: Some("pw".into()),
            reader: Some("r".into()),
            reader_password: None,
        };
        let config =
            ClickHouseConfig::parse("clickhouse://db.example:8123?cluster=c", &env).expect("ok");
        assert_eq!(config.database, "coachboard");
        assert_eq!(
            (config.writer.user.as_str(), config.writer.password.as_str()),
            ("w", "pw")
        );
        assert_eq!(
            (config.reader.user.as_str(), config.reader.password.as_str()),
            ("r", "pw")
        );
    }

    #[test]
    fn refuses_what_would_go_into_ddl_unescaped() {
        let env = EnvCredentials::default();
        for bad in [
            "clickhouse://h/db;drop?cluster=c",
            "clickhouse://h/db?cluster=c%20ON",
            "clickhouse://h/1db?cluster=c",
        ] {
            assert!(
                matches!(
                    ClickHouseConfig::parse(bad, &env),
                    Err(ConfigError::Identifier { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            ClickHouseConfig::parse("clickhouse://h/db", &env),
            Err(ConfigError::Cluster)
        );
        assert!(matches!(
            ClickHouseConfig::parse("http://h/db?cluster=c", &env),
            Err(ConfigError::Scheme(_))
        ));
        assert!(matches!(
            ClickHouseConfig::parse("clickhouse://h/db?cluster=c&x=1", &env),
            Err(ConfigError::Option(_))
        ));
        assert!(matches!(
            ClickHouseConfig::parse("clickhouse://h/db?cluster=c&hosts=a/b", &env),
            Err(ConfigError::Hosts(_))
        ));
    }
}

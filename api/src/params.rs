//! Query-string parameters of the analytics endpoints, parsed and validated with messages
//! that say what is wrong. Unknown parameters are ignored (cache busters, trackers).

use chrono::{DateTime, NaiveDateTime};
use chrono_tz::Tz;
use coachboard_contract::{
    EventKind, Interval, SortKey, SortOrder, parse_instant, truncate_for_message,
};

use crate::error::AppError;
use crate::store::{EventsQuery, Scope};

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;
pub const MAX_OFFSET: u64 = 100_000_000;
const MAX_VALUE_CHARS: usize = 256;
const MAX_POLICY_SET: usize = 64;
pub const DEFAULT_UNANSWERED_AFTER_S: u64 = 600;
const MAX_UNANSWERED_AFTER_S: u64 = 30 * 24 * 3600;

/// The decoded pairs of a query string.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(query: Option<&str>) -> Result<Self, AppError> {
        let raw = query.unwrap_or_default();
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            if name.contains('\u{FFFD}') || value.contains('\u{FFFD}') {
                return Err(invalid(format!(
                    "parameter `{}` is not valid UTF-8",
                    truncate_for_message(&name)
                )));
            }
            if value.contains('\0') || name.contains('\0') {
                return Err(invalid(format!(
                    "parameter `{}` contains a NUL character",
                    truncate_for_message(&name)
                )));
            }
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(invalid(format!(
                    "parameter `{}` is given more than once",
                    truncate_for_message(&name)
                )));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// A parameter's value; an empty value counts as absent, as HTML forms send them.
    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    fn text(&self, name: &str, max_chars: usize) -> Result<Option<String>, AppError> {
        match self.get(name) {
            Some(value) if value.chars().count() > max_chars => Err(invalid(format!(
                "`{name}` is longer than {max_chars} characters"
            ))),
            Some(value) if value.chars().any(char::is_control) => {
                Err(invalid(format!("`{name}` contains a control character")))
            }
            other => Ok(other.map(str::to_owned)),
        }
    }

    fn instant(&self, name: &str) -> Result<Option<NaiveDateTime>, AppError> {
        self.get(name)
            .map(|value| {
                parse_instant(value)
                    .map(|instant| instant.naive_utc())
                    .map_err(|message| invalid(format!("`{name}`: {message}")))
            })
            .transpose()
    }

    fn parsed<T: std::str::FromStr<Err = String>>(
        &self,
        name: &str,
    ) -> Result<Option<T>, AppError> {
        self.get(name)
            .map(|value| {
                value
                    .parse::<T>()
                    .map_err(|message| invalid(format!("`{name}`: {message}")))
            })
            .transpose()
    }

    fn whole_number(&self, name: &str) -> Result<Option<u64>, AppError> {
        self.get(name)
            .map(|value| {
                value.parse::<u64>().map_err(|_| {
                    invalid(format!(
                        "`{name}` must be a whole number ≥ 0, not `{}`",
                        truncate_for_message(value)
                    ))
                })
            })
            .transpose()
    }

    /// The filters every analytics endpoint takes.
    pub fn scope(&self) -> Result<Scope, AppError> {
        let from = self.instant("from")?;
        let to = self.instant("to")?;
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            return Err(invalid("`from` must be before `to`".to_owned()));
        }
        let event = self
            .get("event")
            .map(|value| {
                value
                    .parse::<EventKind>()
                    .map_err(|error| invalid(format!("`event`: {error}")))
            })
            .transpose()?;
        Ok(Scope {
            from,
            to,
            bucket: self.text("bucket", 64)?,
            event: event.map(|kind| kind.as_str().to_owned()),
            policy: self.text("policy", 128)?,
            policies: self.policy_set()?,
            session_id: self.text("session_id", MAX_VALUE_CHARS)?,
            text: self
                .text("q", MAX_VALUE_CHARS)?
                .filter(|text| !text.trim().is_empty()),
            rows: None,
            latency: None,
        })
    }

    /// The zone for day and week boundaries (UTC by default).
    pub fn tz(&self) -> Result<Tz, AppError> {
        match self.get("tz") {
            None => Ok(Tz::UTC),
            Some(name) => name.parse::<Tz>().map_err(|_| {
                invalid(format!(
                    "`tz`: `{}` is not an IANA time zone name (like Europe/Berlin)",
                    truncate_for_message(name)
                ))
            }),
        }
    }

    pub fn interval(&self) -> Result<Interval, AppError> {
        Ok(self.parsed("interval")?.unwrap_or_default())
    }

    /// `unanswered_after`: seconds an offer may wait for its answer before it counts as
    /// unanswered (default 10 minutes, at most 30 days).
    pub fn unanswered_after(&self) -> Result<u64, AppError> {
        let seconds = self
            .whole_number("unanswered_after")?
            .unwrap_or(DEFAULT_UNANSWERED_AFTER_S);
        if seconds > MAX_UNANSWERED_AFTER_S {
            return Err(invalid(format!(
                "`unanswered_after` must be at most {MAX_UNANSWERED_AFTER_S} seconds (30 days)"
            )));
        }
        Ok(seconds)
    }

    /// `compare=previous` asks for the preceding period too.
    pub fn compare_previous(&self) -> Result<bool, AppError> {
        match self.get("compare") {
            None | Some("none") => Ok(false),
            Some("previous") => Ok(true),
            Some(other) => Err(invalid(format!(
                "`compare`: expected previous or none, not `{}`",
                truncate_for_message(other)
            ))),
        }
    }

    /// Paging and sorting of `/analytics/events`.
    pub fn events_query(&self) -> Result<EventsQuery, AppError> {
        let limit = match self.whole_number("limit")? {
            None => DEFAULT_LIMIT,
            Some(0) => return Err(invalid("`limit` must be at least 1".to_owned())),
            Some(limit) if limit > u64::from(MAX_LIMIT) => {
                return Err(invalid(format!(
                    "`limit` is at most {MAX_LIMIT}; page with offset or cursor"
                )));
            }
            Some(limit) => limit as u32,
        };
        let offset = self.whole_number("offset")?.unwrap_or(0);
        if offset > MAX_OFFSET {
            return Err(invalid(format!(
                "`offset` is at most {MAX_OFFSET}; use cursor instead"
            )));
        }
        let sort: SortKey = self.parsed("sort")?.unwrap_or_default();
        let order: SortOrder = self.parsed("order")?.unwrap_or_default();
        let after = self.get("cursor").map(decode_cursor).transpose()?;
        if after.is_some() && sort != SortKey::Ts {
            return Err(invalid(
                "`cursor` pages only events sorted by ts".to_owned(),
            ));
        }
        Ok(EventsQuery {
            scope: self.scope()?,
            sort,
            order,
            limit,
            offset,
            after,
        })
    }

    /// The pairs this endpoint reads, in a canonical order: the cache key of an answer.
    pub fn canonical(&self, names: &[&str]) -> String {
        // Encoded: a value holding `&policy=…` cannot pass for two filters.
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                names
                    .iter()
                    .filter_map(|name| self.get(name).map(|value| (*name, value))),
            )
            .finish()
    }

    /// `policies=A,B`: offers that reference at least one of them (sorted, without repeats).
    fn policy_set(&self) -> Result<Option<Vec<String>>, AppError> {
        let Some(text) = self.text("policies", MAX_VALUE_CHARS * 8)? else {
            return Ok(None);
        };
        let mut set: Vec<String> = policy_names(&text).map(str::to_owned).collect();
        set.sort();
        set.dedup();
        if set.len() > MAX_POLICY_SET || set.iter().any(|policy| policy.chars().count() > 128) {
            return Err(invalid(format!(
                "`policies` names at most {MAX_POLICY_SET} policies of at most 128 characters"
            )));
        }
        Ok((!set.is_empty()).then_some(set))
    }
}

/// The policies of a `policies=A,B` value, without blanks (a slice reads its own the same way).
pub fn policy_names(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|policy| !policy.is_empty())
}

fn invalid(message: String) -> AppError {
    AppError::InvalidParameter(message)
}

/// A cursor is the position of the last event of a page: `<microseconds>~<id>`.
pub fn encode_cursor(ts: NaiveDateTime, id: &str) -> String {
    format!("{}~{id}", ts.and_utc().timestamp_micros())
}

fn decode_cursor(text: &str) -> Result<(NaiveDateTime, String), AppError> {
    let bad = || invalid("`cursor` is not one this API handed out (use X-Next-Cursor)".to_owned());
    let (micros, id) = text.split_once('~').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let ts = DateTime::from_timestamp_micros(micros)
        .ok_or_else(bad)?
        .naive_utc();
    Ok((ts, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Params {
        Params::parse(Some(query)).expect("parses")
    }

    #[test]
    fn reads_filters() {
        let scope = params("from=2025-10-01T00:00:00Z&to=2025-10-02T00:00:00%2B02:00&bucket=B&event=edited&q=refund&x=1")
            .scope()
            .unwrap();
        assert_eq!(scope.from.unwrap().to_string(), "2025-10-01 00:00:00");
        assert_eq!(scope.to.unwrap().to_string(), "2025-10-01 22:00:00");
        assert_eq!(scope.bucket.as_deref(), Some("B"));
        assert_eq!(scope.event.as_deref(), Some("edited"));
        assert_eq!(scope.text.as_deref(), Some("refund"));
    }

    #[test]
    fn rejects_what_makes_no_sense() {
        for query in [
            "from=2025-02-30T00:00:00Z",
            "from=2025-10-02T00:00:00Z&to=2025-10-01T00:00:00Z",
            "event=clicked",
            "tz=Mars/Olympus",
            "limit=1001",
            "limit=-1",
            "limit=0",
            "offset=1e9",
            "sort=draft",
            "interval=minute",
            "cursor=abc",
            "bucket=%00",
            "bucket=A&bucket=B",
        ] {
            let result = Params::parse(Some(query)).and_then(|p| {
                p.events_query()?;
                p.tz()?;
                p.interval()?;
                Ok(())
            });
            assert!(
                matches!(result, Err(AppError::InvalidParameter(_))),
                "{query} must be rejected"
            );
        }
        assert!(Params::parse(Some("q=%FF")).is_err());
    }

    #[test]
    fn cursors_round_trip() {
        let ts = parse_instant("2025-10-01T10:00:00.123456Z")
            .unwrap()
            .naive_utc();
        let cursor = encode_cursor(ts, "evt~1");
        assert_eq!(decode_cursor(&cursor).unwrap(), (ts, "evt~1".to_owned()));
    }
}

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::EventKind;

/// The filters every analytics endpoint accepts, as query parameters of the same names.
///
/// `from` is inclusive and `to` exclusive, both RFC 3339; `tz` is an IANA zone name used for
/// day and week boundaries (UTC when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Filter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub bucket: Option<String>,
    pub event: Option<EventKind>,
    pub policy: Option<String>,
    pub session_id: Option<String>,
    pub tz: Option<String>,
}

impl Filter {
    /// The query-string pairs of this filter, in a stable order, empty fields left out.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(from) = self.from {
            pairs.push(("from", format_instant(from)));
        }
        if let Some(to) = self.to {
            pairs.push(("to", format_instant(to)));
        }
        if let Some(bucket) = &self.bucket {
            pairs.push(("bucket", bucket.clone()));
        }
        if let Some(event) = self.event {
            pairs.push(("event", event.as_str().to_owned()));
        }
        if let Some(policy) = &self.policy {
            pairs.push(("policy", policy.clone()));
        }
        if let Some(session_id) = &self.session_id {
            pairs.push(("session_id", session_id.clone()));
        }
        if let Some(tz) = &self.tz {
            pairs.push(("tz", tz.clone()));
        }
        pairs
    }

    /// True when no filter narrows the rows (the time zone does not).
    pub fn selects_everything(&self) -> bool {
        self.from.is_none()
            && self.to.is_none()
            && self.bucket.is_none()
            && self.event.is_none()
            && self.policy.is_none()
            && self.session_id.is_none()
    }
}

/// RFC 3339 in UTC with a `Z`, to the second unless there is a fraction.
pub fn format_instant(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The width of a time-series bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Hour,
    #[default]
    Day,
    Week,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interval {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hour" => Ok(Self::Hour),
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            other => Err(format!(
                "unknown interval `{other}`: expected hour, day or week"
            )),
        }
    }
}

/// The columns `/analytics/events` can be sorted on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Ts,
    LatencyMs,
}

impl SortKey {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ts => "ts",
            Self::LatencyMs => "latency_ms",
        }
    }
}

impl FromStr for SortKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ts" => Ok(Self::Ts),
            "latency_ms" | "latency" => Ok(Self::LatencyMs),
            other => Err(format!(
                "cannot sort on `{other}`: expected ts or latency_ms"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

impl FromStr for SortOrder {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            other => Err(format!("unknown order `{other}`: expected asc or desc")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn query_pairs_leave_out_empty_fields() {
        let filter = Filter {
            from: Some(Utc.with_ymd_and_hms(2025, 10, 1, 0, 0, 0).unwrap()),
            event: Some(EventKind::Edited),
            tz: Some("Europe/Berlin".into()),
            ..Filter::default()
        };
        assert_eq!(
            filter.query_pairs(),
            vec![
                ("from", "2025-10-01T00:00:00Z".to_owned()),
                ("event", "edited".to_owned()),
                ("tz", "Europe/Berlin".to_owned()),
            ]
        );
        assert!(!filter.selects_everything());
        assert!(Filter::default().selects_everything());
    }
}

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened to a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Offered,
    Accepted,
    Edited,
    Rejected,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Offered,
        EventKind::Accepted,
        EventKind::Edited,
        EventKind::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offered => "offered",
            Self::Accepted => "accepted",
            Self::Edited => "edited",
            Self::Rejected => "rejected",
        }
    }

    /// The note counts a suggestion as accepted when it was used as is or edited.
    pub fn counts_as_accepted(self) -> bool {
        matches!(self, Self::Accepted | Self::Edited)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type `{0}`: expected offered, accepted, edited or rejected")]
pub struct ParseEventKindError(pub String);

impl FromStr for EventKind {
    type Err = ParseEventKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| ParseEventKindError(s.to_owned()))
    }
}

/// One stored event as `/analytics/events` returns it: the note's nine fields.
///
/// `event` stays a string because existing databases may hold types beyond the four known
/// ones; `policy_refs` stays the JSON text the note stores (use [`EventRecord::policies`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventRecord {
    pub id: String,
    /// RFC 3339 in UTC (the note's naive timestamps are read as UTC).
    #[serde(deserialize_with = "crate::ingest::required_instant")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub ts: DateTime<Utc>,
    pub event: String,
    pub session_id: Option<String>,
    pub agent_draft: Option<String>,
    pub suggestion_used: Option<String>,
    /// JSON text of an array of policy ids, e.g. `["PII-01","TONE-02"]`, as stored.
    pub policy_refs: Option<String>,
    #[serde(default, deserialize_with = "crate::ingest::lenient_millis")]
    pub latency_ms: Option<i64>,
    pub ab_test_bucket: Option<String>,
    /// For an outcome: the id of the `offered` event it answers, when the client said so.
    /// Absent from the note's format, and left out of the JSON when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
}

impl EventRecord {
    /// The policy ids of `policy_refs`; empty when it is missing or not a JSON array.
    pub fn policies(&self) -> Vec<String> {
        parse_policy_refs(self.policy_refs.as_deref())
    }
}

/// Reads the note's JSON-text `policy_refs` the way the note's code does: a JSON array's
/// string items; anything else (NULL, malformed JSON, not an array) yields nothing.
pub fn parse_policy_refs(text: Option<&str>) -> Vec<String> {
    let Some(text) = text else {
        return Vec::new();
    };
    match serde_json::from_str::<Vec<serde_json::Value>>(text) {
        Ok(items) => items
            .into_iter()
            .map(|item| match item {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kind_round_trips_through_text() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
        }
        assert!("Accepted".parse::<EventKind>().is_err());
    }

    #[test]
    fn policy_refs_parse_like_the_note() {
        assert_eq!(
            parse_policy_refs(Some(r#"["PII-01","TONE-02"]"#)),
            ["PII-01", "TONE-02"]
        );
        assert!(parse_policy_refs(Some("not json")).is_empty());
        assert!(parse_policy_refs(Some(r#"{"a":1}"#)).is_empty());
        assert!(parse_policy_refs(None).is_empty());
    }
}

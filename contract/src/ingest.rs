use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::EventKind;

/// One event as `POST /events` takes it. Only `event` is required: the server assigns an
/// `id` when it is missing and stamps `ts` with the time of arrival (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 128, pattern = "^[^\\x00]*\\S[^\\x00]*$")
    )]
    pub id: Option<String>,
    /// RFC 3339; a timestamp without an offset is read as UTC.
    #[serde(
        default,
        deserialize_with = "lenient_instant",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub ts: Option<DateTime<Utc>>,
    pub event: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 256, pattern = "^[^\\x00]*$"))]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 20000, pattern = "^[^\\x00]*$")
    )]
    pub agent_draft: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 20000, pattern = "^[^\\x00]*$")
    )]
    pub suggestion_used: Option<String>,
    /// Policy ids, as a JSON array or as the note's JSON text of one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_refs: Option<PolicyRefs>,
    /// Milliseconds; a fractional value is rounded.
    #[serde(
        default,
        deserialize_with = "lenient_millis",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 3_600_000))]
    pub latency_ms: Option<i64>,
    /// One of the buckets the API is configured with (`A` and `B` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "A", pattern = "^(A|B)$"))]
    pub ab_test_bucket: Option<String>,
    /// For an outcome (`accepted`, `edited`, `rejected`): the id of the `offered` event it
    /// answers. It may arrive before that offer. Without it the API infers the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 128, pattern = "^[^\\x00]*\\S[^\\x00]*$")
    )]
    pub offer_id: Option<String>,
}

impl NewEvent {
    /// An event of the given type with every optional field empty.
    pub fn new(event: EventKind) -> Self {
        Self {
            id: None,
            ts: None,
            event,
            session_id: None,
            agent_draft: None,
            suggestion_used: None,
            policy_refs: None,
            latency_ms: None,
            ab_test_bucket: None,
            offer_id: None,
        }
    }
}

/// `policy_refs` as clients send it: a list, or (as the note stores it) JSON text of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum PolicyRefs {
    List(Vec<String>),
    JsonText(String),
}

/// What `POST /events` answers once the rows are committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestResult {
    /// Events written by this request.
    pub stored: u64,
    /// Events skipped because an event with the same id was already stored.
    pub duplicates: u64,
    /// The id of every event of the request, in order (assigned ones included).
    pub ids: Vec<String>,
}

fn lenient_instant<'de, D: Deserializer<'de>>(de: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(de)? else {
        return Ok(None);
    };
    parse_instant(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

pub(crate) fn required_instant<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(de)?;
    parse_instant(&text).map_err(serde::de::Error::custom)
}

pub(crate) fn optional_instant<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<String>::deserialize(de)?
        .map(|text| parse_instant(&text).map_err(serde::de::Error::custom))
        .transpose()
}

/// Read with chrono's RFC 3339 parser only: its general format-string machinery would
/// otherwise be pulled into the dashboard's bundle.
pub(crate) fn instant_with_offset<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<DateTime<FixedOffset>, D::Error> {
    let text = String::deserialize(de)?;
    DateTime::parse_from_rfc3339(&text).map_err(serde::de::Error::custom)
}

/// RFC 3339, or an ISO 8601 date-time without offset (taken as UTC, as Python's
/// `datetime.utcnow().isoformat()` writes it).
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    if let Some(naive) = parse_naive(text) {
        return Ok(naive.and_utc());
    }
    Err(format!(
        "`{}` is not an RFC 3339 timestamp (like 2025-10-23T10:00:00Z)",
        truncate_for_message(text)
    ))
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.fraction]` without an offset. Written out by hand rather than
/// with chrono's format strings, which would add their parser to the dashboard's bundle.
fn parse_naive(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || !matches!(bytes[10], b'T' | b' ') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|(at, c)| bytes[*at] != *c) {
        return None;
    }
    let nanos = match text.get(19..) {
        None | Some("") => 0,
        Some(fraction) => {
            let digits = fraction.strip_prefix('.')?;
            if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32)
        }
    };
    let date = NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11..13)?, number(14..16)?, number(17..19)?, nanos)?;
    Some(NaiveDateTime::new(date, time))
}

pub(crate) fn lenient_millis<'de, D: Deserializer<'de>>(de: D) -> Result<Option<i64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(de)? else {
        return Ok(None);
    };
    if let Some(whole) = number.as_i64() {
        return Ok(Some(whole));
    }
    match number.as_f64() {
        Some(value) if value.is_finite() && value.abs() < 9.0e15 => Ok(Some(value.round() as i64)),
        _ => Err(serde::de::Error::custom(format!(
            "latency_ms {number} is out of range"
        ))),
    }
}

/// Cuts user text quoted back in error messages to a readable length.
pub fn truncate_for_message(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_timestamps_are_utc() {
        let parsed = parse_instant("2025-10-23T10:00:00.5").unwrap();
        assert_eq!(parsed.to_rfc3339(), "2025-10-23T10:00:00.500+00:00");
        let offset = parse_instant("2025-10-23T12:00:00+02:00").unwrap();
        assert_eq!(offset.to_rfc3339(), "2025-10-23T10:00:00+00:00");
        assert!(parse_instant("yesterday").is_err());
        assert_eq!(
            parse_instant("2025-10-23 10:00:00").unwrap().to_rfc3339(),
            "2025-10-23T10:00:00+00:00"
        );
        assert!(parse_instant("2025-02-30T00:00:00").is_err());
        assert!(parse_instant("2025-10-23T10:00:00.").is_err());
    }

    #[test]
    fn events_accept_note_style_fields() {
        let event: NewEvent = serde_json::from_str(
            r#"{"event":"edited","latency_ms":412.6,"policy_refs":"[\"PII-01\"]","ts":"2025-10-23T10:00:00"}"#,
        )
        .unwrap();
        assert_eq!(event.latency_ms, Some(413));
        assert_eq!(
            event.policy_refs,
            Some(PolicyRefs::JsonText(r#"["PII-01"]"#.into()))
        );
        let unknown = serde_json::from_str::<NewEvent>(r#"{"event":"offered","latncy":1}"#);
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown field `latncy`")
        );
    }
}

//! Notes pinned to a time ("prompt v3 rolled out"), drawn on the dashboard's timeline:
//! `GET /annotations`, `POST /annotations`, `DELETE /annotations/{id}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest note, in characters: a marker's label, not a document.
pub const MAX_ANNOTATION_CHARS: usize = 280;

/// A stored note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Annotation {
    /// Chosen by the API (a UUID v7).
    pub id: String,
    /// The moment it marks, RFC 3339 in UTC.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub ts: DateTime<Utc>,
    pub text: String,
}

/// `POST /annotations` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAnnotation {
    /// RFC 3339; a time without an offset is read as UTC.
    #[serde(deserialize_with = "crate::ingest::required_instant")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub ts: DateTime<Utc>,
    /// 1 to 280 characters, no control characters but line breaks.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 280))]
    pub text: String,
}

impl NewAnnotation {
    /// The text trimmed, or why it cannot be stored.
    pub fn clean_text(&self) -> Result<String, String> {
        let text = self.text.trim();
        if text.is_empty() {
            return Err("`text` is empty".to_owned());
        }
        if text.chars().count() > MAX_ANNOTATION_CHARS {
            return Err(format!(
                "`text` is longer than {MAX_ANNOTATION_CHARS} characters"
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err("`text` contains a control character".to_owned());
        }
        Ok(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(text: &str) -> NewAnnotation {
        NewAnnotation {
            ts: Utc::now(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn text_is_checked() {
        assert_eq!(
            note("  prompt v3  ").clean_text(),
            Ok("prompt v3".to_owned())
        );
        assert!(note(" ").clean_text().is_err());
        assert!(note("a\u{0}b").clean_text().is_err());
        assert!(note("two\nlines").clean_text().is_ok());
        assert!(note(&"é".repeat(280)).clean_text().is_ok());
        assert!(note(&"é".repeat(281)).clean_text().is_err());
    }

    #[test]
    fn reads_a_body() {
        let body: NewAnnotation =
            serde_json::from_str(r#"{"ts":"2025-10-02T10:00:00+02:00","text":"v3"}"#).unwrap();
        assert_eq!(body.ts.to_rfc3339(), "2025-10-02T08:00:00+00:00");
        assert!(serde_json::from_str::<NewAnnotation>(r#"{"ts":"x","text":"v3"}"#).is_err());
        assert!(
            serde_json::from_str::<NewAnnotation>(
                r#"{"ts":"2025-10-02T10:00:00Z","text":"v","id":"1"}"#
            )
            .is_err()
        );
    }
}

//! Bodies of `POST /events`: one JSON object, a JSON array of objects, or NDJSON.

use coachboard_contract::NewEvent;

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// A JSON object or array (`application/json`, or no content type).
    Json,
    /// One JSON object per line (`application/x-ndjson`, `application/jsonl`).
    Lines,
}

impl BodyFormat {
    /// The format a `Content-Type` announces; other types are refused.
    pub fn from_content_type(content_type: Option<&str>) -> Result<Self, AppError> {
        let Some(content_type) = content_type else {
            return Ok(Self::Json);
        };
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" | "text/json" | "" => Ok(Self::Json),
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
            | "application/jsonlines" => Ok(Self::Lines),
            other => Err(AppError::UnsupportedMediaType(format!(
                "Content-Type `{other}` is not accepted: send events as application/json (an object or an array) \
                 or application/x-ndjson (one object per line)"
            ))),
        }
    }
}

/// Parses a body into events, at most `max_events` of them.
pub fn parse_body(
    body: &[u8],
    format: BodyFormat,
    max_events: usize,
) -> Result<Vec<NewEvent>, AppError> {
    let text = std::str::from_utf8(body).map_err(|error| {
        AppError::BadRequest(format!(
            "the body is not valid UTF-8 (at byte {})",
            error.valid_up_to()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(AppError::BadRequest(
            "the body is empty: send one event, an array of events, or NDJSON".to_owned(),
        ));
    }
    if let Some(events) = parse_fast(text, format) {
        if events.is_empty() {
            return Err(AppError::BadRequest("the body holds no events".to_owned()));
        }
        if events.len() > max_events {
            return Err(AppError::PayloadTooLarge(format!(
                "a request holds at most {max_events} events; split the batch"
            )));
        }
        return Ok(events);
    }
    // The slow path, for bodies that do not parse: it says which event is wrong and why.
    let values = match format {
        BodyFormat::Json => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(items)) => items,
            Ok(object @ serde_json::Value::Object(_)) => vec![object],
            Ok(_) => {
                return Err(AppError::BadRequest(
                    "the body must be an event object or an array of event objects".to_owned(),
                ));
            }
            Err(error) => {
                return Err(AppError::BadRequest(format!(
                    "the body is not valid JSON: {error}"
                )));
            }
        },
        BodyFormat::Lines => {
            let mut items = Vec::new();
            for (number, line) in text
                .lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty())
            {
                if items.len() == max_events {
                    break;
                }
                let value = serde_json::from_str(line).map_err(|error| {
                    AppError::BadRequest(format!("line {}: not valid JSON: {error}", number + 1))
                })?;
                items.push(value);
            }
            items
        }
    };
    if values.is_empty() {
        return Err(AppError::BadRequest("the body holds no events".to_owned()));
    }
    if values.len() > max_events
        || (format == BodyFormat::Lines
            && text.lines().filter(|l| !l.trim().is_empty()).count() > max_events)
    {
        return Err(AppError::PayloadTooLarge(format!(
            "a request holds at most {max_events} events; split the batch"
        )));
    }
    values
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            if !value.is_object() {
                return Err(AppError::InvalidEvent(format!(
                    "event {}: must be a JSON object",
                    index + 1
                )));
            }
            serde_json::from_value::<NewEvent>(value)
                .map_err(|error| AppError::InvalidEvent(format!("event {}: {error}", index + 1)))
        })
        .collect()
}

/// Straight into events, for the common case of a valid body; `None` if anything is off.
fn parse_fast(text: &str, format: BodyFormat) -> Option<Vec<NewEvent>> {
    match format {
        BodyFormat::Json => match text.trim_start().as_bytes().first()? {
            b'[' => serde_json::from_str(text).ok(),
            b'{' => serde_json::from_str(text).ok().map(|event| vec![event]),
            _ => None,
        },
        BodyFormat::Lines => text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).ok())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_arrays_and_lines() {
        let one = parse_body(br#"{"event":"offered"}"#, BodyFormat::Json, 10).unwrap();
        assert_eq!(one.len(), 1);
        let many = parse_body(
            br#"[{"event":"offered"},{"event":"rejected"}]"#,
            BodyFormat::Json,
            10,
        )
        .unwrap();
        assert_eq!(many.len(), 2);
        let lines = parse_body(
            b"{\"event\":\"offered\"}\n\n{\"event\":\"edited\"}\n",
            BodyFormat::Lines,
            10,
        )
        .unwrap();
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn says_what_is_wrong() {
        let cases: [(&[u8], &str); 6] = [
            (b"", "empty"),
            (b"[]", "no events"),
            (b"{\"event\":", "not valid JSON"),
            (b"[1]", "event 1: must be a JSON object"),
            (b"[{\"event\":\"clicked\"}]", "unknown variant `clicked`"),
            (b"\xff", "not valid UTF-8"),
        ];
        for (body, expected) in cases {
            let error = parse_body(body, BodyFormat::Json, 10)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(expected),
                "{error} should mention {expected}"
            );
        }
        let too_many = parse_body(
            b"[{\"event\":\"offered\"},{\"event\":\"offered\"}]",
            BodyFormat::Json,
            1,
        );
        assert!(matches!(too_many, Err(AppError::PayloadTooLarge(_))));
        assert!(BodyFormat::from_content_type(Some("application/x-www-form-urlencoded")).is_err());
        assert_eq!(
            BodyFormat::from_content_type(Some("application/json; charset=utf-8")).unwrap(),
            BodyFormat::Json
        );
    }
}

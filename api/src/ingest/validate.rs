//! Checks every event of a batch against the limits and turns it into a [`StoredEvent`].

use std::collections::HashMap;

use chrono::{DateTime, Duration, DurationRound, NaiveDateTime, Utc};
use coachboard_contract::{EventKind, NewEvent, PolicyRefs, truncate_for_message};

use crate::error::AppError;
use crate::store::StoredEvent;

/// Bounds on what a request may carry.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_batch: usize,
    pub max_id_chars: usize,
    pub max_session_chars: usize,
    pub max_text_chars: usize,
    pub max_policies: usize,
    pub max_policy_chars: usize,
    pub max_latency_ms: i64,
    /// Accepted values of `ab_test_bucket`.
    pub buckets: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 << 20,
            max_batch: 10_000,
            max_id_chars: 128,
            max_session_chars: 256,
            max_text_chars: 20_000,
            max_policies: 32,
            max_policy_chars: 64,
            max_latency_ms: 3_600_000,
            buckets: vec!["A".to_owned(), "B".to_owned()],
        }
    }
}

/// Validates a batch, assigning ids and times; the first problem rejects the whole batch.
pub fn validate_batch(
    events: Vec<NewEvent>,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<Vec<StoredEvent>, AppError> {
    let mut positions: HashMap<String, usize> = HashMap::with_capacity(events.len());
    events
        .into_iter()
        .enumerate()
        .map(|(index, event)| {
            let stored = validate(event, limits, now).map_err(|message| {
                AppError::InvalidEvent(format!("event {}: {message}", index + 1))
            })?;
            if let Some(first) = positions.insert(stored.id.clone(), index) {
                return Err(AppError::InvalidEvent(format!(
                    "events {} and {} share the id `{}`: ids must be unique within a request",
                    first + 1,
                    index + 1,
                    truncate_for_message(&stored.id)
                )));
            }
            Ok(stored)
        })
        .collect()
}

fn validate(event: NewEvent, limits: &Limits, now: DateTime<Utc>) -> Result<StoredEvent, String> {
    let id = match event.id {
        Some(id) => {
            check_text("id", &id, limits.max_id_chars)?;
            if id.trim().is_empty() {
                return Err("`id` is empty; leave it out to have one assigned".to_owned());
            }
            id
        }
        None => uuid::Uuid::now_v7().to_string(),
    };
    let ts = match event.ts {
        Some(ts) => check_time(ts, now)?,
        None => now.naive_utc(),
    };
    // The database keeps microseconds: so does everything that mirrors it in memory.
    let ts = match ts.duration_trunc(Duration::microseconds(1)) {
        Ok(truncated) => truncated,
        Err(_) => ts,
    };
    if let Some(session_id) = &event.session_id {
        check_text("session_id", session_id, limits.max_session_chars)?;
    }
    for (name, text) in [
        ("agent_draft", &event.agent_draft),
        ("suggestion_used", &event.suggestion_used),
    ] {
        if let Some(text) = text {
            check_text(name, text, limits.max_text_chars)?;
        }
    }
    let policy_refs = event
        .policy_refs
        .map(|refs| policy_text(refs, limits))
        .transpose()?;
    if let Some(latency) = event.latency_ms
        && !(0..=limits.max_latency_ms).contains(&latency)
    {
        return Err(format!(
            "`latency_ms` must be between 0 and {} ms, not {latency}",
            limits.max_latency_ms
        ));
    }
    if let Some(bucket) = &event.ab_test_bucket
        && !limits.buckets.iter().any(|known| known == bucket)
    {
        return Err(format!(
            "`ab_test_bucket` must be one of {}, not `{}`",
            limits.buckets.join(", "),
            truncate_for_message(bucket)
        ));
    }
    let offer_id = match event.offer_id {
        Some(_) if event.event == EventKind::Offered => {
            return Err(
                "`offer_id` names the offer an outcome answers; an `offered` event has none"
                    .to_owned(),
            );
        }
        Some(offer_id) => {
            check_text("offer_id", &offer_id, limits.max_id_chars)?;
            if offer_id.trim().is_empty() {
                return Err("`offer_id` is empty; leave it out to have the link inferred".into());
            }
            if offer_id == id {
                return Err("`offer_id` names the event itself, not an offer".to_owned());
            }
            Some(offer_id)
        }
        None => None,
    };
    Ok(StoredEvent {
        id,
        ts,
        event: event.event.as_str().to_owned(),
        session_id: event.session_id,
        agent_draft: event.agent_draft,
        suggestion_used: event.suggestion_used,
        policy_refs,
        latency_ms: event.latency_ms,
        ab_test_bucket: event.ab_test_bucket,
        offer_id,
    })
}

fn check_text(name: &str, text: &str, max_chars: usize) -> Result<(), String> {
    if text.contains('\0') {
        return Err(format!("`{name}` contains a NUL character"));
    }
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(format!(
            "`{name}` has {chars} characters; the limit is {max_chars}"
        ));
    }
    Ok(())
}

/// Events are dated from the epoch to a day ahead (clocks drift; years do not).
fn check_time(ts: DateTime<Utc>, now: DateTime<Utc>) -> Result<NaiveDateTime, String> {
    let latest = now + Duration::days(1);
    if ts < DateTime::UNIX_EPOCH || ts > latest {
        return Err(format!(
            "`ts` {} is outside 1970-01-01 … {}",
            ts.to_rfc3339(),
            latest.date_naive()
        ));
    }
    Ok(ts.naive_utc())
}

/// The note stores policy ids as JSON text of an array.
fn policy_text(refs: PolicyRefs, limits: &Limits) -> Result<String, String> {
    let list = match refs {
        PolicyRefs::List(list) => list,
        PolicyRefs::JsonText(text) => serde_json::from_str::<Vec<String>>(&text).map_err(|_| {
            "`policy_refs` must be an array of policy ids (or JSON text of one)".to_owned()
        })?,
    };
    if list.len() > limits.max_policies {
        return Err(format!(
            "`policy_refs` has {} ids; the limit is {}",
            list.len(),
            limits.max_policies
        ));
    }
    for policy in &list {
        check_text("policy_refs", policy, limits.max_policy_chars)?;
        if policy.trim().is_empty() {
            return Err("`policy_refs` holds an empty policy id".to_owned());
        }
    }
    serde_json::to_string(&list).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use coachboard_contract::EventKind;

    fn event() -> NewEvent {
        NewEvent::new(EventKind::Offered)
    }

    #[test]
    fn assigns_ids_and_times() {
        let now = Utc::now();
        let stored = validate_batch(vec![event(), event()], &Limits::default(), now).unwrap();
        assert_ne!(stored[0].id, stored[1].id);
        assert_eq!(
            stored[0].ts,
            now.naive_utc()
                .duration_trunc(Duration::microseconds(1))
                .unwrap()
        );
    }

    #[test]
    fn rejects_bad_fields() {
        let now = Utc::now();
        let limits = Limits::default();
        let cases: Vec<(NewEvent, &str)> = vec![
            (
                NewEvent {
                    latency_ms: Some(-1),
                    ..event()
                },
                "latency_ms",
            ),
            (
                NewEvent {
                    ab_test_bucket: Some("C".into()),
                    ..event()
                },
                "ab_test_bucket",
            ),
            (
                NewEvent {
                    agent_draft: Some("a\0b".into()),
                    ..event()
                },
                "NUL",
            ),
            (
                NewEvent {
                    id: Some(" ".into()),
                    ..event()
                },
                "empty",
            ),
            (
                NewEvent {
                    ts: Some(now + Duration::days(30)),
                    ..event()
                },
                "outside",
            ),
            (
                NewEvent {
                    policy_refs: Some(PolicyRefs::JsonText("{}".into())),
                    ..event()
                },
                "array",
            ),
            (
                NewEvent {
                    session_id: Some("s".repeat(300)),
                    ..event()
                },
                "limit",
            ),
        ];
        for (bad, expected) in cases {
            let error = validate_batch(vec![bad], &limits, now)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(expected),
                "{error} should mention {expected}"
            );
        }
    }

    #[test]
    fn rejects_duplicate_ids_in_a_batch() {
        let with_id = NewEvent {
            id: Some("x".into()),
            ..event()
        };
        let error = validate_batch(
            vec![with_id.clone(), event(), with_id],
            &Limits::default(),
            Utc::now(),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("events 1 and 3 share the id `x`")
        );
    }

    #[test]
    fn stores_policy_refs_as_json_text() {
        let refs = NewEvent {
            policy_refs: Some(PolicyRefs::List(vec!["PII-01".into(), "TONE-02".into()])),
            ..event()
        };
        let stored = validate_batch(vec![refs], &Limits::default(), Utc::now()).unwrap();
        assert_eq!(
            stored[0].policy_refs.as_deref(),
            Some(r#"["PII-01","TONE-02"]"#)
        );
    }
}

//! Rows as they travel to and from ClickHouse (RowBinary), and their conversion to the
//! store's plain types.

use chrono::{DateTime, NaiveDateTime};
use coachboard_contract::{EventRecord, parse_policy_refs};
use serde::{Deserialize, Serialize};

use super::super::{GroupRow, PolicyRow, StoredEvent};

/// A row of `events`, in the order of `schema::COLUMNS`.
#[derive(Debug, Clone, clickhouse::Row, Serialize)]
pub(crate) struct InsertRow {
    pub id: String,
    /// Seconds since the epoch (`DateTime`).
    pub ts: u32,
    pub ts_us: i64,
    pub event: String,
    pub session_id: Option<String>,
    pub agent_draft: Option<String>,
    pub suggestion_used: Option<String>,
    pub policy_refs: Option<String>,
    pub policies: Vec<String>,
    pub latency_ms: Option<i64>,
    pub ab_test_bucket: Option<String>,
    pub offer_id: Option<String>,
    pub seq: u64,
}

impl InsertRow {
    /// `seq` orders rows written at the same instant as they were written.
    pub fn new(event: &StoredEvent, seq: u64) -> Self {
        let ts = event.ts.and_utc();
        Self {
            id: event.id.clone(),
            ts: super::sql::second_of(ts.timestamp_micros()) as u32,
            ts_us: ts.timestamp_micros(),
            event: event.event.clone(),
            session_id: event.session_id.clone(),
            agent_draft: event.agent_draft.clone(),
            suggestion_used: event.suggestion_used.clone(),
            policy_refs: event.policy_refs.clone(),
            policies: parse_policy_refs(event.policy_refs.as_deref()),
            latency_ms: event.latency_ms,
            ab_test_bucket: event.ab_test_bucket.clone(),
            offer_id: event.offer_id.clone(),
            seq,
        }
    }
}

/// `sql::EVENT_COLUMNS`.
#[derive(Debug, Clone, clickhouse::Row, Deserialize)]
pub(crate) struct EventRow {
    pub id: String,
    pub ts_us: i64,
    pub event: String,
    pub session_id: Option<String>,
    pub agent_draft: Option<String>,
    pub suggestion_used: Option<String>,
    pub policy_refs: Option<String>,
    pub latency_ms: Option<i64>,
    pub ab_test_bucket: Option<String>,
    pub offer_id: Option<String>,
}

pub(crate) fn instant(micros: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|instant| instant.naive_utc())
}

impl EventRow {
    pub fn into_record(self) -> Option<EventRecord> {
        Some(EventRecord {
            id: self.id,
            ts: DateTime::from_timestamp_micros(self.ts_us)?,
            event: self.event,
            session_id: self.session_id,
            agent_draft: self.agent_draft,
            suggestion_used: self.suggestion_used,
            policy_refs: self.policy_refs,
            latency_ms: self.latency_ms,
            ab_test_bucket: self.ab_test_bucket,
            offer_id: self.offer_id,
        })
    }
}

/// `sql::aggregate`'s columns.
#[derive(Debug, Clone, clickhouse::Row, Deserialize)]
pub(crate) struct GroupFields {
    pub slot: i64,
    pub bucket: Option<String>,
    pub event: String,
    pub bin: i64,
    pub n: u64,
    pub latency_sum: i64,
}

impl GroupFields {
    pub fn into_row(self, grouped: bool) -> GroupRow {
        GroupRow {
            slot: grouped.then_some(self.slot),
            bucket: self.bucket,
            event: Some(self.event),
            bin: u16::try_from(self.bin).ok(),
            count: self.n,
            latency_sum: self.latency_sum,
        }
    }
}

/// `sql::policy_counts`' columns.
#[derive(Debug, Clone, clickhouse::Row, Deserialize)]
pub(crate) struct PolicyFields {
    pub slot: i64,
    pub bucket: Option<String>,
    pub event: String,
    pub policy: String,
    pub n: u64,
}

impl PolicyFields {
    pub fn into_row(self, grouped: bool) -> PolicyRow {
        PolicyRow {
            slot: grouped.then_some(self.slot),
            bucket: self.bucket,
            event: Some(self.event),
            policy: self.policy,
            count: self.n,
        }
    }
}

/// `sql::EXTENT`'s columns.
#[derive(Debug, Clone, clickhouse::Row, Deserialize)]
pub(crate) struct ExtentFields {
    pub total: u64,
    pub first_us: i64,
    pub last_us: i64,
}

/// `sql::ROLLUP_ENDS`' columns.
#[derive(Debug, Clone, Copy, clickhouse::Row, Deserialize)]
pub(crate) struct HourEnds {
    pub first: i64,
    pub last: i64,
}

/// `sql::earliest_before` and `sql::latest_from`'s columns.
#[derive(Debug, Clone, Copy, clickhouse::Row, Deserialize)]
pub(crate) struct InstantFields {
    pub n: u64,
    pub at: i64,
}

/// A table's column, from `system.columns`.
#[derive(Debug, Clone, clickhouse::Row, Deserialize)]
pub(crate) struct ColumnFields {
    pub name: String,
    pub kind: String,
}

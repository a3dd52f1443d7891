//! The newest events, kept in memory: the first page of the events table (the dashboard's
//! default view) is answered without a query. Invariant: it holds exactly the table's
//! newest rows by (ts, id), as DuckDB would sort them; writes only ever add rows.

use coachboard_contract::EventRecord;

use crate::store::{EventStore, EventsQuery, Scope, StoreError, StoredEvent};

/// How many of the newest events are kept (10 pages of 100).
pub const CAPACITY: usize = 1000;

#[derive(Debug, Default)]
pub struct Recent {
    /// Newest first.
    events: Vec<EventRecord>,
    /// True when the table has no more rows than these.
    complete: bool,
}

fn newer(a: &EventRecord, b: &EventRecord) -> bool {
    (a.ts, &a.id) > (b.ts, &b.id)
}

fn record_of(event: &StoredEvent) -> EventRecord {
    EventRecord {
        id: event.id.clone(),
        ts: event.ts.and_utc(),
        event: event.event.clone(),
        session_id: event.session_id.clone(),
        agent_draft: event.agent_draft.clone(),
        suggestion_used: event.suggestion_used.clone(),
        policy_refs: event.policy_refs.clone(),
        latency_ms: event.latency_ms,
        ab_test_bucket: event.ab_test_bucket.clone(),
    }
}

impl Recent {
    pub fn load(store: &dyn EventStore) -> Result<Self, StoreError> {
        let query = EventsQuery {
            scope: Scope::default(),
            sort: coachboard_contract::SortKey::Ts,
            order: coachboard_contract::SortOrder::Desc,
            limit: CAPACITY as u32,
            offset: 0,
            after: None,
        };
        let events = store.events(&query)?;
        Ok(Self {
            complete: events.len() < CAPACITY,
            events,
        })
    }

    /// Adds committed events that belong among the newest.
    pub fn record(&mut self, events: &[StoredEvent]) {
        for event in events {
            let record = record_of(event);
            let full = self.events.len() >= CAPACITY;
            if full
                && self
                    .events
                    .last()
                    .is_some_and(|oldest| !newer(&record, oldest))
            {
                continue;
            }
            let at = self.events.partition_point(|kept| newer(kept, &record));
            self.events.insert(at, record);
            if self.events.len() > CAPACITY {
                self.events.pop();
                self.complete = false;
            }
        }
    }

    /// Events `offset..offset + limit`, newest first, if they are all here.
    pub fn page(&self, offset: u64, limit: u32) -> Option<Vec<EventRecord>> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(limit as usize)?;
        if end > self.events.len() && !self.complete {
            return None;
        }
        let end = end.min(self.events.len());
        Some(self.events.get(start.min(end)..end)?.to_vec())
    }
}

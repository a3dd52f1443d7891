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
        offer_id: event.offer_id.clone(),
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

    /// Adds committed events that belong among the newest: a merge of two sorted runs, so a
    /// batch costs one pass however many of its events are new.
    pub fn record(&mut self, events: &[StoredEvent]) {
        let oldest_kept = (self.events.len() >= CAPACITY)
            .then(|| self.events.last())
            .flatten();
        let mut incoming: Vec<EventRecord> = events
            .iter()
            .map(record_of)
            .filter(|record| oldest_kept.is_none_or(|oldest| newer(record, oldest)))
            .collect();
        if incoming.is_empty() {
            return;
        }
        incoming.sort_by(|a, b| (b.ts, &b.id).cmp(&(a.ts, &a.id)));
        let kept = std::mem::take(&mut self.events);
        let mut merged = Vec::with_capacity((kept.len() + incoming.len()).min(CAPACITY));
        let (mut old, mut new) = (kept.into_iter().peekable(), incoming.into_iter().peekable());
        while merged.len() < CAPACITY {
            let take_new = match (old.peek(), new.peek()) {
                (Some(a), Some(b)) => newer(b, a),
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (None, None) => break,
            };
            let next = if take_new { new.next() } else { old.next() };
            merged.extend(next);
        }
        if old.peek().is_some() || new.peek().is_some() {
            self.complete = false;
        }
        self.events = merged;
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

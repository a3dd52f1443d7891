//! Answers kept until the data changes: every committed write bumps the engine's version,
//! and an answer is served from here only for the version it was computed at.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue};

/// A finished answer: JSON body plus the headers that go with it.
#[derive(Debug, Clone)]
pub struct CachedAnswer {
    pub body: Bytes,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Debug, Default)]
pub struct ResponseCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    version: u64,
    answers: HashMap<String, CachedAnswer>,
}

/// Distinct answers kept per data version; past it the cache starts over.
const CAPACITY: usize = 512;

impl ResponseCache {
    pub fn get(&self, version: u64, key: &str) -> Option<CachedAnswer> {
        let entries = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (entries.version == version)
            .then(|| entries.answers.get(key).cloned())
            .flatten()
    }

    pub fn put(&self, version: u64, key: String, answer: CachedAnswer) {
        let mut entries = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.version != version {
            if version < entries.version {
                return; // computed before a newer write: stale already
            }
            entries.version = version;
            entries.answers.clear();
        }
        if entries.answers.len() >= CAPACITY {
            entries.answers.clear();
        }
        entries.answers.insert(key, answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &'static str) -> CachedAnswer {
        CachedAnswer {
            body: Bytes::from_static(text.as_bytes()),
            headers: Vec::new(),
        }
    }

    #[test]
    fn serves_only_the_current_version() {
        let cache = ResponseCache::default();
        cache.put(1, "k".into(), answer("one"));
        assert_eq!(cache.get(1, "k").unwrap().body, "one");
        assert!(cache.get(2, "k").is_none());
        cache.put(2, "k".into(), answer("two"));
        cache.put(1, "k".into(), answer("stale"));
        assert_eq!(cache.get(2, "k").unwrap().body, "two");
    }
}

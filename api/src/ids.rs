//! Which event ids are stored, kept in memory as 64-bit hashes so that a re-sent event is
//! recognised without scanning the table. A hash match is confirmed against the database
//! before an event is skipped, so a collision can never drop a new event.

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

/// Hashes of stored ids: a sorted vector for the bulk (8 bytes an id) and a set for the
/// ones added since it was last merged.
#[derive(Debug, Default)]
pub struct IdIndex {
    sorted: Vec<u64>,
    recent: HashSet<u64>,
}

const MERGE_AT: usize = 1 << 18;

fn hash_of(id: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

impl IdIndex {
    /// Builds the index from every stored id.
    pub fn from_ids(ids: impl IntoIterator<Item = u64>) -> Self {
        let mut sorted: Vec<u64> = ids.into_iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        Self {
            sorted,
            recent: HashSet::new(),
        }
    }

    pub fn hash(id: &str) -> u64 {
        hash_of(id)
    }

    /// True when an id with the same hash may be stored (confirm with the database).
    pub fn may_contain(&self, id: &str) -> bool {
        let hash = hash_of(id);
        self.recent.contains(&hash) || self.sorted.binary_search(&hash).is_ok()
    }

    pub fn insert(&mut self, id: &str) {
        let hash = hash_of(id);
        if self.sorted.binary_search(&hash).is_err() {
            self.recent.insert(hash);
        }
        if self.recent.len() >= MERGE_AT {
            self.merge();
        }
    }

    fn merge(&mut self) {
        self.sorted.extend(self.recent.drain());
        self.sorted.sort_unstable();
    }

    /// Approximate heap size, for the start-up log.
    pub fn bytes(&self) -> usize {
        self.sorted.capacity() * 8 + self.recent.capacity() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_what_was_added() {
        let mut index = IdIndex::from_ids(["a", "b"].map(IdIndex::hash));
        assert!(index.may_contain("a"));
        assert!(!index.may_contain("c"));
        index.insert("c");
        assert!(index.may_contain("c"));
        for n in 0..(MERGE_AT + 10) {
            index.insert(&format!("id-{n}"));
        }
        assert!(index.may_contain("id-0"));
        assert!(index.may_contain(&format!("id-{}", MERGE_AT + 9)));
        assert!(!index.may_contain("never"));
    }
}

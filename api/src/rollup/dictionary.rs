//! Interned strings (bucket, event and policy names), so cells hold small ids.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Dictionary {
    names: Vec<Option<String>>,
    /// Keyed by the name itself, so a lookup borrows it (no allocation per row).
    ids: HashMap<String, u32>,
    /// The id of "no name" (NULL), once seen.
    none: Option<u32>,
}

impl Dictionary {
    pub fn intern(&mut self, name: Option<&str>) -> u32 {
        if let Some(id) = self.lookup(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.map(str::to_owned));
        match name {
            Some(name) => {
                self.ids.insert(name.to_owned(), id);
            }
            None => self.none = Some(id),
        }
        id
    }

    pub fn lookup(&self, name: Option<&str>) -> Option<u32> {
        match name {
            Some(name) => self.ids.get(name).copied(),
            None => self.none,
        }
    }

    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).and_then(|name| name.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_and_no_name_get_ids_of_their_own() {
        let mut names = Dictionary::default();
        let a = names.intern(Some("A"));
        let none = names.intern(None);
        let empty = names.intern(Some(""));
        assert_eq!(names.intern(Some("A")), a);
        assert_eq!(names.intern(None), none);
        assert_eq!(names.lookup(Some("")), Some(empty));
        assert_ne!(none, empty);
        assert_eq!(
            (names.name(a), names.name(none), names.name(empty)),
            (Some("A"), None, Some(""))
        );
        assert_eq!(names.lookup(Some("B")), None);
    }
}

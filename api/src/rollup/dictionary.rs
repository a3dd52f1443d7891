//! Interned strings (bucket, event and policy names), so cells hold small ids.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Dictionary {
    names: Vec<Option<String>>,
    ids: HashMap<Option<String>, u32>,
}

impl Dictionary {
    pub fn intern(&mut self, name: Option<&str>) -> u32 {
        if let Some(id) = self.lookup(name) {
            return id;
        }
        let id = self.names.len() as u32;
        let owned = name.map(str::to_owned);
        self.names.push(owned.clone());
        self.ids.insert(owned, id);
        id
    }

    pub fn lookup(&self, name: Option<&str>) -> Option<u32> {
        self.ids.get(&name.map(str::to_owned)).copied()
    }

    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).and_then(|name| name.as_deref())
    }
}

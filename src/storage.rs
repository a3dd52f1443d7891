//! Browser storage that degrades to memory: third-party iframes may have storage blocked
//! (access throws), and the dashboard must still work there.

use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    static MEMORY: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// Which browser storage to try first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Survives reloads of this tab only (tokens).
    Session,
    /// Survives restarts (preferences).
    Local,
}

fn browser_storage(kind: Kind) -> Option<web_sys::Storage> {
    let window = web_sys::window()?;
    let storage = match kind {
        Kind::Session => window.session_storage(),
        Kind::Local => window.local_storage(),
    };
    storage.ok().flatten()
}

pub fn get(kind: Kind, key: &str) -> Option<String> {
    browser_storage(kind)
        .and_then(|storage| storage.get_item(key).ok().flatten())
        .or_else(|| MEMORY.with(|memory| memory.borrow().get(key).cloned()))
}

pub fn set(kind: Kind, key: &str, value: &str) {
    let stored = browser_storage(kind).is_some_and(|storage| storage.set_item(key, value).is_ok());
    if !stored {
        MEMORY.with(|memory| memory.borrow_mut().insert(key.to_owned(), value.to_owned()));
    }
}

pub fn remove(kind: Kind, key: &str) {
    if let Some(storage) = browser_storage(kind) {
        let _ = storage.remove_item(key);
    }
    MEMORY.with(|memory| memory.borrow_mut().remove(key));
}

/// The key under which the token for an API is kept: a token only ever goes to the API it
/// was entered for.
pub fn token_key(api_base: &str) -> String {
    format!("coachboard.token:{api_base}")
}

pub const THEME_KEY: &str = "coachboard.theme";

//! Saved views: a name for the current URL state, kept in the browser (localStorage) and
//! shareable as a link (pure; the storage calls are in the component).

use serde::{Deserialize, Serialize};

pub const STORAGE_KEY: &str = "coachboard.views";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub name: String,
    /// The query string of the view, without its `?`.
    pub query: String,
}

/// The list as stored; an unreadable value (edited by hand, an older format) is no list.
pub fn parse(stored: Option<&str>) -> Vec<SavedView> {
    stored
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

pub fn to_json(views: &[SavedView]) -> String {
    serde_json::to_string(views).unwrap_or_else(|_| "[]".to_owned())
}

/// The list with `name` saved for `query`: a view of the same name is replaced, the list
/// stays sorted by name. `None` for a blank name.
pub fn with_saved(views: &[SavedView], name: &str, query: &str) -> Option<Vec<SavedView>> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let mut next: Vec<SavedView> = views
        .iter()
        .filter(|view| view.name != name)
        .cloned()
        .collect();
    next.push(SavedView {
        name: name.chars().take(80).collect(),
        query: query.trim_start_matches('?').to_owned(),
    });
    next.sort_by_key(|view| view.name.to_lowercase());
    Some(next)
}

pub fn without(views: &[SavedView], name: &str) -> Vec<SavedView> {
    views
        .iter()
        .filter(|view| view.name != name)
        .cloned()
        .collect()
}

/// The view's address under the dashboard's `path` (the same origin).
pub fn href(path: &str, view: &SavedView) -> String {
    if view.query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", view.query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saving_replaces_a_view_of_the_same_name_and_keeps_names_in_order() {
        let views = with_saved(&[], "PII week", "?range=7d&policy=PII-01").expect("saved");
        let views = with_saved(&views, "all of B", "bucket=B").expect("saved");
        let views = with_saved(&views, " PII week ", "range=30d&policy=PII-01").expect("saved");
        assert_eq!(
            views,
            vec![
                SavedView {
                    name: "all of B".into(),
                    query: "bucket=B".into()
                },
                SavedView {
                    name: "PII week".into(),
                    query: "range=30d&policy=PII-01".into()
                },
            ]
        );
        assert_eq!(with_saved(&views, "  ", "x=1"), None);
        assert_eq!(without(&views, "all of B").len(), 1);
    }

    #[test]
    fn the_stored_list_round_trips_and_garbage_is_no_list() {
        let views = with_saved(&[], "a", "range=7d").expect("saved");
        assert_eq!(parse(Some(&to_json(&views))), views);
        assert_eq!(parse(Some("{not json")), Vec::new());
        assert_eq!(parse(None), Vec::new());
    }

    #[test]
    fn links_keep_the_dashboards_path() {
        let view = SavedView {
            name: "a".into(),
            query: "range=7d".into(),
        };
        assert_eq!(href("/tools/coach/", &view), "/tools/coach/?range=7d");
    }
}

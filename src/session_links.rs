//! Where the session page lives, as plain functions: its address carries the dashboard's
//! query, so going back restores the view exactly as it was.

use crate::query::{encode, query_string};

/// The session page of `id`, keeping the dashboard's query pairs.
pub fn session_href(base: &str, id: &str, pairs: &[(String, String)]) -> String {
    format!("{base}/sessions/{}{}", encode(id), query_string(pairs))
}

/// The dashboard with the query pairs the session page was opened with.
pub fn dashboard_href(base: &str, pairs: &[(String, String)]) -> String {
    format!("{base}/{}", query_string(pairs))
}

/// The still-encoded session id of a session page's path, `None` for other paths.
pub fn encoded_session_id<'a>(pathname: &'a str, base: &str) -> Option<&'a str> {
    let id = pathname.strip_prefix(base)?.strip_prefix("/sessions/")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_links_keep_the_view_and_escape_the_id() {
        let pairs = vec![("policy".to_owned(), "PII-01".to_owned())];
        assert_eq!(
            session_href("/tools/coach", "sess 1/é", &pairs),
            "/tools/coach/sessions/sess%201%2F%C3%A9?policy=PII-01"
        );
        assert_eq!(dashboard_href("", &pairs), "/?policy=PII-01");
        assert_eq!(dashboard_href("/tools/coach", &[]), "/tools/coach/");
        assert_eq!(
            encoded_session_id("/tools/coach/sessions/sess%201", "/tools/coach"),
            Some("sess%201")
        );
        assert_eq!(encoded_session_id("/sessions/", ""), None);
        assert_eq!(encoded_session_id("/other/x", ""), None);
    }
}

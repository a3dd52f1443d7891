//! axe-core on every state the dashboard can be in besides the main view and the session
//! page (those are checked where their screenshots are taken): the token prompt, the
//! unreachable API, an empty database, an empty range, an unknown page; light and dark, wide
//! and phone. Also the keyboard: every control is reachable and shows where focus is.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use serde_json::json;

use crate::axe;
use crate::harness::{Api, Browser};

/// Each (view, page URL, the state's marker) at both sizes and both themes.
async fn check_states(states: &[(&str, String, &str)]) {
    for (size, width, height) in [("wide", 1440, 1000), ("phone", 390, 900)] {
        let browser = if size == "phone" {
            Browser::phone(width, height).await
        } else {
            Browser::start(width, height).await
        };
        for (view, url, marker) in states {
            for theme in ["light", "dark"] {
                let separator = if url.contains('?') { '&' } else { '?' };
                browser
                    .open(&format!("{url}{separator}theme={theme}"))
                    .await;
                browser
                    .wait_for(&format!("document.querySelector('{marker}')"))
                    .await;
                axe::assert_clean(&browser, &format!("{view} ({theme}, {size})")).await;
            }
        }
        browser.stop().await;
    }
}

#[tokio::test]
async fn every_state_of_the_dashboard_passes_axe() {
    let empty = Api::start(0, &[]).await;
    let data = Api::start(2_000, &[]).await;
    let guarded = Api::start(100, &["--read-token", "s3cret-read"]).await;
    let dead = format!("http://127.0.0.1:{}", crate::harness::free_port());
    check_states(&[
        (
            "token prompt",
            format!("{}/", guarded.url),
            "[data-state=token]",
        ),
        (
            "unreachable API",
            format!("{}/?api={dead}", empty.url),
            "[data-state=unreachable]",
        ),
        (
            "empty database",
            format!("{}/", empty.url),
            "[data-state=empty-database]",
        ),
        (
            "empty range",
            format!(
                "{}/?range=custom&from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z",
                data.url
            ),
            "[data-state=empty-range]",
        ),
        (
            "unknown page",
            format!("{}/no/such/page", data.url),
            "[data-state=not-found]",
        ),
    ])
    .await;
}

#[tokio::test]
async fn every_control_is_reachable_by_tab_and_shows_its_focus() {
    let api = Api::start(2_000, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser.open(&api.url).await;
    browser
        .wait_for("document.querySelectorAll('tr.event-row').length === 25")
        .await;
    // Real Tab presses from the top: each stop is a control with a visible outline, and the
    // walk reaches the table at the bottom.
    let mut stops = Vec::new();
    let mut without_ring = Vec::new();
    for _ in 0..300 {
        let tab = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: '\u{e004}' })
            .then(KeyAction::Up { value: '\u{e004}' });
        browser.client.perform_actions(tab).await.expect("Tab");
        let focused = browser
            .eval(
                "(() => { const e = document.activeElement; const s = getComputedStyle(e); \
                 return [e.tagName + '.' + e.className, e.outerHTML.slice(0, 100), \
                 s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2]; })()",
            )
            .await;
        let name = focused[0].as_str().unwrap_or_default().to_owned();
        if name.starts_with("BODY") {
            break;
        }
        if focused[2] != json!(true) {
            without_ring.push(focused[1].as_str().unwrap_or_default().to_owned());
        }
        stops.push(name);
    }
    assert!(stops.len() > 40, "{} stops: {stops:?}", stops.len());
    assert!(
        stops.iter().any(|stop| stop.contains("disclose")),
        "the event rows open by keyboard: {stops:?}"
    );
    assert_eq!(
        without_ring,
        Vec::<String>::new(),
        "controls without a focus ring"
    );
    browser.stop().await;
}

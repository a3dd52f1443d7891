//! The session page: opened from the table, its suggestions as the API pairs them, and Esc
//! or Back returning to the dashboard's view exactly as it was.

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::json;

use crate::ROWS;
use crate::harness::{Api, Browser};

const VIEW: &str = "/?bucket=B&policy=PII-01";

/// Opens the dashboard on `VIEW`, clicks the first row's session, and returns its id.
async fn open_first_session(api: &Api, browser: &Browser) -> String {
    browser.open(&format!("{}{VIEW}", api.url)).await;
    browser
        .wait_for("document.querySelectorAll('tr.event-row').length === 25")
        .await;
    let link = browser
        .client
        .find(Locator::Css("tr.event-row td a.link"))
        .await
        .expect("a session link");
    let session = link.text().await.expect("its text");
    link.click().await.expect("click on the session");
    browser
        .wait_for("document.querySelectorAll('.suggestion-card').length > 0")
        .await;
    session
}

/// The dashboard is back on `VIEW` with its filters and rows.
async fn assert_dashboard_restored(browser: &Browser) {
    browser
        .wait_for("document.querySelectorAll('tr.event-row').length === 25")
        .await;
    assert_eq!(
        browser.eval("location.pathname + location.search").await,
        json!(VIEW)
    );
    let chips = browser
        .eval("[...document.querySelectorAll('.chip')].map(c => c.textContent).sort()")
        .await;
    assert_eq!(chips, json!(["PII-01 ×", "bucket B ×"]));
}

#[tokio::test]
async fn the_session_page_opens_from_the_table_and_back_restores_the_view() {
    let api = Api::start(ROWS, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    let session = open_first_session(&api, &browser).await;
    // Its address carries the view, and its content is what the API pairs.
    let path = browser.eval("location.pathname + location.search").await;
    assert_eq!(
        path,
        json!(format!("/sessions/{session}?bucket=B&policy=PII-01"))
    );
    let detail = api.json(&format!("/analytics/sessions/{session}")).await;
    let suggestions = detail["suggestions"].as_array().expect("suggestions");
    let cards = browser
        .eval("[...document.querySelectorAll('.suggestion-card .badge')].map(b => b.textContent)")
        .await;
    let expected: Vec<String> = suggestions
        .iter()
        .map(|suggestion| {
            suggestion["outcome"]["event"]
                .as_str()
                .unwrap_or("unanswered")
                .to_owned()
        })
        .collect();
    assert_eq!(cards, json!(expected));
    // Esc goes back.
    browser
        .client
        .active_element()
        .await
        .expect("focus")
        .send_keys(&Key::Escape.to_string())
        .await
        .expect("Esc");
    assert_dashboard_restored(&browser).await;
    // So does the browser's Back.
    open_first_session(&api, &browser).await;
    browser.client.back().await.expect("back");
    assert_dashboard_restored(&browser).await;
    // A deep link works on its own, and its Back link leads to the view it names.
    browser
        .open(&format!(
            "{}/sessions/{session}?bucket=B&policy=PII-01",
            api.url
        ))
        .await;
    browser
        .wait_for("document.querySelectorAll('.suggestion-card').length > 0")
        .await;
    browser
        .client
        .find(Locator::Css("a.back"))
        .await
        .expect("the back link")
        .click()
        .await
        .expect("click");
    assert_dashboard_restored(&browser).await;
    browser.stop().await;
}

#[tokio::test]
async fn session_page_screenshots_light_dark_phone() {
    let api = Api::start(ROWS, &[]).await;
    let events = api.json("/analytics/events?limit=1").await;
    let session = events[0]["session_id"]
        .as_str()
        .expect("a session")
        .to_owned();
    crate::harness::screenshots(
        &format!("{}/sessions/{session}", api.url),
        "session-",
        [("wide", 1440, 1100), ("phone", 390, 1800)],
        &["document.querySelectorAll('.suggestion-card').length > 0"],
    )
    .await;
}

//! Saved views: a name for the current URL state, back after a reload, opened from the menu,
//! exported as links, deleted; the open menu passes axe.

use fantoccini::Locator;
use serde_json::json;

use crate::axe;
use crate::harness::{Api, Browser};

async fn open_menu(browser: &Browser) {
    browser
        .wait_for("document.querySelector('.views-menu summary')")
        .await;
    browser.click(".views-menu summary").await;
    browser
        .wait_for("document.querySelector('.views-menu').open")
        .await;
}

#[tokio::test]
async fn a_saved_view_comes_back_from_the_menu_and_exports_as_a_link() {
    let api = Api::start(2_000, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser
        .open(&format!("{}/?range=7d&policy=PII-01", api.url))
        .await;
    browser
        .wait_for("document.querySelector('.views-menu')")
        .await;
    open_menu(&browser).await;
    let input = browser
        .client
        .find(Locator::Css("#view-name"))
        .await
        .expect("name field");
    input.send_keys("PII <b>week</b>").await.expect("typed");
    browser.click(".save-view button[type=submit]").await;
    browser
        .wait_for("document.querySelectorAll('.saved-views li').length === 1")
        .await;
    // Another view, then a reload: the saved one is still there, its name as text.
    browser.open(&format!("{}/?range=all", api.url)).await;
    open_menu(&browser).await;
    let link = browser
        .wait_for("document.querySelector('.saved-views a')?.textContent")
        .await;
    assert_eq!(link, json!("PII <b>week</b>"));
    assert_eq!(
        browser
            .eval("document.querySelectorAll('.saved-views b').length")
            .await,
        json!(0)
    );
    let export = browser
        .eval("document.querySelector('#views-export').value")
        .await;
    let export = export.as_str().unwrap_or_default();
    assert!(
        export.starts_with(&format!("PII <b>week</b>: {}/?", api.url))
            && export.contains("range=7d")
            && export.contains("policy=PII-01"),
        "{export}"
    );
    for theme in ["light", "dark"] {
        browser
            .open(&format!("{}/?range=all&theme={theme}", api.url))
            .await;
        open_menu(&browser).await;
        browser
            .wait_for("document.querySelector('.saved-views a')")
            .await;
        browser.screenshot(&format!("views-{theme}-wide")).await;
        axe::assert_clean(&browser, &format!("the Views menu ({theme})")).await;
    }
    // Opened from the menu: the view's range and filter.
    browser.click(".saved-views a").await;
    browser
        .wait_for(
            "location.search.includes('range=7d') && location.search.includes('policy=PII-01')",
        )
        .await;
    open_menu(&browser).await;
    browser.click(".saved-views button.delete").await;
    browser
        .wait_for("document.querySelectorAll('.saved-views li').length === 0")
        .await;
    assert_eq!(
        browser
            .eval("localStorage.getItem('coachboard.views')")
            .await,
        json!("[]")
    );
    browser.stop().await;
}

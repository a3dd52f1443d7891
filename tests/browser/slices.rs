//! A portal's sliced read token: the dashboard shows that slice only, says so, and cannot be
//! talked out of it from the URL.

use serde_json::Value;

use crate::axe;
use crate::harness::{Api, Browser, thousands};

async fn summary(api: &Api, query: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/analytics/summary{query}", api.url))
        .bearer_auth("full-secret")
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn a_sliced_token_sees_its_bucket_only() {
    let api = Api::start(
        4_000,
        &[
            "--read-token",
            "full-secret",
            "--sliced-read-token",
            "portal-a bucket=A",
        ],
    )
    .await;
    let bucket_a = summary(&api, "?bucket=A").await["total_events"]
        .as_u64()
        .expect("total");
    let everything = summary(&api, "").await["total_events"]
        .as_u64()
        .expect("total");
    assert!(bucket_a < everything);
    let browser = Browser::start(1440, 1000).await;
    browser.open(&api.url).await;
    browser.enter_token("portal-a").await;
    browser
        .wait_for(&format!(
            "document.querySelector('[data-kpi=total_events] .value')?.textContent === '{}'",
            thousands(bucket_a)
        ))
        .await;
    let note = browser
        .wait_for("document.querySelector('.slice-note')?.textContent")
        .await;
    assert!(
        note.as_str()
            .unwrap_or_default()
            .contains("limited to bucket A"),
        "{note}"
    );
    browser
        .wait_for("document.querySelector('.controls select:not(.compare)')?.disabled")
        .await;
    for theme in ["light", "dark"] {
        browser.open(&format!("{}/?theme={theme}", api.url)).await;
        browser
            .wait_for("document.querySelector('.slice-note') && document.querySelector('canvas.timeline')?.dataset.drawn")
            .await;
        browser.screenshot(&format!("slice-{theme}-wide")).await;
        axe::assert_clean(&browser, &format!("sliced token ({theme})")).await;
    }
    // A phone in the same tab session: the token is entered there too.
    let phone = Browser::phone(390, 844).await;
    phone.open(&api.url).await;
    phone.enter_token("portal-a").await;
    for theme in ["light", "dark"] {
        phone.open(&format!("{}/?theme={theme}", api.url)).await;
        phone
            .wait_for("document.querySelector('.slice-note') && document.querySelector('[data-kpi=total_events] .value')")
            .await;
        phone.screenshot(&format!("slice-{theme}-phone")).await;
        axe::assert_clean(&phone, &format!("sliced token ({theme}, phone)")).await;
    }
    phone.stop().await;
    // Another bucket from the URL: the API refuses, and the page says why.
    browser.open(&format!("{}/?bucket=B", api.url)).await;
    browser
        .wait_for("document.body.textContent.includes('this token reads only bucket=A')")
        .await;
    let shown = browser
        .eval("document.querySelector('[data-kpi=total_events] .value')?.textContent ?? ''")
        .await;
    assert_ne!(shown.as_str(), Some(thousands(everything).as_str()));
    browser.stop().await;
}

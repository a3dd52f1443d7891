//! The keyboard shortcuts, pressed for real: range letters, arrows stepping the period, `/`
//! to search, Esc to clear the filters, `?` for the list (which passes axe too).

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use serde_json::json;

use crate::axe;
use crate::harness::{Api, Browser};

async fn press(browser: &Browser, key: char) {
    let actions = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    browser
        .client
        .perform_actions(actions)
        .await
        .expect("key press");
}

async fn query(browser: &Browser) -> String {
    browser
        .eval("location.search")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn shortcuts_pick_ranges_step_periods_search_and_clear() {
    let api = Api::start(2_000, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser
        .open(&format!("{}/?policy=PII-01&bucket=A", api.url))
        .await;
    browser
        .wait_for("document.querySelectorAll('tr.event-row').length > 0")
        .await;
    press(&browser, 'w').await;
    browser
        .wait_for("location.search.includes('range=7d')")
        .await;
    // Left: the week before, as a custom range; right: the rolling week again.
    press(&browser, '\u{e012}').await;
    browser
        .wait_for("location.search.includes('range=custom')")
        .await;
    let stepped = query(&browser).await;
    assert!(
        stepped.contains("from=") && stepped.contains("to="),
        "{stepped}"
    );
    press(&browser, '\u{e014}').await;
    browser
        .wait_for("location.search.includes('range=7d')")
        .await;
    // `/` puts the cursor in the search box; letters typed there are text, not shortcuts.
    press(&browser, '/').await;
    assert_eq!(
        browser.eval("document.activeElement.className").await,
        json!("search")
    );
    press(&browser, 'm').await;
    browser.wait_for("location.search.includes('q=m')").await;
    assert!(
        query(&browser).await.contains("range=7d"),
        "m typed, not a range"
    );
    // Esc clears every filter (the search too) and keeps the range.
    press(&browser, '\u{e00c}').await;
    browser
        .wait_for("!location.search.includes('policy=') && !location.search.includes('q=')")
        .await;
    let cleared = query(&browser).await;
    assert!(!cleared.contains("bucket="), "{cleared}");
    assert!(cleared.contains("range=7d"), "{cleared}");
    browser.stop().await;
}

#[tokio::test]
async fn question_mark_lists_the_shortcuts_in_an_accessible_dialog() {
    let api = Api::start(2_000, &[]).await;
    for theme in ["light", "dark"] {
        let browser = Browser::start(1440, 1000).await;
        browser.open(&format!("{}/?theme={theme}", api.url)).await;
        browser
            .wait_for("document.querySelectorAll('tr.event-row').length > 0")
            .await;
        press(&browser, '?').await;
        browser
            .wait_for("document.querySelector('dialog.shortcuts').open")
            .await;
        let listed = browser
            .eval("document.querySelectorAll('dialog.shortcuts kbd').length")
            .await;
        assert_eq!(listed, json!(10));
        browser.screenshot(&format!("shortcuts-{theme}-wide")).await;
        axe::assert_clean(&browser, &format!("the shortcut list ({theme})")).await;
        press(&browser, '\u{e00c}').await;
        browser
            .wait_for("!document.querySelector('dialog.shortcuts').open")
            .await;
        browser.stop().await;
    }
}

#[tokio::test]
async fn every_card_and_chart_explains_its_metric_on_focus() {
    let api = Api::start(2_000, &[]).await;
    for (size, browser) in [
        ("wide", Browser::start(1440, 1000).await),
        ("phone", Browser::phone(390, 900).await),
    ] {
        browser.open(&api.url).await;
        browser
            .wait_for("document.querySelectorAll('canvas[data-drawn=\"true\"]').length >= 4")
            .await;
        let tips = browser
            .eval("document.querySelectorAll('button.info').length")
            .await;
        assert!(tips.as_u64().unwrap_or(0) >= 11, "{tips} definitions");
        // Focused, the accept rate's ⓘ shows its text, which is also its description.
        browser
            .eval("document.querySelector('[data-kpi=accept_rate] button.info').focus() || true")
            .await;
        let shown = browser
            .eval(
                "(() => { const b = document.activeElement; const tip = document.getElementById(b.getAttribute('aria-describedby')); \
                 const r = tip.getBoundingClientRect(); return [getComputedStyle(tip).display, tip.textContent, r.left >= 0 && r.right <= innerWidth]; })()",
            )
            .await;
        assert_eq!(shown[0], json!("block"), "{shown}");
        assert!(
            shown[1]
                .as_str()
                .unwrap_or_default()
                .contains("divided by offered"),
            "{shown}"
        );
        assert_eq!(shown[2], json!(true), "the tip stays on screen: {shown}");
        browser
            .screenshot(&format!("definition-light-{size}"))
            .await;
        axe::assert_clean(&browser, &format!("a definition shown ({size})")).await;
        browser.stop().await;
    }
}

#[tokio::test]
async fn charts_are_explored_with_the_arrow_keys_and_their_values_said() {
    let api = Api::start(2_000, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser.open(&api.url).await;
    browser
        .wait_for("document.querySelectorAll('canvas[data-drawn=\"true\"]').length >= 6")
        .await;
    let focusable = browser
        .eval("document.querySelectorAll('canvas[tabindex=\"0\"]').length")
        .await;
    assert!(focusable.as_u64().unwrap_or(0) >= 6, "{focusable} charts");
    // The policy chart: its bars in order, said with their counts, as the API has them.
    let policies = api.json("/analytics/policies").await;
    browser
        .eval("document.querySelector('canvas.policies').focus() || true")
        .await;
    press(&browser, '\u{e014}').await; // →: the first bar
    press(&browser, '\u{e014}').await; // →: the second
    let said = browser
        .wait_for("document.querySelector('#panel-policies .chart-point')?.textContent")
        .await;
    let said = said.as_str().unwrap_or_default().to_owned();
    // "NAME: Violations N (2 of M)", N being the API's count for NAME and M its policies.
    let (name, rest) = said.split_once(": Violations ").expect("said in words");
    let count = policies[name].as_u64().expect("a policy the API counts");
    let total = policies.as_object().map_or(0, |counts| counts.len());
    assert_eq!(
        rest,
        format!("{} (2 of {total})", crate::harness::thousands(count)),
        "{said}"
    );
    press(&browser, '\u{e010}').await; // End: the last bar
    browser
        .wait_for("/\\((\\d+) of \\1\\)/.test(document.querySelector('#panel-policies .chart-point').textContent)")
        .await;
    assert_eq!(
        browser
            .eval(
                "document.querySelector('#panel-policies .chart-point').getAttribute('aria-live')"
            )
            .await,
        json!("polite")
    );
    axe::assert_clean(&browser, "a chart explored by keyboard").await;
    browser.stop().await;
}

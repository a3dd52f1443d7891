//! Comparing and explaining on the timeline: the earlier period drawn faintly behind the
//! charts (and in their tables) with its toggle; annotations written through the API shown
//! as markers whose text appears on hover and focus, as text.

use serde_json::{Value, json};

use crate::axe;
use crate::harness::{Api, Browser};

const WEEK: &str = "range=custom&from=2026-01-08T00:00:00Z&to=2026-01-15T00:00:00Z";
const HOSTILE: &str = "<img src=x onerror=\"window.hacked=1\">PII-02 policy added";

async fn annotate(api: &Api, ts: &str, text: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/annotations", api.url))
        .json(&json!({"ts": ts, "text": text}))
        .send()
        .await
        .expect("POST /annotations");
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.expect("JSON")
}

/// Events per bucket of a timeseries answer, summed.
fn total(series: &Value) -> u64 {
    series["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|point| {
            ["offered", "accepted", "edited", "rejected", "other"]
                .iter()
                .map(|kind| point[*kind].as_u64().unwrap_or(0))
                .sum::<u64>()
        })
        .sum()
}

/// The numbers of one column of the timeline's table, summed.
async fn column_sum(browser: &Browser, header: &str) -> u64 {
    let values = browser
        .eval(&format!(
            "(() => {{
                const table = document.querySelector('#panel-timeline table');
                const index = [...table.querySelectorAll('th')].findIndex(th => th.textContent === {header:?});
                return [...table.querySelectorAll('tbody tr')].map(tr => tr.children[index].textContent);
            }})()"
        ))
        .await;
    values
        .as_array()
        .expect("cells")
        .iter()
        .map(|cell| {
            cell.as_str()
                .unwrap_or_default()
                .replace(',', "")
                .parse::<u64>()
                .unwrap_or(0)
        })
        .sum()
}

#[tokio::test]
async fn the_previous_period_is_drawn_behind_and_can_be_turned_off() {
    let api = Api::start(4_000, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser
        .open(&format!("{}/?{WEEK}&compare=previous", api.url))
        .await;
    browser
        .wait_for("document.querySelector('#panel-timeline .swatch.baseline')")
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('select.compare').value")
            .await,
        json!("previous")
    );
    let label = browser
        .wait_for("document.querySelector('canvas.timeline')?.getAttribute('aria-label')")
        .await;
    assert!(
        label
            .as_str()
            .unwrap_or_default()
            .contains("Previous period, drawn faintly behind"),
        "{label}"
    );
    // The table says what is drawn: the earlier week's events, bucket by bucket.
    let earlier = api
        .json(
            "/analytics/timeseries?from=2026-01-01T00:00:00Z&to=2026-01-08T00:00:00Z&interval=day",
        )
        .await;
    assert!(
        total(&earlier) > 0,
        "the generated month has events that week"
    );
    browser.click("#panel-timeline .toggle").await;
    browser
        .wait_for("document.querySelector('#panel-timeline table')")
        .await;
    assert_eq!(
        column_sum(&browser, "Previous period").await,
        total(&earlier)
    );
    browser.click("#panel-timeline .toggle").await;
    // The latency chart says the earlier period's percentiles.
    let subtitle = browser
        .wait_for("document.querySelector('#panel-latency .panel-subtitle')?.textContent")
        .await;
    assert!(
        subtitle
            .as_str()
            .unwrap_or_default()
            .contains("Previous period, faint"),
        "{subtitle}"
    );
    let phone = Browser::phone(390, 844).await;
    for (size, shooter) in [("wide", &browser), ("phone", &phone)] {
        for theme in ["light", "dark"] {
            shooter
                .open(&format!("{}/?{WEEK}&compare=week&theme={theme}", api.url))
                .await;
            shooter
                .wait_for("document.querySelector('#panel-timeline .legend')?.textContent.includes('A week before')")
                .await;
            shooter
                .wait_for("document.querySelector('canvas.timeline')?.dataset.drawn")
                .await;
            if size == "phone" {
                shooter
                    .eval("(document.querySelector('#panel-timeline').scrollIntoView(), true)")
                    .await;
            }
            shooter.screenshot(&format!("compare-{theme}-{size}")).await;
            axe::assert_clean(shooter, &format!("comparison ({theme}, {size})")).await;
        }
    }
    phone.stop().await;
    // Off from the control: the URL forgets it and the faint series goes.
    browser
        .eval("(() => { const s = document.querySelector('select.compare'); s.value = 'off'; s.dispatchEvent(new Event('change')); return true; })()")
        .await;
    browser
        .wait_for("!document.querySelector('#panel-timeline .swatch.baseline') && !location.search.includes('compare')")
        .await;
    // All time has no earlier period: the control is disabled.
    browser.open(&format!("{}/?range=all", api.url)).await;
    browser
        .wait_for("document.querySelector('select.compare')?.disabled")
        .await;
    browser.stop().await;
}

#[tokio::test]
async fn annotations_are_markers_with_their_text_on_hover_and_focus() {
    let api = Api::start(4_000, &[]).await;
    annotate(&api, "2026-01-10T09:00:00Z", "prompt v3 rolled out").await;
    let hostile = annotate(&api, "2026-01-13T15:30:00Z", HOSTILE).await;
    annotate(&api, "2025-12-01T00:00:00Z", "outside the range").await;
    for (size, width, height) in [("wide", 1440, 1000), ("phone", 390, 844)] {
        let browser = Browser::sized(size, width, height).await;
        for theme in ["light", "dark"] {
            browser
                .open(&format!("{}/?{WEEK}&theme={theme}", api.url))
                .await;
            browser
                .wait_for("document.querySelectorAll('.note-mark button').length === 2")
                .await;
            // Each marker sits over the plot, in time order, left to right.
            let lefts = browser
                .eval("[...document.querySelectorAll('.note-mark')].map(m => m.getBoundingClientRect().left)")
                .await;
            let lefts: Vec<f64> = lefts
                .as_array()
                .expect("lefts")
                .iter()
                .filter_map(Value::as_f64)
                .collect();
            assert!(lefts[0] < lefts[1], "{lefts:?}");
            // Hidden until focused; then the text shows, as text, on screen.
            assert_eq!(
                browser
                    .eval("getComputedStyle(document.querySelectorAll('.note-text')[1]).display")
                    .await,
                json!("none")
            );
            browser
                .eval("(document.querySelectorAll('.note-mark button')[1].focus(), true)")
                .await;
            let shown = browser
                .wait_for("(() => { const t = document.querySelectorAll('.note-text')[1]; return getComputedStyle(t).display !== 'none' && t.textContent; })()")
                .await;
            assert!(
                shown.as_str().unwrap_or_default().ends_with(HOSTILE),
                "{shown}"
            );
            assert_eq!(
                browser
                    .eval(
                        "document.querySelectorAll('.note-marks img').length + (window.hacked || 0)"
                    )
                    .await,
                json!(0)
            );
            let inside = browser
                .eval("(() => { const r = document.querySelectorAll('.note-text')[1].getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth; })()")
                .await;
            assert_eq!(
                inside,
                json!(true),
                "the note's text stays on screen ({size})"
            );
            let described = browser
                .eval("document.getElementById(document.querySelectorAll('.note-mark button')[1].getAttribute('aria-describedby')).textContent")
                .await;
            assert_eq!(described, shown);
            browser.screenshot(&format!("notes-{theme}-{size}")).await;
            axe::assert_clean(&browser, &format!("annotations ({theme}, {size})")).await;
        }
        browser.stop().await;
    }
    // Deleted through the API: gone from the page.
    let deleted = reqwest::Client::new()
        .delete(format!(
            "{}/annotations/{}",
            api.url,
            hostile["id"].as_str().expect("id")
        ))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(deleted.status().as_u16(), 204);
    let browser = Browser::start(1440, 1000).await;
    browser.open(&format!("{}/?{WEEK}", api.url)).await;
    browser
        .wait_for("document.querySelector('canvas.timeline')?.dataset.drawn")
        .await;
    browser
        .wait_for("document.querySelectorAll('.note-mark button').length === 1")
        .await;
    browser.stop().await;
}

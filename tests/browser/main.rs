//! The real built dashboard in headless Chromium against the real API on a generated
//! database. Run by `make test` (it builds both first).

mod accessibility;
mod anywhere;
mod axe;
mod comparing;
mod harness;
mod hosts;
mod keyboard;
mod sessions;
mod slices;
mod views;

use fantoccini::Locator;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use harness::{Api, Browser, thousands};
use serde_json::json;

const ROWS: u64 = 20_000;

/// The note's four KPI values as shown (the decision-time card follows them).
async fn kpis(browser: &Browser) -> Vec<String> {
    browser
        .wait_for("document.querySelectorAll('[data-kpi] .value').length === 5")
        .await;
    let values = browser
        .eval("[...document.querySelectorAll('[data-kpi] .value')].slice(0, 4).map(e => e.textContent)")
        .await;
    values
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

fn expected_kpis(summary: &serde_json::Value) -> Vec<String> {
    vec![
        thousands(summary["total_events"].as_u64().unwrap()),
        thousands(summary["suggestions_offered"].as_u64().unwrap()),
        format!("{:.1}%", summary["accept_rate"].as_f64().unwrap()),
        format!(
            "{} ms",
            thousands(summary["avg_latency_ms"].as_u64().unwrap())
        ),
    ]
}

#[tokio::test]
async fn kpi_values_equal_what_the_api_returns() {
    let api = Api::start(ROWS, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser.open(&api.url).await;
    let shown = kpis(&browser).await;
    assert_eq!(shown, expected_kpis(&api.json("/analytics/summary").await));
    browser.stop().await;
}

/// The WebAssembly is downloaded and compiled by boot.js's worker, not on the page's own
/// thread (the page's resource timings would list it), and the static frame of index.html
/// gives way to the built page: one page shown, no frame left.
#[tokio::test]
async fn a_worker_compiles_the_app_and_the_frame_gives_way_to_it() {
    let api = Api::start(ROWS, &[]).await;
    let browser = Browser::phone(390, 844).await;
    browser.open(&api.url).await;
    kpis(&browser).await;
    assert_eq!(browser.eval(harness::WASM_FETCHED_BY_PAGE).await, json!(0));
    assert_eq!(
        browser
            .eval("[document.querySelectorAll('#boot').length, [...document.querySelectorAll('.page')].filter(p => !p.hidden).length]")
            .await,
        json!([0, 1])
    );
    browser.stop().await;
}

/// A phone's first screen builds what it shows; the panels below are built as they scroll
/// near (and the table's rows with them).
#[tokio::test]
async fn panels_below_the_fold_are_built_as_they_scroll_near() {
    let api = Api::start(ROWS, &[]).await;
    let browser = Browser::phone(390, 844).await;
    browser.open(&api.url).await;
    browser
        .wait_for_as_scrolled("document.querySelector('#panel-timeline canvas[data-drawn]')")
        .await;
    browser
        .wait_for_as_scrolled("document.querySelector('[data-kpi] .value')")
        .await;
    let built = "[...document.querySelectorAll('.panel')].filter(p => p.querySelector('canvas, table')).map(p => p.id)";
    let first = browser.eval(built).await;
    let first: Vec<&str> = first
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|id| id.as_str())
        .collect();
    assert!(first.contains(&"panel-timeline"), "built first: {first:?}");
    for below in ["panel-rewrites", "panel-policy-outcomes", "panel-events"] {
        assert!(
            !first.contains(&below),
            "{below} is built before it is near: {first:?}"
        );
    }
    assert_eq!(
        browser
            .eval("document.querySelectorAll('tr.event-row').length")
            .await,
        json!(0)
    );
    browser
        .eval("document.querySelector('#panel-events').scrollIntoView() || true")
        .await;
    browser
        .wait_for_as_scrolled("document.querySelectorAll('tr.event-row').length === 25")
        .await;
    browser
        .eval("document.querySelector('#panel-rewrites').scrollIntoView() || true")
        .await;
    browser
        .wait_for_as_scrolled("document.querySelector('#panel-rewrites canvas[data-drawn]')")
        .await;
    browser.stop().await;
}

#[tokio::test]
async fn every_chart_canvas_is_drawn() {
    let api = Api::start(ROWS, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser.open(&api.url).await;
    browser
        .wait_for("document.querySelectorAll('canvas[data-drawn=\"true\"]').length === 6")
        .await;
    // Count pixels that differ from the top-left one: a drawn chart has many.
    let painted = browser
        .eval(
            "[...document.querySelectorAll('canvas')].map(c => {
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let i = 0; i < d.length; i += 4) if (d[i] !== d[0] || d[i+1] !== d[1] || d[i+2] !== d[2]) n++;
                return [c.className, n, c.getAttribute('aria-label')];
            })",
        )
        .await;
    for chart in painted.as_array().expect("array") {
        let (class, pixels, label) = (
            chart[0].as_str().unwrap(),
            chart[1].as_u64().unwrap(),
            chart[2].as_str().unwrap_or(""),
        );
        assert!(pixels > 500, "{class} has {pixels} painted pixels");
        assert!(!label.is_empty(), "{class} has an aria-label");
    }
    browser.stop().await;
}

#[tokio::test]
async fn the_table_shows_the_newest_events() {
    let api = Api::start(ROWS, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser.open(&api.url).await;
    browser
        .wait_for("document.querySelectorAll('tr.event-row').length === 25")
        .await;
    let newest = api.json("/analytics/events?limit=25").await;
    let rows = browser
        .eval("[...document.querySelectorAll('tr.event-row')].map(r => [r.querySelector('.time').textContent, r.querySelector('.badge').textContent])")
        .await;
    for (index, row) in rows.as_array().unwrap().iter().enumerate() {
        let event = &newest[index];
        // The browser runs in UTC: "2026-01-15T11:58:02.123Z" shows as "2026-01-15 11:58:02".
        let ts = event["ts"].as_str().unwrap();
        assert_eq!(
            row[0].as_str().unwrap(),
            ts[..19].replace('T', " "),
            "row {index}"
        );
        assert_eq!(row[1], event["event"], "row {index}");
    }
    let count = browser
        .eval("document.querySelector('.pager .count').textContent")
        .await;
    assert_eq!(count, json!(format!("1–25 of {}", thousands(ROWS))));
    browser.stop().await;
}

#[tokio::test]
async fn a_filter_in_the_url_changes_the_numbers() {
    let api = Api::start(ROWS, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser
        .open(&format!("{}/?bucket=B&event=offered", api.url))
        .await;
    let expected = expected_kpis(&api.json("/analytics/summary?bucket=B&event=offered").await);
    let all = expected_kpis(&api.json("/analytics/summary").await);
    assert_ne!(expected[0], all[0], "the filter narrows the data");
    browser
        .wait_for(&format!(
            "document.querySelector('[data-kpi=total_events] .value')?.textContent === '{}'",
            expected[0]
        ))
        .await;
    assert_eq!(kpis(&browser).await, expected);
    let chips = browser
        .eval("[...document.querySelectorAll('.chip')].map(c => c.textContent)")
        .await;
    assert_eq!(chips, json!(["offered ×", "bucket B ×"]));
    browser.stop().await;
}

#[tokio::test]
async fn clicking_a_policy_bar_filters_the_table() {
    let api = Api::start(ROWS, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser.open(&api.url).await;
    browser
        .wait_for("document.querySelector('canvas.policies[data-drawn=\"true\"]')")
        .await;
    let policies = api.json("/analytics/policies").await;
    let counts = policies.as_object().unwrap();
    let top = counts
        .iter()
        .max_by_key(|(_, count)| count.as_u64())
        .map(|(policy, _)| policy.clone())
        .unwrap();
    // In view first: the pointer moves relative to the canvas's centre.
    browser
        .eval("document.querySelector('canvas.policies').scrollIntoView({block: 'center'}) || true")
        .await;
    let size = browser.eval("(r => [r.width, r.height])(document.querySelector('canvas.policies').getBoundingClientRect())").await;
    let (width, height) = (size[0].as_f64().unwrap(), size[1].as_f64().unwrap());
    let rows = counts.len().clamp(4, 12) as f64;
    // The first (largest) bar: its row's middle, well inside the bar.
    let canvas = browser
        .client
        .find(Locator::Css("canvas.policies"))
        .await
        .expect("canvas");
    let click = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveToElement {
            element: canvas,
            duration: None,
            x: 180.0 - width / 2.0,
            y: height / rows / 2.0 - height / 2.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    browser.client.perform_actions(click).await.expect("click");
    browser
        .wait_for(&format!("location.search.includes('policy={top}')"))
        .await;
    let total = api.json(&format!("/analytics/summary?policy={top}")).await["total_events"]
        .as_u64()
        .unwrap();
    browser
        .wait_for(&format!(
            "document.querySelector('.pager .count')?.textContent.endsWith('of {}')",
            thousands(total)
        ))
        .await;
    // Offers carry the policy; outcomes are there as what became of those suggestions.
    let rows = browser.eval("[...document.querySelectorAll('tr.event-row')].map(r => [r.querySelector('.badge').textContent, [...r.querySelectorAll('.tag')].map(t => t.textContent)])").await;
    let rows = rows.as_array().unwrap();
    assert!(
        rows.iter().any(|row| row[0] != "offered"),
        "outcomes are shown: {rows:?}"
    );
    for (index, row) in rows.iter().enumerate() {
        if row[0] == "offered" {
            assert!(
                row[1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|tag| tag == &json!(top)),
                "offer in row {index} has {top}: {row}"
            );
        }
    }
    // The accept rate of the suggestions that touched the policy: what the API says, and
    // not zero (outcomes carry no policy of their own).
    let summary = api.json(&format!("/analytics/summary?policy={top}")).await;
    let rate = summary["accept_rate"].as_f64().unwrap();
    assert!(rate > 20.0, "a real accept rate: {summary}");
    browser
        .wait_for(&format!(
            "document.querySelector('[data-kpi=accept_rate] .value')?.textContent === '{rate:.1}%'"
        ))
        .await;
    browser.stop().await;
}

#[tokio::test]
async fn an_unreachable_api_says_where_and_offers_retry() {
    let api = Api::start(0, &[]).await;
    let dead = format!("http://127.0.0.1:{}", harness::free_port());
    let browser = Browser::start(1440, 1000).await;
    browser.open(&format!("{}/?api={dead}", api.url)).await;
    let text = browser
        .wait_for("document.querySelector('[data-state=unreachable]')?.textContent")
        .await;
    let text = text.as_str().unwrap();
    assert!(text.contains("Cannot reach the Coachboard API"), "{text}");
    assert!(text.contains(&dead), "names the URL tried: {text}");
    assert!(text.contains("make run"), "says how to start it: {text}");
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('button')].some(b => b.textContent === 'Retry')")
            .await,
        json!(true)
    );
    browser.stop().await;
}

#[tokio::test]
async fn event_text_is_shown_as_text_never_html() {
    let api = Api::start(ROWS, &[]).await;
    let hostile = "<img src=x onerror=alert(1)>";
    api.post(json!({"event": "offered", "ts": "2026-01-15T12:30:00Z", "agent_draft": hostile, "session_id": "<b>s</b>", "latency_ms": 10})).await;
    let browser = Browser::start(1440, 1000).await;
    browser.open(&api.url).await;
    let draft = browser
        .wait_for("document.querySelector('tr.event-row td.draft')?.textContent")
        .await;
    assert_eq!(draft, json!(hostile));
    assert_eq!(
        browser
            .eval("document.querySelectorAll('main img, main b').length")
            .await,
        json!(0)
    );
    // Expanded, the draft is still text.
    browser
        .client
        .find(Locator::Css("tr.event-row"))
        .await
        .expect("row")
        .click()
        .await
        .expect("click");
    let detail = browser
        .wait_for("document.querySelector('.event-detail .draft')?.textContent")
        .await;
    assert_eq!(detail, json!(hostile));
    assert_eq!(
        browser
            .eval("document.querySelectorAll('.event-detail img').length")
            .await,
        json!(0)
    );
    browser.stop().await;
}

/// Screenshots for people to look at: light and dark, wide and phone.
#[tokio::test]
async fn screenshots_light_dark_wide_phone() {
    let api = Api::start(ROWS, &[]).await;
    harness::screenshots(
        &format!("{}/", api.url),
        "",
        [("wide", 1440, 1800), ("phone", 390, 2600)],
        &[
            "document.querySelectorAll('canvas[data-drawn=\"true\"]').length === 6",
            "document.querySelectorAll('tr.event-row').length === 25",
        ],
    )
    .await;
}

//! The dashboard wherever it runs: under a sub-path of a static host, configured at run
//! time, inside a portal's iframe, against the note's own API, and live.

use serde_json::json;

use crate::harness::{Api, Browser, thousands};
use crate::hosts::{seed_api, static_host};

fn subpath_dist() -> std::path::PathBuf {
    std::env::var_os("COACHBOARD_DIST_SUBPATH")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dist-subpath")
        })
}

#[tokio::test]
async fn works_under_a_sub_path_of_a_static_host_with_runtime_config() {
    let dist = subpath_dist();
    assert!(
        dist.join("index.html").exists(),
        "build it first: trunk build --release --public-url /tools/coach/ --dist target/dist-subpath"
    );
    // The host's origin must be allowed to call the API from the browser.
    let host_port = crate::harness::free_port();
    let host_origin = format!("http://127.0.0.1:{host_port}");
    let api = Api::start(20_000, &["--cors-origin", &host_origin]).await;
    let config = json!({"api_url": api.url, "title": "Support coach"}).to_string();
    let host = crate::hosts::static_host_on(
        host_port,
        dist,
        "/tools/coach",
        vec![("/tools/coach/config.json".to_owned(), config)],
    )
    .await;
    let url = host.url.clone();
    let browser = Browser::start(1440, 1000).await;
    // A deep link, as a colleague would paste it.
    browser
        .open(&format!("{url}/tools/coach/?policy=PII-01&sort=latency_ms"))
        .await;
    let expected = api.json("/analytics/summary?policy=PII-01").await["total_events"]
        .as_u64()
        .unwrap();
    browser
        .wait_for(&format!(
            "document.querySelector('[data-kpi=total_events] .value')?.textContent === '{}'",
            thousands(expected)
        ))
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('h1').textContent")
            .await,
        json!("Support coach"),
        "title from config.json"
    );
    let assets = browser.eval("performance.getEntriesByType('resource').filter(e => /\\.(wasm|js|css)$/.test(e.name)).map(e => new URL(e.name).pathname)").await;
    assert!(
        assets
            .as_array()
            .unwrap()
            .iter()
            .all(|path| path.as_str().unwrap().starts_with("/tools/coach/")),
        "assets under the sub-path: {assets}"
    );
    // From a plain host as well, boot.js's worker fetched and compiled the app.
    assert_eq!(
        browser.eval(crate::harness::WASM_FETCHED_BY_PAGE).await,
        json!(0)
    );
    // Navigation stays under the sub-path, and a reload keeps the view.
    browser
        .client
        .find(fantoccini::Locator::Css(
            ".range-picker .segment:nth-child(5)",
        ))
        .await
        .expect("90d")
        .click()
        .await
        .expect("click");
    browser
        .wait_for("location.search.includes('range=90d')")
        .await;
    assert!(
        browser
            .eval("location.pathname")
            .await
            .as_str()
            .unwrap()
            .starts_with("/tools/coach/")
    );
    browser.client.refresh().await.expect("reload");
    browser
        .wait_for(
            "document.querySelector('.range-picker [aria-pressed=true]')?.textContent === '90d'",
        )
        .await;
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('.chip')].map(c => c.textContent)")
            .await,
        json!(["PII-01 ×"])
    );
    // An unknown path under the prefix still loads the app, which says so.
    browser
        .open(&format!("{url}/tools/coach/no/such/page"))
        .await;
    browser
        .wait_for("document.querySelector('[data-state=not-found]')")
        .await;
    browser.stop().await;
}

#[tokio::test]
async fn against_the_notes_own_api_it_shows_what_that_api_offers() {
    let api = Api::start(0, &[]).await;
    let seed = seed_api().await;
    let browser = Browser::start(1440, 1000).await;
    browser
        .open(&format!("{}/?api={}", api.url, seed.url))
        .await;
    browser
        .wait_for("document.querySelectorAll('[data-kpi] .value').length === 4")
        .await;
    let values = browser
        .eval("[...document.querySelectorAll('[data-kpi] .value')].map(e => e.textContent)")
        .await;
    assert_eq!(values, json!(["1,234", "600", "55.0%", "412 ms"]));
    browser
        .wait_for("document.querySelectorAll('tr.event-row').length === 2")
        .await;
    browser
        .wait_for("document.querySelector('canvas.policies[data-drawn=\"true\"]')")
        .await;
    let notes = browser.wait_for("document.querySelectorAll('.not-offered').length === 6 && [...document.querySelectorAll('.not-offered')].map(n => n.textContent)").await;
    assert!(
        notes[0].as_str().unwrap().contains("coachboard-api"),
        "{notes}"
    );
    let first_time = browser
        .eval("document.querySelector('tr.event-row .time').textContent")
        .await;
    assert_eq!(
        first_time,
        json!("2025-10-23 10:00:05"),
        "naive timestamps read as UTC"
    );
    // Only the note's three endpoints were asked for: no 404s in the console.
    let asked: Vec<String> = seed
        .requests
        .lock()
        .expect("requests")
        .iter()
        .map(|target| target.split('?').next().unwrap_or_default().to_owned())
        .collect();
    assert!(
        asked.iter().all(|path| [
            "/analytics/summary",
            "/analytics/events",
            "/analytics/policies"
        ]
        .contains(&path.as_str())),
        "{asked:?}"
    );
    browser.stop().await;
}

#[tokio::test]
async fn live_mode_updates_without_a_reload() {
    let api = Api::start(20_000, &[]).await;
    let browser = Browser::start(1440, 1000).await;
    browser.open(&format!("{}/?refresh=live", api.url)).await;
    browser
        .wait_for(
            "document.querySelector('[data-kpi=total_events] .value')?.textContent === '20,000'",
        )
        .await;
    browser
        .wait_for("document.querySelector('.live.connected')")
        .await;
    browser.eval("(window.__sameDocument = true)").await;
    let events: Vec<_> = (0..5)
        .map(|n| json!({"event": "offered", "latency_ms": 100 + n, "ab_test_bucket": "A"}))
        .collect();
    api.post(json!(events)).await;
    browser
        .wait_for(
            "document.querySelector('[data-kpi=total_events] .value')?.textContent === '20,005'",
        )
        .await;
    assert_eq!(
        browser.eval("window.__sameDocument === true").await,
        json!(true),
        "no reload happened"
    );
    browser.stop().await;
}

fn portal(dashboard: &str) -> String {
    format!(
        r#"<!doctype html><html><body><h1>Team portal</h1>
<iframe id="coach" src="{dashboard}" style="width:100%;height:300px;border:0"></iframe>
<script>
window.__heights = [];
window.addEventListener("message", (event) => {{
  if (event.data && event.data.type === "coachboard:resize") {{
    window.__heights.push(event.data.height);
    document.getElementById("coach").style.height = event.data.height + "px";
  }}
}});
</script></body></html>"#
    )
}

#[tokio::test]
async fn embeds_in_allowed_portals_only() {
    let allowed_port = crate::harness::free_port();
    let allowed_origin = format!("http://127.0.0.1:{allowed_port}");
    let api = Api::start(
        20_000,
        &["--frame-ancestors", &format!("'self' {allowed_origin}")],
    )
    .await;
    let page = portal(&format!(
        "{}/?embed=1&theme=dark&background=transparent",
        api.url
    ));
    let allowed = crate::hosts::static_host_on(
        allowed_port,
        std::env::temp_dir(),
        "/nothing",
        vec![("/portal.html".to_owned(), page.clone())],
    )
    .await;
    let other = static_host(
        std::env::temp_dir(),
        "/nothing",
        vec![("/portal.html".to_owned(), page)],
    )
    .await;
    let browser = Browser::start(1280, 900).await;
    browser.open(&format!("{}/portal.html", allowed.url)).await;
    // The dashboard's height arrives (the first messages are the page before its panels).
    browser
        .wait_for("window.__heights.some(height => height > 1000)")
        .await;
    browser
        .client
        .enter_frame(0)
        .await
        .expect("into the iframe");
    browser
        .wait_for("document.querySelectorAll('[data-kpi] .value').length === 5")
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('.page-header') === null")
            .await,
        json!(true),
        "no page chrome when embedded"
    );
    assert_eq!(browser.eval("document.documentElement.dataset.theme + ' ' + document.documentElement.dataset.background").await, json!("dark transparent"));
    browser.client.enter_parent_frame().await.expect("back out");
    // A portal the operator did not list: the browser refuses to frame the dashboard.
    browser.open(&format!("{}/portal.html", other.url)).await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(
        browser.eval("window.__heights.length").await,
        json!(0),
        "frame-ancestors kept it out"
    );
    browser.stop().await;
}

/// Where boot.js's worker cannot be made (a policy forbids workers) or fails to load after
/// it was made (the host refuses worker scripts), the page fetches and compiles the
/// WebAssembly itself instead of waiting for a worker that never answers.
#[tokio::test]
async fn a_host_without_workers_still_gets_the_app() {
    let dist = crate::harness::dist();
    let built = std::fs::read_to_string(dist.join("index.html")).expect("built dashboard");
    let charset = "<meta charset=utf-8>";
    assert!(
        built.contains(charset),
        "index.html starts with its charset"
    );
    let forbidding = built.replacen(
        charset,
        &format!(
            "{charset}<meta http-equiv=Content-Security-Policy content=\"worker-src 'none'\">"
        ),
        1,
    );
    for (index, refuse_workers) in [(forbidding, false), (built, true)] {
        let host_port = crate::harness::free_port();
        let api = Api::start(
            2_000,
            &["--cors-origin", &format!("http://127.0.0.1:{host_port}")],
        )
        .await;
        let config = json!({"api_url": api.url}).to_string();
        let pages = vec![
            ("/".to_owned(), index.clone()),
            ("/index.html".to_owned(), index),
            ("/config.json".to_owned(), config),
        ];
        let host =
            crate::hosts::static_host_with(host_port, dist.clone(), "", pages, refuse_workers)
                .await;
        let browser = Browser::start(1280, 900).await;
        browser.open(&format!("{}/", host.url)).await;
        let total = api.json("/analytics/summary").await["total_events"]
            .as_u64()
            .unwrap();
        browser
            .wait_for(&format!(
                "document.querySelector('[data-kpi=total_events] .value')?.textContent === '{}'",
                thousands(total)
            ))
            .await;
        assert_eq!(
            browser.eval(crate::harness::WASM_FETCHED_BY_PAGE).await,
            json!(1),
            "workers refused by the host: {refuse_workers}"
        );
        browser.stop().await;
    }
}

#[tokio::test]
async fn the_binary_alone_serves_the_dashboard() {
    let api = Api::start_without_static(20_000).await;
    let browser = Browser::start(1440, 1000).await;
    browser.open(&api.url).await;
    browser
        .wait_for(
            "document.querySelector('[data-kpi=total_events] .value')?.textContent === '20,000'",
        )
        .await;
    browser
        .wait_for("document.querySelectorAll('canvas[data-drawn=\"true\"]').length === 6")
        .await;
    browser.stop().await;
}

#[tokio::test]
async fn a_token_is_asked_for_and_kept_for_the_tab() {
    let api = Api::start(
        20_000,
        &[
            "--read-token",
            "s3cret-read",
            "--ingest-token",
            "s3cret-ingest",
        ],
    )
    .await;
    let browser = Browser::start(1440, 1000).await;
    browser.open(&api.url).await;
    browser.enter_token("s3cret-read").await;
    browser
        .wait_for(
            "document.querySelector('[data-kpi=total_events] .value')?.textContent === '20,000'",
        )
        .await;
    let kept = browser
        .eval("Object.keys(sessionStorage).filter(k => k.startsWith('coachboard.token')).length")
        .await;
    assert_eq!(kept, json!(1));
    assert_eq!(
        browser.eval("document.cookie").await,
        json!(""),
        "never a cookie"
    );
    browser.client.refresh().await.expect("reload");
    browser
        .wait_for(
            "document.querySelector('[data-kpi=total_events] .value')?.textContent === '20,000'",
        )
        .await;
    browser.stop().await;
}

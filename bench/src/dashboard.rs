//! The dashboard's weight and speed: bundle sizes, the time from navigation start to every
//! panel drawn, and from a click or a search to the last panel redrawn, in headless
//! Chromium (the app's Performance marks).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::ClientBuilder;
use serde_json::{Value, json};

use crate::load::{Samples, write_one};

#[derive(Debug, Clone, Default)]
pub struct Bundle {
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// wasm + js + css of the built dashboard.
pub fn bundle_sizes(dist: &Path) -> anyhow::Result<Bundle> {
    let mut bundle = Bundle::default();
    for entry in std::fs::read_dir(dist).with_context(|| format!("reading {}", dist.display()))? {
        let path = entry?.path();
        let counted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["wasm", "js", "css"].contains(&e));
        if !counted {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        bundle.raw += bytes.len() as u64;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gzip, &bytes)?;
        bundle.gzip += gzip.finish()?.len() as u64;
        let mut brotli = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut bytes.as_slice(), &mut brotli, &params)?;
        bundle.brotli += brotli.len() as u64;
    }
    Ok(bundle)
}

/// What the dashboard's timing measured, in ms, one sample per fresh page load.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// From navigation start to the data shown and every chart drawn.
    pub load: Samples,
    /// From a click on a policy tag in the events table to the last panel redrawn.
    pub policy_click: Samples,
    /// From a click on the Latency column's sort button to the table redrawn.
    pub sort_click: Samples,
    /// From a word typed into the search box (its debounce included) to the events table
    /// redrawn (the search filters the table only).
    pub search: Samples,
}

/// The search box waits this long after the last key before it filters (the dashboard's
/// `SEARCH_DEBOUNCE_MS`).
pub const SEARCH_DEBOUNCE_MS: f64 = 300.0;

/// Loads the dashboard `loads` times in headless Chromium; after each load, one of a policy
/// click, a sort click and a search (in turn), each on a fresh page.
pub async fn timings(url: &str, loads: usize) -> anyhow::Result<Timings> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("chromedriver (make setup-browser installs it)")?;
    let result = measure(url, port, loads).await;
    let _ = reqwest::get(format!("http://127.0.0.1:{port}/shutdown")).await;
    let _ = driver.kill();
    let _ = driver.wait();
    result
}

/// The latest of the named marks (`coachboard:` left out) once each was set after `t0`
/// and nothing was redrawn for 400 ms, in ms after `t0`; null until then.
const REDRAWN: &str = "const [t0, wanted] = arguments;
    const latest = name => { const e = performance.getEntriesByName('coachboard:' + name); return e.length ? e[e.length - 1].startTime : -1; };
    if (wanted.some(name => latest(name) <= t0)) return null;
    const redrawn = performance.getEntriesByType('mark').filter(m => m.name.startsWith('coachboard:redrawn:') || m.name === 'coachboard:data-redrawn');
    const last = Math.max(...redrawn.map(m => m.startTime));
    if (performance.now() - last < 400) return null;
    return last - t0;";

/// Every panel of the first screen: the cards and table, and the four charts.
const EVERY_PANEL: [&str; 5] = [
    "data-redrawn",
    "redrawn:timeline",
    "redrawn:latency",
    "redrawn:policies",
    "redrawn:experiment",
];

/// How long a step may take: a search of a common word takes seconds at 10M.
const POLL_LIMIT: Duration = Duration::from_secs(180);

/// Words searched for, one per sample, so no answer comes from the API's cache.
const WORDS: [&str; 5] = ["refund", "password", "discount", "carrier", "subscription"];

async fn measure(url: &str, port: u16, loads: usize) -> anyhow::Result<Timings> {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            bail!("chromedriver did not start");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let profile = std::env::temp_dir().join(format!("coachboard-bench-{port}"));
    let capabilities = json!({"goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display()), "--window-size=1440,1000"]}});
    let Value::Object(capabilities) = capabilities else {
        bail!("capabilities")
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await?;
    let drawn = "const names = performance.getEntriesByType('mark').map(m => m.name);
        const wanted = ['coachboard:data-shown', 'coachboard:drawn:timeline', 'coachboard:drawn:latency', 'coachboard:drawn:policies', 'coachboard:drawn:experiment'];
        if (!wanted.every(w => names.includes(w))) return null;
        return Math.max(...wanted.map(w => performance.getEntriesByName(w)[0].startTime));";
    let mut timings = Timings::default();
    // Each kind of action `loads` times, each after a fresh load.
    for sample in 0..loads * 3 {
        client.goto("about:blank").await?;
        client.goto(url).await?;
        timings.load.0.push(poll(&client, drawn, vec![]).await?);
        // The events table is built once near the viewport: scroll to it, as a user does.
        poll(
            &client,
            "document.querySelector('#panel-events')?.scrollIntoView();
             return document.querySelector('tr.event-row button.tag') ? 0 : null;",
            vec![],
        )
        .await?;
        let round = sample / 3;
        if sample % 3 == 1 {
            // One event written first, so the sorted page is not in the API's cache; the
            // live update it brings is over before the click.
            write_one(
                &reqwest::Client::new(),
                url,
                &format!("bench-click-{sample}"),
            )
            .await?;
        }
        let quiet = "const marks = performance.getEntriesByType('mark');
            return performance.now() - Math.max(...marks.map(m => m.startTime)) > 1500 ? 0 : null;";
        poll(&client, quiet, vec![]).await?;
        let (action, argument, wanted, into) = match sample % 3 {
            // A different policy each time: its answers are not in the API's cache.
            0 => (
                "const policies = [...new Set([...document.querySelectorAll('tr.event-row button.tag')].map(b => b.textContent))].sort();
                 const tag = [...document.querySelectorAll('tr.event-row button.tag')].find(b => b.textContent === policies[arguments[0] % policies.length]);
                 const t = performance.now(); tag.click(); return t;",
                json!(round),
                &EVERY_PANEL[..],
                &mut timings.policy_click,
            ),
            1 => (
                "const sort = document.querySelector('#panel-events th.num button.sort');
                 const t = performance.now(); sort.click(); return t;",
                json!(round),
                &EVERY_PANEL[..1],
                &mut timings.sort_click,
            ),
            _ => (
                "const input = document.querySelector('input.search');
                 const t = performance.now(); input.value = arguments[0];
                 input.dispatchEvent(new Event('input', {bubbles: true})); return t;",
                json!(WORDS[round % WORDS.len()]),
                // The search filters the events table only.
                &EVERY_PANEL[..1],
                &mut timings.search,
            ),
        };
        let t0 = client.execute(action, vec![argument]).await?;
        into.0
            .push(poll(&client, REDRAWN, vec![t0, json!(wanted)]).await?);
    }
    let _ = client.close().await;
    let _ = std::fs::remove_dir_all(profile);
    Ok(timings)
}

/// Runs `script` every 20 ms until it returns a number (`POLL_LIMIT` at most).
async fn poll(
    client: &fantoccini::Client,
    script: &str,
    arguments: Vec<Value>,
) -> anyhow::Result<f64> {
    let waited = Instant::now();
    loop {
        let value = client.execute(script, arguments.clone()).await?;
        if let Some(ms) = value.as_f64() {
            return Ok(ms);
        }
        if waited.elapsed() > POLL_LIMIT {
            let marks = client
                .execute(
                    "return performance.getEntriesByType('mark').map(m => `${m.name} at ${Math.round(m.startTime)}`)",
                    vec![],
                )
                .await?;
            bail!(
                "the dashboard did not get there within {POLL_LIMIT:?}: {script} {arguments:?}; marks: {marks}"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

//! The dashboard's weight and speed: bundle sizes, and the time from navigation start to
//! every panel drawn in headless Chromium (the app's Performance marks).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::ClientBuilder;
use serde_json::{Value, json};

use crate::load::Samples;

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

/// Loads the dashboard `loads` times; each sample is the latest of the marks the app sets
/// when its data is shown and each chart is drawn, in ms since navigation start.
pub async fn time_to_drawn(url: &str, loads: usize) -> anyhow::Result<Samples> {
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

async fn measure(url: &str, port: u16, loads: usize) -> anyhow::Result<Samples> {
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
    let script = "const names = performance.getEntriesByType('mark').map(m => m.name);
        const wanted = ['coachboard:data-shown', 'coachboard:drawn:timeline', 'coachboard:drawn:latency', 'coachboard:drawn:policies', 'coachboard:drawn:experiment'];
        if (!wanted.every(w => names.includes(w))) return null;
        return Math.max(...wanted.map(w => performance.getEntriesByName(w)[0].startTime));";
    let mut samples = Vec::new();
    for _ in 0..loads {
        client.goto("about:blank").await?;
        client.goto(url).await?;
        let waited = Instant::now();
        loop {
            let value = client.execute(script, vec![]).await?;
            if let Some(ms) = value.as_f64() {
                samples.push(ms);
                break;
            }
            if waited.elapsed() > Duration::from_secs(30) {
                bail!("the dashboard did not draw every panel within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let _ = client.close().await;
    let _ = std::fs::remove_dir_all(profile);
    Ok(Samples(samples))
}

//! Runs the real pieces for a browser test: `coachboard-api` on a generated DuckDB file,
//! serving the built dashboard; ChromeDriver; headless Chromium driven by fantoccini.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const WAIT: Duration = Duration::from_secs(20);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

fn api_binary() -> PathBuf {
    std::env::var_os("COACHBOARD_API_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
            target.join("debug/coachboard-api")
        })
}

pub fn dist() -> PathBuf {
    std::env::var_os("COACHBOARD_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist"))
}

pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

/// A process that is killed when the test ends, passed or not.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Browser {
    pub client: Client,
    driver: Guard,
    driver_port: u16,
    _profile: TempDir,
}

impl Browser {
    /// Chromium at `width` × `height` CSS pixels, its clock in UTC.
    pub async fn start(width: u32, height: u32) -> Browser {
        Self::launch(width, height, None).await
    }

    /// A phone: `width` × `height` CSS pixels at device pixel ratio 3, touch, mobile viewport.
    pub async fn phone(width: u32, height: u32) -> Browser {
        let metrics = json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 3.0, "touch": true, "mobile": true}});
        Self::launch(width, height, Some(metrics)).await
    }

    async fn launch(width: u32, height: u32, mobile: Option<Value>) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("TZ", "UTC")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (make setup-browser installs it)");
        let driver = Guard(driver);
        wait_for_port(port).await;
        let profile = TempDir::new().expect("profile dir");
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}"),
                ],
            }
        });
        let mut capabilities = capabilities;
        if let Some(mobile) = mobile {
            capabilities["goog:chromeOptions"]["mobileEmulation"] = mobile;
        }
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a browser session");
        Browser {
            client,
            driver,
            driver_port: port,
            _profile: profile,
        }
    }

    /// A phone (touch, mobile viewport) for the size named "phone", else a desktop window.
    pub async fn sized(size: &str, width: u32, height: u32) -> Browser {
        if size == "phone" {
            Browser::phone(width, height).await
        } else {
            Browser::start(width, height).await
        }
    }

    /// Goes to `url` and waits for the page to load.
    pub async fn open(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("{url} does not load: {error}"));
    }

    /// Polls a JavaScript expression until it is truthy; returns its value. Panels below the
    /// fold are built when scrolled near or printed: while waiting, the page is told it is
    /// about to print, so a test sees the whole page wherever it is scrolled.
    pub async fn wait_for(&self, expression: &str) -> Value {
        self.poll(expression, true).await
    }

    /// The same without building what the reader has not scrolled near.
    pub async fn wait_for_as_scrolled(&self, expression: &str) -> Value {
        self.poll(expression, false).await
    }

    async fn poll(&self, expression: &str, reveal_all: bool) -> Value {
        let script = format!("return ({expression});");
        let started = Instant::now();
        loop {
            if reveal_all {
                let _ = self.client.execute(REVEAL_ALL, vec![]).await;
            }
            if let Ok(value) = self.client.execute(&script, vec![]).await
                && !matches!(value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0)
            {
                return value;
            }
            if started.elapsed() > WAIT {
                let url = self
                    .client
                    .current_url()
                    .await
                    .map(|url| url.to_string())
                    .unwrap_or_default();
                panic!("timed out waiting for `{expression}` on {url}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first element matching `css`, as a user would.
    pub async fn click(&self, css: &str) {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no `{css}` to click: {error}"))
            .click()
            .await
            .unwrap_or_else(|error| panic!("`{css}` cannot be clicked: {error}"));
    }

    /// Types a read token into the page's token prompt (once it shows) and sends it.
    pub async fn enter_token(&self, token: &str) {
        self.wait_for("document.querySelector('[data-state=token]')")
            .await;
        self.client
            .find(fantoccini::Locator::Css("#token"))
            .await
            .expect("token field")
            .send_keys(token)
            .await
            .expect("typed");
        self.click(".token-form button").await;
    }

    pub async fn eval(&self, expression: &str) -> Value {
        self.client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .expect("script runs")
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(screenshot_dir()).expect("screenshot dir");
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png)
            .expect("screenshot written");
    }

    /// Ends the session and ChromeDriver (its /shutdown first, or Chromium is orphaned).
    pub async fn stop(self) {
        let _ = self.client.close().await;
        let _ = reqwest::get(format!("http://127.0.0.1:{}/shutdown", self.driver_port)).await;
        drop(self.driver);
    }
}

/// How many `.wasm` files the page fetched itself: 0 when boot.js's worker fetched and
/// compiled the app (a worker's fetches are in its own resource timings).
pub const WASM_FETCHED_BY_PAGE: &str = "performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname.endsWith('.wasm')).length";

/// What the browser does before printing: every lazily built part of the page is built.
const REVEAL_ALL: &str = "window.dispatchEvent(new Event('beforeprint'))";

async fn wait_for_port(port: u16) {
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(started.elapsed() < WAIT, "nothing listens on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub struct Api {
    pub url: String,
    _process: Guard,
    /// Keeps the database folder alive as long as the API.
    _dir: TempDir,
}

impl Api {
    /// `coachboard-api` on `rows` generated events, serving the built dashboard (`dist`).
    pub async fn start(rows: u64, extra: &[&str]) -> Api {
        let dist = dist();
        assert!(
            dist.join("index.html").exists(),
            "build the dashboard first (make dashboard)"
        );
        let mut args = vec![
            "--static-dir".to_owned(),
            dist.to_str().expect("utf-8").to_owned(),
        ];
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        Self::serve(rows, &args).await
    }

    /// The same with no `--static-dir`: the dashboard built into the binary answers.
    pub async fn start_without_static(rows: u64) -> Api {
        Self::serve(rows, &[]).await
    }

    async fn serve(rows: u64, args: &[String]) -> Api {
        let dir = TempDir::new().expect("temp dir");
        let db = dir
            .path()
            .join("events.duckdb")
            .to_str()
            .expect("utf-8 path")
            .to_owned();
        generate(&db, rows);
        let port = free_port();
        let process = Command::new(api_binary())
            .args(["--db", &db, "--addr", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("COACHBOARD_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .expect("coachboard-api starts");
        let process = Guard(process);
        wait_for_port(port).await;
        Api {
            url: format!("http://127.0.0.1:{port}"),
            _process: process,
            _dir: dir,
        }
    }

    pub async fn json(&self, path: &str) -> Value {
        reqwest::get(format!("{}{path}", self.url))
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    pub async fn post(&self, body: Value) -> Value {
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{}/events", self.url))
            .json(&body)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status().as_u16(), 201);
        response.json().await.expect("JSON")
    }
}

/// Writes `rows` generated events (a fixed month, so runs compare) into `db`.
fn generate(db: &str, rows: u64) {
    if rows == 0 {
        return;
    }
    let status = Command::new(api_binary())
        .args([
            "generate",
            "--rows",
            &rows.to_string(),
            "--db",
            db,
            "--days",
            "30",
            "--end",
            "2026-01-15T12:00:00Z",
        ])
        .stdout(Stdio::null())
        .status()
        .expect("coachboard-api generate runs (make api builds it)");
    assert!(status.success());
}

/// "1234567" → "1,234,567", as the dashboard writes counts.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Screenshots of the page at `url` for people to look at, named `{prefix}{theme}-{size}`:
/// light and dark at each size, once every `ready` condition holds. The theme must be the
/// one asked for, and nothing may stick out sideways at phone width.
pub async fn screenshots(url: &str, prefix: &str, sizes: [(&str, u32, u32); 2], ready: &[&str]) {
    for (size, width, height) in sizes {
        let phone = size == "phone";
        let browser = Browser::sized(size, width, height).await;
        for theme in ["light", "dark"] {
            browser.open(&format!("{url}?theme={theme}")).await;
            for condition in ready {
                browser.wait_for(condition).await;
            }
            let applied = browser.eval("document.documentElement.dataset.theme").await;
            assert_eq!(applied, json!(theme));
            browser.screenshot(&format!("{prefix}{theme}-{size}")).await;
            crate::axe::assert_clean(&browser, &format!("{url} ({theme}, {size})")).await;
        }
        if phone {
            let overflow = browser
                .eval("document.documentElement.scrollWidth - window.innerWidth")
                .await;
            assert!(
                overflow.as_i64().unwrap_or(1) <= 0,
                "horizontal overflow of {overflow} px"
            );
        }
        browser.stop().await;
    }
}

//! `coachboard-bench`: measures Coachboard against the note's FastAPI system, both serving
//! copies of the same DuckDB file, and prints (and writes) one Markdown report.
//! Run through `make bench` (bench/run.sh starts both servers).

mod cluster;
mod dashboard;
mod load;
mod report;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::load::{batch_ingest, concurrency, sequential, sequential_within, writers};
use crate::report::{Report, Row};

struct Options {
    coachboard: String,
    baseline: String,
    rows: u64,
    dist: PathBuf,
    out: PathBuf,
    coachboard_pid: Option<u32>,
    end: String,
    /// Measure only this section (`reads`, `writers`, `ingest`, `dashboard`); all when empty.
    only: String,
    /// A third server, Coachboard on the ClickHouse cluster holding the same events.
    cluster: Option<String>,
}

fn options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        coachboard: String::new(),
        baseline: String::new(),
        rows: 0,
        dist: PathBuf::from("dist"),
        out: PathBuf::from("bench/RESULTS.md"),
        coachboard_pid: None,
        end: "2026-01-15T12:00:00Z".to_owned(),
        only: String::new(),
        cluster: None,
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--coachboard" => options.coachboard = value,
            "--baseline" => options.baseline = value,
            "--rows" => options.rows = value.parse()?,
            "--dist" => options.dist = value.into(),
            "--out" => options.out = value.into(),
            "--coachboard-pid" => options.coachboard_pid = Some(value.parse()?),
            "--end" => options.end = value,
            "--only" => options.only = value,
            "--cluster" => options.cluster = Some(value),
            other => bail!("unknown option {other}"),
        }
    }
    if options.coachboard.is_empty() || options.baseline.is_empty() {
        bail!(
            "usage: coachboard-bench --coachboard URL --baseline URL --rows N [--dist DIR] [--out FILE]"
        );
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(16)
        .build()?;
    let mut report = Report::new(options.rows);
    let wanted = |section: &str| options.only.is_empty() || options.only == section;

    // 1. The seed endpoints, sequentially, on both servers.
    if wanted("reads") {
        reads(&client, &options, &mut report).await?;
    }

    // 3. Four readers on the summary and one writer, 10 s, on each server.
    if wanted("writers") {
        let window = Duration::from_secs(10);
        report.concurrency.push((
            "Coachboard".to_owned(),
            concurrency(&client, &options.coachboard, window).await,
        ));
        report.concurrency.push((
            "baseline".to_owned(),
            concurrency(&client, &options.baseline, window).await,
        ));
        // 4. Many single-event writers at once (group commit), on each server.
        for clients in [1, 8, 32] {
            let window = Duration::from_secs(8);
            let ours = writers(&client, &options.coachboard, clients, window).await;
            let theirs = writers(&client, &options.baseline, clients, window).await;
            report.writers.push((ours, theirs));
        }
    }

    // 5. Batch ingest over HTTP.
    if wanted("ingest") {
        report.batch_ingest = Some(batch_ingest(&client, &options.coachboard, 1000, 40).await?);
        if let Some(cluster) = &options.cluster {
            report.cluster_batch_ingest = Some(batch_ingest(&client, cluster, 1000, 40).await?);
        }
    }

    // 6. The dashboard: bundle size, time to every panel drawn, and to the last panel
    // redrawn after a policy click, a sort click and a search.
    if wanted("dashboard") {
        report.bundle = dashboard::bundle_sizes(&options.dist)?;
        report.dashboard = match dashboard::timings(&options.coachboard, 5).await {
            Ok(timings) => Some(timings),
            Err(error) => {
                eprintln!("dashboard timing skipped: {error:#}");
                None
            }
        };
    }
    report.peak_rss_mb = options.coachboard_pid.and_then(report::peak_rss_mb);
    report.finish();
    let text = report.markdown();
    println!("{text}");
    if let Some(folder) = options.out.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(&options.out, &text)?;
    eprintln!("written to {}", options.out.display());
    Ok(())
}

/// The note's endpoints: (name, path).
const SEED: [(&str, &str); 3] = [
    ("/analytics/summary", "/analytics/summary"),
    ("/analytics/events?limit=100", "/analytics/events?limit=100"),
    ("/analytics/policies", "/analytics/policies"),
];

/// The seed endpoints on both servers, then Coachboard's own, each fresh and cached; then
/// all of them on the ClickHouse store, when there is one.
async fn reads(
    client: &reqwest::Client,
    options: &Options,
    report: &mut Report,
) -> anyhow::Result<()> {
    let client = client.clone();
    for (name, path) in SEED {
        let ours = sequential(&client, &options.coachboard, path, 30, true).await?;
        let theirs = sequential(&client, &options.baseline, path, 30, true).await?;
        let cached = sequential(&client, &options.coachboard, path, 30, false).await?;
        report
            .seed
            .push(Row::compare(name, &ours, &theirs, &cached));
    }

    // 2. Coachboard's own endpoints.
    let end = chrono::DateTime::parse_from_rfc3339(&options.end)?.with_timezone(&chrono::Utc);
    let month_ago =
        (end - chrono::Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let end_text = end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // (name, query, is it an endpoint with its default parameters)
    let own = [
        (
            "summary, compare=previous (30 days)",
            format!("/analytics/summary?compare=previous&from={month_ago}&to={end_text}"),
        ),
        ("timeseries (day)", "/analytics/timeseries".to_owned()),
        (
            "timeseries, day, Europe/Berlin",
            "/analytics/timeseries?interval=day&tz=Europe/Berlin".to_owned(),
        ),
        (
            "timeseries, hour, last 7 days",
            format!(
                "/analytics/timeseries?interval=hour&from={}&to={end_text}",
                (end - chrono::Duration::days(7))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ),
        ("latency", "/analytics/latency".to_owned()),
        ("experiment", "/analytics/experiment".to_owned()),
        (
            "events, bucket=B&event=offered",
            "/analytics/events?limit=100&bucket=B&event=offered".to_owned(),
        ),
        (
            "events, sort=latency_ms",
            "/analytics/events?limit=100&sort=latency_ms".to_owned(),
        ),
        (
            "events, policy=PII-01",
            "/analytics/events?limit=100&policy=PII-01".to_owned(),
        ),
        (
            "summary, policy=PII-01",
            "/analytics/summary?policy=PII-01".to_owned(),
        ),
        (
            "timeseries, day, policy=PII-01",
            "/analytics/timeseries?interval=day&policy=PII-01".to_owned(),
        ),
        (
            "timeseries, week, America/New_York, policy=PII-01",
            "/analytics/timeseries?interval=week&tz=America/New_York&policy=PII-01".to_owned(),
        ),
        (
            "latency, policy=PII-01",
            "/analytics/latency?policy=PII-01".to_owned(),
        ),
        (
            "policies, policy=PII-01",
            "/analytics/policies?policy=PII-01".to_owned(),
        ),
        (
            "experiment, policy=PII-01",
            "/analytics/experiment?policy=PII-01".to_owned(),
        ),
        ("suggestions", "/analytics/suggestions".to_owned()),
        ("rewrites", "/analytics/rewrites".to_owned()),
        ("policy outcomes", "/analytics/policy-outcomes".to_owned()),
        (
            "summary, q=refund",
            "/analytics/summary?q=refund".to_owned(),
        ),
        (
            "events, q=refund",
            "/analytics/events?limit=100&q=refund".to_owned(),
        ),
        (
            "events, page 50 (offset 4900)",
            "/analytics/events?limit=100&offset=4900".to_owned(),
        ),
        (
            "events, halfway through the table",
            format!("/analytics/events?limit=100&offset={}", options.rows / 2),
        ),
        (
            "events, sort=latency_ms, offset 10,000",
            "/analytics/events?limit=100&sort=latency_ms&offset=10000".to_owned(),
        ),
    ];
    let defaults = ["timeseries (day)", "latency", "experiment"];
    let mut own_paths = Vec::with_capacity(own.len());
    for (name, path) in own {
        let samples = sequential(&client, &options.coachboard, &path, 30, true).await?;
        let cached = sequential(&client, &options.coachboard, &path, 30, false).await?;
        report.own.push(Row::single(
            name,
            defaults.contains(&name),
            &samples,
            &cached,
        ));
        own_paths.push(path);
    }

    // The ClickHouse store last, so its background merges do not slow the DuckDB figures.
    if let Some(cluster) = &options.cluster {
        let budget = Duration::from_secs(20);
        let rows = report.seed.iter_mut().chain(report.own.iter_mut());
        for (row, path) in rows.zip(
            SEED.map(|(_, path)| path.to_owned())
                .iter()
                .chain(&own_paths),
        ) {
            row.cluster = Some(sequential_within(&client, cluster, path, 30, budget, true).await?);
        }
    }
    Ok(())
}

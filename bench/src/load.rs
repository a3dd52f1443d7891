//! Load generators: sequential latency, readers with a writer, batch ingest.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::Client;
use serde_json::{Value, json};

/// Latencies of one measurement, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Samples(pub Vec<f64>);

impl Samples {
    pub fn quantile(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let position = (sorted.len() - 1) as f64 * q;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
    }

    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }
}

async fn get(client: &Client, url: &str) -> anyhow::Result<usize> {
    let response = client.get(url).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if !status.is_success() {
        bail!("{url}: {status}");
    }
    Ok(body.len())
}

/// Writes one offer (the server gives it an id) in session `session`: nothing cached before
/// it answers for the data after it.
pub async fn write_one(client: &Client, base: &str, session: &str) -> anyhow::Result<()> {
    let event = json!({"event": "offered", "session_id": session, "latency_ms": 250, "ab_test_bucket": "A"});
    let response = client
        .post(format!("{base}/events"))
        .json(&event)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("writing one event answered {}", response.status());
    }
    Ok(())
}

/// `count` sequential GETs after a warm-up, each timed until its body is read. With
/// `fresh`, one event is written (untimed) before each GET, so no answer can come from a
/// cache: the time is that of computing it.
pub async fn sequential(
    client: &Client,
    base: &str,
    path: &str,
    count: usize,
    fresh: bool,
) -> anyhow::Result<Samples> {
    sequential_within(client, base, path, count, Duration::MAX, fresh).await
}

/// [`sequential`], but stopping early (after at least 3 samples, and 2 warm-ups instead of
/// 5) once `budget` is spent: a query of seconds still gets a median without taking minutes.
pub async fn sequential_within(
    client: &Client,
    base: &str,
    path: &str,
    count: usize,
    budget: Duration,
    fresh: bool,
) -> anyhow::Result<Samples> {
    let url = format!("{base}{path}");
    let started = Instant::now();
    let warm_ups = if budget == Duration::MAX { 5 } else { 2 };
    for _ in 0..warm_ups {
        get(client, &url)
            .await
            .with_context(|| format!("warming up {url}"))?;
    }
    let mut samples = Vec::with_capacity(count);
    for n in 0..count {
        if n >= 3 && started.elapsed() > budget {
            break;
        }
        if fresh {
            write_one(client, base, &format!("fresh-{n}"))
                .await
                .with_context(|| format!("write before {url}"))?;
        }
        let started = Instant::now();
        get(client, &url).await?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Samples(samples))
}

#[derive(Debug, Clone)]
pub struct Concurrency {
    pub reads: Samples,
    pub reads_per_second: f64,
    pub writes_per_second: f64,
    pub errors: u64,
}

/// Four readers loop on the summary while one writer posts single events, for `window`.
pub async fn concurrency(client: &Client, base: &str, window: Duration) -> Concurrency {
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let writes = Arc::new(AtomicU64::new(0));
    let writer = {
        let (client, base, stop, errors, writes) = (
            client.clone(),
            base.to_owned(),
            stop.clone(),
            errors.clone(),
            writes.clone(),
        );
        tokio::spawn(async move {
            let mut n = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let event = json!({"event": "offered", "session_id": format!("bench-{n}"), "latency_ms": 300 + n % 500, "ab_test_bucket": if n.is_multiple_of(2) { "A" } else { "B" }, "policy_refs": ["PII-01"]});
                match client
                    .post(format!("{base}/events"))
                    .json(&event)
                    .send()
                    .await
                {
                    Ok(response) if response.status().is_success() => {
                        writes.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (client, base, stop, errors) = (
            client.clone(),
            base.to_owned(),
            stop.clone(),
            errors.clone(),
        );
        readers.push(tokio::spawn(async move {
            let url = format!("{base}/analytics/summary");
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                match get(&client, &url).await {
                    Ok(_) => samples.push(started.elapsed().as_secs_f64() * 1000.0),
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            samples
        }));
    }
    tokio::time::sleep(window).await;
    stop.store(true, Ordering::Relaxed);
    let _ = writer.await;
    let mut reads = Vec::new();
    for reader in readers {
        reads.extend(reader.await.unwrap_or_default());
    }
    let seconds = window.as_secs_f64();
    Concurrency {
        reads_per_second: reads.len() as f64 / seconds,
        reads: Samples(reads),
        writes_per_second: writes.load(Ordering::Relaxed) as f64 / seconds,
        errors: errors.load(Ordering::Relaxed),
    }
}

/// Events per second stored by `batches` sequential requests of `size` events.
pub async fn batch_ingest(
    client: &Client,
    base: &str,
    size: usize,
    batches: usize,
) -> anyhow::Result<f64> {
    // Serialised up front: the clock measures the server, not this client's JSON encoder.
    let bodies: Vec<Vec<u8>> = (0..batches)
        .map(|batch| {
            let events = Value::Array(
                (0..size)
                    .map(|n| {
                        json!({
                            "id": format!("ingest-{batch}-{n}"),
                            "event": if n.is_multiple_of(2) { "offered" } else { "accepted" },
                            "session_id": format!("ingest-{batch}-{}", n / 4),
                            "agent_draft": "Hello, I checked your order and it shipped yesterday.",
                            "latency_ms": 200 + n % 700,
                            "ab_test_bucket": if n.is_multiple_of(2) { "A" } else { "B" },
                            "policy_refs": ["PII-01", "TONE-02"],
                        })
                    })
                    .collect(),
            );
            serde_json::to_vec(&events).unwrap_or_default()
        })
        .collect();
    let started = Instant::now();
    for body in &bodies {
        let response = client
            .post(format!("{base}/events"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?;
        if response.status().as_u16() != 201 {
            bail!("batch ingest answered {}", response.status());
        }
    }
    Ok((size * batches) as f64 / started.elapsed().as_secs_f64())
}

/// What many concurrent single-event writers got through.
#[derive(Debug, Clone)]
pub struct Writers {
    pub clients: usize,
    pub events_per_second: f64,
    /// Time from sending each event to its acknowledgement.
    pub latencies: Samples,
    pub errors: u64,
}

/// `clients` concurrent clients, each posting one event at a time (the next after the
/// answer), for `window`: acknowledged events per second and their latency.
pub async fn writers(client: &Client, base: &str, clients: usize, window: Duration) -> Writers {
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for writer in 0..clients {
        let (client, url, stop, errors) = (
            client.clone(),
            format!("{base}/events"),
            stop.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let event = json!({
                    "event": if n.is_multiple_of(2) { "accepted" } else { "offered" },
                    "session_id": format!("writer-{writer}-{}", n / 2),
                    "latency_ms": 200 + n % 700,
                    "ab_test_bucket": if writer % 2 == 0 { "A" } else { "B" },
                    "policy_refs": ["PII-01"],
                });
                let started = Instant::now();
                match client.post(&url).json(&event).send().await {
                    Ok(response) if response.status().is_success() => {
                        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    tokio::time::sleep(window).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap_or_default());
    }
    Writers {
        clients,
        events_per_second: latencies.len() as f64 / window.as_secs_f64(),
        latencies: Samples(latencies),
        errors: errors.load(Ordering::Relaxed),
    }
}

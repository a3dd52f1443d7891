//! Clients that misbehave, on loopback, while a well-behaved client measures its latency:
//! a slowloris holding a thousand connections, a flood of new connections, a client that
//! stops reading a large CSV export, a body that never finishes, and one client opening more
//! connections than one client may. Attackers use their own loopback addresses
//! (127.0.0.2…), the good client 127.0.0.1, so per-client limits tell them apart.
//!
//! Its own test binary, one scenario after another, so the latency it prints is not shared
//! with the other API tests' load.

// Shared with the API tests, which use all of it.
#[allow(dead_code)]
#[path = "../support/server.rs"]
mod server;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use server::{Server, start, terminate};

const HEADER_TIMEOUT_S: u64 = 2;

/// Fields drop in order: the server is stopped before its directory goes.
struct Api {
    child: Server,
    _dir: TempDir,
    url: String,
    addr: SocketAddr,
}

fn api(rows: u64) -> Api {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("events.duckdb");
    let rows = rows.to_string();
    let header_timeout = HEADER_TIMEOUT_S.to_string();
    let (child, url) = start(
        &db,
        &[
            "--demo",
            "--demo-rows",
            &rows,
            "--header-timeout-secs",
            &header_timeout,
            "--body-timeout-secs",
            "1",
            "--send-timeout-secs",
            "2",
            "--max-connections-per-client",
            "256",
        ],
    );
    let addr = url
        .trim_start_matches("http://")
        .parse()
        .expect("an address");
    Api {
        _dir: dir,
        child,
        url,
        addr,
    }
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// A TCP connection to the API from a given loopback address.
async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// The good client: `count` sequential summary requests on kept-alive connections from
/// 127.0.0.1; returns the latencies, sorted. Every one must succeed.
async fn good_client(url: &str, count: usize) -> Vec<Duration> {
    let client = reqwest::Client::builder()
        .local_address(loopback(1))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let mut latencies = Vec::with_capacity(count);
    for n in 0..count {
        let started = Instant::now();
        let response = client
            .get(format!(
                "{url}/analytics/summary?bucket={}",
                ["A", "B"][n % 2]
            ))
            .send()
            .await
            .unwrap_or_else(|error| panic!("request {n} of the good client failed: {error}"));
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.expect("body");
        latencies.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    latencies.sort();
    latencies
}

fn p99(latencies: &[Duration]) -> Duration {
    latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)]
}

fn report(scenario: &str, latencies: &[Duration]) -> Duration {
    let p99 = p99(latencies);
    println!(
        "{scenario}: good client p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} requests",
        latencies[latencies.len() / 2].as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
        latencies.len()
    );
    p99
}

/// The bound for the good client while others misbehave.
const P99_BOUND: Duration = Duration::from_millis(50);

/// Opens `per_address` slowloris connections from each address: a request line and one
/// header byte at a time, never finishing.
async fn slowloris(addresses: &[IpAddr], per_address: usize, to: SocketAddr) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for address in addresses {
        for _ in 0..per_address {
            let mut stream = connect_from(*address, to).await.expect("connects");
            stream
                .write_all(b"GET /analytics/summary HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .expect("writes");
            held.push(stream);
        }
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_clients_do_not_starve_the_others() {
    let api = api(100_000);
    let url = api.url.clone();
    // Warm up: the first requests fill caches and pools.
    good_client(&url, 20).await;
    let quiet = report("quiet", &good_client(&url, 200).await);

    // 1. Slowloris: 1,000 connections from four addresses, each trickling a header byte.
    let attackers: Vec<IpAddr> = (2..6).map(loopback).collect();
    let mut held = slowloris(&attackers, 250, api.addr).await;
    let trickle = {
        let started = Instant::now();
        let mut streams = std::mem::take(&mut held);
        tokio::spawn(async move {
            let mut open = streams.len();
            while started.elapsed() < Duration::from_secs(HEADER_TIMEOUT_S + 3) {
                open = 0;
                for stream in &mut streams {
                    if stream.write_all(b"a").await.is_ok() {
                        open += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            (streams, open)
        })
    };
    let during = report("1,000 slowloris connections", &good_client(&url, 200).await);
    let (mut streams, _) = trickle.await.expect("trickle");
    // The header timeout has passed: the server has closed them all.
    let mut closed = 0;
    for stream in &mut streams {
        let mut buffer = [0_u8; 512];
        match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => closed += 1,
            // A 408 answer before the close counts as closed too.
            Ok(Ok(_)) => closed += 1,
            Err(_) => {}
        }
    }
    assert_eq!(
        closed,
        streams.len(),
        "slowloris connections outlived the header timeout"
    );
    drop(streams);
    assert!(
        during <= P99_BOUND,
        "p99 {during:?} with slowloris (quiet: {quiet:?})"
    );

    // 2. A flood of new connections from one address, opened and dropped as fast as it can.
    let flood_until = Instant::now() + Duration::from_secs(3);
    let addr = api.addr;
    let flooders: Vec<JoinHandle<u64>> = (0..2)
        .map(|_| {
            tokio::spawn(async move {
                let mut opened = 0;
                while Instant::now() < flood_until {
                    if let Ok(mut stream) = connect_from(loopback(6), addr).await {
                        opened += 1;
                        let _ = stream
                            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                            .await;
                    }
                    tokio::task::yield_now().await;
                }
                opened
            })
        })
        .collect();
    let flooded = report("connection flood", &good_client(&url, 200).await);
    let mut opened = 0;
    for flooder in flooders {
        opened += flooder.await.expect("flooder");
    }
    println!("flood: {opened} connections opened");
    assert!(
        flooded <= P99_BOUND,
        "p99 {flooded:?} under a connection flood"
    );

    // 3. A client that asks for the whole CSV export and stops reading.
    let mut stalled = {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("small buffer");
        socket.bind(SocketAddr::new(loopback(7), 0)).expect("bind");
        let mut stream = socket.connect(api.addr).await.expect("connects");
        stream
            .write_all(b"GET /analytics/events.csv HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("asks");
        let mut first = [0_u8; 1024];
        let read = stream.read(&mut first).await.expect("the export starts");
        assert!(String::from_utf8_lossy(&first[..read]).starts_with("HTTP/1.1 200"));
        stream
    };
    let stalled_p99 = report("a stalled CSV export", &good_client(&url, 200).await);
    // Well past the send timeout (2 s), the rest is read: the export must end broken, not
    // look complete.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(20), stalled.read_to_end(&mut rest)).await;
    let text = String::from_utf8_lossy(&rest);
    let complete = text.ends_with("0\r\n\r\n");
    assert!(
        ended.is_ok() && !complete,
        "the stalled export was cut off and did not end as a complete chunked body"
    );
    println!("stalled export: cut off after {} more bytes", rest.len());
    assert!(
        stalled_p99 <= P99_BOUND,
        "p99 {stalled_p99:?} with a stalled export"
    );

    // 4. A body that never finishes: 408 after the body timeout (1 s).
    let mut slow_body = connect_from(loopback(8), api.addr).await.expect("connects");
    slow_body
        .write_all(
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n[{\"event\":",
        )
        .await
        .expect("writes");
    let mut answer = String::new();
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        slow_body.read_to_string(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "no answer to a stalled body");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\":\"request_timeout\""), "{answer}");

    // 5. One client over its connection limit (256): the extra ones are told why.
    let mut many = Vec::new();
    let mut refused = 0;
    for _ in 0..300 {
        let mut stream = connect_from(loopback(9), api.addr).await.expect("connects");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .ok();
        many.push(stream);
    }
    for stream in &mut many {
        let mut buffer = vec![0_u8; 2048];
        if let Ok(Ok(read)) =
            tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer)).await
        {
            let text = String::from_utf8_lossy(&buffer[..read]);
            if text.starts_with("HTTP/1.1 429") {
                assert!(
                    text.contains("connections open as one client may"),
                    "{text}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!(refused, 300 - 256, "connections over the per-client limit");
    drop(many);
    // The good client was never affected by the limit of another.
    let after = report("after", &good_client(&url, 100).await);
    assert!(after <= P99_BOUND);
    let mut child = api;
    assert!(terminate(&mut child.child).success());
}

//! Connection limits, applied as each TCP connection is accepted (before TLS and HTTP): at
//! most `max_total` open at once, and at most `max_per_client` from one IP address, so a
//! slowloris or a flood from one client cannot take the sockets every other client needs.
//! A refused connection gets a short 503 and is closed.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::metrics::Metrics;

/// The limits; 0 means no limit.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_total: usize,
    pub max_per_client: usize,
}

/// The acceptor: counts open connections and refuses those over a limit.
#[derive(Clone)]
pub struct ConnectionLimits {
    limits: Limits,
    open: Arc<Mutex<Open>>,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Total,
    Client,
}

impl ConnectionLimits {
    pub fn new(limits: Limits, metrics: Arc<Metrics>) -> Self {
        Self {
            limits,
            open: Arc::new(Mutex::new(Open::default())),
            metrics,
        }
    }

    fn admit(&self, client: Option<IpAddr>) -> Result<Slot, Refusal> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.limits.max_total > 0 && open.total >= self.limits.max_total {
            return Err(Refusal::Total);
        }
        if let Some(client) = client {
            let count = open.by_client.entry(client).or_default();
            if self.limits.max_per_client > 0 && *count >= self.limits.max_per_client {
                return Err(Refusal::Client);
            }
            *count += 1;
        }
        open.total += 1;
        self.metrics.connections_open.set(open.total as i64);
        Ok(Slot {
            client,
            limits: self.clone(),
        })
    }

    fn release(&self, client: Option<IpAddr>) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(client) = client
            && let Some(count) = open.by_client.get_mut(&client)
        {
            *count -= 1;
            if *count == 0 {
                open.by_client.remove(&client);
            }
        }
        self.metrics.connections_open.set(open.total as i64);
    }
}

/// A place among the open connections, given back when the connection closes.
struct Slot {
    client: Option<IpAddr>,
    limits: ConnectionLimits,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.limits.release(self.client);
    }
}

/// What a refused client reads before the connection closes: 429 when this client has too
/// many connections, 503 when the server has.
fn refusal_response(refusal: Refusal) -> String {
    let (status, code, message) = match refusal {
        Refusal::Total => (
            "503 Service Unavailable",
            "unavailable",
            "the server has as many connections open as it takes; try again shortly",
        ),
        Refusal::Client => (
            "429 Too Many Requests",
            "too_many_requests",
            "this client has as many connections open as one client may; reuse them or close some",
        ),
    };
    let body = format!(r#"{{"error":"{code}","message":"{message}"}}"#);
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n\
         retry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

impl<S: Send + 'static> Accept<TcpStream, S> for ConnectionLimits {
    type Stream = LimitedStream;
    type Service = S;
    type Future = Ready<io::Result<(Self::Stream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let client = stream.peer_addr().ok().map(|address| address.ip());
        match self.admit(client) {
            Ok(slot) => ready(Ok((
                LimitedStream {
                    inner: stream,
                    _slot: slot,
                },
                service,
            ))),
            Err(refusal) => {
                self.metrics.connections_refused.inc();
                // Best effort and never waiting: the socket buffer of a new connection
                // takes this whole.
                let _ = stream.try_write(refusal_response(refusal).as_bytes());
                ready(Err(io::Error::other("connection refused by a limit")))
            }
        }
    }
}

/// A TCP stream that holds its place among the open connections.
pub struct LimitedStream {
    inner: TcpStream,
    _slot: Slot,
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_client_and_gives_places_back() {
        let limits = ConnectionLimits::new(
            Limits {
                max_total: 3,
                max_per_client: 2,
            },
            Arc::new(Metrics::default()),
        );
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let first = limits.admit(Some(a)).expect("first");
        let _second = limits.admit(Some(a)).expect("second");
        assert_eq!(limits.admit(Some(a)).err(), Some(Refusal::Client));
        let _third = limits.admit(Some(b)).expect("another client");
        assert_eq!(limits.admit(Some(b)).err(), Some(Refusal::Total));
        drop(first);
        assert!(limits.admit(Some(a)).is_ok());
        assert!(refusal_response(Refusal::Client).starts_with("HTTP/1.1 429"));
        assert!(refusal_response(Refusal::Total).starts_with("HTTP/1.1 503"));
    }
}

//! `GET /analytics/events.csv`: every event matching the filters, streamed as CSV while
//! DuckDB produces it (nothing is held in memory but a chunk). A client that stops reading
//! is cut off after the send timeout, so it cannot hold a database connection for ever, and
//! a cut export ends in an error, never in what looks like a complete file.

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use coachboard_contract::EventRecord;
use tokio::sync::mpsc;

use crate::error::AppError;
use crate::params::Params;
use crate::state::AppState;

pub(crate) const HEADER_ROW: &str = "id,ts,event,session_id,agent_draft,suggestion_used,policy_refs,latency_ms,ab_test_bucket,offer_id\n";
const CHUNK_BYTES: usize = 64 * 1024;

pub async fn events_csv(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref())?;
    let mut events_query = params.events_query()?;
    events_query.offset = 0;
    events_query.after = None;
    params.tz()?;
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let engine = state.engine.clone();
    let send_timeout = state.settings.timeouts.send;
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        // Waits for room in the channel, at most the send timeout: false when the client
        // went away or stopped reading.
        let send = |bytes: Result<Bytes, std::io::Error>| {
            runtime
                .block_on(sender.send_timeout(bytes, send_timeout))
                .is_ok()
        };
        let mut chunk = String::with_capacity(CHUNK_BYTES + 4096);
        chunk.push_str(HEADER_ROW);
        let mut open = true;
        let result = engine.store().export(&events_query, &mut |event| {
            write_row(&mut chunk, &event);
            if chunk.len() >= CHUNK_BYTES {
                let full = std::mem::replace(&mut chunk, String::with_capacity(CHUNK_BYTES + 4096));
                open = send(Ok(Bytes::from(full)));
                if !open {
                    tracing::warn!(
                        timeout_s = send_timeout.as_secs(),
                        "CSV export cut off: the client stopped reading"
                    );
                }
            }
            open
        });
        match result {
            Ok(()) if open => {
                if send(Ok(Bytes::from(chunk))) {
                    // The end marker: only now is the export complete.
                    let _ = send(Ok(Bytes::new()));
                }
            }
            Ok(()) => {}
            Err(error) => {
                tracing::error!(%error, "CSV export failed");
                let _ = send(Err(std::io::Error::other(error.to_string())));
            }
        }
    });
    let mut response = Response::new(Body::from_stream(until_complete(receiver)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"coach_events.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The chunks as they come; an empty chunk marks the end. A channel that closes without it
/// (the producer gave up) ends the body with an error, so the client sees a broken download
/// rather than a short file.
fn until_complete(
    mut receiver: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    async_stream::stream! {
        loop {
            match receiver.recv().await {
                Some(Ok(bytes)) if bytes.is_empty() => break,
                Some(item) => yield item,
                None => {
                    yield Err(std::io::Error::other("the export was cut off"));
                    break;
                }
            }
        }
    }
}

pub(crate) fn write_row(out: &mut String, event: &EventRecord) {
    let latency = event.latency_ms.map(|ms| ms.to_string());
    let ts = coachboard_contract::format_instant(event.ts);
    let fields: [Option<&str>; 10] = [
        Some(&event.id),
        Some(&ts),
        Some(&event.event),
        event.session_id.as_deref(),
        event.agent_draft.as_deref(),
        event.suggestion_used.as_deref(),
        event.policy_refs.as_deref(),
        latency.as_deref(),
        event.ab_test_bucket.as_deref(),
        event.offer_id.as_deref(),
    ];
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        match field {
            // A number is a number to a spreadsheet, negative ones too: written as it is.
            Some(number) if index == LATENCY_COLUMN => out.push_str(number),
            Some(text) => write_field(out, text),
            None => {}
        }
    }
    out.push('\n');
}

/// Where `latency_ms` stands in a row.
const LATENCY_COLUMN: usize = 7;

/// RFC 4180 quoting, and a leading apostrophe on text a spreadsheet would run as a formula.
fn write_field(out: &mut String, field: &str) {
    let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = formula || field.contains([',', '"', '\n', '\r']);
    if !needs_quotes {
        out.push_str(field);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    out.push_str(&field.replace('"', "\"\""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_defuses_fields() {
        let mut out = String::new();
        write_field(&mut out, "plain");
        out.push('|');
        write_field(&mut out, "a, \"b\"\nc");
        out.push('|');
        write_field(&mut out, "=HYPERLINK(\"x\")");
        assert_eq!(out, "plain|\"a, \"\"b\"\"\nc\"|\"'=HYPERLINK(\"\"x\"\")\"");
    }
}

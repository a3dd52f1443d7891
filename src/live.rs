//! Keeping the page current: a timer (paused while the tab is hidden) or, in Live mode, the
//! API's Server-Sent Events. SSE is read with `fetch` rather than `EventSource` because only
//! `fetch` can send the `Authorization` header; it reconnects by itself after the API restarts.

use std::cell::Cell;
use std::rc::Rc;

use coachboard_contract::DataChanged;
use gloo_net::http::Request;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader};

/// Waits `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// True while the page is visible (timers pause otherwise).
pub fn page_visible() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_none_or(|document| document.visibility_state() == web_sys::VisibilityState::Visible)
}

/// Splits complete SSE messages off the front of `buffer`, returning the data of each
/// `change` event (pure, unit-tested).
pub fn take_messages(buffer: &mut String) -> Vec<DataChanged> {
    let mut found = Vec::new();
    let normalised = buffer.replace("\r\n", "\n");
    let mut rest = normalised.as_str();
    while let Some(end) = rest.find("\n\n") {
        let block = &rest[..end];
        rest = &rest[end + 2..];
        let mut event = "message";
        let mut data = String::new();
        for line in block.lines() {
            if let Some(value) = line.strip_prefix("event:") {
                event = value.trim();
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push_str(value.trim_start());
            }
        }
        if event == "change"
            && let Ok(change) = serde_json::from_str::<DataChanged>(&data)
        {
            found.push(change);
        }
    }
    *buffer = rest.to_owned();
    found
}

/// A running subscription; dropping it stops the stream.
pub struct Subscription {
    controller: Option<AbortController>,
    stopped: Rc<Cell<bool>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.stopped.set(true);
        if let Some(controller) = &self.controller {
            controller.abort();
        }
    }
}

/// Listens to the API's change stream, calling `on_change` for each message and
/// `on_status(connected)` as the connection comes and goes.
pub fn subscribe(
    url: String,
    token: Option<String>,
    on_change: impl Fn(DataChanged) + 'static,
    on_status: impl Fn(bool) + 'static,
) -> Subscription {
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(AbortController::signal);
    let stopped = Rc::new(Cell::new(false));
    let running = stopped.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let mut backoff = 500;
        while !running.get() {
            let connected = read_stream(
                &url,
                token.as_deref(),
                signal.as_ref(),
                &on_change,
                &on_status,
            )
            .await;
            on_status(false);
            if running.get() {
                break;
            }
            backoff = if connected {
                500
            } else {
                (backoff * 2).min(10_000)
            };
            sleep(backoff).await;
        }
    });
    Subscription {
        controller,
        stopped,
    }
}

/// Reads one connection until it ends; true if it got as far as receiving data.
async fn read_stream(
    url: &str,
    token: Option<&str>,
    signal: Option<&web_sys::AbortSignal>,
    on_change: &impl Fn(DataChanged),
    on_status: &impl Fn(bool),
) -> bool {
    let mut request = Request::get(url)
        .abort_signal(signal)
        .header("Accept", "text/event-stream");
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let Ok(response) = request.send().await else {
        return false;
    };
    if !response.ok() {
        return false;
    }
    let Some(body) = response.body() else {
        return false;
    };
    let Ok(reader) = body.get_reader().dyn_into::<ReadableStreamDefaultReader>() else {
        return false;
    };
    on_status(true);
    let mut buffer = String::new();
    let mut received = false;
    loop {
        let Ok(chunk) = JsFuture::from(reader.read()).await else {
            break;
        };
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|value| value.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into()) else {
            break;
        };
        let bytes = js_sys::Uint8Array::new(&value).to_vec();
        buffer.push_str(&String::from_utf8_lossy(&bytes));
        for change in take_messages(&mut buffer) {
            received = true;
            on_change(change);
        }
    }
    received
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_messages_across_chunks() {
        let mut buffer = String::from(
            "event: change\nid: 3\ndata: {\"version\":3,\"total_events\":10}\n\n: keep-alive\n\nevent: ch",
        );
        let messages = take_messages(&mut buffer);
        assert_eq!(
            messages,
            vec![DataChanged {
                version: 3,
                total_events: Some(10)
            }]
        );
        assert_eq!(buffer, "event: ch");
        buffer.push_str("ange\ndata: {\"version\":4,\"total_events\":12}\n\n");
        assert_eq!(take_messages(&mut buffer)[0].version, 4);
        assert!(buffer.is_empty());
    }
}

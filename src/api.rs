//! One thin async function per API endpoint, with the contract's types. Requests carry the
//! token in an `Authorization` header (never a cookie, so embedding works) and are aborted
//! when the view that asked for them goes away.

use coachboard_contract::{
    Annotation, ErrorBody, EventRecord, Experiment, Filter, Interval, LatencyDistribution,
    NEXT_CURSOR_HEADER, PolicyCounts, PolicyOutcomes, RewriteSizes, SLICE_HEADER, SessionDetail,
    SortKey, SortOrder, SuggestionOutcomes, Summary, TOTAL_COUNT_HEADER, Timeseries,
};
use gloo_net::http::{Request, Response};
use leptos::prelude::on_cleanup;
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;

use crate::query::query_string;

/// Why a request failed, in the terms the page shows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("cannot reach the API at {url}")]
    Unreachable { url: String },
    #[error("{message}")]
    Unauthorized { message: String },
    #[error("the API answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the API's answer could not be read: {0}")]
    Decode(String),
}

/// Where the API is and how to authenticate to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
}

/// A page of the events table.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsPage {
    pub events: Vec<EventRecord>,
    /// Events matching the filters (absent from APIs without paging).
    pub total: Option<u64>,
    pub next_cursor: Option<String>,
}

/// The table's paging and sorting.
#[derive(Debug, Clone, PartialEq)]
pub struct TableQuery {
    pub limit: u32,
    pub offset: u64,
    pub sort: SortKey,
    pub order: SortOrder,
    pub search: String,
}

/// A failed answer as an error, with the API's own message when it sent one.
async fn check(response: Response) -> Result<Response, ApiError> {
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let message = match response.json::<ErrorBody>().await {
        Ok(body) => body.message,
        Err(_) => response.status_text(),
    };
    Err(if status == 401 {
        ApiError::Unauthorized { message }
    } else {
        ApiError::Status { status, message }
    })
}

impl Api {
    pub fn url(&self, path: &str, pairs: &[(String, String)]) -> String {
        format!("{}{path}{}", self.base, query_string(pairs))
    }

    /// Starts a GET at once (so that several run together) and returns its answer's future.
    /// The request is aborted if the caller's reactive owner is cleaned up first.
    fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        pairs: &[(String, String)],
    ) -> impl Future<Output = Result<(T, Response), ApiError>> + use<T> {
        let started = self.start(&self.url(path, pairs));
        let unreachable = ApiError::Unreachable {
            url: self.base_label(),
        };
        async move {
            let promise = started.ok_or_else(|| unreachable.clone())?;
            let raw = wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .map_err(|_| unreachable.clone())?;
            let response = Response::from(
                raw.dyn_into::<web_sys::Response>()
                    .map_err(|_| unreachable)?,
            );
            let response = check(response).await?;
            let value = response
                .json::<T>()
                .await
                .map_err(|error| ApiError::Decode(error.to_string()))?;
            Ok((value, response))
        }
    }

    /// The request, built with gloo-net and handed to `fetch`; `None` if it cannot be built.
    fn start(&self, url: &str) -> Option<js_sys::Promise> {
        let controller = SendWrapper::new(web_sys::AbortController::new().ok());
        let signal = controller.as_ref().map(web_sys::AbortController::signal);
        on_cleanup(move || {
            if let Some(controller) = controller.take() {
                controller.abort();
            }
        });
        let mut request = Request::get(url).abort_signal(signal.as_ref());
        if let Some(token) = &self.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let request: web_sys::Request = request.build().ok()?.into();
        Some(web_sys::window()?.fetch_with_request(&request))
    }

    /// The API's address as a person would type it.
    pub fn base_label(&self) -> String {
        if self.base.is_empty() {
            web_sys::window()
                .and_then(|window| window.location().origin().ok())
                .unwrap_or_else(|| "this site".to_owned())
        } else {
            self.base.clone()
        }
    }

    /// The summary, and the slice the token is limited to (from `X-Coachboard-Slice`).
    pub async fn summary(
        &self,
        filter: &Filter,
        compare: bool,
    ) -> Result<(Summary, Option<String>), ApiError> {
        let mut pairs = owned(filter.query_pairs());
        if compare {
            pairs.push(("compare".to_owned(), "previous".to_owned()));
        }
        let (summary, response) = self.get("/analytics/summary", &pairs).await?;
        Ok((summary, response.headers().get(SLICE_HEADER)))
    }

    pub async fn events(
        &self,
        filter: &Filter,
        table: &TableQuery,
    ) -> Result<EventsPage, ApiError> {
        let (events, response) = self
            .get::<Vec<EventRecord>>("/analytics/events", &events_pairs(filter, table))
            .await?;
        let header = |name: &str| response.headers().get(name);
        Ok(EventsPage {
            events,
            total: header(TOTAL_COUNT_HEADER).and_then(|value| value.parse().ok()),
            next_cursor: header(NEXT_CURSOR_HEADER),
        })
    }

    pub fn policies(
        &self,
        filter: &Filter,
    ) -> impl Future<Output = Result<PolicyCounts, ApiError>> + use<> {
        value(self.get("/analytics/policies", &owned(filter.query_pairs())))
    }

    pub fn timeseries(
        &self,
        filter: &Filter,
        interval: Interval,
    ) -> impl Future<Output = Result<Timeseries, ApiError>> + use<> {
        let mut pairs = owned(filter.query_pairs());
        pairs.push(("interval".to_owned(), interval.as_str().to_owned()));
        value(self.get("/analytics/timeseries", &pairs))
    }

    pub fn latency(
        &self,
        filter: &Filter,
    ) -> impl Future<Output = Result<LatencyDistribution, ApiError>> + use<> {
        value(self.get("/analytics/latency", &owned(filter.query_pairs())))
    }

    pub fn experiment(
        &self,
        filter: &Filter,
    ) -> impl Future<Output = Result<Experiment, ApiError>> + use<> {
        value(self.get("/analytics/experiment", &owned(filter.query_pairs())))
    }

    pub fn suggestions(
        &self,
        filter: &Filter,
    ) -> impl Future<Output = Result<SuggestionOutcomes, ApiError>> + use<> {
        value(self.get("/analytics/suggestions", &owned(filter.query_pairs())))
    }

    pub fn policy_outcomes(
        &self,
        filter: &Filter,
    ) -> impl Future<Output = Result<PolicyOutcomes, ApiError>> + use<> {
        value(self.get("/analytics/policy-outcomes", &owned(filter.query_pairs())))
    }

    pub fn rewrites(
        &self,
        filter: &Filter,
    ) -> impl Future<Output = Result<RewriteSizes, ApiError>> + use<> {
        value(self.get("/analytics/rewrites", &owned(filter.query_pairs())))
    }

    /// The annotations within the filter's range (its other filters do not apply to notes).
    pub fn annotations(
        &self,
        filter: &Filter,
    ) -> impl Future<Output = Result<Vec<Annotation>, ApiError>> + use<> {
        let pairs: Vec<(String, String)> = owned(filter.query_pairs())
            .into_iter()
            .filter(|(key, _)| key == "from" || key == "to")
            .collect();
        value(self.get("/annotations", &pairs))
    }

    /// One session's suggestions with their outcomes.
    pub async fn session(&self, id: &str) -> Result<SessionDetail, ApiError> {
        let path = format!("/analytics/sessions/{}", crate::query::encode(id));
        value(self.get(&path, &[])).await
    }

    /// The CSV of every event matching the filters.
    pub fn csv_url(&self, filter: &Filter, table: &TableQuery) -> String {
        let mut pairs = events_pairs(filter, table);
        pairs.retain(|(key, _)| key != "limit" && key != "offset");
        self.url("/analytics/events.csv", &pairs)
    }

    /// Fetches a file with the token and hands it to the browser as a download.
    pub async fn download(&self, url: &str, filename: &str) -> Result<(), ApiError> {
        let unreachable = ApiError::Unreachable {
            url: self.base_label(),
        };
        let promise = self.start(url).ok_or_else(|| unreachable.clone())?;
        let raw = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(|_| unreachable.clone())?;
        let response = check(Response::from(
            raw.dyn_into::<web_sys::Response>()
                .map_err(|_| unreachable)?,
        ))
        .await?;
        let decode = |_| ApiError::Decode("the download could not be read".to_owned());
        let bytes = response
            .binary()
            .await
            .map_err(|error| ApiError::Decode(error.to_string()))?;
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
        let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(decode)?;
        let object_url = web_sys::Url::create_object_url_with_blob(&blob).map_err(decode)?;
        let document = web_sys::window().and_then(|window| window.document());
        if let Some(anchor) = document
            .and_then(|document| document.create_element("a").ok())
            .and_then(|element| element.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        {
            anchor.set_href(&object_url);
            anchor.set_download(filename);
            anchor.click();
        }
        let _ = web_sys::Url::revoke_object_url(&object_url);
        Ok(())
    }

    /// The live-updates stream.
    pub fn stream_url(&self) -> String {
        self.url("/analytics/stream", &[])
    }
}

/// Just the value of an answer.
async fn value<T>(
    answer: impl Future<Output = Result<(T, Response), ApiError>>,
) -> Result<T, ApiError> {
    Ok(answer.await?.0)
}

fn owned(pairs: Vec<(&'static str, String)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

fn events_pairs(filter: &Filter, table: &TableQuery) -> Vec<(String, String)> {
    let mut pairs = owned(filter.query_pairs());
    pairs.push(("limit".to_owned(), table.limit.to_string()));
    if table.offset > 0 {
        pairs.push(("offset".to_owned(), table.offset.to_string()));
    }
    pairs.push(("sort".to_owned(), table.sort.as_str().to_owned()));
    pairs.push(("order".to_owned(), table.order.as_str().to_owned()));
    if !table.search.trim().is_empty() {
        pairs.push(("q".to_owned(), table.search.trim().to_owned()));
    }
    pairs
}

/// A `curl` line that sends a first event to this API.
pub fn first_event_curl(api_label: &str) -> String {
    let body = r#"{"event":"offered","session_id":"s-1","agent_draft":"Hi, how can I help?","latency_ms":420,"ab_test_bucket":"A","policy_refs":["PII-01"]}"#;
    format!("curl -X POST {api_label}/events -H 'Content-Type: application/json' -d '{body}'")
}

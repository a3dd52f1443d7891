//! The wire types of Coachboard: every request and response that crosses HTTP between the
//! API (`coachboard-api`) and the dashboard, defined once and shared by both.
//!
//! Field names and shapes of the seed endpoints (`/analytics/summary`, `/analytics/events`,
//! `/analytics/policies`) follow the design note exactly, so clients written against the
//! note's Python API keep working.

mod annotations;
pub mod diff;
mod error;
mod event;
mod filter;
mod ingest;
mod responses;
mod suggestions;

pub use annotations::{Annotation, MAX_ANNOTATION_CHARS, NewAnnotation};
pub use error::{ErrorBody, ErrorCode};
pub use event::{EventKind, EventRecord, ParseEventKindError, parse_policy_refs};
pub use filter::{Filter, Interval, SortKey, SortOrder, format_instant};
pub use ingest::{IngestResult, NewEvent, PolicyRefs, parse_instant, truncate_for_message};
pub use responses::*;
pub use suggestions::*;

/// Response header with the number of events matching the filters of `/analytics/events`.
pub const TOTAL_COUNT_HEADER: &str = "x-total-count";
/// Response header with the cursor of the next page of `/analytics/events`.
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";
/// On answers to a sliced read token: the filters it is limited to, as a query string.
pub const SLICE_HEADER: &str = "x-coachboard-slice";

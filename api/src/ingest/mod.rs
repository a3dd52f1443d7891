//! `POST /events`: parse a body of one event, a JSON array or NDJSON; validate every event;
//! assign ids and times. The request is all or nothing.

mod parse;
mod validate;

pub use parse::{BodyFormat, parse_body};
pub use validate::{Limits, validate_batch};

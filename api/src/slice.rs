//! A sliced read token's slice: the filters (a bucket, a policy, a set of policies) that every
//! request made with it carries. The API rewrites each request's query string through
//! `apply`, so every handler sees the slice as if the client had asked for it; a request that
//! names another value for a sliced filter is refused rather than silently narrowed (a subset
//! of a sliced set of policies is a narrower view, and kept).

use axum::extract::Request;
use axum::http::Uri;

use crate::error::AppError;
use crate::params::policy_names;

/// The filters a slice may fix; each narrows every endpoint.
pub const SLICEABLE: [&str; 3] = ["bucket", "policy", "policies"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// (filter, value) pairs, each name from `SLICEABLE` at most once.
    pairs: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SliceError {
    #[error("a slice names no filter: give bucket=…, policy=… or policies=A,B")]
    Empty,
    #[error("`{0}` cannot slice a token (only bucket, policy and policies)")]
    NotSliceable(String),
    #[error("`{0}` is given more than once")]
    Repeated(String),
    #[error("`{0}` has no value")]
    NoValue(String),
}

impl Slice {
    /// Reads `bucket=A&policy=PII-01` (form-encoded, so any value can be written).
    pub fn parse(text: &str) -> Result<Self, SliceError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(text.trim().as_bytes()) {
            if !SLICEABLE.contains(&name.as_ref()) {
                return Err(SliceError::NotSliceable(name.into_owned()));
            }
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(SliceError::Repeated(name.into_owned()));
            }
            if value.trim().is_empty()
                || (name == "policies" && policy_names(&value).next().is_none())
            {
                return Err(SliceError::NoValue(name.into_owned()));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        if pairs.is_empty() {
            return Err(SliceError::Empty);
        }
        Ok(Self { pairs })
    }

    /// The slice as a query string, for messages and the `X-Coachboard-Slice` header.
    pub fn describe(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.pairs)
            .finish()
    }

    /// Puts the slice into a request's query string, where every analytics handler reads its
    /// filters. Only the analytics endpoints (and the annotations, the operator's notes, not
    /// events) take them: other paths (`/metrics`: counts of every event) are refused.
    pub fn narrow(&self, request: &mut Request) -> Result<(), AppError> {
        let uri = request.uri();
        if !uri.path().starts_with("/analytics/") && uri.path() != "/annotations" {
            return Err(AppError::Forbidden(format!(
                "this token reads only {} through /analytics/… and /annotations",
                self.describe()
            )));
        }
        let malformed = || AppError::InvalidParameter("the query string is malformed".into());
        let query = self.apply(uri.query())?;
        let mut parts = uri.clone().into_parts();
        parts.path_and_query = Some(
            format!("{}?{query}", uri.path())
                .parse()
                .map_err(|_| malformed())?,
        );
        *request.uri_mut() = Uri::from_parts(parts).map_err(|_| malformed())?;
        Ok(())
    }

    /// The request's query string with the slice's filters in it. A sliced filter the
    /// request gives with another value is a 403: the token cannot see that slice. Names are
    /// compared decoded, so `%62ucket` is `bucket`; every copy of a sliced name is replaced.
    pub fn apply(&self, query: Option<&str>) -> Result<String, AppError> {
        let refuse = |name: &str| {
            AppError::Forbidden(format!(
                "this token reads only {}: `{name}` cannot be changed",
                self.describe()
            ))
        };
        let mut kept: Vec<(String, String)> = Vec::new();
        let mut narrowed: Vec<&str> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let Some((sliced, allowed)) = self.pairs.iter().find(|(sliced, _)| *sliced == name)
            else {
                kept.push((name.into_owned(), value.into_owned()));
                continue;
            };
            if sliced == "policies" {
                let asked: Vec<&str> = policy_names(&value).collect();
                if asked.is_empty() {
                    continue;
                }
                let within: Vec<&str> = policy_names(allowed).collect();
                if !asked.iter().all(|policy| within.contains(policy)) {
                    return Err(refuse(sliced));
                }
                // Some of the slice's policies: a narrower view, kept instead of the slice's.
                narrowed.push(sliced);
                kept.push((name.into_owned(), value.into_owned()));
            } else if !value.is_empty() && value != *allowed {
                return Err(refuse(sliced));
            }
        }
        kept.extend(
            self.pairs
                .iter()
                .filter(|(name, _)| !narrowed.contains(&name.as_str()))
                .cloned(),
        );
        Ok(form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&kept)
            .finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect()
    }

    #[test]
    fn reads_a_slice() {
        let slice = Slice::parse("bucket=treatment&policy=PII%2001").expect("slice");
        assert_eq!(slice.describe(), "bucket=treatment&policy=PII+01");
        assert_eq!(Slice::parse(""), Err(SliceError::Empty));
        assert_eq!(
            Slice::parse("event=accepted"),
            Err(SliceError::NotSliceable("event".into()))
        );
        assert_eq!(
            Slice::parse("bucket=a&bucket=b"),
            Err(SliceError::Repeated("bucket".into()))
        );
        assert_eq!(
            Slice::parse("bucket="),
            Err(SliceError::NoValue("bucket".into()))
        );
    }

    #[test]
    fn every_request_carries_the_slice() {
        let slice = Slice::parse("bucket=treatment").expect("slice");
        assert_eq!(
            pairs(&slice.apply(None).expect("applied")),
            pairs("bucket=treatment")
        );
        assert_eq!(
            pairs(
                &slice
                    .apply(Some("event=accepted&bucket="))
                    .expect("applied")
            ),
            pairs("event=accepted&bucket=treatment")
        );
        assert_eq!(
            pairs(&slice.apply(Some("bucket=treatment")).expect("applied")),
            pairs("bucket=treatment")
        );
    }

    #[test]
    fn a_set_of_policies_narrows_to_its_subsets_only() {
        let slice = Slice::parse("policies=PII-01,TONE-02").expect("slice");
        assert_eq!(
            pairs(&slice.apply(Some("event=accepted")).expect("applied")),
            pairs("event=accepted&policies=PII-01%2CTONE-02")
        );
        assert_eq!(
            pairs(&slice.apply(Some("policies=TONE-02")).expect("narrower")),
            pairs("policies=TONE-02")
        );
        // Blank lists are no list: the slice's own applies.
        assert_eq!(
            pairs(&slice.apply(Some("policies=+%2C+")).expect("applied")),
            pairs("policies=PII-01%2CTONE-02")
        );
        assert_refused(
            &slice,
            &[
                "policies=REFUND-03",
                "policies=PII-01,REFUND-03",
                "p%6Flicies=PII-01,REFUND-03",
                "policies=TONE-02&policies=REFUND-03",
            ],
        );
        assert_eq!(
            Slice::parse("policies=,"),
            Err(SliceError::NoValue("policies".into()))
        );
    }

    #[test]
    fn no_spelling_widens_it() {
        let slice = Slice::parse("bucket=treatment").expect("slice");
        assert_refused(
            &slice,
            &[
                "bucket=control",
                "%62ucket=control",
                "bucket=treatment&bucket=control",
                "bucket=control&bucket=treatment",
                "bucket=Treatment",
                "bucket=treatment%00",
                "bucket=treatment+",
            ],
        );
    }

    /// Each query is refused with a 403, never narrowed or passed.
    fn assert_refused(slice: &Slice, queries: &[&str]) {
        for query in queries {
            assert!(
                matches!(slice.apply(Some(query)), Err(AppError::Forbidden(_))),
                "{query} got through"
            );
        }
    }
}

//! A sliced read token's slice: the filters (one bucket, one policy) that every request made
//! with it carries. The API rewrites each request's query string through `apply`, so every
//! handler sees the slice as if the client had asked for it; a request that names another
//! value for a sliced filter is refused rather than silently narrowed.

use crate::error::AppError;

/// The filters a slice may fix: both narrow every endpoint, the roll-up answers a bucket.
pub const SLICEABLE: [&str; 2] = ["bucket", "policy"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// (filter, value) pairs, each name from `SLICEABLE` at most once.
    pairs: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SliceError {
    #[error("a slice names no filter: give bucket=… and/or policy=…")]
    Empty,
    #[error("`{0}` cannot slice a token (only bucket and policy)")]
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
            if value.trim().is_empty() {
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

    /// The request's query string with the slice's filters in it. A sliced filter the
    /// request gives with another value is a 403: the token cannot see that slice. Names are
    /// compared decoded, so `%62ucket` is `bucket`; every copy of a sliced name is replaced.
    pub fn apply(&self, query: Option<&str>) -> Result<String, AppError> {
        let mut kept: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match self.pairs.iter().find(|(sliced, _)| *sliced == name) {
                Some((_, allowed)) if !value.is_empty() && value != *allowed => {
                    return Err(AppError::Forbidden(format!(
                        "this token reads only {}: `{name}` cannot be changed",
                        self.describe()
                    )));
                }
                Some(_) => {}
                None => kept.push((name.into_owned(), value.into_owned())),
            }
        }
        kept.extend(self.pairs.iter().cloned());
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
    fn no_spelling_widens_it() {
        let slice = Slice::parse("bucket=treatment").expect("slice");
        for query in [
            "bucket=control",
            "%62ucket=control",
            "bucket=treatment&bucket=control",
            "bucket=control&bucket=treatment",
            "bucket=Treatment",
            "bucket=treatment%00",
            "bucket=treatment+",
        ] {
            assert!(
                matches!(slice.apply(Some(query)), Err(AppError::Forbidden(_))),
                "{query} got through"
            );
        }
    }
}

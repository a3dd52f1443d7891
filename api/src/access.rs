//! Bearer tokens, separately for reading and for ingest, compared in constant time. A read
//! token may be sliced (see `slice.rs`): it then reads its slice only.

use std::sync::Arc;

use axum::http::HeaderValue;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::slice::Slice;

/// What a request needs to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Ingest,
}

impl Need {
    fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Ingest => "ingest",
        }
    }
}

/// What an accepted token may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    Everything,
    Slice(Arc<Slice>),
}

/// The accepted tokens, kept as SHA-256 digests: comparing digests of equal length leaks
/// neither the tokens nor their lengths through timing.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Read tokens with what each may see (everything, or a slice).
    read: Vec<([u8; 32], Grant)>,
    ingest: Vec<([u8; 32], Grant)>,
}

/// A new random token: 122 random bits of a v4 UUID (the OS's generator), hex.
pub fn new_token() -> String {
    format!("cb_{}", uuid::Uuid::new_v4().simple())
}

/// `coachboard-api token`: a tokens-file line with a new read token, sliced if asked.
pub fn token_line(slice: Option<&str>) -> Result<String, crate::slice::SliceError> {
    let token = new_token();
    Ok(match slice {
        Some(text) => format!("read:{token} {}", Slice::parse(text)?.describe()),
        None => format!("read:{token}"),
    })
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Access {
    pub fn new(read_tokens: &[String], ingest_tokens: &[String]) -> Self {
        let clean = |tokens: &[String]| -> Vec<([u8; 32], Grant)> {
            tokens
                .iter()
                .map(|token| token.trim())
                .filter(|token| !token.is_empty())
                .map(|token| (digest(token), Grant::Everything))
                .collect()
        };
        Self {
            read: clean(read_tokens),
            ingest: clean(ingest_tokens),
        }
    }

    /// Adds a read token that sees only `slice` (an empty token is ignored).
    pub fn with_sliced_read(mut self, token: &str, slice: Slice) -> Self {
        let token = token.trim();
        if !token.is_empty() {
            self.read
                .push((digest(token), Grant::Slice(Arc::new(slice))));
        }
        self
    }

    fn tokens(&self, need: Need) -> &[([u8; 32], Grant)] {
        match need {
            Need::Read => &self.read,
            Need::Ingest => &self.ingest,
        }
    }

    /// True when requests of this kind need no token.
    pub fn is_open(&self, need: Need) -> bool {
        self.tokens(need).is_empty()
    }

    /// Checks an `Authorization: Bearer …` header for this kind of request, and says what the
    /// token may see.
    pub fn check(
        &self,
        need: Need,
        authorization: Option<&HeaderValue>,
    ) -> Result<Grant, AppError> {
        let accepted = self.tokens(need);
        if accepted.is_empty() {
            return Ok(Grant::Everything);
        }
        let presented = authorization
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim);
        let Some(presented) = presented.filter(|token| !token.is_empty()) else {
            return Err(AppError::Unauthorized(format!(
                "this API needs a {} token: send `Authorization: Bearer <token>`",
                need.as_str()
            )));
        };
        let presented = digest(presented);
        // Look at every token, matched or not, so timing says nothing about which matched.
        let matched = accepted.iter().fold(None, |found, (token, grant)| {
            let this = constant_time_eq(token, &presented).then_some(grant);
            found.or(this)
        });
        if let Some(grant) = matched {
            Ok(grant.clone())
        } else {
            Err(AppError::Unauthorized(format!(
                "the token is not a valid {} token",
                need.as_str()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_separate_per_kind() {
        let access = Access::new(&["r3ad".into()], &["1ngest".into()]);
        let bearer = |token: &str| HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        assert!(access.check(Need::Read, Some(&bearer("r3ad"))).is_ok());
        assert!(access.check(Need::Read, Some(&bearer("1ngest"))).is_err());
        assert!(access.check(Need::Ingest, Some(&bearer("r3ad"))).is_err());
        assert!(access.check(Need::Ingest, Some(&bearer("1ngest"))).is_ok());
        assert!(access.check(Need::Read, None).is_err());
        assert!(Access::default().check(Need::Read, None).is_ok());
    }

    #[test]
    fn a_sliced_token_reads_its_slice_only() {
        let slice = Slice::parse("bucket=treatment").unwrap();
        let access = Access::new(&["r3ad".into()], &["1ngest".into()])
            .with_sliced_read("p0rtal", slice.clone());
        let bearer = |token: &str| HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        assert_eq!(
            access.check(Need::Read, Some(&bearer("p0rtal"))).unwrap(),
            Grant::Slice(Arc::new(slice))
        );
        assert_eq!(
            access.check(Need::Read, Some(&bearer("r3ad"))).unwrap(),
            Grant::Everything
        );
        assert!(access.check(Need::Ingest, Some(&bearer("p0rtal"))).is_err());
        let only_sliced =
            Access::default().with_sliced_read("p0rtal", Slice::parse("policy=PII-01").unwrap());
        assert!(!only_sliced.is_open(Need::Read));
        assert!(only_sliced.check(Need::Read, None).is_err());
    }
}

//! Bearer tokens, separately for reading and for ingest, compared in constant time.

use axum::http::HeaderValue;
use sha2::{Digest, Sha256};

use crate::error::AppError;

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

/// The accepted tokens, kept as SHA-256 digests: comparing digests of equal length leaks
/// neither the tokens nor their lengths through timing.
#[derive(Debug, Clone, Default)]
pub struct Access {
    read: Vec<[u8; 32]>,
    ingest: Vec<[u8; 32]>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Access {
    pub fn new(read_tokens: &[String], ingest_tokens: &[String]) -> Self {
        let clean = |tokens: &[String]| -> Vec<[u8; 32]> {
            tokens
                .iter()
                .map(|token| token.trim())
                .filter(|token| !token.is_empty())
                .map(digest)
                .collect()
        };
        Self {
            read: clean(read_tokens),
            ingest: clean(ingest_tokens),
        }
    }

    fn tokens(&self, need: Need) -> &[[u8; 32]] {
        match need {
            Need::Read => &self.read,
            Need::Ingest => &self.ingest,
        }
    }

    /// True when requests of this kind need no token.
    pub fn is_open(&self, need: Need) -> bool {
        self.tokens(need).is_empty()
    }

    /// Checks an `Authorization: Bearer …` header for this kind of request.
    pub fn check(&self, need: Need, authorization: Option<&HeaderValue>) -> Result<(), AppError> {
        let accepted = self.tokens(need);
        if accepted.is_empty() {
            return Ok(());
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
        let matched = accepted.iter().fold(false, |found, token| {
            constant_time_eq(token, &presented) | found
        });
        if matched {
            Ok(())
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
}

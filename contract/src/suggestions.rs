//! Answers about suggestions as a whole: an `offered` event and what became of it.
//!
//! A suggestion's outcome is its first answer in time (`accepted`, `edited` or `rejected`),
//! linked by the outcome's `offer_id` or, without one, inferred: the latest earlier offer of
//! the same session that has no answer yet. Rates are shares of the suggestions (offers) in
//! scope, in percent; "accepted" counts suggestions used as they were or edited, as the
//! note's accept rate does.

use serde::{Deserialize, Serialize};

use crate::{EventRecord, LatencyBin};

/// `GET /analytics/suggestions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuggestionOutcomes {
    /// How long an offer may wait for its answer before it counts as unanswered, in seconds.
    pub unanswered_after_s: u64,
    /// Every suggestion in scope together.
    pub overall: SuggestionStats,
    /// The same per A/B bucket, in bucket order.
    pub buckets: Vec<BucketSuggestions>,
    /// Answered suggestions whose link was inferred rather than named by the outcome.
    pub inferred_links: u64,
    /// Suggestions answered more than once (only the first answer counts).
    pub answered_more_than_once: u64,
    /// Time from offer to first answer.
    pub decision_time: DecisionTime,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuggestionStats {
    pub suggestions: u64,
    pub accepted: u64,
    pub edited: u64,
    pub rejected: u64,
    /// No answer within `unanswered_after_s`.
    pub unanswered: u64,
    /// No answer yet, but offered less than `unanswered_after_s` ago.
    pub pending: u64,
    /// (accepted + edited) / suggestions, percent, with its 95% Wilson interval.
    pub accept_rate: Option<f64>,
    pub accept_ci_low: Option<f64>,
    pub accept_ci_high: Option<f64>,
    pub unanswered_rate: Option<f64>,
    pub decision_p50_ms: Option<f64>,
    pub decision_p95_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BucketSuggestions {
    pub bucket: String,
    pub stats: SuggestionStats,
}

/// Distribution of the positive times from offer to first answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionTime {
    pub count: u64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Log-spaced, like the latency histogram's.
    pub bins: Vec<LatencyBin>,
}

/// `GET /analytics/policy-outcomes`: per policy an offer referenced, what became of those
/// suggestions, most referenced first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyOutcomes {
    pub policies: Vec<PolicyOutcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyOutcome {
    pub policy: String,
    pub suggestions: u64,
    pub accepted: u64,
    pub edited: u64,
    pub rejected: u64,
    /// Not answered (yet).
    pub unanswered: u64,
    /// Share of the policy's suggestions, with its 95% Wilson interval.
    pub accept_rate: Rate,
    pub edit_rate: Rate,
    pub reject_rate: Rate,
}

/// A share in percent and its 95% Wilson score interval; all null without suggestions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rate {
    pub percent: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// `GET /analytics/rewrites`: how much the suggestions rewrote the agents' drafts (share of
/// words removed or added, over the words of both), and the accept rate at each size.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RewriteSizes {
    /// Ten bands of 10 points each, smallest rewrites first.
    pub bands: Vec<RewriteBand>,
    /// Offers without both a draft and a suggestion: their size is unknown.
    pub without_text: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RewriteBand {
    /// Rewrites of at least `lower_pct` and under `upper_pct` percent (the last band
    /// includes 100).
    pub lower_pct: f64,
    pub upper_pct: f64,
    pub suggestions: u64,
    /// Accepted or edited.
    pub accepted: u64,
    pub accept_rate: Rate,
}

/// `GET /analytics/sessions/{id}`: one session's suggestions in order, each with what
/// became of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionDetail {
    pub session_id: String,
    pub suggestions: Vec<SessionSuggestion>,
    /// Outcomes of the session linked to no offer of it.
    pub unlinked: Vec<EventRecord>,
    /// True when the session has more events than the page shows.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionSuggestion {
    pub offer: EventRecord,
    /// The first answer, if any.
    pub outcome: Option<EventRecord>,
    /// True when that answer's link was inferred rather than named by `offer_id`.
    pub inferred: bool,
    /// Milliseconds from offer to first answer (absent when not positive).
    pub decision_ms: Option<i64>,
    /// Answers after the first one.
    pub later_answers: Vec<EventRecord>,
    /// Share of words the suggestion changed in the draft, when both texts are known.
    pub rewrite_pct: Option<f64>,
}

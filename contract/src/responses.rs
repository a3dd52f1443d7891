use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Interval;

/// The headline figures of a period; the first five are the note's `/analytics/summary`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    pub total_events: u64,
    /// Events of type `offered`.
    pub suggestions_offered: u64,
    /// Events of type `accepted` or `edited`.
    pub suggestions_accepted: u64,
    /// `suggestions_accepted / suggestions_offered * 100`, 0 when nothing was offered.
    pub accept_rate: f64,
    /// Mean of `latency_ms` over events with `latency_ms > 0`, truncated; 0 when none.
    pub avg_latency_ms: i64,
    /// Latency percentiles over events with `latency_ms > 0` (exact below 256 ms, within
    /// 0.4% above); absent when there is no latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p99_ms: Option<f64>,
    /// Counts per event type, including types beyond the four known ones.
    #[serde(default)]
    pub events_by_type: BTreeMap<String, u64>,
}

/// `GET /analytics/summary`: the note's five fields first, then Coachboard's extras. The
/// extras are optional so the dashboard can read the note's own API with the same type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    #[serde(flatten)]
    pub figures: Figures,
    /// The period these figures cover (as filtered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// With `compare=previous`: the same figures for the preceding period of equal length;
    /// null when the range is unbounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousPeriod>,
    /// The whole table, unfiltered: tells an empty database from an empty range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseExtent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    #[serde(default, deserialize_with = "crate::ingest::optional_instant")]
    pub from: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::ingest::optional_instant")]
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviousPeriod {
    #[serde(deserialize_with = "crate::ingest::required_instant")]
    pub from: DateTime<Utc>,
    #[serde(deserialize_with = "crate::ingest::required_instant")]
    pub to: DateTime<Utc>,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatabaseExtent {
    pub total_events: u64,
    #[serde(default, deserialize_with = "crate::ingest::optional_instant")]
    pub first_event_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::ingest::optional_instant")]
    pub last_event_at: Option<DateTime<Utc>>,
}

/// `GET /analytics/policies`: `{policy: count}`, largest count first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyCounts(pub Vec<(String, u64)>);

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PolicyCounts {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let count = utoipa::openapi::schema::Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .build(),
        );
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("References per policy id, largest first"))
            .additional_properties(Some(count))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PolicyCounts {}

impl Serialize for PolicyCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (policy, count) in &self.0 {
            map.serialize_entry(policy, count)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for PolicyCounts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = PolicyCounts;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of policy counts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut counts = Vec::new();
                while let Some(entry) = access.next_entry::<String, u64>()? {
                    counts.push(entry);
                }
                Ok(PolicyCounts(counts))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

/// `GET /analytics/timeseries`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timeseries {
    pub interval: Interval,
    /// The IANA zone whose midnights (and Mondays) bound the buckets.
    pub tz: String,
    pub points: Vec<TimeseriesPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeseriesPoint {
    /// The bucket's start, in the requested zone.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(deserialize_with = "crate::ingest::instant_with_offset")]
    pub start: DateTime<FixedOffset>,
    pub offered: u64,
    pub accepted: u64,
    pub edited: u64,
    pub rejected: u64,
    /// Events of types beyond the four known ones.
    pub other: u64,
    /// Percent, like the summary's; null when nothing was offered.
    pub accept_rate: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
}

impl TimeseriesPoint {
    pub fn total(&self) -> u64 {
        self.offered + self.accepted + self.edited + self.rejected + self.other
    }
}

/// `GET /analytics/latency`: log-spaced histogram and percentiles of `latency_ms > 0`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LatencyDistribution {
    pub count: u64,
    pub mean_ms: Option<f64>,
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub bins: Vec<LatencyBin>,
}

/// Events with `lower_ms <= latency_ms < upper_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LatencyBin {
    pub lower_ms: f64,
    pub upper_ms: f64,
    pub count: u64,
}

/// `GET /analytics/experiment`: the A/B comparison of accept rates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Experiment {
    pub buckets: Vec<BucketStats>,
    /// The second bucket against the first (B − A); absent with fewer than two buckets.
    pub comparison: Option<Comparison>,
    /// Sample-ratio-mismatch check of offered counts against an even split.
    pub sample_ratio: Option<SampleRatioCheck>,
    /// True when a bucket has too few offers (or accepts, or rejects) for the normal
    /// approximation behind the interval and the test.
    pub sample_too_small: bool,
    /// The always-valid (sequential) comparison: the one the verdict uses, so a team may
    /// look every day without fooling itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential: Option<SequentialComparison>,
    /// Sessions seen in more than one bucket: their events compare nothing cleanly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_exposure: Option<MultipleExposure>,
    /// Metrics the treatment must not make worse, per bucket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<Guardrail>,
}

/// B − A as an always-valid 95% confidence sequence (Waudby-Smith et al. 2023, as in
/// GrowthBook), in percentage points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SequentialComparison {
    pub ci_low_pt: f64,
    pub ci_high_pt: f64,
    /// Always-valid p-value.
    pub p_value: f64,
    /// The interval excludes zero.
    pub significant: bool,
    /// The total sample size the interval is tuned to be tightest at.
    pub tuning_n: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MultipleExposure {
    /// Sessions offered a suggestion with a bucket.
    pub sessions: u64,
    /// Of those, sessions offered suggestions in two buckets or more.
    pub in_several_buckets: u64,
}

/// A guardrail metric of the control and the treatment, each with its 95% interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Guardrail {
    /// `latency_p95_ms`, `decision_p95_ms` or `policy_reference_rate` (percent of offers
    /// that reference a policy); higher is worse for each.
    pub metric: String,
    pub control: GuardrailValue,
    pub treatment: GuardrailValue,
    /// The treatment's interval lies wholly above the control's.
    pub treatment_worse: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GuardrailValue {
    pub value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BucketStats {
    pub bucket: String,
    pub events: u64,
    pub offered: u64,
    pub accepted: u64,
    /// Percent; null when nothing was offered.
    pub accept_rate: Option<f64>,
    /// 95% Wilson score interval of the accept rate, in percent.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub avg_latency_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    pub control: String,
    pub treatment: String,
    /// Treatment minus control accept rate, in percentage points.
    pub difference_pt: f64,
    /// 95% interval of the difference (unpooled normal approximation), in points.
    pub ci_low_pt: f64,
    pub ci_high_pt: f64,
    /// Two-proportion z statistic (pooled) and its two-sided p-value.
    pub z: f64,
    pub p_value: f64,
    pub significant: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleRatioCheck {
    pub chi_square: f64,
    pub p_value: f64,
    /// True when p < 0.001: the split is very unlikely to be the intended even one.
    pub mismatch: bool,
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_events: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `GET /analytics/stream` message: the data changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataChanged {
    /// Increases with every committed write.
    pub version: u64,
    /// Events in the database; left out for a sliced read token (it is everyone's count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_events: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_counts_keep_their_order() {
        let counts = PolicyCounts(vec![("TONE-02".into(), 9), ("PII-01".into(), 3)]);
        let text = serde_json::to_string(&counts).unwrap();
        assert_eq!(text, r#"{"TONE-02":9,"PII-01":3}"#);
        assert_eq!(serde_json::from_str::<PolicyCounts>(&text).unwrap(), counts);
    }

    #[test]
    fn summary_reads_the_notes_shape() {
        let note = r#"{"total_events":3,"suggestions_offered":2,"suggestions_accepted":1,"accept_rate":50.0,"avg_latency_ms":400}"#;
        let summary: Summary = serde_json::from_str(note).unwrap();
        assert_eq!(summary.figures.suggestions_offered, 2);
        assert!(summary.database.is_none());
        let zero_rate = note.replace("50.0", "0");
        assert_eq!(
            serde_json::from_str::<Summary>(&zero_rate)
                .unwrap()
                .figures
                .accept_rate,
            0.0
        );
    }
}

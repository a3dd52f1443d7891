//! The page state and its query string: range, filters, page, sort, search and refresh live
//! in the URL, so a copied link opens the same view (pure, unit-tested natively).

use crate::comparison::Comparison;
use chrono::{DateTime, Duration, DurationRound, Utc};
use coachboard_contract::{
    EventKind, Filter, Interval, SortKey, SortOrder, format_instant, parse_instant,
};

/// The time ranges of the header; `All` is the default, as the note's reports are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RangePreset {
    #[default]
    All,
    Day,
    Week,
    Month,
    Quarter,
    Custom,
}

impl RangePreset {
    pub const ALL: [RangePreset; 6] = [
        Self::All,
        Self::Day,
        Self::Week,
        Self::Month,
        Self::Quarter,
        Self::Custom,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Quarter => "90d",
            Self::Custom => "custom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All time",
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Quarter => "90d",
            Self::Custom => "Custom",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|preset| preset.key() == key)
    }

    /// How long a rolling range is (`None` for all time and custom ranges).
    pub fn length(self) -> Option<Duration> {
        match self {
            Self::Day => Some(Duration::hours(24)),
            Self::Week => Some(Duration::days(7)),
            Self::Month => Some(Duration::days(30)),
            Self::Quarter => Some(Duration::days(90)),
            Self::All | Self::Custom => None,
        }
    }
}

/// How the page refreshes itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Refresh {
    #[default]
    Off,
    Every10s,
    Every30s,
    Every60s,
    /// Server-Sent Events: refetch when the API says new events were committed.
    Live,
}

impl Refresh {
    pub const ALL: [Refresh; 5] = [
        Self::Off,
        Self::Every10s,
        Self::Every30s,
        Self::Every60s,
        Self::Live,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Every10s => "10s",
            Self::Every30s => "30s",
            Self::Every60s => "60s",
            Self::Live => "live",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Off => "Off",
            Self::Every10s => "10 s",
            Self::Every30s => "30 s",
            Self::Every60s => "60 s",
            Self::Live => "Live",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|refresh| refresh.key() == key)
    }

    pub fn period_ms(self) -> Option<u64> {
        match self {
            Self::Every10s => Some(10_000),
            Self::Every30s => Some(30_000),
            Self::Every60s => Some(60_000),
            Self::Off | Self::Live => None,
        }
    }
}

/// What the view falls back to when the URL says nothing (from `config.json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Defaults {
    pub range: RangePreset,
    pub refresh: Refresh,
}

/// Everything the URL says about the view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageState {
    pub range: RangePreset,
    /// Bounds of a custom range.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub bucket: Option<String>,
    pub event: Option<EventKind>,
    pub policy: Option<String>,
    pub session: Option<String>,
    pub search: String,
    /// Table page, 0-based (1-based in the URL).
    pub page: u32,
    pub sort: SortKey,
    pub order: SortOrder,
    pub refresh: Refresh,
    /// The earlier period drawn behind the charts.
    pub compare: Comparison,
}

/// Query keys this state owns; others (api, embed, theme …) are left as they are.
const KEYS: [&str; 13] = [
    "range", "from", "to", "bucket", "event", "policy", "session", "q", "page", "sort", "order",
    "refresh", "compare",
];

impl PageState {
    /// Reads the state from query pairs; values that make no sense are ignored.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        defaults: Defaults,
    ) -> Self {
        let mut state = Self {
            range: defaults.range,
            refresh: defaults.refresh,
            ..Self::default()
        };
        let text = |value: &str| Some(value.trim().to_owned()).filter(|value| !value.is_empty());
        for (key, value) in pairs {
            match key {
                "range" => state.range = RangePreset::from_key(value).unwrap_or(defaults.range),
                "from" => state.from = parse_instant(value).ok(),
                "to" => state.to = parse_instant(value).ok(),
                "bucket" => state.bucket = text(value),
                "event" => state.event = value.parse().ok(),
                "policy" => state.policy = text(value),
                "session" => state.session = text(value),
                "q" => state.search = value.to_owned(),
                "page" => state.page = value.parse::<u32>().unwrap_or(1).max(1) - 1,
                "sort" => state.sort = value.parse().unwrap_or_default(),
                "order" => state.order = value.parse().unwrap_or_default(),
                "refresh" => state.refresh = Refresh::from_key(value).unwrap_or(defaults.refresh),
                "compare" => state.compare = Comparison::from_key(value).unwrap_or_default(),
                _ => {}
            }
        }
        if state.range == RangePreset::Custom && state.from.is_none() && state.to.is_none() {
            state.range = RangePreset::All;
        }
        state
    }

    /// The query pairs of this state, defaults left out, after the `others` kept as they are.
    pub fn to_pairs(
        &self,
        others: &[(String, String)],
        defaults: Defaults,
    ) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = others
            .iter()
            .filter(|(key, _)| !KEYS.contains(&key.as_str()))
            .cloned()
            .collect();
        let mut put = |key: &str, value: String| pairs.push((key.to_owned(), value));
        if self.range != defaults.range {
            put("range", self.range.key().to_owned());
        }
        if self.range == RangePreset::Custom {
            if let Some(from) = self.from {
                put("from", format_instant(from));
            }
            if let Some(to) = self.to {
                put("to", format_instant(to));
            }
        }
        if let Some(bucket) = &self.bucket {
            put("bucket", bucket.clone());
        }
        if let Some(event) = self.event {
            put("event", event.as_str().to_owned());
        }
        if let Some(policy) = &self.policy {
            put("policy", policy.clone());
        }
        if let Some(session) = &self.session {
            put("session", session.clone());
        }
        if !self.search.is_empty() {
            put("q", self.search.clone());
        }
        if self.page > 0 {
            put("page", (self.page + 1).to_string());
        }
        if self.sort != SortKey::Ts {
            put("sort", self.sort.as_str().to_owned());
        }
        if self.order != SortOrder::Desc {
            put("order", self.order.as_str().to_owned());
        }
        if self.refresh != defaults.refresh {
            put("refresh", self.refresh.key().to_owned());
        }
        if self.compare != Comparison::Off {
            put("compare", self.compare.key().to_owned());
        }
        pairs
    }

    /// The same view on its first table page (after a filter changed).
    pub fn first_page(mut self) -> Self {
        self.page = 0;
        self
    }

    /// True when the range has a start, so a previous period exists to compare with.
    pub fn is_bounded(&self) -> bool {
        self.range != RangePreset::All && (self.range != RangePreset::Custom || self.from.is_some())
    }

    /// The API filter of this view at `now`. Rolling ranges end at the next whole minute, so
    /// that requests within a minute are identical and the API can answer from its cache.
    pub fn filter(&self, now: DateTime<Utc>, tz: Option<String>) -> Filter {
        let (from, to) = match (self.range, self.range.length()) {
            (_, Some(length)) => {
                let end = ceil_minute(now);
                (Some(end - length), Some(end))
            }
            (RangePreset::Custom, None) => (self.from, self.to),
            _ => (None, None),
        };
        Filter {
            from,
            to,
            bucket: self.bucket.clone(),
            event: self.event,
            policy: self.policy.clone(),
            session_id: self.session.clone(),
            tz,
        }
    }

    /// Time-series buckets that give a readable number of points for the range.
    pub fn interval(&self, now: DateTime<Utc>) -> Interval {
        let filter = self.filter(now, None);
        let span = match (filter.from, filter.to) {
            (Some(from), Some(to)) => to - from,
            (Some(from), None) => now - from,
            _ => return Interval::Day,
        };
        // Hours up to three days (at most 72 bars), then days: a week is seven bars.
        if span <= Duration::days(3) {
            Interval::Hour
        } else if span <= Duration::days(400) {
            Interval::Day
        } else {
            Interval::Week
        }
    }

    /// Active filter chips: (query key, label).
    pub fn chips(&self) -> Vec<(&'static str, String)> {
        let mut chips = Vec::new();
        if let Some(event) = self.event {
            chips.push(("event", event.as_str().to_owned()));
        }
        if let Some(bucket) = &self.bucket {
            chips.push(("bucket", format!("bucket {bucket}")));
        }
        if let Some(policy) = &self.policy {
            chips.push(("policy", policy.clone()));
        }
        if let Some(session) = &self.session {
            chips.push(("session", format!("session {session}")));
        }
        chips
    }

    /// The state without the chip of that key.
    pub fn without(&self, key: &str) -> Self {
        let mut next = self.clone();
        match key {
            "event" => next.event = None,
            "bucket" => next.bucket = None,
            "policy" => next.policy = None,
            "session" => next.session = None,
            _ => {}
        }
        next.first_page()
    }
}

/// What a sliced token is limited to, from the API's `X-Coachboard-Slice` header
/// (`bucket=A&policy=PII-01`), in words: "bucket A, policy PII-01".
pub fn slice_label(header: &str) -> Option<String> {
    let parts: Vec<String> = form_urlencoded::parse(header.as_bytes())
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name} {value}"))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The bucket a sliced token is limited to, if any.
pub fn slice_bucket(header: &str) -> Option<String> {
    form_urlencoded::parse(header.as_bytes())
        .find(|(name, _)| name == "bucket")
        .map(|(_, value)| value.into_owned())
}

fn ceil_minute(now: DateTime<Utc>) -> DateTime<Utc> {
    let floor = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    if floor == now {
        now
    } else {
        floor + Duration::minutes(1)
    }
}

/// Renders pairs as a query string (with `?`, or empty).
pub fn query_string(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect();
    format!("?{}", encoded.join("&"))
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn round_trips_through_the_url() {
        let state = PageState {
            range: RangePreset::Week,
            bucket: Some("B".into()),
            event: Some(EventKind::Edited),
            policy: Some("PII-01".into()),
            search: "refund order".into(),
            page: 2,
            sort: SortKey::LatencyMs,
            order: SortOrder::Asc,
            refresh: Refresh::Live,
            compare: Comparison::WeekBefore,
            ..PageState::default()
        };
        let defaults = Defaults::default();
        let url = state.to_pairs(&pairs(&[("api", "http://x"), ("page", "9")]), defaults);
        assert_eq!(
            url[0],
            ("api".to_owned(), "http://x".to_owned()),
            "other keys are kept first"
        );
        let back =
            PageState::from_pairs(url.iter().map(|(k, v)| (k.as_str(), v.as_str())), defaults);
        assert_eq!(back, state);
        assert!(
            PageState::default().to_pairs(&[], defaults).is_empty(),
            "defaults stay out of the URL"
        );
    }

    #[test]
    fn configured_defaults_apply_when_the_url_is_silent() {
        let defaults = Defaults {
            range: RangePreset::Week,
            refresh: Refresh::Every30s,
        };
        let state = PageState::from_pairs([], defaults);
        assert_eq!(
            (state.range, state.refresh),
            (RangePreset::Week, Refresh::Every30s)
        );
        let all = PageState {
            range: RangePreset::All,
            ..state.clone()
        };
        assert_eq!(
            all.to_pairs(&[], defaults),
            vec![("range".to_owned(), "all".to_owned())]
        );
        let back = PageState::from_pairs([("range", "all")], defaults);
        assert_eq!(back.range, RangePreset::All);
    }

    #[test]
    fn ignores_nonsense() {
        let defaults = Defaults::default();
        let state = PageState::from_pairs(
            [
                ("range", "1y"),
                ("event", "clicked"),
                ("page", "-3"),
                ("sort", "x"),
            ],
            defaults,
        );
        assert_eq!(state, PageState::default());
        let custom_without_bounds = PageState::from_pairs([("range", "custom")], defaults);
        assert_eq!(custom_without_bounds.range, RangePreset::All);
    }

    #[test]
    fn rolling_ranges_end_on_the_next_minute() {
        let now = Utc.with_ymd_and_hms(2025, 10, 23, 12, 0, 30).unwrap();
        let state = PageState {
            range: RangePreset::Day,
            ..PageState::default()
        };
        let filter = state.filter(now, Some("Europe/Berlin".into()));
        assert_eq!(
            filter.to,
            Some(Utc.with_ymd_and_hms(2025, 10, 23, 12, 1, 0).unwrap())
        );
        assert_eq!(
            filter.from,
            Some(Utc.with_ymd_and_hms(2025, 10, 22, 12, 1, 0).unwrap())
        );
        assert_eq!(state.interval(now), Interval::Hour);
        assert!(state.is_bounded());
        let week = PageState {
            range: RangePreset::Week,
            ..PageState::default()
        };
        assert_eq!(week.interval(now), Interval::Day);
        let all = PageState::default();
        assert_eq!(all.filter(now, None).from, None);
        assert_eq!(all.interval(now), Interval::Day);
        assert!(!all.is_bounded());
    }

    #[test]
    fn says_what_a_slice_is_limited_to() {
        assert_eq!(
            slice_label("bucket=A&policy=PII+01").as_deref(),
            Some("bucket A, policy PII 01")
        );
        assert_eq!(
            slice_bucket("policy=X&bucket=tr%C3%A9s").as_deref(),
            Some("trés")
        );
        assert_eq!(slice_label(""), None);
        assert_eq!(slice_bucket("policy=X"), None);
    }

    #[test]
    fn encodes_queries() {
        assert_eq!(
            query_string(&pairs(&[("q", "a b&c"), ("x", "é")])),
            "?q=a%20b%26c&x=%C3%A9"
        );
        assert_eq!(query_string(&[]), "");
    }

    #[test]
    fn chips_remove_their_filter() {
        let state = PageState {
            policy: Some("PII-01".into()),
            page: 3,
            ..PageState::default()
        };
        assert_eq!(state.chips(), vec![("policy", "PII-01".to_owned())]);
        let cleared = state.without("policy");
        assert_eq!(cleared.policy, None);
        assert_eq!(cleared.page, 0);
    }
}

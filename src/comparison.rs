//! Which earlier period the charts draw faintly behind the current one, and its range
//! (pure, unit-tested natively). Only a bounded range has an earlier period.

use chrono::{DateTime, Duration, Utc};
use coachboard_contract::Filter;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Comparison {
    #[default]
    Off,
    /// The period of the same length just before.
    Previous,
    /// The same period a week earlier (weekly patterns compared day by day).
    WeekBefore,
}

impl Comparison {
    pub const ALL: [Comparison; 3] = [Self::Off, Self::Previous, Self::WeekBefore];

    pub fn key(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Previous => "previous",
            Self::WeekBefore => "week",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|choice| choice.key() == key)
    }

    /// The option's text in the control.
    pub fn label(self) -> &'static str {
        match self {
            Self::Off => "No comparison",
            Self::Previous => "vs previous period",
            Self::WeekBefore => "vs a week before",
        }
    }

    /// How the faint series is named in legends and tables.
    pub fn series_name(self) -> &'static str {
        match self {
            Self::Off => "",
            Self::Previous => "Previous period",
            Self::WeekBefore => "A week before",
        }
    }

    /// The filter of the earlier period: the same filters over the shifted range. `None`
    /// when off or when the range has no start; an open end is `now`.
    pub fn baseline(self, filter: &Filter, now: DateTime<Utc>) -> Option<Filter> {
        let from = filter.from?;
        let to = filter.to.unwrap_or(now);
        let shift = match self {
            Self::Off => return None,
            Self::Previous => to - from,
            Self::WeekBefore => Duration::days(7),
        };
        (shift > Duration::zero()).then(|| Filter {
            from: Some(from - shift),
            to: Some(to - shift),
            ..filter.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    fn range(from: Option<&str>, to: Option<&str>) -> Filter {
        Filter {
            from: from.map(at),
            to: to.map(at),
            bucket: Some("A".into()),
            ..Filter::default()
        }
    }

    #[test]
    fn keys_round_trip() {
        for choice in Comparison::ALL {
            assert_eq!(Comparison::from_key(choice.key()), Some(choice));
        }
        assert_eq!(Comparison::from_key("yesterday"), None);
    }

    #[test]
    fn the_previous_period_ends_where_this_one_starts() {
        let filter = range(Some("2025-10-08T00:00:00Z"), Some("2025-10-15T00:00:00Z"));
        let baseline = Comparison::Previous
            .baseline(&filter, at("2025-11-01T00:00:00Z"))
            .expect("bounded");
        assert_eq!(baseline.from, Some(at("2025-10-01T00:00:00Z")));
        assert_eq!(baseline.to, filter.from);
        assert_eq!(baseline.bucket.as_deref(), Some("A"), "filters kept");
    }

    #[test]
    fn a_week_before_shifts_by_seven_days_whatever_the_length() {
        let filter = range(Some("2025-10-08T06:00:00Z"), Some("2025-10-09T06:00:00Z"));
        let baseline = Comparison::WeekBefore
            .baseline(&filter, at("2025-11-01T00:00:00Z"))
            .expect("bounded");
        assert_eq!(baseline.from, Some(at("2025-10-01T06:00:00Z")));
        assert_eq!(baseline.to, Some(at("2025-10-02T06:00:00Z")));
    }

    #[test]
    fn an_open_end_is_now_and_no_start_has_no_baseline() {
        let now = at("2025-10-10T00:00:00Z");
        let open_end = range(Some("2025-10-09T00:00:00Z"), None);
        assert_eq!(
            Comparison::Previous
                .baseline(&open_end, now)
                .and_then(|filter| filter.from),
            Some(at("2025-10-08T00:00:00Z"))
        );
        assert_eq!(
            Comparison::Previous.baseline(&range(None, Some("2025-10-09T00:00:00Z")), now),
            None
        );
        assert_eq!(Comparison::Off.baseline(&open_end, now), None);
    }
}

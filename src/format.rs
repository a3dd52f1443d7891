//! Numbers, percents, durations and times as the dashboard shows them (pure functions).

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};

/// 1234567 → "1,234,567".
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// 1234567 → "1.2M", for axis labels.
pub fn compact(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e9 {
        format!("{}B", trim(value / 1e9))
    } else if magnitude >= 1e6 {
        format!("{}M", trim(value / 1e6))
    } else if magnitude >= 1e4 {
        format!("{}k", trim(value / 1e3))
    } else {
        trim(value)
    }
}

fn trim(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

/// 55.03 → "55.0%".
pub fn percent(value: f64) -> String {
    format!("{value:.1}%")
}

/// Milliseconds as a person reads them: "441 ms", "1.24 s", "2.5 min".
pub fn duration_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "–".to_owned();
    }
    if ms < 1000.0 {
        format!("{} ms", ms.round() as i64)
    } else if ms < 60_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{:.1} min", ms / 60_000.0)
    }
}

/// Which way a figure moved, and whether that is good news.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub text: String,
    pub direction: Direction,
    /// True when the move is an improvement (false when worse or flat).
    pub good: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Flat,
}

impl Direction {
    fn of(delta: f64, flat_below: f64) -> Self {
        if delta.abs() < flat_below {
            Self::Flat
        } else if delta > 0.0 {
            Self::Up
        } else {
            Self::Down
        }
    }

    pub fn arrow(self) -> &'static str {
        match self {
            Self::Up => "▲",
            Self::Down => "▼",
            Self::Flat => "■",
        }
    }

    pub fn css_class(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Flat => "flat",
        }
    }
}

/// Relative change of a count or duration: "▲2.1%". `None` when there is no base.
pub fn relative_change(current: f64, previous: f64, lower_is_better: bool) -> Option<Change> {
    if previous <= 0.0 || !current.is_finite() {
        return None;
    }
    let delta = (current - previous) / previous * 100.0;
    let direction = Direction::of(delta, 0.05);
    Some(Change {
        text: format!("{}{:.1}%", direction.arrow(), delta.abs()),
        direction,
        good: match direction {
            Direction::Flat => false,
            Direction::Up => !lower_is_better,
            Direction::Down => lower_is_better,
        },
    })
}

/// Change of a rate in percentage points: "▲0.8 pt".
pub fn points_change(current: f64, previous: f64) -> Change {
    let delta = current - previous;
    let direction = Direction::of(delta, 0.05);
    Change {
        text: format!("{}{:.1} pt", direction.arrow(), delta.abs()),
        direction,
        good: direction == Direction::Up,
    }
}

/// "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago".
pub fn relative_time(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds();
    if seconds < 0 {
        return "in the future".to_owned();
    }
    match seconds {
        0..5 => "just now".to_owned(),
        5..60 => format!("{seconds} s ago"),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86_400 => format!("{} h ago", seconds / 3600),
        _ => {
            let days = seconds / 86_400;
            if days == 1 {
                "1 day ago".to_owned()
            } else {
                format!("{days} days ago")
            }
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A timestamp in the viewer's offset: "2025-10-23 14:05:12". (Formatted by hand: chrono's
/// format strings would add their interpreter to the bundle.)
pub fn timestamp(ts: DateTime<Utc>, offset: FixedOffset) -> String {
    let local = ts.with_timezone(&offset);
    format!("{} {}", date(&local), clock(&local, true))
}

/// "2025-10-23".
pub fn date(at: &impl Datelike) -> String {
    format!("{:04}-{:02}-{:02}", at.year(), at.month(), at.day())
}

/// "14:05" or "14:05:12".
pub fn clock(at: &impl Timelike, seconds: bool) -> String {
    if seconds {
        format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())
    } else {
        format!("{:02}:{:02}", at.hour(), at.minute())
    }
}

/// "Oct 23".
pub fn short_date(at: &impl Datelike) -> String {
    format!("{} {}", MONTHS[at.month0() as usize % 12], at.day())
}

/// "B accepts 5.8 points more; significant, p = 0.003".
pub fn lift_sentence(
    treatment: &str,
    difference_pt: f64,
    p_value: f64,
    significant: bool,
) -> String {
    let direction = if difference_pt >= 0.0 { "more" } else { "less" };
    let verdict = if significant {
        "significant"
    } else {
        "not significant"
    };
    format!(
        "{treatment} accepts {:.1} points {direction}; {verdict}, {}",
        difference_pt.abs(),
        p_value_text(p_value)
    )
}

/// "p = 0.003", "p < 0.001".
pub fn p_value_text(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_owned()
    } else if p < 0.01 {
        format!("p = {p:.3}")
    } else {
        format!("p = {p:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(compact(1_234_567.0), "1.2M");
        assert_eq!(compact(15_000.0), "15k");
        assert_eq!(compact(250.0), "250");
        assert_eq!(percent(55.03), "55.0%");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms(441.4), "441 ms");
        assert_eq!(duration_ms(1240.0), "1.24 s");
        assert_eq!(duration_ms(150_000.0), "2.5 min");
    }

    #[test]
    fn changes() {
        let up = relative_change(102.1, 100.0, false).unwrap();
        assert_eq!(
            (up.text.as_str(), up.direction, up.good),
            ("▲2.1%", Direction::Up, true)
        );
        let slower = relative_change(103.0, 100.0, true).unwrap();
        assert!(!slower.good, "higher latency is worse");
        let faster = relative_change(97.0, 100.0, true).unwrap();
        assert_eq!(faster.text, "▼3.0%");
        assert!(faster.good);
        assert_eq!(relative_change(5.0, 0.0, false), None);
        assert_eq!(points_change(55.8, 55.0).text, "▲0.8 pt");
    }

    #[test]
    fn times() {
        let now = Utc.with_ymd_and_hms(2025, 10, 23, 12, 0, 0).unwrap();
        assert_eq!(relative_time(now, now), "just now");
        assert_eq!(
            relative_time(now - chrono::Duration::seconds(42), now),
            "42 s ago"
        );
        assert_eq!(
            relative_time(now - chrono::Duration::minutes(5), now),
            "5 min ago"
        );
        assert_eq!(
            relative_time(now - chrono::Duration::days(2), now),
            "2 days ago"
        );
        let berlin = FixedOffset::east_opt(2 * 3600).unwrap();
        assert_eq!(timestamp(now, berlin), "2025-10-23 14:00:00");
        assert_eq!(short_date(&now), "Oct 23");
        assert_eq!(clock(&now, false), "12:00");
    }

    #[test]
    fn experiment_in_words() {
        assert_eq!(
            lift_sentence("B", 5.83, 0.003, true),
            "B accepts 5.8 points more; significant, p = 0.003"
        );
        assert_eq!(
            lift_sentence("B", -1.2, 0.41, false),
            "B accepts 1.2 points less; not significant, p = 0.41"
        );
        assert_eq!(p_value_text(0.0000001), "p < 0.001");
    }
}

//! Keyboard shortcuts as Plausible users know them: a letter picks the range, arrows step
//! the period, `/` searches, Esc clears the filters, `?` lists them (pure, unit-tested).

use chrono::{DateTime, Utc};

use crate::query::{PageState, RangePreset};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    Range(RangePreset),
    /// Step the period back (-1) or forward (+1).
    Step(i32),
    Search,
    ClearFilters,
    Help,
}

/// Every shortcut with its keys, as the help lists them.
pub const LIST: [(&str, &str); 10] = [
    ("D", "Last 24 hours"),
    ("W", "Last 7 days"),
    ("M", "Last 30 days"),
    ("Q", "Last 90 days"),
    ("A", "All time"),
    ("←", "Previous period"),
    ("→", "Next period (not past now)"),
    ("/", "Search drafts and suggestions"),
    ("Esc", "Clear every filter"),
    ("?", "Show or hide this list"),
];

/// What a key press means. Modified keys belong to the browser; in a text field only Esc
/// is ours (the letters are typing).
pub fn shortcut_for(key: &str, modified: bool, typing: bool) -> Option<Shortcut> {
    if modified {
        return None;
    }
    if typing {
        return (key == "Escape").then_some(Shortcut::ClearFilters);
    }
    Some(match key {
        "d" | "D" => Shortcut::Range(RangePreset::Day),
        "w" | "W" => Shortcut::Range(RangePreset::Week),
        "m" | "M" => Shortcut::Range(RangePreset::Month),
        "q" | "Q" => Shortcut::Range(RangePreset::Quarter),
        "a" | "A" => Shortcut::Range(RangePreset::All),
        "ArrowLeft" => Shortcut::Step(-1),
        "ArrowRight" => Shortcut::Step(1),
        "/" => Shortcut::Search,
        "Escape" => Shortcut::ClearFilters,
        "?" => Shortcut::Help,
        _ => return None,
    })
}

/// The same length of time one period earlier or later, as a custom range. A period is
/// never moved past `now`; moving forward onto `now` gives the rolling preset back when
/// the length is one. `None` when the view has no period (all time, open ranges).
pub fn stepped(state: &PageState, now: DateTime<Utc>, direction: i32) -> Option<PageState> {
    let filter = state.filter(now, None);
    let (from, to) = (filter.from?, filter.to?);
    let length = to - from;
    let (next_from, next_to) = if direction < 0 {
        (from - length, from)
    } else {
        (to, to + length)
    };
    if next_from >= now {
        return None;
    }
    let mut next = state.clone().first_page();
    let preset = RangePreset::ALL
        .into_iter()
        .find(|preset| preset.length() == Some(length));
    match preset {
        // Forward onto the present: the rolling range again, so it keeps following now.
        // Rolling ranges end at the next whole minute, so a period ending less than a
        // minute ago is the present too (the clock may pass a minute between two steps).
        Some(preset) if next_to > now - chrono::Duration::minutes(1) => {
            next.range = preset;
            next.from = None;
            next.to = None;
        }
        _ => {
            next.range = RangePreset::Custom;
            next.from = Some(next_from);
            next.to = Some(next_to);
        }
    }
    Some(next)
}

/// The view without any filter (range and sort are kept: they are not filters).
pub fn cleared(state: &PageState) -> PageState {
    PageState {
        bucket: None,
        event: None,
        policy: None,
        session: None,
        search: String::new(),
        ..state.clone()
    }
    .first_page()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ranged(range: RangePreset) -> PageState {
        PageState {
            range,
            ..PageState::default()
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
            .single()
            .expect("a date")
    }

    #[test]
    fn letters_pick_ranges_only_outside_text_fields_and_without_modifiers() {
        assert_eq!(
            shortcut_for("w", false, false),
            Some(Shortcut::Range(RangePreset::Week))
        );
        assert_eq!(shortcut_for("w", false, true), None);
        assert_eq!(shortcut_for("w", true, false), None);
        assert_eq!(
            shortcut_for("Escape", false, true),
            Some(Shortcut::ClearFilters)
        );
        assert_eq!(shortcut_for("?", false, false), Some(Shortcut::Help));
        assert_eq!(shortcut_for("x", false, false), None);
    }

    #[test]
    fn arrows_step_a_rolling_week_back_and_forward_to_the_present() {
        let week = ranged(RangePreset::Week);
        let back = stepped(&week, now(), -1).expect("a previous week");
        assert_eq!(back.range, RangePreset::Custom);
        let span = back.to.zip(back.from).map(|(to, from)| to - from);
        assert_eq!(span, Some(chrono::Duration::days(7)));
        let week_filter = week.filter(now(), None);
        assert_eq!(back.to, week_filter.from);
        let forward = stepped(&back, now(), 1).expect("the next week");
        assert_eq!(forward.range, RangePreset::Week, "back to the rolling week");
        assert_eq!(stepped(&week, now(), 1), None, "nothing after now");
    }

    #[test]
    fn stepping_back_to_the_present_survives_a_minute_passing_between_the_steps() {
        let week = ranged(RangePreset::Week);
        let back = stepped(&week, now(), -1).expect("a previous week");
        let later = now() + chrono::Duration::seconds(30);
        let forward = stepped(&back, later, 1).expect("the next week");
        assert_eq!(forward.range, RangePreset::Week);
    }

    #[test]
    fn all_time_has_no_period_to_step() {
        assert_eq!(stepped(&PageState::default(), now(), -1), None);
    }

    #[test]
    fn escape_clears_filters_but_keeps_range_and_sort() {
        let mut state = ranged(RangePreset::Month);
        state.policy = Some("PII-01".into());
        state.search = "refund".into();
        state.bucket = Some("A".into());
        state.page = 3;
        let clear = cleared(&state);
        assert_eq!(clear.policy, None);
        assert_eq!(clear.search, "");
        assert_eq!(clear.bucket, None);
        assert_eq!(clear.range, RangePreset::Month);
        assert_eq!(clear.page, 0);
    }
}

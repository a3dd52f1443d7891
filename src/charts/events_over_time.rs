//! Events over time: bars stacked by event type, with the accept rate as a line on a second
//! axis (0–100%); an earlier period as faint bars behind them, and annotations as dashed
//! lines at their moments.

use chrono::{DateTime, Datelike, Duration, FixedOffset, Timelike};
use coachboard_contract::{Annotation, Interval, Timeseries, TimeseriesPoint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::patterns::{Hatch, stripes};
use super::scale::{Linear, nice_ticks};
use super::{DrawResult, Frame, count_axis, empty_message, label, px, text_style};
use crate::format::{clock, date, short_date};
use crate::theme::ChartTheme;

/// Margins: top, right (rate axis), bottom (dates), left (counts).
const MARGINS: (f64, f64, f64, f64) = (12.0, 44.0, 24.0, 48.0);
/// The plot's left and right margins in CSS pixels, for markers laid over the canvas.
pub const PLOT_LEFT: f64 = MARGINS.3;
pub const PLOT_RIGHT: f64 = MARGINS.1;

/// What the timeline draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub series: Timeseries,
    /// The earlier period, bucket by bucket, with its name ("Previous period").
    pub baseline: Option<(&'static str, Timeseries)>,
    pub notes: Vec<PlacedNote>,
}

/// An annotation and where it sits: a fraction (0–1) of the plot's width.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedNote {
    pub at: f64,
    pub note: Annotation,
}

/// How long a bucket is when no next bucket says (the last one).
fn nominal_length(interval: Interval) -> Duration {
    match interval {
        Interval::Hour => Duration::hours(1),
        Interval::Day => Duration::days(1),
        Interval::Week => Duration::days(7),
    }
}

/// Places each note inside the bucket that holds its moment, in proportion within it;
/// notes outside the series' buckets are left out.
pub fn place_notes(series: &Timeseries, notes: &[Annotation]) -> Vec<PlacedNote> {
    let points = &series.points;
    let count = points.len() as f64;
    notes
        .iter()
        .filter_map(|note| {
            let index = points.iter().rposition(|point| point.start <= note.ts)?;
            let start = points[index].start;
            let end = points
                .get(index + 1)
                .map_or(start + nominal_length(series.interval), |next| next.start);
            let length = (end - start).num_milliseconds() as f64;
            let into = (note.ts.fixed_offset() - start).num_milliseconds() as f64;
            (into < length).then(|| PlacedNote {
                at: (index as f64 + into / length.max(1.0)) / count,
                note: note.clone(),
            })
        })
        .collect()
}

/// The stacked segments of a point, bottom first, with their colours and hatching (so the
/// types differ by more than colour; the legend shows the same).
pub fn segments(point: &TimeseriesPoint, theme: &ChartTheme) -> [(u64, RGBColor, Hatch); 5] {
    [
        (point.offered, theme.offered, Hatch::Solid),
        (point.accepted, theme.accepted, Hatch::Rising),
        (point.edited, theme.edited, Hatch::Level),
        (point.rejected, theme.rejected, Hatch::Falling),
        (point.other, theme.other, Hatch::Solid),
    ]
}

/// How a bucket start is written on the axis: hours as clock times, but a midnight (or a
/// step of a day or more) as its date, so the reader sees where days change.
pub fn tick_label(start: DateTime<FixedOffset>, interval: Interval, step: usize) -> String {
    match interval {
        Interval::Hour if step < 24 && start.hour() != 0 => clock(&start, false),
        _ => short_date(&start),
    }
}

/// Steps a reader counts in, in buckets of each interval.
fn steps(interval: Interval) -> &'static [usize] {
    match interval {
        Interval::Hour => &[1, 2, 3, 4, 6, 12, 24, 48, 72],
        Interval::Day => &[1, 2, 3, 7, 14, 28, 56, 91, 182],
        Interval::Week => &[1, 2, 4, 8, 13, 26, 52],
    }
}

/// The smallest round step that leaves at most `fit` labels for `count` buckets.
pub fn label_step(interval: Interval, count: usize, fit: usize) -> usize {
    let fit = fit.max(1);
    steps(interval)
        .iter()
        .copied()
        .find(|step| count.div_ceil(*step) <= fit)
        .unwrap_or_else(|| count.div_ceil(fit))
}

/// True when a bucket starts on a round value of the step (6:00, 12:00; every other day):
/// labels then fall on the same times whatever the range's first bucket.
pub fn is_labelled(start: DateTime<FixedOffset>, interval: Interval, step: usize) -> bool {
    let day = start.date_naive().num_days_from_ce() as usize;
    match interval {
        Interval::Hour if step < 24 => (start.hour() as usize).is_multiple_of(step),
        Interval::Hour => start.hour() == 0 && day.is_multiple_of((step / 24).max(1)),
        Interval::Day => day.is_multiple_of(step),
        Interval::Week => (day / 7).is_multiple_of(step),
    }
}

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    timeline: &Timeline,
    theme: &ChartTheme,
) -> DrawResult<(), DB> {
    area.fill(&theme.background)?;
    let series = &timeline.series;
    let points = &series.points;
    if points.iter().all(|point| point.total() == 0) {
        return empty_message(area, theme, "No events in this range");
    }
    let (width, height) = area.dim_in_pixel();
    let frame = Frame::inside(width, height, MARGINS);
    let baseline = timeline
        .baseline
        .as_ref()
        .map(|(_, before)| before.points.as_slice())
        .unwrap_or_default();
    let max_total = points
        .iter()
        .chain(baseline)
        .map(TimeseriesPoint::total)
        .max()
        .unwrap_or(0) as f64;
    let ticks = nice_ticks(max_total, 4);
    let top = ticks.last().copied().unwrap_or(1.0);
    let y = Linear {
        domain: (0.0, top),
        range: (frame.bottom, frame.top),
    };
    let max_rate = points
        .iter()
        .filter_map(|point| point.accept_rate)
        .fold(100.0_f64, f64::max);
    let rate_y = Linear {
        domain: (0.0, max_rate),
        range: (frame.bottom, frame.top),
    };
    count_axis(area, theme, &frame, &ticks, &y)?;
    let rate_axis = text_style(theme, 11.0, &theme.muted, HPos::Left, VPos::Center);
    for rate in [0.0, 50.0, 100.0] {
        label(
            area,
            &format!("{rate:.0}%"),
            (frame.right + 6.0, rate_y.map(rate)),
            &rate_axis,
        )?;
    }
    let band = frame.width() / points.len() as f64;
    let bar = (band * 0.78).max(1.0);
    // The earlier period first, behind: a faint full-width bar per bucket, its top edged.
    for (index, before) in baseline.iter().take(points.len()).enumerate() {
        if before.total() == 0 {
            continue;
        }
        let (x0, x1) = (
            frame.left + index as f64 * band,
            frame.left + (index + 1) as f64 * band,
        );
        let top_px = px(y.map(before.total() as f64));
        area.draw(&Rectangle::new(
            [(px(x0), top_px), (px(x1), px(frame.bottom))],
            theme.muted.mix(0.16).filled(),
        ))?;
        area.draw(&PathElement::new(
            vec![(px(x0), top_px), (px(x1), top_px)],
            theme.muted.mix(0.8).stroke_width(2),
        ))?;
    }
    for (index, point) in points.iter().enumerate() {
        let x0 = frame.left + index as f64 * band + (band - bar) / 2.0;
        let mut base = 0.0;
        for (count, color, hatch) in segments(point, theme) {
            if count == 0 {
                continue;
            }
            let top_value = base + count as f64;
            let (top_px, bottom_px) = (px(y.map(top_value)), px(y.map(base)));
            area.draw(&Rectangle::new(
                [(px(x0), top_px), (px(x0 + bar), bottom_px)],
                color.filled(),
            ))?;
            let rect = (
                f64::from(px(x0)),
                f64::from(top_px),
                f64::from(px(x0 + bar)),
                f64::from(bottom_px),
            );
            for [from, to] in stripes(hatch, rect, 4.0) {
                area.draw(&PathElement::new(
                    vec![(px(from.0), px(from.1)), (px(to.0), px(to.1))],
                    theme.background.mix(0.6).stroke_width(1),
                ))?;
            }
            base = top_value;
        }
    }
    // The accept-rate line, broken where nothing was offered.
    let mut run: Vec<(i32, i32)> = Vec::new();
    for (index, point) in points.iter().enumerate() {
        let x = frame.left + (index as f64 + 0.5) * band;
        match point.accept_rate {
            Some(rate) => run.push((px(x), px(rate_y.map(rate)))),
            None => flush_line(area, &mut run, theme)?,
        }
    }
    flush_line(area, &mut run, theme)?;
    for placed in &timeline.notes {
        draw_note(area, &frame, frame.left + placed.at * frame.width(), theme)?;
    }
    let dates = text_style(theme, 11.0, &theme.muted, HPos::Center, VPos::Top);
    let step = label_step(
        series.interval,
        points.len(),
        (frame.width() / 70.0).floor() as usize,
    );
    for (index, point) in points.iter().enumerate() {
        if !is_labelled(point.start, series.interval, step) {
            continue;
        }
        let x = frame.left + (index as f64 + 0.5) * band;
        label(
            area,
            &tick_label(point.start, series.interval, step),
            (x, frame.bottom + 6.0),
            &dates,
        )?;
    }
    Ok(())
}

/// A dashed line through the plot and a small flag on top (the page lays a focusable
/// button with the note's text over the flag).
fn draw_note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: &Frame,
    x: f64,
    theme: &ChartTheme,
) -> DrawResult<(), DB> {
    let mut top = frame.top;
    while top < frame.bottom {
        let end = (top + 4.0).min(frame.bottom);
        area.draw(&PathElement::new(
            vec![(px(x), px(top)), (px(x), px(end))],
            theme.marker.stroke_width(2),
        ))?;
        top += 7.0;
    }
    area.draw(&Polygon::new(
        vec![
            (px(x - 5.0), px(frame.top - 10.0)),
            (px(x + 5.0), px(frame.top - 10.0)),
            (px(x), px(frame.top - 2.0)),
        ],
        theme.marker.filled(),
    ))?;
    Ok(())
}

fn flush_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    run: &mut Vec<(i32, i32)>,
    theme: &ChartTheme,
) -> DrawResult<(), DB> {
    match run.len() {
        0 => {}
        1 => area.draw(&Circle::new(run[0], 2, theme.rate.filled()))?,
        _ => area.draw(&PathElement::new(run.clone(), theme.rate.stroke_width(2)))?,
    }
    run.clear();
    Ok(())
}

/// A sentence for screen readers: the series, the earlier period's total, the notes.
pub fn describe_timeline(timeline: &Timeline) -> String {
    let mut text = describe(&timeline.series);
    if let Some((name, before)) = &timeline.baseline {
        let total: u64 = before.points.iter().map(TimeseriesPoint::total).sum();
        text.push_str(&format!(" {name}, drawn faintly behind: {total} events."));
    }
    match timeline.notes.len() {
        0 => {}
        1 => text.push_str(" 1 annotation."),
        count => text.push_str(&format!(" {count} annotations.")),
    }
    text
}

/// A sentence for screen readers.
pub fn describe(series: &Timeseries) -> String {
    let total: u64 = series.points.iter().map(TimeseriesPoint::total).sum();
    match series.points.iter().max_by_key(|point| point.total()) {
        Some(peak) if total > 0 => format!(
            "Events over time by {}: {} events in {} buckets, the busiest {} {} with {}.",
            series.interval,
            total,
            series.points.len(),
            date(&peak.start),
            clock(&peak.start, false),
            peak.total()
        ),
        _ => "Events over time: no events in this range.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn point(start: &str, offered: u64) -> TimeseriesPoint {
        TimeseriesPoint {
            start: DateTime::parse_from_rfc3339(start).expect("start"),
            offered,
            accepted: 0,
            edited: 0,
            rejected: 0,
            other: 0,
            accept_rate: None,
            latency_p50_ms: None,
            latency_p95_ms: None,
        }
    }

    fn series(counts: &[u64]) -> Timeseries {
        Timeseries {
            interval: Interval::Hour,
            tz: "UTC".into(),
            points: counts
                .iter()
                .enumerate()
                .map(|(hour, count)| point(&format!("2025-10-01T{hour:02}:00:00Z"), *count))
                .collect(),
        }
    }

    fn note(hour: u32, minute: u32, text: &str) -> Annotation {
        Annotation {
            id: text.to_owned(),
            ts: Utc.with_ymd_and_hms(2025, 10, 1, hour, minute, 0).unwrap(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn axis_labels_fall_on_round_times() {
        // 168 hours in about 9 labels: every day, at midnight, written as dates.
        let step = label_step(Interval::Hour, 168, 9);
        assert_eq!(step, 24);
        let midnight = DateTime::parse_from_rfc3339("2026-01-10T00:00:00Z").unwrap();
        let morning = DateTime::parse_from_rfc3339("2026-01-10T06:00:00Z").unwrap();
        assert!(is_labelled(midnight, Interval::Hour, step));
        assert!(!is_labelled(morning, Interval::Hour, step));
        assert_eq!(tick_label(midnight, Interval::Hour, step), "Jan 10");
        // A day in hours: every three hours, clock times, the midnight as its date.
        assert_eq!(label_step(Interval::Hour, 25, 9), 3);
        assert!(is_labelled(morning, Interval::Hour, 3));
        assert_eq!(tick_label(morning, Interval::Hour, 3), "06:00");
        assert_eq!(tick_label(midnight, Interval::Hour, 3), "Jan 10");
        // Few buckets: each labelled; a week on a phone (room for 3): every third day.
        assert_eq!(label_step(Interval::Day, 8, 9), 1);
        assert_eq!(label_step(Interval::Day, 7, 3), 3);
    }

    #[test]
    fn notes_sit_in_their_bucket_in_proportion() {
        let placed = place_notes(
            &series(&[1, 2, 3, 4]),
            &[
                note(0, 0, "start"),
                note(1, 30, "middle"),
                note(3, 45, "last"),
                note(4, 0, "after"),
            ],
        );
        let spots: Vec<(&str, f64)> = placed
            .iter()
            .map(|placed| (placed.note.text.as_str(), placed.at))
            .collect();
        assert_eq!(spots, [("start", 0.0), ("middle", 0.375), ("last", 0.9375)]);
    }

    #[test]
    fn the_baseline_and_notes_are_drawn() {
        let theme = ChartTheme::new(false);
        let svg = |timeline: &Timeline| {
            let mut out = String::new();
            {
                let area = SVGBackend::with_string(&mut out, (400, 200)).into_drawing_area();
                draw(&area, timeline, &theme).expect("drawn");
            }
            out
        };
        let plain = Timeline {
            series: series(&[1, 2, 3, 4]),
            baseline: None,
            notes: Vec::new(),
        };
        let before = series(&[8, 0, 2, 1]);
        let compared = Timeline {
            baseline: Some(("Previous period", before)),
            notes: place_notes(&plain.series, &[note(2, 0, "v3")]),
            ..plain.clone()
        };
        let (plain_svg, compared_svg) = (svg(&plain), svg(&compared));
        // Three faint bars (the empty bucket has none) and the note's flag.
        let polygons = |text: &str| text.matches("<polygon").count();
        let rects = |text: &str| text.matches("<rect").count();
        assert_eq!(rects(&compared_svg), rects(&plain_svg) + 3);
        assert_eq!(polygons(&compared_svg), polygons(&plain_svg) + 1);
        assert!(
            describe_timeline(&compared)
                .contains("Previous period, drawn faintly behind: 11 events. 1 annotation.")
        );
    }
}

//! Events over time: bars stacked by event type, with the accept rate as a line on a second
//! axis (0–100%).

use chrono::{DateTime, FixedOffset};
use coachboard_contract::{Interval, Timeseries, TimeseriesPoint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::patterns::{Hatch, stripes};
use super::scale::{Linear, nice_ticks};
use super::{DrawResult, Frame, count_axis, empty_message, label, px, text_style};
use crate::format::{clock, date, short_date};
use crate::theme::ChartTheme;

/// Margins: top, right (rate axis), bottom (dates), left (counts).
const MARGINS: (f64, f64, f64, f64) = (10.0, 44.0, 24.0, 48.0);

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

/// How a bucket start is written on the axis.
pub fn tick_label(start: DateTime<FixedOffset>, interval: Interval) -> String {
    match interval {
        Interval::Hour => clock(&start, false),
        Interval::Day | Interval::Week => short_date(&start),
    }
}

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &Timeseries,
    theme: &ChartTheme,
) -> DrawResult<(), DB> {
    area.fill(&theme.background)?;
    let points = &series.points;
    if points.iter().all(|point| point.total() == 0) {
        return empty_message(area, theme, "No events in this range");
    }
    let (width, height) = area.dim_in_pixel();
    let frame = Frame::inside(width, height, MARGINS);
    let max_total = points.iter().map(TimeseriesPoint::total).max().unwrap_or(0) as f64;
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
    let dates = text_style(theme, 11.0, &theme.muted, HPos::Center, VPos::Top);
    let every = (points.len() as f64 / (frame.width() / 70.0).max(1.0))
        .ceil()
        .max(1.0) as usize;
    for (index, point) in points.iter().enumerate().step_by(every) {
        let x = frame.left + (index as f64 + 0.5) * band;
        label(
            area,
            &tick_label(point.start, series.interval),
            (x, frame.bottom + 6.0),
            &dates,
        )?;
    }
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

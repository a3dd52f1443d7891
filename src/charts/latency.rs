//! Latency distribution: a histogram on a log scale with p50 and p95 marked.

use coachboard_contract::LatencyDistribution;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::scale::{Linear, Log, nice_ticks};
use super::{DrawResult, Frame, count_axis, empty_message, label, px, text_style};
use crate::format::duration_ms;
use crate::theme::ChartTheme;

const MARGINS: (f64, f64, f64, f64) = (22.0, 14.0, 24.0, 48.0);

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    latency: &LatencyDistribution,
    theme: &ChartTheme,
) -> DrawResult<(), DB> {
    area.fill(&theme.background)?;
    let (Some(first), Some(last)) = (latency.bins.first(), latency.bins.last()) else {
        return empty_message(area, theme, "No latency recorded in this range");
    };
    let (width, height) = area.dim_in_pixel();
    let frame = Frame::inside(width, height, MARGINS);
    let x = Log {
        domain: (first.lower_ms, last.upper_ms),
        range: (frame.left, frame.right),
    };
    let max_count = latency.bins.iter().map(|bin| bin.count).max().unwrap_or(0) as f64;
    let ticks = nice_ticks(max_count, 4);
    let y = Linear {
        domain: (0.0, ticks.last().copied().unwrap_or(1.0)),
        range: (frame.bottom, frame.top),
    };
    count_axis(area, theme, &frame, &ticks, &y)?;
    for bin in &latency.bins {
        let (x0, x1) = (x.map(bin.lower_ms), x.map(bin.upper_ms));
        area.draw(&Rectangle::new(
            [
                (px(x0 + 0.5), px(y.map(bin.count as f64))),
                (px((x1 - 0.5).max(x0 + 1.0)), px(frame.bottom)),
            ],
            theme.bar.filled(),
        ))?;
    }
    let below = text_style(theme, 11.0, &theme.muted, HPos::Center, VPos::Top);
    for tick in x.ticks() {
        label(
            area,
            &duration_ms(tick),
            (x.map(tick), frame.bottom + 6.0),
            &below,
        )?;
    }
    let marker_text = text_style(theme, 11.0, &theme.marker, HPos::Center, VPos::Bottom);
    for (name, value) in [("p50", latency.p50_ms), ("p95", latency.p95_ms)] {
        let Some(value) = value else { continue };
        let at = x.map(value.clamp(first.lower_ms, last.upper_ms));
        area.draw(&PathElement::new(
            vec![(px(at), px(frame.top)), (px(at), px(frame.bottom))],
            theme.marker.stroke_width(2),
        ))?;
        label(
            area,
            &format!("{name} {}", duration_ms(value)),
            (at, frame.top - 3.0),
            &marker_text,
        )?;
    }
    Ok(())
}

pub fn describe(latency: &LatencyDistribution) -> String {
    match (latency.p50_ms, latency.p95_ms) {
        (Some(p50), Some(p95)) => format!(
            "Latency of {} suggestions: median {}, 95th percentile {}.",
            latency.count,
            duration_ms(p50),
            duration_ms(p95)
        ),
        _ => "Latency distribution: no latency recorded in this range.".to_owned(),
    }
}

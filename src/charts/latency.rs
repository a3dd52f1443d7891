//! Latency distribution: a histogram on a log scale with p50 and p95 marked.

use coachboard_contract::LatencyDistribution;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::scale::{Linear, Log, nice_ticks};
use super::{DrawResult, Frame, count_axis, empty_message, label, px, text_style};
use crate::format::duration_ms;
use crate::theme::ChartTheme;

const MARGINS: (f64, f64, f64, f64) = (34.0, 14.0, 24.0, 48.0);
/// Rough width of a character of the 11 px marker labels, to keep them apart.
const CHAR_WIDTH: f64 = 6.3;
/// How far a label is raised to clear its neighbour.
const LINE_HEIGHT: f64 = 13.0;

/// Where each marker label goes: centred over its line but kept inside the canvas, and the
/// earlier one raised a line when the two would overlap. Each entry is (x, raise).
pub fn label_spots(markers: &[(f64, usize)], width: f64) -> Vec<(f64, f64)> {
    let mut spots: Vec<(f64, f64)> = Vec::with_capacity(markers.len());
    let half = |chars: usize| chars as f64 * CHAR_WIDTH / 2.0;
    for (index, &(at, chars)) in markers.iter().enumerate() {
        let x = at.clamp(half(chars), (width - half(chars)).max(half(chars)));
        if let Some(previous) = index.checked_sub(1) {
            let (previous_x, _) = spots[previous];
            let previous_chars = markers[previous].1;
            if (x - previous_x).abs() < half(chars) + half(previous_chars) + 4.0 {
                spots[previous].1 = LINE_HEIGHT;
            }
        }
        spots.push((x, 0.0));
    }
    spots
}

/// What the latency chart draws: the distribution, and the earlier period's behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyView {
    pub latency: LatencyDistribution,
    pub baseline: Option<(&'static str, LatencyDistribution)>,
}

/// The earlier period's count over a bin: its bins whose middle falls inside.
pub fn baseline_count(baseline: &LatencyDistribution, lower_ms: f64, upper_ms: f64) -> u64 {
    baseline
        .bins
        .iter()
        .filter(|bin| (lower_ms..upper_ms).contains(&((bin.lower_ms + bin.upper_ms) / 2.0)))
        .map(|bin| bin.count)
        .sum()
}

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    view: &LatencyView,
    theme: &ChartTheme,
) -> DrawResult<(), DB> {
    area.fill(&theme.background)?;
    let latency = &view.latency;
    let baseline = view.baseline.as_ref().map(|(_, before)| before);
    let (Some(first), Some(last)) = (latency.bins.first(), latency.bins.last()) else {
        return empty_message(area, theme, "No latency recorded in this range");
    };
    let (width, height) = area.dim_in_pixel();
    let frame = Frame::inside(width, height, MARGINS);
    let x = Log {
        domain: (first.lower_ms, last.upper_ms),
        range: (frame.left, frame.right),
    };
    let in_domain = |bin: &&coachboard_contract::LatencyBin| {
        bin.count > 0 && bin.lower_ms >= first.lower_ms && bin.upper_ms <= last.upper_ms
    };
    let before: Vec<&coachboard_contract::LatencyBin> = baseline
        .map(|before| before.bins.iter().filter(in_domain).collect())
        .unwrap_or_default();
    let max_count = latency
        .bins
        .iter()
        .chain(before.iter().copied())
        .map(|bin| bin.count)
        .max()
        .unwrap_or(0) as f64;
    let ticks = nice_ticks(max_count, 4);
    let y = Linear {
        domain: (0.0, ticks.last().copied().unwrap_or(1.0)),
        range: (frame.bottom, frame.top),
    };
    count_axis(area, theme, &frame, &ticks, &y)?;
    // The earlier period first, behind: faint bins, their tops edged.
    for bin in before {
        let (x0, x1) = (px(x.map(bin.lower_ms)), px(x.map(bin.upper_ms)));
        let top = px(y.map(bin.count as f64));
        area.draw(&Rectangle::new(
            [(x0, top), (x1.max(x0 + 1), px(frame.bottom))],
            theme.muted.mix(0.16).filled(),
        ))?;
        area.draw(&PathElement::new(
            vec![(x0, top), (x1.max(x0 + 1), top)],
            theme.muted.mix(0.8).stroke_width(2),
        ))?;
    }
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
    let markers: Vec<(f64, String)> = [("p50", latency.p50_ms), ("p95", latency.p95_ms)]
        .into_iter()
        .filter_map(|(name, value)| {
            let value = value?;
            Some((
                x.map(value.clamp(first.lower_ms, last.upper_ms)),
                format!("{name} {}", duration_ms(value)),
            ))
        })
        .collect();
    let spots = label_spots(
        &markers
            .iter()
            .map(|(at, text)| (*at, text.chars().count()))
            .collect::<Vec<_>>(),
        f64::from(width),
    );
    for ((at, text), (label_x, raise)) in markers.iter().zip(spots) {
        area.draw(&PathElement::new(
            vec![(px(*at), px(frame.top)), (px(*at), px(frame.bottom))],
            theme.marker.stroke_width(2),
        ))?;
        label(area, text, (label_x, frame.top - 3.0 - raise), &marker_text)?;
    }
    Ok(())
}

pub fn describe_view(view: &LatencyView) -> String {
    let mut text = describe(&view.latency);
    if let Some((name, before)) = &view.baseline
        && let (Some(p50), Some(p95)) = (before.p50_ms, before.p95_ms)
    {
        text.push_str(&format!(
            " {name}, drawn faintly behind: median {}, 95th percentile {}.",
            duration_ms(p50),
            duration_ms(p95)
        ));
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_labels_stay_apart_and_inside() {
        // Far apart: both on the first line, centred over their lines.
        assert_eq!(
            label_spots(&[(100.0, 10), (300.0, 10)], 600.0),
            [(100.0, 0.0), (300.0, 0.0)]
        );
        // Close: the first is raised a line.
        let close = label_spots(&[(500.0, 11), (540.0, 11)], 600.0);
        assert_eq!(close[0].1, LINE_HEIGHT);
        assert_eq!(close[1].1, 0.0);
        // At the right edge: pulled inside the canvas.
        let edge = label_spots(&[(598.0, 11)], 600.0);
        assert!(edge[0].0 + 11.0 * CHAR_WIDTH / 2.0 <= 600.0);
    }
}

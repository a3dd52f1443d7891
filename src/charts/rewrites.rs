//! Rewrite size against accept rate: bars of suggestions per 10-point band of rewrite size,
//! and each band's accept rate with its 95% interval on a 0–100% axis at the right.

use coachboard_contract::RewriteSizes;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::scale::{Linear, nice_ticks};
use super::{DrawResult, Frame, count_axis, empty_message, label, px, text_style};
use crate::format::thousands;
use crate::theme::ChartTheme;

const MARGINS: (f64, f64, f64, f64) = (16.0, 42.0, 24.0, 48.0);

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sizes: &RewriteSizes,
    theme: &ChartTheme,
) -> DrawResult<(), DB> {
    area.fill(&theme.background)?;
    let max_count = sizes.bands.iter().map(|band| band.suggestions).max();
    let Some(max_count) = max_count.filter(|max| *max > 0) else {
        return empty_message(area, theme, "No suggestion with both texts in this range");
    };
    let (width, height) = area.dim_in_pixel();
    let frame = Frame::inside(width, height, MARGINS);
    let ticks = nice_ticks(max_count as f64, 4);
    let y = Linear {
        domain: (0.0, ticks.last().copied().unwrap_or(1.0)),
        range: (frame.bottom, frame.top),
    };
    let rate = Linear {
        domain: (0.0, 100.0),
        range: (frame.bottom, frame.top),
    };
    count_axis(area, theme, &frame, &ticks, &y)?;
    let right = text_style(theme, 11.0, &theme.rate, HPos::Left, VPos::Center);
    for percent in [0.0, 50.0, 100.0] {
        label(
            area,
            &format!("{percent:.0}%"),
            (frame.right + 6.0, rate.map(percent)),
            &right,
        )?;
    }
    let slot = frame.width() / sizes.bands.len().max(1) as f64;
    let below = text_style(theme, 11.0, &theme.muted, HPos::Center, VPos::Top);
    for (index, band) in sizes.bands.iter().enumerate() {
        let left = frame.left + slot * index as f64;
        area.draw(&Rectangle::new(
            [
                (px(left + 2.0), px(y.map(band.suggestions as f64))),
                (px(left + slot - 2.0), px(frame.bottom)),
            ],
            theme.bar.mix(0.55).filled(),
        ))?;
        if index % 2 == 0 {
            label(
                area,
                &format!("{:.0}%", band.lower_pct),
                (left, frame.bottom + 6.0),
                &below,
            )?;
        }
    }
    label(area, "100%", (frame.right, frame.bottom + 6.0), &below)?;
    // The accept rate: a dot per band with its interval, joined by a line.
    let centre = |index: usize| frame.left + slot * (index as f64 + 0.5);
    let mut line = Vec::new();
    for (index, band) in sizes.bands.iter().enumerate() {
        let (Some(value), Some(low), Some(high)) = (
            band.accept_rate.percent,
            band.accept_rate.ci_low,
            band.accept_rate.ci_high,
        ) else {
            continue;
        };
        let x = centre(index);
        area.draw(&PathElement::new(
            vec![(px(x), px(rate.map(low))), (px(x), px(rate.map(high)))],
            theme.rate.stroke_width(1),
        ))?;
        line.push((px(x), px(rate.map(value))));
    }
    area.draw(&PathElement::new(line.clone(), theme.rate.stroke_width(2)))?;
    for point in line {
        area.draw(&Circle::new(point, 3, theme.rate.filled()))?;
    }
    Ok(())
}

pub fn describe(sizes: &RewriteSizes) -> String {
    let described: Vec<String> = sizes
        .bands
        .iter()
        .filter(|band| band.suggestions > 0)
        .map(|band| {
            format!(
                "{:.0}–{:.0}% rewritten: {} suggestions, {} accepted",
                band.lower_pct,
                band.upper_pct,
                thousands(band.suggestions),
                band.accept_rate
                    .percent
                    .map_or_else(|| "–".to_owned(), |rate| format!("{rate:.1}%"))
            )
        })
        .collect();
    if described.is_empty() {
        "Rewrite size: no suggestion with both texts in this range.".to_owned()
    } else {
        format!("Rewrite size and accept rate. {}.", described.join("; "))
    }
}

//! The A/B experiment: accept rate per bucket as a point with its 95% interval.

use coachboard_contract::Experiment;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::scale::Linear;
use super::{DrawResult, Frame, empty_message, hline, label, px, text_style};
use crate::theme::ChartTheme;

const MARGINS: (f64, f64, f64, f64) = (8.0, 20.0, 24.0, 40.0);

/// The rate axis: the intervals with some room, on whole points.
pub fn domain(experiment: &Experiment) -> Option<(f64, f64)> {
    let lows = experiment.buckets.iter().filter_map(|bucket| bucket.ci_low);
    let highs = experiment
        .buckets
        .iter()
        .filter_map(|bucket| bucket.ci_high);
    let low = lows.fold(f64::INFINITY, f64::min);
    let high = highs.fold(f64::NEG_INFINITY, f64::max);
    if !(low.is_finite() && high.is_finite()) {
        return None;
    }
    let pad = ((high - low) * 0.25).max(1.0);
    Some(((low - pad).floor().max(0.0), (high + pad).ceil().min(100.0)))
}

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    experiment: &Experiment,
    theme: &ChartTheme,
) -> DrawResult<(), DB> {
    area.fill(&theme.background)?;
    let Some((low, high)) = domain(experiment) else {
        return empty_message(area, theme, "No A/B buckets with offers in this range");
    };
    let (width, height) = area.dim_in_pixel();
    let frame = Frame::inside(width, height, MARGINS);
    let x = Linear {
        domain: (low, high),
        range: (frame.left, frame.right),
    };
    let rows = experiment.buckets.len().max(2) as f64;
    let row = (frame.bottom - frame.top) / rows;
    let below = text_style(theme, 11.0, &theme.muted, HPos::Center, VPos::Top);
    let step = ((high - low) / 5.0).ceil().max(1.0);
    let mut tick = low;
    while tick <= high + 1e-9 {
        let at = x.map(tick);
        area.draw(&PathElement::new(
            vec![(px(at), px(frame.top)), (px(at), px(frame.bottom))],
            theme.grid.stroke_width(1),
        ))?;
        label(
            area,
            &format!("{tick:.0}%"),
            (at, frame.bottom + 6.0),
            &below,
        )?;
        tick += step;
    }
    let names = text_style(theme, 13.0, &theme.text, HPos::Right, VPos::Center);
    let values = text_style(theme, 11.0, &theme.muted, HPos::Center, VPos::Bottom);
    for (index, bucket) in experiment.buckets.iter().enumerate() {
        let middle = frame.top + (index as f64 + 0.5) * row;
        label(area, &bucket.bucket, (frame.left - 10.0, middle), &names)?;
        let color = if index == 0 {
            theme.offered
        } else {
            theme.accepted
        };
        if let (Some(ci_low), Some(ci_high)) = (bucket.ci_low, bucket.ci_high) {
            let (x0, x1) = (x.map(ci_low), x.map(ci_high));
            area.draw(&PathElement::new(
                vec![(px(x0), px(middle)), (px(x1), px(middle))],
                color.stroke_width(3),
            ))?;
            for end in [x0, x1] {
                area.draw(&PathElement::new(
                    vec![(px(end), px(middle - 7.0)), (px(end), px(middle + 7.0))],
                    color.stroke_width(2),
                ))?;
            }
        }
        if let Some(rate) = bucket.accept_rate {
            area.draw(&Circle::new(
                (px(x.map(rate)), px(middle)),
                6,
                color.filled(),
            ))?;
            label(
                area,
                &format!("{rate:.1}%"),
                (x.map(rate), middle - 10.0),
                &values,
            )?;
        }
    }
    hline(area, frame.bottom, frame.left, frame.right, theme.muted)?;
    Ok(())
}

pub fn describe(experiment: &Experiment) -> String {
    let parts: Vec<String> = experiment
        .buckets
        .iter()
        .filter_map(|bucket| {
            bucket
                .accept_rate
                .map(|rate| format!("bucket {} accepts {rate:.1}%", bucket.bucket))
        })
        .collect();
    if parts.is_empty() {
        "A/B experiment: no offers in this range.".to_owned()
    } else {
        format!("A/B experiment: {}.", parts.join(", "))
    }
}

//! Policy violations: horizontal bars, largest first. The layout is computed apart from the
//! drawing so a click on the canvas can be mapped back to its policy.

use coachboard_contract::PolicyCounts;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::scale::Linear;
use super::{DrawResult, empty_message, label, px, text_style};
use crate::format::thousands;
use crate::theme::ChartTheme;

/// Most bars drawn; the table view lists all.
pub const MAX_BARS: usize = 12;
const LABEL_WIDTH: f64 = 104.0;
const COUNT_WIDTH: f64 = 64.0;
const ROW_GAP: f64 = 0.28;

/// One bar's place on the canvas.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub policy: String,
    pub count: u64,
    pub top: f64,
    pub bottom: f64,
    pub right: f64,
}

/// The bars of the largest policies in a `width` × `height` area.
pub fn layout(counts: &PolicyCounts, width: f64, height: f64) -> Vec<Bar> {
    let mut sorted: Vec<&(String, u64)> = counts.0.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    sorted.truncate(MAX_BARS);
    let Some(max) = sorted
        .first()
        .map(|(_, count)| *count as f64)
        .filter(|max| *max > 0.0)
    else {
        return Vec::new();
    };
    let row = height / sorted.len().max(4) as f64;
    let x = Linear {
        domain: (0.0, max),
        range: (LABEL_WIDTH, (width - COUNT_WIDTH).max(LABEL_WIDTH + 1.0)),
    };
    sorted
        .iter()
        .enumerate()
        .map(|(index, (policy, count))| {
            let top = index as f64 * row + row * ROW_GAP / 2.0;
            Bar {
                policy: policy.clone(),
                count: *count,
                top,
                bottom: top + row * (1.0 - ROW_GAP),
                right: x.map(*count as f64).max(LABEL_WIDTH + 2.0),
            }
        })
        .collect()
}

/// The policy whose row contains the point, if any.
pub fn hit(bars: &[Bar], x: f64, y: f64, width: f64) -> Option<&str> {
    (x >= 0.0 && x <= width)
        .then(|| {
            bars.iter()
                .find(|bar| y >= bar.top - 2.0 && y <= bar.bottom + 2.0)
        })
        .flatten()
        .map(|bar| bar.policy.as_str())
}

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    counts: &PolicyCounts,
    selected: Option<&str>,
    theme: &ChartTheme,
) -> DrawResult<Vec<Bar>, DB> {
    area.fill(&theme.background)?;
    let (width, height) = area.dim_in_pixel();
    let bars = layout(counts, f64::from(width), f64::from(height));
    if bars.is_empty() {
        empty_message(area, theme, "No policy references in this range")?;
        return Ok(bars);
    }
    let names = text_style(theme, 12.0, &theme.text, HPos::Right, VPos::Center);
    let values = text_style(theme, 11.0, &theme.muted, HPos::Left, VPos::Center);
    for bar in &bars {
        let middle = (bar.top + bar.bottom) / 2.0;
        let color = if Some(bar.policy.as_str()) == selected {
            theme.highlight
        } else {
            theme.bar
        };
        area.draw(&Rectangle::new(
            [
                (px(LABEL_WIDTH), px(bar.top)),
                (px(bar.right), px(bar.bottom)),
            ],
            color.filled(),
        ))?;
        label(area, &bar.policy, (LABEL_WIDTH - 8.0, middle), &names)?;
        label(
            area,
            &thousands(bar.count),
            (bar.right + 6.0, middle),
            &values,
        )?;
    }
    Ok(bars)
}

pub fn describe(counts: &PolicyCounts) -> String {
    match counts.0.first() {
        Some((policy, count)) => format!(
            "Policy violations for {} policies; the most frequent is {policy} with {count}. Click a bar to filter by it.",
            counts.0.len()
        ),
        None => "Policy violations: none in this range.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_sorted_and_hit_testable() {
        let counts = PolicyCounts(vec![
            ("TONE-02".into(), 40),
            ("PII-01".into(), 90),
            ("LEGAL-10".into(), 5),
        ]);
        let bars = layout(&counts, 400.0, 200.0);
        assert_eq!(
            bars.iter()
                .map(|bar| bar.policy.as_str())
                .collect::<Vec<_>>(),
            ["PII-01", "TONE-02", "LEGAL-10"]
        );
        assert!(bars[0].right > bars[1].right && bars[1].right > bars[2].right);
        let middle = (bars[1].top + bars[1].bottom) / 2.0;
        assert_eq!(hit(&bars, 200.0, middle, 400.0), Some("TONE-02"));
        assert_eq!(hit(&bars, 200.0, 199.0, 400.0), None);
    }
}

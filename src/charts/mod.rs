//! The charts: one file each, each a `draw` function generic over the plotters backend (the
//! browser's canvas, or SVG in native tests), plus the canvas glue for the page.

pub mod canvas;
pub mod events_over_time;
pub mod experiment;
pub mod explore;
pub mod latency;
pub mod patterns;
pub mod policies;
pub mod rewrites;
pub mod scale;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::theme::ChartTheme;

/// The error a chart's drawing can fail with on backend `DB`.
pub type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The plotting rectangle inside the margins, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Frame {
    pub fn inside(width: u32, height: u32, margins: (f64, f64, f64, f64)) -> Self {
        let (top, right, bottom, left) = margins;
        Self {
            left,
            top,
            right: (f64::from(width) - right).max(left + 1.0),
            bottom: (f64::from(height) - bottom).max(top + 1.0),
        }
    }

    pub fn width(&self) -> f64 {
        self.right - self.left
    }
}

pub(crate) fn px(value: f64) -> i32 {
    value.round() as i32
}

pub(crate) fn text_style<'a>(
    theme: &'a ChartTheme,
    size: f64,
    color: &'a RGBColor,
    h: HPos,
    v: VPos,
) -> TextStyle<'a> {
    TextStyle::from((theme.font, size).into_font())
        .color(color)
        .pos(Pos::new(h, v))
}

/// Writes a text at a point.
pub(crate) fn label<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    at: (f64, f64),
    style: &TextStyle<'_>,
) -> DrawResult<(), DB> {
    area.draw_text(text, style, (px(at.0), px(at.1)))
}

/// Draws a horizontal grid line.
pub(crate) fn hline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    y: f64,
    from: f64,
    to: f64,
    color: RGBColor,
) -> DrawResult<(), DB> {
    area.draw(&PathElement::new(
        vec![(px(from), px(y)), (px(to), px(y))],
        color.stroke_width(1),
    ))
}

/// The left axis of counts: a grid line and a compact label at each tick.
pub(crate) fn count_axis<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    theme: &ChartTheme,
    frame: &Frame,
    ticks: &[f64],
    y: &scale::Linear,
) -> DrawResult<(), DB> {
    let style = text_style(theme, 11.0, &theme.muted, HPos::Right, VPos::Center);
    for tick in ticks {
        hline(area, y.map(*tick), frame.left, frame.right, theme.grid)?;
        label(
            area,
            &crate::format::compact(*tick),
            (frame.left - 6.0, y.map(*tick)),
            &style,
        )?;
    }
    Ok(())
}

/// A message in the middle of an empty chart.
pub(crate) fn empty_message<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    theme: &ChartTheme,
    text: &str,
) -> DrawResult<(), DB> {
    let (width, height) = area.dim_in_pixel();
    let style = text_style(theme, 13.0, &theme.muted, HPos::Center, VPos::Center);
    label(
        area,
        text,
        (f64::from(width) / 2.0, f64::from(height) / 2.0),
        &style,
    )
}

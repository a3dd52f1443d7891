//! Events over time, stacked by type, with the accept rate; the earlier period behind it
//! when comparing, and annotations as markers whose text shows on hover and focus.

use coachboard_contract::{Annotation, Timeseries};
use leptos::prelude::*;

use crate::charts::events_over_time::{
    self, PLOT_LEFT, PLOT_RIGHT, PlacedNote, Timeline, place_notes,
};
use crate::components::data_table::TableData;
use crate::components::panel::{ChartView, Load, Panel, chart_body};
use crate::format::{clock, date, duration_ms, percent, thousands, timestamp};

#[component]
pub fn TimelinePanel(
    data: Signal<Load<Timeseries>>,
    /// The earlier period and its name, when comparing.
    baseline: Signal<Option<(&'static str, Timeseries)>>,
    notes: Signal<Vec<Annotation>>,
) -> impl IntoView {
    let as_table = RwSignal::new(false);
    let timeline = Memo::new(move |_| {
        data.with(|load| {
            load.map(|series| Timeline {
                series: series.clone(),
                baseline: baseline.get(),
                notes: notes.with(|notes| place_notes(series, notes)),
            })
        })
    });
    let legend = [("offered", "Offered"), ("accepted", "Accepted"), ("edited", "Edited"), ("rejected", "Rejected"), ("rate", "Accept rate")]
        .map(|(class, label)| view! { <span class="legend-item"><i class=format!("swatch {class}")></i>{label}</span> })
        .collect_view();
    let baseline_legend = move || {
        baseline.with(|baseline| {
            baseline.as_ref().map(|(name, _)| {
                view! { <span class="legend-item"><i class="swatch baseline"></i>{*name}</span> }
            })
        })
    };
    let body = chart_body(
        timeline.into(),
        as_table,
        ChartView {
            class: "chart timeline",
            table: table_data,
            describe: events_over_time::describe_timeline,
            draw: |area, value, theme| {
                let _ = events_over_time::draw(area, value, theme);
            },
        },
    );
    let marks = move || {
        if as_table.get() {
            return None;
        }
        let notes = timeline.with(|load| load.ready().map(|timeline| timeline.notes.clone()))?;
        (!notes.is_empty()).then(|| view! { <NoteMarks notes=notes/> })
    };
    view! {
        <Panel title="Events over time" id="panel-timeline" as_table=as_table>
            <div class="legend">{legend}{baseline_legend}</div>
            <div class="chart-frame">{body}{marks}</div>
        </Panel>
    }
}

/// A button over each note's flag: its text shows on hover and focus, and is the button's
/// description for screen readers. Text is text (never HTML).
#[component]
fn NoteMarks(notes: Vec<PlacedNote>) -> impl IntoView {
    let marks = notes
        .into_iter()
        .enumerate()
        .map(|(index, placed)| {
            let when = timestamp(placed.note.ts, crate::browser::offset_at(placed.note.ts));
            let left = format!(
                "calc({PLOT_LEFT}px + (100% - {}px) * {:.5})",
                PLOT_LEFT + PLOT_RIGHT,
                placed.at
            );
            let tip = format!("note-{index}");
            // The text is pulled left by the share of the plot before its marker: at the left
            // edge it opens rightwards, at the right edge leftwards, always inside the chart.
            let pull = format!("translateX(-{:.1}%)", placed.at * 100.0);
            view! {
                <li class="note-mark" style:left=left>
                    <button type="button" aria-label=format!("Annotation, {when}") aria-describedby=tip.clone()></button>
                    <span class="note-text" role="tooltip" id=tip style:transform=pull>
                        <time>{when}</time>" "{placed.note.text}
                    </span>
                </li>
            }
        })
        .collect_view();
    view! { <ol class="note-marks" aria-label="Annotations">{marks}</ol> }
}

/// The table view: one row per bucket with events (or with events the period before), the
/// earlier period's count beside each when comparing.
pub fn table_data(timeline: &Timeline) -> TableData {
    let dash = || "–".to_owned();
    let baseline = timeline.baseline.as_ref();
    let mut headers = vec![
        "Start",
        "Offered",
        "Accepted",
        "Edited",
        "Rejected",
        "Accept rate",
        "p50",
        "p95",
    ];
    if let Some((name, _)) = baseline {
        headers.push(name);
    }
    let before = |index: usize| {
        baseline.and_then(|(_, series)| series.points.get(index).map(|point| point.total()))
    };
    TableData {
        headers,
        rows: timeline
            .series
            .points
            .iter()
            .enumerate()
            .filter(|(index, point)| point.total() > 0 || before(*index).unwrap_or(0) > 0)
            .map(|(index, point)| {
                let mut row = vec![
                    format!("{} {}", date(&point.start), clock(&point.start, false)),
                    thousands(point.offered),
                    thousands(point.accepted),
                    thousands(point.edited),
                    thousands(point.rejected),
                    point.accept_rate.map(percent).unwrap_or_else(dash),
                    point.latency_p50_ms.map(duration_ms).unwrap_or_else(dash),
                    point.latency_p95_ms.map(duration_ms).unwrap_or_else(dash),
                ];
                if baseline.is_some() {
                    row.push(before(index).map(thousands).unwrap_or_else(dash));
                }
                row
            })
            .collect(),
    }
}

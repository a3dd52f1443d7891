//! A chart panel: title, a "show as table" toggle, and the chart or its table. The body is
//! built when the panel first comes near the viewport (a skeleton holds its place until then).

use leptos::prelude::*;

use crate::components::info_tip::InfoTip;

#[component]
pub fn Panel(
    title: &'static str,
    /// Stable id for tests and anchors.
    id: &'static str,
    /// Shown under the title (e.g. the experiment's verdict).
    #[prop(optional, into)]
    subtitle: Option<Signal<Option<String>>>,
    /// Whether the table view is shown instead of the chart.
    as_table: RwSignal<bool>,
    children: Children,
) -> impl IntoView {
    let section = NodeRef::<leptos::html::Section>::new();
    let near = crate::near_view::near_viewport(section);
    let children = StoredValue::new_local(Some(children));
    let body = move || {
        if !near.get() {
            return waiting_view();
        }
        // Built once; untracked, so what the children read at build does not rebuild them
        // (a second run would find them taken).
        children
            .try_update_value(Option::take)
            .flatten()
            .map_or_else(|| ().into_any(), |children| untrack(children))
    };
    view! {
        <section class="panel" id=id node_ref=section>
            <header class="panel-head">
                <h2>{title}</h2>
                {crate::definitions::definition(id).map(|text| view! { <InfoTip subject=title id=id.to_owned() text=text/> })}
                <button class="toggle" aria-pressed=move || as_table.get().to_string()
                    on:click=move |_| as_table.update(|shown| *shown = !*shown)>
                    {move || if as_table.get() { "Show as chart" } else { "Show as table" }}
                </button>
            </header>
            {move || subtitle.and_then(|subtitle| subtitle.get()).map(|text| view! { <p class="panel-subtitle">{text}</p> })}
            <div class="panel-body">{body}</div>
        </section>
    }
}

/// What a panel has to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Waiting,
    Ready(T),
    Failed(crate::api::ApiError),
    /// The API behind the page does not offer this endpoint.
    NotOffered,
}

impl<T> Load<T> {
    pub fn from_result(result: Option<Result<T, crate::api::ApiError>>) -> Self {
        match result {
            None => Self::Waiting,
            Some(Ok(value)) => Self::Ready(value),
            Some(Err(error)) => Self::Failed(error),
        }
    }

    /// The same state with the value turned into another.
    pub fn map<U>(&self, change: impl FnOnce(&T) -> U) -> Load<U> {
        match self {
            Self::Waiting => Load::Waiting,
            Self::Ready(value) => Load::Ready(change(value)),
            Self::Failed(error) => Load::Failed(error.clone()),
            Self::NotOffered => Load::NotOffered,
        }
    }

    pub fn ready(&self) -> Option<&T> {
        match self {
            Self::Ready(value) => Some(value),
            _ => None,
        }
    }
}

/// The common faces of a panel that is not ready: skeleton, error, not offered.
pub fn unready_view<T>(load: &Load<T>) -> Option<AnyView> {
    use crate::components::states::{Failed, NotOffered};
    match load {
        Load::Ready(_) => None,
        Load::Waiting => Some(waiting_view()),
        Load::Failed(error) => Some(view! { <Failed error=error.clone()/> }.into_any()),
        Load::NotOffered => Some(view! { <NotOffered/> }.into_any()),
    }
}

/// A panel's data as its body should see it: waiting until the panel (`section`) first comes
/// near the viewport, so that nothing is built for a panel the reader has not reached.
pub fn once_near<T: Clone + Send + Sync + 'static>(
    section: NodeRef<leptos::html::Section>,
    data: Signal<Load<T>>,
) -> Signal<Load<T>> {
    let near = crate::near_view::near_viewport(section);
    Signal::derive(move || {
        if near.get() {
            data.get()
        } else {
            Load::Waiting
        }
    })
}

/// The skeleton that holds a chart's place until it has data (or is built).
fn waiting_view() -> AnyView {
    view! { <div class="chart skeleton-block" aria-busy="true"></div> }.into_any()
}

/// How a chart panel shows its data: as a table, in words (for screen readers), drawn.
pub struct ChartView<T: 'static> {
    /// The canvas's class, e.g. "chart latency".
    pub class: &'static str,
    pub table: fn(&T) -> crate::components::data_table::TableData,
    pub describe: fn(&T) -> String,
    pub draw: fn(
        &plotters::prelude::DrawingArea<crate::charts::canvas::HiDpi, plotters::coord::Shift>,
        &T,
        &crate::theme::ChartTheme,
    ),
}

// By hand: a derive would ask `T: Copy`, but only function pointers are copied.
impl<T> Clone for ChartView<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ChartView<T> {}

/// The body of a chart panel: its face while not ready, its table, or its canvas.
pub fn chart_body<T: Clone + PartialEq + Send + Sync + 'static>(
    data: Signal<Load<T>>,
    as_table: RwSignal<bool>,
    chart: ChartView<T>,
) -> impl Fn() -> AnyView + Copy {
    use crate::charts::canvas::ChartCanvas;
    use crate::components::data_table::DataTable;
    let context = expect_context::<crate::app::AppContext>();
    move || {
        let load = data.get();
        if let Some(view) = unready_view(&load) {
            return view;
        }
        let ChartView {
            class,
            table,
            describe,
            draw,
        } = chart;
        if as_table.get() {
            let rows = load.ready().map(table).unwrap_or_default();
            return view! { <DataTable data=rows/> }.into_any();
        }
        let label = Signal::derive(move || {
            data.with(|load| load.ready().map(describe).unwrap_or_default())
        });
        let points =
            Signal::derive(move || data.with(|load| load.ready().map(table).unwrap_or_default()));
        view! {
            <ChartCanvas class=class label=label points=points draw=move |area| {
                let theme = crate::theme::ChartTheme::new(context.dark());
                data.with(|load| if let Some(value) = load.ready() {
                    draw(area, value, &theme);
                });
            }/>
        }
        .into_any()
    }
}

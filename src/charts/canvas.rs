//! The glue between charts and the page: a canvas sized by CSS and drawn at device
//! resolution (sharp on HiDPI screens), redrawn when its size, the theme or its data change.

use leptos::html;
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ResizeObserver, ResizeObserverEntry};

use super::explore;
use crate::components::data_table::TableData;

/// plotters' canvas backend drawing in CSS pixels onto a backing store `ratio` times larger.
pub struct HiDpi {
    inner: CanvasBackend,
    css_size: (u32, u32),
}

impl HiDpi {
    /// Sizes the canvas for `css_size` at the device pixel ratio and scales its context.
    pub fn new(canvas: HtmlCanvasElement, css_size: (u32, u32)) -> Option<Self> {
        let ratio = web_sys::window()
            .map_or(1.0, |window| window.device_pixel_ratio())
            .max(1.0);
        canvas.set_width((f64::from(css_size.0) * ratio).round() as u32);
        canvas.set_height((f64::from(css_size.1) * ratio).round() as u32);
        let context: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
        context
            .set_transform(ratio, 0.0, 0.0, ratio, 0.0, 0.0)
            .ok()?;
        Some(Self {
            inner: CanvasBackend::with_canvas_object(canvas)?,
            css_size,
        })
    }
}

type CanvasError = <CanvasBackend as DrawingBackend>::ErrorType;

impl DrawingBackend for HiDpi {
    type ErrorType = CanvasError;

    fn get_size(&self) -> (u32, u32) {
        self.css_size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.fill_polygon(vertices, style)
    }

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_text(text, style, pos)
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<CanvasError>> {
        self.inner.estimate_text_size(text, style)
    }
}

/// A chart canvas: `draw` runs in an effect (so it redraws when the signals it reads change)
/// and again whenever the canvas is resized. Clicks report CSS-pixel coordinates and width.
#[component]
pub fn ChartCanvas<D>(
    draw: D,
    #[prop(into)] label: Signal<String>,
    #[prop(optional, into)] on_click: Option<Callback<(f64, f64, f64)>>,
    #[prop(default = "chart")] class: &'static str,
    /// The chart's values as rows: the arrow keys step through them, each said in words.
    #[prop(optional, into)]
    points: Option<Signal<TableData>>,
) -> impl IntoView
where
    D: Fn(&DrawingArea<HiDpi, Shift>) + 'static,
{
    let canvas_ref = NodeRef::<html::Canvas>::new();
    let size = RwSignal::new((0_u32, 0_u32));
    let observer =
        StoredValue::new_local(None::<(ResizeObserver, Closure<dyn FnMut(js_sys::Array)>)>);
    Effect::new(move |_| {
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        if observer.with_value(Option::is_some) {
            return;
        }
        let on_resize = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            if let Ok(entry) = entries.get(0).dyn_into::<ResizeObserverEntry>() {
                let rect = entry.content_rect();
                let next = (
                    rect.width().floor().max(0.0) as u32,
                    rect.height().floor().max(0.0) as u32,
                );
                if size.get_untracked() != next {
                    size.set(next);
                }
            }
        });
        if let Ok(resize) = ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
            resize.observe(&canvas);
            observer.set_value(Some((resize, on_resize)));
        }
    });
    on_cleanup(move || {
        observer.update_value(|slot| {
            if let Some((resize, _)) = slot.take() {
                resize.disconnect();
            }
        });
    });
    Effect::new(move |_| {
        let (width, height) = size.get();
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        if width == 0 || height == 0 {
            return;
        }
        let Some(backend) = HiDpi::new(canvas.clone(), (width, height)) else {
            return;
        };
        let root = backend.into_drawing_area();
        draw(&root);
        if root.present().is_ok() {
            // For the benchmark: when each chart first appeared, and was last drawn.
            let name = class.rsplit(' ').next().unwrap_or(class);
            if canvas.get_attribute("data-drawn").is_none() {
                let _ = canvas.set_attribute("data-drawn", "true");
                crate::browser::mark(&format!("coachboard:drawn:{name}"));
            }
            crate::browser::mark_latest(&format!("coachboard:redrawn:{name}"));
        }
    });
    let click = move |event: web_sys::MouseEvent| {
        if let Some(handler) = on_click {
            let width = f64::from(size.get_untracked().0);
            handler.run((
                f64::from(event.offset_x()),
                f64::from(event.offset_y()),
                width,
            ));
        }
    };
    let cursor = RwSignal::new(None::<usize>);
    let on_key = move |event: web_sys::KeyboardEvent| {
        let Some(points) = points else {
            return;
        };
        let len = points.with_untracked(|data| data.rows.len());
        if let Some(next) = explore::step(cursor.get_untracked(), &event.key(), len) {
            event.prevent_default();
            cursor.set(next);
        }
    };
    let spoken = move || {
        let (points, index) = (points?, cursor.get()?);
        points.with(|data| explore::say(data, index))
    };
    let hint = points.map(|_| "Arrow keys step through the values; Home and End jump to the ends.");
    view! {
        <canvas node_ref=canvas_ref class=class role="img" aria-label=move || label.get()
            tabindex=points.map(|_| "0") aria-description=hint
            on:click=click on:keydown=on_key on:blur=move |_| cursor.set(None)></canvas>
        {points.map(|_| view! { <p class="chart-point" aria-live="polite">{spoken}</p> })}
    }
}

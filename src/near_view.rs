//! Whether an element has come near the viewport. Panels below the fold build their bodies
//! only then, as Grafana loads its panels: a phone's first view builds, lays out and draws
//! what it shows, and the rest follows as the reader scrolls (or prints).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

/// How far below (and above) the viewport an element counts as near: far enough that a
/// body is built before it scrolls into sight.
const MARGIN: &str = "300px 0px";

type Watch = (IntersectionObserver, Closure<dyn FnMut(js_sys::Array)>);

/// Turns true, once and for good, when `target` first comes near the viewport. Without
/// IntersectionObserver (or a window) it is true at once.
pub fn near_viewport<E>(target: NodeRef<E>) -> Signal<bool>
where
    E: leptos::html::ElementType,
    E::Output: JsCast + Clone + 'static,
{
    let near = RwSignal::new(false);
    let watch = StoredValue::new_local(None::<Watch>);
    Effect::new(move |_| {
        let Some(element) = target.get() else {
            return;
        };
        if near.get_untracked() || watch.with_value(Option::is_some) {
            return;
        }
        let Ok(element) = element.dyn_into::<web_sys::Element>() else {
            near.set(true);
            return;
        };
        let on_change = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let seen = entries.iter().any(|entry| {
                entry
                    .dyn_into::<IntersectionObserverEntry>()
                    .is_ok_and(|entry| entry.is_intersecting())
            });
            if seen && !near.get_untracked() {
                near.set(true);
                // Disconnected, not dropped: this closure is still running.
                watch.with_value(|slot| {
                    if let Some((observer, _)) = slot {
                        observer.disconnect();
                    }
                });
            }
        });
        let options = IntersectionObserverInit::new();
        options.set_root_margin(MARGIN);
        match IntersectionObserver::new_with_options(on_change.as_ref().unchecked_ref(), &options) {
            Ok(observer) => {
                observer.observe(&element);
                watch.set_value(Some((observer, on_change)));
            }
            Err(_) => near.set(true),
        }
    });
    // Printing shows every panel.
    let on_print = window_event_listener(leptos::ev::beforeprint, move |_| {
        if !near.get_untracked() {
            near.set(true);
        }
    });
    on_cleanup(move || {
        on_print.remove();
        watch.update_value(|slot| {
            if let Some((observer, _)) = slot.take() {
                observer.disconnect();
            }
        });
    });
    // A memo: readers hear of the one change, never of a repeated `set(true)`.
    Memo::new(move |_| near.get()).into()
}

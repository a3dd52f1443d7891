//! Living inside other pages: posting the page height to a parent frame, and following the
//! system's light/dark preference.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// The message a portal listens for to size its iframe.
pub const RESIZE_MESSAGE: &str = "coachboard:resize";

/// Posts `{"type":"coachboard:resize","height":N}` to the parent whenever the height of the
/// page changes.
pub fn post_height_to_parent() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(body) = window.document().and_then(|document| document.body()) else {
        return;
    };
    let last = std::cell::Cell::new(0_i32);
    let on_resize = Closure::<dyn FnMut(js_sys::Array)>::new(move |_entries: js_sys::Array| {
        let Some(window) = web_sys::window() else {
            return;
        };
        let Some(element) = window
            .document()
            .and_then(|document| document.document_element())
        else {
            return;
        };
        let height = element.scroll_height();
        if height == last.get() {
            return;
        }
        last.set(height);
        let Ok(Some(parent)) = window.parent() else {
            return;
        };
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"type".into(), &RESIZE_MESSAGE.into());
        let _ = js_sys::Reflect::set(&message, &"height".into(), &height.into());
        let _ = parent.post_message(&message, "*");
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
        observer.observe(&body);
        // Both live as long as the page.
        std::mem::forget(observer);
        on_resize.forget();
    }
}

/// Keeps `system_dark` in step with the system's colour-scheme preference.
pub fn follow_system_theme(system_dark: RwSignal<bool>) {
    let Some(query) = web_sys::window().and_then(|window| {
        window
            .match_media("(prefers-color-scheme: dark)")
            .ok()
            .flatten()
    }) else {
        return;
    };
    let on_change = Closure::<dyn FnMut(web_sys::MediaQueryListEvent)>::new(
        move |event: web_sys::MediaQueryListEvent| {
            system_dark.set(event.matches());
        },
    );
    let _ = query.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
    on_change.forget();
}

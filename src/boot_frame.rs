//! The static frame of index.html (`#boot`): it shows the page's outline until the app has
//! built its first screen, and then the app replaces it in the same task, so nothing blinks.

use std::cell::Cell;

thread_local! {
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// Keeps the frame after the mount, if it is still there: the page removes it itself
/// (`remove`) once built. False when there is none (the page was opened by navigating).
pub fn hold() -> bool {
    HELD.set(true);
    frame().is_some()
}

/// Called after the mount: removes the frame unless the page holds it.
pub fn remove_unless_held() {
    if !HELD.get() {
        remove();
    }
}

/// Removes the frame (again is harmless).
pub fn remove() {
    if let Some(frame) = frame() {
        frame.remove();
    }
}

fn frame() -> Option<web_sys::Element> {
    web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("boot"))
}

//! Coachboard's dashboard: a Leptos single-page app that reads everything from the
//! Coachboard API over HTTP and draws it in the browser.
//!
//! Logic lives in plain modules (`query`, `format`, `diff`, `config`, `theme`, chart
//! layouts) that are unit-tested natively; components only wire them to the page.

pub mod api;
pub mod app;
pub mod boot_frame;
pub mod browser;
pub mod charts;
pub mod comparison;
pub mod components;
pub mod config;
pub mod definitions;
pub mod embed;
pub mod format;
pub mod live;
pub mod near_view;
pub mod page_nav;
pub mod pages;
pub mod policy_outcomes;
pub mod query;
pub mod saved_views;
pub mod session_links;
pub mod shortcuts;
pub mod staged;
pub mod storage;
pub mod theme;

/// Loads the runtime configuration, then mounts the app.
pub fn start() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        // The frame of index.html has painted by now: boot.js fetches the WebAssembly only
        // after its first paint.
        let config = app::load_config().await;
        leptos::mount::mount_to_body(move || app::app(config));
        // The static frame of index.html held the page until now, unless the page holds it
        // longer (the dashboard builds its first screen over a few tasks).
        boot_frame::remove_unless_held();
    });
}

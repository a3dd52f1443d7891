//! The keyboard shortcuts of the dashboard (see `shortcuts`) and the list `?` opens: a
//! native modal dialog, so focus stays inside it and Esc closes it.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::browser;
use crate::page_nav::PageNav;
use crate::shortcuts::{self, LIST, Shortcut};

/// True when the key goes to a field the user is typing in.
fn typing_in(event: &web_sys::KeyboardEvent) -> bool {
    event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || element.is_content_editable()
        })
}

fn focus_search() {
    if let Some(input) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.query_selector("input.search").ok().flatten())
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = input.focus();
    }
}

#[component]
pub fn KeyboardShortcuts() -> impl IntoView {
    let nav = expect_context::<PageNav>();
    let dialog = NodeRef::<html::Dialog>::new();
    let toggle_help = move || {
        if let Some(dialog) = dialog.get_untracked() {
            if dialog.open() {
                dialog.close();
            } else {
                let _ = dialog.show_modal();
            }
        }
    };
    let listener = window_event_listener(leptos::ev::keydown, move |event| {
        let modified = event.ctrl_key() || event.meta_key() || event.alt_key();
        let help_open = dialog.get_untracked().is_some_and(|dialog| dialog.open());
        if help_open && event.key() != "?" {
            return; // The dialog has the keyboard (Esc closes it natively).
        }
        let Some(shortcut) = shortcuts::shortcut_for(&event.key(), modified, typing_in(&event))
        else {
            return;
        };
        let state = nav.state.get_untracked();
        match shortcut {
            // As the range picker's buttons do.
            Shortcut::Range(range) => nav.filter(|state| state.range = range),
            Shortcut::Step(direction) => {
                if let Some(next) = shortcuts::stepped(&state, browser::now(), direction) {
                    nav.go(next, false);
                }
            }
            Shortcut::Search => focus_search(),
            Shortcut::ClearFilters => {
                let next = shortcuts::cleared(&state);
                if next != state {
                    nav.go(next, false);
                }
            }
            Shortcut::Help => toggle_help(),
        }
        event.prevent_default();
    });
    on_cleanup(move || listener.remove());
    let rows = LIST
        .iter()
        .map(|(keys, what)| view! { <tr><th scope="row"><kbd>{*keys}</kbd></th><td>{*what}</td></tr> })
        .collect_view();
    view! {
        <button class="shortcuts-button" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)"
            on:click=move |_| toggle_help()>"?"</button>
        <dialog class="shortcuts" node_ref=dialog aria-labelledby="shortcuts-title">
            <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
            <table><tbody>{rows}</tbody></table>
            <form method="dialog"><button class="primary">"Close"</button></form>
        </dialog>
    }
}

//! The "Views" menu: save the current view under a name, open or delete saved ones, and
//! export them all as links. Kept in this browser's localStorage (see `saved_views`).

use leptos::prelude::*;

use crate::browser;
use crate::saved_views::{self, STORAGE_KEY, SavedView};
use crate::storage::{self, Kind};

fn load() -> Vec<SavedView> {
    saved_views::parse(storage::get(Kind::Local, STORAGE_KEY).as_deref())
}

fn store(views: &[SavedView]) {
    storage::set(Kind::Local, STORAGE_KEY, &saved_views::to_json(views));
}

fn current_query() -> String {
    web_sys::window()
        .and_then(|window| window.location().search().ok())
        .unwrap_or_default()
}

fn origin() -> String {
    web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

#[component]
pub fn SavedViewsMenu() -> impl IntoView {
    let views = RwSignal::new(load());
    let menu = NodeRef::<leptos::html::Details>::new();
    // Opening a view closes the menu (the page changes in place, the header stays).
    let close = move || {
        if let Some(menu) = menu.get_untracked() {
            menu.set_open(false);
        }
    };
    let name = RwSignal::new(String::new());
    let path = format!("{}/", browser::base_path());
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if let Some(next) = saved_views::with_saved(
            &views.get_untracked(),
            &name.get_untracked(),
            &current_query(),
        ) {
            store(&next);
            views.set(next);
            name.set(String::new());
        }
    };
    let delete = move |view_name: String| {
        let next = saved_views::without(&views.get_untracked(), &view_name);
        store(&next);
        views.set(next);
    };
    let list = {
        let path = path.clone();
        move || {
            views
                .get()
                .into_iter()
                .map(|view| {
                    let href = saved_views::href(&path, &view);
                    let label = format!("Delete the view {}", view.name);
                    let view_name = view.name.clone();
                    view! {
                        <li>
                            <a href=href on:click=move |_| close()>{view.name.clone()}</a>
                            <button type="button" class="delete" aria-label=label on:click=move |_| delete(view_name.clone())>"×"</button>
                        </li>
                    }
                })
                .collect_view()
        }
    };
    let export = {
        let path = path.clone();
        move || {
            let origin = origin();
            views.with(|views| {
                views
                    .iter()
                    .map(|view| {
                        format!("{}: {origin}{}", view.name, saved_views::href(&path, view))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    };
    view! {
        <details class="views-menu" node_ref=menu>
            <summary>"Views"</summary>
            <div class="views-panel">
                <form class="save-view" on:submit=save>
                    <label for="view-name">"Save this view as"</label>
                    <div class="row">
                        <input id="view-name" type="text" maxlength="80" placeholder="e.g. PII in bucket B"
                            prop:value=move || name.get() on:input:target=move |event| name.set(event.target().value())/>
                        <button type="submit" class="primary">"Save"</button>
                    </div>
                </form>
                {move || if views.with(Vec::is_empty) {
                    view! { <p class="hint">"No saved views yet. They stay in this browser."</p> }.into_any()
                } else {
                    view! {
                        <ul class="saved-views">{list.clone()}</ul>
                        <label for="views-export">"All as links"</label>
                        <textarea id="views-export" readonly rows="3">{export.clone()}</textarea>
                    }.into_any()
                }}
            </div>
        </details>
    }
}

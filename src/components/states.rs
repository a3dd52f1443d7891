//! Every state has a face: loading skeletons, the API unreachable, a token needed, an empty
//! database, an empty range, a panel the API does not offer, and an unknown page.

use chrono::DateTime;
use leptos::prelude::*;

use crate::api::{Api, ApiError, first_event_curl};
use crate::app::AppContext;
use crate::browser;
use crate::format::{relative_time, timestamp};
use crate::storage::{self, Kind};

/// A grey block of a given height, so content does not jump in when it arrives.
#[component]
pub fn Skeleton(
    #[prop(default = "100%")] width: &'static str,
    #[prop(default = "1rem")] height: &'static str,
) -> impl IntoView {
    view! { <span class="skeleton" style:width=width style:height=height aria-hidden="true"></span> }
}

/// The API does not answer: which URL was tried, how to start it, and Retry.
#[component]
pub fn Unreachable(url: String) -> impl IntoView {
    let context = expect_context::<AppContext>();
    view! {
        <section class="notice error" role="alert" data-state="unreachable">
            <h2>"Cannot reach the Coachboard API"</h2>
            <p>"The dashboard tried " <code>{url.clone()}</code> " and got no answer."</p>
            <p>"Start the API (it alone opens the DuckDB file), then retry:"</p>
            <pre><code>"make run\n# or\ncoachboard-api --db data/coachboard.duckdb --addr 127.0.0.1:8000"</code></pre>
            <p class="hint">"Serving the dashboard from elsewhere? Point it at the API with "
                <code>"?api=https://your-api"</code> " or " <code>"api_url"</code> " in config.json."</p>
            <button class="primary" on:click=move |_| context.refresh()>"Retry"</button>
        </section>
    }
}

/// The API wants a token: ask for it and keep it for this tab (never in a cookie).
#[component]
pub fn TokenPrompt(message: String) -> impl IntoView {
    let context = expect_context::<AppContext>();
    let value = RwSignal::new(String::new());
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let token = value.get_untracked().trim().to_owned();
        if token.is_empty() {
            return;
        }
        let base = context.api.with_untracked(|api| api.base.clone());
        storage::set(Kind::Session, &storage::token_key(&base), &token);
        context.api.set(Api {
            base,
            token: Some(token),
        });
    };
    view! {
        <section class="notice" data-state="token">
            <h2>"This API needs a read token"</h2>
            <p class="hint">{message}</p>
            <form class="token-form" on:submit=submit>
                <label for="token">"Token"</label>
                <input id="token" type="password" autocomplete="off" prop:value=move || value.get()
                    on:input:target=move |event| value.set(event.target().value())/>
                <button class="primary" type="submit">"Use token"</button>
            </form>
            <p class="hint">"It is kept for this tab only and sent as an Authorization header."</p>
        </section>
    }
}

/// Any other failure of a request.
#[component]
pub fn Failed(error: ApiError) -> impl IntoView {
    let context = expect_context::<AppContext>();
    view! {
        <div class="panel-error" role="alert">
            <span>{error.to_string()}</span>
            <button on:click=move |_| context.refresh()>"Retry"</button>
        </div>
    }
}

/// No events at all yet: how to send the first.
#[component]
pub fn EmptyDatabase() -> impl IntoView {
    let context = expect_context::<AppContext>();
    let label = context.api.with_untracked(Api::base_label);
    view! {
        <section class="notice" data-state="empty-database">
            <h2>"No events yet"</h2>
            <p>"The database is empty. Send a first event to the API and it shows up here:"</p>
            <pre><code>{first_event_curl(&label)}</code></pre>
            <p class="hint">"Or start with generated demo data: " <code>"make run"</code> " (it passes " <code>"--demo"</code> ")."</p>
        </section>
    }
}

/// Events exist, none in this range: when the latest was, and a way to all time.
#[component]
pub fn EmptyRange(
    last_event: Option<DateTime<chrono::Utc>>,
    #[prop(into)] show_all: Callback<()>,
) -> impl IntoView {
    let latest = last_event.map(|last| {
        format!(
            "The latest event was {} ({}).",
            relative_time(last, browser::now()),
            timestamp(last, browser::offset_at(last))
        )
    });
    view! {
        <section class="notice" data-state="empty-range">
            <h2>"No events in this range"</h2>
            <p>{latest}</p>
            <button class="link" on:click=move |_| show_all.run(())>"Show all time"</button>
        </section>
    }
}

/// In place of a panel the API does not offer (the note's Python API).
#[component]
pub fn NotOffered() -> impl IntoView {
    view! {
        <p class="not-offered">"This panel needs " <code>"coachboard-api"</code>
            "; the API behind this dashboard offers only the note's three endpoints."</p>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    let home = format!("{}/", browser::base_path());
    view! {
        <main class="page">
            <section class="notice" data-state="not-found">
                <h1>"No such page"</h1>
                <a href=home>"Go to the dashboard"</a>
            </section>
        </main>
    }
}

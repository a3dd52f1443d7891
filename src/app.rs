//! The app shell: configuration, shared context (API client, theme, refresh tick), and the
//! router.

use coachboard_contract::Filter;
use gloo_net::http::Request;
use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;

use crate::api::Api;
use crate::browser;
use crate::config::{Config, ConfigFile};
use crate::pages::dashboard::Dashboard;
use crate::pages::session::{OpenedFromDashboard, SessionPage};
use crate::storage::{self, Kind};
use crate::theme::ThemeChoice;

/// What every part of the page shares.
#[derive(Clone, Copy)]
pub struct AppContext {
    pub config: StoredValue<Config>,
    /// The API client; replaced when a token is entered.
    pub api: RwSignal<Api>,
    /// Bumped to refetch everything (refresh timer, live change, Retry).
    pub tick: RwSignal<u64>,
    pub theme: RwSignal<ThemeChoice>,
    /// Whether the system prefers dark (followed live).
    pub system_dark: RwSignal<bool>,
    /// The viewer's IANA zone, sent as `tz` so days are the viewer's days.
    pub tz: StoredValue<Option<String>>,
}

impl AppContext {
    pub fn dark(&self) -> bool {
        self.theme.get().is_dark(self.system_dark.get())
    }

    pub fn refresh(&self) {
        self.tick.update(|tick| *tick += 1);
    }

    /// The filter of a page state now, in the viewer's zone.
    pub fn filter(&self, state: &crate::query::PageState) -> Filter {
        state.filter(browser::now(), self.tz.get_value())
    }
}

/// Reads `config.json` beside `index.html` (a missing or broken file means defaults), then
/// applies the URL's overrides.
pub async fn load_config() -> Config {
    let file = match Request::get("config.json").send().await {
        Ok(response) if response.ok() => {
            response.json::<ConfigFile>().await.unwrap_or_else(|error| {
                leptos::logging::warn!("config.json is not valid, using defaults: {error}");
                ConfigFile::default()
            })
        }
        _ => ConfigFile::default(),
    };
    let pairs = browser::query_pairs();
    Config::resolve(
        &file,
        pairs
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    )
}

pub fn app(config: Config) -> impl IntoView {
    let token = storage::get(Kind::Session, &storage::token_key(&config.api_base))
        .or_else(|| config.token.clone());
    let theme = config
        .theme
        .or_else(|| {
            storage::get(Kind::Local, storage::THEME_KEY)
                .and_then(|key| ThemeChoice::from_key(&key))
        })
        .unwrap_or_default();
    let context = AppContext {
        api: RwSignal::new(Api {
            base: config.api_base.clone(),
            token,
        }),
        config: StoredValue::new(config),
        tick: RwSignal::new(0),
        theme: RwSignal::new(theme),
        system_dark: RwSignal::new(browser::prefers_dark()),
        tz: StoredValue::new(browser::time_zone()),
    };
    provide_context(context);
    provide_context(OpenedFromDashboard(RwSignal::new(false)));
    crate::embed::follow_system_theme(context.system_dark);
    Effect::new(move |_| {
        let dark = context.dark();
        browser::set_root_attribute("data-theme", Some(if dark { "dark" } else { "light" }));
    });
    let (embed, transparent) = context
        .config
        .with_value(|config| (config.embed, config.transparent));
    browser::set_root_attribute("data-embed", embed.then_some("true"));
    browser::set_root_attribute("data-background", transparent.then_some("transparent"));
    if embed {
        crate::embed::post_height_to_parent();
    }
    let base = browser::base_path();
    view! {
        <Router base=base>
            <FlatRoutes fallback=|| view! { <crate::components::states::NotFound/> }>
                <Route path=path!("/") view=Dashboard/>
                <Route path=path!("/index.html") view=Dashboard/>
                <Route path=path!("/sessions/:id") view=SessionPage/>
            </FlatRoutes>
        </Router>
    }
}

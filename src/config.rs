//! Runtime configuration, no rebuild: `config.json` beside `index.html`, then overrides from
//! the page's URL (`?api=`, `?embed=1`, `?theme=`, `?background=transparent`). Pure parsing.

use serde::Deserialize;

use crate::query::{RangePreset, Refresh};
use crate::theme::ThemeChoice;

/// `config.json` as written by an operator; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ConfigFile {
    /// Base URL of the API; empty means the origin that serves the dashboard.
    pub api_url: Option<String>,
    pub title: Option<String>,
    /// all, 24h, 7d, 30d or 90d.
    pub default_range: Option<String>,
    /// off, 10s, 30s, 60s or live.
    pub refresh: Option<String>,
    /// A read token to send, for dashboards on a trusted network.
    pub token: Option<String>,
}

/// What the app runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Without a trailing slash; empty for same-origin.
    pub api_base: String,
    pub title: String,
    pub default_range: RangePreset,
    pub default_refresh: Refresh,
    pub token: Option<String>,
    /// Inside a portal's iframe: no header chrome, height posted to the parent.
    pub embed: bool,
    /// A theme forced by the URL (embedding portals choose theirs).
    pub theme: Option<ThemeChoice>,
    pub transparent: bool,
}

pub const DEFAULT_TITLE: &str = "Coach Effect";

impl Config {
    /// Combines the file (if any) with the URL's query pairs.
    pub fn resolve<'a>(
        file: &ConfigFile,
        url: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut config = Self {
            api_base: normalise_base(file.api_url.as_deref().unwrap_or_default()),
            title: file
                .title
                .clone()
                .filter(|title| !title.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_TITLE.to_owned()),
            default_range: file
                .default_range
                .as_deref()
                .and_then(RangePreset::from_key)
                .filter(|range| *range != RangePreset::Custom)
                .unwrap_or_default(),
            default_refresh: file
                .refresh
                .as_deref()
                .and_then(Refresh::from_key)
                .unwrap_or_default(),
            token: file.token.clone().filter(|token| !token.trim().is_empty()),
            embed: false,
            theme: None,
            transparent: false,
        };
        for (key, value) in url {
            match key {
                "api" if !value.trim().is_empty() => config.api_base = normalise_base(value),
                "embed" => config.embed = matches!(value, "1" | "true" | "yes"),
                "theme" => config.theme = ThemeChoice::from_key(value),
                "background" => config.transparent = value == "transparent",
                _ => {}
            }
        }
        config
    }

    /// The URL of an API path such as `/analytics/summary`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api_base)
    }
}

fn normalise_base(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_url() {
        let file: ConfigFile = serde_json::from_str(
            r#"{"api_url":"https://coach.example.com/","title":"Support coach","default_range":"7d","refresh":"live"}"#,
        )
        .unwrap();
        let config = Config::resolve(&file, [("theme", "dark"), ("embed", "1")]);
        assert_eq!(config.api_base, "https://coach.example.com");
        assert_eq!(
            config.url("/analytics/summary"),
            "https://coach.example.com/analytics/summary"
        );
        assert_eq!(config.title, "Support coach");
        assert_eq!(config.default_range, RangePreset::Week);
        assert_eq!(config.default_refresh, Refresh::Live);
        assert!(config.embed);
        assert_eq!(config.theme, Some(ThemeChoice::Dark));
        let overridden = Config::resolve(&file, [("api", "http://localhost:9000")]);
        assert_eq!(overridden.api_base, "http://localhost:9000");
    }

    #[test]
    fn defaults_without_a_file() {
        let config = Config::resolve(&ConfigFile::default(), []);
        assert_eq!(config.url("/healthz"), "/healthz");
        assert_eq!(config.title, DEFAULT_TITLE);
        assert_eq!(config.default_range, RangePreset::All);
        assert!(!config.embed && !config.transparent);
    }
}

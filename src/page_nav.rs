//! Changing the view: every change goes through the URL, so links, reload and back work.

use leptos::prelude::*;
use leptos_router::NavigateOptions;

use crate::browser;
use crate::query::{Defaults, PageState, query_string};

type Navigate = Box<dyn Fn(&str, NavigateOptions)>;

/// The page's state (read from the URL) and the way to change it.
#[derive(Clone, Copy)]
pub struct PageNav {
    pub state: Memo<PageState>,
    pub defaults: Defaults,
    navigate: StoredValue<Navigate, LocalStorage>,
}

impl PageNav {
    pub fn new(
        state: Memo<PageState>,
        defaults: Defaults,
        navigate: impl Fn(&str, NavigateOptions) + 'static,
    ) -> Self {
        Self {
            state,
            defaults,
            navigate: StoredValue::new_local(Box::new(navigate)),
        }
    }

    /// Shows `next`. A real navigation (`replace == false`) adds a history entry; typing
    /// replaces the current one.
    pub fn go(&self, next: PageState, replace: bool) {
        let others = browser::query_pairs();
        let url = format!(
            "{}{}",
            browser::pathname(),
            query_string(&next.to_pairs(&others, self.defaults))
        );
        let options = NavigateOptions {
            resolve: false,
            replace,
            scroll: false,
            ..NavigateOptions::default()
        };
        self.navigate.with_value(|navigate| navigate(&url, options));
    }

    /// Applies a change to the current state.
    pub fn update(&self, change: impl FnOnce(&mut PageState), replace: bool) {
        let mut next = self.state.get_untracked();
        change(&mut next);
        if next != self.state.get_untracked() {
            self.go(next, replace);
        }
    }

    /// Applies a filter change and returns to the first table page.
    pub fn filter(&self, change: impl FnOnce(&mut PageState)) {
        self.update(
            |state| {
                change(state);
                state.page = 0;
            },
            false,
        );
    }
}

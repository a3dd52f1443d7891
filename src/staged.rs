//! Builds the first screen over several tasks. Each first run of the app's code also compiles
//! it (the browser compiles WebAssembly one function at a time, on first call), so building
//! the whole page in one task blocked a throttled phone for 150-250 ms; in stages, a tap can
//! be answered between them.

use std::time::Duration;

use leptos::prelude::*;

/// What the dashboard builds in which task, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The page's state and its requests, sent at once.
    Start,
    /// The header and its controls.
    Header,
    /// The figure cards; the page replaces the static frame then.
    Cards,
    /// The charts and the table.
    Body,
}

impl Stage {
    const ALL: [Stage; 4] = [Stage::Start, Stage::Header, Stage::Cards, Stage::Body];

    fn next(self) -> Option<Stage> {
        Self::ALL.get(self as usize + 1).copied()
    }
}

/// The stage reached: `Start` now, then one stage more per task until `Body`.
pub fn advancing() -> ReadSignal<Stage> {
    let (stage, set_stage) = signal(Stage::Start);
    advance_later(set_stage, Stage::Start);
    stage
}

/// Every stage at once: for a page opened by navigating inside the app, which has no frame
/// to show meanwhile (and whose code has run before).
pub fn complete() -> ReadSignal<Stage> {
    signal(Stage::Body).0
}

fn advance_later(set_stage: WriteSignal<Stage>, from: Stage) {
    let Some(next) = from.next() else {
        return;
    };
    set_timeout(
        move || {
            set_stage.set(next);
            advance_later(set_stage, next);
        },
        Duration::ZERO,
    );
}

/// True from `stage` on. A memo, so what it gates is built once, not again at each stage.
pub fn reached(stage: ReadSignal<Stage>, at: Stage) -> Memo<bool> {
    Memo::new(move |_| stage.get() >= at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_in_order_and_end_at_the_body() {
        assert_eq!(Stage::Start.next(), Some(Stage::Header));
        assert_eq!(Stage::Header.next(), Some(Stage::Cards));
        assert_eq!(Stage::Cards.next(), Some(Stage::Body));
        assert_eq!(Stage::Body.next(), None);
        assert!(Stage::Start < Stage::Header && Stage::Header < Stage::Cards);
        assert!(Stage::Cards < Stage::Body);
    }
}

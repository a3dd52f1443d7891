//! The headline cards, each with its change against the previous period when the range
//! is bounded (for latency, lower is better).

use coachboard_contract::{Figures, SuggestionOutcomes, Summary};
use leptos::prelude::*;

use crate::api::ApiError;
use crate::components::info_tip::InfoTip;
use crate::components::panel::Load;
use crate::components::states::Skeleton;
use crate::format::{Change, duration_ms, percent, points_change, relative_change, thousands};

/// One card's content, computed from the figures (pure).
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub detail: Option<String>,
    pub change: Option<Change>,
}

pub fn cards(summary: &Summary) -> Vec<Card> {
    let now = &summary.figures;
    let before: Option<&Figures> = summary.previous.as_ref().map(|previous| &previous.figures);
    let count_change = |current: u64, pick: fn(&Figures) -> u64| {
        before.and_then(|before| relative_change(current as f64, pick(before) as f64, false))
    };
    vec![
        Card {
            key: "total_events",
            label: "Total Events",
            value: thousands(now.total_events),
            detail: None,
            change: count_change(now.total_events, |f| f.total_events),
        },
        Card {
            key: "suggestions_offered",
            label: "Suggestions Offered",
            value: thousands(now.suggestions_offered),
            detail: None,
            change: count_change(now.suggestions_offered, |f| f.suggestions_offered),
        },
        Card {
            key: "accept_rate",
            label: "Accept Rate",
            value: percent(now.accept_rate),
            detail: Some(format!(
                "{} accepted or edited",
                thousands(now.suggestions_accepted)
            )),
            change: before
                .filter(|before| before.suggestions_offered > 0 && now.suggestions_offered > 0)
                .map(|before| points_change(now.accept_rate, before.accept_rate)),
        },
        Card {
            key: "avg_latency_ms",
            label: "Avg Latency",
            value: format!("{} ms", thousands(now.avg_latency_ms.max(0) as u64)),
            detail: now
                .latency_p95_ms
                .map(|p95| format!("p95 {}", duration_ms(p95))),
            change: before.and_then(|before| {
                relative_change(
                    now.avg_latency_ms as f64,
                    before.avg_latency_ms as f64,
                    true,
                )
            }),
        },
    ]
}

/// Time from offer to answer, and the offers nobody answered.
pub fn decision_card(suggestions: &SuggestionOutcomes) -> Card {
    let overall = &suggestions.overall;
    let unanswered = match overall.unanswered_rate {
        Some(rate) => format!("{} unanswered", percent(rate)),
        None => "no suggestions".to_owned(),
    };
    let detail = match overall.decision_p95_ms {
        Some(p95) => format!("p95 {} · {unanswered}", duration_ms(p95)),
        None => unanswered,
    };
    Card {
        key: "decision_time",
        label: "Decision Time",
        value: overall
            .decision_p50_ms
            .map_or_else(|| "–".to_owned(), duration_ms),
        detail: Some(detail),
        change: None,
    }
}

/// The cards' keys and labels in order, the decision card last: the loading cards have the
/// same names and places, so nothing moves when the figures arrive.
const CARD_NAMES: [(&str, &str); 5] = [
    ("total_events", "Total Events"),
    ("suggestions_offered", "Suggestions Offered"),
    ("accept_rate", "Accept Rate"),
    ("avg_latency_ms", "Avg Latency"),
    ("decision_time", "Decision Time"),
];

#[component]
pub fn KpiCards(
    summary: Memo<Option<Result<Summary, ApiError>>>,
    /// From APIs that link outcomes to offers; the card is left out otherwise.
    suggestions: Signal<Load<SuggestionOutcomes>>,
) -> impl IntoView {
    let content = move || match summary.get() {
        // The page shows what is wrong instead.
        Some(Err(ApiError::Unreachable { .. } | ApiError::Unauthorized { .. })) => ().into_any(),
        Some(Ok(summary)) => cards(&summary)
            .into_iter()
            .chain(suggestions.with(|load| load.ready().map(decision_card)))
            .map(|card| {
                let change = card.change.map(|change| {
                    let class = format!(
                        "change {} {}",
                        change.direction.css_class(),
                        if change.good { "good" } else { "bad" }
                    );
                    view! { <span class=class>{change.text}" vs previous"</span> }
                });
                let value = card.value;
                let detail = view! { {card.detail}{change} };
                card_view(card.key, card.label, false, value, detail)
            })
            .collect_view()
            .into_any(),
        _ => CARD_NAMES
            .into_iter()
            .map(|(key, label)| {
                let value = view! { <Skeleton width="60%" height="2rem"/> };
                let detail = view! { <Skeleton width="40%"/> };
                card_view(key, label, true, value, detail)
            })
            .collect_view()
            .into_any(),
    };
    view! { <section class="kpis" aria-label="Key figures">{content}</section> }
}

/// One card: its name and definition, its value, the line under it. Only a card with its
/// figure carries `data-kpi`.
fn card_view(
    key: &'static str,
    label: &'static str,
    loading: bool,
    value: impl IntoView + 'static,
    detail: impl IntoView + 'static,
) -> AnyView {
    view! {
        <article class="kpi" class:loading=loading data-kpi=(!loading).then_some(key)>
            <div class="kpi-head">
                <h2>{label}</h2>
                {crate::definitions::definition(key).map(|text| view! { <InfoTip subject=label id=key.to_owned() text=text/> })}
            </div>
            <p class="value">{value}</p>
            <p class="detail">{detail}</p>
        </article>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use coachboard_contract::PreviousPeriod;

    fn figures(total: u64, offered: u64, accepted: u64, latency: i64) -> Figures {
        Figures {
            total_events: total,
            suggestions_offered: offered,
            suggestions_accepted: accepted,
            accept_rate: accepted as f64 / offered as f64 * 100.0,
            avg_latency_ms: latency,
            latency_p95_ms: Some(830.0),
            ..Figures::default()
        }
    }

    #[test]
    fn the_frame_of_index_html_names_the_same_cards() {
        let index = include_str!("../../index.html");
        for (_, label) in CARD_NAMES {
            assert!(
                index.contains(&format!("<h2>{label}</h2>")),
                "index.html's frame lacks the card {label}"
            );
        }
        let loaded: Vec<(&str, &str)> = cards(&Summary::default())
            .into_iter()
            .chain([decision_card(&SuggestionOutcomes::default())])
            .map(|card| (card.key, card.label))
            .collect();
        assert_eq!(
            loaded, CARD_NAMES,
            "loading and loaded cards alike, in one order"
        );
    }

    #[test]
    fn decision_card_shows_median_p95_and_unanswered() {
        let suggestions = SuggestionOutcomes {
            overall: coachboard_contract::SuggestionStats {
                suggestions: 200,
                unanswered: 12,
                unanswered_rate: Some(6.0),
                decision_p50_ms: Some(14_940.0),
                decision_p95_ms: Some(26_300.0),
                ..Default::default()
            },
            ..SuggestionOutcomes::default()
        };
        let card = decision_card(&suggestions);
        assert_eq!(card.value, "14.94 s");
        assert_eq!(
            card.detail.as_deref(),
            Some("p95 26.30 s · 6.0% unanswered")
        );
        assert_eq!(decision_card(&SuggestionOutcomes::default()).value, "–");
    }

    #[test]
    fn cards_show_values_and_changes() {
        let summary = Summary {
            figures: figures(1_000_000, 500_000, 275_000, 441),
            previous: Some(PreviousPeriod {
                from: chrono::Utc::now(),
                to: chrono::Utc::now(),
                figures: figures(1_000_000, 489_716, 265_428, 455),
            }),
            ..Summary::default()
        };
        let cards = cards(&summary);
        assert_eq!(cards[0].value, "1,000,000");
        assert_eq!(cards[1].change.as_ref().unwrap().text, "▲2.1%");
        assert_eq!(cards[2].value, "55.0%");
        assert_eq!(cards[2].change.as_ref().unwrap().text, "▲0.8 pt");
        assert_eq!(cards[3].value, "441 ms");
        assert_eq!(cards[3].detail.as_deref(), Some("p95 830 ms"));
        let latency = cards[3].change.as_ref().unwrap();
        assert_eq!(latency.text, "▼3.1%");
        assert!(latency.good, "lower latency is better");
        let unbounded = Summary {
            figures: figures(10, 5, 2, 300),
            ..Summary::default()
        };
        assert!(
            super::cards(&unbounded)
                .iter()
                .all(|card| card.change.is_none())
        );
    }
}

//! Which offer an outcome answers when it does not say (`offer_id`), as plain Rust: the rule
//! the DuckDB store writes in SQL (`duckdb/links.rs`), for ClickHouse 18.16, which has
//! neither window functions nor ASOF JOIN.
//!
//! Per session, offers that no outcome names and outcomes that name none are walked in time
//! order (offers first at equal times, then in write order); an offer opens, an outcome
//! answers the latest offer still open. That is a stack.

use std::collections::{HashMap, HashSet};

/// An event of a session as the inference reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub id: String,
    pub session_id: String,
    pub ts_us: i64,
    /// Write order, for events at the same instant.
    pub seq: u64,
    pub offered: bool,
    /// For an outcome: the offer it names.
    pub offer_id: Option<String>,
}

/// The inferred `(outcome id, offer id)` links of `steps` (every event of some sessions).
/// `claimed` holds offers named by some outcome (in any session): they take no inferred
/// answer.
pub(crate) fn infer(mut steps: Vec<Step>, claimed: &HashSet<String>) -> Vec<(String, String)> {
    steps.retain(|step| {
        if step.offered {
            !claimed.contains(&step.id)
        } else {
            step.offer_id.is_none()
        }
    });
    steps.sort_by(|a, b| {
        (&a.session_id, a.ts_us, !a.offered, a.seq).cmp(&(
            &b.session_id,
            b.ts_us,
            !b.offered,
            b.seq,
        ))
    });
    let mut open: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut links = Vec::new();
    for step in &steps {
        let stack = open.entry(step.session_id.as_str()).or_default();
        if step.offered {
            stack.push(&step.id);
        } else if let Some(offer) = stack.pop() {
            links.push((step.id.clone(), offer.to_owned()));
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str, ts: i64, offered: bool) -> Step {
        Step {
            id: id.into(),
            session_id: "s".into(),
            ts_us: ts,
            seq: 0,
            offered,
            offer_id: None,
        }
    }

    #[test]
    fn an_outcome_answers_the_latest_open_offer() {
        let steps = vec![
            step("a", 1, true),
            step("b", 2, true),
            step("x", 3, false),
            step("c", 4, true),
            step("y", 5, false),
            step("z", 6, false),
            step("w", 7, false),
        ];
        let links = infer(steps, &HashSet::new());
        assert_eq!(
            links,
            vec![
                ("x".to_owned(), "b".to_owned()),
                ("y".to_owned(), "c".to_owned()),
                ("z".to_owned(), "a".to_owned()),
            ]
        );
    }

    #[test]
    fn claimed_offers_and_named_outcomes_stay_out() {
        let mut named = step("n", 3, false);
        named.offer_id = Some("a".into());
        let steps = vec![
            step("a", 1, true),
            step("b", 2, true),
            named,
            step("x", 4, false),
        ];
        let claimed = HashSet::from(["a".to_owned()]);
        assert_eq!(
            infer(steps, &claimed),
            vec![("x".to_owned(), "b".to_owned())]
        );
    }

    #[test]
    fn an_offer_comes_before_an_outcome_at_the_same_instant() {
        let steps = vec![step("x", 5, false), step("a", 5, true)];
        assert_eq!(
            infer(steps, &HashSet::new()),
            vec![("x".to_owned(), "a".to_owned())]
        );
    }
}

//! The policy-outcomes table as plain data: rows formatted for display and sorted by the
//! column a person chose.

use coachboard_contract::{PolicyOutcome, Rate};

use crate::format::thousands;

/// The columns the table can be sorted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Policy,
    Suggestions,
    Accept,
    Edit,
    Reject,
}

impl Column {
    pub const ALL: [Column; 5] = [
        Column::Policy,
        Column::Suggestions,
        Column::Accept,
        Column::Edit,
        Column::Reject,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Policy => "Policy",
            Self::Suggestions => "Suggestions",
            Self::Accept => "Accept rate",
            Self::Edit => "Edit rate",
            Self::Reject => "Reject rate",
        }
    }
}

/// How the rows are ordered: a column, descending or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub column: Column,
    pub descending: bool,
}

impl Default for Order {
    fn default() -> Self {
        Self {
            column: Column::Suggestions,
            descending: true,
        }
    }
}

impl Order {
    /// The order after a click on `column`: the same column flips, another starts with
    /// the largest values first (names A to Z).
    pub fn clicked(self, column: Column) -> Self {
        if self.column == column {
            Self {
                column,
                descending: !self.descending,
            }
        } else {
            Self {
                column,
                descending: column != Column::Policy,
            }
        }
    }

    /// `aria-sort` of a column header.
    pub fn aria_sort(self, column: Column) -> &'static str {
        match (self.column == column, self.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        }
    }
}

/// One row as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub policy: String,
    pub suggestions: String,
    pub accept: String,
    pub edit: String,
    pub reject: String,
}

/// "66.7% (20.8–93.9)": the rate and its 95% interval; a dash without suggestions.
pub fn rate_text(rate: &Rate) -> String {
    match (rate.percent, rate.ci_low, rate.ci_high) {
        (Some(value), Some(low), Some(high)) => format!("{value:.1}% ({low:.1}–{high:.1})"),
        (Some(value), _, _) => format!("{value:.1}%"),
        _ => "–".to_owned(),
    }
}

fn sort_value(outcome: &PolicyOutcome, column: Column) -> f64 {
    let share = |rate: &Rate| rate.percent.unwrap_or(-1.0);
    match column {
        Column::Policy => 0.0,
        Column::Suggestions => outcome.suggestions as f64,
        Column::Accept => share(&outcome.accept_rate),
        Column::Edit => share(&outcome.edit_rate),
        Column::Reject => share(&outcome.reject_rate),
    }
}

/// The rows in `order`; ties by policy name.
pub fn rows(outcomes: &[PolicyOutcome], order: Order) -> Vec<Row> {
    let mut sorted: Vec<&PolicyOutcome> = outcomes.iter().collect();
    sorted.sort_by(|a, b| {
        let by_column = match order.column {
            Column::Policy => a.policy.cmp(&b.policy),
            column => sort_value(a, column).total_cmp(&sort_value(b, column)),
        };
        let by_column = if order.descending {
            by_column.reverse()
        } else {
            by_column
        };
        by_column.then_with(|| a.policy.cmp(&b.policy))
    });
    sorted
        .into_iter()
        .map(|outcome| Row {
            policy: outcome.policy.clone(),
            suggestions: thousands(outcome.suggestions),
            accept: rate_text(&outcome.accept_rate),
            edit: rate_text(&outcome.edit_rate),
            reject: rate_text(&outcome.reject_rate),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(policy: &str, suggestions: u64, accept: f64) -> PolicyOutcome {
        PolicyOutcome {
            policy: policy.to_owned(),
            suggestions,
            accepted: 0,
            edited: 0,
            rejected: 0,
            unanswered: 0,
            accept_rate: Rate {
                percent: Some(accept),
                ci_low: Some(accept - 5.0),
                ci_high: Some(accept + 5.0),
            },
            edit_rate: Rate::default(),
            reject_rate: Rate::default(),
        }
    }

    #[test]
    fn sorts_by_the_chosen_column() {
        let outcomes = [
            outcome("TONE-02", 50, 70.0),
            outcome("PII-01", 90, 40.0),
            outcome("REFUND-03", 50, 55.0),
        ];
        let names = |order| {
            rows(&outcomes, order)
                .into_iter()
                .map(|row| row.policy)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(Order::default()),
            ["PII-01", "REFUND-03", "TONE-02"],
            "most suggestions first, ties by name"
        );
        let by_accept = Order::default().clicked(Column::Accept);
        assert_eq!(names(by_accept), ["TONE-02", "REFUND-03", "PII-01"]);
        assert_eq!(
            names(by_accept.clicked(Column::Accept)),
            ["PII-01", "REFUND-03", "TONE-02"]
        );
        let by_name = Order::default().clicked(Column::Policy);
        assert!(!by_name.descending);
        assert_eq!(names(by_name), ["PII-01", "REFUND-03", "TONE-02"]);
        assert_eq!(by_name.aria_sort(Column::Policy), "ascending");
        assert_eq!(by_name.aria_sort(Column::Accept), "none");
    }

    #[test]
    fn rates_show_their_intervals() {
        let rate = Rate {
            percent: Some(200.0 / 3.0),
            ci_low: Some(20.77),
            ci_high: Some(93.86),
        };
        assert_eq!(rate_text(&rate), "66.7% (20.8–93.9)");
        assert_eq!(rate_text(&Rate::default()), "–");
    }
}

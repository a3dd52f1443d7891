//! Exploring a chart from the keyboard: arrow keys step through its values (the rows of its
//! "show as table" data) and each is said in words (pure, unit-tested).

use crate::components::data_table::TableData;

/// The value under the cursor after a key press, `None` when the key is not ours.
pub fn step(cursor: Option<usize>, key: &str, len: usize) -> Option<Option<usize>> {
    if len == 0 {
        return None;
    }
    let last = len - 1;
    Some(Some(match (key, cursor) {
        ("ArrowRight" | "ArrowDown", None) | ("Home", _) => 0,
        ("ArrowLeft" | "ArrowUp", None) | ("End", _) => last,
        ("ArrowRight" | "ArrowDown", Some(at)) => (at + 1).min(last),
        ("ArrowLeft" | "ArrowUp", Some(at)) => at.saturating_sub(1),
        _ => return None,
    }))
}

/// One row said in words: "Dec 16: Offered 23, Accepted 5 (3 of 40)".
pub fn say(data: &TableData, index: usize) -> Option<String> {
    let row = data.rows.get(index)?;
    let (first, rest) = row.split_first()?;
    let values: Vec<String> = data
        .headers
        .iter()
        .skip(1)
        .zip(rest)
        .map(|(header, value)| format!("{header} {value}"))
        .collect();
    Some(format!(
        "{first}: {} ({} of {})",
        values.join(", "),
        index + 1,
        data.rows.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> TableData {
        TableData {
            headers: vec!["Day", "Offered", "Accepted"],
            rows: vec![
                vec!["Dec 16".into(), "23".into(), "5".into()],
                vec!["Dec 17".into(), "30".into(), "9".into()],
            ],
        }
    }

    #[test]
    fn arrows_move_within_the_values_and_home_end_jump() {
        assert_eq!(step(None, "ArrowRight", 2), Some(Some(0)));
        assert_eq!(step(Some(0), "ArrowRight", 2), Some(Some(1)));
        assert_eq!(step(Some(1), "ArrowRight", 2), Some(Some(1)));
        assert_eq!(step(Some(1), "ArrowLeft", 2), Some(Some(0)));
        assert_eq!(step(Some(0), "ArrowLeft", 2), Some(Some(0)));
        assert_eq!(step(None, "End", 2), Some(Some(1)));
        assert_eq!(step(Some(1), "Home", 2), Some(Some(0)));
        assert_eq!(step(None, "a", 2), None);
        assert_eq!(step(None, "ArrowRight", 0), None);
    }

    #[test]
    fn a_value_is_said_with_its_headers_and_place() {
        assert_eq!(
            say(&data(), 1).as_deref(),
            Some("Dec 17: Offered 30, Accepted 9 (2 of 2)")
        );
        assert_eq!(say(&data(), 2), None);
    }
}

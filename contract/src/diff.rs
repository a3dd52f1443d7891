//! The word diff of an agent's draft against a suggestion, shared by the API (which stores
//! each offer's rewrite size once) and the dashboard (which marks the changed words), so
//! both always agree. Myers' algorithm from the `similar` crate does the work.

use similar::{Algorithm, DiffTag, capture_diff_slices};

/// A run of text, marked when it differs from the other side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub changed: bool,
}

/// Above this many words per side nothing is compared: such texts are not replies, and
/// the diff's cost grows with their size.
pub const MAX_WORDS: usize = 5000;

/// Splits text into words, each with the whitespace that follows it (leading whitespace
/// stays with the first word), so the words put together give the text back.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (index, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            // Whitespace before the first word belongs to it.
            if !text[start..index].trim().is_empty() {
                out.push(&text[start..index]);
                start = index;
            }
            in_space = false;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Which words of each side the diff keeps (`false`) or changes (`true`); `None` when a
/// side is too long to compare.
fn marks<'a>(left: &[&'a str], right: &[&'a str]) -> Option<(Vec<bool>, Vec<bool>)> {
    if left.len() > MAX_WORDS || right.len() > MAX_WORDS {
        return None;
    }
    // Compared without their surrounding whitespace; borrowed, not copied.
    let key =
        |words: &[&'a str]| -> Vec<&'a str> { words.iter().map(|word| word.trim()).collect() };
    let (old, new) = (key(left), key(right));
    let mut left_marks = vec![true; left.len()];
    let mut right_marks = vec![true; right.len()];
    for op in capture_diff_slices(Algorithm::Myers, &old, &new) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            left_marks[old_range].fill(false);
            right_marks[new_range].fill(false);
        }
    }
    Some((left_marks, right_marks))
}

/// The draft and the suggestion as spans: words only in the draft are marked on the left,
/// words only in the suggestion on the right.
pub fn word_diff(draft: &str, suggestion: &str) -> (Vec<Span>, Vec<Span>) {
    let (left, right) = (words(draft), words(suggestion));
    match marks(&left, &right) {
        Some((left_marks, right_marks)) => (merge(&left, &left_marks), merge(&right, &right_marks)),
        None => (
            merge(&left, &vec![false; left.len()]),
            merge(&right, &vec![false; right.len()]),
        ),
    }
}

/// How much of the draft the suggestion rewrote, in percent: the words removed from the
/// draft and the words added by the suggestion, over the words of both (0 when they are the
/// same, 100 when they share no word). `None` when both are empty or a side is too long.
pub fn rewrite_percent(draft: &str, suggestion: &str) -> Option<f64> {
    let real = |text| -> Vec<&str> {
        words(text)
            .into_iter()
            .filter(|word| !word.trim().is_empty())
            .collect()
    };
    let (left, right) = (real(draft), real(suggestion));
    let total = left.len() + right.len();
    if total == 0 {
        return None;
    }
    let (left_marks, right_marks) = marks(&left, &right)?;
    let changed = left_marks
        .iter()
        .chain(&right_marks)
        .filter(|changed| **changed)
        .count();
    Some(changed as f64 / total as f64 * 100.0)
}

/// Joins neighbouring words with the same mark into one span.
fn merge(words: &[&str], marks: &[bool]) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    for (word, &changed) in words.iter().zip(marks) {
        match spans.last_mut() {
            Some(last) if last.changed == changed => last.text.push_str(word),
            _ => spans.push(Span {
                text: (*word).to_owned(),
                changed,
            }),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(spans: &[Span]) -> Vec<&str> {
        spans
            .iter()
            .filter(|span| span.changed)
            .map(|span| span.text.trim())
            .collect()
    }

    #[test]
    fn marks_the_words_that_changed() {
        let (left, right) = word_diff(
            "Your refund is on its way",
            "Your refund was sent today, it is on its way",
        );
        assert_eq!(marked(&left), Vec::<&str>::new());
        assert_eq!(marked(&right), ["was sent today, it"]);
        let text: String = right.iter().map(|span| span.text.as_str()).collect();
        assert_eq!(text, "Your refund was sent today, it is on its way");
    }

    #[test]
    fn rewrite_size_counts_changed_words_of_both_sides() {
        assert_eq!(
            rewrite_percent("same words here", "same words here"),
            Some(0.0)
        );
        assert_eq!(rewrite_percent("a b", "c d"), Some(100.0));
        // 4 + 6 words, 4 shared: (0 removed + 2 added) / 10.
        assert_eq!(
            rewrite_percent(
                "your order has shipped",
                "good news: your order has shipped"
            ),
            Some(20.0)
        );
        // Whitespace does not count as a change.
        assert_eq!(rewrite_percent("a  b\n", "a b"), Some(0.0));
        assert_eq!(rewrite_percent("", ""), None);
        assert_eq!(rewrite_percent("", "hello there"), Some(100.0));
        let long = "word ".repeat(MAX_WORDS + 1);
        assert_eq!(rewrite_percent(&long, "word"), None);
    }

    #[test]
    fn marks_changed_words_on_each_side() {
        let (left, right) = word_diff("I am happy to help", "I am glad to help you");
        assert_eq!(
            marked_pairs(&left),
            vec![("I am ", false), ("happy ", true), ("to help", false)]
        );
        assert_eq!(
            marked_pairs(&right),
            vec![
                ("I am ", false),
                ("glad ", true),
                ("to help ", false),
                ("you", true)
            ]
        );
    }

    #[test]
    fn identical_and_empty_texts() {
        let (left, right) = word_diff("same text", "same text");
        assert!(left.iter().chain(&right).all(|span| !span.changed));
        let (left, right) = word_diff("", "new words");
        assert!(left.is_empty());
        assert_eq!(marked_pairs(&right), vec![("new words", true)]);
    }

    #[test]
    fn text_is_kept_whole() {
        let draft = "Hi  Sam,\nyour refund is on its way.";
        let (left, _) = word_diff(draft, "Hello Sam, your refund was sent.");
        assert_eq!(
            left.iter()
                .map(|span| span.text.as_str())
                .collect::<String>(),
            draft
        );
    }

    fn marked_pairs(spans: &[Span]) -> Vec<(&str, bool)> {
        spans
            .iter()
            .map(|span| (span.text.as_str(), span.changed))
            .collect()
    }
}

//! Word diff of the agent's draft against the suggestion used (pure).

/// A run of text, marked when it differs from the other side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub changed: bool,
}

/// Above this many words per side the diff is skipped (quadratic cost).
const MAX_WORDS: usize = 1500;

/// Splits text into words, each with the whitespace that follows it.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (index, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            out.push(&text[start..index]);
            start = index;
            in_space = false;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// The draft and the suggestion as spans: words only in the draft are marked on the left,
/// words only in the suggestion on the right (longest common subsequence of words).
pub fn word_diff(draft: &str, suggestion: &str) -> (Vec<Span>, Vec<Span>) {
    let left = words(draft);
    let right = words(suggestion);
    if left.len() > MAX_WORDS || right.len() > MAX_WORDS {
        return (spans_all(&left, false), spans_all(&right, false));
    }
    let key = |word: &str| word.trim_end().to_owned();
    let (n, m) = (left.len(), right.len());
    // lengths[i][j]: LCS length of left[i..] and right[j..].
    let mut lengths = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lengths[i][j] = if key(left[i]) == key(right[j]) {
                lengths[i + 1][j + 1] + 1
            } else {
                lengths[i + 1][j].max(lengths[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut left_marks = Vec::with_capacity(n);
    let mut right_marks = Vec::with_capacity(m);
    while i < n && j < m {
        if key(left[i]) == key(right[j]) {
            left_marks.push(false);
            right_marks.push(false);
            i += 1;
            j += 1;
        } else if lengths[i + 1][j] >= lengths[i][j + 1] {
            left_marks.push(true);
            i += 1;
        } else {
            right_marks.push(true);
            j += 1;
        }
    }
    left_marks.resize(n, true);
    right_marks.resize(m, true);
    (merge(&left, &left_marks), merge(&right, &right_marks))
}

fn spans_all(words: &[&str], changed: bool) -> Vec<Span> {
    if words.is_empty() {
        return Vec::new();
    }
    vec![Span {
        text: words.concat(),
        changed,
    }]
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

    fn marked(spans: &[Span]) -> Vec<(&str, bool)> {
        spans
            .iter()
            .map(|span| (span.text.as_str(), span.changed))
            .collect()
    }

    #[test]
    fn marks_changed_words_on_each_side() {
        let (left, right) = word_diff("I am happy to help", "I am glad to help you");
        assert_eq!(
            marked(&left),
            vec![("I am ", false), ("happy ", true), ("to help", false)]
        );
        assert_eq!(
            marked(&right),
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
        assert_eq!(marked(&right), vec![("new words", true)]);
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
}

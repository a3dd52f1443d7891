//! The word index behind the text filter: every word of every row's own texts (draft and
//! suggestion, lowered by DuckDB's `lower`, split at anything that is not a letter or a
//! digit) in `coachboard_words`, and each distinct word once in `coachboard_vocabulary`.
//!
//! The filter is a case-insensitive substring match (`ILIKE '%q%'`), which reads every text
//! of the table. When the lowered needle is one run of letters and digits, any place it
//! occurs in a lowered text lies inside one word of that text, so the rows it matches are
//! exactly the rows with a word that contains it: the vocabulary (small) is searched with
//! `contains`, and the rows of the words found are read from the index, which each rebuild
//! chunk writes in word order so DuckDB's zone maps skip the rest. Any other needle (spaces,
//! punctuation) is matched on the texts themselves.
//!
//! Both tables are derived from `coach_events` (`derive.rs`): a row's texts never change,
//! so a catch-up only adds the words of the new rows.

use duckdb::types::Value;
use duckdb::{Connection, OptionalExt};

pub(crate) const WORDS: &str = "coachboard_words";
pub(crate) const VOCABULARY: &str = "coachboard_vocabulary";

pub(crate) const CREATE: &str = "
    -- Derived by coachboard-api from coach_events; safe to drop, rebuilt when missing.
    CREATE TABLE IF NOT EXISTS coachboard_words (
        word       VARCHAR NOT NULL,
        row_number BIGINT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS coachboard_vocabulary (word VARCHAR NOT NULL);";

/// What a word is made of: letters and digits (Unicode classes, as RE2 knows them). The
/// index splits at anything else and a needle is a word when it has nothing else, so both
/// read this one class.
const WORD_CHARS: &str = r"\pL\pN";

/// The distinct words of a row's texts, as one list.
fn split(texts: &str) -> String {
    format!(
        "list_filter(list_distinct(regexp_split_to_array(lower({texts}), '[^{WORD_CHARS}]+')),
                     lambda w: w <> '')"
    )
}

/// A text filter, resolved against the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Needle {
    /// One run of letters and digits, lowered: answered from the word index alone.
    Word(String),
    /// Anything else, as the user typed it, with its longest runs of letters and digits
    /// (lowered): the rows holding a word with each run are candidates, and only their
    /// texts are matched with `ILIKE`.
    Phrase { text: String, runs: Vec<String> },
}

/// How many of a phrase's runs narrow its candidates: the longest, which select fewest.
const MAX_RUNS: usize = 3;

/// Resolves a text filter with DuckDB's own `lower` and regular expressions, the functions
/// the index was built with, so the two can never disagree on a character.
pub(crate) fn needle(conn: &Connection, text: &str) -> duckdb::Result<Needle> {
    let word: Option<String> = conn
        .query_row(
            &format!("SELECT lower(?) WHERE regexp_full_match(lower(?), '[{WORD_CHARS}]+')"),
            [text, text],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(word) = word {
        return Ok(Needle::Word(word));
    }
    let mut statement = conn.prepare(&format!("SELECT DISTINCT unnest({})", split("?")))?;
    let mut runs = statement
        .query_map([text], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    runs.sort_by_key(|run| std::cmp::Reverse(run.chars().count()));
    runs.truncate(MAX_RUNS);
    Ok(Needle::Phrase {
        text: text.to_owned(),
        runs,
    })
}

/// The rows whose own texts contain a word (one parameter: the lowered word).
const ROWS_WITH_WORD: &str = "SELECT row_number FROM coachboard_words
     WHERE word IN (SELECT word FROM coachboard_vocabulary WHERE contains(word, ?))";

impl Needle {
    /// A query of the row numbers whose own texts match (a case-insensitive substring, the
    /// user's `%` and `_` literal), reading the events as `src`, and its parameters.
    pub(crate) fn own_rows(&self) -> (String, Vec<Value>) {
        match self {
            Needle::Word(word) => (ROWS_WITH_WORD.to_owned(), vec![Value::Text(word.clone())]),
            Needle::Phrase { text, runs } => {
                let escaped = text
                    .replace('\\', r"\\")
                    .replace('%', r"\%")
                    .replace('_', r"\_");
                let pattern = Value::Text(format!("%{escaped}%"));
                let mut params: Vec<Value> =
                    runs.iter().map(|run| Value::Text(run.clone())).collect();
                params.extend([pattern.clone(), pattern]);
                let matches = r"(src.agent_draft ILIKE ? ESCAPE '\' OR src.suggestion_used ILIKE ? ESCAPE '\')";
                if runs.is_empty() {
                    // Nothing to look up (only punctuation or spaces): every text is read.
                    return (
                        format!("SELECT row_number FROM src WHERE {matches}"),
                        params,
                    );
                }
                // The first run selects the candidates, each other run narrows them.
                let narrowed: String = runs[1..]
                    .iter()
                    .map(|_| format!(" AND row_number IN ({ROWS_WITH_WORD})"))
                    .collect();
                // The texts of the candidates only: the match refers to the candidate's row
                // (always true), so DuckDB cannot push it into the scan of every text.
                let sql = format!(
                    "SELECT candidate.row_number
                     FROM (SELECT row_number FROM ({ROWS_WITH_WORD}) WHERE TRUE{narrowed}) candidate
                     JOIN src ON src.row_number = candidate.row_number
                     WHERE CASE WHEN candidate.row_number >= 0 THEN {matches} END"
                );
                (sql, params)
            }
        }
    }
}

/// Adds the words of the rows with ids in `[start, end)`, in word order, and the new ones
/// among them to the vocabulary (inside the caller's transaction).
pub(crate) fn add_range(
    conn: &Connection,
    source: &str,
    start: i64,
    end: i64,
) -> duckdb::Result<()> {
    let words = split("concat_ws(' ', agent_draft, suggestion_used)");
    conn.execute(
        &format!(
            "CREATE OR REPLACE TEMP TABLE coachboard_new_words AS
             SELECT unnest({words}) AS word, row_number FROM ({source})
             WHERE row_number >= ? AND row_number < ?
               AND (agent_draft IS NOT NULL OR suggestion_used IS NOT NULL)"
        ),
        [start, end],
    )?;
    conn.execute_batch(&format!(
        "INSERT INTO {WORDS} SELECT word, row_number FROM coachboard_new_words
         ORDER BY word, row_number;
         INSERT INTO {VOCABULARY}
         SELECT DISTINCT word FROM coachboard_new_words new
         WHERE NOT EXISTS (SELECT 1 FROM {VOCABULARY} known WHERE known.word = new.word);
         DROP TABLE coachboard_new_words;"
    ))
}

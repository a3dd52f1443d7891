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
//! Each word row keeps its row's UTC hour, and each answer its outcome's
//! (`answers.rs`): a one-word filter then counts its rows per hour (the outcomes of the
//! offers it matches included) from the index and the answers alone, and an events page
//! reads only the index rows of the hours it covers, never the whole events table
//! (`refund` matched 1M of 10M rows; reading them all took 0.7-1.6 s).
//!
//! Both tables are derived from `coach_events` (`derive.rs`): a row's texts never change,
//! so a catch-up only adds the words of the new rows.

use chrono::NaiveDateTime;
use duckdb::types::Value;
use duckdb::{Connection, OptionalExt};

use super::answers::ANSWERS;
use super::sql::{hour_of, placeholders};
use crate::rollup::{ceil_hour, floor_hour, split_at_hours};
use crate::store::Scope;

pub(crate) const WORDS: &str = "coachboard_words";
pub(crate) const VOCABULARY: &str = "coachboard_vocabulary";

pub(crate) const CREATE: &str = "
    -- Derived by coachboard-api from coach_events; safe to drop, rebuilt when missing.
    CREATE TABLE IF NOT EXISTS coachboard_words (
        word       VARCHAR NOT NULL,
        row_number BIGINT NOT NULL,
        -- The row's UTC hour (seconds since the epoch), NULL without a time.
        hour       BIGINT
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
    /// One run of letters and digits: the vocabulary words containing it, whose rows are
    /// answered from the word index alone.
    Word(Words),
    /// Anything else, as the user typed it, with the vocabulary words of its longest runs
    /// of letters and digits (lowered): the rows holding a word of each run are
    /// candidates, and only their texts are matched with `ILIKE`.
    Phrase { text: String, runs: Vec<Words> },
}

/// The vocabulary words containing a run (lowered): listed when there are few, so DuckDB
/// reads only the index's row groups that can hold them (zone maps; a sub-query of the
/// vocabulary made it read every word of the index, 200M at 10M events), else selected by
/// that sub-query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Words {
    Listed(Vec<String>),
    Containing(String),
}

/// Most vocabulary words a run lists (`1` may be in most order numbers).
const MAX_LISTED: usize = 256;

impl Words {
    fn of(conn: &Connection, run: &str) -> duckdb::Result<Self> {
        let mut statement = conn.prepare_cached(&format!(
            "SELECT word FROM {VOCABULARY} WHERE contains(word, ?) ORDER BY word LIMIT ?"
        ))?;
        let words = statement
            .query_map(duckdb::params![run, MAX_LISTED as i64 + 1], |row| {
                row.get(0)
            })?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(if words.len() > MAX_LISTED {
            Self::Containing(run.to_owned())
        } else {
            Self::Listed(words)
        })
    }

    /// The condition on the index's `word` column, and its parameters.
    fn condition(&self) -> (String, Vec<Value>) {
        match self {
            Self::Listed(words) if words.is_empty() => ("FALSE".to_owned(), Vec::new()),
            Self::Listed(words) => (
                format!("word IN ({})", placeholders(words.len())),
                words.iter().cloned().map(Value::Text).collect(),
            ),
            Self::Containing(run) => (
                format!("word IN (SELECT word FROM {VOCABULARY} WHERE contains(word, ?))"),
                vec![Value::Text(run.clone())],
            ),
        }
    }

    /// A query of the rows whose own texts hold one of the words, and its parameters.
    fn rows(&self) -> (String, Vec<Value>) {
        let (condition, params) = self.condition();
        (
            format!("SELECT row_number FROM {WORDS} WHERE {condition}"),
            params,
        )
    }
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
        return Ok(Needle::Word(Words::of(conn, &word)?));
    }
    let mut statement = conn.prepare(&format!("SELECT DISTINCT unnest({})", split("?")))?;
    let mut runs = statement
        .query_map([text], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    runs.sort_by_key(|run| std::cmp::Reverse(run.chars().count()));
    runs.truncate(MAX_RUNS);
    Ok(Needle::Phrase {
        text: text.to_owned(),
        runs: runs
            .iter()
            .map(|run| Words::of(conn, run))
            .collect::<Result<_, _>>()?,
    })
}

/// Whether a list of matched rows must hold each row once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    Once,
    Repeated,
}

/// The UTC hours `[from, to)` (seconds since the epoch) a read of the index keeps; rows
/// without a time only when neither end is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Hours {
    from: Option<i64>,
    to: Option<i64>,
}

impl Hours {
    /// The hours holding every instant of `[from, to)`.
    pub(crate) fn covering(from: Option<NaiveDateTime>, to: Option<NaiveDateTime>) -> Self {
        Self {
            from: from.map(floor_hour),
            to: to.map(ceil_hour),
        }
    }

    /// The whole hours inside `[from, to)`; `None` when it holds none.
    fn inside(from: Option<NaiveDateTime>, to: Option<NaiveDateTime>) -> Option<Self> {
        let hours = Self {
            from: from.map(ceil_hour),
            to: to.map(floor_hour),
        };
        match (hours.from, hours.to) {
            (Some(first), Some(end)) if first >= end => None,
            _ => Some(hours),
        }
    }

    /// The condition on an hour column, its parameters appended to `params`.
    fn on(self, column: &str, params: &mut Vec<Value>) -> String {
        let mut clauses = vec!["TRUE".to_owned()];
        for (bound, operator) in [(self.from, ">="), (self.to, "<")] {
            if let Some(hour) = bound {
                clauses.push(format!("{column} {operator} ?"));
                params.push(Value::BigInt(hour));
            }
        }
        clauses.join(" AND ")
    }
}

/// The rows a one-word filter selects in `hours`, with their hour: those whose own texts
/// hold a word containing it, and the outcomes (in `hours`) of the offers among those
/// (in any hour). `Rows::Once` lists each row once, for counting; `Rows::Repeated` may
/// list one more than once (several words, or its own text and its offer's), which a
/// membership test does not mind and which spares the de-duplication.
fn matched(words: &Words, hours: Hours, rows: Rows) -> (String, Vec<Value>) {
    let (condition, mut params) = words.condition();
    let own_hours = hours.on("hour", &mut params);
    let outcome_hours = hours.on("outcome_hour", &mut params);
    let (offers, offers_params) = words.rows();
    params.extend(offers_params);
    let union = match rows {
        Rows::Once => "UNION",
        Rows::Repeated => "UNION ALL",
    };
    let sql = format!(
        "SELECT row_number, hour FROM {WORDS} WHERE {condition} AND {own_hours}
         {union}
         SELECT outcome_row, outcome_hour FROM {ANSWERS}
         WHERE {outcome_hours} AND offer_row IN ({offers})"
    );
    (sql, params)
}

/// The words of a one-word scope whose only other filter is a time range: the index and
/// the answers count its rows without reading the events.
fn counted_alone<'a>(scope: &Scope, needle: &'a Needle) -> Option<&'a Words> {
    let Needle::Word(words) = needle else {
        return None;
    };
    text_and_range_only(scope).then_some(words)
}

/// Whether a scope's only filters are a text and a time range: checked before its text is
/// resolved, so other scopes do not look their words up for nothing.
pub(crate) fn text_and_range_only(scope: &Scope) -> bool {
    let others = Scope {
        text: None,
        from: None,
        to: None,
        ..scope.clone()
    };
    scope.text.is_some() && others == Scope::default()
}

/// Rows per whole UTC hour of the scope's range, ascending (rows without a time left out),
/// when its only filters are one word and a range.
pub(crate) fn hour_counts(scope: &Scope, needle: &Needle) -> Option<(String, Vec<Value>)> {
    let word = counted_alone(scope, needle)?;
    let (rows, params) = matched(word, Hours::inside(scope.from, scope.to)?, Rows::Once);
    let sql = format!(
        "SELECT hour, count(*) FROM ({rows}) WHERE hour IS NOT NULL GROUP BY hour ORDER BY hour"
    );
    Some((sql, params))
}

/// The number of rows of a scope whose only filters are one word and a range: its whole
/// hours counted from the index, the ends of the range outside them as `edge` counts them
/// (given the edge's scope, a query of one count and its parameters), in one statement.
pub(crate) fn count(
    scope: &Scope,
    needle: &Needle,
    edge: impl Fn(&Scope) -> (String, Vec<Value>),
) -> Option<(String, Vec<Value>)> {
    let word = counted_alone(scope, needle)?;
    let split = split_at_hours(scope.from, scope.to);
    let mut parts = Vec::new();
    let mut params = Vec::new();
    if let Some(hours) = Hours::inside(scope.from, scope.to) {
        let (rows, rows_params) = matched(word, hours, Rows::Once);
        parts.push(format!("(SELECT count(*) FROM ({rows}))"));
        params.extend(rows_params);
    }
    for (from, to) in split.edges {
        let (query, edge_params) = edge(&scope.with_range(from, to));
        parts.push(format!("({query})"));
        params.extend(edge_params);
    }
    let sql = format!("SELECT ({})::BIGINT", parts.join(" + "));
    Some((sql, params))
}

impl Needle {
    /// A query of the row numbers a text-only filter selects in `hours` (their own texts
    /// match, or their offer's do), and its parameters; `None` for a phrase, which is
    /// matched on the texts.
    pub(crate) fn rows_in(&self, hours: Hours) -> Option<(String, Vec<Value>)> {
        let Needle::Word(words) = self else {
            return None;
        };
        let (rows, params) = matched(words, hours, Rows::Repeated);
        Some((format!("SELECT row_number FROM ({rows})"), params))
    }

    /// A query of the row numbers whose own texts match (a case-insensitive substring, the
    /// user's `%` and `_` literal), reading the events as `src`, and its parameters.
    pub(crate) fn own_rows(&self) -> (String, Vec<Value>) {
        match self {
            Needle::Word(words) => words.rows(),
            Needle::Phrase { text, runs } => {
                let escaped = text
                    .replace('\\', r"\\")
                    .replace('%', r"\%")
                    .replace('_', r"\_");
                let pattern = Value::Text(format!("%{escaped}%"));
                let matches = r"(src.agent_draft ILIKE ? ESCAPE '\' OR src.suggestion_used ILIKE ? ESCAPE '\')";
                let Some((first, others)) = runs.split_first() else {
                    // Nothing to look up (only punctuation or spaces): every text is read.
                    return (
                        format!("SELECT row_number FROM src WHERE {matches}"),
                        vec![pattern.clone(), pattern],
                    );
                };
                // The first run selects the candidates, each other run narrows them.
                let (candidates, mut params) = first.rows();
                let mut narrowed = String::new();
                for run in others {
                    let (rows, rows_params) = run.rows();
                    narrowed.push_str(&format!(" AND row_number IN ({rows})"));
                    params.extend(rows_params);
                }
                params.extend([pattern.clone(), pattern]);
                // The texts of the candidates only: the match refers to the candidate's row
                // (always true), so DuckDB cannot push it into the scan of every text.
                let sql = format!(
                    "SELECT candidate.row_number
                     FROM (SELECT row_number FROM ({candidates}) WHERE TRUE{narrowed}) candidate
                     JOIN src ON src.row_number = candidate.row_number
                     WHERE CASE WHEN candidate.row_number >= 0 THEN {matches} END"
                );
                (sql, params)
            }
        }
    }
}

/// Rows whose words one pass gathers and sorts: about twenty words a row, held in memory
/// (a rebuild's chunk of 500,000 rows spilled past what a small disk had left).
const ROWS_PER_PASS: i64 = 100_000;

/// Adds the words of the rows with ids in `[start, end)`, in word order per pass of
/// `ROWS_PER_PASS` rows, and the new ones among them to the vocabulary (inside the
/// caller's transaction).
pub(crate) fn add_range(
    conn: &Connection,
    source: &str,
    start: i64,
    end: i64,
) -> duckdb::Result<()> {
    let last: Option<i64> = conn.query_row(
        &format!("SELECT max(row_number) FROM ({source}) WHERE row_number >= ? AND row_number < ?"),
        [start, end],
        |row| row.get(0),
    )?;
    let Some(last) = last else {
        return Ok(());
    };
    let mut from = start;
    while from <= last {
        let to = from.saturating_add(ROWS_PER_PASS).min(end);
        add_pass(conn, source, from, to)?;
        from = to;
    }
    Ok(())
}

fn add_pass(conn: &Connection, source: &str, start: i64, end: i64) -> duckdb::Result<()> {
    let words = split("concat_ws(' ', agent_draft, suggestion_used)");
    let hour = hour_of("ts");
    conn.execute(
        &format!(
            "CREATE OR REPLACE TEMP TABLE coachboard_new_words AS
             SELECT unnest({words}) AS word, row_number, {hour} AS hour FROM ({source})
             WHERE row_number >= ? AND row_number < ?
               AND (agent_draft IS NOT NULL OR suggestion_used IS NOT NULL)"
        ),
        [start, end],
    )?;
    conn.execute_batch(&format!(
        "INSERT INTO {WORDS} SELECT word, row_number, hour FROM coachboard_new_words
         ORDER BY word, row_number;
         INSERT INTO {VOCABULARY}
         SELECT DISTINCT word FROM coachboard_new_words new
         WHERE NOT EXISTS (SELECT 1 FROM {VOCABULARY} known WHERE known.word = new.word);
         DROP TABLE coachboard_new_words;"
    ))
}

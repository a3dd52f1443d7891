//! Reads the `coach_events` table as it is. The note's schema (text id, JSON-text
//! `policy_refs`) is used unchanged; other column types a user's file may have are cast to
//! the canonical ones inside queries, never by rewriting the file.

use duckdb::Connection;

pub(crate) const TABLE: &str = "coach_events";

/// The table a new database gets: the note's columns and `offer_id`, no primary key (ids are
/// deduplicated by the API, which keeps appends fast and the file small).
pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS coach_events (
    id              VARCHAR NOT NULL,
    ts              TIMESTAMP NOT NULL,
    event           VARCHAR NOT NULL,
    session_id      VARCHAR,
    agent_draft     VARCHAR,
    suggestion_used VARCHAR,
    policy_refs     VARCHAR,
    latency_ms      INTEGER,
    ab_test_bucket  VARCHAR,
    offer_id        VARCHAR
)";

/// Added to a table in the note's format the first time an event names its offer: a
/// column at the end, which the note's `SELECT *` and named-column queries read unchanged.
pub(crate) const ADD_OFFER_ID: &str = "ALTER TABLE coach_events ADD COLUMN offer_id VARCHAR";

/// The canonical columns: the note's nine in its order, then ours.
pub(crate) const COLUMNS: [&str; 10] = [
    "id",
    "ts",
    "event",
    "session_id",
    "agent_draft",
    "suggestion_used",
    "policy_refs",
    "latency_ms",
    "ab_test_bucket",
    "offer_id",
];

/// The columns of the note's table.
pub(crate) const NOTE_COLUMNS: &[&str] = COLUMNS.split_at(9).0;

/// How to read the table as canonical columns, and which columns a write can fill.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// `SELECT <canonical columns> FROM coach_events`, casts included where needed.
    pub select: String,
    /// The canonical columns the table really has, for the appender.
    pub writable: Vec<&'static str>,
    /// True when every column has the note's type (no casts in the way of pruning).
    pub native: bool,
    /// True when the table is exactly the one `CREATE_TABLE` makes, or the note's (columns,
    /// order, types): batches can then be appended column-wise.
    pub exact: bool,
}

pub(crate) fn ensure_table(conn: &Connection) -> duckdb::Result<()> {
    conn.execute_batch(CREATE_TABLE)
}

/// How to read the table (`None` when there is none yet), or why it cannot be read as
/// coach events.
pub(crate) fn inspect(conn: &Connection) -> Result<Option<Source>, String> {
    let columns = columns(conn).map_err(|error| error.to_string())?;
    if columns.is_empty() {
        return Ok(None);
    }
    let source = source_of(&columns)?;
    // Every column read once: a cast the types allow but the values do not shows now.
    conn.execute_batch(&format!("SELECT * FROM ({}) LIMIT 1", source.select))
        .map_err(|error| format!("its rows cannot be read as coach events: {error}"))?;
    Ok(Some(source))
}

/// The table's columns as (lower-case name, upper-case type), in order.
fn columns(conn: &Connection) -> duckdb::Result<Vec<(String, String)>> {
    let mut statement = conn.prepare(
        "SELECT lower(column_name), upper(data_type) FROM information_schema.columns
         WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
    )?;
    let columns = statement
        .query_map([TABLE], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(columns)
}

fn source_of(columns: &[(String, String)]) -> Result<Source, String> {
    let type_of = |name: &str| {
        columns
            .iter()
            .find(|(column, _)| column == name)
            .map(|(_, data_type)| data_type.as_str())
    };
    for required in ["ts", "event"] {
        if type_of(required).is_none() {
            return Err(format!(
                "table {TABLE} has no `{required}` column, so it is not the note's schema"
            ));
        }
    }
    if let Some(ts) = type_of("ts").filter(|ts| !readable_time(ts)) {
        return Err(format!(
            "column {TABLE}.ts is {ts}, which cannot be read as a time (expected TIMESTAMP, \
             TIMESTAMP WITH TIME ZONE, DATE or VARCHAR)"
        ));
    }
    if let Some(latency) = type_of("latency_ms").filter(|latency| !readable_number(latency)) {
        return Err(format!(
            "column {TABLE}.latency_ms is {latency}, which cannot be read as milliseconds \
             (expected an integer, a floating-point or decimal number, or VARCHAR)"
        ));
    }
    let mut native = true;
    let mut writable = Vec::new();
    let expressions: Vec<String> = COLUMNS
        .iter()
        .map(|&name| {
            let Some(data_type) = type_of(name) else {
                // The note's format has no offer_id: nothing to cast in its absence.
                native &= name == "offer_id";
                return missing_column(name);
            };
            writable.push(name);
            let (expression, is_native) = canonical(name, data_type);
            native &= is_native;
            expression
        })
        .collect();
    let expected = [
        "VARCHAR",
        "TIMESTAMP",
        "VARCHAR",
        "VARCHAR",
        "VARCHAR",
        "VARCHAR",
        "VARCHAR",
        "INTEGER",
        "VARCHAR",
        "VARCHAR",
    ];
    let exact = (columns.len() == COLUMNS.len() || columns.len() == NOTE_COLUMNS.len())
        && columns.iter().zip(COLUMNS.iter().zip(expected)).all(
            |((name, data_type), (want_name, want_type))| {
                name == want_name && data_type == want_type
            },
        );
    Ok(Source {
        // `row_number` (the table's rowid) lets start-up read a large table in chunks.
        select: format!(
            "SELECT {}, rowid AS row_number FROM {TABLE}",
            expressions.join(", ")
        ),
        writable,
        native,
        exact,
    })
}

fn missing_column(name: &str) -> String {
    match name {
        "id" => "CAST(rowid AS VARCHAR) AS id".to_owned(),
        "latency_ms" => "CAST(NULL AS BIGINT) AS latency_ms".to_owned(),
        other => format!("CAST(NULL AS VARCHAR) AS {other}"),
    }
}

/// The expression that reads column `name` of type `data_type` as its canonical type.
fn canonical(name: &str, data_type: &str) -> (String, bool) {
    let quoted = format!("\"{name}\"");
    let is_integer = matches!(
        data_type,
        "TINYINT"
            | "SMALLINT"
            | "INTEGER"
            | "BIGINT"
            | "HUGEINT"
            | "UTINYINT"
            | "USMALLINT"
            | "UINTEGER"
            | "UBIGINT"
    );
    match name {
        "ts" => match data_type {
            "TIMESTAMP" => (quoted, true),
            "VARCHAR" => (format!("TRY_CAST({quoted} AS TIMESTAMP) AS ts"), false),
            _ => (format!("CAST({quoted} AS TIMESTAMP) AS ts"), false),
        },
        "latency_ms" if is_integer => (format!("CAST({quoted} AS BIGINT) AS latency_ms"), true),
        "latency_ms" if data_type == "VARCHAR" => (
            format!("CAST(round(TRY_CAST({quoted} AS DOUBLE)) AS BIGINT) AS latency_ms"),
            false,
        ),
        "latency_ms" => (
            format!("CAST(round({quoted}) AS BIGINT) AS latency_ms"),
            false,
        ),
        "policy_refs" if data_type.ends_with("[]") => (
            format!("CAST(to_json({quoted}) AS VARCHAR) AS policy_refs"),
            false,
        ),
        _ if data_type == "VARCHAR" => (quoted, true),
        _ => (format!("CAST({quoted} AS VARCHAR) AS {name}"), false),
    }
}

/// A single value (not a list, array, struct or map).
fn scalar(data_type: &str) -> bool {
    (!data_type.ends_with(']') && !data_type.contains('(')) || data_type.starts_with("DECIMAL(")
}

fn readable_time(data_type: &str) -> bool {
    scalar(data_type)
        && (data_type.starts_with("TIMESTAMP") || matches!(data_type, "DATE" | "VARCHAR"))
}

fn readable_number(data_type: &str) -> bool {
    scalar(data_type)
        && (data_type.ends_with("INT")
            || data_type.ends_with("INTEGER")
            || data_type.starts_with("DECIMAL")
            || matches!(data_type, "DOUBLE" | "FLOAT" | "REAL" | "VARCHAR"))
}

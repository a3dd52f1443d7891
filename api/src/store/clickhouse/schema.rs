//! The tables on the cluster, created `ON CLUSTER` when missing (never altered; of the
//! derived ones, only a roll-up of a retired layout is ever dropped):
//! the events on each shard (`events_local`, replicated) and `events` over all shards
//! (Distributed, sharded by id so that a re-sent id lands on the shard that has it).
//!
//! ClickHouse 18.16 has no DateTime64: `ts` holds the second (for partitions and the
//! primary key) and `ts_us` the exact time in microseconds since the epoch.

/// The layout this API reads and writes; a table with other columns is refused.
pub(crate) const COLUMNS: &[(&str, &str)] = &[
    ("id", "String"),
    ("ts", "DateTime"),
    ("ts_us", "Int64"),
    ("event", "String"),
    ("session_id", "Nullable(String)"),
    ("agent_draft", "Nullable(String)"),
    ("suggestion_used", "Nullable(String)"),
    ("policy_refs", "Nullable(String)"),
    ("policies", "Array(String)"),
    ("latency_ms", "Nullable(Int64)"),
    ("ab_test_bucket", "Nullable(String)"),
    ("offer_id", "Nullable(String)"),
    ("seq", "UInt64"),
];

pub(crate) const LOCAL: &str = "events_local";
pub(crate) const DISTRIBUTED: &str = "events";

/// The inferred links (`pairing.rs`): the latest version of an outcome's row holds; an empty
/// `offer_id` says the outcome answers no inferred offer any more.
pub(crate) const LINK_COLUMNS: &[(&str, &str)] = &[
    ("outcome_id", "String"),
    ("offer_id", "String"),
    ("session_id", "String"),
    ("version", "UInt64"),
];
pub(crate) const LINKS_LOCAL: &str = "links_local";
pub(crate) const LINKS: &str = "links";

pub(crate) fn create_database(db: &str, cluster: &str) -> String {
    format!("CREATE DATABASE IF NOT EXISTS {db} ON CLUSTER {cluster}")
}

/// Replicated per shard; the ZooKeeper path holds the database so that several databases
/// share a cluster. `ReplacingMergeTree` on (day, id): an id stored twice by a race between
/// two API replicas collapses when parts merge (reads do not wait for that; see README).
pub(crate) fn create_local(db: &str, cluster: &str) -> String {
    let columns = column_list(COLUMNS);
    format!(
        "CREATE TABLE IF NOT EXISTS {db}.{LOCAL} ON CLUSTER {cluster} (
        {columns}
    ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{db}.{LOCAL}', '{{replica}}')
    PARTITION BY toYYYYMM(ts)
    ORDER BY (toDate(ts), id)"
    )
}

pub(crate) fn create_distributed(db: &str, cluster: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {db}.{DISTRIBUTED} ON CLUSTER {cluster} AS {db}.{LOCAL}
    ENGINE = Distributed({cluster}, {db}, {LOCAL}, cityHash64(id))"
    )
}

/// What the link inference reads of each event, ordered by session so that the sessions a
/// write touched are found without a scan: filled by a materialized view from
/// `events_local` on each shard (its SELECT is flat and names exactly these columns: an MV
/// that fails at insert time would leave it behind the events).
pub(crate) const STEP_COLUMNS: &[(&str, &str)] = &[
    ("session_id", "String"),
    ("ts_us", "Int64"),
    ("id", "String"),
    ("seq", "UInt64"),
    ("event", "String"),
    ("offer_id", "Nullable(String)"),
];
pub(crate) const STEPS_LOCAL: &str = "steps_local";
pub(crate) const STEPS: &str = "steps";
const STEPS_VIEW: &str = "steps_view";

/// Outcomes that name their offer, ordered by that offer: which offers are claimed.
pub(crate) const CLAIM_COLUMNS: &[(&str, &str)] = &[("offer_id", "String"), ("id", "String")];
pub(crate) const CLAIMS_LOCAL: &str = "claims_local";
pub(crate) const CLAIMS: &str = "claims";
const CLAIMS_VIEW: &str = "claims_view";

/// Every stored id, ordered by id, so that a write finds the ids stored already by the
/// primary key instead of reading every id of the events (ordered by day): 0.2 s per 1,000
/// ids at 10M events. Filled by a view, and once from the events when created beside them.
pub(crate) const ID_COLUMNS: &[(&str, &str)] = &[("id", "String")];
pub(crate) const IDS_LOCAL: &str = "ids_local";
pub(crate) const IDS: &str = "ids";
const IDS_VIEW: &str = "ids_view";

/// A replicated table on each shard and a Distributed table over them (sharded like the
/// events, since the view writes each row on its event's shard).
fn derived_pair(
    db: &str,
    cluster: &str,
    local: &str,
    distributed: &str,
    columns: &[(&str, &str)],
    order_by: &str,
) -> [String; 2] {
    [
        format!(
            "CREATE TABLE IF NOT EXISTS {db}.{local} ON CLUSTER {cluster} ({})
    ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{db}.{local}', '{{replica}}')
    ORDER BY ({order_by})
    SETTINGS index_granularity = {granularity}",
            column_list(columns),
            // A write looks up its ids (up to 1,000 at a time), each in a granule of its own:
            // small ones (with 1,024 rows, 1,000 ids read 60% of 4M ids).
            granularity = if local == IDS_LOCAL { 128 } else { 8192 },
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {db}.{distributed} ON CLUSTER {cluster} AS {db}.{local}
    ENGINE = Distributed({cluster}, {db}, {local}, cityHash64(id))"
        ),
    ]
}

/// The step, claim and id tables and the views that fill them, in creation order.
pub(crate) fn create_derived(db: &str, cluster: &str) -> Vec<String> {
    let mut statements = Vec::new();
    statements.extend(derived_pair(db, cluster, IDS_LOCAL, IDS, ID_COLUMNS, "id"));
    statements.push(format!(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{IDS_VIEW} ON CLUSTER {cluster}
    TO {db}.{IDS_LOCAL} AS
    SELECT id FROM {db}.{LOCAL}"
    ));
    statements.extend(derived_pair(
        db,
        cluster,
        STEPS_LOCAL,
        STEPS,
        STEP_COLUMNS,
        "session_id, ts_us, id",
    ));
    statements.push(format!(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{STEPS_VIEW} ON CLUSTER {cluster}
    TO {db}.{STEPS_LOCAL} AS
    SELECT assumeNotNull(session_id) AS session_id, ts_us, id, seq, event, offer_id
    FROM {db}.{LOCAL}
    WHERE isNotNull(session_id) AND event IN ('offered', 'accepted', 'edited', 'rejected')"
    ));
    statements.extend(derived_pair(
        db,
        cluster,
        CLAIMS_LOCAL,
        CLAIMS,
        CLAIM_COLUMNS,
        "offer_id, id",
    ));
    statements.push(format!(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{CLAIMS_VIEW} ON CLUSTER {cluster}
    TO {db}.{CLAIMS_LOCAL} AS
    SELECT assumeNotNull(offer_id) AS offer_id, id
    FROM {db}.{LOCAL}
    WHERE isNotNull(offer_id) AND event IN ('accepted', 'edited', 'rejected')"
    ));
    statements
}

/// The hourly roll-up: one row per (hour, bucket, event) with its rows' count, the sum of
/// their positive latencies and, in the nested `latencyMap`, their count per latency bin,
/// summed per bin by ClickHouse as parts merge (a nested table whose name ends in `Map`).
/// A row per bin held ~115 times as many rows (2.0M at 10M events against 17k), and
/// grouping them was most of every plain request's time. `has_bucket` keeps a missing
/// bucket apart from an empty one (the key cannot be Nullable).
pub(crate) const HOURLY_COLUMNS: &[(&str, &str)] = &[
    ("hour", "DateTime"),
    ("has_bucket", "UInt8"),
    ("bucket", "String"),
    ("event", "String"),
    ("n", "UInt64"),
    ("latency_sum", "Int64"),
    ("latencyMap.bin", "Array(Int32)"),
    ("latencyMap.count", "Array(UInt64)"),
];
pub(crate) const HOURLY_LOCAL: &str = "hourly_bins_local";
pub(crate) const HOURLY: &str = "hourly_bins";
const HOURLY_VIEW: &str = "hourly_bins_view";

/// The roll-up of an earlier layout (a row per latency bin), derived from the events like
/// its successor: dropped once that exists (its view first, so no insert feeds it).
pub(crate) const RETIRED_ROLLUP: [&str; 3] = ["hourly_view", "hourly", "hourly_local"];

/// Policy references per (hour, bucket, event, policy).
pub(crate) const HOURLY_POLICY_COLUMNS: &[(&str, &str)] = &[
    ("hour", "DateTime"),
    ("has_bucket", "UInt8"),
    ("bucket", "String"),
    ("event", "String"),
    ("policy", "String"),
    ("n", "UInt64"),
];
pub(crate) const HOURLY_POLICIES_LOCAL: &str = "hourly_policies_local";
pub(crate) const HOURLY_POLICIES: &str = "hourly_policies";
const HOURLY_POLICIES_VIEW: &str = "hourly_policies_view";

/// `histogram::bin_of` of a latency column `lat` already capped (0: none), flat (a view's
/// SELECT may not use a subquery): exact below 256, then 128 bins per power of two, `log2`
/// corrected by one where floating point lands on the wrong side of a power of two.
fn latency_bin(lat: &str) -> String {
    let e0 = format!("toInt64(floor(log2(greatest({lat}, 1))))");
    let e = format!(
        "({e0} - if(bitShiftLeft(toInt64(1), {e0}) > {lat}, 1, 0) \
         + if(bitShiftLeft(toInt64(1), {e0} + 1) <= {lat}, 1, 0))"
    );
    format!(
        "toInt32(if({lat} > 0, if({lat} < 256, {lat}, ({e} - 7) * 128 + bitShiftRight({lat}, {e} - 7)), -1))"
    )
}

/// A positive latency capped like `histogram::bin_of`, else 0.
pub(crate) fn capped_latency() -> String {
    format!(
        "if(ifNull(latency_ms, 0) > 0, least(assumeNotNull(latency_ms), toInt64({})), toInt64(0))",
        crate::histogram::MAX_LATENCY_MS
    )
}

/// The roll-up tables and the views that fill them, in creation order.
pub(crate) fn create_rollups(db: &str, cluster: &str) -> Vec<String> {
    let key = "hour, has_bucket, bucket, event";
    let mut statements = Vec::new();
    for (local, distributed, columns, order) in [
        (HOURLY_LOCAL, HOURLY, HOURLY_COLUMNS, key.to_owned()),
        (
            HOURLY_POLICIES_LOCAL,
            HOURLY_POLICIES,
            HOURLY_POLICY_COLUMNS,
            format!("{key}, policy"),
        ),
    ] {
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {db}.{local} ON CLUSTER {cluster} ({})
    ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{{shard}}/{db}.{local}', '{{replica}}')
    PARTITION BY toYYYYMM(hour)
    ORDER BY ({order})",
            column_list(columns)
        ));
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {db}.{distributed} ON CLUSTER {cluster} AS {db}.{local}
    ENGINE = Distributed({cluster}, {db}, {local}, rand())"
        ));
    }
    statements.push(format!(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{HOURLY_VIEW} ON CLUSTER {cluster}
    TO {db}.{HOURLY_LOCAL} AS {}",
        hourly_select(&format!("{db}.{LOCAL}"))
    ));
    statements.push(format!(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{HOURLY_POLICIES_VIEW} ON CLUSTER {cluster}
    TO {db}.{HOURLY_POLICIES_LOCAL} AS {}",
        hourly_policies_select(&format!("{db}.{LOCAL}"))
    ));
    statements
}

/// The roll-up row of each event in `table` (the view's: flat, a row per event).
pub(crate) fn hourly_select(table: &str) -> String {
    let lat = capped_latency();
    format!(
        "SELECT toStartOfHour(ts) AS hour, toUInt8(isNotNull(ab_test_bucket)) AS has_bucket,
           ifNull(ab_test_bucket, '') AS bucket, event, toUInt64(1) AS n,
           {lat} AS latency_sum, [{bin}] AS `latencyMap.bin`, [toUInt64(1)] AS `latencyMap.count`
    FROM {table}",
        bin = latency_bin(&lat)
    )
}

/// The roll-up rows of the events in `table` already grouped, in the table's column order
/// (a backfill's: a row per group, not per event).
pub(crate) fn hourly_backfill(table: &str) -> String {
    format!(
        "SELECT hour, has_bucket, bucket, event, n, latency_sum, sums.1, sums.2 FROM (
        SELECT hour, has_bucket, bucket, event, sum(n) AS n, sum(latency_sum) AS latency_sum,
               sumMap(`latencyMap.bin`, `latencyMap.count`) AS sums
        FROM ({}) GROUP BY hour, has_bucket, bucket, event
    )",
        hourly_select(table)
    )
}

/// Drops the retired roll-up, view first.
pub(crate) fn drop_retired_rollup(db: &str, cluster: &str) -> Vec<String> {
    RETIRED_ROLLUP
        .iter()
        .map(|table| format!("DROP TABLE IF EXISTS {db}.{table} ON CLUSTER {cluster}"))
        .collect()
}

pub(crate) fn hourly_policies_select(table: &str) -> String {
    format!(
        "SELECT toStartOfHour(ts) AS hour, toUInt8(isNotNull(ab_test_bucket)) AS has_bucket,
           ifNull(ab_test_bucket, '') AS bucket, event, policy, toUInt64(1) AS n
    FROM {table} ARRAY JOIN policies AS policy"
    )
}

/// Hours whose roll-up rows may lack events (`unsettled.rs`): an insert that failed or was
/// sent again may have stored its events without the rows the views derive from them (a
/// block a replica took before it died is stored once; the retry is deduplicated, so the
/// views never see it). Reads take these hours from the events.
pub(crate) const UNSETTLED_COLUMNS: &[(&str, &str)] =
    &[("hour", "DateTime"), ("marked_at", "DateTime")];
pub(crate) const UNSETTLED_LOCAL: &str = "unsettled_local";
pub(crate) const UNSETTLED: &str = "unsettled";

pub(crate) fn create_unsettled(db: &str, cluster: &str) -> [String; 2] {
    [
        format!(
            "CREATE TABLE IF NOT EXISTS {db}.{UNSETTLED_LOCAL} ON CLUSTER {cluster} ({})
    ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{db}.{UNSETTLED_LOCAL}', '{{replica}}')
    ORDER BY hour",
            column_list(UNSETTLED_COLUMNS)
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {db}.{UNSETTLED} ON CLUSTER {cluster} AS {db}.{UNSETTLED_LOCAL}
    ENGINE = Distributed({cluster}, {db}, {UNSETTLED_LOCAL}, rand())"
        ),
    ]
}

/// Derived by the API from `events` (an outcome's row sits on its event's shard), ordered by
/// session (an outcome's session never changes, so its versions still replace each other)
/// so that relinking a session reads only its rows.
pub(crate) fn create_links_local(db: &str, cluster: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {db}.{LINKS_LOCAL} ON CLUSTER {cluster} ({})
    ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{db}.{LINKS_LOCAL}', '{{replica}}', version)
    ORDER BY (session_id, outcome_id)",
        column_list(LINK_COLUMNS)
    )
}

pub(crate) fn create_links(db: &str, cluster: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {db}.{LINKS} ON CLUSTER {cluster} AS {db}.{LINKS_LOCAL}
    ENGINE = Distributed({cluster}, {db}, {LINKS_LOCAL}, cityHash64(outcome_id))"
    )
}

/// Notes pinned to a time (`annotations.rs`), users' data: each change is a new version of
/// the note's row (a deletion too, `deleted = 1`); the latest version holds.
pub(crate) const ANNOTATION_COLUMNS: &[(&str, &str)] = &[
    ("id", "String"),
    ("ts_us", "Int64"),
    ("text", "String"),
    ("deleted", "UInt8"),
    ("version", "UInt64"),
];
pub(crate) const ANNOTATIONS_LOCAL: &str = "annotations_local";
pub(crate) const ANNOTATIONS: &str = "annotations";

pub(crate) fn create_annotations(db: &str, cluster: &str) -> [String; 2] {
    [
        format!(
            "CREATE TABLE IF NOT EXISTS {db}.{ANNOTATIONS_LOCAL} ON CLUSTER {cluster} ({})
    ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{db}.{ANNOTATIONS_LOCAL}', '{{replica}}', version)
    ORDER BY id",
            column_list(ANNOTATION_COLUMNS)
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {db}.{ANNOTATIONS} ON CLUSTER {cluster} AS {db}.{ANNOTATIONS_LOCAL}
    ENGINE = Distributed({cluster}, {db}, {ANNOTATIONS_LOCAL}, cityHash64(id))"
        ),
    ]
}

fn column_list(columns: &[(&str, &str)]) -> String {
    columns
        .iter()
        .map(|(name, kind)| format!("`{name}` {kind}"))
        .collect::<Vec<_>>()
        .join(",\n        ")
}

/// The columns of one table of the database, as `(name, type)`.
pub(crate) const TABLE_COLUMNS: &str =
    "SELECT name, type FROM system.columns WHERE database = ? AND table = ?";

/// Compares a table's columns with `expected` in any order (every statement names its
/// columns): `None` when they match, else what differs.
pub(crate) fn mismatch(expected: &[(&str, &str)], found: &[(String, String)]) -> Option<String> {
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(name, kind)| ((*name).to_owned(), (*kind).to_owned()))
        .collect();
    expected.sort();
    let mut found = found.to_vec();
    found.sort();
    (found != expected).then(|| {
        let show = |columns: &[(String, String)]| {
            columns
                .iter()
                .map(|(name, kind)| format!("{name} {kind}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!("expected ({}), found ({})", show(&expected), show(&found))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_columns_match_and_others_do_not() {
        let ours: Vec<(String, String)> = COLUMNS
            .iter()
            .map(|(name, kind)| ((*name).to_owned(), (*kind).to_owned()))
            .collect();
        assert_eq!(mismatch(COLUMNS, &ours), None);
        let mut other = ours.clone();
        other[1].1 = "String".to_owned();
        assert!(mismatch(COLUMNS, &other).is_some_and(|text| text.contains(", ts String,")));
    }

    #[test]
    fn ddl_names_the_cluster_and_a_path_per_database() {
        let ddl = create_local("coach", "main");
        assert!(ddl.contains("coach.events_local ON CLUSTER main"));
        assert!(ddl.contains("'/clickhouse/tables/{shard}/coach.events_local', '{replica}'"));
    }
}

//! The hourly roll-up kept on disk, so start-up reads a few thousand groups instead of
//! aggregating every event: the same groups the in-memory roll-up is built from (count and
//! latency bins per hour, bucket and event; policy references per hour, bucket, event and
//! policy), computed by the same SQL as any raw query. Derived from `coach_events` and
//! kept in step with the other derived tables (`derive.rs`): the rows each catch-up adds
//! are appended as partial groups, which add up, and folded together now and then.

use duckdb::arrow::array::{Array, Int32Array, Int64Array, StringArray};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::{Connection, params};

use super::{derive, sql};
use crate::rollup::HOUR;
use crate::store::StoredGroup;

pub(crate) const GROUPS: &str = "coachboard_rollup_groups";
pub(crate) const POLICIES: &str = "coachboard_rollup_policies";

pub(crate) const CREATE: &str = "
    -- Derived by coachboard-api from coach_events; safe to drop, rebuilt when missing.
    CREATE TABLE IF NOT EXISTS coachboard_rollup_groups (
        slot BIGINT, bucket VARCHAR, event VARCHAR, bin INTEGER,
        n BIGINT NOT NULL, latency_sum BIGINT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS coachboard_rollup_policies (
        slot BIGINT, bucket VARCHAR, event VARCHAR, policy VARCHAR NOT NULL, n BIGINT NOT NULL
    );";

/// Adds the groups of the rows after row id `after_row` (inside the caller's transaction).
pub(crate) fn add_rows(conn: &Connection, source: &str, after_row: i64) -> duckdb::Result<()> {
    let condition = "row_number > ?";
    for (table, select) in [
        (GROUPS, sql::aggregate(source, condition, true)),
        (POLICIES, sql::policy_counts(source, condition, true)),
    ] {
        conn.execute(
            &format!("INSERT INTO {table} {select}"),
            params![HOUR, after_row],
        )?;
    }
    compact_if_grown(conn)
}

/// Folds partial groups together once the tables have grown to twice their size after the
/// last fold (recorded in the derived state as `rollup`).
fn compact_if_grown(conn: &Connection) -> duckdb::Result<()> {
    if !derive::grown_since_fold(conn, "rollup", GROUPS)? {
        return Ok(());
    }
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE coachboard_folded AS
             SELECT slot, bucket, event, bin, sum(n)::BIGINT AS n,
                    sum(latency_sum)::BIGINT AS latency_sum
             FROM {GROUPS} GROUP BY ALL;
         DELETE FROM {GROUPS};
         INSERT INTO {GROUPS} SELECT * FROM coachboard_folded;
         CREATE OR REPLACE TEMP TABLE coachboard_folded_policies AS
             SELECT slot, bucket, event, policy, sum(n)::BIGINT AS n
             FROM {POLICIES} GROUP BY ALL;
         DELETE FROM {POLICIES};
         INSERT INTO {POLICIES} SELECT * FROM coachboard_folded_policies;
         DROP TABLE coachboard_folded; DROP TABLE coachboard_folded_policies;"
    ))?;
    derive::record_fold(conn, "rollup", GROUPS)
}

/// Sends every group as stored (partial groups of the same key add up in the reader's
/// roll-up). Read as Arrow batches: there are about a hundred latency bins per hour,
/// bucket and event, so this is the bulk of what start-up reads.
pub(crate) fn read(
    conn: &Connection,
    visit: &mut dyn FnMut(StoredGroup<'_>),
) -> duckdb::Result<()> {
    let mut statement = conn.prepare(&format!(
        "SELECT slot, bucket, event, bin, n, latency_sum FROM {GROUPS}"
    ))?;
    // Streamed (a batch at a time, and a failed fetch is an error, not a panic).
    for batch in statement.stream_arrow([])? {
        let batch = batch?;
        let keys = Keys::of(&batch)?;
        let (bin, count, latency_sum) = (
            column::<Int32Array>(&batch, 3)?,
            column::<Int64Array>(&batch, 4)?,
            column::<Int64Array>(&batch, 5)?,
        );
        for row in 0..batch.num_rows() {
            let (slot, bucket, event) = keys.at(row);
            visit(StoredGroup::Latency {
                slot,
                bucket,
                event,
                bin: bin.is_valid(row).then(|| bin.value(row) as u16),
                count: count.value(row) as u64,
                latency_sum: latency_sum.value(row),
            });
        }
    }
    let mut statement = conn.prepare(&format!(
        "SELECT slot, bucket, event, policy, n FROM {POLICIES}"
    ))?;
    for batch in statement.stream_arrow([])? {
        let batch = batch?;
        let keys = Keys::of(&batch)?;
        let (policy, count) = (
            column::<StringArray>(&batch, 3)?,
            column::<Int64Array>(&batch, 4)?,
        );
        for row in 0..batch.num_rows() {
            let (slot, bucket, event) = keys.at(row);
            visit(StoredGroup::Policy {
                slot,
                bucket,
                event,
                policy: policy.value(row),
                count: count.value(row) as u64,
            });
        }
    }
    Ok(())
}

/// The (slot, bucket, event) columns both roll-up tables start with.
struct Keys<'a> {
    slot: &'a Int64Array,
    bucket: &'a StringArray,
    event: &'a StringArray,
}

impl<'a> Keys<'a> {
    fn of(batch: &'a RecordBatch) -> duckdb::Result<Self> {
        Ok(Self {
            slot: column(batch, 0)?,
            bucket: column(batch, 1)?,
            event: column(batch, 2)?,
        })
    }

    fn at(&self, row: usize) -> (Option<i64>, Option<&'a str>, Option<&'a str>) {
        (
            self.slot.is_valid(row).then(|| self.slot.value(row)),
            self.bucket.is_valid(row).then(|| self.bucket.value(row)),
            self.event.is_valid(row).then(|| self.event.value(row)),
        )
    }
}

/// Column `index` of `batch` as the array type its SQL type gives.
fn column<T: 'static>(batch: &RecordBatch, index: usize) -> duckdb::Result<&T> {
    batch
        .column(index)
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| {
            duckdb::Error::InvalidColumnType(
                index,
                batch.schema().field(index).name().clone(),
                duckdb::types::Type::Any,
            )
        })
}

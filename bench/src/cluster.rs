//! The ClickHouse store's figures (`make bench STORE=cluster`): its column beside the DuckDB
//! store's on the same events, and the targets of the scale-out issue.

use std::fmt::Write as _;

use crate::report::{Report, Row, mark};

/// What a query is, for the targets: plain, filtered by a policy, or a text search (which
/// the issue lets be bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Policy,
    Search,
}

fn kind(row: &Row) -> Kind {
    if row.name.contains("q=") {
        Kind::Search
    } else if row.name.contains("policy=") {
        Kind::Policy
    } else {
        Kind::Plain
    }
}

impl Report {
    fn cluster_rows(&self) -> impl Iterator<Item = (&Row, &crate::load::Samples)> {
        self.seed
            .iter()
            .chain(&self.own)
            .filter_map(|row| row.cluster.as_ref().map(|cluster| (row, cluster)))
    }

    /// Every query on both stores, side by side; empty without a cluster.
    pub(crate) fn cluster_table(&self) -> String {
        let mut out = String::new();
        if self.cluster_rows().next().is_none() {
            return out;
        }
        let _ = writeln!(
            out,
            "\n## The same queries on the ClickHouse store (local 2-shard x 2-replica cluster, fresh after a write; at most 30 samples or 20 s each)\n"
        );
        let _ = writeln!(
            out,
            "| query | DuckDB median | ClickHouse median | p95 | samples | ClickHouse / DuckDB |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for (row, cluster) in self.cluster_rows() {
            let _ = writeln!(
                out,
                "| {} | {:.2} ms | {:.2} ms | {:.2} ms | {} | {:.1}x |",
                row.name,
                row.ours.median(),
                cluster.median(),
                cluster.quantile(0.95),
                cluster.0.len(),
                cluster.median() / row.ours.median()
            );
        }
        out
    }

    /// The scale-out issue's speed targets; empty without a cluster.
    pub(crate) fn cluster_targets(&self) -> String {
        let mut out = String::new();
        if self.cluster_rows().next().is_none() {
            return out;
        }
        // At 100M the plain requests may take 300 ms; at 10M (and below) 50 ms.
        let plain_limit = if self.rows >= 100_000_000 {
            300.0
        } else {
            50.0
        };
        out.push_str("\n## Targets of the ClickHouse store\n\n");
        for (wanted, limit, what) in [
            (Kind::Plain, plain_limit, "every plain dashboard request"),
            (Kind::Policy, 200.0, "every policy-filtered request"),
        ] {
            let (slowest, name) = self
                .cluster_rows()
                .filter(|(row, _)| kind(row) == wanted)
                .map(|(row, cluster)| (cluster.median(), row.name.as_str()))
                .fold((0.0, ""), |a, b| if b.0 > a.0 { b } else { a });
            let over = self
                .cluster_rows()
                .filter(|(row, cluster)| kind(row) == wanted && cluster.median() > limit)
                .count();
            let _ = writeln!(
                out,
                "- {} {what} ≤ {limit:.0} ms median: slowest {slowest:.2} ms ({name}); {over} over",
                mark(over == 0)
            );
        }
        let searches = self
            .cluster_rows()
            .filter(|(row, _)| kind(row) == Kind::Search)
            .map(|(row, cluster)| format!("{} {:.0} ms", row.name, cluster.median()))
            .collect::<Vec<_>>();
        if !searches.is_empty() {
            let _ = writeln!(
                out,
                "- text search (no target; may be bounded): {}",
                searches.join(", ")
            );
        }
        if let Some(rate) = self.cluster_batch_ingest {
            let _ = writeln!(
                out,
                "- {} batch ingest ≥ 100,000 events/s: {rate:.0}",
                mark(rate >= 100_000.0)
            );
        }
        out
    }
}

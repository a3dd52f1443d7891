//! Answers of the analytics endpoints, computed from rows the engine feeds (roll-up cells or
//! raw SQL groups alike).

mod accumulate;
mod engine;
mod events;
mod experiment;
mod group_commit;
mod latency;
mod policies;
mod recent;
mod session;
mod suggestions;
mod summary;
mod timeseries;

pub use accumulate::{Accumulate, Aggregate, GroupKey, Totals};
pub use engine::{Engine, Wants, WriteOutcome};
pub use events::{EventsPage, count, events_page};
pub use experiment::experiment;
pub use latency::latency_distribution;
pub use policies::policy_counts;
pub use session::session_detail;
pub use suggestions::{policy_outcomes, rewrite_sizes, suggestion_outcomes};
pub use summary::summary;
pub use timeseries::{TimeseriesError, timeseries};

use crate::store::{Scope, StoreError};

/// Everything about the rows of a scope, over all of its time.
pub fn aggregate(engine: &Engine, scope: &Scope, policies: bool) -> Result<Aggregate, StoreError> {
    let mut aggregate = Aggregate::default();
    let wants = Wants::over_all_time(policies);
    engine.run(scope, wants, &mut aggregate)?;
    Ok(aggregate)
}

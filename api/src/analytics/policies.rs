//! `/analytics/policies`: references per policy, largest first.

use coachboard_contract::PolicyCounts;

use super::{Engine, aggregate};
use crate::store::{Scope, StoreError};

pub fn policy_counts(engine: &Engine, scope: &Scope) -> Result<PolicyCounts, StoreError> {
    let aggregate = aggregate(engine, scope, true)?;
    let mut counts: Vec<(String, u64)> = aggregate.policies.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(PolicyCounts(counts))
}

//! Suggestions on ClickHouse: the inferred links kept in `links` (written by the API after
//! each insert, for the sessions it touched) and each offer's first answer, worked out here
//! from the offers of a scope and the outcomes linked to them. The rules are the DuckDB
//! store's (`duckdb/facts.rs`); the cross-store tests hold them equal.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use coachboard_contract::diff::rewrite_percent;
use serde::{Deserialize, Serialize};

use super::links::{Step, infer};
use super::sql::{self, Arg, Statement};
use super::unsettled::{self, Source};
use super::{ClickHouseStore, schema};
use crate::histogram::{MAX_LATENCY_MS, bin_of};
use crate::store::{PolicyOutcomeRow, RewriteRow, Scope, StoreError, SuggestionRow};

const OUTCOMES: &str = "('accepted', 'edited', 'rejected')";

/// A row of `links`: `offer_id` empty when the outcome no longer answers an inferred offer.
#[derive(Debug, Clone, clickhouse::Row, Serialize, Deserialize)]
pub(crate) struct LinkRow {
    pub outcome_id: String,
    pub offer_id: String,
    pub session_id: String,
    pub version: u64,
}

/// A row of `steps`: read for the inference, written again by `unsettled.rs`.
#[derive(Debug, Clone, clickhouse::Row, Serialize, Deserialize)]
pub(crate) struct StepRow {
    pub id: String,
    pub session_id: String,
    pub ts_us: i64,
    pub seq: u64,
    pub event: String,
    pub offer_id: Option<String>,
}

/// After an insert: infers again the links of every session the written rows touched
/// (their own, and those of offers they name) and writes the links that changed. The
/// written rows are taken as they are, not only as read back: a replica that a failover
/// sends the reads to may not have them yet.
pub(crate) fn relink(store: &ClickHouseStore, written: &[Source]) -> Result<(), StoreError> {
    let mut sessions: HashSet<String> = HashSet::new();
    let mut named_offers: HashSet<String> = HashSet::new();
    for row in written {
        sessions.extend(row.session_id.clone());
        named_offers.extend(row.offer_id.clone());
    }
    let sessions: Vec<String> = sessions.into_iter().collect();
    let mut offers_seen: HashSet<String> = HashSet::new();
    for chunk in sessions.chunks(5_000) {
        offers_seen.extend(relink_sessions(store, chunk, written)?);
    }
    // An outcome may name an offer of another session: that session's inference changes too
    // (the offer is claimed now). Usually the offer was among the sessions just relinked.
    let elsewhere: Vec<String> = named_offers
        .into_iter()
        .filter(|offer| !offers_seen.contains(offer))
        .collect();
    let mut others: HashSet<String> = HashSet::new();
    for chunk in elsewhere.chunks(1_000) {
        let (marks, args) = sql::text_list(chunk);
        let found: Vec<String> = store.fetch(Statement {
            sql: format!(
                "SELECT DISTINCT session_id FROM steps WHERE event = 'offered' AND id IN ({marks})"
            ),
            args,
        })?;
        others.extend(
            found
                .into_iter()
                .filter(|session| !sessions.contains(session)),
        );
    }
    let others: Vec<String> = others.into_iter().collect();
    for chunk in others.chunks(5_000) {
        relink_sessions(store, chunk, written)?;
    }
    Ok(())
}

/// Relinks the outcomes of `sessions`, whose steps are those stored and those `written`;
/// returns the offers those sessions hold.
fn relink_sessions(
    store: &ClickHouseStore,
    sessions: &[String],
    written: &[Source],
) -> Result<Vec<String>, StoreError> {
    let (marks, args) = sql::text_list(sessions);
    // `steps` and `claims` are ordered by session and by offer: no scan of the events.
    let mut rows: Vec<StepRow> = store.fetch(Statement {
        sql: format!(
            "SELECT id, session_id, ts_us, seq, event, offer_id FROM steps
             WHERE session_id IN ({marks})"
        ),
        args: args.clone(),
    })?;
    let chunk: HashSet<&str> = sessions.iter().map(String::as_str).collect();
    rows.extend(
        written
            .iter()
            .filter_map(Source::step)
            .filter(|step| chunk.contains(step.session_id.as_str())),
    );
    // A step read back and written, or written again after a failed insert
    // (`unsettled.rs`), is there twice.
    let rows = unsettled::once_each(rows, |row| row.id.as_str());
    // Offers of these sessions that some outcome (in any session) names.
    let offers: Vec<String> = rows
        .iter()
        .filter(|row| row.event == "offered")
        .map(|row| row.id.clone())
        .collect();
    let mut claimed: HashSet<String> = written
        .iter()
        .filter_map(Source::claim)
        .map(str::to_owned)
        .collect();
    for chunk in offers.chunks(5_000) {
        let (offer_marks, offer_args) = sql::text_list(chunk);
        claimed.extend(store.fetch::<String>(Statement {
            sql: format!("SELECT DISTINCT offer_id FROM claims WHERE offer_id IN ({offer_marks})"),
            args: offer_args,
        })?);
    }
    let session_of: HashMap<String, String> = rows
        .iter()
        .filter(|row| row.event != "offered")
        .map(|row| (row.id.clone(), row.session_id.clone()))
        .collect();
    let steps = rows
        .into_iter()
        .map(|row| Step {
            offered: row.event == "offered",
            id: row.id,
            session_id: row.session_id,
            ts_us: row.ts_us,
            seq: row.seq,
            offer_id: row.offer_id,
        })
        .collect();
    let inferred: HashMap<String, String> = infer(steps, &claimed).into_iter().collect();
    let kept: Vec<LinkRow> = store.fetch(Statement {
        sql: format!(
            "SELECT outcome_id, offer_id, session_id, version FROM links FINAL
             WHERE session_id IN ({marks}) AND offer_id != ''"
        ),
        args,
    })?;
    let kept: HashMap<String, LinkRow> = kept
        .into_iter()
        .map(|row| (row.outcome_id.clone(), row))
        .collect();
    let version = store.next_seq(1);
    // New or changed links, and a blank row for each link that no longer holds.
    let mut changes: Vec<LinkRow> = inferred
        .iter()
        .filter(|(outcome, offer)| kept.get(*outcome).is_none_or(|row| &row.offer_id != *offer))
        .filter_map(|(outcome, offer)| {
            Some(LinkRow {
                outcome_id: outcome.clone(),
                offer_id: offer.clone(),
                session_id: session_of.get(outcome)?.clone(),
                version,
            })
        })
        .collect();
    changes.extend(
        kept.values()
            .filter(|row| !inferred.contains_key(&row.outcome_id))
            .map(|row| LinkRow {
                offer_id: String::new(),
                version,
                ..row.clone()
            }),
    );
    if !changes.is_empty() {
        store.insert_rows(schema::LINKS, changes)?;
    }
    Ok(offers)
}

/// An offer of a scope.
#[derive(Debug, Clone, clickhouse::Row, Deserialize)]
struct OfferFields {
    id: String,
    ts_us: i64,
    ab_test_bucket: Option<String>,
    session_id: Option<String>,
    policies: Vec<String>,
}

/// An answer to one of the offers.
#[derive(Debug, Clone, clickhouse::Row, Deserialize)]
struct AnswerFields {
    id: String,
    ts_us: i64,
    event: String,
    offer_id: String,
}

/// What became of one offer.
struct Fact {
    offer: OfferFields,
    /// First answer: its type and whether its link was inferred.
    first: Option<(String, bool)>,
    answers: u64,
    decision_bin: Option<u16>,
}

/// The offers a scope covers: its time, bucket and session on the offer's own columns, its
/// policy and text in what the offer says. `event` does not apply to suggestions.
fn offer_scope(scope: &Scope) -> Statement {
    let mut conditions = sql::conditions(&Scope {
        event: None,
        rows: None,
        policy: None,
        policies: None,
        text: None,
        latency: None,
        ..scope.clone()
    });
    // What the offer itself says: the same test as every other query's.
    if let Some(offer) = sql::offer_conditions(scope) {
        conditions.sql = format!("{} AND {}", conditions.sql, offer.sql);
        conditions.args.extend(offer.args);
    }
    conditions.sql = format!("event = 'offered' AND {}", conditions.sql);
    conditions
}

fn facts(store: &ClickHouseStore, scope: &Scope) -> Result<Vec<Fact>, StoreError> {
    let picked = offer_scope(scope);
    let offers: Vec<OfferFields> = store.fetch(Statement {
        sql: format!(
            "SELECT id, ts_us, ab_test_bucket, session_id, policies FROM events WHERE {}",
            picked.sql
        ),
        args: picked.args.clone(),
    })?;
    // Answers named by their outcome, then inferred ones, each with its link kind.
    let named: Vec<AnswerFields> = store.fetch(Statement {
        sql: format!(
            "SELECT id, ts_us, event, assumeNotNull(offer_id) FROM events
             WHERE event IN {OUTCOMES} AND offer_id GLOBAL IN (SELECT id FROM events WHERE {})",
            picked.sql
        ),
        args: picked.args.clone(),
    })?;
    #[derive(Debug, Clone, clickhouse::Row, Deserialize)]
    struct Link {
        outcome_id: String,
        offer_id: String,
    }
    let links_of_picked = format!(
        "SELECT outcome_id, offer_id FROM links FINAL
         WHERE offer_id GLOBAL IN (SELECT id FROM events WHERE {})",
        picked.sql
    );
    let links: Vec<Link> = store.fetch(Statement {
        sql: links_of_picked.clone(),
        args: picked.args.clone(),
    })?;
    #[derive(Debug, Clone, clickhouse::Row, Deserialize)]
    struct Outcome {
        id: String,
        ts_us: i64,
        event: String,
    }
    let outcomes: Vec<Outcome> = store.fetch(Statement {
        sql: format!(
            "SELECT id, ts_us, event FROM events WHERE event IN {OUTCOMES}
             AND id GLOBAL IN (SELECT outcome_id FROM ({links_of_picked}))"
        ),
        args: picked.args.clone(),
    })?;
    let offer_of: HashMap<String, String> = links
        .into_iter()
        .map(|link| (link.outcome_id, link.offer_id))
        .collect();
    let answers: Vec<(AnswerFields, bool)> = named
        .into_iter()
        .map(|answer| (answer, false))
        .chain(outcomes.into_iter().filter_map(|outcome| {
            let offer_id = offer_of.get(&outcome.id)?.clone();
            Some((
                AnswerFields {
                    id: outcome.id,
                    ts_us: outcome.ts_us,
                    event: outcome.event,
                    offer_id,
                },
                true,
            ))
        }))
        .collect();
    let mut by_offer: HashMap<&str, Vec<&(AnswerFields, bool)>> = HashMap::new();
    for answer in &answers {
        by_offer
            .entry(answer.0.offer_id.as_str())
            .or_default()
            .push(answer);
    }
    Ok(offers
        .into_iter()
        .map(|offer| {
            let mine = by_offer.get(offer.id.as_str());
            let first = mine.and_then(|mine| {
                mine.iter()
                    .min_by(|a, b| (a.0.ts_us, &a.0.id).cmp(&(b.0.ts_us, &b.0.id)))
                    .copied()
            });
            let decision_bin = first.and_then(|(answer, _)| {
                (answer.ts_us > offer.ts_us).then(|| {
                    let ms = (answer.ts_us.div_euclid(1000) - offer.ts_us.div_euclid(1000))
                        .min(MAX_LATENCY_MS);
                    bin_of(ms).unwrap_or(0)
                })
            });
            Fact {
                first: first.map(|(answer, inferred)| (answer.event.clone(), *inferred)),
                answers: mine.map_or(0, |mine| mine.len() as u64),
                decision_bin,
                offer,
            }
        })
        .collect())
}

pub(crate) fn suggestions(
    store: &ClickHouseStore,
    scope: &Scope,
    unanswered_before: NaiveDateTime,
) -> Result<Vec<SuggestionRow>, StoreError> {
    let cutoff = sql::micros(unanswered_before);
    let mut groups: HashMap<SuggestionRow, u64> = HashMap::new();
    for fact in facts(store, scope)? {
        let key = SuggestionRow {
            bucket: fact.offer.ab_test_bucket.clone(),
            outcome: fact.first.as_ref().map(|(outcome, _)| outcome.clone()),
            inferred: fact.first.as_ref().is_some_and(|(_, inferred)| *inferred),
            answered_again: fact.answers > 1,
            unanswered: fact.first.is_none() && fact.offer.ts_us < cutoff,
            decision_bin: fact.decision_bin,
            touches_policy: !fact.offer.policies.is_empty(),
            count: 0,
        };
        *groups.entry(key).or_default() += 1;
    }
    Ok(groups
        .into_iter()
        .map(|(row, count)| SuggestionRow { count, ..row })
        .collect())
}

pub(crate) fn policy_outcomes(
    store: &ClickHouseStore,
    scope: &Scope,
) -> Result<Vec<PolicyOutcomeRow>, StoreError> {
    let mut groups: HashMap<(String, Option<String>), u64> = HashMap::new();
    for fact in facts(store, scope)? {
        let outcome = fact.first.map(|(outcome, _)| outcome);
        for policy in fact.offer.policies {
            *groups.entry((policy, outcome.clone())).or_default() += 1;
        }
    }
    Ok(groups
        .into_iter()
        .map(|((policy, outcome), count)| PolicyOutcomeRow {
            policy,
            outcome,
            count,
        })
        .collect())
}

pub(crate) fn rewrite_outcomes(
    store: &ClickHouseStore,
    scope: &Scope,
) -> Result<Vec<RewriteRow>, StoreError> {
    #[derive(Debug, Clone, clickhouse::Row, Deserialize)]
    struct Texts {
        id: String,
        agent_draft: Option<String>,
        suggestion_used: Option<String>,
    }
    let picked = offer_scope(scope);
    let texts: Vec<Texts> = store.fetch(Statement {
        sql: format!(
            "SELECT id, agent_draft, suggestion_used FROM events WHERE {}",
            picked.sql
        ),
        args: picked.args,
    })?;
    let bands: HashMap<String, u8> = texts
        .into_iter()
        .filter_map(|offer| {
            let percent = rewrite_percent(
                offer.agent_draft.as_deref()?,
                offer.suggestion_used.as_deref()?,
            )?;
            Some((offer.id, (percent / 10.0).floor().clamp(0.0, 9.0) as u8))
        })
        .collect();
    let mut groups: HashMap<(Option<u8>, Option<String>), u64> = HashMap::new();
    for fact in facts(store, scope)? {
        let band = bands.get(&fact.offer.id).copied();
        *groups
            .entry((band, fact.first.map(|(outcome, _)| outcome)))
            .or_default() += 1;
    }
    Ok(groups
        .into_iter()
        .map(|((band, outcome), count)| RewriteRow {
            band,
            outcome,
            count,
        })
        .collect())
}

pub(crate) fn multiple_exposure(
    store: &ClickHouseStore,
    scope: &Scope,
) -> Result<(u64, u64), StoreError> {
    let mut buckets: HashMap<String, HashSet<String>> = HashMap::new();
    for fact in facts(store, scope)? {
        if let (Some(session), Some(bucket)) = (fact.offer.session_id, fact.offer.ab_test_bucket) {
            buckets.entry(session).or_default().insert(bucket);
        }
    }
    let twice = buckets.values().filter(|set| set.len() > 1).count();
    Ok((buckets.len() as u64, twice as u64))
}

pub(crate) fn session_links(
    store: &ClickHouseStore,
    session_id: &str,
) -> Result<Vec<(String, String, bool)>, StoreError> {
    #[derive(Debug, Clone, clickhouse::Row, Deserialize)]
    struct Link {
        outcome_id: String,
        offer_id: String,
    }
    let named: Vec<Link> = store.fetch(Statement {
        sql: format!(
            "SELECT id, assumeNotNull(offer_id) FROM events
             WHERE session_id = ? AND event IN {OUTCOMES} AND offer_id IS NOT NULL"
        ),
        args: vec![Arg::Text(session_id.to_owned())],
    })?;
    let inferred: Vec<Link> = store.fetch(Statement {
        sql: "SELECT outcome_id, offer_id FROM links FINAL WHERE session_id = ? AND offer_id != ''"
            .to_owned(),
        args: vec![Arg::Text(session_id.to_owned())],
    })?;
    Ok(named
        .into_iter()
        .map(|link| (link.outcome_id, link.offer_id, false))
        .chain(
            inferred
                .into_iter()
                .map(|link| (link.outcome_id, link.offer_id, true)),
        )
        .collect())
}

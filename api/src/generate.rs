//! Deterministic demo data: sessions of suggestions over 90 days with a daily and weekly
//! rhythm, each suggestion offered then (mostly) accepted, edited or rejected, bucket B accepting a
//! few points more than A, 0–3 policy refs of skewed popularity, log-normal latency, and
//! drafts that read like support replies. The same seed gives the same events.

use chrono::{Datelike, Duration, NaiveDateTime, Timelike};
use coachboard_contract::diff::rewrite_percent;

use crate::store::StoredEvent;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoSpec {
    pub rows: u64,
    pub seed: u64,
    /// Events fall in the `days` before this instant.
    pub end: NaiveDateTime,
    pub days: i64,
}

/// Policies with a skewed popularity: weights fall off like 1/rank.
pub const POLICIES: [&str; 12] = [
    "PII-01",
    "TONE-02",
    "REFUND-03",
    "ESCALATE-04",
    "SECURITY-05",
    "PROMISE-06",
    "PRIVACY-07",
    "DISCOUNT-08",
    "SLA-09",
    "LEGAL-10",
    "BRAND-11",
    "ACCESS-12",
];

/// A small, fast, seedable generator (SplitMix64): reproducible across platforms and
/// versions, unlike library RNGs whose streams may change.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Relative traffic of an hour: busy afternoons, quiet nights, slower weekends, and a
/// gentle growth over the period.
fn traffic(at: NaiveDateTime, progress: f64) -> f64 {
    let hour = f64::from(at.hour()) + 0.5;
    let daily = 0.15
        + (-((hour - 14.0) / 4.5).powi(2)).exp()
        + 0.35 * (-((hour - 10.0) / 2.0).powi(2)).exp();
    let weekly = if at.weekday().num_days_from_monday() >= 5 {
        0.45
    } else {
        1.0
    };
    daily * weekly * (0.8 + 0.4 * progress)
}

/// Calls `emit` with `spec.rows` events in time order.
///
/// Each hour is generated from its own seed, so hours are independent: worker threads
/// make them in parallel (hour `h` by worker `h % workers`) and hand them over in order
/// through bounded channels, which keeps memory to a few hours of events.
pub fn generate(spec: &DemoSpec, mut emit: impl FnMut(StoredEvent)) {
    let plan = Plan::new(spec);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let hours = plan.quotas.len();
    std::thread::scope(|scope| {
        let receivers: Vec<_> = (0..workers)
            .map(|worker| {
                let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<StoredEvent>>(2);
                let plan = &plan;
                scope.spawn(move || {
                    for hour in (worker..hours).step_by(workers) {
                        if sender.send(plan.hour(hour)).is_err() {
                            return;
                        }
                    }
                });
                receiver
            })
            .collect();
        for hour in 0..hours {
            let Ok(events) = receivers[hour % workers].recv() else {
                return;
            };
            for event in events {
                emit(event);
            }
        }
    });
}

/// How many events each hour gets, and what each hour's events are made from.
struct Plan {
    seed: u64,
    start: NaiveDateTime,
    quotas: Vec<u64>,
}

impl Plan {
    fn new(spec: &DemoSpec) -> Self {
        let mut rng = Rng(spec.seed);
        let hours = (spec.days * 24).max(1);
        let start = spec.end - Duration::hours(hours);
        let weights: Vec<f64> = (0..hours)
            .map(|h| {
                traffic(start + Duration::hours(h), h as f64 / hours as f64)
                    * (0.85 + 0.3 * rng.unit())
            })
            .collect();
        Self {
            seed: spec.seed,
            start,
            quotas: apportion(spec.rows, &weights),
        }
    }

    /// The events of one hour, in time order: whole sessions until its quota is met.
    fn hour(&self, hour: usize) -> Vec<StoredEvent> {
        let quota = self.quotas[hour];
        // Every hour its own stream: SplitMix64 seeded with the seed and the hour mixed.
        let mut rng =
            Rng(Rng(self.seed ^ (hour as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)).next());
        let hour_start = self.start + Duration::hours(hour as i64);
        let mut events = Vec::with_capacity(quota as usize);
        let mut session_number: u64 = 0;
        while (events.len() as u64) < quota {
            session_number += 1;
            let remaining = quota - events.len() as u64;
            // Unique across hours: the hour in the high bits.
            let session_id = format!("sess-{:x}-{session_number:x}", hour);
            session(&mut rng, session_id, hour_start, remaining, &mut events);
        }
        events.sort_by(|a: &StoredEvent, b| a.ts.cmp(&b.ts).then_with(|| a.id.cmp(&b.id)));
        events
    }
}

/// Splits `total` over the weights (largest remainders), so the counts add up exactly.
fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut short = total - counts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    for index in order {
        if short == 0 {
            break;
        }
        counts[index] += 1;
        short -= 1;
    }
    counts
}

/// One agent's session: a few suggestions, each offered then (mostly) answered.
fn session(
    rng: &mut Rng,
    session_id: String,
    hour_start: NaiveDateTime,
    budget: u64,
    out: &mut Vec<StoredEvent>,
) {
    let bucket = if rng.unit() < 0.5 { "A" } else { "B" };
    let suggestions = 1 + rng.below(4);
    let mut at = hour_start + Duration::milliseconds((rng.unit() * 3_300_000.0) as i64);
    let hour_end = hour_start + Duration::hours(1) - Duration::milliseconds(1);
    let mut written = 0;
    for _ in 0..suggestions {
        if written >= budget {
            break;
        }
        let draft = draft(rng);
        let suggestion = improve(rng, &draft);
        let policies = policy_refs(rng);
        // Bucket B (the newer prompt) is a little slower and accepted a little more often.
        let median_ms = if bucket == "B" { 455.0 } else { 430.0 };
        let latency = (median_ms * (0.45 * rng.normal()).exp())
            .round()
            .clamp(40.0, 30_000.0) as i64;
        let offer_id = event_id(rng);
        let offered = StoredEvent {
            id: offer_id.clone(),
            ts: at.min(hour_end),
            event: "offered".to_owned(),
            session_id: Some(session_id.clone()),
            agent_draft: Some(draft.clone()),
            // The suggestion as offered; its outcome carries the text the agent sent.
            suggestion_used: Some(suggestion.clone()),
            policy_refs: Some(policies),
            latency_ms: Some(latency),
            ab_test_bucket: Some(bucket.to_owned()),
            offer_id: None,
        };
        out.push(offered);
        written += 1;
        at += Duration::milliseconds(latency + 2_000 + (rng.unit() * 25_000.0) as i64);
        // A few suggestions are never answered (the agent closed the ticket), and some
        // coach clients do not say which offer an outcome answers: the API infers it.
        let answered = rng.unit() >= 0.05;
        let names_offer = rng.unit() < 0.85;
        if written >= budget || !answered {
            continue;
        }
        let (accept, edit) = if bucket == "B" {
            (0.40, 0.17)
        } else {
            (0.36, 0.16)
        };
        // Agents take small rewrites of their draft more readily than large ones.
        let rewrite = rewrite_percent(&draft, &suggestion).unwrap_or(0.0);
        let accept = accept * (1.3 - (rewrite / 100.0).clamp(0.0, 1.0) * 1.2).clamp(0.5, 1.3);
        let roll = rng.unit();
        let (kind, used) = if roll < accept {
            ("accepted", Some(suggestion))
        } else if roll < accept + edit {
            ("edited", Some(edit_words(rng, &suggestion)))
        } else {
            ("rejected", None)
        };
        out.push(StoredEvent {
            id: event_id(rng),
            ts: at.min(hour_end),
            event: kind.to_owned(),
            session_id: Some(session_id.clone()),
            agent_draft: Some(draft),
            suggestion_used: used,
            policy_refs: Some("[]".to_owned()),
            latency_ms: Some(0),
            ab_test_bucket: Some(bucket.to_owned()),
            offer_id: names_offer.then_some(offer_id),
        });
        written += 1;
        at += Duration::milliseconds(20_000 + (rng.unit() * 120_000.0) as i64);
    }
}

fn event_id(rng: &mut Rng) -> String {
    let (a, b) = (rng.next(), rng.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        (b >> 48) & 0x3FFF | 0x8000,
        b & 0xFFFF_FFFF_FFFF
    )
}

fn policy_refs(rng: &mut Rng) -> String {
    let roll = rng.unit();
    let how_many = if roll < 0.55 {
        0
    } else if roll < 0.83 {
        1
    } else if roll < 0.95 {
        2
    } else {
        3
    };
    let harmonic: f64 = (1..=POLICIES.len()).map(|rank| 1.0 / rank as f64).sum();
    let mut chosen: Vec<&str> = Vec::new();
    while chosen.len() < how_many {
        let mut target = rng.unit() * harmonic;
        let policy = POLICIES
            .iter()
            .enumerate()
            .find(|(rank, _)| {
                target -= 1.0 / (*rank + 1) as f64;
                target <= 0.0
            })
            .map_or(POLICIES[0], |(_, policy)| *policy);
        if !chosen.contains(&policy) {
            chosen.push(policy);
        }
    }
    serde_json::to_string(&chosen).unwrap_or_else(|_| "[]".to_owned())
}

const GREETINGS: [&str; 5] = [
    "Hi",
    "Hello",
    "Hi there",
    "Dear customer",
    "Thanks for reaching out",
];
const NAMES: [&str; 8] = [
    "Sam", "Priya", "Jonas", "Maria", "Chen", "Amara", "Lukas", "Sofia",
];
const ISSUES: [&str; 10] = [
    "i checked your order {n} and it shipped yesterday",
    "your refund for order {n} is being processed",
    "i reset the password on your account, try logging in again",
    "the charge on your card was a temporary authorisation",
    "we can replace the damaged item from order {n}",
    "your subscription renews on the 1st, you can cancel anytime before",
    "i escalated ticket {n} to our billing team",
    "the delay on order {n} is due to a carrier backlog",
    "you can change the delivery address until the parcel leaves our warehouse",
    "the discount code expired but i can apply a new one",
];
const CLOSINGS: [&str; 5] = [
    "let me know if theres anything else",
    "thanks for your patience",
    "have a great day",
    "sorry for the trouble",
    "reply here if it doesnt work",
];

fn draft(rng: &mut Rng) -> String {
    let order = 100_000 + rng.below(900_000);
    let issue = rng.pick(&ISSUES).replace("{n}", &format!("#{order}"));
    format!(
        "{} {}, {}. {}",
        rng.pick(&GREETINGS),
        rng.pick(&NAMES),
        issue,
        rng.pick(&CLOSINGS)
    )
}

/// The coach's version of a draft: capitalised, punctuated, a little warmer.
fn improve(rng: &mut Rng, draft: &str) -> String {
    let mut text = draft
        .replace(" i ", " I ")
        .replace("theres", "there's")
        .replace("doesnt", "doesn't");
    if let Some((head, tail)) = text.split_once(", ") {
        let mut tail_chars = tail.chars();
        let capitalised: String = tail_chars
            .next()
            .map(|c| c.to_uppercase().collect::<String>() + tail_chars.as_str())
            .unwrap_or_default();
        text = format!("{head}, {capitalised}");
    }
    let extras = [
        " I completely understand how frustrating this is.",
        " I'm happy to help with this.",
        "",
        " Thank you for your patience while we sorted this out.",
    ];
    let extra = extras[rng.below(extras.len())];
    match text.rfind(". ") {
        Some(at) => format!("{}.{extra}{}.", &text[..at], &text[at + 1..]),
        None => format!("{text}."),
    }
}

/// An agent's edit of a suggestion: a word or two swapped.
fn edit_words(rng: &mut Rng, suggestion: &str) -> String {
    let swaps = [
        ("happy", "glad"),
        ("completely", "fully"),
        ("frustrating", "annoying"),
        ("Thank you", "Thanks"),
        ("processed", "handled"),
        ("great", "good"),
        ("trouble", "inconvenience"),
    ];
    let mut edited = suggestion.to_owned();
    let start = rng.below(swaps.len());
    let mut changed = 0;
    for offset in 0..swaps.len() {
        let (from, to) = swaps[(start + offset) % swaps.len()];
        if edited.contains(from) {
            edited = edited.replacen(from, to, 1);
            changed += 1;
            if changed == 2 {
                break;
            }
        }
    }
    if changed == 0 {
        edited.push_str(" Best regards.");
    }
    edited
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rows: u64) -> DemoSpec {
        DemoSpec {
            rows,
            seed: 7,
            end: chrono::NaiveDate::from_ymd_opt(2025, 10, 23)
                .and_then(|day| day.and_hms_opt(12, 0, 0))
                .expect("valid"),
            days: 90,
        }
    }

    fn collect(rows: u64) -> Vec<StoredEvent> {
        let mut events = Vec::new();
        generate(&spec(rows), |event| events.push(event));
        events
    }

    #[test]
    fn makes_exactly_the_rows_asked_in_time_order() {
        let events = collect(5_000);
        assert_eq!(events.len(), 5_000);
        assert!(events.windows(2).all(|pair| pair[0].ts <= pair[1].ts));
        let first = events.first().unwrap().ts;
        let last = events.last().unwrap().ts;
        assert!(first >= spec(1).end - Duration::days(90) && last < spec(1).end);
    }

    #[test]
    fn is_deterministic_and_realistic() {
        let events = collect(20_000);
        assert_eq!(events, collect(20_000));
        let rate = |bucket: &str| {
            let offered = events
                .iter()
                .filter(|e| e.event == "offered" && e.ab_test_bucket.as_deref() == Some(bucket))
                .count() as f64;
            let accepted = events
                .iter()
                .filter(|e| {
                    (e.event == "accepted" || e.event == "edited")
                        && e.ab_test_bucket.as_deref() == Some(bucket)
                })
                .count() as f64;
            accepted / offered
        };
        let lift = rate("B") - rate("A");
        assert!(
            (0.01..0.10).contains(&lift),
            "B accepts a few points more: {lift}"
        );
        let ids: std::collections::HashSet<_> = events.iter().map(|e| &e.id).collect();
        assert_eq!(ids.len(), events.len());
        let pii = events
            .iter()
            .filter(|e| {
                e.policy_refs
                    .as_deref()
                    .is_some_and(|p| p.contains("PII-01"))
            })
            .count();
        let access = events
            .iter()
            .filter(|e| {
                e.policy_refs
                    .as_deref()
                    .is_some_and(|p| p.contains("ACCESS-12"))
            })
            .count();
        assert!(pii > 4 * access, "popularity is skewed: {pii} vs {access}");
    }
}

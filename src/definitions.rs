//! What each card and chart measures, in words: shown on hover and focus of its (i) (pure).

/// The definition of a KPI card (by its `data-kpi` key) or a panel (by its id).
pub fn definition(key: &str) -> Option<&'static str> {
    Some(match key {
        "total_events" => {
            "Every event stored in the range: offered, accepted, edited and rejected, each counted once by its id."
        }
        "suggestions_offered" => "Events of type offered: suggestions the coach showed an agent.",
        "accept_rate" => {
            "Accepted plus edited events divided by offered events in the same range, as the note's reports compute it. An edited suggestion counts as used."
        }
        "avg_latency_ms" => {
            "Mean time the coach took to produce a suggestion, over events that carry a latency. p95: 95% of suggestions took at most this long (from a histogram, within 1%)."
        }
        "decision_time" => {
            "Median time from an offer to the agent's answer (accepted, edited or rejected). p95: 95% were answered within this. Unanswered: offers with no answer yet."
        }
        "panel-timeline" => {
            "Events per hour, day or week (by the range's length) in the chosen time zone, stacked by type; the line is the accept rate of each period."
        }
        "panel-policies" => {
            "How many events reference each policy in policy_refs (one event may reference several). Click a bar to filter the dashboard by it."
        }
        "panel-latency" => {
            "How suggestion latencies are spread, in logarithmic bins; p50 is the median, p95 and p99 the times 95% and 99% of suggestions stayed within."
        }
        "panel-decision" => {
            "How long agents took to answer suggestions, from offer to accepted, edited or rejected; outcomes are linked to their offer by offer_id or, failing that, to the session's latest open offer."
        }
        "panel-experiment" => {
            "Accept rate per A/B bucket with 95% Wilson intervals. B is compared with A by a two-proportion z-test and by an always-valid (sequential) interval, safe to check every day. Guardrails flag a bucket that is worse on latency, decision time or policy references beyond both intervals; a sample-ratio check warns of uneven splits."
        }
        "panel-rewrites" => {
            "Answered suggestions grouped by how many words the agent changed before sending (0 for accepted as is); the line is the accept rate of each group."
        }
        "panel-policy-outcomes" => {
            "For suggestions touching each policy: the share accepted, edited and rejected, with 95% intervals."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_card_and_panel_is_defined() {
        for key in [
            "total_events",
            "suggestions_offered",
            "accept_rate",
            "avg_latency_ms",
            "decision_time",
            "panel-timeline",
            "panel-policies",
            "panel-latency",
            "panel-decision",
            "panel-experiment",
            "panel-rewrites",
            "panel-policy-outcomes",
        ] {
            assert!(definition(key).is_some_and(|text| text.len() > 40), "{key}");
        }
        assert_eq!(definition("nothing"), None);
    }
}

//! Property tests (proptest) of the code that reads untrusted input: request bodies and query
//! strings. Whatever comes in, parsing answers `Ok` or a typed error and never panics; and
//! what the parser accepts, it reads back exactly.

use chrono::Utc;
use coachboard_contract::{EventKind, NewEvent, PolicyRefs};
use proptest::prelude::*;

use crate::ingest::{BodyFormat, Limits, parse_body, validate_batch};
use crate::params::Params;

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-zA-Z0-9 _\\-:.TZ+%&=\\[\\]{}\"\\\\]{0,60}",
        Just(String::new()),
        Just("\u{0}".to_owned()),
    ]
}

fn event() -> impl Strategy<Value = NewEvent> {
    (
        proptest::option::of("[a-zA-Z0-9\\-]{1,20}"),
        prop::sample::select(EventKind::ALL.to_vec()),
        proptest::option::of("[a-z0-9]{1,12}"),
        proptest::option::of(".{0,80}"),
        proptest::option::of(proptest::collection::vec("[A-Z]{2,6}-[0-9]{2}", 0..4)),
        proptest::option::of(0_i64..3_600_000),
        proptest::option::of(prop::sample::select(vec!["A", "B"])),
    )
        .prop_map(
            |(id, kind, session, draft, policies, latency, bucket)| NewEvent {
                id,
                session_id: session,
                agent_draft: draft.filter(|text| !text.contains('\0')),
                policy_refs: policies.map(PolicyRefs::List),
                latency_ms: latency,
                ab_test_bucket: bucket.map(str::to_owned),
                ..NewEvent::new(kind)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), lines in any::<bool>()) {
        let format = if lines { BodyFormat::Lines } else { BodyFormat::Json };
        if let Ok(events) = parse_body(&bytes, format, 100) {
            let _ = validate_batch(events, &Limits::default(), Utc::now());
        }
    }

    #[test]
    fn json_shaped_bodies_never_panic(text in "[\\[\\]{}\",:0-9a-z_ \\-.\\n]{0,200}") {
        for format in [BodyFormat::Json, BodyFormat::Lines] {
            if let Ok(events) = parse_body(text.as_bytes(), format, 100) {
                let _ = validate_batch(events, &Limits::default(), Utc::now());
            }
        }
    }

    #[test]
    fn valid_events_are_read_back_exactly(events in proptest::collection::vec(event(), 1..20)) {
        let body = serde_json::to_vec(&events).expect("serialises");
        let parsed = parse_body(&body, BodyFormat::Json, 100).expect("a valid batch parses");
        prop_assert_eq!(&parsed, &events);
        let lines: String = events.iter().map(|event| serde_json::to_string(event).expect("json") + "\n").collect();
        prop_assert_eq!(parse_body(lines.as_bytes(), BodyFormat::Lines, 100).expect("NDJSON parses"), events);
    }

    #[test]
    fn query_strings_never_panic(pairs in proptest::collection::vec((prop::sample::select(vec![
        "from", "to", "bucket", "event", "policy", "session_id", "q", "tz", "limit", "offset",
        "cursor", "sort", "order", "interval", "compare", "other",
    ]), any_text()), 0..6)) {
        let query: String = pairs.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("&");
        if let Ok(params) = Params::parse(Some(&query)) {
            let _ = params.scope();
            let _ = params.events_query();
            let _ = params.tz();
            let _ = params.interval();
            let _ = params.compare_previous();
        }
    }
}

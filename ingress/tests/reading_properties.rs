//! Property tests of the reading parser: it never panics on any payload, accepts exactly the
//! readings the contract allows (checked against a separate statement of the rules below), and
//! what it accepts survives the trip through the wire form unchanged.
//!
//! These are property tests rather than a coverage-guided fuzzer: cargo-fuzz needs a nightly
//! toolchain, which CI does not have. The case counts keep the whole file to a few seconds.

use chrono::{DateTime, TimeZone, Utc};
use ems_ingress::reading::{self, DEFAULT_INTERVAL_S, MAX_FUTURE_MS, MAX_MEASUREMENT_KWH, Reading};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn earliest_ms() -> i64 {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap().timestamp_millis()
}

fn latest_ms() -> i64 {
    now().timestamp_millis() + MAX_FUTURE_MS
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4).prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A field as the generator made it, and whether the contract accepts it (with the value it
/// stands for).
#[derive(Clone, Debug)]
struct Field<T> {
    json: Option<Value>,
    accepted: Option<T>,
}

fn device_id() -> impl Strategy<Value = Field<Uuid>> {
    prop_oneof![
        any::<u128>().prop_map(|bits| {
            let id = Uuid::from_u128(bits);
            Field { json: Some(json!(id.to_string())), accepted: Some(id) }
        }),
        any::<u128>().prop_map(|bits| {
            let id = Uuid::from_u128(bits);
            Field { json: Some(json!(id.simple().to_string().to_uppercase())), accepted: Some(id) }
        }),
        "[0-9a-z-]{0,40}".prop_map(|text| Field { accepted: Uuid::parse_str(&text).ok(), json: Some(json!(text)) }),
        any_json()
            .prop_filter("not a string", |value| !value.is_string())
            .prop_map(|value| Field { json: Some(value), accepted: None }),
        Just(Field { json: None, accepted: None }),
    ]
}

fn in_range(millis: i64) -> bool {
    (earliest_ms()..=latest_ms()).contains(&millis)
}

fn timestamp() -> impl Strategy<Value = Field<i64>> {
    let around = (earliest_ms() - 86_400_000)..(latest_ms() + 86_400_000);
    prop_oneof![
        around
            .clone()
            .prop_map(|millis| Field { json: Some(json!(millis)), accepted: in_range(millis).then_some(millis) }),
        // RFC 3339 text, in whole seconds with an offset, or with milliseconds in UTC.
        (around.clone(), -14i32 * 60..=14 * 60).prop_map(|(millis, offset_minutes)| {
            let seconds = millis.div_euclid(1000) * 1000;
            let zone = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
            let text = Utc.timestamp_millis_opt(seconds).unwrap().with_timezone(&zone).to_rfc3339();
            Field { json: Some(json!(text)), accepted: in_range(seconds).then_some(seconds) }
        }),
        around.prop_map(|millis| {
            let text = Utc.timestamp_millis_opt(millis).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            Field { json: Some(json!(text)), accepted: in_range(millis).then_some(millis) }
        }),
        any::<i64>()
            .prop_map(|millis| Field { json: Some(json!(millis)), accepted: in_range(millis).then_some(millis) }),
        (1.0e12f64..2.0e12)
            .prop_filter("fractional", |value| value.fract() != 0.0)
            .prop_map(|value| Field { json: Some(json!(value)), accepted: None }),
        "[a-zA-Z0-9 :-]{0,30}".prop_map(|text| Field { json: Some(json!(text)), accepted: None }),
        any_json()
            .prop_filter("neither number nor string", |value| !value.is_number() && !value.is_string())
            .prop_map(|value| Field { json: Some(value), accepted: None }),
        Just(Field { json: None, accepted: None }),
    ]
}

fn measurement() -> impl Strategy<Value = Field<f64>> {
    prop_oneof![
        (0.0f64..MAX_MEASUREMENT_KWH).prop_map(|kwh| Field { json: Some(json!(kwh)), accepted: Some(kwh) }),
        (0u32..10_000).prop_map(|kwh| Field { json: Some(json!(kwh)), accepted: Some(f64::from(kwh)) }),
        (-1.0e9f64..-1.0e-9).prop_map(|kwh| Field { json: Some(json!(kwh)), accepted: None }),
        (MAX_MEASUREMENT_KWH..1.0e300).prop_map(|kwh| Field { json: Some(json!(kwh)), accepted: None }),
        any_json()
            .prop_filter("not a number", |value| !value.is_number())
            .prop_map(|value| Field { json: Some(value), accepted: None }),
        Just(Field { json: None, accepted: None }),
    ]
}

fn interval() -> impl Strategy<Value = Field<u32>> {
    prop_oneof![
        Just(Field { json: None, accepted: Some(DEFAULT_INTERVAL_S) }),
        Just(Field { json: Some(Value::Null), accepted: Some(DEFAULT_INTERVAL_S) }),
        (1u32..=86_400).prop_map(|seconds| Field { json: Some(json!(seconds)), accepted: Some(seconds) }),
        (86_401u64..u64::MAX).prop_map(|seconds| Field { json: Some(json!(seconds)), accepted: None }),
        (i64::MIN..=0).prop_map(|seconds| Field { json: Some(json!(seconds)), accepted: None }),
        (1.0f64..86_400.0)
            .prop_filter("fractional", |value| value.fract() != 0.0)
            .prop_map(|value| Field { json: Some(json!(value)), accepted: None }),
        any_json()
            .prop_filter("neither number nor null", |value| !value.is_number() && !value.is_null())
            .prop_map(|value| Field { json: Some(value), accepted: None }),
    ]
}

fn extra_fields() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec(("[a-z_]{1,12}", any_json()), 0..3)
}

const CONTRACT_FIELDS: [&str; 4] = ["device_id", "timestamp", "measurement_value", "interval_s"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_payload_makes_the_parser_panic(payload in prop::collection::vec(any::<u8>(), 0..5000)) {
        let _ = reading::parse(&payload, now());
    }

    #[test]
    fn no_json_value_makes_the_parser_panic(value in any_json()) {
        let _ = reading::parse(value.to_string().as_bytes(), now());
    }

    #[test]
    fn exactly_the_readings_the_contract_allows_are_accepted(
        device in device_id(),
        time in timestamp(),
        kwh in measurement(),
        seconds in interval(),
        extra in extra_fields(),
    ) {
        let mut object = Map::new();
        for (name, value) in extra {
            if !CONTRACT_FIELDS.contains(&name.as_str()) {
                object.insert(name, value);
            }
        }
        for (name, field) in
            [("device_id", &device.json), ("timestamp", &time.json), ("measurement_value", &kwh.json), ("interval_s", &seconds.json)]
        {
            if let Some(value) = field {
                object.insert(name.to_owned(), value.clone());
            }
        }
        let payload = Value::Object(object).to_string();
        let parsed = reading::parse(payload.as_bytes(), now());
        let expected = match (device.accepted, time.accepted, kwh.accepted, seconds.accepted) {
            (Some(device_id), Some(millis), Some(kwh), Some(interval_s)) => Some((device_id, millis, kwh, interval_s)),
            _ => None,
        };
        match (parsed, expected) {
            (Ok(reading), Some((device_id, millis, kwh, interval_s))) => {
                prop_assert_eq!(reading.device_id, device_id);
                prop_assert_eq!(reading.timestamp.timestamp_millis(), millis);
                prop_assert_eq!(reading.measurement_value, kwh);
                prop_assert_eq!(reading.interval_s, interval_s);
            }
            (Err(rejection), None) => prop_assert!(!rejection.reason.is_empty(), "a rejection says why"),
            (Ok(reading), None) => prop_assert!(false, "{payload} was accepted as {reading:?}"),
            (Err(rejection), Some(_)) => prop_assert!(false, "{payload} was rejected: {}", rejection.reason),
        }
    }

    #[test]
    fn an_accepted_reading_round_trips_through_its_wire_form(
        bits in any::<u128>(),
        millis in earliest_ms()..=latest_ms(),
        kwh in 0.0f64..MAX_MEASUREMENT_KWH,
        interval_s in 1u32..=86_400,
    ) {
        let timestamp = Utc.timestamp_millis_opt(millis).unwrap();
        let reading = Reading { device_id: Uuid::from_u128(bits), timestamp, measurement_value: kwh, interval_s };
        prop_assert_eq!(reading::parse(&reading.to_json(), now()), Ok(reading.clone()));
        let again = reading::parse(&reading::parse(&reading.to_json(), now()).unwrap().to_json(), now());
        prop_assert_eq!(again, Ok(reading));
    }
}

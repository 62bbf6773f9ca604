//! The reading wire format: one AMQP message, `application/json`,
//! `{"device_id": "<uuid>", "timestamp": <epoch ms | RFC 3339>, "measurement_value": <kWh>}`
//! with an optional `"interval_s"`. Validation is strict and every rejection says why, because
//! the reason travels with the message into `readings.invalid`.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Largest accepted message.
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// Meters sample every 10 minutes unless a reading says otherwise.
pub const DEFAULT_INTERVAL_S: u32 = 600;
/// No single interval of a real meter comes near this many kWh.
pub const MAX_MEASUREMENT_KWH: f64 = 1_000_000.0;
/// Readings may run at most this far ahead of our clock.
pub const MAX_FUTURE_MS: i64 = 24 * 3600 * 1000;

/// A validated reading: `measurement_value` kWh used in the `interval_s` seconds ending at
/// `timestamp`. (device_id, timestamp) identifies it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub device_id: Uuid,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub timestamp: DateTime<Utc>,
    pub measurement_value: f64,
    pub interval_s: u32,
}

impl Reading {
    /// Average power over the interval, in kW.
    pub fn average_kw(&self) -> f64 {
        self.measurement_value / (f64::from(self.interval_s) / 3600.0)
    }

    /// The wire form a meter sends (epoch milliseconds).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a reading always serialises")
    }
}

/// Why a message is not a reading.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Rejection {
    pub reason: String,
}

fn reject(reason: impl Into<String>) -> Rejection {
    Rejection { reason: reason.into() }
}

/// Parses and checks one message body against the contract, with `now` as the clock.
pub fn parse(payload: &[u8], now: DateTime<Utc>) -> Result<Reading, Rejection> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(reject(format!("payload is {} bytes; at most {MAX_PAYLOAD_BYTES} are accepted", payload.len())));
    }
    let value: Value = serde_json::from_slice(payload).map_err(|error| reject(format!("not valid JSON: {error}")))?;
    let Value::Object(fields) = value else {
        return Err(reject("expected a JSON object with device_id, timestamp and measurement_value"));
    };

    let device_id = match fields.get("device_id") {
        Some(Value::String(text)) => {
            Uuid::parse_str(text).map_err(|_| reject(format!("device_id {text:?} is not a UUID")))?
        }
        Some(other) => return Err(reject(format!("device_id must be a UUID string, got {}", kind_of(other)))),
        None => return Err(reject("device_id is missing")),
    };
    let timestamp = parse_timestamp(fields.get("timestamp"), now)?;
    let measurement_value = match fields.get("measurement_value") {
        Some(Value::Number(number)) => {
            number.as_f64().ok_or_else(|| reject("measurement_value is not a finite number"))?
        }
        Some(other) => {
            return Err(reject(format!("measurement_value must be a number of kWh, got {}", kind_of(other))));
        }
        None => return Err(reject("measurement_value is missing")),
    };
    if !measurement_value.is_finite() || measurement_value < 0.0 {
        return Err(reject(format!("measurement_value {measurement_value} must be a finite number, not negative")));
    }
    if measurement_value >= MAX_MEASUREMENT_KWH {
        return Err(reject(format!("measurement_value {measurement_value} kWh is beyond any meter's range")));
    }
    let interval_s = match fields.get("interval_s") {
        None | Some(Value::Null) => DEFAULT_INTERVAL_S,
        Some(Value::Number(number)) => match number.as_u64() {
            Some(seconds @ 1..=86_400) => seconds as u32,
            _ => return Err(reject(format!("interval_s {number} must be a whole number of seconds from 1 to 86400"))),
        },
        Some(other) => return Err(reject(format!("interval_s must be a number of seconds, got {}", kind_of(other)))),
    };
    Ok(Reading { device_id, timestamp, measurement_value, interval_s })
}

fn parse_timestamp(value: Option<&Value>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Rejection> {
    let timestamp = match value {
        Some(Value::Number(number)) => {
            let millis = number
                .as_i64()
                .ok_or_else(|| reject(format!("timestamp {number} must be whole epoch milliseconds")))?;
            Utc.timestamp_millis_opt(millis)
                .single()
                .ok_or_else(|| reject(format!("timestamp {millis} is out of range")))?
        }
        Some(Value::String(text)) => DateTime::parse_from_rfc3339(text)
            .map_err(|_| reject(format!("timestamp {text:?} is not RFC 3339 (e.g. 2026-01-31T10:20:00Z)")))?
            .with_timezone(&Utc),
        Some(other) => {
            return Err(reject(format!(
                "timestamp must be epoch milliseconds or RFC 3339 text, got {}",
                kind_of(other)
            )));
        }
        None => return Err(reject("timestamp is missing")),
    };
    let earliest = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
    if timestamp < earliest {
        return Err(reject(format!("timestamp {timestamp} is before 2000-01-01")));
    }
    if timestamp.timestamp_millis() > now.timestamp_millis() + MAX_FUTURE_MS {
        return Err(reject(format!("timestamp {timestamp} is more than a day ahead of the server clock")));
    }
    Ok(timestamp)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICE: &str = "5f0c3d4e-8a4b-4c3e-9d2a-1b2c3d4e5f60";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn parse_json(value: Value) -> Result<Reading, Rejection> {
        parse(value.to_string().as_bytes(), now())
    }

    #[test]
    fn epoch_milliseconds_and_rfc3339_give_the_same_reading() {
        let from_millis = parse_json(
            serde_json::json!({"device_id": DEVICE, "timestamp": 1772366400000_i64, "measurement_value": 1.5}),
        )
        .unwrap();
        let from_text = parse_json(
            serde_json::json!({"device_id": DEVICE, "timestamp": "2026-03-01T12:00:00Z", "measurement_value": 1.5}),
        )
        .unwrap();
        assert_eq!(from_millis, from_text);
        assert_eq!(from_millis.interval_s, 600);
        assert!((from_millis.average_kw() - 9.0).abs() < 1e-9);
    }

    #[test]
    fn unknown_fields_are_ignored_and_interval_is_taken_when_given() {
        let reading = parse_json(serde_json::json!({"device_id": DEVICE, "timestamp": "2026-03-01T11:00:00+01:00",
            "measurement_value": 0, "interval_s": 60, "firmware": "1.2"}))
        .unwrap();
        assert_eq!((reading.interval_s, reading.timestamp.to_rfc3339()), (60, "2026-03-01T10:00:00+00:00".to_owned()));
    }

    #[test]
    fn each_kind_of_bad_reading_is_rejected_with_its_reason() {
        let cases: Vec<(Value, &str)> = vec![
            (serde_json::json!([1, 2]), "expected a JSON object"),
            (serde_json::json!({"timestamp": 1772366400000_i64, "measurement_value": 1}), "device_id is missing"),
            (
                serde_json::json!({"device_id": "meter-7", "timestamp": 1772366400000_i64, "measurement_value": 1}),
                "not a UUID",
            ),
            (
                serde_json::json!({"device_id": 7, "timestamp": 1772366400000_i64, "measurement_value": 1}),
                "got a number",
            ),
            (serde_json::json!({"device_id": DEVICE, "measurement_value": 1}), "timestamp is missing"),
            (
                serde_json::json!({"device_id": DEVICE, "timestamp": "yesterday", "measurement_value": 1}),
                "not RFC 3339",
            ),
            (
                serde_json::json!({"device_id": DEVICE, "timestamp": 1.5, "measurement_value": 1}),
                "whole epoch milliseconds",
            ),
            (
                serde_json::json!({"device_id": DEVICE, "timestamp": 915148800000_i64, "measurement_value": 1}),
                "before 2000",
            ),
            (
                serde_json::json!({"device_id": DEVICE, "timestamp": "2026-03-03T12:00:00Z", "measurement_value": 1}),
                "a day ahead",
            ),
            (
                serde_json::json!({"device_id": DEVICE, "timestamp": 1772366400000_i64, "measurement_value": "NaN"}),
                "got a string",
            ),
            (
                serde_json::json!({"device_id": DEVICE, "timestamp": 1772366400000_i64, "measurement_value": -1}),
                "not negative",
            ),
            (
                serde_json::json!({"device_id": DEVICE, "timestamp": 1772366400000_i64, "measurement_value": 1e12}),
                "beyond any meter",
            ),
            (
                serde_json::json!({"device_id": DEVICE, "timestamp": 1772366400000_i64, "measurement_value": 1, "interval_s": 0}),
                "from 1 to 86400",
            ),
            (
                serde_json::json!({"device_id": DEVICE, "timestamp": 1772366400000_i64, "measurement_value": null}),
                "got null",
            ),
        ];
        for (payload, expected) in cases {
            let rejection = parse_json(payload.clone()).unwrap_err();
            assert!(
                rejection.reason.contains(expected),
                "{payload} gave {:?}, expected {expected:?}",
                rejection.reason
            );
        }
    }

    #[test]
    fn malformed_and_oversized_payloads_are_rejected() {
        assert!(parse(b"{\"device_id\": ", now()).unwrap_err().reason.starts_with("not valid JSON"));
        assert!(parse(b"{\"measurement_value\": NaN}", now()).unwrap_err().reason.starts_with("not valid JSON"));
        assert!(parse(b"{\"measurement_value\": 1e999}", now()).unwrap_err().reason.starts_with("not valid JSON"));
        let padding = "x".repeat(MAX_PAYLOAD_BYTES);
        let oversized = format!("{{\"device_id\": \"{DEVICE}\", \"pad\": \"{padding}\"}}");
        assert!(parse(oversized.as_bytes(), now()).unwrap_err().reason.contains("at most 4096"));
    }

    #[test]
    fn the_wire_form_round_trips() {
        let reading = parse_json(
            serde_json::json!({"device_id": DEVICE, "timestamp": 1772366400000_i64, "measurement_value": 2.25}),
        )
        .unwrap();
        assert_eq!(parse(&reading.to_json(), now()).unwrap(), reading);
    }
}

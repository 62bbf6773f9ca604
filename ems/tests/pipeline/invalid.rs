use chrono::Utc;
use serde_json::json;

use crate::harness::{Pipeline, assert_same_totals, ground_truth, series, start_hours_ago};

/// Malformed and hostile payloads of many kinds, `count` in all, varied deterministically.
fn bad_payloads(count: usize, device: uuid::Uuid) -> Vec<Vec<u8>> {
    let now = Utc::now().timestamp_millis();
    let kinds: Vec<Box<dyn Fn(usize) -> Vec<u8>>> = vec![
        Box::new(|index| format!("{{\"device_id\": \"{device}\", \"timestamp\": {index}").into_bytes()),
        Box::new(|index| (0..(index % 50 + 1)).map(|byte| (byte * 37 + index) as u8).collect()),
        Box::new(|_| b"[1, 2, 3]".to_vec()),
        Box::new(|index| index.to_string().into_bytes()),
        Box::new(|_| b"null".to_vec()),
        Box::new(|_| Vec::new()),
        Box::new(move |_| json!({"timestamp": now, "measurement_value": 1}).to_string().into_bytes()),
        Box::new(move |_| json!({"device_id": device, "measurement_value": 1}).to_string().into_bytes()),
        Box::new(move |_| json!({"device_id": device, "timestamp": now}).to_string().into_bytes()),
        Box::new(move |index| {
            json!({"device_id": index, "timestamp": now, "measurement_value": 1}).to_string().into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": "'; DROP TABLE readings; --", "timestamp": now, "measurement_value": 1})
                .to_string()
                .into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": true, "measurement_value": 1}).to_string().into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": now, "measurement_value": "NaN"}).to_string().into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": now, "measurement_value": "Infinity"}).to_string().into_bytes()
        }),
        Box::new(move |_| {
            format!("{{\"device_id\": \"{device}\", \"timestamp\": {now}, \"measurement_value\": NaN}}").into_bytes()
        }),
        Box::new(move |_| {
            format!("{{\"device_id\": \"{device}\", \"timestamp\": {now}, \"measurement_value\": 1e400}}").into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": now, "measurement_value": 1e300}).to_string().into_bytes()
        }),
        Box::new(move |index| {
            json!({"device_id": device, "timestamp": now, "measurement_value": -(index as f64) - 0.5})
                .to_string()
                .into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": 946_684_799_000_i64, "measurement_value": 1})
                .to_string()
                .into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": now + 90_000_000, "measurement_value": 1}).to_string().into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": "last tuesday", "measurement_value": 1}).to_string().into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": now, "measurement_value": 1, "interval_s": 0})
                .to_string()
                .into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": now, "measurement_value": 1, "interval_s": -600})
                .to_string()
                .into_bytes()
        }),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": now, "measurement_value": 1, "pad": "x".repeat(5000)})
                .to_string()
                .into_bytes()
        }),
        Box::new(|_| format!("{}1{}", "[".repeat(200), "]".repeat(200)).into_bytes()),
        Box::new(move |_| {
            json!({"device_id": device, "timestamp": now, "measurement_value": {"kwh": 1}}).to_string().into_bytes()
        }),
    ];
    (0..count).map(|index| kinds[index % kinds.len()](index)).collect()
}

#[tokio::test]
async fn over_a_thousand_malformed_or_hostile_payloads_are_dead_lettered_with_reasons_and_valid_ones_all_count() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0, 5.0]).await;
    pipeline.run(2, &[]).await;

    let valid = series(&devices, start_hours_ago(30), 150, |device, step| 0.02 + (device + step % 7) as f64 / 100.0);
    let bad = bad_payloads(1100, devices[0].id);
    let strangers = series(
        &[crate::harness::Device { id: uuid::Uuid::new_v4(), owner: uuid::Uuid::nil(), limit: 1.0 }],
        start_hours_ago(10),
        100,
        |_, _| 0.1,
    );
    // Interleave: valid, bad, unknown-device readings, so bad ones sit among good ones.
    let mut bodies = Vec::new();
    let mut bad_iter = bad.iter();
    let mut stranger_iter = strangers.iter();
    for reading in &valid {
        bodies.push(reading.to_json());
        bodies.extend(bad_iter.by_ref().take(4).cloned());
        if let Some(stranger) = stranger_iter.next() {
            bodies.push(stranger.to_json());
        }
    }
    bodies.extend(bad_iter.cloned());
    bodies.extend(stranger_iter.map(|reading| reading.to_json()));
    pipeline.publish_many(bodies).await;

    assert_same_totals(&pipeline.wait_for_readings(valid.len() as i64).await, &ground_truth(&valid));
    pipeline.settle(2).await;

    let dead = pipeline.take_invalid().await;
    assert_eq!(dead.len(), bad.len() + strangers.len(), "every bad message and only those");
    assert!(dead.iter().all(|(_, reason)| !reason.is_empty()), "every dead letter says why");
    let unknown = dead.iter().filter(|(_, reason)| reason.starts_with("unknown device")).count();
    assert_eq!(unknown, strangers.len());
    let mut bad_sorted = bad.clone();
    let mut dead_bodies: Vec<Vec<u8>> =
        dead.iter().filter(|(_, reason)| !reason.starts_with("unknown device")).map(|(body, _)| body.clone()).collect();
    bad_sorted.sort();
    dead_bodies.sort();
    assert_eq!(dead_bodies, bad_sorted, "bodies are kept unchanged");
    for expected in [
        "not valid JSON",
        "not a UUID",
        "is missing",
        "not negative",
        "beyond any meter",
        "before 2000",
        "a day ahead",
        "at most 4096",
    ] {
        assert!(dead.iter().any(|(_, reason)| reason.contains(expected)), "some reason mentions {expected:?}");
    }
}

#[tokio::test]
async fn a_reading_older_than_the_raw_retention_is_dead_lettered_and_counted_nowhere() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0]).await;
    pipeline.start("monitor-1", &["--raw-retention", "30d"]);
    pipeline.start("balancer", &[]);
    pipeline.wait_for_heartbeats(&[1]).await;

    let recent = series(&devices, start_hours_ago(5), 12, |_, step| 0.1 + step as f64 / 100.0);
    let inside = series(&devices, start_hours_ago(29 * 24), 3, |_, _| 0.2);
    let too_old = series(&devices, start_hours_ago(40 * 24), 4, |_, _| 0.3);
    let accepted: Vec<_> = recent.iter().chain(&inside).cloned().collect();
    let mut bodies: Vec<Vec<u8>> = accepted.iter().map(|reading| reading.to_json()).collect();
    bodies.extend(too_old.iter().map(|reading| reading.to_json()));
    pipeline.publish_many(bodies).await;

    assert_same_totals(&pipeline.wait_for_readings(accepted.len() as i64).await, &ground_truth(&accepted));
    pipeline.settle(1).await;
    let dead = pipeline.take_invalid().await;
    assert_eq!(dead.len(), too_old.len(), "the readings past the retention and only those: {dead:?}");
    for (_, reason) in &dead {
        assert!(reason.contains("older than the raw-reading retention (30d)"), "{reason}");
        assert!(reason.contains("EMS_RAW_RETENTION"), "the reason says how to accept them: {reason}");
    }
}

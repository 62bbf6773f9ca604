use std::{collections::BTreeSet, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use ems_common::contracts::{AlertEvent, AlertKind};
use ems_ingress::Reading;
use futures::StreamExt;
use uuid::Uuid;

use crate::harness::{Pipeline, assert_same_totals, ground_truth, hour_of, series, start_hours_ago};

#[tokio::test]
async fn readings_become_exact_hourly_totals_and_one_alert_per_crossing_reaches_the_owner() {
    let mut pipeline = Pipeline::new().await;
    // Device 0 stays under its 3 kWh limit; device 1 (limit 1 kWh) crosses it in some hours;
    // device 2 (limit 2 kWh) has one 10-minute reading of 0.5 kWh, i.e. 3 kW: a peak.
    let devices = pipeline.devices(&[3.0, 1.0, 2.0]).await;
    let owner = devices[0].owner;
    let mut alerts = pipeline.nats.subscribe(pipeline.broker.names().alerts_subject(owner)).await.unwrap();
    pipeline.nats.flush().await.unwrap();

    pipeline.run(3, &[]).await;

    let start = start_hours_ago(6);
    let readings = series(&devices, start, 36, |device, step| match device {
        0 => 0.1 + (step % 6) as f64 * 0.05,
        1 => {
            if step / 6 % 2 == 0 {
                0.1
            } else {
                0.25
            }
        } // every other hour sums to 1.5 kWh
        _ => {
            if step == 20 {
                0.5
            } else {
                0.05
            }
        }
    });
    pipeline.publish(&readings).await;
    let truth = ground_truth(&readings);
    assert_same_totals(&pipeline.wait_for_readings(readings.len() as i64).await, &truth);

    // Every stage timed what passed it, by the sent-at of what it received: the balancer each
    // reading, the monitors their batches; on one machine the times are short and not negative.
    let metric = |process: &'static str, line: &'static str| pipeline.wait_for_metric(process, line, |_| true);
    let timed = metric("balancer", "balancer_reading_delay_seconds_count ").await;
    assert!(timed >= readings.len() as f64, "the balancer timed {timed} of {} readings", readings.len());
    let delay = metric("balancer", "balancer_reading_delay_seconds_sum ").await / timed;
    assert!((0.0..10.0).contains(&delay), "a reading took {delay}s on average to reach the balancer");
    let (mut batches, mut commits) = (0.0, 0.0);
    for monitor in ["monitor-1", "monitor-2", "monitor-3"] {
        batches += metric(monitor, "monitor_batch_delay_seconds_count ").await;
        commits += metric(monitor, "monitor_commit_seconds_count ").await;
    }
    assert!(batches >= 1.0 && commits >= 1.0, "the monitors timed {batches} batches and {commits} commits");

    let mut expected = BTreeSet::new();
    for ((device_id, hour), total) in &truth {
        let device = devices.iter().find(|device| device.id == *device_id).unwrap();
        if *total > device.limit {
            expected.insert((*device_id, *hour, AlertKind::Overconsumption));
        }
    }
    for reading in &readings {
        let device = devices.iter().find(|device| device.id == reading.device_id).unwrap();
        if reading.average_kw() > device.limit {
            expected.insert((reading.device_id, hour_of(reading.timestamp), AlertKind::Peak));
        }
    }
    let kinds_of = |device: usize| -> BTreeSet<AlertKind> {
        expected.iter().filter(|(id, ..)| *id == devices[device].id).map(|(.., kind)| *kind).collect()
    };
    assert!(kinds_of(0).is_empty(), "device 0 stays within its limit");
    assert_eq!(kinds_of(1), BTreeSet::from([AlertKind::Overconsumption, AlertKind::Peak]));
    assert_eq!(kinds_of(2), BTreeSet::from([AlertKind::Peak]), "one reading of 3 kW, hourly total under 2 kWh");

    let stored: Vec<(uuid::Uuid, chrono::DateTime<chrono::Utc>, AlertKind)> =
        sqlx::query_as("SELECT device_id, hour, kind FROM alerts").fetch_all(&pipeline.pool).await.unwrap();
    assert_eq!(stored.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(stored.len(), expected.len(), "one alert per device, hour and kind");

    let mut received = Vec::new();
    while received.len() < expected.len() {
        let message =
            tokio::time::timeout(Duration::from_secs(10), alerts.next()).await.expect("alerts on NATS").unwrap();
        let alert: AlertEvent = serde_json::from_slice(&message.payload).unwrap();
        assert_eq!(alert.user_id, Some(owner));
        received.push((alert.device_id, alert.hour, alert.kind));
    }
    assert_eq!(received.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(tokio::time::timeout(Duration::from_millis(500), alerts.next()).await.is_err(), "no further alerts");

    // Sending everything again changes nothing and raises nothing.
    pipeline.publish(&readings).await;
    pipeline.settle(3).await;
    assert_same_totals(&pipeline.totals().await, &truth);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM alerts").fetch_one(&pipeline.pool).await.unwrap();
    assert_eq!(count as usize, expected.len());
    pipeline.kill("balancer");
}

#[tokio::test]
async fn totals_and_peaks_at_exactly_the_limit_raise_nothing_and_a_micro_kwh_more_raises_one_alert() {
    let mut pipeline = Pipeline::new().await;
    // In floating point every first hour below would alert: 0.4 + 0.4 + 0.4 is 1.2000000000000002,
    // 0.1 + 0.2 is 0.30000000000000004, and 0.003 kWh in 10 minutes is 0.018000000000000002 kW.
    // Each reading is also exactly at its device's limit in average power (0.4 kWh in 20 minutes
    // is 1.2 kW). In the second hour each device goes one micro-kWh above: one alert each.
    let devices = pipeline.devices(&[1.2, 0.3, 0.018]).await;
    pipeline.run(2, &[]).await;

    let first = start_hours_ago(4);
    let second = first + TimeDelta::hours(1);
    let reading = |device: usize, at: DateTime<Utc>, minute: i64, kwh: f64, interval_s: u32| Reading {
        device_id: devices[device].id,
        timestamp: at + TimeDelta::minutes(minute),
        measurement_value: kwh,
        interval_s,
    };
    let mut readings = Vec::new();
    for hour in [first, second] {
        readings.extend([
            reading(0, hour, 20, 0.4, 1200),
            reading(0, hour, 40, 0.4, 1200),
            reading(0, hour, 59, 0.4, 1200),
            reading(1, hour, 20, 0.1, 1200),
            reading(1, hour, 59, 0.2, 2400),
        ]);
    }
    readings.extend([
        reading(2, first, 10, 0.003, 600),
        reading(0, second, 50, 0.000001, 600),
        reading(1, second, 50, 0.000001, 600),
        reading(2, second, 10, 0.003001, 600),
    ]);
    pipeline.publish(&readings).await;
    pipeline.wait_for_readings(readings.len() as i64).await;

    let totals: Vec<(Uuid, DateTime<Utc>, String)> = sqlx::query_as(
        "SELECT device_id, hour, kwh::text FROM hourly_consumption WHERE device_id = ANY($1) ORDER BY hour",
    )
    .bind(devices.iter().map(|device| device.id).collect::<Vec<_>>())
    .fetch_all(&pipeline.pool)
    .await
    .unwrap();
    let total = |device: usize, hour| {
        totals.iter().find(|(id, at, _)| *id == devices[device].id && *at == hour).map(|(.., kwh)| kwh.as_str())
    };
    assert_eq!(
        [total(0, first), total(1, first), total(2, first)],
        [Some("1.200000"), Some("0.300000"), Some("0.003000")]
    );
    assert_eq!(
        [total(0, second), total(1, second), total(2, second)],
        [Some("1.200001"), Some("0.300001"), Some("0.003001")]
    );

    let stored: BTreeSet<(Uuid, DateTime<Utc>, AlertKind, String)> =
        sqlx::query_as("SELECT device_id, hour, kind, value::text FROM alerts")
            .fetch_all(&pipeline.pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let expected = BTreeSet::from([
        (devices[0].id, second, AlertKind::Overconsumption, "1.200001".to_owned()),
        (devices[1].id, second, AlertKind::Overconsumption, "0.300001".to_owned()),
        (devices[2].id, second, AlertKind::Peak, "0.018006".to_owned()),
    ]);
    assert_eq!(stored, expected);
    pipeline.kill("balancer");
}

#[tokio::test]
async fn a_snoozed_devices_alerts_are_stored_acknowledged_but_never_published() {
    let mut pipeline = Pipeline::new().await;
    // Both devices have a 1 kWh limit; each gets one 10-minute reading of 0.5 kWh (3 kW): a peak.
    let devices = pipeline.devices(&[1.0, 1.0]).await;
    sqlx::query("UPDATE devices SET snoozed_until = now() + interval '1 hour' WHERE id = $1")
        .bind(devices[0].id)
        .execute(&pipeline.pool)
        .await
        .unwrap();
    let mut alerts = pipeline.nats.subscribe(pipeline.broker.names().alerts_subject(devices[0].owner)).await.unwrap();
    pipeline.nats.flush().await.unwrap();
    pipeline.run(2, &[]).await;

    let hour = start_hours_ago(2);
    let reading = |device: &crate::harness::Device| Reading {
        device_id: device.id,
        timestamp: hour + TimeDelta::minutes(10),
        measurement_value: 0.5,
        interval_s: 600,
    };
    // The snoozed device's reading first, on its own, so that its alert (had it been published)
    // would reach NATS before the awake device's.
    pipeline.publish(&[reading(&devices[0])]).await;
    pipeline.wait_for_readings(1).await;
    pipeline.publish(&[reading(&devices[1])]).await;
    pipeline.wait_for_readings(2).await;

    let message =
        tokio::time::timeout(Duration::from_secs(10), alerts.next()).await.expect("an alert on NATS").unwrap();
    let alert: AlertEvent = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!((alert.device_id, alert.kind, alert.snoozed), (devices[1].id, AlertKind::Peak, false));
    assert!(
        tokio::time::timeout(Duration::from_millis(500), alerts.next()).await.is_err(),
        "the snoozed device's alert is not published"
    );

    let stored: Vec<(Uuid, bool, bool)> =
        sqlx::query_as("SELECT device_id, snoozed, acknowledged_at IS NOT NULL FROM alerts ORDER BY snoozed DESC")
            .fetch_all(&pipeline.pool)
            .await
            .unwrap();
    assert_eq!(stored, [(devices[0].id, true, true), (devices[1].id, false, false)], "both stored; one open");
    pipeline.kill("balancer");
}

#[tokio::test]
async fn an_hour_on_course_to_cross_its_limit_is_forecast_once_before_it_does_unless_turned_off() {
    let mut pipeline = Pipeline::new().await;
    // Both devices have a 2 kWh limit and get the same readings; the second's owner turned
    // forecasts off.
    let devices = pipeline.devices(&[2.0, 2.0]).await;
    sqlx::query("UPDATE devices SET forecast_alerts = false WHERE id = $1")
        .bind(devices[1].id)
        .execute(&pipeline.pool)
        .await
        .unwrap();
    let mut alerts = pipeline.nats.subscribe(pipeline.broker.names().alerts_subject(devices[0].owner)).await.unwrap();
    pipeline.nats.flush().await.unwrap();
    pipeline.run(2, &[]).await;

    // A forecast is about an hour still in progress: this one, or the next when this one is about
    // to end (meters' clocks may run ahead).
    let now = Utc::now();
    let hour = hour_of(now)
        + if now - hour_of(now) > TimeDelta::minutes(50) { TimeDelta::hours(1) } else { TimeDelta::zero() };
    // Readings may run ahead of the clock: the whole hour is sent now, in two parts.
    let values = [0.2, 0.2, 0.5, 0.5, 0.5, 0.5];
    let readings: Vec<Vec<Reading>> = values
        .iter()
        .enumerate()
        .map(|(step, value)| {
            devices
                .iter()
                .map(|device| Reading {
                    device_id: device.id,
                    timestamp: hour + TimeDelta::minutes(10 * step as i64),
                    measurement_value: *value,
                    interval_s: 600,
                })
                .collect()
        })
        .collect();
    // After 14:20 (say): 0.9 kWh so far, 0.5 in the last 10 minutes, three readings to come:
    // 2.4 kWh forecast, above the limit. 0.5 kWh in 10 minutes is also a peak (3 kW).
    pipeline.publish(&readings[..3].concat()).await;
    pipeline.wait_for_readings(6).await;
    // Both devices have one owner: the second device's peak reaches the same subject.
    let mut first = [next(&mut alerts).await, next(&mut alerts).await, next(&mut alerts).await];
    first.sort_by_key(|alert| (alert.device_id != devices[0].id, alert.kind));
    assert_eq!(
        first.iter().map(|alert| (alert.device_id, alert.kind)).collect::<Vec<_>>(),
        [(devices[0].id, AlertKind::Peak), (devices[0].id, AlertKind::Forecast), (devices[1].id, AlertKind::Peak)]
    );
    let forecast = &first[1];
    assert_eq!((forecast.value, forecast.limit_kwh), (2.4, 2.0));
    assert_eq!((forecast.reading_at, forecast.interval_s), (Some(hour + TimeDelta::minutes(20)), Some(600)));
    assert!(
        forecast.message.contains("on course to use 2.40 kWh")
            && forecast.message.contains("0.90 kWh so far with 40 minutes of the hour left")
            && forecast.message.contains("the limit is reached in about 22 minutes"),
        "{}",
        forecast.message
    );

    // The rest of the hour: forecast again and again, then above the limit at 14:50.
    for part in &readings[3..] {
        pipeline.publish(part).await;
    }
    pipeline.wait_for_readings(12).await;
    let mut last = [next(&mut alerts).await, next(&mut alerts).await];
    last.sort_by_key(|alert| alert.device_id != devices[0].id);
    assert_eq!(
        last.iter().map(|alert| (alert.device_id, alert.kind)).collect::<Vec<_>>(),
        [(devices[0].id, AlertKind::Overconsumption), (devices[1].id, AlertKind::Overconsumption)]
    );
    assert!(tokio::time::timeout(Duration::from_millis(500), alerts.next()).await.is_err(), "no further alerts");

    let stored: Vec<(Uuid, AlertKind)> =
        sqlx::query_as("SELECT device_id, kind FROM alerts ORDER BY device_id = $1 DESC, kind")
            .bind(devices[0].id)
            .fetch_all(&pipeline.pool)
            .await
            .unwrap();
    let (on, off) = (devices[0].id, devices[1].id);
    assert_eq!(
        stored,
        [
            (on, AlertKind::Overconsumption),
            (on, AlertKind::Peak),
            (on, AlertKind::Forecast),
            (off, AlertKind::Overconsumption),
            (off, AlertKind::Peak)
        ],
        "one forecast, for the device whose owner wants them"
    );
    pipeline.kill("balancer");
}

/// The next alert published on `alerts`, within 10 seconds.
#[tokio::test]
async fn with_two_transactions_a_batch_waiting_for_its_hour_does_not_hold_up_the_next_and_both_are_acknowledged_once() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0, 5.0]).await;
    pipeline.start("monitor-1", &["--monitor-transactions", "2"]);
    pipeline.start("balancer", &[]);
    pipeline.wait_for_heartbeats(&[1]).await;
    let hour = start_hours_ago(2);
    let reading = |device: usize, minute: i64| Reading {
        device_id: devices[device].id,
        timestamp: hour + TimeDelta::minutes(minute),
        measurement_value: 0.1,
        interval_s: 600,
    };
    pipeline.publish(&[reading(0, 10)]).await;
    pipeline.wait_for_readings(1).await;

    // Another transaction holds the first device's hour, as a slow one of another replica would:
    // the monitor's next batch for that device waits for it.
    let mut holder = pipeline.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM hourly_consumption WHERE device_id = $1 AND hour = $2 FOR UPDATE")
        .bind(devices[0].id)
        .bind(hour)
        .execute(&mut *holder)
        .await
        .unwrap();
    pipeline.publish(&[reading(0, 20)]).await;
    let waiting = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&pipeline.pool)
        .await
        .unwrap()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while waiting().await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the monitor's batch never waited for the held hour");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The other device's reading is stored meanwhile, by the same replica.
    pipeline.publish(&[reading(1, 20)]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let totals = pipeline.totals().await;
        if totals.contains_key(&(devices[1].id, hour)) {
            assert_eq!(totals[&(devices[0].id, hour)], 0.1, "the held hour is not counted yet");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second device's reading waited for the first device's batch"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(waiting().await, 1, "the first batch still waits");

    holder.rollback().await.unwrap();
    let totals = pipeline.wait_for_readings(3).await;
    assert_eq!((totals[&(devices[0].id, hour)], totals[&(devices[1].id, hour)]), (0.2, 0.1));

    // Both batches were acknowledged: a new monitor process is not handed either again.
    pipeline.kill("monitor-1");
    pipeline.start("monitor-1", &["--monitor-transactions", "2"]);
    pipeline.wait_for_heartbeats(&[1]).await;
    pipeline.publish(&[reading(1, 30)]).await;
    pipeline.wait_for_readings(4).await;
    pipeline
        .wait_for_metric("monitor-1", "monitor_readings_stored_total{replica=\"1\"} ", |stored| stored == 1.0)
        .await;
    let redelivered =
        pipeline.wait_for_metric("monitor-1", "monitor_readings_duplicate_total{replica=\"1\"} ", |_| true).await;
    assert_eq!(redelivered, 0.0, "a stored batch came back after a restart: it was not acknowledged");
}

async fn next(alerts: &mut async_nats::Subscriber) -> AlertEvent {
    let message =
        tokio::time::timeout(Duration::from_secs(10), alerts.next()).await.expect("an alert on NATS").unwrap();
    serde_json::from_slice(&message.payload).unwrap()
}

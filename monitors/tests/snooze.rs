//! A snoozed device's alerts against the real PostgreSQL: stored (nothing is lost), already
//! acknowledged and marked `snoozed`, so they count as nothing to act on and the worker does not
//! publish them; once the snooze is over, alerts are open again.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use ems_common::{contracts::AlertKind, energy::Kwh, testing::TestDatabase};
use ems_monitors::{
    devices::CachedDevice,
    store::{self, Metered},
};
use uuid::Uuid;

async fn device(database: &TestDatabase, snoozed_until: Option<DateTime<Utc>>) -> CachedDevice {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO devices (id, name, max_hourly_kwh, snoozed_until) VALUES ($1, 'Kiln', 1, $2)")
        .bind(id)
        .bind(snoozed_until)
        .execute(&database.pool)
        .await
        .unwrap();
    CachedDevice {
        id,
        name: "Kiln".into(),
        max_hourly_kwh: Kwh::from_f64(1.0).unwrap(),
        owner_id: None,
        forecast_alerts: true,
    }
}

/// 1.5 kWh in 10 minutes ending at `hour` + 10 min: a peak (9 kW) and an overconsumption.
fn over_the_limit(device: &CachedDevice, hour: DateTime<Utc>) -> Metered {
    Metered {
        device_id: device.id,
        timestamp: hour + TimeDelta::minutes(10),
        kwh: Kwh::from_f64(1.5).unwrap(),
        interval_s: 600,
    }
}

#[tokio::test]
async fn a_snoozed_devices_alerts_are_stored_acknowledged_and_marked_snoozed() {
    let database = TestDatabase::create().await;
    let snoozed = device(&database, Some(Utc::now() + TimeDelta::hours(1))).await;
    let awake = device(&database, None).await;
    let was_snoozed = device(&database, Some(Utc::now() - TimeDelta::minutes(1))).await;
    let devices: HashMap<Uuid, CachedDevice> =
        [&snoozed, &awake, &was_snoozed].into_iter().map(|device| (device.id, device.clone())).collect();
    let hour: DateTime<Utc> = "2026-03-01T14:00:00Z".parse().unwrap();

    let readings = [over_the_limit(&snoozed, hour), over_the_limit(&awake, hour), over_the_limit(&was_snoozed, hour)];
    let stored = store::store(&database.pool, &readings, &devices).await.unwrap();

    let mut raised: Vec<(Uuid, AlertKind, bool)> =
        stored.alerts.iter().map(|alert| (alert.device_id, alert.kind, alert.snoozed)).collect();
    raised.sort();
    let mut expected = vec![
        (snoozed.id, AlertKind::Overconsumption, true),
        (snoozed.id, AlertKind::Peak, true),
        (awake.id, AlertKind::Overconsumption, false),
        (awake.id, AlertKind::Peak, false),
        (was_snoozed.id, AlertKind::Overconsumption, false),
        (was_snoozed.id, AlertKind::Peak, false),
    ];
    expected.sort();
    assert_eq!(raised, expected, "every alert is stored; only the snoozed device's are marked");

    let open: Vec<Uuid> =
        sqlx::query_scalar("SELECT DISTINCT device_id FROM alerts WHERE acknowledged_at IS NULL ORDER BY device_id")
            .fetch_all(&database.pool)
            .await
            .unwrap();
    let mut wanted = vec![awake.id, was_snoozed.id];
    wanted.sort();
    assert_eq!(open, wanted, "a snoozed device's alerts are not open");
    let snoozed_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM alerts WHERE device_id = $1 AND snoozed AND acknowledged_at IS NOT NULL",
    )
    .bind(snoozed.id)
    .fetch_one(&database.pool)
    .await
    .unwrap();
    assert_eq!(snoozed_rows, 2);

    // The peak's fields say which reading it was.
    let peak = stored.alerts.iter().find(|alert| alert.device_id == awake.id && alert.kind == AlertKind::Peak).unwrap();
    assert_eq!((peak.reading_at, peak.interval_s, peak.value), (Some(hour + TimeDelta::minutes(10)), Some(600), 9.0));

    // Snooze off: the next hour's alerts are open.
    sqlx::query("UPDATE devices SET snoozed_until = NULL WHERE id = $1")
        .bind(snoozed.id)
        .execute(&database.pool)
        .await
        .unwrap();
    let next =
        store::store(&database.pool, &[over_the_limit(&snoozed, hour + TimeDelta::hours(1))], &devices).await.unwrap();
    assert_eq!(next.alerts.iter().map(|alert| alert.snoozed).collect::<Vec<_>>(), [false, false]);
}

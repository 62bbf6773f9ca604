//! Raw readings in daily partitions, against the real PostgreSQL: a batch creates the days it
//! needs, a reading sent again is skipped whichever side of midnight it falls on, and the
//! retention drops whole days of raw readings while every hourly total stays.

use std::collections::HashMap;

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use ems_common::{energy::Kwh, testing::TestDatabase};
use ems_monitors::{
    Retention,
    devices::CachedDevice,
    partitions,
    store::{self, Metered},
};
use sqlx::PgPool;
use uuid::Uuid;

/// A device nobody's readings take over its limit, as the monitors' cache holds it, and its id.
async fn device(pool: &PgPool) -> (HashMap<Uuid, CachedDevice>, Uuid) {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO devices (id, name, max_hourly_kwh) VALUES ($1, 'Boiler', 100)")
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    let device = CachedDevice {
        id,
        name: "Boiler".into(),
        max_hourly_kwh: Kwh::from_f64(100.0).unwrap(),
        owner_id: None,
        forecast_alerts: true,
    };
    (HashMap::from([(id, device)]), id)
}

fn reading(device_id: Uuid, timestamp: DateTime<Utc>, kwh: &str) -> Metered {
    Metered { device_id, timestamp, kwh: kwh.parse().unwrap(), interval_s: 600 }
}

async fn partition_days(pool: &PgPool) -> Vec<NaiveDate> {
    partitions::list(pool).await.unwrap().into_iter().map(|(_, day)| day).collect()
}

/// (hour, kWh as text, readings) of every hourly total, in order.
async fn totals(pool: &PgPool) -> Vec<(DateTime<Utc>, String, i32)> {
    sqlx::query_as("SELECT hour, kwh::text, readings FROM hourly_consumption ORDER BY hour")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn raw_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM readings").fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_batch_across_midnight_goes_into_both_days_and_counts_once_when_sent_again() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let (devices, id) = device(pool).await;
    // A backfill of days nobody created partitions for, across midnight.
    let midnight: DateTime<Utc> = "2025-06-02T00:00:00Z".parse().unwrap();
    let batch = [
        reading(id, midnight - TimeDelta::minutes(10), "0.25"),
        reading(id, midnight, "0.5"),
        reading(id, midnight + TimeDelta::minutes(10), "0.125"),
    ];

    let first = store::store(pool, &batch, &devices).await.unwrap();
    assert_eq!((first.inserted, first.duplicates), (3, 0));
    let days = partition_days(pool).await;
    for day in ["2025-06-01", "2025-06-02"] {
        assert!(days.contains(&day.parse().unwrap()), "no partition for {day} in {days:?}");
    }

    let again = store::store(pool, &batch, &devices).await.unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 3), "a resent batch is skipped on both sides of midnight");
    assert_eq!(
        totals(pool).await,
        [
            ("2025-06-01T23:00:00Z".parse().unwrap(), "0.250000".to_owned(), 1),
            ("2025-06-02T00:00:00Z".parse().unwrap(), "0.625000".to_owned(), 2),
        ]
    );
    let per_partition: Vec<(String, i64)> =
        sqlx::query_as("SELECT tableoid::regclass::text, count(*) FROM readings GROUP BY 1 ORDER BY 1")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(per_partition, [("readings_20250601".to_owned(), 1), ("readings_20250602".to_owned(), 2)]);
}

#[tokio::test]
async fn the_retention_drops_whole_days_of_raw_readings_and_keeps_every_hourly_total() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let (devices, id) = device(pool).await;
    let now = Utc::now();
    let hour = now.duration_trunc(TimeDelta::hours(1)).unwrap();
    let days_ago = |days: i64| hour - TimeDelta::days(days);
    // 100 and 92 days old: past 90 days and the day of grace; 90 days and 10 minutes old: past
    // the retention, but its day is not over a day past it; 10 days old and now: kept.
    let batch = [
        reading(id, days_ago(100), "1"),
        reading(id, days_ago(92), "2"),
        reading(id, days_ago(90) - TimeDelta::minutes(10), "3"),
        reading(id, days_ago(10), "4"),
        reading(id, hour, "5"),
    ];
    store::store(pool, &batch, &devices).await.unwrap();
    let totals_before = totals(pool).await;
    assert_eq!(totals_before.len(), 5);

    let done = partitions::upkeep(pool, Retention::days(90), now).await.unwrap();

    let name = |at: DateTime<Utc>| format!("readings_{}", at.format("%Y%m%d"));
    assert_eq!(done.dropped, [name(days_ago(100)), name(days_ago(92))]);
    let days = partition_days(pool).await;
    let today = now.date_naive();
    for day in [days_ago(90) - TimeDelta::minutes(10), days_ago(10)]
        .map(|at| at.date_naive())
        .into_iter()
        .chain((-1..=partitions::DAYS_AHEAD).map(|offset| today + TimeDelta::days(offset)))
    {
        assert!(days.contains(&day), "no partition for {day} in {days:?}");
    }
    assert!(done.created >= partitions::DAYS_AHEAD as i32, "the week ahead is created: {done:?}");
    assert_eq!(raw_count(pool).await, 3, "the two oldest days' raw readings are gone");
    assert_eq!(totals(pool).await, totals_before, "hourly totals are kept forever");

    let again = partitions::upkeep(pool, Retention::days(90), now).await.unwrap();
    assert_eq!(again, partitions::Upkeep::default(), "a second round finds nothing to do");
    let forever = partitions::upkeep(pool, Retention::FOREVER, now + TimeDelta::days(400)).await.unwrap();
    assert!(forever.dropped.is_empty(), "kept forever: {forever:?}");
}

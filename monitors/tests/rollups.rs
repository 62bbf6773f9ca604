//! Monthly rollups against the real PostgreSQL: ended months are summed per device once, from
//! where the rollups stand, and the months still open are left to their hours.

use chrono::{DateTime, Utc};
use ems_common::testing::TestDatabase;
use ems_monitors::rollups::{self, Rolled};
use uuid::Uuid;

#[tokio::test]
async fn ended_months_are_rolled_up_once_for_every_device_with_hours_in_them() {
    let database = TestDatabase::create().await;
    let pool = &database.pool;
    let (boiler, idle) = (Uuid::new_v4(), Uuid::new_v4());
    for id in [boiler, idle] {
        sqlx::query("INSERT INTO devices (id, name, max_hourly_kwh) VALUES ($1, 'Meter', 100)")
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
    }
    // January to March 2026, a tenth of a kWh an hour, then a history loaded as a backfill
    // would be: its late-hour marks gone, the rollups told to start in January.
    sqlx::query(
        "INSERT INTO hourly_consumption (device_id, hour, kwh, readings) \
         SELECT $1, hour, 0.1, 6 FROM generate_series('2026-01-01T00:00Z'::timestamptz, '2026-03-31T23:00Z', \
           interval '1 hour') AS hour",
    )
    .bind(boiler)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM monthly_consumption_stale").execute(pool).await.unwrap();
    sqlx::query("UPDATE monthly_consumption_state SET rolled_before = '2026-01-01T00:00Z'")
        .execute(pool)
        .await
        .unwrap();

    // On 1 April the grace day has not passed, so March waits.
    let first_of_april: DateTime<Utc> = "2026-04-01T12:00:00Z".parse().unwrap();
    assert_eq!(rollups::upkeep(pool, first_of_april).await.unwrap(), Rolled { months: 2, refreshed: 0 });
    let rolled: Vec<(Uuid, DateTime<Utc>, String)> =
        sqlx::query_as("SELECT device_id, month, kwh::text FROM monthly_consumption ORDER BY month")
            .fetch_all(pool)
            .await
            .unwrap();
    let expected: Vec<(Uuid, DateTime<Utc>, String)> = vec![
        (boiler, "2026-01-01T00:00:00Z".parse().unwrap(), "74.400000".into()),
        (boiler, "2026-02-01T00:00:00Z".parse().unwrap(), "67.200000".into()),
    ];
    assert_eq!(rolled, expected, "744 and 672 hours of 0.1 kWh; nothing for the idle device");

    let april_second: DateTime<Utc> = "2026-04-02T00:00:00Z".parse().unwrap();
    assert_eq!(rollups::upkeep(pool, april_second).await.unwrap(), Rolled { months: 1, refreshed: 0 });
    assert_eq!(rollups::upkeep(pool, april_second).await.unwrap(), Rolled::default(), "a second round does nothing");
    let march: String =
        sqlx::query_scalar("SELECT kwh::text FROM monthly_consumption WHERE month = '2026-03-01T00:00Z'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(march, "74.400000");
}

//! The monitor's store against the real PostgreSQL: hourly totals and limits compare as the
//! decimals the meters sent, so a total equal to the limit raises nothing and one micro-kWh
//! above it raises exactly one alert.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use ems_common::{contracts::AlertKind, energy::Kwh, testing::TestDatabase};
use ems_ingress::Reading;
use ems_monitors::{
    devices::CachedDevice,
    store::{self, Metered},
};
use sqlx::PgPool;
use uuid::Uuid;

struct Meter {
    database: TestDatabase,
    device: CachedDevice,
    hour: DateTime<Utc>,
}

impl Meter {
    /// A device with `limit` kWh per hour, as set over the API (a JSON number).
    async fn with_limit(limit: f64) -> Self {
        let database = TestDatabase::create().await;
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO devices (id, name, max_hourly_kwh) VALUES ($1, 'Heat pump', $2)")
            .bind(id)
            .bind(Kwh::from_f64(limit).unwrap())
            .execute(&database.pool)
            .await
            .unwrap();
        let device = sqlx::query_as::<_, CachedDevice>(
            "SELECT id, name, max_hourly_kwh, owner_id, forecast_alerts FROM devices",
        )
        .fetch_one(&database.pool)
        .await
        .unwrap();
        let hour = "2026-03-01T14:00:00Z".parse().unwrap();
        Self { database, device, hour }
    }

    fn pool(&self) -> &PgPool {
        &self.database.pool
    }

    /// Stores readings (minute past the hour they end at, kWh, interval in seconds) in one batch,
    /// parsed as the meter's JSON is; returns the alerts raised.
    async fn send(&self, readings: &[(i64, f64, u32)]) -> Vec<(AlertKind, f64, String)> {
        let readings: Vec<Metered> = readings
            .iter()
            .map(|&(minute, value, interval_s)| {
                let json = serde_json::json!({
                    "device_id": self.device.id,
                    "timestamp": (self.hour + TimeDelta::minutes(minute)).timestamp_millis(),
                    "measurement_value": value,
                    "interval_s": interval_s,
                });
                let reading: Reading = ems_ingress::reading::parse(json.to_string().as_bytes(), self.hour).unwrap();
                Metered::new(&reading).unwrap()
            })
            .collect();
        let devices = HashMap::from([(self.device.id, self.device.clone())]);
        let stored = store::store(self.pool(), &readings, &devices).await.unwrap();
        stored.alerts.into_iter().map(|alert| (alert.kind, alert.value, alert.message)).collect()
    }

    async fn total(&self) -> String {
        sqlx::query_scalar("SELECT kwh::text FROM hourly_consumption WHERE device_id = $1")
            .bind(self.device.id)
            .fetch_one(self.pool())
            .await
            .unwrap()
    }

    async fn stored_alerts(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM alerts").fetch_one(self.pool()).await.unwrap()
    }
}

// Every reading below but the last of each test is also exactly at the limit in average power
// (0.4 kWh in 20 minutes is 1.2 kW); in floating point each one is above it (1.2000000000000002).

#[tokio::test]
async fn three_readings_of_0_4_kwh_reach_a_limit_of_1_2_without_passing_it() {
    let meter = Meter::with_limit(1.2).await;
    assert!(meter.send(&[(20, 0.4, 1200), (40, 0.4, 1200)]).await.is_empty());
    assert!(meter.send(&[(59, 0.4, 1200)]).await.is_empty(), "the stored total plus 0.4 is exactly the limit");
    assert_eq!(meter.total().await, "1.200000");

    let alerts = meter.send(&[(59, 0.000001, 1)]).await;
    assert!(alerts.is_empty(), "a reading already stored counts once");
    let alerts = meter.send(&[(50, 0.000001, 600)]).await;
    assert_eq!(
        alerts,
        [(
            AlertKind::Overconsumption,
            1.200001,
            "Heat pump used 1.200001 kWh in the hour 2026-03-01 14:00–15:00 UTC, above its limit of 1.20 kWh".into()
        )]
    );
    assert!(meter.send(&[(55, 0.000001, 300)]).await.is_empty(), "one alert per device, hour and kind");
    assert_eq!(meter.stored_alerts().await, 1);
    assert_eq!(meter.total().await, "1.200002");
}

#[tokio::test]
async fn readings_of_0_1_and_0_2_kwh_reach_a_limit_of_0_3_in_one_batch() {
    let meter = Meter::with_limit(0.3).await;
    assert!(meter.send(&[(20, 0.1, 1200), (59, 0.2, 2400)]).await.is_empty());
    assert_eq!(meter.total().await, "0.300000");
    let alerts = meter.send(&[(30, 0.000001, 600)]).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!((alerts[0].0, alerts[0].1), (AlertKind::Overconsumption, 0.300001));
}

#[tokio::test]
async fn a_reading_whose_average_power_is_exactly_the_limit_is_no_peak() {
    // 0.003 kWh in 10 minutes is 0.018 kW, exactly the limit; one micro-kWh more is a peak.
    let meter = Meter::with_limit(0.018).await;
    assert!(meter.send(&[(10, 0.003, 600)]).await.is_empty());
    let alerts = meter.send(&[(20, 0.003001, 600)]).await;
    assert_eq!(
        alerts.iter().map(|(kind, value, _)| (*kind, *value)).collect::<Vec<_>>(),
        [(AlertKind::Peak, 0.018006)]
    );
    assert_eq!(
        alerts[0].2,
        "Heat pump drew 0.018006 kW on average over the 10 minutes ending 2026-03-01 14:20 UTC, above its limit of 0.018 kW"
    );
    assert!(meter.send(&[(30, 0.004, 600)]).await.is_empty(), "one peak alert per device and hour");

    // 0.7 kWh in 21 minutes is exactly 2 kW; 0.700001 is 2.0000028... kW, shown rounded up.
    let meter = Meter::with_limit(2.0).await;
    assert!(meter.send(&[(21, 0.7, 1260)]).await.is_empty());
    let alerts = meter.send(&[(42, 0.700001, 1260)]).await;
    assert_eq!(
        alerts.iter().map(|(kind, value, _)| (*kind, *value)).collect::<Vec<_>>(),
        [(AlertKind::Peak, 2.000003)]
    );
}

#[tokio::test]
async fn more_than_six_decimals_are_rounded_to_the_micro_kwh() {
    let meter = Meter::with_limit(1.0).await;
    assert!(meter.send(&[(10, 0.1234564, 600), (20, 0.0000005, 600)]).await.is_empty());
    assert_eq!(meter.total().await, "0.123457");
}

//! What support may read about a customer: their devices with limits and recent totals, and their
//! open alerts. Behind a trait so the decision logic can be tested without a database.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use ems_common::contracts::AlertKind;
use sqlx::PgPool;
use uuid::Uuid;

/// One of the customer's devices, with its consumption today and yesterday (UTC days).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct DeviceSummary {
    pub name: String,
    pub max_hourly_kwh: f64,
    pub today_kwh: f64,
    pub yesterday_kwh: f64,
}

/// Alerts the customer has not acknowledged yet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpenAlerts {
    pub count: i64,
    /// The most recently raised; `None` exactly when `count` is zero.
    pub latest: Option<AlertSummary>,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct AlertSummary {
    pub device_name: String,
    pub kind: AlertKind,
    /// Start of the hour (UTC) the alert is about.
    pub hour: DateTime<Utc>,
    pub message: String,
}

#[async_trait]
pub trait CustomerData: Send + Sync {
    /// The customer's devices, ordered by name, with totals for `today` and the day before.
    async fn devices(&self, customer: Uuid, today: NaiveDate) -> anyhow::Result<Vec<DeviceSummary>>;

    async fn open_alerts(&self, customer: Uuid) -> anyhow::Result<OpenAlerts>;
}

/// Total kWh of all devices today.
pub fn today_total(devices: &[DeviceSummary]) -> f64 {
    devices.iter().map(|device| device.today_kwh).sum()
}

/// The device that has used the most today; the first by name on a tie, none if nothing has
/// been used yet.
pub fn top_device_today(devices: &[DeviceSummary]) -> Option<&DeviceSummary> {
    devices.iter().filter(|device| device.today_kwh > 0.0).fold(None, |best, device| match best {
        Some(best) if best.today_kwh >= device.today_kwh => Some(best),
        _ => Some(device),
    })
}

/// [`CustomerData`] read from the EMS database.
#[derive(Clone, Debug)]
pub struct PgCustomerData {
    pool: PgPool,
}

impl PgCustomerData {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl CustomerData for PgCustomerData {
    async fn devices(&self, customer: Uuid, today: NaiveDate) -> anyhow::Result<Vec<DeviceSummary>> {
        let midnight = today.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        let devices = sqlx::query_as(
            "SELECT d.name, d.max_hourly_kwh::float8 AS max_hourly_kwh, \
                    COALESCE(sum(h.kwh) FILTER (WHERE h.hour >= $2), 0)::float8 AS today_kwh, \
                    COALESCE(sum(h.kwh) FILTER (WHERE h.hour < $2), 0)::float8 AS yesterday_kwh \
             FROM devices d \
             LEFT JOIN hourly_consumption h ON h.device_id = d.id \
                  AND h.hour >= $2 - interval '1 day' AND h.hour < $2 + interval '1 day' \
             WHERE d.owner_id = $1 GROUP BY d.id ORDER BY d.name, d.id",
        )
        .bind(customer)
        .bind(midnight)
        .fetch_all(&self.pool)
        .await?;
        Ok(devices)
    }

    async fn open_alerts(&self, customer: Uuid) -> anyhow::Result<OpenAlerts> {
        // The window count is taken before LIMIT, so one row carries both the total and the latest.
        let row = sqlx::query_as::<_, OpenAlertRow>(
            "SELECT count(*) OVER () AS open, d.name AS device_name, a.kind, a.hour, a.message \
             FROM alerts a JOIN devices d ON d.id = a.device_id \
             WHERE a.user_id = $1 AND a.acknowledged_at IS NULL ORDER BY a.id DESC LIMIT 1",
        )
        .bind(customer)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map_or_else(OpenAlerts::default, |row| OpenAlerts { count: row.open, latest: Some(row.latest) }))
    }
}

#[derive(sqlx::FromRow)]
struct OpenAlertRow {
    open: i64,
    #[sqlx(flatten)]
    latest: AlertSummary,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str, today_kwh: f64) -> DeviceSummary {
        DeviceSummary { name: name.into(), max_hourly_kwh: 1.0, today_kwh, yesterday_kwh: 0.0 }
    }

    #[test]
    fn the_top_device_is_the_biggest_today_and_the_first_by_name_on_a_tie() {
        let devices = [device("Boiler", 2.0), device("Heat pump", 5.0), device("Oven", 5.0)];
        assert_eq!(top_device_today(&devices).unwrap().name, "Heat pump");
        assert_eq!(today_total(&devices), 12.0);
    }

    #[test]
    fn there_is_no_top_device_before_anything_is_used() {
        assert_eq!(top_device_today(&[device("Boiler", 0.0)]), None);
        assert_eq!(top_device_today(&[]), None);
    }
}

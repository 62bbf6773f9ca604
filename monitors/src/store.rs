//! One batch of readings into PostgreSQL, in one transaction: new readings are inserted (ones seen
//! before are skipped by their key), hourly totals grow by exactly the new readings, and alerts
//! are inserted once per device, hour and kind. Only what this transaction newly inserted counts,
//! so a batch redelivered after a crash changes nothing the second time.
//!
//! An alert of a device snoozed at that moment (`devices.snoozed_until` in the future, read in
//! the same transaction, so a snooze counts from its commit on) is stored `snoozed` and already
//! acknowledged: kept, but nothing to act on; the worker does not publish it.
//!
//! A device's hour still in progress whose total is within the limit but forecast to go above it
//! (see [`crate::forecast`]) raises a `forecast` alert, once per device and hour like the others,
//! unless its owner turned those off.
//!
//! Energy is summed and compared as exact decimals ([`Kwh`]): a total equal to the limit is not
//! above it, however the readings add up in binary floating point.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use ems_common::{
    contracts::{AlertEvent, AlertKind},
    energy::{KWH_DECIMALS, Kwh, display_decimal},
};
use ems_ingress::Reading;
use rust_decimal::{Decimal, RoundingStrategy};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::{
    devices::CachedDevice,
    forecast::{self, HourSoFar},
};

#[derive(Debug, Default)]
pub struct Stored {
    /// Readings inserted now.
    pub inserted: usize,
    /// Readings skipped because they were stored before.
    pub duplicates: usize,
    /// Alerts raised by this batch, in insertion order.
    pub alerts: Vec<AlertEvent>,
}

/// A reading with its energy as the exact amount that is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Metered {
    pub device_id: Uuid,
    pub timestamp: DateTime<Utc>,
    pub kwh: Kwh,
    pub interval_s: u32,
}

impl Metered {
    /// The reading's value as the decimal it was sent as, rounded to the micro-kWh; `None` for a
    /// value no decimal holds (ingress never lets one through).
    pub fn new(reading: &Reading) -> Option<Metered> {
        Some(Metered {
            device_id: reading.device_id,
            timestamp: reading.timestamp,
            kwh: Kwh::from_f64(reading.measurement_value)?,
            interval_s: reading.interval_s,
        })
    }
}

pub fn hour_of(timestamp: DateTime<Utc>) -> DateTime<Utc> {
    timestamp.duration_trunc(TimeDelta::hours(1)).expect("an hour divides any timestamp")
}

/// Stores readings of known devices. Retries on deadlock or serialisation failure.
pub async fn store(pool: &PgPool, readings: &[Metered], devices: &HashMap<Uuid, CachedDevice>) -> sqlx::Result<Stored> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut transaction = pool.begin().await?;
        match store_in(&mut transaction, readings, devices).await {
            Ok(stored) => {
                let committing = std::time::Instant::now();
                transaction.commit().await?;
                metrics::histogram!("monitor_commit_seconds").record(committing.elapsed().as_secs_f64());
                return Ok(stored);
            }
            Err(sqlx::Error::Database(error))
                if attempt < 5 && matches!(error.code().as_deref(), Some("40P01" | "40001")) =>
            {
                tracing::debug!(attempt, "transaction conflict; retrying the batch");
                drop(transaction);
            }
            // A day whose partition is not there yet (a backfill, or a day past the ones created
            // ahead): create the batch's days outside the transaction, then store it again.
            Err(sqlx::Error::Database(error)) if attempt < 5 && is_missing_partition(error.as_ref()) => {
                drop(transaction);
                let days: BTreeSet<_> = readings.iter().map(|reading| reading.timestamp.date_naive()).collect();
                let created = crate::partitions::create_days(pool, &days).await?;
                tracing::info!(days = days.len(), created, "created daily partitions of raw readings for a batch");
            }
            Err(error) => return Err(error),
        }
    }
}

/// PostgreSQL's answer to a row that no partition of `readings` takes.
fn is_missing_partition(error: &dyn sqlx::error::DatabaseError) -> bool {
    error.code().as_deref() == Some("23514") && error.message().starts_with("no partition of relation")
}

async fn store_in(
    transaction: &mut Transaction<'_, Postgres>,
    readings: &[Metered],
    devices: &HashMap<Uuid, CachedDevice>,
) -> sqlx::Result<Stored> {
    // Sorted keys make every transaction lock rows in the same order, so two replicas writing the
    // same device and hour wait for each other instead of deadlocking.
    let mut sorted: Vec<&Metered> = readings.iter().collect();
    sorted.sort_by_key(|reading| (reading.device_id, reading.timestamp));
    let inserted: Vec<(Uuid, DateTime<Utc>, Kwh, i32)> = sqlx::query_as(
        "INSERT INTO readings (device_id, ts, kwh, interval_s) \
         SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::numeric[], $4::int4[]) \
         ON CONFLICT DO NOTHING RETURNING device_id, ts, kwh, interval_s",
    )
    .bind(sorted.iter().map(|reading| reading.device_id).collect::<Vec<_>>())
    .bind(sorted.iter().map(|reading| reading.timestamp).collect::<Vec<_>>())
    .bind(sorted.iter().map(|reading| reading.kwh).collect::<Vec<_>>())
    .bind(sorted.iter().map(|reading| reading.interval_s as i32).collect::<Vec<_>>())
    .fetch_all(&mut **transaction)
    .await?;

    let mut stored = Stored { inserted: inserted.len(), duplicates: readings.len() - inserted.len(), alerts: vec![] };
    if inserted.is_empty() {
        return Ok(stored);
    }

    let mut hourly: BTreeMap<(Uuid, DateTime<Utc>), (Kwh, i32)> = BTreeMap::new();
    for (device_id, timestamp, kwh, _) in &inserted {
        let entry = hourly.entry((*device_id, hour_of(*timestamp))).or_default();
        entry.0 = entry.0 + *kwh;
        entry.1 += 1;
    }
    let totals: Vec<(Uuid, DateTime<Utc>, Kwh)> = sqlx::query_as(
        "INSERT INTO hourly_consumption (device_id, hour, kwh, readings) \
         SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::numeric[], $4::int4[]) \
         ON CONFLICT (device_id, hour) DO UPDATE SET kwh = hourly_consumption.kwh + EXCLUDED.kwh, \
           readings = hourly_consumption.readings + EXCLUDED.readings \
         RETURNING device_id, hour, kwh",
    )
    .bind(hourly.keys().map(|(device_id, _)| *device_id).collect::<Vec<_>>())
    .bind(hourly.keys().map(|(_, hour)| *hour).collect::<Vec<_>>())
    .bind(hourly.values().map(|(kwh, _)| *kwh).collect::<Vec<_>>())
    .bind(hourly.values().map(|(_, count)| *count).collect::<Vec<_>>())
    .fetch_all(&mut **transaction)
    .await?;

    let candidates = alert_candidates(&inserted, &totals, devices, Utc::now());
    if candidates.is_empty() {
        return Ok(stored);
    }
    let rows: Vec<AlertRow> = sqlx::query_as(
        "INSERT INTO alerts (device_id, user_id, kind, hour, value, limit_kwh, reading_at, interval_s, message, \
           snoozed, acknowledged_at) \
         SELECT c.device_id, c.user_id, c.kind::alert_kind, c.hour, c.value, c.limit_kwh, c.reading_at, c.interval_s, \
           c.message, COALESCE(d.snoozed_until > now(), false), CASE WHEN d.snoozed_until > now() THEN now() END \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::numeric[], $6::numeric[], \
           $7::timestamptz[], $8::int4[], $9::text[]) \
           AS c(device_id, user_id, kind, hour, value, limit_kwh, reading_at, interval_s, message) \
         JOIN devices d ON d.id = c.device_id \
         ON CONFLICT ON CONSTRAINT alerts_once_per_device_hour_kind DO NOTHING \
         RETURNING id, device_id, user_id, kind, hour, value::float8 AS value, limit_kwh::float8 AS limit_kwh, \
           reading_at, interval_s, snoozed, message, created_at",
    )
    .bind(candidates.iter().map(|alert| alert.device_id).collect::<Vec<_>>())
    .bind(candidates.iter().map(|alert| alert.user_id).collect::<Vec<_>>())
    .bind(candidates.iter().map(|alert| alert.kind.as_str()).collect::<Vec<_>>())
    .bind(candidates.iter().map(|alert| alert.hour).collect::<Vec<_>>())
    .bind(candidates.iter().map(|alert| alert.value).collect::<Vec<_>>())
    .bind(candidates.iter().map(|alert| alert.limit_kwh).collect::<Vec<_>>())
    .bind(candidates.iter().map(|alert| alert.reading_at).collect::<Vec<_>>())
    .bind(candidates.iter().map(|alert| alert.interval_s).collect::<Vec<_>>())
    .bind(candidates.iter().map(|alert| alert.message.clone()).collect::<Vec<_>>())
    .fetch_all(&mut **transaction)
    .await?;
    stored.alerts = rows
        .into_iter()
        .map(|row| AlertEvent {
            id: row.id,
            device_name: devices.get(&row.device_id).map(|device| device.name.clone()).unwrap_or_default(),
            device_id: row.device_id,
            user_id: row.user_id,
            kind: row.kind,
            hour: row.hour,
            value: row.value,
            limit_kwh: row.limit_kwh,
            reading_at: row.reading_at,
            interval_s: row.interval_s,
            snoozed: row.snoozed,
            message: row.message,
            created_at: row.created_at,
        })
        .collect();
    Ok(stored)
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: i64,
    device_id: Uuid,
    user_id: Option<Uuid>,
    kind: AlertKind,
    hour: DateTime<Utc>,
    value: f64,
    limit_kwh: f64,
    reading_at: Option<DateTime<Utc>>,
    interval_s: Option<i32>,
    snoozed: bool,
    message: String,
    created_at: DateTime<Utc>,
}

struct Candidate {
    device_id: Uuid,
    user_id: Option<Uuid>,
    kind: AlertKind,
    hour: DateTime<Utc>,
    /// kWh (overconsumption, or a forecast's total) or kW (peak), to the stored six places.
    value: Decimal,
    limit_kwh: Kwh,
    /// A peak's reading, or the one a forecast was made after: the end of its interval and its
    /// length in seconds.
    reading_at: Option<DateTime<Utc>>,
    interval_s: Option<i32>,
    message: String,
}

/// Whether `kwh` used in `interval_s` seconds is an average power above `limit` kWh per hour:
/// `kwh / (interval_s / 3600) > limit`, multiplied out so that no division rounds.
fn average_power_above(kwh: Kwh, interval_s: i32, limit: Kwh) -> bool {
    kwh.decimal() * Decimal::from(3600) > limit.decimal() * Decimal::from(interval_s)
}

/// Average power in kW, rounded up to the stored places, so a peak above its limit never shows
/// (or is stored) as equal to it.
fn average_kw(kwh: Kwh, interval_s: i32) -> Decimal {
    (kwh.decimal() * Decimal::from(3600) / Decimal::from(interval_s))
        .round_dp_with_strategy(KWH_DECIMALS, RoundingStrategy::ToPositiveInfinity)
        .normalize()
}

/// "10 minutes", "1 minute", "7 seconds": a reading's interval as a person would say it.
fn interval_words(interval_s: i32) -> String {
    let (count, unit) = if interval_s % 60 == 0 { (interval_s / 60, "minute") } else { (interval_s, "second") };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// Overconsumption: an hour whose total now exceeds the limit. Peak: a new reading whose average
/// power exceeds it (the largest per device and hour). Forecast: an hour not yet over at `now`
/// whose total is within the limit but forecast after its latest new reading to go above it. The
/// database keeps only the first of each.
fn alert_candidates(
    inserted: &[(Uuid, DateTime<Utc>, Kwh, i32)],
    totals: &[(Uuid, DateTime<Utc>, Kwh)],
    devices: &HashMap<Uuid, CachedDevice>,
    now: DateTime<Utc>,
) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    // Per device and hour in progress: the latest new reading (its end, energy and interval).
    type Latest = (DateTime<Utc>, Kwh, i32);
    let mut latest: HashMap<(Uuid, DateTime<Utc>), Latest> = HashMap::new();
    for &(device_id, timestamp, kwh, interval_s) in inserted {
        // Only hours still in progress are forecast: a backfill's readings need no map.
        let hour = hour_of(timestamp);
        if hour + TimeDelta::hours(1) <= now {
            continue;
        }
        let entry = latest.entry((device_id, hour)).or_insert((timestamp, kwh, interval_s));
        if timestamp > entry.0 {
            *entry = (timestamp, kwh, interval_s);
        }
    }
    for (device_id, hour, total) in totals {
        let Some(device) = devices.get(device_id) else { continue };
        if device.forecast_alerts
            && let Some(&(last_at, last_kwh, last_interval_s)) = latest.get(&(*device_id, *hour))
        {
            let so_far = HourSoFar { hour: *hour, total: *total, last_at, last_kwh, last_interval_s };
            if let Some(forecast) = forecast::RULE.forecast(&so_far, device.max_hourly_kwh) {
                candidates.push(Candidate {
                    device_id: *device_id,
                    user_id: device.owner_id,
                    kind: AlertKind::Forecast,
                    hour: *hour,
                    value: forecast.total,
                    limit_kwh: device.max_hourly_kwh,
                    reading_at: Some(last_at),
                    interval_s: Some(last_interval_s),
                    message: format!(
                        "{} is on course to use {} kWh in the hour {}–{} UTC, above its limit of {} kWh: {total} kWh \
                         so far with {} of the hour left, and at this rate the limit is reached in {}",
                        device.name,
                        display_decimal(forecast.total),
                        hour.format("%Y-%m-%d %H:00"),
                        (*hour + TimeDelta::hours(1)).format("%H:00"),
                        device.max_hourly_kwh,
                        forecast::minutes_words(forecast.hour_left).trim_start_matches("about "),
                        forecast::minutes_words(forecast.limit_in),
                    ),
                });
            }
        }
        if *total > device.max_hourly_kwh {
            candidates.push(Candidate {
                device_id: *device_id,
                user_id: device.owner_id,
                kind: AlertKind::Overconsumption,
                hour: *hour,
                value: total.decimal(),
                limit_kwh: device.max_hourly_kwh,
                reading_at: None,
                interval_s: None,
                message: format!(
                    "{} used {total} kWh in the hour {}–{} UTC, above its limit of {} kWh",
                    device.name,
                    hour.format("%Y-%m-%d %H:00"),
                    (*hour + TimeDelta::hours(1)).format("%H:00"),
                    device.max_hourly_kwh
                ),
            });
        }
    }
    // Per device and hour: the reading of the highest average power, with its end and interval.
    type Peak = (Kwh, DateTime<Utc>, i32);
    let mut peaks: BTreeMap<(Uuid, DateTime<Utc>), Peak> = BTreeMap::new();
    for &(device_id, timestamp, kwh, interval_s) in inserted {
        let Some(device) = devices.get(&device_id) else { continue };
        if average_power_above(kwh, interval_s, device.max_hourly_kwh) {
            let entry = peaks.entry((device_id, hour_of(timestamp))).or_insert((kwh, timestamp, interval_s));
            // kwh / interval > best kwh / best interval, multiplied out.
            if kwh.decimal() * Decimal::from(entry.2) > entry.0.decimal() * Decimal::from(interval_s) {
                *entry = (kwh, timestamp, interval_s);
            }
        }
    }
    for ((device_id, hour), (kwh, timestamp, interval_s)) in peaks {
        let device = &devices[&device_id];
        let kw = average_kw(kwh, interval_s);
        candidates.push(Candidate {
            device_id,
            user_id: device.owner_id,
            kind: AlertKind::Peak,
            hour,
            value: kw,
            limit_kwh: device.max_hourly_kwh,
            reading_at: Some(timestamp),
            interval_s: Some(interval_s),
            // A limit of N kWh in an hour is an average power of N kW.
            message: format!(
                "{} drew {} kW on average over the {} ending {} UTC, above its limit of {} kW",
                device.name,
                display_decimal(kw),
                interval_words(interval_s),
                timestamp.format("%Y-%m-%d %H:%M"),
                device.max_hourly_kwh
            ),
        });
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_belongs_to_the_hour_it_falls_in() {
        let timestamp: DateTime<Utc> = "2026-03-01T14:59:59.999Z".parse().unwrap();
        assert_eq!(hour_of(timestamp).to_rfc3339(), "2026-03-01T14:00:00+00:00");
        let on_the_hour: DateTime<Utc> = "2026-03-01T15:00:00Z".parse().unwrap();
        assert_eq!(hour_of(on_the_hour), on_the_hour);
    }

    fn kwh(text: &str) -> Kwh {
        text.parse().unwrap()
    }

    #[test]
    fn candidates_follow_the_limit_strictly() {
        let device = CachedDevice {
            id: Uuid::new_v4(),
            name: "Oven".into(),
            max_hourly_kwh: kwh("2"),
            owner_id: None,
            forecast_alerts: true,
        };
        let devices = HashMap::from([(device.id, device.clone())]);
        let hour: DateTime<Utc> = "2026-03-01T14:00:00Z".parse().unwrap();
        let at = |minute: i64| hour + TimeDelta::minutes(minute);
        // 0.3 kWh in 10 minutes is 1.8 kW: no peak; 0.4 is 2.4 kW: a peak.
        let inserted = vec![
            (device.id, at(10), kwh("0.3"), 600),
            (device.id, at(20), kwh("0.4"), 600),
            (device.id, at(30), kwh("0.35"), 600),
        ];
        // An hour long past: no forecast, whatever its readings.
        let now = hour + TimeDelta::days(1);
        let exactly_at_limit = alert_candidates(&inserted, &[(device.id, hour, kwh("2"))], &devices, now);
        assert_eq!(exactly_at_limit.len(), 1);
        assert_eq!(exactly_at_limit[0].kind, AlertKind::Peak);
        assert_eq!(exactly_at_limit[0].value, Decimal::new(24, 1));
        assert_eq!(
            exactly_at_limit[0].message,
            "Oven drew 2.40 kW on average over the 10 minutes ending 2026-03-01 14:20 UTC, above its limit of 2.00 kW"
        );
        assert_eq!(exactly_at_limit[0].reading_at, Some(at(20)));
        assert_eq!(exactly_at_limit[0].interval_s, Some(600));
        let above = alert_candidates(&inserted, &[(device.id, hour, kwh("2.01"))], &devices, now);
        assert_eq!(
            above.iter().map(|candidate| candidate.kind).collect::<Vec<_>>(),
            [AlertKind::Overconsumption, AlertKind::Peak]
        );
        assert_eq!(
            above[0].message,
            "Oven used 2.01 kWh in the hour 2026-03-01 14:00–15:00 UTC, above its limit of 2.00 kWh"
        );
        assert_eq!((above[0].reading_at, above[0].interval_s), (None, None));
    }

    #[test]
    fn an_hour_in_progress_on_course_to_cross_its_limit_is_forecast_unless_its_owner_turned_that_off() {
        let mut device = CachedDevice {
            id: Uuid::new_v4(),
            name: "Oven".into(),
            max_hourly_kwh: kwh("2"),
            owner_id: None,
            forecast_alerts: true,
        };
        let hour: DateTime<Utc> = "2026-03-01T14:00:00Z".parse().unwrap();
        let at = |minute: i64| hour + TimeDelta::minutes(minute);
        // Readings ending 14:10 and 14:20 (the first of the batch is older), 1.2 kWh so far: at
        // 0.45 kWh per 10 minutes, the three to come make 2.55 kWh.
        let inserted = vec![(device.id, at(20), kwh("0.45"), 600), (device.id, at(10), kwh("0.3"), 600)];
        let totals = [(device.id, hour, kwh("1.2"))];
        let candidates = |device: &CachedDevice, now| {
            alert_candidates(&inserted, &totals, &HashMap::from([(device.id, device.clone())]), now)
        };
        let forecast = candidates(&device, at(21));
        // 0.45 kWh in 10 minutes is 2.7 kW: a peak as well (a forecast from the hour's own
        // readings needs one reading above the limit's average power).
        assert_eq!(
            forecast.iter().map(|candidate| candidate.kind).collect::<Vec<_>>(),
            [AlertKind::Forecast, AlertKind::Peak]
        );
        assert_eq!(forecast[0].value, Decimal::new(255, 2));
        assert_eq!((forecast[0].reading_at, forecast[0].interval_s), (Some(at(20)), Some(600)));
        assert_eq!(
            forecast[0].message,
            "Oven is on course to use 2.55 kWh in the hour 2026-03-01 14:00–15:00 UTC, above its limit of 2.00 kWh: \
             1.20 kWh so far with 40 minutes of the hour left, and at this rate the limit is reached in about 18 minutes"
        );
        // Once the hour is over, a warning would come too late.
        let kinds = |candidates: Vec<Candidate>| candidates.iter().map(|candidate| candidate.kind).collect::<Vec<_>>();
        assert_eq!(kinds(candidates(&device, at(60))), [AlertKind::Peak]);
        device.forecast_alerts = false;
        assert_eq!(kinds(candidates(&device, at(21))), [AlertKind::Peak]);
    }

    #[test]
    fn intervals_read_as_minutes_or_seconds() {
        assert_eq!(interval_words(600), "10 minutes");
        assert_eq!(interval_words(60), "1 minute");
        assert_eq!(interval_words(7), "7 seconds");
        assert_eq!(interval_words(1), "1 second");
    }

    #[test]
    fn average_power_is_compared_without_rounding() {
        // 0.003 kWh in 10 minutes is exactly 0.018 kW; floating point makes it 0.018000000000000002.
        assert!(!average_power_above(kwh("0.003"), 600, kwh("0.018")));
        assert!(!average_power_above(kwh("0.2"), 360, kwh("2")));
        assert!(average_power_above(kwh("0.003001"), 600, kwh("0.018")));
        // 0.00389 kWh in 7 seconds is 2.000571428... kW: rounded up, never shown as the limit.
        assert!(average_power_above(kwh("0.003890"), 7, kwh("2")));
        assert_eq!(average_kw(kwh("0.003890"), 7).to_string(), "2.000572");
        assert_eq!(average_kw(kwh("0.003"), 600).to_string(), "0.018");
    }
}

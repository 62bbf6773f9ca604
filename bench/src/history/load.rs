//! Loading the history: customers with four devices each, an hourly total for every device and
//! hour of the period, the raw readings of the last `raw_days`, and the alerts those hours raised,
//! as fast as PostgreSQL takes them: two `COPY` streams at once (hourly totals and raw readings,
//! one core each). Rows go in time order, every device's hour after the one before, as the
//! monitors write them live, so a device's year lies scattered over the table as it would in
//! production, not in one tidy run that would flatter every query.
//!
//! Every value comes from a deterministic function of (device, 10-minute step), so an hour's
//! total is exactly the sum of its six readings, and a reload makes the same data.

use std::{fmt::Write as _, time::Instant};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use sqlx::PgPool;
use uuid::Uuid;

pub const DEVICES_PER_CUSTOMER: usize = 4;
/// Every device's limit, in kWh per hour (so 1 kW of average power).
const LIMIT_KWH: i64 = 1;
/// Rows formatted before they are handed to `COPY`.
const CHUNK_BYTES: usize = 1 << 20;

/// What was loaded, as recorded in the database (`bench_history`), so a later run can reuse it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Loaded {
    pub devices: i32,
    pub days: i32,
    pub raw_days: i32,
    /// The data covers the hours before this one.
    pub end_hour: DateTime<Utc>,
    pub load_seconds: f64,
}

pub fn customer_id(index: usize) -> Uuid {
    Uuid::from_u64_pair(0x454d_5348_0000_0001, index as u64)
}

pub fn device_id(index: usize) -> Uuid {
    Uuid::from_u64_pair(0x454d_5348_0000_0002, index as u64)
}

/// splitmix64: a well-mixed 64-bit value from any input, so data looks random yet repeats.
fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

/// Energy in micro-kWh of `device` in the 10 minutes ending at `step` (10-minute steps since the
/// epoch): a base load of about 0.2 to 0.6 kWh an hour following the time of day, and about three
/// hours a week at 1.5 kWh, over the limit.
pub fn micro_kwh(device: usize, step: i64) -> i64 {
    let hour = step.div_euclid(6);
    if mix(((device as u64) << 32) ^ hour as u64).is_multiple_of(56) {
        return 250_000;
    }
    let hour_of_day = hour.rem_euclid(24);
    let shape = match hour_of_day {
        0..=5 => 30_000,
        6..=8 | 18..=22 => 90_000,
        _ => 55_000,
    };
    let noise = (mix(((device as u64) << 40) ^ step as u64) % 20_000) as i64;
    shape + noise + (device % 7) as i64 * 1_000
}

fn kwh_text(micro: i64) -> String {
    format!("{}.{:06}", micro / 1_000_000, micro % 1_000_000)
}

fn bar(progress: &MultiProgress, length: u64, what: &str) -> ProgressBar {
    let bar = progress.add(ProgressBar::new(length));
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{msg:>14}} [{{elapsed_precise}}] {{wide_bar}} {{human_pos}}/{{human_len}} {what} ({{per_sec}}, {{eta}} left)"
        ))
        .expect("a valid progress template"),
    );
    bar
}

/// Loads everything into the freshly migrated database of `pool`.
pub async fn load(pool: &PgPool, devices: usize, days: u32, raw_days: u32) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let end_hour = Utc::now().duration_trunc(TimeDelta::hours(1))?;
    let customers = devices.div_ceil(DEVICES_PER_CUSTOMER);
    sqlx::query(
        "INSERT INTO users (id, username, display_name, password_hash) \
         SELECT id, 'history-' || n, 'History customer ' || n, 'not a password' \
         FROM UNNEST($1::uuid[]) WITH ORDINALITY AS c(id, n)",
    )
    .bind((0..customers).map(customer_id).collect::<Vec<_>>())
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO devices (id, name, max_hourly_kwh, owner_id) \
         SELECT id, 'Meter ' || n, $3, owner FROM UNNEST($1::uuid[], $2::uuid[]) WITH ORDINALITY AS d(id, owner, n)",
    )
    .bind((0..devices).map(device_id).collect::<Vec<_>>())
    .bind((0..devices).map(|index| customer_id(index / DEVICES_PER_CUSTOMER)).collect::<Vec<_>>())
    .bind(LIMIT_KWH as f64)
    .execute(pool)
    .await?;

    let raw_start = end_hour - TimeDelta::days(i64::from(raw_days));
    sqlx::query("SELECT ems_create_readings_partitions($1, $2)")
        .bind(raw_start.date_naive())
        .bind(end_hour.date_naive())
        .execute(pool)
        .await?;

    let progress = MultiProgress::new();
    let hours = i64::from(days) * 24;
    let hourly_bar = bar(&progress, devices as u64 * hours as u64, "hourly totals");
    hourly_bar.set_message("hourly totals");
    let raw_steps = i64::from(raw_days) * 144;
    let raw_bar = bar(&progress, devices as u64 * raw_steps as u64, "readings");
    raw_bar.set_message("raw readings");
    let (hourly, raw) = tokio::join!(
        copy_hourly(pool, devices, end_hour - TimeDelta::hours(hours), hours, &hourly_bar),
        copy_readings(pool, devices, raw_start, i64::from(raw_days), &raw_bar),
    );
    hourly?;
    raw?;
    hourly_bar.finish();
    raw_bar.finish();

    // The hours went in without the trigger that marks late hours of ended months (the load's
    // `session_replication_role`), so the monthly rollups are told where the data begins.
    sqlx::query("UPDATE monthly_consumption_state SET rolled_before = date_trunc('month', $1::timestamptz, 'UTC')")
        .bind(end_hour - TimeDelta::hours(hours))
        .execute(pool)
        .await?;
    eprintln!("raising the alerts of the hours over the limit ...");
    insert_alerts(pool, end_hour).await?;
    eprintln!("VACUUM (ANALYZE) ...");
    sqlx::query("VACUUM (ANALYZE)").execute(pool).await?;

    let loaded = Loaded {
        devices: devices as i32,
        days: days as i32,
        raw_days: raw_days as i32,
        end_hour,
        load_seconds: started.elapsed().as_secs_f64(),
    };
    sqlx::query(
        "CREATE TABLE bench_history (devices int, days int, raw_days int, end_hour timestamptz, load_seconds float8)",
    )
    .execute(pool)
    .await?;
    sqlx::query("INSERT INTO bench_history VALUES ($1, $2, $3, $4, $5)")
        .bind(loaded.devices)
        .bind(loaded.days)
        .bind(loaded.raw_days)
        .bind(loaded.end_hour)
        .bind(loaded.load_seconds)
        .execute(pool)
        .await?;
    Ok(loaded)
}

/// What an earlier run loaded into this database, if it finished.
pub async fn loaded(pool: &PgPool) -> anyhow::Result<Option<Loaded>> {
    let exists: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('bench_history')::text").fetch_one(pool).await?;
    if exists.is_none() {
        return Ok(None);
    }
    Ok(sqlx::query_as("SELECT * FROM bench_history").fetch_optional(pool).await?)
}

/// A connection whose rows skip their foreign-key checks, when the server lets it (a superuser
/// may set `session_replication_role`): every generated row names a device that exists, and a
/// `COPY` of 90 million rows would otherwise spend minutes after its last row checking each one.
/// The connection leaves the pool, so the setting ends with it.
async fn without_foreign_key_checks(pool: &PgPool) -> anyhow::Result<sqlx::PgConnection> {
    let mut connection = pool.acquire().await?.detach();
    if let Err(error) = sqlx::query("SET session_replication_role = replica").execute(&mut connection).await {
        eprintln!("(loading with foreign-key checks: {error})");
    }
    Ok(connection)
}

/// Hourly totals, hour after hour: each the sum of its six readings.
async fn copy_hourly(
    pool: &PgPool,
    devices: usize,
    start: DateTime<Utc>,
    hours: i64,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let first_step = start.timestamp() / 600;
    let slots = (0..hours).map(|hour| (start + TimeDelta::hours(hour), first_step + hour * 6));
    copy_in_time_order(
        pool,
        "COPY hourly_consumption (device_id, hour, kwh, readings) FROM STDIN",
        devices,
        slots,
        bar,
        |row, id, at, device, step| {
            let total: i64 = (0..6).map(|offset| micro_kwh(device, step + offset)).sum();
            writeln!(row, "{id}\t{at}\t{}\t6", kwh_text(total))
        },
    )
    .await
}

/// Raw readings, ten minutes after ten minutes, every device's in each. A reading is stamped at
/// the start of its step, so the hour it falls in holds steps 0..6 of that hour.
async fn copy_readings(
    pool: &PgPool,
    devices: usize,
    start: DateTime<Utc>,
    days: i64,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let first_step = start.timestamp() / 600;
    let slots = (first_step..first_step + days * 144)
        .map(|step| (DateTime::from_timestamp(step * 600, 0).expect("a timestamp in range"), step));
    copy_in_time_order(
        pool,
        "COPY readings (device_id, ts, kwh, interval_s) FROM STDIN",
        devices,
        slots,
        bar,
        |row, id, at, device, step| writeln!(row, "{id}\t{at}\t{}\t600", kwh_text(micro_kwh(device, step))),
    )
    .await
}

/// Runs `statement` (a `COPY … FROM STDIN`) with one row per device for each slot (its instant
/// and 10-minute step), slot after slot, as `row` writes it; the bar counts rows.
async fn copy_in_time_order(
    pool: &PgPool,
    statement: &str,
    devices: usize,
    slots: impl Iterator<Item = (DateTime<Utc>, i64)>,
    bar: &ProgressBar,
    row: impl Fn(&mut String, &str, &str, usize, i64) -> std::fmt::Result,
) -> anyhow::Result<()> {
    let mut connection = without_foreign_key_checks(pool).await?;
    let mut copy = connection.copy_in_raw(statement).await?;
    let ids: Vec<String> = (0..devices).map(|device| device_id(device).to_string()).collect();
    let mut buffer = String::with_capacity(CHUNK_BYTES + 256);
    for (at, step) in slots {
        let at = at.format("%Y-%m-%d %H:%M:%S+00").to_string();
        for (device, id) in ids.iter().enumerate() {
            row(&mut buffer, id, &at, device, step)?;
        }
        if buffer.len() >= CHUNK_BYTES {
            copy.send(std::mem::take(&mut buffer).into_bytes()).await?;
            buffer.reserve(CHUNK_BYTES + 256);
        }
        bar.inc(devices as u64);
    }
    copy.send(buffer.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// One overconsumption and one peak alert for every hour over the limit, as the monitors would
/// have raised them; all but the last two days' acknowledged, as customers who look now and then
/// leave them.
async fn insert_alerts(pool: &PgPool, end_hour: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO alerts (device_id, user_id, kind, hour, value, limit_kwh, reading_at, interval_s, message, \
           created_at, acknowledged_at, pushed) \
         SELECT h.device_id, d.owner_id, k.kind, h.hour, \
                CASE k.kind WHEN 'peak' THEN 1.5 ELSE h.kwh END, d.max_hourly_kwh, \
                CASE k.kind WHEN 'peak' THEN h.hour + interval '10 minutes' END, \
                CASE k.kind WHEN 'peak' THEN 600 END, \
                d.name || CASE k.kind WHEN 'peak' THEN ' drew 1.5 kW on average, above its limit' \
                                 ELSE ' used ' || h.kwh || ' kWh in an hour, above its limit' END, \
                h.hour + interval '1 hour', \
                CASE WHEN h.hour < $1 - interval '2 days' THEN h.hour + interval '5 hours' END, \
                true \
         FROM hourly_consumption h JOIN devices d ON d.id = h.device_id \
         CROSS JOIN (VALUES ('overconsumption'::alert_kind), ('peak'::alert_kind)) AS k(kind) \
         WHERE h.kwh > d.max_hourly_kwh",
    )
    .bind(end_hour)
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_stays_under_its_limit_but_for_a_few_hours_a_week() {
        let week_steps = 7 * 144;
        for device in 0..50 {
            let hours_over = (0..week_steps / 6)
                .filter(|hour| (0..6).map(|offset| micro_kwh(device, hour * 6 + offset)).sum::<i64>() > 1_000_000)
                .count();
            assert!(hours_over <= 10, "device {device}: {hours_over} hours over the limit in a week");
        }
        let total_over: usize = (0..200)
            .map(|device| {
                (0..week_steps / 6)
                    .filter(|hour| (0..6).map(|offset| micro_kwh(device, hour * 6 + offset)).sum::<i64>() > 1_000_000)
                    .count()
            })
            .sum();
        assert!((300..=900).contains(&total_over), "about three hours a week per device: {total_over} for 200");
    }

    #[test]
    fn amounts_are_written_as_exact_decimals() {
        assert_eq!(kwh_text(250_000), "0.250000");
        assert_eq!(kwh_text(1_234_567), "1.234567");
    }
}

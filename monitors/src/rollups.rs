//! Monthly rollups of hourly totals (migration `monthly_rollups`): once a UTC month is over, and a
//! day more, each device's total for it is stored in `monthly_consumption`, so that a year by
//! month reads a dozen rows instead of 8,760 hours. A month whose hours changed after it was
//! rolled up (late readings, a backfill) is marked stale by a trigger in the same transaction as
//! the change; charts sum a stale month from its hours until the next round sums it again.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// How long after a month's end it is rolled up: no transaction that began in the month (and so
/// wrote its hours without marking them) is still open by then.
pub const GRACE: TimeDelta = TimeDelta::days(1);

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rolled {
    /// Months rolled up for the first time (each for every device with data in it).
    pub months: u32,
    /// Device-months summed again because they had changed.
    pub refreshed: u64,
}

/// The first instant of the UTC month of `instant`.
fn month_of(instant: DateTime<Utc>) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(instant.year(), instant.month(), 1)
        .expect("the first of a month exists")
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
}

fn next_month(month: DateTime<Utc>) -> DateTime<Utc> {
    month_of(month + TimeDelta::days(32))
}

/// Months before this one can be rolled up at `now`.
pub fn rollable_before(now: DateTime<Utc>) -> DateTime<Utc> {
    month_of(now - GRACE)
}

/// One round at `now`: the months ended since the last round are rolled up, one transaction
/// each, then the stale device-months are summed again.
pub async fn upkeep(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<Rolled> {
    let limit = rollable_before(now);
    let mut rolled = Rolled::default();
    loop {
        let mut transaction = pool.begin().await?;
        // The state row's lock makes concurrent rounds (one per monitor process) take turns.
        let month: DateTime<Utc> = sqlx::query_scalar("SELECT rolled_before FROM monthly_consumption_state FOR UPDATE")
            .fetch_one(&mut *transaction)
            .await?;
        if month >= limit {
            break;
        }
        let devices: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM devices").fetch_all(&mut *transaction).await?;
        let months = vec![month; devices.len()];
        sum_months(&mut transaction, &devices, &months).await?;
        sqlx::query("UPDATE monthly_consumption_state SET rolled_before = $1")
            .bind(next_month(month))
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        rolled.months += 1;
    }
    rolled.refreshed = refresh_stale(pool, limit).await?;
    Ok(rolled)
}

/// Sums again every stale device-month that can be rolled up, and forgets its mark. The marks are
/// deleted first and the hours summed by a later statement: a change whose mark is deleted here
/// committed before the delete (an open one holds its mark's lock), so the sum sees it.
async fn refresh_stale(pool: &PgPool, limit: DateTime<Utc>) -> sqlx::Result<u64> {
    let mut transaction = pool.begin().await?;
    let marks: Vec<(Uuid, DateTime<Utc>)> =
        sqlx::query_as("DELETE FROM monthly_consumption_stale WHERE month < $1 RETURNING device_id, month")
            .bind(limit)
            .fetch_all(&mut *transaction)
            .await?;
    if marks.is_empty() {
        return Ok(0);
    }
    let (devices, months): (Vec<Uuid>, Vec<DateTime<Utc>>) = marks.into_iter().unzip();
    sum_months(&mut transaction, &devices, &months).await?;
    transaction.commit().await?;
    Ok(devices.len() as u64)
}

/// Stores the total of `devices[i]`'s hours in the UTC month starting at `months[i]`, for each
/// `i` whose month has hours.
async fn sum_months(
    transaction: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    devices: &[Uuid],
    months: &[DateTime<Utc>],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO monthly_consumption (device_id, month, kwh) \
         SELECT m.device_id, m.month, s.kwh FROM UNNEST($1::uuid[], $2::timestamptz[]) AS m(device_id, month) \
         CROSS JOIN LATERAL (SELECT sum(h.kwh) AS kwh FROM hourly_consumption h WHERE h.device_id = m.device_id \
           AND h.hour >= m.month AND h.hour < (m.month AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC') s \
         WHERE s.kwh IS NOT NULL \
         ON CONFLICT (device_id, month) DO UPDATE SET kwh = EXCLUDED.kwh",
    )
    .bind(devices)
    .bind(months)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_month_is_rolled_up_a_day_after_it_ends() {
        assert_eq!(rollable_before(at("2026-12-01T23:59:00Z")), at("2026-11-01T00:00:00Z"));
        assert_eq!(rollable_before(at("2026-12-02T00:00:00Z")), at("2026-12-01T00:00:00Z"));
        assert_eq!(next_month(at("2026-12-01T00:00:00Z")), at("2027-01-01T00:00:00Z"));
        assert_eq!(next_month(at("2026-01-01T00:00:00Z")), at("2026-02-01T00:00:00Z"));
    }
}

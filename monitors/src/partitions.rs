//! Raw readings live in daily partitions (`readings_YYYYMMDD`, UTC days; see the migration
//! `partitioned_readings`). The monitors keep them: partitions are created a week ahead, so the
//! ingest path never waits for one, and partitions older than the raw-reading retention are
//! dropped whole. Hourly totals are never touched: they are kept forever.
//!
//! A reading older than the retention is refused by the worker before it is stored (its hour's
//! total is final then), and partitions are dropped only a day after their readings have passed
//! the retention, so a reading accepted a moment before a drop is never stored in a partition that
//! is about to go, nor counted again in one created anew.

use std::{collections::BTreeSet, fmt, str::FromStr, time::Duration};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sqlx::PgPool;

/// Days of partitions created ahead of today.
pub const DAYS_AHEAD: i64 = 7;
/// How long after a partition's last instant has passed the retention it is dropped.
const DROP_GRACE: TimeDelta = TimeDelta::days(1);
/// How long a drop may wait for the ingest's lock on `readings` before it is tried next time.
const DROP_LOCK_TIMEOUT: &str = "5s";

/// How long raw readings are kept: a duration of at least a day, or `forever`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention(Option<Duration>);

impl Retention {
    pub const FOREVER: Retention = Retention(None);

    pub fn days(days: u32) -> Retention {
        Retention(Some(Duration::from_secs(u64::from(days) * 86_400)))
    }

    /// The oldest timestamp a reading may have at `now` to be stored; `None` keeps everything.
    pub fn cutoff(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let retention = TimeDelta::from_std(self.0?).ok()?;
        now.checked_sub_signed(retention)
    }
}

impl FromStr for Retention {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("forever") {
            return Ok(Retention::FOREVER);
        }
        let duration = humantime::parse_duration(text)
            .map_err(|error| format!("{text:?} is not a duration such as 90d or 2years, nor `forever` ({error})"))?;
        if duration < Duration::from_secs(86_400) {
            return Err(format!(
                "{text:?} is shorter than a day; raw readings are kept in daily partitions, so keep them \
                 at least 1d (or `forever`)"
            ));
        }
        Ok(Retention(Some(duration)))
    }
}

impl fmt::Display for Retention {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => formatter.write_str("forever"),
            Some(duration) if duration.as_secs() % 86_400 == 0 => write!(formatter, "{}d", duration.as_secs() / 86_400),
            Some(duration) => write!(formatter, "{}", humantime::format_duration(duration)),
        }
    }
}

/// What one round of upkeep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Upkeep {
    pub created: i32,
    /// The partitions dropped, oldest first.
    pub dropped: Vec<String>,
}

/// Creates the partitions of the days from `first` to `last` (UTC, inclusive) that are missing.
pub async fn create(pool: &PgPool, first: NaiveDate, last: NaiveDate) -> sqlx::Result<i32> {
    sqlx::query_scalar("SELECT ems_create_readings_partitions($1, $2)").bind(first).bind(last).fetch_one(pool).await
}

/// Creates the partitions of `days` (UTC) that are missing, and only those.
pub async fn create_days(pool: &PgPool, days: &BTreeSet<NaiveDate>) -> sqlx::Result<i64> {
    let days: Vec<NaiveDate> = days.iter().copied().collect();
    sqlx::query_scalar(
        "SELECT COALESCE(sum(ems_create_readings_partitions(day, day)), 0)::int8 FROM unnest($1::date[]) AS day",
    )
    .bind(days)
    .fetch_one(pool)
    .await
}

/// The day a partition named `readings_YYYYMMDD` holds.
fn day_of(partition: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(partition.strip_prefix("readings_")?, "%Y%m%d").ok()
}

/// The daily partitions of `readings`, oldest first.
pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<(String, NaiveDate)>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'readings'::regclass",
    )
    .fetch_all(pool)
    .await?;
    let mut days: Vec<(String, NaiveDate)> =
        names.into_iter().filter_map(|name| day_of(&name).map(|day| (name, day))).collect();
    days.sort_by_key(|(_, day)| *day);
    Ok(days)
}

/// One round at `now`: the partitions of yesterday to [`DAYS_AHEAD`] days ahead exist, and those
/// whose whole day is older than the retention (plus a day's grace) are gone.
pub async fn upkeep(pool: &PgPool, retention: Retention, now: DateTime<Utc>) -> sqlx::Result<Upkeep> {
    let today = now.date_naive();
    let created = create(pool, today - TimeDelta::days(1), today + TimeDelta::days(DAYS_AHEAD)).await?;
    let mut dropped = Vec::new();
    if let Some(cutoff) = retention.cutoff(now) {
        let last_droppable = cutoff - DROP_GRACE;
        for (name, day) in list(pool).await? {
            let day_ends = (day + TimeDelta::days(1)).and_time(chrono::NaiveTime::MIN).and_utc();
            if day_ends > last_droppable {
                break;
            }
            // Dropping a partition locks `readings` for a moment; a drop that would wait long
            // for the ingest gives way and is tried again at the next round.
            let mut transaction = pool.begin().await?;
            sqlx::query(&format!("SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")).execute(&mut *transaction).await?;
            sqlx::query(&format!("DROP TABLE IF EXISTS {}", ems_common::db::quote_identifier(&name)))
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            dropped.push(name);
        }
    }
    Ok(Upkeep { created, dropped })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_reads_as_a_duration_of_a_day_or_more_or_forever() {
        assert_eq!("90d".parse::<Retention>(), Ok(Retention::days(90)));
        assert_eq!("Forever".parse::<Retention>(), Ok(Retention::FOREVER));
        assert_eq!(Retention::days(90).to_string(), "90d");
        assert_eq!("1year".parse::<Retention>().unwrap().to_string(), "1year");
        let short = "12h".parse::<Retention>().unwrap_err();
        assert!(short.contains("shorter than a day"), "{short}");
        let nonsense = "ninety".parse::<Retention>().unwrap_err();
        assert!(nonsense.contains("not a duration"), "{nonsense}");
    }

    #[test]
    fn the_cutoff_is_the_retention_before_now() {
        let now: DateTime<Utc> = "2026-12-07T10:00:00Z".parse().unwrap();
        assert_eq!(Retention::days(90).cutoff(now), Some("2026-09-08T10:00:00Z".parse().unwrap()));
        assert_eq!(Retention::FOREVER.cutoff(now), None);
    }

    #[test]
    fn partitions_are_named_for_their_day() {
        assert_eq!(day_of("readings_20261207"), NaiveDate::from_ymd_opt(2026, 12, 7));
        assert_eq!(day_of("readings_unpartitioned"), None);
        assert_eq!(day_of("other_20261207"), None);
    }
}

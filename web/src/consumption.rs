//! Consumption read from the hourly totals the monitors keep: a device's series over a range at
//! hour, day or month steps, and one user's day at a glance. No data is not zero: a step without
//! any hourly total (nothing was measured: the future, a meter that was silent or not installed
//! yet) is `null`, while a step whose readings add up to nothing is `0`.
//!
//! Days and months are the customer's: a request names its IANA zone in `tz` (by default the
//! user's own setting, else UTC), dates in it are that zone's days, and daily and monthly totals
//! are summed from local midnight to local midnight, so the days the clocks change have 23 or 25
//! hours. Hours stay the stored UTC hours; an hour counts in the local day its start falls in.

use axum::{Json, extract::State};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use ems_common::Claims;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    devices::visible_device_owner_and_limit,
    error::documented::{Invalid, Malformed, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiPath, ApiQuery, CurrentUser},
    state::ApiContext,
    zones::{self, time_zone_rule},
};

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Hour,
    Day,
    Month,
}

impl Step {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Step::Hour => "hour",
            Step::Day => "day",
            Step::Month => "month",
        }
    }

    /// The longest range a series may cover at this step, so one request stays small. An export
    /// is streamed, so it may cover a year of hours.
    fn max_range(self, export: bool) -> (TimeDelta, &'static str) {
        match self {
            Step::Hour if export => (TimeDelta::days(366), "366 days"),
            Step::Hour => (TimeDelta::days(31), "31 days"),
            Step::Day => (TimeDelta::days(366), "366 days"),
            Step::Month => (TimeDelta::days(3660), "10 years"),
        }
    }
}

/// A point in time given as a date (`2026-03-01`: its first instant in the request's time zone)
/// or RFC 3339 (that instant, whatever the zone).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Instant {
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

impl Instant {
    /// The instant this names when dates are days in `zone`.
    pub fn in_zone(self, zone: Tz) -> DateTime<Utc> {
        match self {
            Instant::Date(date) => zones::start_of_day(date, zone),
            Instant::Time(time) => time,
        }
    }
}

impl Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Instant::Date(date) => date.serialize(serializer),
            Instant::Time(time) => time.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_instant(&text).map_err(serde::de::Error::custom)
    }
}

/// The years the API accepts in dates: PostgreSQL stores 4713 BC to 294276 AD, but nothing here
/// happens before the Unix epoch, and four-digit years are what people and programs expect.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

fn outside_years() -> ValidationError {
    ValidationError::new("date_range").with_message(std::borrow::Cow::Owned(format!(
        "must be from {}-01-01 to {}-12-31 (UTC); give a date like 2026-03-01 or a time like 2026-03-01T10:00:00Z",
        YEARS.start(),
        YEARS.end()
    )))
}

/// A `validator` rule: the instant lies in [`YEARS`].
pub fn storable_time(time: &DateTime<Utc>) -> Result<(), ValidationError> {
    storable_date(&time.date_naive())
}

/// A `validator` rule: the day lies in [`YEARS`].
pub fn storable_date(date: &NaiveDate) -> Result<(), ValidationError> {
    if YEARS.contains(&date.year()) { Ok(()) } else { Err(outside_years()) }
}

fn storable_instant(instant: &Instant) -> Result<(), ValidationError> {
    match instant {
        Instant::Date(date) => storable_date(date),
        Instant::Time(time) => storable_time(time),
    }
}

fn parse_instant(text: &str) -> Result<Instant, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Instant::Date(date));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|time| Instant::Time(time.with_timezone(&Utc)))
        .map_err(|_| format!("{text:?} is neither a date like 2026-03-01 nor RFC 3339 like 2026-03-01T10:00:00Z"))
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// Start, inclusive: a date (`2026-03-01`, a day in `tz`) or RFC 3339, from 1970 to 9999.
    /// Rounded down to the step (days and months in `tz`).
    #[param(value_type = String)]
    #[validate(custom(function = "storable_instant"))]
    pub from: Instant,
    /// End, exclusive: a date (a day in `tz`) or RFC 3339, from 1970 to 9999.
    #[param(value_type = String)]
    #[validate(custom(function = "storable_instant"))]
    pub to: Instant,
    /// `hour` (the default), `day` or `month`: days and months are those of `tz`.
    #[serde(default = "hourly")]
    pub step: Step,
    /// The IANA time zone whose days and months count, e.g. `Europe/Bucharest`; by default the
    /// user's own setting, else UTC.
    #[param(example = "Europe/Bucharest")]
    #[validate(custom(function = "time_zone_rule"))]
    pub tz: Option<String>,
}

fn hourly() -> Step {
    Step::Hour
}

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow, PartialEq)]
pub struct Point {
    /// Start of the step (UTC; for days and months, local midnight in the series' `time_zone`).
    pub start: DateTime<Utc>,
    /// The energy measured in the step; `null` when no reading of the device falls in it (not
    /// measured, which is not the same as `0`: readings that add up to nothing).
    pub kwh: Option<f64>,
    /// What the step cost: each hour's kWh times the price of that hour in the owner's tariff,
    /// summed and rounded to six decimal places; `null` without a tariff or without readings.
    #[schema(value_type = Option<String>, example = "1.0625")]
    pub cost: Option<Decimal>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Series {
    pub device_id: Uuid,
    pub step: Step,
    /// The IANA zone days and months were counted in.
    pub time_zone: String,
    pub max_hourly_kwh: f64,
    /// The sum of the points that have data; `null` when none has.
    pub total_kwh: Option<f64>,
    /// The ISO 4217 currency of `cost` and `total_cost`; `null` when the device's owner has no
    /// tariff (then every cost is `null`).
    #[schema(example = "RON")]
    pub currency: Option<String>,
    /// The sum of the points' costs; `null` when no point has one.
    #[schema(value_type = Option<String>, example = "3.1875")]
    pub total_cost: Option<Decimal>,
    pub points: Vec<Point>,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// The day in `tz`, e.g. `2026-03-01`, from 1970 to 9999; today there by default.
    #[validate(custom(function = "storable_date"))]
    pub date: Option<NaiveDate>,
    /// The IANA time zone whose day it is, e.g. `Europe/Bucharest`; by default the user's own
    /// setting, else UTC.
    #[param(example = "Europe/Bucharest")]
    #[validate(custom(function = "time_zone_rule"))]
    pub tz: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceDay {
    pub device_id: Uuid,
    pub name: String,
    pub max_hourly_kwh: f64,
    /// The day's total; `null` when the device has no reading that day.
    pub total_kwh: Option<f64>,
    /// One value per hour of the day, matching the day's `hour_starts`; `null` for an hour
    /// without any reading.
    pub hours: Vec<Option<f64>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Day {
    pub date: NaiveDate,
    /// The IANA zone the day is a day of.
    pub time_zone: String,
    /// All devices' total; `null` when none has a reading that day.
    pub total_kwh: Option<f64>,
    /// When each hour of the day starts, from local midnight: 24 hours, or 23 or 25 on the days
    /// the clocks change.
    pub hour_starts: Vec<DateTime<Utc>>,
    /// All devices together, one value per hour of `hour_starts`; `null` for an hour in which no
    /// device has a reading.
    pub hours: Vec<Option<f64>>,
    /// The currency of the costs; `null` when the user has no tariff (every cost is `null`).
    #[schema(example = "RON")]
    pub currency: Option<String>,
    /// What the day cost, all devices together; `null` without a tariff or readings.
    #[schema(value_type = Option<String>, example = "3.1875")]
    pub total_cost: Option<Decimal>,
    /// What each hour of `hour_starts` cost, all devices together.
    #[schema(value_type = Vec<Option<String>>)]
    pub hour_costs: Vec<Option<Decimal>>,
    pub devices: Vec<DeviceDay>,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(device_consumption)).routes(routes!(my_day))
}

/// A device's consumption over a range, one point per step: `null` where nothing was measured.
#[utoipa::path(get, path = "/api/devices/{id}/consumption", tag = "consumption",
    params(("id" = Uuid, Path), SeriesQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = Series),
        Malformed,
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "no device with this id is visible to you"),
        Invalid,
    ))]
async fn device_consumption(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<SeriesQuery>,
) -> ApiResult<Json<Series>> {
    let request = SeriesRequest::prepare(&context, &claims, id, &query, false).await?;
    let points =
        request.query().fetch_all(&context.pool).await.map_err(|error| unknown_to_the_database(error, request.zone))?;
    let total_kwh = sum_measured(points.iter().map(|point| point.kwh));
    let total_cost = points.iter().filter_map(|point| point.cost).reduce(|total, cost| total + cost);
    Ok(Json(Series {
        device_id: id,
        step: query.step,
        time_zone: request.zone.name().to_owned(),
        max_hourly_kwh: request.max_hourly_kwh,
        total_kwh,
        currency: request.currency,
        total_cost: total_cost.map(|cost| cost.normalize()),
        points: points
            .into_iter()
            .map(|point| Point { cost: point.cost.map(|cost| cost.normalize()), ..point })
            .collect(),
    }))
}

/// A series request checked and resolved: who may see it, its instants, its zone, whose tariff
/// prices it; shared by the JSON series and the CSV export so both show the same numbers.
pub(crate) struct SeriesRequest {
    /// One device, or all of a customer's (summed step by step).
    pub devices: Vec<Uuid>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub step: Step,
    pub zone: Tz,
    pub max_hourly_kwh: f64,
    /// The owner whose tariff applies; `None` when there is no tariff (or no owner).
    pub tariff_owner: Option<Uuid>,
    pub currency: Option<String>,
    sql: String,
    /// Whether `sql` is [`MONTHS_SQL`], which reads one device's rollups.
    one_device_months: bool,
}

impl SeriesRequest {
    pub(crate) async fn prepare(
        context: &ApiContext,
        claims: &Claims,
        id: Uuid,
        query: &SeriesQuery,
        export: bool,
    ) -> ApiResult<Self> {
        let (owner, max_hourly_kwh) = visible_device_owner_and_limit(context, claims, id).await?;
        Self::build(context, claims, vec![id], owner, max_hourly_kwh, query, export).await
    }

    /// All the caller's devices together (none for an administrator, who owns none).
    pub(crate) async fn prepare_mine(
        context: &ApiContext,
        claims: &Claims,
        query: &SeriesQuery,
        export: bool,
    ) -> ApiResult<Self> {
        let devices: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM devices WHERE owner_id = $1 ORDER BY id")
            .bind(claims.sub)
            .fetch_all(&context.pool)
            .await?;
        Self::build(context, claims, devices, Some(claims.sub), 0.0, query, export).await
    }

    async fn build(
        context: &ApiContext,
        claims: &Claims,
        devices: Vec<Uuid>,
        owner: Option<Uuid>,
        max_hourly_kwh: f64,
        query: &SeriesQuery,
        export: bool,
    ) -> ApiResult<Self> {
        let zone = zone_for(context, claims.sub, query.tz.as_deref()).await?;
        let (from, to) = (query.from.in_zone(zone), query.to.in_zone(zone));
        if from >= to {
            return Err(ApiError::invalid("to", "must be later than `from`"));
        }
        let (longest, words) = query.step.max_range(export);
        if to - from > longest {
            return Err(ApiError::invalid(
                "to",
                format!("at {} steps a range may cover at most {words}", query.step.sql()),
            ));
        }
        let currency: Option<String> = match owner {
            Some(owner) => {
                sqlx::query_scalar("SELECT currency FROM tariffs WHERE user_id = $1")
                    .bind(owner)
                    .fetch_optional(&context.pool)
                    .await?
            }
            None => None,
        };
        let step = query.step.sql();
        // Steps are counted on the local clock (`timestamp` without zone) and each bucket's
        // bounds turned back into instants, so a local day is midnight to midnight however long
        // it is. Hours stay UTC hours, the stored ones: a local hour repeated when the clocks go
        // back must stay two hours. Cost is each hour's kWh times that hour's price (from the
        // tariff's week, `tariff_week_of`), so time-of-use bands apply hour by hour.
        // Rollups are per device: several devices' months are summed from their hours.
        let one_device_months = query.step == Step::Month && devices.len() == 1;
        let sql = if one_device_months {
            format!("{} {MONTHS_SQL}", tariff_week_of("$5"))
        } else {
            format!(
                "{} SELECT local AT TIME ZONE $4 AS start, sum(h.kwh)::float8 AS kwh,                         round(sum(h.kwh * {HOUR_PRICE}), 6) AS cost                  FROM generate_series(date_trunc('{step}', $2::timestamptz AT TIME ZONE $4),                       ($3::timestamptz AT TIME ZONE $4) - interval '1 microsecond', interval '1 {step}') AS local                  CROSS JOIN t LEFT JOIN hourly_consumption h ON h.device_id = ANY($1) AND h.hour >= local AT TIME ZONE $4                       AND h.hour < (local + interval '1 {step}') AT TIME ZONE $4                  GROUP BY local ORDER BY local",
                tariff_week_of("$5")
            )
        };
        Ok(Self {
            devices,
            from,
            to,
            step: query.step,
            zone,
            max_hourly_kwh,
            tariff_owner: owner.filter(|_| currency.is_some()),
            currency,
            sql,
            one_device_months,
        })
    }

    /// The series' rows, one per step, to fetch whole or as a stream.
    pub(crate) fn query(&self) -> sqlx::query::QueryAs<'_, sqlx::Postgres, Point, sqlx::postgres::PgArguments> {
        let clock = if self.step == Step::Hour { "UTC" } else { self.zone.name() };
        let query = sqlx::query_as::<_, Point>(&self.sql);
        let query = if self.one_device_months { query.bind(self.devices[0]) } else { query.bind(&self.devices) };
        query.bind(self.from).bind(self.to).bind(clock).bind(self.tariff_owner)
    }
}

/// The tariff of the customer in the query parameter `customer` (`$5`), expanded once per query
/// (migration `tariff_week`) as `t`: `t.prices`, the 168 prices of its week (null without a
/// tariff), and `t.zone`, the clock they are read on. MATERIALIZED, or PostgreSQL would fold the
/// lookup into the expression and repeat it per hour. Price an hour with [`HOUR_PRICE`].
pub(crate) fn tariff_week_of(customer: &str) -> String {
    format!("WITH t AS MATERIALIZED (SELECT tariff_week({customer}) AS prices, tariff_zone({customer}) AS zone)")
}
/// The price of the hour `h.hour` from the tariff `t` of [`tariff_week_of`].
pub(crate) const HOUR_PRICE: &str = "t.prices[week_hour(t.zone, h.hour)]";

/// Months in the zone `$4`, from the monthly rollups of UTC months (migration `monthly_rollups`):
/// a local month `[a, b)` is the rollup of the UTC month `m` it mostly overlaps, plus its hours
/// before `m` begins and after `m` ends, minus the hours of `m` before `a` and after `b` (a few
/// hours each, fewer than 15). A month with no rollup yet, or marked stale by a late change, is
/// summed from its hours. Equal to summing the hours, in 12 rows and a few edge hours per month
/// instead of 730 hours. Cost is summed from the month's hours, each at its own price (a
/// time-of-use month cannot be priced from its total); only when there is a tariff (`$5`).
/// Preceded by [`tariff_week_of`]`("$5")`.
const MONTHS_SQL: &str = "\
    SELECT w.local AT TIME ZONE $4 AS start, \
      (CASE WHEN r.kwh IS NULL THEN (SELECT sum(h.kwh) FROM hourly_consumption h \
                                     WHERE h.device_id = $1 AND h.hour >= w.a AND h.hour < w.b) \
       ELSE r.kwh \
         + COALESCE((SELECT sum(h.kwh) FROM hourly_consumption h WHERE h.device_id = $1 AND h.hour >= w.a AND h.hour < w.m), 0) \
         - COALESCE((SELECT sum(h.kwh) FROM hourly_consumption h WHERE h.device_id = $1 AND h.hour >= w.m AND h.hour < w.a), 0) \
         + COALESCE((SELECT sum(h.kwh) FROM hourly_consumption h WHERE h.device_id = $1 AND h.hour >= w.m_end AND h.hour < w.b), 0) \
         - COALESCE((SELECT sum(h.kwh) FROM hourly_consumption h WHERE h.device_id = $1 AND h.hour >= w.b AND h.hour < w.m_end), 0) \
       END)::float8 AS kwh, \
      CASE WHEN $5::uuid IS NULL THEN NULL ELSE (SELECT round(sum(h.kwh * t.prices[week_hour(t.zone, h.hour)]), 6) \
           FROM hourly_consumption h, t WHERE h.device_id = $1 AND h.hour >= w.a AND h.hour < w.b) END AS cost \
    FROM generate_series(date_trunc('month', $2::timestamptz AT TIME ZONE $4), \
         ($3::timestamptz AT TIME ZONE $4) - interval '1 microsecond', interval '1 month') AS local \
    CROSS JOIN LATERAL (SELECT local, local AT TIME ZONE $4 AS a, (local + interval '1 month') AT TIME ZONE $4 AS b, \
         date_trunc('month', (local AT TIME ZONE $4 AT TIME ZONE 'UTC') + interval '15 days') AS utc_month) u \
    CROSS JOIN LATERAL (SELECT u.local, u.a, u.b, u.utc_month AT TIME ZONE 'UTC' AS m, \
         (u.utc_month + interval '1 month') AT TIME ZONE 'UTC' AS m_end) w \
    LEFT JOIN monthly_consumption r ON r.device_id = $1 AND r.month = w.m \
         AND NOT EXISTS (SELECT 1 FROM monthly_consumption_stale s WHERE s.device_id = $1 AND s.month = w.m) \
    ORDER BY w.local";

/// The signed-in user's consumption for one day: per hour, per device and in total.
#[utoipa::path(get, path = "/api/me/consumption", tag = "consumption", params(DayQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = Day),
        Malformed,
        NotSignedIn,
        Invalid,
    ))]
async fn my_day(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> ApiResult<Json<Day>> {
    let zone = zone_for(&context, claims.sub, query.tz.as_deref()).await?;
    let date = query.date.unwrap_or_else(|| Utc::now().with_timezone(&zone).date_naive());
    let hour_starts = zones::hours_of_day(date, zone);
    let (start, end) = (zones::start_of_day(date, zone), zones::start_of_day(date.succ_opt().unwrap_or(date), zone));
    let devices: Vec<(Uuid, String, f64)> =
        sqlx::query_as("SELECT id, name, max_hourly_kwh::float8 FROM devices WHERE owner_id = $1 ORDER BY name, id")
            .bind(claims.sub)
            .fetch_all(&context.pool)
            .await?;
    let currency: Option<String> = sqlx::query_scalar("SELECT currency FROM tariffs WHERE user_id = $1")
        .bind(claims.sub)
        .fetch_optional(&context.pool)
        .await?;
    let rows: Vec<(Uuid, DateTime<Utc>, f64, Option<Decimal>)> = sqlx::query_as(&format!(
        "{} SELECT h.device_id, h.hour, h.kwh::float8, h.kwh * {HOUR_PRICE} \
             FROM hourly_consumption h JOIN devices d ON d.id = h.device_id CROSS JOIN t \
             WHERE d.owner_id = $1 AND h.hour >= $2 AND h.hour < $3",
        tariff_week_of("$1")
    ))
    .bind(claims.sub)
    .bind(start)
    .bind(end)
    .fetch_all(&context.pool)
    .await?;
    let mut per_device: Vec<DeviceDay> = devices
        .into_iter()
        .map(|(device_id, name, max_hourly_kwh)| DeviceDay {
            device_id,
            name,
            max_hourly_kwh,
            total_kwh: None,
            hours: vec![None; hour_starts.len()],
        })
        .collect();
    let mut hours = vec![None; hour_starts.len()];
    let mut hour_costs: Vec<Option<Decimal>> = vec![None; hour_starts.len()];
    for (device_id, hour, kwh, cost) in rows {
        let Some(index) = hour_starts.iter().position(|start| *start == hour) else { continue };
        if let Some(device) = per_device.iter_mut().find(|device| device.device_id == device_id) {
            add(&mut device.hours[index], kwh);
        }
        add(&mut hours[index], kwh);
        if let Some(cost) = cost {
            hour_costs[index] = Some(hour_costs[index].unwrap_or_default() + cost);
        }
    }
    let hour_costs: Vec<Option<Decimal>> = hour_costs
        .into_iter()
        .map(|cost| cost.map(|cost| cost.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero).normalize()))
        .collect();
    let total_cost = hour_costs.iter().flatten().copied().reduce(|total, cost| total + cost);
    for device in &mut per_device {
        device.hours.iter_mut().for_each(|value| *value = value.map(round));
        device.total_kwh = sum_measured(device.hours.iter().copied());
    }
    Ok(Json(Day {
        date,
        time_zone: zone.name().to_owned(),
        total_kwh: sum_measured(hours.iter().copied()),
        hour_starts,
        hours: hours.into_iter().map(|value| value.map(round)).collect(),
        currency,
        total_cost,
        hour_costs,
        devices: per_device,
    }))
}

/// Adds a measured amount to a step that may have had none yet.
fn add(step: &mut Option<f64>, kwh: f64) {
    *step = Some(step.unwrap_or(0.0) + kwh);
}

/// The sum of the steps that were measured, or `None` when none was: a total of no data is no
/// data, not zero.
fn sum_measured(steps: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    steps.into_iter().flatten().fold(None, |total, kwh| Some(total.unwrap_or(0.0) + kwh)).map(round)
}

/// The zone a request counts days in: the one it names, else the user's setting, else UTC.
pub(crate) async fn zone_for(context: &ApiContext, user_id: Uuid, requested: Option<&str>) -> ApiResult<Tz> {
    if let Some(name) = requested {
        return zones::parse(name).map_err(|message| ApiError::invalid("tz", message));
    }
    let setting: Option<String> = sqlx::query_scalar("SELECT time_zone FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&context.pool)
        .await?
        .flatten();
    // A stored name was checked when it was set; one a newer database dropped counts as unset.
    Ok(setting.and_then(|name| zones::parse(&name).ok()).unwrap_or(Tz::UTC))
}

/// PostgreSQL keeps its own copy of the IANA database; a zone only ours knows is the caller's to
/// change, not a failure of ours.
pub(crate) fn unknown_to_the_database(error: sqlx::Error, zone: Tz) -> ApiError {
    match &error {
        sqlx::Error::Database(database_error) if database_error.code().as_deref() == Some("22023") => {
            ApiError::invalid(
                "tz",
                format!(
                    "the database does not know the time zone {}; choose another, such as Europe/Bucharest",
                    zone.name()
                ),
            )
        }
        _ => error.into(),
    }
}

/// Amounts are stored to the micro-kWh; adding their `f64` forms up carries noise below that.
fn round(kwh: f64) -> f64 {
    (kwh * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use chrono_tz::Tz;

    use super::{parse_instant, sum_measured};

    #[test]
    fn a_total_of_no_data_is_no_data_and_of_zeros_is_zero() {
        assert_eq!(sum_measured([None, None]), None);
        assert_eq!(sum_measured([None, Some(0.0), None]), Some(0.0));
        assert_eq!(sum_measured([Some(0.1), None, Some(0.2)]), Some(0.3));
    }

    #[test]
    fn dates_and_rfc3339_are_both_accepted() {
        let date = parse_instant("2026-03-01").unwrap();
        assert_eq!(date.in_zone(Tz::UTC).to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(date.in_zone(Tz::Europe__Bucharest).to_rfc3339(), "2026-02-28T22:00:00+00:00");
        let time = parse_instant("2026-03-01T12:30:00+02:00").unwrap();
        assert_eq!(time.in_zone(Tz::Europe__Bucharest).to_rfc3339(), "2026-03-01T10:30:00+00:00");
        assert!(parse_instant("March 1st").unwrap_err().contains("neither a date"));
    }
}

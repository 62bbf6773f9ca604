//! Consumption read from the hourly totals the monitors keep: a device's series over a range at
//! hour, day or month steps, and one user's day at a glance. No data is not zero: a step without
//! any hourly total (nothing was measured: the future, a meter that was silent or not installed
//! yet) is `null`, while a step whose readings add up to nothing is `0`.

use axum::{Json, extract::State};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    devices::visible_device,
    error::documented::{Invalid, Malformed, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiPath, ApiQuery, CurrentUser},
    state::ApiContext,
};

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Hour,
    Day,
    Month,
}

impl Step {
    fn sql(self) -> &'static str {
        match self {
            Step::Hour => "hour",
            Step::Day => "day",
            Step::Month => "month",
        }
    }

    /// The longest range a series may cover at this step, so one request stays small.
    fn max_range(self) -> (TimeDelta, &'static str) {
        match self {
            Step::Hour => (TimeDelta::days(31), "31 days"),
            Step::Day => (TimeDelta::days(366), "366 days"),
            Step::Month => (TimeDelta::days(3660), "10 years"),
        }
    }
}

/// A point in time given as a date (`2026-03-01`, midnight UTC) or RFC 3339.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Instant(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_instant(&text).map(Instant).map_err(serde::de::Error::custom)
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
    storable_time(&instant.0)
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| format!("{text:?} is neither a date like 2026-03-01 nor RFC 3339 like 2026-03-01T10:00:00Z"))
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// Start, inclusive: a date (`2026-03-01`) or RFC 3339, from 1970 to 9999. Rounded down to
    /// the step.
    #[param(value_type = String)]
    #[validate(custom(function = "storable_instant"))]
    pub from: Instant,
    /// End, exclusive: a date or RFC 3339, from 1970 to 9999.
    #[param(value_type = String)]
    #[validate(custom(function = "storable_instant"))]
    pub to: Instant,
    /// `hour` (the default), `day` or `month`; all in UTC.
    #[serde(default = "hourly")]
    pub step: Step,
}

fn hourly() -> Step {
    Step::Hour
}

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow, PartialEq)]
pub struct Point {
    /// Start of the step (UTC).
    pub start: DateTime<Utc>,
    /// The energy measured in the step; `null` when no reading of the device falls in it (not
    /// measured, which is not the same as `0`: readings that add up to nothing).
    pub kwh: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Series {
    pub device_id: Uuid,
    pub step: Step,
    pub max_hourly_kwh: f64,
    /// The sum of the points that have data; `null` when none has.
    pub total_kwh: Option<f64>,
    pub points: Vec<Point>,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// The day (UTC), e.g. `2026-03-01`, from 1970 to 9999; today by default.
    #[validate(custom(function = "storable_date"))]
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceDay {
    pub device_id: Uuid,
    pub name: String,
    pub max_hourly_kwh: f64,
    /// The day's total; `null` when the device has no reading that day.
    pub total_kwh: Option<f64>,
    /// 24 hourly values, from 00:00 UTC; `null` for an hour without any reading.
    pub hours: Vec<Option<f64>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Day {
    pub date: NaiveDate,
    /// All devices' total; `null` when none has a reading that day.
    pub total_kwh: Option<f64>,
    /// All devices together, 24 hourly values from 00:00 UTC; `null` for an hour in which no
    /// device has a reading.
    pub hours: Vec<Option<f64>>,
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
    let device = visible_device(&context, &claims, id).await?;
    let (from, to) = (query.from.0, query.to.0);
    if from >= to {
        return Err(ApiError::invalid("to", "must be later than `from`"));
    }
    let (longest, words) = query.step.max_range();
    if to - from > longest {
        return Err(ApiError::invalid(
            "to",
            format!("at {} steps a range may cover at most {words}", query.step.sql()),
        ));
    }
    let step = query.step.sql();
    let points = sqlx::query_as::<_, Point>(&format!(
        "SELECT bucket AS start, sum(h.kwh)::float8 AS kwh \
         FROM generate_series(date_trunc('{step}', $2::timestamptz, 'UTC'), $3::timestamptz - interval '1 microsecond', \
              interval '1 {step}') AS bucket \
         LEFT JOIN hourly_consumption h ON h.device_id = $1 AND h.hour >= bucket AND h.hour < bucket + interval '1 {step}' \
         GROUP BY bucket ORDER BY bucket"
    ))
    .bind(id)
    .bind(from)
    .bind(to)
    .fetch_all(&context.pool)
    .await?;
    let total_kwh = sum_measured(points.iter().map(|point| point.kwh));
    Ok(Json(Series { device_id: id, step: query.step, max_hourly_kwh: device.max_hourly_kwh, total_kwh, points }))
}

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
    let date = query.date.unwrap_or_else(|| Utc::now().date_naive());
    let start = date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    let devices: Vec<(Uuid, String, f64)> =
        sqlx::query_as("SELECT id, name, max_hourly_kwh::float8 FROM devices WHERE owner_id = $1 ORDER BY name, id")
            .bind(claims.sub)
            .fetch_all(&context.pool)
            .await?;
    let rows: Vec<(Uuid, DateTime<Utc>, f64)> = sqlx::query_as(
        "SELECT h.device_id, h.hour, h.kwh::float8 FROM hourly_consumption h JOIN devices d ON d.id = h.device_id \
         WHERE d.owner_id = $1 AND h.hour >= $2 AND h.hour < $2 + interval '1 day'",
    )
    .bind(claims.sub)
    .bind(start)
    .fetch_all(&context.pool)
    .await?;
    let mut per_device: Vec<DeviceDay> = devices
        .into_iter()
        .map(|(device_id, name, max_hourly_kwh)| DeviceDay {
            device_id,
            name,
            max_hourly_kwh,
            total_kwh: None,
            hours: vec![None; 24],
        })
        .collect();
    let mut hours = vec![None; 24];
    for (device_id, hour, kwh) in rows {
        let index = (hour - start).num_hours() as usize;
        if let Some(device) = per_device.iter_mut().find(|device| device.device_id == device_id) {
            add(&mut device.hours[index], kwh);
        }
        add(&mut hours[index], kwh);
    }
    for device in &mut per_device {
        device.hours.iter_mut().for_each(|value| *value = value.map(round));
        device.total_kwh = sum_measured(device.hours.iter().copied());
    }
    Ok(Json(Day {
        date,
        total_kwh: sum_measured(hours.iter().copied()),
        hours: hours.into_iter().map(|value| value.map(round)).collect(),
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

/// Amounts are stored to the micro-kWh; adding their `f64` forms up carries noise below that.
fn round(kwh: f64) -> f64 {
    (kwh * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::{parse_instant, sum_measured};

    #[test]
    fn a_total_of_no_data_is_no_data_and_of_zeros_is_zero() {
        assert_eq!(sum_measured([None, None]), None);
        assert_eq!(sum_measured([None, Some(0.0), None]), Some(0.0));
        assert_eq!(sum_measured([Some(0.1), None, Some(0.2)]), Some(0.3));
    }

    #[test]
    fn dates_and_rfc3339_are_both_accepted() {
        assert_eq!(parse_instant("2026-03-01").unwrap().to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(parse_instant("2026-03-01T12:30:00+02:00").unwrap().to_rfc3339(), "2026-03-01T10:30:00+00:00");
        assert!(parse_instant("March 1st").unwrap_err().contains("neither a date"));
    }
}

//! The month so far and where it is heading: the kWh and cost of the local month up to now, and a
//! projection to its end. The projection is the month-so-far average per elapsed hour times the
//! hours in the month (so far × month length / time elapsed): simple, and honest about being an
//! extrapolation; it says nothing about the rest of the month's weather or habits.

use axum::{Json, extract::State};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy, prelude::ToPrimitive};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::{
    consumption::{storable_time, zone_for},
    devices::visible_device_owner_and_limit,
    error::documented::{Invalid, Malformed, NotSignedIn},
    error::{ApiResult, ErrorBody},
    extract::{ApiPath, ApiQuery, CurrentUser},
    state::ApiContext,
    zones::{self, time_zone_rule},
};

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// The moment the month is seen from (RFC 3339); now by default. Its local month counts.
    #[validate(custom(function = "storable_time"))]
    pub at: Option<DateTime<Utc>>,
    /// The IANA time zone whose month it is; by default the user's own setting, else UTC.
    #[param(example = "Europe/Bucharest")]
    #[validate(custom(function = "time_zone_rule"))]
    pub tz: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MonthToDate {
    /// The month's first day.
    pub month: NaiveDate,
    pub time_zone: String,
    /// Local midnight of the month's first day, and of the next month's.
    pub month_start: DateTime<Utc>,
    pub month_end: DateTime<Utc>,
    /// The moment it is seen from: hours that started before it count.
    pub at: DateTime<Utc>,
    /// Hours from `month_start` to `at`, and in the whole month (743 or 745 when the clocks change).
    pub elapsed_hours: f64,
    pub hours_in_month: f64,
    /// `null` when nothing was measured this month yet.
    pub kwh_so_far: Option<f64>,
    /// `kwh_so_far` / `elapsed_hours` × `hours_in_month`.
    pub projected_kwh: Option<f64>,
    /// `null` without a tariff.
    #[schema(example = "RON")]
    pub currency: Option<String>,
    #[schema(value_type = Option<String>, example = "41.25")]
    pub cost_so_far: Option<Decimal>,
    /// `cost_so_far` / `elapsed_hours` × `hours_in_month`, to six decimal places.
    #[schema(value_type = Option<String>, example = "128.4")]
    pub projected_cost: Option<Decimal>,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(device_month_to_date)).routes(routes!(my_month_to_date))
}

/// One device's month so far and its projection to the month's end.
#[utoipa::path(get, path = "/api/devices/{id}/consumption/month-to-date", tag = "consumption",
    params(("id" = Uuid, Path), MonthQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = MonthToDate),
        Malformed,
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "no device with this id is visible to you"),
        Invalid,
    ))]
async fn device_month_to_date(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<MonthQuery>,
) -> ApiResult<Json<MonthToDate>> {
    let (owner, _) = visible_device_owner_and_limit(&context, &claims, id).await?;
    let zone = zone_for(&context, claims.sub, query.tz.as_deref()).await?;
    month_to_date(&context, &[id], owner, zone, query.at.unwrap_or_else(Utc::now)).await.map(Json)
}

/// All the signed-in user's devices together: the month so far and its projection.
#[utoipa::path(get, path = "/api/me/consumption/month-to-date", tag = "consumption",
    params(MonthQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = MonthToDate),
        Malformed,
        NotSignedIn,
        Invalid,
    ))]
async fn my_month_to_date(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiQuery(query): ApiQuery<MonthQuery>,
) -> ApiResult<Json<MonthToDate>> {
    let zone = zone_for(&context, claims.sub, query.tz.as_deref()).await?;
    let devices: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM devices WHERE owner_id = $1")
        .bind(claims.sub)
        .fetch_all(&context.pool)
        .await?;
    month_to_date(&context, &devices, Some(claims.sub), zone, query.at.unwrap_or_else(Utc::now)).await.map(Json)
}

async fn month_to_date(
    context: &ApiContext,
    devices: &[Uuid],
    owner: Option<Uuid>,
    zone: chrono_tz::Tz,
    at: DateTime<Utc>,
) -> ApiResult<MonthToDate> {
    let local = at.with_timezone(&zone).date_naive();
    let first = local.with_day(1).unwrap_or(local);
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let (month_start, month_end) = (zones::start_of_day(first, zone), zones::start_of_day(next, zone));
    let currency: Option<String> = match owner {
        Some(owner) => {
            sqlx::query_scalar("SELECT currency FROM tariffs WHERE user_id = $1")
                .bind(owner)
                .fetch_optional(&context.pool)
                .await?
        }
        None => None,
    };
    let tariff_owner = owner.filter(|_| currency.is_some());
    let (kwh, cost): (Option<Decimal>, Option<Decimal>) = sqlx::query_as(&format!(
        "{} SELECT sum(h.kwh), round(sum(h.kwh * {HOUR_PRICE}), 6) FROM hourly_consumption h, t \
             WHERE h.device_id = ANY($1) AND h.hour >= $2 AND h.hour < $3",
        crate::consumption::tariff_week_of("$4"),
        HOUR_PRICE = crate::consumption::HOUR_PRICE
    ))
    .bind(devices)
    .bind(month_start)
    .bind(at.min(month_end))
    .bind(tariff_owner)
    .fetch_one(&context.pool)
    .await
    .map_err(|error| crate::consumption::unknown_to_the_database(error, zone))?;
    let elapsed_seconds = (at.min(month_end) - month_start).num_seconds();
    let month_seconds = (month_end - month_start).num_seconds();
    let project = |so_far: Decimal| {
        (elapsed_seconds > 0).then(|| {
            (so_far * Decimal::from(month_seconds) / Decimal::from(elapsed_seconds))
                .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
                .normalize()
        })
    };
    let as_kwh = |value: Decimal| value.to_f64().unwrap_or_default();
    Ok(MonthToDate {
        month: first,
        time_zone: zone.name().to_owned(),
        month_start,
        month_end,
        at,
        elapsed_hours: elapsed_seconds as f64 / 3600.0,
        hours_in_month: month_seconds as f64 / 3600.0,
        kwh_so_far: kwh.map(as_kwh),
        projected_kwh: kwh.and_then(project).map(as_kwh),
        currency,
        cost_so_far: cost.map(|cost| cost.normalize()),
        projected_cost: cost.and_then(project),
    })
}

//! Devices: administrators create, edit, delete and assign them to users; a client sees only the
//! devices assigned to them, and any other device is simply not found for them.

use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, TimeDelta, Utc};
use ems_common::{Claims, Role, energy::Kwh};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::{
    error::documented::{Invalid, Malformed, NotAdmin, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody},
    extract::{AdminUser, ApiJson, ApiPath, ApiQuery, CurrentUser, ValidJson},
    pagination::{Page, PageQuery},
    state::ApiContext,
};

/// A smart-metered device.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Device {
    /// The id its meter sends as `device_id` in every reading.
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub location: String,
    /// Energy per hour above which the owner is alerted, in kWh.
    pub max_hourly_kwh: f64,
    /// The user the device is assigned to, if any.
    pub owner_id: Option<Uuid>,
    pub owner_username: Option<String>,
    /// While this instant is ahead, the device's alerts are recorded already acknowledged (marked
    /// `snoozed`) and not pushed live; `null` when the device is not snoozed.
    pub snoozed_until: Option<DateTime<Utc>>,
    /// Whether the owner is warned (a `forecast` alert) when an hour is on course to go above
    /// the limit, before it does.
    pub forecast_alerts: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The timestamp of the device's oldest stored reading; `null` when it never sent one.
    pub first_reading_at: Option<DateTime<Utc>>,
    /// The device's newest stored reading (by its timestamp); `null` when it never sent one.
    pub last_reading: Option<LastReading>,
}

/// The newest reading a device sent, as stored.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct LastReading {
    /// The reading's timestamp: the end of the interval it measured.
    pub at: DateTime<Utc>,
    /// The energy used in that interval.
    pub kwh: f64,
    /// The interval's length in seconds (600 for a meter sampling every 10 minutes).
    pub interval_s: i32,
}

/// A device as selected by [`DEVICE_SELECT`], with its newest reading in flat columns.
#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: Uuid,
    name: String,
    description: String,
    location: String,
    max_hourly_kwh: f64,
    owner_id: Option<Uuid>,
    owner_username: Option<String>,
    snoozed_until: Option<DateTime<Utc>>,
    forecast_alerts: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    first_reading_at: Option<DateTime<Utc>>,
    last_reading_at: Option<DateTime<Utc>>,
    last_reading_kwh: Option<f64>,
    last_reading_interval_s: Option<i32>,
}

impl From<DeviceRow> for Device {
    fn from(row: DeviceRow) -> Self {
        let last_reading = match (row.last_reading_at, row.last_reading_kwh, row.last_reading_interval_s) {
            (Some(at), Some(kwh), Some(interval_s)) => Some(LastReading { at, kwh, interval_s }),
            _ => None,
        };
        Device {
            id: row.id,
            name: row.name,
            description: row.description,
            location: row.location,
            max_hourly_kwh: row.max_hourly_kwh,
            owner_id: row.owner_id,
            owner_username: row.owner_username,
            snoozed_until: row.snoozed_until,
            forecast_alerts: row.forecast_alerts,
            created_at: row.created_at,
            updated_at: row.updated_at,
            first_reading_at: row.first_reading_at,
            last_reading,
        }
    }
}

/// Devices with their owner's name and their oldest and newest readings. Raw readings are split
/// into daily partitions, so each end is found in two steps that each cost one index probe however
/// long the history: the first and last hour from the hourly totals' key (device_id, hour), then
/// the reading within that hour from the one partition that holds it (pruned while executing).
/// A first hour whose raw readings have passed the retention gives the hour's start.
const DEVICE_SELECT: &str = "SELECT d.id, d.name, d.description, d.location, \
     d.max_hourly_kwh::float8 AS max_hourly_kwh, d.owner_id, \
     u.username AS owner_username, \
     CASE WHEN d.snoozed_until > now() THEN d.snoozed_until END AS snoozed_until, d.forecast_alerts, d.created_at, d.updated_at, \
     COALESCE(oldest.ts, hours.first_hour) AS first_reading_at, \
     newest.ts AS last_reading_at, newest.kwh::float8 AS last_reading_kwh, newest.interval_s AS last_reading_interval_s \
     FROM devices d LEFT JOIN users u ON u.id = d.owner_id \
     LEFT JOIN LATERAL (SELECT (SELECT h.hour FROM hourly_consumption h WHERE h.device_id = d.id \
                                ORDER BY h.hour LIMIT 1) AS first_hour, \
                               (SELECT h.hour FROM hourly_consumption h WHERE h.device_id = d.id \
                                ORDER BY h.hour DESC LIMIT 1) AS last_hour) AS hours ON true \
     LEFT JOIN LATERAL (SELECT r.ts FROM readings r WHERE r.device_id = d.id \
                        AND r.ts >= hours.first_hour AND r.ts < hours.first_hour + interval '1 hour' \
                        ORDER BY r.ts LIMIT 1) AS oldest ON true \
     LEFT JOIN LATERAL (SELECT r.ts, r.kwh, r.interval_s FROM readings r WHERE r.device_id = d.id \
                        AND r.ts >= hours.last_hour AND r.ts < hours.last_hour + interval '1 hour' \
                        ORDER BY r.ts DESC LIMIT 1) AS newest ON true";

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NewDevice {
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 1000, message = "must be at most 1000 characters"))]
    #[schema(max_length = 1000)]
    pub description: String,
    #[serde(default)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[schema(max_length = 200)]
    pub location: String,
    /// Must be greater than 0.
    #[validate(range(
        exclusive_min = 0.0,
        max = 1_000_000.0,
        message = "must be a number of kWh greater than 0 and at most 1000000"
    ))]
    #[schema(exclusive_minimum = 0.0, maximum = 1_000_000.0)]
    pub max_hourly_kwh: f64,
    /// Assign the device to this user straight away.
    pub owner_id: Option<Uuid>,
}

/// Fields to change; those left out stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceChanges {
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[validate(length(max = 1000, message = "must be at most 1000 characters"))]
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[schema(max_length = 200)]
    pub location: Option<String>,
    #[validate(range(
        exclusive_min = 0.0,
        max = 1_000_000.0,
        message = "must be a number of kWh greater than 0 and at most 1000000"
    ))]
    #[schema(exclusive_minimum = 0.0, maximum = 1_000_000.0)]
    pub max_hourly_kwh: Option<f64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Assignment {
    /// The user who will own the device.
    pub user_id: Uuid,
}

/// The longest a device may be snoozed at once, so a forgotten snooze ends by itself.
pub const LONGEST_SNOOZE: TimeDelta = TimeDelta::days(7);

/// Quiet hours for a device's alerts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Snooze {
    /// Snooze until this instant (RFC 3339), ahead of now by at most 7 days; `null` (or left
    /// out) ends the snooze.
    pub until: Option<DateTime<Utc>>,
}

/// Whether to warn before the hourly limit is crossed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastAlerts {
    /// `true`: a `forecast` alert when an hour is on course to go above the limit; `false`: only
    /// once it has.
    pub enabled: bool,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct DeviceFilter {
    /// Only devices of this user.
    pub owner_id: Option<Uuid>,
    /// `true`: only assigned devices; `false`: only unassigned ones.
    pub assigned: Option<bool>,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(list_devices, create_device))
        .routes(routes!(get_device, update_device, delete_device))
        .routes(routes!(assign_device, unassign_device))
        .routes(routes!(snooze_device))
        .routes(routes!(set_forecast_alerts))
        .routes(routes!(my_devices))
}

/// A limit as the decimal it was written as (1.2 is stored as 1.2, not as the nearest binary
/// fraction), rounded to the micro-kWh; one that rounds to 0 is refused by the database's check.
fn exact_limit(max_hourly_kwh: f64) -> ApiResult<Kwh> {
    Kwh::from_f64(max_hourly_kwh).ok_or_else(|| ApiError::invalid("max_hourly_kwh", "must be a number of kWh"))
}

fn no_such_device(id: Uuid) -> ApiError {
    ApiError::NotFound(format!("no device has the id {id}"))
}

/// Finds a device the caller may see: any for an administrator, only their own for a client.
/// A device owned by `owner_id` is visible to its owner and to administrators. To anyone else it
/// is not found, not "forbidden": a client must not learn that someone else's device exists.
fn visible_to(caller: &Claims, id: Uuid, owner_id: Option<Uuid>) -> ApiResult<()> {
    if caller.is_admin() || owner_id == Some(caller.sub) { Ok(()) } else { Err(no_such_device(id)) }
}

/// The limit of a device the caller may see, 404 otherwise: the cheap check for requests that
/// need the device's access and limit but not its readings (charts, snoozing).
pub async fn visible_device_limit(context: &ApiContext, caller: &Claims, id: Uuid) -> ApiResult<f64> {
    Ok(visible_device_owner_and_limit(context, caller, id).await?.1)
}

/// The owner (whose tariff prices its consumption) and limit of a device the caller may see.
pub async fn visible_device_owner_and_limit(
    context: &ApiContext,
    caller: &Claims,
    id: Uuid,
) -> ApiResult<(Option<Uuid>, f64)> {
    let (owner_id, limit): (Option<Uuid>, f64) =
        sqlx::query_as("SELECT owner_id, max_hourly_kwh::float8 FROM devices WHERE id = $1")
            .bind(id)
            .fetch_optional(&context.pool)
            .await?
            .ok_or_else(|| no_such_device(id))?;
    visible_to(caller, id, owner_id)?;
    Ok((owner_id, limit))
}

pub async fn visible_device(context: &ApiContext, caller: &Claims, id: Uuid) -> ApiResult<Device> {
    let device = fetch(context, id).await?;
    visible_to(caller, id, device.owner_id)?;
    Ok(device)
}

async fn page_of_devices(context: &ApiContext, page: &PageQuery, filter: &DeviceFilter) -> ApiResult<Page<Device>> {
    page.check()?;
    let condition = "(d.name ILIKE $1 OR d.location ILIKE $1 OR d.description ILIKE $1) \
         AND ($2::uuid IS NULL OR d.owner_id = $2) \
         AND ($3::boolean IS NULL OR (d.owner_id IS NOT NULL) = $3)";
    let pattern = page.like_pattern();
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM devices d WHERE {condition}"))
        .bind(&pattern)
        .bind(filter.owner_id)
        .bind(filter.assigned)
        .fetch_one(&context.pool)
        .await?;
    let devices = sqlx::query_as::<_, DeviceRow>(&format!(
        "{DEVICE_SELECT} WHERE {condition} ORDER BY d.name, d.id LIMIT $4 OFFSET $5"
    ))
    .bind(&pattern)
    .bind(filter.owner_id)
    .bind(filter.assigned)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&context.pool)
    .await?;
    Ok(Page::new(devices.into_iter().map(Device::from).collect(), page, total))
}

/// List and search all devices.
#[utoipa::path(get, path = "/api/devices", tag = "devices", params(PageQuery, DeviceFilter), security(("bearer" = [])),
    responses(
        (status = 200, body = Page<Device>),
        Malformed,
        NotSignedIn,
        NotAdmin,
        Invalid,
    ))]
async fn list_devices(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<DeviceFilter>,
) -> ApiResult<Json<Page<Device>>> {
    Ok(Json(page_of_devices(&context, &page, &filter).await?))
}

/// The signed-in user's own devices.
#[utoipa::path(get, path = "/api/me/devices", tag = "devices", params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = Page<Device>),
        Malformed,
        NotSignedIn,
        Invalid,
    ))]
async fn my_devices(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Device>>> {
    let filter = DeviceFilter { owner_id: Some(claims.sub), assigned: None };
    Ok(Json(page_of_devices(&context, &page, &filter).await?))
}

/// Register a device.
#[utoipa::path(post, path = "/api/devices", tag = "devices", request_body = NewDevice, security(("bearer" = [])),
    responses(
        (status = 201, body = Device),
        Malformed,
        NotSignedIn,
        NotAdmin,
        Invalid,
    ))]
async fn create_device(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ValidJson(new_device): ValidJson<NewDevice>,
) -> ApiResult<(StatusCode, Json<Device>)> {
    if let Some(owner_id) = new_device.owner_id {
        check_owner(&context, owner_id, "owner_id").await?;
    }
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO devices (id, name, description, location, max_hourly_kwh, owner_id) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(new_device.name.trim())
    .bind(new_device.description.trim())
    .bind(new_device.location.trim())
    .bind(exact_limit(new_device.max_hourly_kwh)?)
    .bind(new_device.owner_id)
    .fetch_one(&context.pool)
    .await?;
    tracing::info!(device_id = %id, "device created");
    context.events.device_changed(id).await;
    Ok((StatusCode::CREATED, Json(fetch(&context, id).await?)))
}

async fn fetch(context: &ApiContext, id: Uuid) -> ApiResult<Device> {
    sqlx::query_as::<_, DeviceRow>(&format!("{DEVICE_SELECT} WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(&context.pool)
        .await?
        .map(Device::from)
        .ok_or_else(|| no_such_device(id))
}

/// One device: any for an administrator, only their own for a client (others are 404).
#[utoipa::path(get, path = "/api/devices/{id}", tag = "devices", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = Device),
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "no device with this id is visible to you"),
    ))]
async fn get_device(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Device>> {
    Ok(Json(visible_device(&context, &claims, id).await?))
}

/// Change a device's name, description, location or hourly limit.
#[utoipa::path(patch, path = "/api/devices/{id}", tag = "devices", params(("id" = Uuid, Path)),
    request_body = DeviceChanges, security(("bearer" = [])),
    responses(
        (status = 200, body = Device),
        Malformed,
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no device has this id"),
        Invalid,
    ))]
async fn update_device(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
    ValidJson(changes): ValidJson<DeviceChanges>,
) -> ApiResult<Json<Device>> {
    let updated = sqlx::query(
        "UPDATE devices SET name = COALESCE($2, name), description = COALESCE($3, description), \
         location = COALESCE($4, location), max_hourly_kwh = COALESCE($5, max_hourly_kwh), updated_at = now() \
         WHERE id = $1",
    )
    .bind(id)
    .bind(changes.name.as_deref().map(str::trim))
    .bind(changes.description.as_deref().map(str::trim))
    .bind(changes.location.as_deref().map(str::trim))
    .bind(changes.max_hourly_kwh.map(exact_limit).transpose()?)
    .execute(&context.pool)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(no_such_device(id));
    }
    context.events.device_changed(id).await;
    Ok(Json(fetch(&context, id).await?))
}

/// Delete a device.
#[utoipa::path(delete, path = "/api/devices/{id}", tag = "devices", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "deleted"),
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no device has this id"),
    ))]
async fn delete_device(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let deleted = sqlx::query("DELETE FROM devices WHERE id = $1").bind(id).execute(&context.pool).await?;
    if deleted.rows_affected() == 0 {
        return Err(no_such_device(id));
    }
    tracing::info!(device_id = %id, "device deleted");
    context.events.device_changed(id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Assign a device to a customer (replacing any previous owner); an administrator is refused (422).
#[utoipa::path(put, path = "/api/devices/{id}/owner", tag = "devices", params(("id" = Uuid, Path)),
    request_body = Assignment, security(("bearer" = [])),
    responses(
        (status = 200, body = Device),
        Malformed,
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no device has this id"),
        Invalid,
    ))]
async fn assign_device(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(assignment): ApiJson<Assignment>,
) -> ApiResult<Json<Device>> {
    set_owner(&context, id, Some(assignment.user_id)).await
}

/// Unassign a device from its owner.
#[utoipa::path(delete, path = "/api/devices/{id}/owner", tag = "devices", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses(
        (status = 200, body = Device),
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no device has this id"),
    ))]
async fn unassign_device(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Device>> {
    set_owner(&context, id, None).await
}

/// Devices belong to customers: an owner must be an existing account with the client role.
/// An administrator's account is refused, so that no device ends up where no customer sees it.
async fn check_owner(context: &ApiContext, user_id: Uuid, field: &str) -> ApiResult<()> {
    let role: Option<Role> =
        sqlx::query_scalar("SELECT role FROM users WHERE id = $1").bind(user_id).fetch_optional(&context.pool).await?;
    match role {
        None => Err(ApiError::invalid(field, "no user has this id")),
        Some(Role::Admin) => Err(ApiError::invalid(
            field,
            "is an administrator's account; devices are assigned to customers: choose a customer, \
             or change this user's role to client first",
        )),
        Some(Role::Client) => Ok(()),
    }
}

async fn set_owner(context: &ApiContext, id: Uuid, owner: Option<Uuid>) -> ApiResult<Json<Device>> {
    if let Some(user_id) = owner {
        check_owner(context, user_id, "user_id").await?;
    }
    let updated = sqlx::query("UPDATE devices SET owner_id = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(owner)
        .execute(&context.pool)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(no_such_device(id));
    }
    tracing::info!(device_id = %id, owner_id = ?owner, "device owner changed");
    context.events.device_changed(id).await;
    Ok(Json(fetch(context, id).await?))
}

/// Snooze a device's alerts until a time, or end the snooze (`{"until": null}`): the owner or an
/// administrator. While snoozed, alerts are still recorded, but already acknowledged and marked
/// `snoozed`: they are not pushed live, not replayed, and not counted as open.
#[utoipa::path(put, path = "/api/devices/{id}/snooze", tag = "devices", params(("id" = Uuid, Path)),
    request_body = Snooze, security(("bearer" = [])),
    responses(
        (status = 200, body = Device),
        Malformed,
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "no device with this id is visible to you"),
        Invalid,
    ))]
async fn snooze_device(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(snooze): ApiJson<Snooze>,
) -> ApiResult<Json<Device>> {
    visible_device_limit(&context, &claims, id).await?;
    let now = Utc::now();
    if let Some(until) = snooze.until
        && (until <= now || until > now + LONGEST_SNOOZE)
    {
        return Err(ApiError::invalid(
            "until",
            "must be a time ahead of now by at most 7 days (RFC 3339), or null to end the snooze",
        ));
    }
    change_owners_setting(&context, id, OwnersSetting::SnoozedUntil, snooze.until).await
}

/// Turn a device's early warnings on or off: the owner or an administrator. Off, the device's
/// owner is alerted only once an hour has gone above the limit, not when it is on course to.
#[utoipa::path(put, path = "/api/devices/{id}/forecast-alerts", tag = "devices", params(("id" = Uuid, Path)),
    request_body = ForecastAlerts, security(("bearer" = [])),
    responses(
        (status = 200, body = Device),
        Malformed,
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "no device with this id is visible to you"),
        Invalid,
    ))]
async fn set_forecast_alerts(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(setting): ApiJson<ForecastAlerts>,
) -> ApiResult<Json<Device>> {
    visible_device_limit(&context, &claims, id).await?;
    change_owners_setting(&context, id, OwnersSetting::ForecastAlerts, setting.enabled).await
}

/// The settings of a device its owner may change, besides administrators.
#[derive(Clone, Copy, Debug)]
enum OwnersSetting {
    SnoozedUntil,
    ForecastAlerts,
}

/// Stores one of the owner's settings of device `id` (visible to the caller: checked before),
/// tells the monitors, and answers with the device.
async fn change_owners_setting<T>(
    context: &ApiContext,
    id: Uuid,
    setting: OwnersSetting,
    value: T,
) -> ApiResult<Json<Device>>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + std::fmt::Debug,
{
    let statement = match setting {
        OwnersSetting::SnoozedUntil => "UPDATE devices SET snoozed_until = $2, updated_at = now() WHERE id = $1",
        OwnersSetting::ForecastAlerts => "UPDATE devices SET forecast_alerts = $2, updated_at = now() WHERE id = $1",
    };
    let shown = format!("{value:?}");
    sqlx::query(statement).bind(id).bind(value).execute(&context.pool).await?;
    tracing::info!(device_id = %id, ?setting, value = shown, "device setting changed");
    context.events.device_changed(id).await;
    Ok(Json(fetch(context, id).await?))
}

//! Alerts raised by the monitors: a client lists and acknowledges their own; administrators see
//! everyone's, with filters. An hour's alerts of one device form an incident (its overconsumption
//! and its peak are one event for the person who acts on it), listed and acknowledged together.

use std::collections::HashMap;

use axum::{Json, extract::State};
use chrono::Timelike;
use chrono::{DateTime, Utc};
use ems_common::{
    Claims,
    contracts::{AlertEvent, AlertKind},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::{
    consumption::storable_time,
    error::documented::{Invalid, Malformed, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiPath, ApiQuery, CurrentUser, ValidJson},
    pagination::{Page, PageQuery, like_pattern},
    state::ApiContext,
};

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow, PartialEq)]
pub struct Alert {
    /// The alert as it was raised (and pushed over the WebSocket).
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub event: AlertEvent,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

fn alert_select() -> String {
    AlertEvent::select("a.acknowledged_at")
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    pub device_id: Option<Uuid>,
    /// Administrators only: alerts of this user.
    pub user_id: Option<Uuid>,
    pub kind: Option<AlertKind>,
    /// `false`: only those still to acknowledge.
    pub acknowledged: Option<bool>,
    /// Only alerts with an id above this (what a client missed since the last one it saw).
    pub after_id: Option<i64>,
    /// Only alerts about hours from this instant (RFC 3339), from 1970 to 9999.
    #[validate(custom(function = "storable_time"))]
    pub from: Option<DateTime<Utc>>,
    /// Only alerts about hours before this instant (RFC 3339), from 1970 to 9999.
    #[validate(custom(function = "storable_time"))]
    pub to: Option<DateTime<Utc>>,
}

/// An hour's alerts of one device: what the person acts on once.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Incident {
    pub device_id: Uuid,
    pub device_name: String,
    /// The owner the alerts were raised for.
    pub user_id: Option<Uuid>,
    /// Start of the hour (UTC) the incident is about.
    pub hour: DateTime<Utc>,
    /// The kinds of its alerts: `overconsumption`, then `peak`, then `forecast`.
    pub kinds: Vec<AlertKind>,
    /// Its alerts' ids, in the order of `kinds`.
    pub alert_ids: Vec<i64>,
    /// Its alerts, in the order of `kinds`: each with its value, limit and (a peak) its reading.
    pub alerts: Vec<Alert>,
    /// How far above the limit the worst of its alerts went: the value over the limit (1.5 is
    /// 50 % above; a peak's kW and an hour's kWh both compare with the limit of kWh per hour).
    pub worst_ratio: f64,
    /// Whether any of its alerts is still to acknowledge.
    pub open: bool,
    /// Whether all its alerts were raised while the device was snoozed.
    pub snoozed: bool,
}

/// Which alerts to acknowledge; every field narrows the set, and `{}` means all the caller may
/// acknowledge (a client's own; everyone's for an administrator). Unknown fields are refused, so
/// a misspelt filter never acknowledges more than was meant.
#[derive(Debug, Default, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeFilter {
    pub device_id: Option<Uuid>,
    pub kind: Option<AlertKind>,
    /// Administrators only: alerts of this user (a client's own alerts only, whatever is sent).
    pub user_id: Option<Uuid>,
    /// Alerts about this hour only (its start, on the hour); with `device_id`, one incident.
    #[validate(custom(function = "on_the_hour"))]
    pub hour: Option<DateTime<Utc>>,
    /// These alerts only (at most 1000).
    #[validate(length(max = 1000, message = "at most 1000 ids at once"))]
    #[schema(max_items = 1000)]
    pub ids: Option<Vec<i64>>,
    /// Only alerts about hours from this instant (RFC 3339).
    #[validate(custom(function = "storable_time"))]
    pub from: Option<DateTime<Utc>>,
    /// Only alerts about hours before this instant (RFC 3339).
    #[validate(custom(function = "storable_time"))]
    pub to: Option<DateTime<Utc>>,
    /// Only alerts whose message or device name contains this text, as `q` of the list.
    #[validate(length(max = 200, message = "at most 200 characters"))]
    #[schema(max_length = 200)]
    pub q: Option<String>,
}

fn on_the_hour(hour: &DateTime<Utc>) -> Result<(), validator::ValidationError> {
    storable_time(hour)?;
    if hour.minute() == 0 && hour.second() == 0 && hour.nanosecond() == 0 {
        Ok(())
    } else {
        Err(validator::ValidationError::new("hour")
            .with_message("must be the start of an hour, like 2026-03-01T14:00:00Z".into()))
    }
}

/// How many alerts a bulk acknowledgement marked as seen now (those acknowledged before are not
/// counted, so sending it again answers 0).
#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Acknowledged {
    pub acknowledged: i64,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(list_incidents))
        .routes(routes!(acknowledge_many))
        .routes(routes!(acknowledge))
}

/// The alerts a list or an incident list considers: `$1` user (none: everyone), `$2` device,
/// `$3` kind, `$4` acknowledged, `$5` after id, `$6` from, `$7` to, `$8` search pattern.
const FILTER: &str = "($1::uuid IS NULL OR a.user_id = $1) AND ($2::uuid IS NULL OR a.device_id = $2) \
     AND ($3::text IS NULL OR a.kind = $3::alert_kind) \
     AND ($4::boolean IS NULL OR (a.acknowledged_at IS NOT NULL) = $4) \
     AND ($5::bigint IS NULL OR a.id > $5) AND ($6::timestamptz IS NULL OR a.hour >= $6) \
     AND ($7::timestamptz IS NULL OR a.hour < $7) AND (a.message ILIKE $8 OR d.name ILIKE $8)";

/// Whose alerts a request is about: a client's own, whatever they ask for; for an administrator
/// the customer asked for, or everyone's (`None`).
fn whose(claims: &Claims, asked: Option<Uuid>) -> Option<Uuid> {
    if claims.is_admin() { asked } else { Some(claims.sub) }
}

/// Binds [`FILTER`]'s eight parameters, in order.
macro_rules! bind_filter {
    ($query:expr, $user:expr, $filter:expr, $pattern:expr) => {
        $query
            .bind($user)
            .bind($filter.device_id)
            .bind($filter.kind.map(AlertKind::as_str))
            .bind($filter.acknowledged)
            .bind($filter.after_id)
            .bind($filter.from)
            .bind($filter.to)
            .bind($pattern)
    };
}

/// Alerts, newest first by the hour they are about (then by id): a client's own, or anyone's for
/// an administrator. `q` searches the message and device name.
#[utoipa::path(get, path = "/api/alerts", tag = "alerts", params(PageQuery, AlertFilter), security(("bearer" = [])),
    responses(
        (status = 200, body = Page<Alert>),
        Malformed,
        NotSignedIn,
        Invalid,
    ))]
async fn list_alerts(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<AlertFilter>,
) -> ApiResult<Json<Page<Alert>>> {
    page.check()?;
    let user = whose(&claims, filter.user_id);
    let pattern = page.like_pattern();
    let total: i64 = bind_filter!(
        sqlx::query_scalar(&format!(
            "SELECT count(*) FROM alerts a JOIN devices d ON d.id = a.device_id WHERE {FILTER}"
        )),
        user,
        filter,
        &pattern
    )
    .fetch_one(&context.pool)
    .await?;
    let alerts = bind_filter!(
        sqlx::query_as::<_, Alert>(&format!(
            "{} WHERE {FILTER} ORDER BY a.hour DESC, a.id DESC LIMIT $9 OFFSET $10",
            alert_select()
        )),
        user,
        filter,
        &pattern
    )
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&context.pool)
    .await?;
    Ok(Json(Page::new(alerts, &page, total)))
}

/// Incidents, newest first by their hour: the alerts matching the filters (the same as for
/// `/api/alerts`), grouped per device and hour. `acknowledged=false` gives the open incidents,
/// each with its open alerts. `total` counts incidents.
#[utoipa::path(get, path = "/api/alerts/incidents", tag = "alerts", params(PageQuery, AlertFilter), security(("bearer" = [])),
    responses(
        (status = 200, body = Page<Incident>),
        Malformed,
        NotSignedIn,
        Invalid,
    ))]
async fn list_incidents(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<AlertFilter>,
) -> ApiResult<Json<Page<Incident>>> {
    page.check()?;
    let user = whose(&claims, filter.user_id);
    let pattern = page.like_pattern();
    let total: i64 = bind_filter!(
        sqlx::query_scalar(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM alerts a JOIN devices d ON d.id = a.device_id WHERE {FILTER} \
             GROUP BY a.device_id, a.hour) AS incident"
        )),
        user,
        filter,
        &pattern
    )
    .fetch_one(&context.pool)
    .await?;
    // The page's incidents first, then their alerts (under the same filters).
    let keys: Vec<(Uuid, DateTime<Utc>)> = bind_filter!(
        sqlx::query_as(&format!(
            "SELECT a.device_id, a.hour FROM alerts a JOIN devices d ON d.id = a.device_id WHERE {FILTER} \
             GROUP BY a.device_id, a.hour, d.name ORDER BY a.hour DESC, d.name, a.device_id LIMIT $9 OFFSET $10"
        )),
        user,
        filter,
        &pattern
    )
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&context.pool)
    .await?;
    let alerts: Vec<Alert> = bind_filter!(
        sqlx::query_as::<_, Alert>(&format!(
            "{} WHERE {FILTER} AND (a.device_id, a.hour) IN (SELECT * FROM UNNEST($9::uuid[], $10::timestamptz[])) \
             ORDER BY a.kind, a.id",
            alert_select()
        )),
        user,
        filter,
        &pattern
    )
    .bind(keys.iter().map(|(device, _)| *device).collect::<Vec<_>>())
    .bind(keys.iter().map(|(_, hour)| *hour).collect::<Vec<_>>())
    .fetch_all(&context.pool)
    .await?;
    Ok(Json(Page::new(incidents(&keys, alerts), &page, total)))
}

/// Groups alerts into the incidents `keys` names, in the order of `keys`; each incident's alerts
/// keep the order they come in.
fn incidents(keys: &[(Uuid, DateTime<Utc>)], alerts: Vec<Alert>) -> Vec<Incident> {
    let mut grouped: HashMap<(Uuid, DateTime<Utc>), Vec<Alert>> = HashMap::new();
    for alert in alerts {
        grouped.entry((alert.event.device_id, alert.event.hour)).or_default().push(alert);
    }
    keys.iter()
        .filter_map(|key| {
            let alerts = grouped.remove(key)?;
            let first = &alerts.first()?.event;
            Some(Incident {
                device_id: first.device_id,
                device_name: first.device_name.clone(),
                user_id: first.user_id,
                hour: first.hour,
                kinds: alerts.iter().map(|alert| alert.event.kind).collect(),
                alert_ids: alerts.iter().map(|alert| alert.event.id).collect(),
                worst_ratio: alerts.iter().map(|alert| alert.event.value / alert.event.limit_kwh).fold(0.0, f64::max),
                open: alerts.iter().any(|alert| alert.acknowledged_at.is_none()),
                snoozed: alerts.iter().all(|alert| alert.event.snoozed),
                alerts,
            })
        })
        .collect()
}

/// Acknowledge every alert matching the filter at once: all open ones (`{}`), a device's
/// (`device_id`), a kind (`kind`), one incident (`device_id` and `hour`), the ones shown
/// (the list's filters) or given `ids`. A client acknowledges only their own alerts; an
/// administrator anyone's (`user_id` narrows to one customer). Acknowledging again changes
/// nothing and counts nothing.
#[utoipa::path(post, path = "/api/alerts/acknowledge", tag = "alerts", request_body = AcknowledgeFilter,
    security(("bearer" = [])), responses(
        (status = 200, body = Acknowledged),
        Malformed,
        NotSignedIn,
        Invalid,
    ))]
async fn acknowledge_many(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ValidJson(filter): ValidJson<AcknowledgeFilter>,
) -> ApiResult<Json<Acknowledged>> {
    let user = whose(&claims, filter.user_id);
    let pattern = like_pattern(filter.q.as_deref());
    let updated = sqlx::query(
        "UPDATE alerts a SET acknowledged_at = now() FROM devices d \
         WHERE d.id = a.device_id AND a.acknowledged_at IS NULL \
           AND ($1::uuid IS NULL OR a.user_id = $1) AND ($2::uuid IS NULL OR a.device_id = $2) \
           AND ($3::text IS NULL OR a.kind = $3::alert_kind) AND ($4::timestamptz IS NULL OR a.hour = $4) \
           AND ($5::bigint[] IS NULL OR a.id = ANY($5)) AND ($6::timestamptz IS NULL OR a.hour >= $6) \
           AND ($7::timestamptz IS NULL OR a.hour < $7) AND (a.message ILIKE $8 OR d.name ILIKE $8)",
    )
    .bind(user)
    .bind(filter.device_id)
    .bind(filter.kind.map(AlertKind::as_str))
    .bind(filter.hour)
    .bind(filter.ids.as_deref())
    .bind(filter.from)
    .bind(filter.to)
    .bind(&pattern)
    .execute(&context.pool)
    .await?;
    let acknowledged = updated.rows_affected() as i64;
    tracing::info!(acknowledged, user_id = %claims.sub, "alerts acknowledged");
    Ok(Json(Acknowledged { acknowledged }))
}

/// Mark an alert as seen. Acknowledging again keeps the first time.
#[utoipa::path(post, path = "/api/alerts/{id}/acknowledge", tag = "alerts", params(("id" = i64, Path)),
    security(("bearer" = [])), responses(
        (status = 200, body = Alert),
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "no alert with this id is visible to you"),
    ))]
async fn acknowledge(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Alert>> {
    let updated = sqlx::query(
        "UPDATE alerts SET acknowledged_at = COALESCE(acknowledged_at, now()) \
         WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2)",
    )
    .bind(id)
    .bind(if claims.is_admin() { None } else { Some(claims.sub) })
    .execute(&context.pool)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::NotFound(format!("no alert has the id {id}")));
    }
    let alert = sqlx::query_as::<_, Alert>(&format!("{} WHERE a.id = $1", alert_select()))
        .bind(id)
        .fetch_one(&context.pool)
        .await?;
    Ok(Json(alert))
}

//! Alerts raised by the monitors: a client lists and acknowledges their own; administrators see
//! everyone's, with filters.

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use ems_common::contracts::{AlertEvent, AlertKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::{
    consumption::storable_time,
    error::documented::{Invalid, Malformed, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiPath, ApiQuery, CurrentUser},
    pagination::{Page, PageQuery},
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

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(list_alerts)).routes(routes!(acknowledge))
}

/// Alerts, newest first: a client's own, or anyone's for an administrator. `q` searches the
/// message and device name.
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
    // A client's own alerts only, whatever they ask for.
    let user = if claims.is_admin() { filter.user_id } else { Some(claims.sub) };
    let condition = "($1::uuid IS NULL OR a.user_id = $1) AND ($2::uuid IS NULL OR a.device_id = $2) \
         AND ($3::text IS NULL OR a.kind = $3::alert_kind) \
         AND ($4::boolean IS NULL OR (a.acknowledged_at IS NOT NULL) = $4) \
         AND ($5::bigint IS NULL OR a.id > $5) AND ($6::timestamptz IS NULL OR a.hour >= $6) \
         AND ($7::timestamptz IS NULL OR a.hour < $7) AND (a.message ILIKE $8 OR d.name ILIKE $8)";
    let kind = filter.kind.map(AlertKind::as_str);
    let pattern = page.like_pattern();
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM alerts a JOIN devices d ON d.id = a.device_id WHERE {condition}"
    ))
    .bind(user)
    .bind(filter.device_id)
    .bind(kind)
    .bind(filter.acknowledged)
    .bind(filter.after_id)
    .bind(filter.from)
    .bind(filter.to)
    .bind(&pattern)
    .fetch_one(&context.pool)
    .await?;
    let alerts = sqlx::query_as::<_, Alert>(&format!(
        "{} WHERE {condition} ORDER BY a.id DESC LIMIT $9 OFFSET $10",
        alert_select()
    ))
    .bind(user)
    .bind(filter.device_id)
    .bind(kind)
    .bind(filter.acknowledged)
    .bind(filter.after_id)
    .bind(filter.from)
    .bind(filter.to)
    .bind(&pattern)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&context.pool)
    .await?;
    Ok(Json(Page::new(alerts, &page, total)))
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

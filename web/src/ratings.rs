//! Ratings of the help administrators gave: asked of the customer when a conversation an
//! administrator held is handed back (see [`crate::chat`]), given once, and averaged per
//! administrator for the others to see.

use axum::{Json, extract::State};
use ems_common::contracts::{ChatEvent, SupportRating};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::{
    error::documented::{Invalid, Malformed, NotAdmin, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody},
    extract::{AdminUser, CurrentUser, ValidJson},
    state::ApiContext,
};

/// A customer's rating of one hand-back.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    /// The `id` of the `rating_request` being answered.
    pub rating_id: i64,
    /// 1 (poor) to 5 (excellent).
    #[validate(range(min = 1, max = 5, message = "must be a whole number from 1 to 5"))]
    pub rating: i16,
    /// Anything the customer wants to add, up to 1000 characters.
    #[validate(length(max = 1000, message = "must be at most 1000 characters"))]
    pub comment: Option<String>,
}

/// How customers rated one administrator's help.
#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct AdminRatings {
    pub admin_id: Uuid,
    pub username: String,
    pub display_name: String,
    /// Ratings given.
    pub ratings: i64,
    /// Their mean, 1 to 5.
    pub average: f64,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(rate)).routes(routes!(averages))
}

/// Rate the help of the administrator who handed my conversation back. The first rating of a
/// hand-back stands: sending again answers it unchanged.
#[utoipa::path(post, path = "/api/chat/rating", tag = "chat", request_body = NewRating, security(("bearer" = [])),
    responses(
        (status = 200, body = SupportRating, description = "the rating as stored (the first one given)"),
        Malformed,
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "no hand-back of my conversation has this id"),
        Invalid,
    ))]
async fn rate(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ValidJson(new): ValidJson<NewRating>,
) -> ApiResult<Json<SupportRating>> {
    let comment = new.comment.as_deref().map(str::trim).filter(|comment| !comment.is_empty());
    let rated: Option<i64> = sqlx::query_scalar(
        "UPDATE support_ratings SET rating = $3, comment = $4, rated_at = now() \
         WHERE id = $1 AND customer_id = $2 AND rating IS NULL RETURNING id",
    )
    .bind(new.rating_id)
    .bind(claims.sub)
    .bind(new.rating)
    .bind(comment)
    .fetch_optional(&context.pool)
    .await?;
    let stored = sqlx::query_as::<_, SupportRating>(&format!(
        "{} WHERE r.id = $1 AND r.customer_id = $2",
        SupportRating::SELECT
    ))
    .bind(new.rating_id)
    .bind(claims.sub)
    .fetch_optional(&context.pool)
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no hand-back of your conversation has the id {}", new.rating_id)))?;
    if rated.is_some() {
        metrics::counter!("support_ratings_total").increment(1);
        let event = ChatEvent::Rated { customer_id: claims.sub, rating: stored.clone() };
        context.events.chat(claims.sub, &event).await;
    }
    Ok(Json(stored))
}

/// Every administrator's ratings: how many, and their average, best first.
#[utoipa::path(get, path = "/api/support/ratings", tag = "chat", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<AdminRatings>),
        NotSignedIn,
        NotAdmin,
    ))]
async fn averages(_admin: AdminUser, State(context): State<ApiContext>) -> ApiResult<Json<Vec<AdminRatings>>> {
    let rows = sqlx::query_as::<_, AdminRatings>(
        "SELECT a.id AS admin_id, a.username, a.display_name, count(*) AS ratings, avg(r.rating)::float8 AS average \
         FROM support_ratings r JOIN users a ON a.id = r.admin_id WHERE r.rating IS NOT NULL \
         GROUP BY a.id, a.username, a.display_name ORDER BY average DESC, a.username",
    )
    .fetch_all(&context.pool)
    .await?;
    Ok(Json(rows))
}

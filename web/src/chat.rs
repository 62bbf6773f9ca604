//! Support chat over REST: a customer's history, and for administrators any conversation's
//! history, taking a conversation (it is then assigned to them) and handing it back to the bot,
//! which asks the customer to rate the help. The inbox is in [`crate::inbox`], ratings in
//! [`crate::ratings`]. Live messages travel over the WebSocket (docs/websocket.md).

use axum::{Json, extract::State};
use ems_common::contracts::{ChatEvent, ChatMessage, ConversationMode, SupportRating};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::{
    error::documented::{Invalid, Malformed, NotAdmin, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody},
    extract::{AdminUser, ApiPath, ApiQuery, CurrentUser},
    state::ApiContext,
};

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only messages older than this id (to page back through a long conversation).
    pub before_id: Option<i64>,
    /// At most this many messages, 1 to 200 (default 50).
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: i64,
}

fn default_limit() -> i64 {
    50
}

/// Messages oldest first, and whether older ones remain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct History {
    pub messages: Vec<ChatMessage>,
    pub has_more: bool,
    pub mode: ConversationMode,
    /// The administrator answering the conversation; null in bot mode and while it waits for one.
    pub admin_id: Option<Uuid>,
    /// That administrator's display name.
    pub admin_name: Option<String>,
    /// The last message id the customer has read.
    pub customer_read_up_to: i64,
    /// The last message id an administrator has read.
    pub admin_read_up_to: i64,
    /// The newest hand-back, while the customer has not rated it (and no later one was made).
    pub rating_request: Option<SupportRating>,
    /// The customer's ratings of earlier hand-backs, newest first (at most 10).
    pub ratings: Vec<SupportRating>,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(my_history))
        .routes(routes!(conversation_history))
        .routes(routes!(take_over))
        .routes(routes!(hand_back))
}

/// A conversation's mode, holder (id and name) and read marks (customer's, administrators').
type ConversationState = (ConversationMode, Option<Uuid>, Option<String>, i64, i64);

async fn history(context: &ApiContext, customer_id: Uuid, query: &HistoryQuery) -> ApiResult<History> {
    if !(1..=200).contains(&query.limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 200"));
    }
    let mut messages = sqlx::query_as::<_, ChatMessage>(
        "SELECT id, customer_id, source, sender_id, body, created_at FROM chat_messages \
         WHERE customer_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(customer_id)
    .bind(query.before_id)
    .bind(query.limit + 1)
    .fetch_all(&context.pool)
    .await?;
    let has_more = messages.len() as i64 > query.limit;
    messages.truncate(query.limit as usize);
    messages.reverse();
    let state: Option<ConversationState> = sqlx::query_as(
        "SELECT c.mode, c.admin_id, a.display_name, c.customer_read_up_to, c.admin_read_up_to \
         FROM conversations c LEFT JOIN users a ON a.id = c.admin_id WHERE c.customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(&context.pool)
    .await?;
    let (mode, admin_id, admin_name, customer_read_up_to, admin_read_up_to) =
        state.unwrap_or((ConversationMode::Bot, None, None, 0, 0));
    let recent = sqlx::query_as::<_, SupportRating>(&format!(
        "{} WHERE r.customer_id = $1 ORDER BY r.id DESC LIMIT 11",
        SupportRating::SELECT
    ))
    .bind(customer_id)
    .fetch_all(&context.pool)
    .await?;
    let rating_request = recent.first().filter(|newest| newest.rating.is_none()).cloned();
    let ratings = recent.into_iter().filter(|rating| rating.rating.is_some()).take(10).collect();
    Ok(History {
        messages,
        has_more,
        mode,
        admin_id,
        admin_name,
        customer_read_up_to,
        admin_read_up_to,
        rating_request,
        ratings,
    })
}

/// My support conversation, oldest first.
#[utoipa::path(get, path = "/api/chat/messages", tag = "chat", params(HistoryQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = History),
        Malformed,
        NotSignedIn,
        Invalid,
    ))]
async fn my_history(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<History>> {
    Ok(Json(history(&context, claims.sub, &query).await?))
}

/// One customer's conversation, oldest first.
#[utoipa::path(get, path = "/api/support/conversations/{customer_id}/messages", tag = "chat",
    params(("customer_id" = Uuid, Path), HistoryQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = History),
        Malformed,
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "the customer id is not a UUID"),
        Invalid,
    ))]
async fn conversation_history(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(customer_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<History>> {
    Ok(Json(history(&context, customer_id, &query).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct TakeQuery {
    /// `true`: take the conversation even from the administrator who holds it (they are named in
    /// the `chat.mode` event as `previous_admin_id`).
    #[serde(default)]
    pub force: bool,
}

/// Take a conversation: it is assigned to me and the customer's messages go to administrators.
/// Held by another administrator, it is a 409 naming them, unless `force=true`.
#[utoipa::path(post, path = "/api/support/conversations/{customer_id}/takeover", tag = "chat",
    params(("customer_id" = Uuid, Path), TakeQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = History),
        Malformed,
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no customer has this id"),
        Invalid,
        (status = 409, body = ErrorBody, description = "another administrator holds the conversation; the message names them"),
    ))]
async fn take_over(
    AdminUser(admin): AdminUser,
    State(context): State<ApiContext>,
    ApiPath(customer_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<TakeQuery>,
) -> ApiResult<Json<History>> {
    let mut transaction = context.pool.begin().await?;
    let holder = lock_conversation(&mut transaction, customer_id).await?;
    let previous_admin_id = holder.as_ref().map(|(id, _)| *id).filter(|id| *id != admin.sub);
    if let (Some(_), Some((_, name))) = (previous_admin_id, &holder)
        && !query.force
    {
        return Err(ApiError::Conflict {
            field: None,
            message: format!("{name} has this conversation; take it over from them with force=true"),
        });
    }
    sqlx::query("UPDATE conversations SET mode = 'human', admin_id = $2, updated_at = now() WHERE customer_id = $1")
        .bind(customer_id)
        .bind(admin.sub)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    if let Some(previous) = previous_admin_id {
        tracing::info!(%customer_id, %previous, "conversation taken over from another administrator");
    }
    let event =
        ChatEvent::Mode { customer_id, mode: ConversationMode::Human, admin_id: Some(admin.sub), previous_admin_id };
    context.events.chat(customer_id, &event).await;
    let query = HistoryQuery { before_id: None, limit: default_limit() };
    Ok(Json(history(&context, customer_id, &query).await?))
}

/// Hand a conversation back to the bot. When an administrator held it, its customer is asked to
/// rate their help (`chat.rating_request`), once per hand-back.
#[utoipa::path(post, path = "/api/support/conversations/{customer_id}/handback", tag = "chat",
    params(("customer_id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = History),
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no customer has this id"),
    ))]
async fn hand_back(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(customer_id): ApiPath<Uuid>,
) -> ApiResult<Json<History>> {
    let mut transaction = context.pool.begin().await?;
    let holder = lock_conversation(&mut transaction, customer_id).await?;
    sqlx::query("UPDATE conversations SET mode = 'bot', admin_id = NULL, updated_at = now() WHERE customer_id = $1")
        .bind(customer_id)
        .execute(&mut *transaction)
        .await?;
    // Only a conversation someone held is rated; handing back again asks nothing more.
    let mut request = None;
    if let Some((admin_id, _)) = holder {
        let id: i64 =
            sqlx::query_scalar("INSERT INTO support_ratings (customer_id, admin_id) VALUES ($1, $2) RETURNING id")
                .bind(customer_id)
                .bind(admin_id)
                .fetch_one(&mut *transaction)
                .await?;
        request = Some(
            sqlx::query_as::<_, SupportRating>(&format!("{} WHERE r.id = $1", SupportRating::SELECT))
                .bind(id)
                .fetch_one(&mut *transaction)
                .await?,
        );
    }
    transaction.commit().await?;
    let event = ChatEvent::Mode { customer_id, mode: ConversationMode::Bot, admin_id: None, previous_admin_id: None };
    context.events.chat(customer_id, &event).await;
    if let Some(rating) = request {
        context.events.chat(customer_id, &ChatEvent::RatingRequest { customer_id, rating }).await;
    }
    let query = HistoryQuery { before_id: None, limit: default_limit() };
    Ok(Json(history(&context, customer_id, &query).await?))
}

/// Creates the customer's conversation if needed and locks it until the transaction ends, so
/// that of two administrators taking it at once the second sees the first as its holder.
/// Answers the holder, if any, with their display name; 404 when no customer has the id.
async fn lock_conversation(
    transaction: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    customer_id: Uuid,
) -> ApiResult<Option<(Uuid, String)>> {
    sqlx::query(
        "INSERT INTO conversations (customer_id) SELECT id FROM users WHERE id = $1 AND role = 'client' \
         ON CONFLICT DO NOTHING",
    )
    .bind(customer_id)
    .execute(&mut **transaction)
    .await?;
    let row: Option<(Option<Uuid>,)> =
        sqlx::query_as("SELECT admin_id FROM conversations WHERE customer_id = $1 FOR UPDATE")
            .bind(customer_id)
            .fetch_optional(&mut **transaction)
            .await?;
    let Some((holder,)) = row else {
        return Err(ApiError::NotFound(format!("no customer has the id {customer_id}")));
    };
    let Some(holder) = holder else { return Ok(None) };
    let name: Option<String> = sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
        .bind(holder)
        .fetch_optional(&mut **transaction)
        .await?;
    Ok(Some((holder, name.unwrap_or_else(|| "another administrator".to_owned()))))
}

//! Support chat over REST: a customer's history, and for administrators the inbox of
//! conversations with unread counts, any conversation's history, and taking a conversation over
//! from the bot or handing it back. Live messages travel over the WebSocket (docs/websocket.md).

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use ems_common::contracts::{ChatEvent, ChatMessage, ChatSource, ConversationMode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::{
    error::documented::{Invalid, Malformed, NotAdmin, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody},
    extract::{AdminUser, ApiPath, ApiQuery, CurrentUser},
    pagination::{Page, PageQuery},
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
    /// The last message id the customer has read.
    pub customer_read_up_to: i64,
    /// The last message id an administrator has read.
    pub admin_read_up_to: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Conversation {
    pub customer_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub mode: ConversationMode,
    pub admin_id: Option<Uuid>,
    /// Customer messages an administrator has not read yet.
    pub unread: i64,
    pub last_body: Option<String>,
    pub last_source: Option<ChatSource>,
    pub last_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct ConversationFilter {
    /// Only conversations in this mode.
    pub mode: Option<ConversationMode>,
    /// `true`: only conversations waiting for an administrator (handed to a person, nobody
    /// answering yet); `false`: only the others.
    pub waiting: Option<bool>,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(my_history))
        .routes(routes!(conversations))
        .routes(routes!(conversation_history))
        .routes(routes!(take_over))
        .routes(routes!(hand_back))
}

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
    let state: Option<(ConversationMode, Option<Uuid>, i64, i64)> = sqlx::query_as(
        "SELECT mode, admin_id, customer_read_up_to, admin_read_up_to FROM conversations WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(&context.pool)
    .await?;
    let (mode, admin_id, customer_read_up_to, admin_read_up_to) = state.unwrap_or((ConversationMode::Bot, None, 0, 0));
    Ok(History { messages, has_more, mode, admin_id, customer_read_up_to, admin_read_up_to })
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

/// Every conversation, most recent first, with unread counts.
#[utoipa::path(get, path = "/api/support/conversations", tag = "chat", params(PageQuery, ConversationFilter),
    security(("bearer" = [])), responses(
        (status = 200, body = Page<Conversation>),
        Malformed,
        NotSignedIn,
        NotAdmin,
        Invalid,
    ))]
async fn conversations(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<ConversationFilter>,
) -> ApiResult<Json<Page<Conversation>>> {
    page.check()?;
    let condition = "(u.username ILIKE $1 OR u.display_name ILIKE $1) AND ($2::conversation_mode IS NULL OR c.mode = $2) \
         AND ($3::boolean IS NULL OR (c.mode = 'human' AND c.admin_id IS NULL) = $3)";
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM conversations c JOIN users u ON u.id = c.customer_id WHERE {condition}"
    ))
    .bind(page.like_pattern())
    .bind(filter.mode)
    .bind(filter.waiting)
    .fetch_one(&context.pool)
    .await?;
    let items = sqlx::query_as::<_, Conversation>(&format!(
        "SELECT c.customer_id, u.username, u.display_name, c.mode, c.admin_id, \
           (SELECT count(*) FROM chat_messages m WHERE m.customer_id = c.customer_id AND m.source = 'customer' \
              AND m.id > c.admin_read_up_to) AS unread, \
           last.body AS last_body, last.source AS last_source, last.created_at AS last_at \
         FROM conversations c JOIN users u ON u.id = c.customer_id \
         LEFT JOIN LATERAL (SELECT body, source, created_at FROM chat_messages m WHERE m.customer_id = c.customer_id \
           ORDER BY id DESC LIMIT 1) last ON true \
         WHERE {condition} ORDER BY last.created_at DESC NULLS LAST, u.username LIMIT $4 OFFSET $5"
    ))
    .bind(page.like_pattern())
    .bind(filter.mode)
    .bind(filter.waiting)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&context.pool)
    .await?;
    Ok(Json(Page::new(items, &page, total)))
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

/// Take a conversation over from the bot: the customer's messages now go to administrators.
#[utoipa::path(post, path = "/api/support/conversations/{customer_id}/takeover", tag = "chat",
    params(("customer_id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = History),
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no customer has this id"),
    ))]
async fn take_over(
    AdminUser(admin): AdminUser,
    State(context): State<ApiContext>,
    ApiPath(customer_id): ApiPath<Uuid>,
) -> ApiResult<Json<History>> {
    set_mode(&context, customer_id, ConversationMode::Human, Some(admin.sub)).await
}

/// Hand a conversation back to the bot.
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
    set_mode(&context, customer_id, ConversationMode::Bot, None).await
}

async fn set_mode(
    context: &ApiContext,
    customer_id: Uuid,
    mode: ConversationMode,
    admin_id: Option<Uuid>,
) -> ApiResult<Json<History>> {
    let updated = sqlx::query(
        "INSERT INTO conversations (customer_id, mode, admin_id) \
         SELECT id, $2, $3 FROM users WHERE id = $1 AND role = 'client' \
         ON CONFLICT (customer_id) DO UPDATE SET mode = $2, admin_id = $3, updated_at = now()",
    )
    .bind(customer_id)
    .bind(mode)
    .bind(admin_id)
    .execute(&context.pool)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::NotFound(format!("no customer has the id {customer_id}")));
    }
    let event = ChatEvent::Mode { customer_id, mode, admin_id };
    context.events.chat(customer_id, &event).await;
    let query = HistoryQuery { before_id: None, limit: default_limit() };
    Ok(Json(history(context, customer_id, &query).await?))
}

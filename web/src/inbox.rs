//! The administrators' inbox: every conversation, newest message first, paged by a cursor so that
//! a page stays put while new messages arrive, searched by the customer's name and by what was
//! written, and filtered by who holds the conversation.
//!
//! Search uses trigrams (`pg_trgm`, GIN indexes on names and message bodies): an administrator
//! types part of a word ("refun", half a surname) in English or Romanian, and `ILIKE '%…%'` finds
//! it through the index. Full-text search would need a language per message and matches whole,
//! stemmed words only, which is not how people look for a conversation they half remember.

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use ems_common::contracts::{ChatSource, ConversationMode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::{
    error::documented::{Invalid, Malformed, NotAdmin, NotSignedIn},
    error::{ApiError, ApiResult},
    extract::{AdminUser, ApiQuery},
    pagination::{MAX_PER_PAGE, like_pattern},
    state::ApiContext,
};

/// Whose conversations to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Assigned {
    /// Those I hold.
    Me,
    /// Those nobody holds.
    Unassigned,
    #[default]
    All,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Text to look for in the customer's username or display name, or in any message of the
    /// conversation (case-insensitive, any part of a word).
    pub q: Option<String>,
    /// Only conversations in this mode.
    pub mode: Option<ConversationMode>,
    /// `true`: only conversations waiting for an administrator (handed to a person, nobody
    /// holding it yet); `false`: only the others.
    pub waiting: Option<bool>,
    /// `me`: those I hold; `unassigned`: those nobody holds; `all` (default).
    #[serde(default)]
    #[param(inline)]
    pub assigned: Assigned,
    /// The `next_after` of the previous page; absent for the first page.
    pub after: Option<String>,
    /// Conversations per page, 1 to 100 (default 20).
    #[serde(default = "default_per_page")]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: u32,
}

fn default_per_page() -> u32 {
    20
}

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Conversation {
    pub customer_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub mode: ConversationMode,
    /// The administrator who holds the conversation; null while nobody does.
    pub admin_id: Option<Uuid>,
    /// That administrator's display name.
    pub admin_name: Option<String>,
    /// Customer messages an administrator has not read yet.
    pub unread: i64,
    pub last_body: Option<String>,
    pub last_source: Option<ChatSource>,
    pub last_at: Option<DateTime<Utc>>,
    /// With `q`: the newest message that contains it, when one does.
    pub matched_body: Option<String>,
    /// The customer's latest rating of a handed-back conversation (1 to 5), if they gave one.
    pub last_rating: Option<i16>,
    #[serde(skip)]
    pub last_message_id: i64,
}

/// One page of the inbox.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Inbox {
    pub items: Vec<Conversation>,
    pub per_page: u32,
    /// Conversations matching the filters, over all pages.
    pub total: i64,
    /// Pass as `after` for the next page; null on the last one.
    pub next_after: Option<String>,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(conversations))
}

/// Where a page ends: the last conversation's newest message id and its customer.
fn parse_cursor(after: Option<&str>) -> ApiResult<(Option<i64>, Option<Uuid>)> {
    let Some(after) = after else { return Ok((None, None)) };
    let bad = || ApiError::invalid("after", "must be the `next_after` of the previous page");
    let (id, customer) = after.split_once('.').ok_or_else(bad)?;
    Ok((Some(id.parse().map_err(|_| bad())?), Some(Uuid::parse_str(customer).map_err(|_| bad())?)))
}

fn cursor_of(conversation: &Conversation) -> String {
    format!("{}.{}", conversation.last_message_id, conversation.customer_id)
}

const CONDITION: &str = "($1::text IS NULL OR u.username ILIKE $2 OR u.display_name ILIKE $2 \
      OR c.customer_id IN (SELECT m.customer_id FROM chat_messages m WHERE m.body ILIKE $2)) \
    AND ($3::conversation_mode IS NULL OR c.mode = $3) \
    AND ($4::boolean IS NULL OR (c.mode = 'human' AND c.admin_id IS NULL) = $4) \
    AND ($5 = 'all' OR ($5 = 'me' AND c.admin_id = $6) OR ($5 = 'unassigned' AND c.admin_id IS NULL))";

/// Every conversation, newest message first, with unread counts and who holds it.
#[utoipa::path(get, path = "/api/support/conversations", tag = "chat", params(InboxQuery),
    security(("bearer" = [])), responses(
        (status = 200, body = Inbox),
        Malformed,
        NotSignedIn,
        NotAdmin,
        Invalid,
    ))]
async fn conversations(
    AdminUser(admin): AdminUser,
    State(context): State<ApiContext>,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> ApiResult<Json<Inbox>> {
    if !(1..=MAX_PER_PAGE).contains(&query.per_page) {
        return Err(ApiError::invalid("per_page", format!("must be between 1 and {MAX_PER_PAGE}")));
    }
    let (cursor_id, cursor_customer) = parse_cursor(query.after.as_deref())?;
    let term = query.q.as_deref().map(str::trim).filter(|term| !term.is_empty());
    let pattern = like_pattern(term);
    let assigned = match query.assigned {
        Assigned::Me => "me",
        Assigned::Unassigned => "unassigned",
        Assigned::All => "all",
    };
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM conversations c JOIN users u ON u.id = c.customer_id WHERE {CONDITION}"
    ))
    .bind(term)
    .bind(&pattern)
    .bind(query.mode)
    .bind(query.waiting)
    .bind(assigned)
    .bind(admin.sub)
    .fetch_one(&context.pool)
    .await?;
    let mut items = sqlx::query_as::<_, Conversation>(&format!(
        "SELECT c.customer_id, u.username, u.display_name, c.mode, c.admin_id, a.display_name AS admin_name, \
           (SELECT count(*) FROM chat_messages m WHERE m.customer_id = c.customer_id AND m.source = 'customer' \
              AND m.id > c.admin_read_up_to) AS unread, \
           last.body AS last_body, last.source AS last_source, last.created_at AS last_at, \
           (SELECT m.body FROM chat_messages m WHERE $1::text IS NOT NULL AND m.customer_id = c.customer_id \
              AND m.body ILIKE $2 ORDER BY m.id DESC LIMIT 1) AS matched_body, \
           (SELECT r.rating FROM support_ratings r WHERE r.customer_id = c.customer_id AND r.rating IS NOT NULL \
              ORDER BY r.id DESC LIMIT 1) AS last_rating, \
           c.last_message_id \
         FROM conversations c JOIN users u ON u.id = c.customer_id LEFT JOIN users a ON a.id = c.admin_id \
         LEFT JOIN chat_messages last ON last.id = c.last_message_id \
         WHERE {CONDITION} AND ($7::bigint IS NULL OR (c.last_message_id, c.customer_id) < ($7, $8::uuid)) \
         ORDER BY c.last_message_id DESC, c.customer_id DESC LIMIT $9"
    ))
    .bind(term)
    .bind(&pattern)
    .bind(query.mode)
    .bind(query.waiting)
    .bind(assigned)
    .bind(admin.sub)
    .bind(cursor_id)
    .bind(cursor_customer)
    .bind(i64::from(query.per_page) + 1)
    .fetch_all(&context.pool)
    .await?;
    let more = items.len() > query.per_page as usize;
    items.truncate(query.per_page as usize);
    let next_after = if more { items.last().map(cursor_of) } else { None };
    Ok(Json(Inbox { items, per_page: query.per_page, total, next_after }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_read_back_as_written_and_anything_else_is_refused() {
        let customer = Uuid::new_v4();
        assert_eq!(parse_cursor(Some(&format!("42.{customer}"))).unwrap(), (Some(42), Some(customer)));
        assert_eq!(parse_cursor(None).unwrap(), (None, None));
        for bad in ["42", "x.y", &format!("x.{customer}"), "42.not-a-uuid"] {
            assert!(parse_cursor(Some(bad)).is_err(), "{bad}");
        }
    }
}

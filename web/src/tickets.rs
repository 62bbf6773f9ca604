//! WebSocket tickets: a browser cannot put an `Authorization` header on a WebSocket, and an access
//! token in the URL (`/ws?access_token=`) would be written to access logs and proxies' logs. So a
//! signed-in client asks `POST /api/ws-ticket` for a ticket, 256 random bits valid for
//! [`TICKET_TTL`], and connects to `/ws?ticket=<ticket>` right away. The ticket is stored as a
//! SHA-256 digest with its user and consumed atomically (`DELETE … RETURNING`) by the notifier
//! that takes the connection, so it opens one connection at most; a ticket in a log is useless.

use std::time::Duration;

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use ems_common::{Claims, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    error::documented::NotSignedIn,
    error::{ApiError, ApiResult},
    extract::CurrentUser,
    sessions::{digest, new_secret},
    state::ApiContext,
};

/// How long a ticket can be used: long enough to open a connection, short enough that one that
/// leaks (it is in a URL) has expired before anyone could try it.
pub const TICKET_TTL: Duration = Duration::from_secs(30);

/// A ticket for one WebSocket connection.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WsTicket {
    /// Connect to `/ws?ticket=<ticket>` (URL-safe base64, 43 characters); it works once.
    pub ticket: String,
    /// Seconds the ticket remains usable.
    pub expires_in_s: u64,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(issue))
}

/// A single-use ticket that opens a WebSocket as the signed-in user.
///
/// Connect to `/ws?ticket=<ticket>` within `expires_in_s` seconds. The ticket opens one
/// connection; reconnecting needs a new one.
#[utoipa::path(post, path = "/api/ws-ticket", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = WsTicket, description = "a ticket for one WebSocket connection"),
        NotSignedIn,
    ))]
async fn issue(CurrentUser(claims): CurrentUser, State(context): State<ApiContext>) -> ApiResult<Json<WsTicket>> {
    issue_for(&context.pool, &claims).await.map(Json)
}

/// Stores a new ticket for the holder of `claims` (an access token already checked against its
/// account) and returns it; its plain text exists only here and in the response.
pub async fn issue_for(pool: &sqlx::PgPool, claims: &Claims) -> ApiResult<WsTicket> {
    let ticket = new_secret();
    let expires_at = Utc::now() + chrono::Duration::from_std(TICKET_TTL).map_err(anyhow::Error::from)?;
    sqlx::query(
        "INSERT INTO ws_tickets (ticket_hash, user_id, role, display_name, token_version, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(digest(&ticket))
    .bind(claims.sub)
    .bind(claims.role)
    .bind(&claims.name)
    .bind(claims.ver)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(WsTicket { ticket, expires_in_s: TICKET_TTL.as_secs() })
}

#[derive(sqlx::FromRow)]
struct Redeemed {
    user_id: Uuid,
    role: Role,
    display_name: String,
    token_version: i32,
    expires_at: DateTime<Utc>,
}

/// Uses up `ticket`: the claims of the access token it was issued for (with the ticket's own
/// lifetime), or 401 when it is unknown, already used or expired. A ticket is deleted whatever
/// the outcome, so it never works twice, even for two notifiers racing for it. The caller still
/// checks the claims against the account (`accounts::Accounts::check`), as for a token.
pub async fn redeem(pool: &sqlx::PgPool, ticket: &str) -> ApiResult<Claims> {
    let redeemed: Option<Redeemed> = sqlx::query_as(
        "DELETE FROM ws_tickets WHERE ticket_hash = $1 \
         RETURNING user_id, role, display_name, token_version, expires_at",
    )
    .bind(digest(ticket))
    .fetch_optional(pool)
    .await?;
    let Some(redeemed) = redeemed else {
        return Err(ApiError::Unauthorized(
            "this ticket is unknown or was already used; get a new one from POST /api/ws-ticket for each connection"
                .into(),
        ));
    };
    if redeemed.expires_at <= Utc::now() {
        return Err(ApiError::Unauthorized(format!(
            "this ticket expired; it works for {}s: get a new one from POST /api/ws-ticket just before connecting",
            TICKET_TTL.as_secs()
        )));
    }
    Ok(Claims {
        sub: redeemed.user_id,
        role: redeemed.role,
        name: redeemed.display_name,
        iss: ems_common::jwt::ISSUER.into(),
        iat: (redeemed.expires_at - chrono::Duration::from_std(TICKET_TTL).map_err(anyhow::Error::from)?).timestamp(),
        exp: redeemed.expires_at.timestamp(),
        ver: redeemed.token_version,
    })
}

/// Deletes expired tickets (those that were never used); returns how many.
pub async fn sweep(pool: &sqlx::PgPool) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM ws_tickets WHERE expires_at <= now()").execute(pool).await?.rows_affected())
}

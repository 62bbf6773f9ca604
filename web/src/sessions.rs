//! Refresh tokens: opaque random strings handed to the client once and stored only as SHA-256
//! digests. Each use rotates the token; presenting one that was already rotated means it leaked,
//! so the whole family (every token descended from that login) is revoked.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// A freshly issued refresh token, whose plain text exists only here and in the response.
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// What is stored of an opaque secret (a refresh token, a WebSocket ticket): its SHA-256.
pub(crate) fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new opaque secret: 256 random bits, URL-safe base64 (43 characters).
pub(crate) fn new_secret() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Stores a new token in `family_id` (a new login starts a new family).
pub async fn issue(
    connection: &mut PgConnection,
    user_id: Uuid,
    family_id: Uuid,
    ttl: std::time::Duration,
) -> ApiResult<IssuedToken> {
    let token = new_secret();
    let expires_at = Utc::now() + chrono::Duration::from_std(ttl).map_err(anyhow::Error::from)?;
    sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(family_id)
    .bind(digest(&token))
    .bind(expires_at)
    .execute(connection)
    .await?;
    Ok(IssuedToken { token, expires_at })
}

#[derive(sqlx::FromRow)]
struct StoredToken {
    id: Uuid,
    user_id: Uuid,
    family_id: Uuid,
    expires_at: DateTime<Utc>,
    rotated_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

fn log_in_again(reason: &str) -> ApiError {
    ApiError::Unauthorized(format!("{reason}; log in again"))
}

/// Exchanges a refresh token for a new one of the same family; returns the user and new token.
pub async fn rotate(pool: &PgPool, token: &str, ttl: std::time::Duration) -> ApiResult<(Uuid, IssuedToken)> {
    let mut transaction = pool.begin().await?;
    // FOR UPDATE serialises concurrent uses of one token: only the first can rotate it.
    let stored = sqlx::query_as::<_, StoredToken>(
        "SELECT id, user_id, family_id, expires_at, rotated_at, revoked_at FROM refresh_tokens \
         WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(digest(token))
    .fetch_optional(&mut *transaction)
    .await?
    .ok_or_else(|| log_in_again("this refresh token is not recognised"))?;

    if stored.revoked_at.is_some() {
        return Err(log_in_again("this session was signed out"));
    }
    if stored.rotated_at.is_some() {
        revoke_family(&mut transaction, stored.family_id).await?;
        transaction.commit().await?;
        tracing::warn!(user_id = %stored.user_id, "a rotated refresh token was reused; its session family is revoked");
        return Err(log_in_again("this refresh token was already used, so the session was closed for safety"));
    }
    if stored.expires_at <= Utc::now() {
        return Err(log_in_again("this session has expired"));
    }
    sqlx::query("UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1")
        .bind(stored.id)
        .execute(&mut *transaction)
        .await?;
    let issued = issue(&mut transaction, stored.user_id, stored.family_id, ttl).await?;
    transaction.commit().await?;
    Ok((stored.user_id, issued))
}

/// Signs out the session a refresh token belongs to. Unknown tokens are ignored: the outcome,
/// no valid session for that token, is the same.
pub async fn revoke(pool: &PgPool, token: &str) -> ApiResult<()> {
    let mut connection = pool.acquire().await?;
    let family: Option<Uuid> = sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
        .bind(digest(token))
        .fetch_optional(&mut *connection)
        .await?;
    if let Some(family_id) = family {
        revoke_family(&mut connection, family_id).await?;
    }
    Ok(())
}

async fn revoke_family(connection: &mut PgConnection, family_id: Uuid) -> ApiResult<()> {
    sqlx::query("UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL")
        .bind(family_id)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn revoke_all_of_user(connection: &mut PgConnection, user_id: Uuid) -> ApiResult<()> {
    sqlx::query("UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .execute(connection)
        .await?;
    Ok(())
}

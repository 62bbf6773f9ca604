//! Web Push subscriptions: a signed-in user's browser subscribes with the server's VAPID public
//! key (`GET /api/push/key`) at its push service, then hands the subscription over
//! (`PUT /api/me/push-subscriptions`); the notifiers' push sender sends that user's alerts to it
//! (see `ems_notifier::push`). Unsubscribing removes it; the sender also removes one its push
//! service says is gone.

use axum::{Json, extract::State, http::StatusCode};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ems_common::webpush;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::documented::{Invalid, Malformed, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, CurrentUser},
    state::ApiContext,
};

/// The server's VAPID public key, for `pushManager.subscribe({applicationServerKey})`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PushKey {
    /// The uncompressed P-256 point (65 bytes), base64url without padding.
    pub public_key: String,
}

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PushSubscription {
    /// The push service's URL for this browser: `https://`, or `http://` to a loopback address.
    pub endpoint: String,
    pub keys: PushSubscriptionKeys,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PushSubscriptionKeys {
    /// The browser's P-256 public key, base64url (65 bytes).
    pub p256dh: String,
    /// The browser's authentication secret, base64url (16 bytes).
    pub auth: String,
}

/// Which subscription to remove.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushEndpoint {
    pub endpoint: String,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(key)).routes(routes!(subscribe, unsubscribe))
}

const NOT_SET_UP: &str = "Web Push is not set up on this server: an administrator runs `ems seed`, which makes \
     its key (or stores the one in EMS_VAPID_PRIVATE_KEY)";

/// The VAPID public key browsers subscribe with.
#[utoipa::path(get, path = "/api/push/key", tag = "push", security(("bearer" = [])),
    responses(
        (status = 200, body = PushKey),
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "Web Push is not set up on this server"),
    ))]
async fn key(CurrentUser(_claims): CurrentUser, State(context): State<ApiContext>) -> ApiResult<Json<PushKey>> {
    let key = webpush::stored_key(&context.pool).await.map_err(ApiError::Internal)?;
    let key = key.ok_or_else(|| ApiError::NotFound(NOT_SET_UP.into()))?;
    Ok(Json(PushKey { public_key: key.public_base64() }))
}

/// Send the signed-in user's alerts to this browser, also while the dashboard is closed. An
/// endpoint subscribed before (by anyone) now belongs to the caller, with these keys.
#[utoipa::path(put, path = "/api/me/push-subscriptions", tag = "push", request_body = PushSubscription,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "subscribed"),
        Malformed,
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "Web Push is not set up on this server"),
        Invalid,
    ))]
async fn subscribe(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiJson(subscription): ApiJson<PushSubscription>,
) -> ApiResult<StatusCode> {
    check_endpoint(&subscription.endpoint)?;
    let p256dh = decoded("keys.p256dh", &subscription.keys.p256dh, 65)?;
    if web_push_native::p256::PublicKey::from_sec1_bytes(&p256dh).is_err() {
        return Err(ApiError::invalid("keys.p256dh", "is not a P-256 public key (an uncompressed point)"));
    }
    decoded("keys.auth", &subscription.keys.auth, 16)?;
    if webpush::stored_key(&context.pool).await.map_err(ApiError::Internal)?.is_none() {
        return Err(ApiError::NotFound(NOT_SET_UP.into()));
    }
    sqlx::query(
        "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, \
           auth = EXCLUDED.auth, created_at = now()",
    )
    .bind(claims.sub)
    .bind(&subscription.endpoint)
    .bind(&subscription.keys.p256dh)
    .bind(&subscription.keys.auth)
    .execute(&context.pool)
    .await?;
    tracing::info!(user_id = %claims.sub, "push subscription stored");
    Ok(StatusCode::NO_CONTENT)
}

/// Stop sending to this browser. Removing a subscription that is not there (or not the
/// caller's) does nothing.
#[utoipa::path(delete, path = "/api/me/push-subscriptions", tag = "push", request_body = PushEndpoint,
    security(("bearer" = [])),
    responses((status = 204, description = "unsubscribed"), Malformed, NotSignedIn, Invalid))]
async fn unsubscribe(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiJson(endpoint): ApiJson<PushEndpoint>,
) -> ApiResult<StatusCode> {
    sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2")
        .bind(&endpoint.endpoint)
        .bind(claims.sub)
        .execute(&context.pool)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint the sender may call: an https URL, or http to this machine (a local push
/// service). Anything else could make the server send requests where it should not.
fn check_endpoint(endpoint: &str) -> ApiResult<()> {
    let invalid = |why: &str| ApiError::invalid("endpoint", why);
    if endpoint.len() > 2048 {
        return Err(invalid("must be at most 2048 characters"));
    }
    let uri: axum::http::Uri = endpoint.parse().map_err(|_| invalid("must be a URL (the push service's)"))?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if matches!(host, "127.0.0.1" | "localhost" | "[::1]") => Ok(()),
        _ => Err(invalid("must be an https URL (or http to 127.0.0.1 or localhost)")),
    }
}

/// `text` as base64url of exactly `length` bytes.
fn decoded(field: &str, text: &str, length: usize) -> ApiResult<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| ApiError::invalid(field, "must be base64url (RFC 4648 §5)"))?;
    if bytes.len() != length {
        return Err(ApiError::invalid(field, format!("must be {length} bytes, base64url; got {}", bytes.len())));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_or_a_local_push_service() {
        assert!(check_endpoint("https://fcm.googleapis.com/fcm/send/abc").is_ok());
        assert!(check_endpoint("http://127.0.0.1:4000/push/1").is_ok());
        assert!(check_endpoint("http://localhost:4000/push/1").is_ok());
        assert!(check_endpoint("http://push.example.com/1").is_err());
        assert!(check_endpoint("ftp://example.com").is_err());
        assert!(check_endpoint("not a url").is_err());
    }
}

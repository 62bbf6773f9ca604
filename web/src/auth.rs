//! Signing in and out: login (throttled, see `throttle`), refresh-token rotation, logout, and the
//! signed-in user's own account.
//!
//! The refresh token travels only in an `HttpOnly` cookie scoped to `/api/auth` (see `cookie`), so
//! no script on the page can read it; the access token is returned in the body and kept in memory
//! by the dashboard. Why this resists cross-site request forgery: docs/architecture.md.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{AppendHeaders, IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::{
    error::documented::{Invalid, Malformed, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, CurrentUser, ValidJson},
    sessions,
    state::ApiContext,
    throttle::{Attempt, ClientAddress},
    users::{MAX_USERNAME_CHARS, USER_COLUMNS, User, find_user, present},
    zones::time_zone_rule,
};

#[derive(Debug, Deserialize, ToSchema, Validate)]
pub struct LoginRequest {
    /// At most 32 characters, the longest username an account can have.
    #[validate(custom(function = "login_username_rule"))]
    #[schema(max_length = 32)]
    pub username: String,
    pub password: String,
}

fn login_username_rule(username: &str) -> Result<(), validator::ValidationError> {
    if username.trim().chars().count() <= MAX_USERNAME_CHARS {
        return Ok(());
    }
    Err(validator::ValidationError::new("username_length").with_message(std::borrow::Cow::Owned(format!(
        "must be at most {MAX_USERNAME_CHARS} characters, as every account's username is"
    ))))
}

/// The body of a refresh or logout: a JSON object, `{}` from a browser, whose session cookie
/// carries the refresh token. Clients without cookies may name the token here instead.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token, for clients that do not keep cookies; it takes precedence over the cookie.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// What a successful login or refresh returns. The refresh token is not in it: it comes as the
/// `HttpOnly` cookie `ems_refresh` (`Set-Cookie`), sent back by the browser to `/api/auth` only.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Session {
    /// Send as `Authorization: Bearer <access_token>`; also authenticates the WebSocket.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// When the refresh token (the cookie) expires; refreshing before then gives a new one.
    pub refresh_expires_at: DateTime<Utc>,
    pub user: User,
}

/// The answer to a login or refresh: the session in the body and the rotated refresh token in
/// its cookie.
type SessionWithCookie = (AppendHeaders<[(axum::http::HeaderName, axum::http::HeaderValue); 1]>, Json<Session>);

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me, update_me))
}

#[derive(sqlx::FromRow)]
struct UserWithHash {
    #[sqlx(flatten)]
    user: User,
    password_hash: String,
}

/// Sign in with a username and password.
///
/// The refresh token is set as the cookie `ems_refresh` (`HttpOnly; Secure; SameSite=Strict;
/// Path=/api/auth; Max-Age=` its lifetime), never returned in the body.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = Session, description = "signed in",
            headers(("Set-Cookie" = String, description = "ems_refresh=<refresh token>; Path=/api/auth; Max-Age=<lifetime>; HttpOnly; Secure; SameSite=Strict"))),
        Malformed,
        (status = 401, body = ErrorBody, description = "wrong username or password"),
        Invalid,
        (status = 429, body = ErrorBody, description = "too many failed logins (for this username from this address, from this address, or for this username), or the server is busy checking passwords; try again after Retry-After seconds", headers(("Retry-After" = u64, description = "seconds until trying again may succeed"))),
    ))]
async fn login(
    State(context): State<ApiContext>,
    address: ClientAddress,
    ValidJson(request): ValidJson<LoginRequest>,
) -> ApiResult<SessionWithCookie> {
    let username = request.username.trim().to_lowercase();
    if username.is_empty() || request.password.is_empty() {
        return Err(ApiError::Validation(
            [("username", &username), ("password", &request.password)]
                .into_iter()
                .filter(|(_, value)| value.is_empty())
                .map(|(field, _)| crate::error::FieldError::new(field, "is required"))
                .collect(),
        ));
    }
    // Counted before the password is checked, so parallel attempts cannot outrun the limit.
    let claim = Attempt::new(&username, address, &context.settings).claim(&context).await?;

    let found = sqlx::query_as::<_, UserWithHash>(&format!(
        "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1"
    ))
    .bind(&username)
    .fetch_optional(&context.pool)
    .await?;
    let (user, hash) = match found {
        Some(found) => (Some(found.user), Some(found.password_hash)),
        None => (None, None),
    };
    let password_ok = context.hashing.verify(request.password, hash).await?;
    let Some(user) = user.filter(|_| password_ok) else {
        claim.failed(&context).await?;
        metrics::counter!("auth_login_failures_total").increment(1);
        return Err(ApiError::Unauthorized("the username or password is wrong".into()));
    };

    claim.succeeded(&context).await?;
    let mut connection = context.pool.acquire().await?;
    let refresh = sessions::issue(&mut connection, user.id, Uuid::new_v4(), context.settings.refresh_token_ttl).await?;
    tracing::info!(user_id = %user.id, "logged in");
    session_for(&context, user, refresh)
}

fn session_for(context: &ApiContext, user: User, refresh: sessions::IssuedToken) -> ApiResult<SessionWithCookie> {
    let access_token = context.jwt.issue_version(user.id, user.role, &user.display_name, user.token_version)?;
    let cookie = cookie::set(&refresh.token, context.settings.refresh_token_ttl, context.settings.cookie_secure);
    let session = Session {
        access_token,
        token_type: "Bearer".into(),
        expires_in: context.jwt.access_ttl().as_secs(),
        refresh_expires_at: refresh.expires_at,
        user,
    };
    Ok((AppendHeaders([cookie]), Json(session)))
}

/// The refresh token of a refresh or logout: the body's, else the cookie's.
fn presented_token(headers: &HeaderMap, request: &RefreshRequest) -> Option<String> {
    request
        .refresh_token
        .as_deref()
        .or_else(|| cookie::read(headers))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
}

/// Exchange the refresh token for a new session; the old token stops working.
///
/// The token comes from the cookie `ems_refresh` (or the body's `refresh_token`); the body must be
/// JSON (`{}` will do) with `Content-Type: application/json`, which a cross-site form cannot send.
/// The rotated token is set in the same cookie; a refused one is cleared.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = Session, description = "a new session",
            headers(("Set-Cookie" = String, description = "ems_refresh=<rotated refresh token>, as at login"))),
        (status = 400, body = ErrorBody, description = "the body is not JSON"),
        (status = 401, body = ErrorBody, description = "no session, or it is over (unknown, expired, signed out or already used): log in again",
            headers(("Set-Cookie" = String, description = "ems_refresh=; Max-Age=0 (clears the cookie)"))),
        (status = 422, body = ErrorBody, description = "a field is invalid; `fields` names each and says what it needs"),
    ))]
async fn refresh(
    State(context): State<ApiContext>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<SessionWithCookie, Response> {
    let signed_out = |error: ApiError| match error {
        // The cookie holds a token that will never work again: the browser may as well drop it.
        ApiError::Unauthorized(_) => {
            (AppendHeaders([cookie::clear(context.settings.cookie_secure)]), error).into_response()
        }
        other => other.into_response(),
    };
    let token = presented_token(&headers, &request).ok_or_else(|| {
        signed_out(ApiError::Unauthorized("not signed in: there is no session cookie; log in".into()))
    })?;
    let (user_id, refresh) =
        sessions::rotate(&context.pool, &token, context.settings.refresh_token_ttl).await.map_err(signed_out)?;
    let user = find_user(&context.pool, user_id).await.map_err(IntoResponse::into_response)?;
    session_for(&context, user, refresh).map_err(IntoResponse::into_response)
}

/// Sign out: the refresh token and every token rotated from the same login stop working.
///
/// Takes the token as refresh does (the cookie, or the body's `refresh_token`; a JSON body is
/// required) and clears the cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "signed out",
        headers(("Set-Cookie" = String, description = "ems_refresh=; Max-Age=0 (clears the cookie)"))),
        (status = 400, body = ErrorBody, description = "the body is not JSON"),
        (status = 422, body = ErrorBody, description = "a field is invalid; `fields` names each and says what it needs")))]
async fn logout(
    State(context): State<ApiContext>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<impl IntoResponse> {
    if let Some(token) = presented_token(&headers, &request) {
        sessions::revoke(&context.pool, &token).await?;
    }
    Ok((StatusCode::NO_CONTENT, AppendHeaders([cookie::clear(context.settings.cookie_secure)])))
}

/// The signed-in user's account.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        NotSignedIn,
    ))]
async fn me(CurrentUser(claims): CurrentUser, State(context): State<ApiContext>) -> ApiResult<Json<User>> {
    find_user(&context.pool, claims.sub)
        .await
        .map(Json)
        .map_err(|_| ApiError::Unauthorized("this account no longer exists".into()))
}

/// What signed-in users may change about their own account; fields left out stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MyChanges {
    /// An IANA time zone such as `Europe/Bucharest`, or null for the browser's own.
    #[serde(default, deserialize_with = "present")]
    #[validate(custom(function = "time_zone_rule"))]
    #[schema(value_type = Option<String>, example = "Europe/Bucharest")]
    pub time_zone: Option<Option<String>>,
}

/// Change the signed-in user's own settings: their time zone.
#[utoipa::path(patch, path = "/api/me", tag = "auth", request_body = MyChanges, security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        Malformed,
        NotSignedIn,
        Invalid,
    ))]
async fn update_me(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ValidJson(changes): ValidJson<MyChanges>,
) -> ApiResult<Json<User>> {
    sqlx::query_as::<_, User>(&format!(
        "UPDATE users SET time_zone = CASE WHEN $2 THEN $3 ELSE time_zone END, updated_at = now() \
         WHERE id = $1 RETURNING {USER_COLUMNS}"
    ))
    .bind(claims.sub)
    .bind(changes.time_zone.is_some())
    .bind(changes.time_zone.flatten())
    .fetch_optional(&context.pool)
    .await?
    .map(Json)
    .ok_or_else(|| ApiError::Unauthorized("this account no longer exists".into()))
}

/// The refresh token's cookie. Written by hand rather than with the `cookie` crate: EMS sets one
/// cookie of fixed attributes whose value is base64url (no quoting or escaping ever needed), and
/// reads it back from one header.
mod cookie {
    use std::time::Duration;

    use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

    pub const NAME: &str = "ems_refresh";
    /// Sent to refresh and logout only, never with the other API calls or the dashboard's files.
    const PATH: &str = "/api/auth";

    pub fn set(token: &str, lifetime: Duration, secure: bool) -> (HeaderName, HeaderValue) {
        with_attributes(token, lifetime.as_secs(), secure)
    }

    /// Tells the browser to drop the cookie.
    pub fn clear(secure: bool) -> (HeaderName, HeaderValue) {
        with_attributes("", 0, secure)
    }

    fn with_attributes(value: &str, max_age: u64, secure: bool) -> (HeaderName, HeaderValue) {
        let secure = if secure { "; Secure" } else { "" };
        let cookie = format!("{NAME}={value}; Path={PATH}; Max-Age={max_age}; HttpOnly{secure}; SameSite=Strict");
        (header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("a base64url token is a valid header value"))
    }

    /// The cookie's value from the request's `Cookie` headers, if it is there and not empty.
    pub fn read(headers: &HeaderMap) -> Option<&str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, value)| *name == NAME && !value.is_empty())
            .map(|(_, value)| value)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_token_is_found_among_other_cookies() {
            let mut headers = HeaderMap::new();
            headers.append(header::COOKIE, HeaderValue::from_static("theme=dark; ems_refresh=abc-_1; other=x"));
            assert_eq!(read(&headers), Some("abc-_1"));
            let mut cleared = HeaderMap::new();
            cleared.append(header::COOKIE, HeaderValue::from_static("ems_refresh="));
            assert_eq!(read(&cleared), None);
        }

        #[test]
        fn secure_can_be_left_off_for_plain_http() {
            let (_, on) = set("t", Duration::from_secs(60), true);
            assert_eq!(on, "ems_refresh=t; Path=/api/auth; Max-Age=60; HttpOnly; Secure; SameSite=Strict");
            let (_, off) = clear(false);
            assert_eq!(off, "ems_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; SameSite=Strict");
        }
    }
}

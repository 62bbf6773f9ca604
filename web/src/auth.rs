//! Signing in and out: login (throttled, see `throttle`), refresh-token rotation, logout, and the
//! signed-in user's own account.

use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, CurrentUser, ValidJson},
    sessions,
    state::ApiContext,
    throttle::{Attempt, ClientAddress},
    users::{MAX_USERNAME_CHARS, USER_COLUMNS, User, find_user},
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

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// What a successful login or refresh returns.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Session {
    /// Send as `Authorization: Bearer <access_token>`; also authenticates the WebSocket.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Exchange at `/api/auth/refresh` for a new session before it expires; each use rotates it.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub user: User,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(refresh)).routes(routes!(logout)).routes(routes!(me))
}

#[derive(sqlx::FromRow)]
struct UserWithHash {
    #[sqlx(flatten)]
    user: User,
    password_hash: String,
}

/// Sign in with a username and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = Session),
        (status = 400, body = ErrorBody, description = "the body is not JSON, or a query parameter does not parse"),
        (status = 401, body = ErrorBody, description = "wrong username or password"),
        (status = 422, body = ErrorBody, description = "a field or parameter is invalid; `fields` names each and says what it needs"),
        (status = 429, body = ErrorBody, description = "too many failed logins (for this username from this address, from this address, or for this username), or the server is busy checking passwords; try again after Retry-After seconds", headers(("Retry-After" = u64, description = "seconds until trying again may succeed"))),
    ))]
async fn login(
    State(context): State<ApiContext>,
    address: ClientAddress,
    ValidJson(request): ValidJson<LoginRequest>,
) -> ApiResult<Json<Session>> {
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
    Ok(Json(session_for(&context, user, refresh)?))
}

fn session_for(context: &ApiContext, user: User, refresh: sessions::IssuedToken) -> ApiResult<Session> {
    let access_token = context.jwt.issue_version(user.id, user.role, &user.display_name, user.token_version)?;
    Ok(Session {
        access_token,
        token_type: "Bearer".into(),
        expires_in: context.jwt.access_ttl().as_secs(),
        refresh_token: refresh.token,
        refresh_expires_at: refresh.expires_at,
        user,
    })
}

/// Exchange a refresh token for a new session; the old token stops working.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = Session),
        (status = 400, body = ErrorBody, description = "the body is not JSON, or a query parameter does not parse"),
        (status = 401, body = ErrorBody, description = "the refresh token is unknown, expired, signed out or already used; log in again"),
        (status = 422, body = ErrorBody, description = "a field or parameter is invalid; `fields` names each and says what it needs"),
    ))]
async fn refresh(
    State(context): State<ApiContext>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<Json<Session>> {
    let (user_id, refresh) =
        sessions::rotate(&context.pool, request.refresh_token.trim(), context.settings.refresh_token_ttl).await?;
    let user = find_user(&context.pool, user_id).await?;
    Ok(Json(session_for(&context, user, refresh)?))
}

/// Sign out: the refresh token and every token rotated from the same login stop working.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 204, description = "signed out"),
        (status = 400, body = ErrorBody, description = "the body is not JSON, or a query parameter does not parse"),
        (status = 422, body = ErrorBody, description = "a field or parameter is invalid; `fields` names each and says what it needs"),
    ))]
async fn logout(State(context): State<ApiContext>, ApiJson(request): ApiJson<RefreshRequest>) -> ApiResult<StatusCode> {
    sessions::revoke(&context.pool, request.refresh_token.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's account.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody, description = "no valid access token: sign in and send `Authorization: Bearer <access token>`"),
    ))]
async fn me(CurrentUser(claims): CurrentUser, State(context): State<ApiContext>) -> ApiResult<Json<User>> {
    find_user(&context.pool, claims.sub)
        .await
        .map(Json)
        .map_err(|_| ApiError::Unauthorized("this account no longer exists".into()))
}

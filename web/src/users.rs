//! Administrators' management of accounts: list and search, create, read, edit, reset a password,
//! delete. Every route takes an `AdminUser`, so the role is checked on every call.

use std::borrow::Cow;

use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use ems_common::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    error::documented::{Invalid, Malformed, NotAdmin, NotSignedIn},
    error::{ApiError, ApiResult, ErrorBody, USERNAME_RULE},
    extract::{AdminUser, ApiPath, ApiQuery, ValidJson},
    pagination::{Page, PageQuery},
    passwords, sessions,
    state::ApiContext,
    zones::time_zone_rule,
};

/// An account as the API shows it (never with its password hash).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The IANA time zone the user reads times in, e.g. `Europe/Bucharest`; null for the
    /// browser's own. Consumption is aggregated in it unless a request names another.
    pub time_zone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Access tokens are issued at this version (see `accounts`); not shown.
    #[serde(skip)]
    pub token_version: i32,
}

/// The longest username an account can have.
pub const MAX_USERNAME_CHARS: usize = 32;

pub const USER_COLUMNS: &str = "id, username, display_name, role, time_zone, created_at, updated_at, token_version";

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NewUser {
    /// 3 to 32 characters: letters, digits, `.`, `_`, `-`; stored in lower case.
    #[validate(custom(function = "username_rule"))]
    #[schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    pub username: String,
    #[validate(custom(function = "display_name_rule"))]
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: String,
    #[validate(custom(function = "password_rule"))]
    pub password: String,
    /// `client` (the default) or `admin`.
    #[serde(default = "client_role")]
    pub role: Role,
    /// An IANA time zone such as `Europe/Bucharest`; left out or null: the browser's own.
    #[serde(default)]
    #[validate(custom(function = "time_zone_rule"))]
    #[schema(example = "Europe/Bucharest")]
    pub time_zone: Option<String>,
}

fn client_role() -> Role {
    Role::Client
}

/// Fields to change; those left out stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    #[validate(custom(function = "username_rule"))]
    #[schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    pub username: Option<String>,
    #[validate(custom(function = "display_name_rule"))]
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// An IANA time zone such as `Europe/Bucharest`, or null for the browser's own.
    #[serde(default, deserialize_with = "present")]
    #[validate(custom(function = "time_zone_rule"))]
    #[schema(value_type = Option<String>, example = "Europe/Bucharest")]
    pub time_zone: Option<Option<String>>,
}

/// A field that may be set to null: `Some(None)` when the body says null, `None` when it is left
/// out (with `#[serde(default)]`).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NewPassword {
    #[validate(custom(function = "password_rule"))]
    pub password: String,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct RoleFilter {
    /// Only users of this role.
    pub role: Option<Role>,
}

fn rule_failure(code: &'static str, message: String) -> ValidationError {
    ValidationError::new(code).with_message(Cow::Owned(message))
}

pub fn username_rule(username: &str) -> Result<(), ValidationError> {
    let normalized = username.trim().to_lowercase();
    let mut chars = normalized.chars();
    let first_ok = chars.next().is_some_and(|first| first.is_ascii_alphanumeric());
    let rest_ok = chars.all(|char| char.is_ascii_alphanumeric() || matches!(char, '.' | '_' | '-'));
    if first_ok && rest_ok && (3..=MAX_USERNAME_CHARS).contains(&normalized.len()) {
        return Ok(());
    }
    Err(rule_failure("username", USERNAME_RULE.to_owned()))
}

pub fn display_name_rule(name: &str) -> Result<(), ValidationError> {
    if (1..=100).contains(&name.trim().chars().count()) {
        return Ok(());
    }
    Err(rule_failure("display_name", "must be 1 to 100 characters, not only spaces".to_owned()))
}

/// Length and the common-password list; that it differs from the username is checked where
/// both are known.
pub fn password_rule(password: &str) -> Result<(), ValidationError> {
    match passwords::policy_violation(password, None) {
        None => Ok(()),
        Some(reason) => Err(rule_failure("password", reason)),
    }
}

fn refuse_username_as_password(password: &str, username: &str) -> ApiResult<()> {
    match passwords::policy_violation(password, Some(username)) {
        None => Ok(()),
        Some(reason) => Err(ApiError::invalid("password", reason)),
    }
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(reset_password))
}

/// List and search users, a page at a time.
#[utoipa::path(get, path = "/api/users", tag = "users", params(PageQuery, RoleFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<User>),
        Malformed,
        NotSignedIn,
        NotAdmin,
        Invalid,
    ))]
async fn list_users(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<RoleFilter>,
) -> ApiResult<axum::Json<Page<User>>> {
    page.check()?;
    let pattern = page.like_pattern();
    let condition = "(username ILIKE $1 OR display_name ILIKE $1) AND ($2::user_role IS NULL OR role = $2)";
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM users WHERE {condition}"))
        .bind(&pattern)
        .bind(filter.role)
        .fetch_one(&context.pool)
        .await?;
    let users = sqlx::query_as::<_, User>(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE {condition} ORDER BY username LIMIT $3 OFFSET $4"
    ))
    .bind(&pattern)
    .bind(filter.role)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(&context.pool)
    .await?;
    Ok(axum::Json(Page::new(users, &page, total)))
}

/// Create an account.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = NewUser, security(("bearer" = [])),
    responses(
        (status = 201, body = User),
        Malformed,
        NotSignedIn,
        NotAdmin,
        (status = 409, body = ErrorBody, description = "the username is taken"),
        Invalid,
    ))]
async fn create_user(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ValidJson(new_user): ValidJson<NewUser>,
) -> ApiResult<(StatusCode, axum::Json<User>)> {
    refuse_username_as_password(&new_user.password, &new_user.username)?;
    let user = insert_user(&context.pool, &new_user).await?;
    tracing::info!(user_id = %user.id, username = %user.username, role = ?user.role, "user created");
    Ok((StatusCode::CREATED, axum::Json(user)))
}

/// Inserts an already validated account; used by the API and by `ems seed`.
pub async fn insert_user(pool: &sqlx::PgPool, new_user: &NewUser) -> ApiResult<User> {
    let password_hash = passwords::hash(new_user.password.clone()).await?;
    let user = sqlx::query_as::<_, User>(&format!(
        "INSERT INTO users (id, username, display_name, password_hash, role, time_zone) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(new_user.username.trim().to_lowercase())
    .bind(new_user.display_name.trim())
    .bind(password_hash)
    .bind(new_user.role)
    .bind(&new_user.time_zone)
    .fetch_one(pool)
    .await?;
    Ok(user)
}

pub async fn find_user(pool: &sqlx::PgPool, id: Uuid) -> ApiResult<User> {
    sqlx::query_as::<_, User>(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| no_such_user(id))
}

fn no_such_user(id: Uuid) -> ApiError {
    ApiError::NotFound(format!("no user has the id {id}"))
}

/// One user.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no user has this id"),
    ))]
async fn get_user(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<axum::Json<User>> {
    Ok(axum::Json(find_user(&context.pool, id).await?))
}

/// Change a user's username, display name, role or time zone.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", params(("id" = Uuid, Path)), request_body = UserChanges,
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        Malformed,
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no user has this id"),
        (status = 409, body = ErrorBody, description = "the username is taken, or an administrator would remove their own role"),
        Invalid,
    ))]
async fn update_user(
    AdminUser(admin): AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
    ValidJson(changes): ValidJson<UserChanges>,
) -> ApiResult<axum::Json<User>> {
    if id == admin.sub && changes.role.is_some_and(|role| role != Role::Admin) {
        return Err(ApiError::Conflict {
            field: Some("role"),
            message: "you cannot remove your own administrator role; ask another administrator".into(),
        });
    }
    // A new role makes the user's access tokens stale: their version moves on.
    let user = sqlx::query_as::<_, User>(&format!(
        "UPDATE users SET username = COALESCE($2, username), display_name = COALESCE($3, display_name), \
         token_version = token_version + CASE WHEN $4::user_role IS DISTINCT FROM NULL AND $4 <> role THEN 1 ELSE 0 END, \
         role = COALESCE($4, role), time_zone = CASE WHEN $5 THEN $6 ELSE time_zone END, updated_at = now() \
         WHERE id = $1 RETURNING {USER_COLUMNS}"
    ))
    .bind(id)
    .bind(changes.username.map(|name| name.trim().to_lowercase()))
    .bind(changes.display_name.map(|name| name.trim().to_owned()))
    .bind(changes.role)
    .bind(changes.time_zone.is_some())
    .bind(changes.time_zone.flatten())
    .fetch_optional(&context.pool)
    .await?
    .ok_or_else(|| no_such_user(id))?;
    if changes.role.is_some() {
        context.accounts.changed(&context.events, id).await;
    }
    Ok(axum::Json(user))
}

/// Set a new password for a user; their open sessions are signed out.
#[utoipa::path(put, path = "/api/users/{id}/password", tag = "users", params(("id" = Uuid, Path)),
    request_body = NewPassword, security(("bearer" = [])),
    responses(
        (status = 204, description = "password changed"),
        Malformed,
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no user has this id"),
        Invalid,
    ))]
async fn reset_password(
    _admin: AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
    ValidJson(new_password): ValidJson<NewPassword>,
) -> ApiResult<StatusCode> {
    let user = find_user(&context.pool, id).await?;
    refuse_username_as_password(&new_password.password, &user.username)?;
    let password_hash = passwords::hash(new_password.password).await?;
    let mut transaction = context.pool.begin().await?;
    let updated = sqlx::query(
        "UPDATE users SET password_hash = $2, token_version = token_version + 1, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(password_hash)
    .execute(&mut *transaction)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(no_such_user(id));
    }
    sessions::revoke_all_of_user(&mut transaction, id).await?;
    transaction.commit().await?;
    context.accounts.changed(&context.events, id).await;
    tracing::info!(user_id = %id, "password reset; sessions revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a user. Their devices stay, unassigned.
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "deleted"),
        NotSignedIn,
        NotAdmin,
        (status = 404, body = ErrorBody, description = "no user has this id"),
        (status = 409, body = ErrorBody, description = "administrators cannot delete themselves"),
    ))]
async fn delete_user(
    AdminUser(admin): AdminUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    if id == admin.sub {
        return Err(ApiError::Conflict {
            field: None,
            message: "you cannot delete your own account; ask another administrator".into(),
        });
    }
    let deleted = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&context.pool).await?;
    if deleted.rows_affected() == 0 {
        return Err(no_such_user(id));
    }
    context.accounts.changed(&context.events, id).await;
    tracing::info!(user_id = %id, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}

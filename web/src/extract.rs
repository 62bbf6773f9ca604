//! Request extractors whose rejections are `ApiError`s, so every malformed request gets the same
//! kind of answer, and the authentication extractors that guard each route.

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{header, request::Parts},
};
use ems_common::{Claims, Role, jwt::TokenError};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::{
    error::{ApiError, FieldError},
    state::ApiContext,
};

/// A JSON body; malformed JSON or a wrong shape becomes a 400 or 422 that says what was wrong.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A JSON body that is also checked by its `validator` rules, each failure named by field.
pub struct ValidJson<T>(pub T);

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ApiJson(value) = ApiJson::<T>::from_request(request, state).await?;
        value.validate().map_err(validation_error)?;
        Ok(Self(value))
    }
}

pub fn validation_error(errors: validator::ValidationErrors) -> ApiError {
    let mut fields: Vec<FieldError> = errors
        .field_errors()
        .into_iter()
        .flat_map(|(field, failures)| {
            failures.iter().map(move |failure| {
                let message = failure.message.as_ref().map_or_else(|| failure.code.to_string(), ToString::to_string);
                FieldError::new(&field, message)
            })
        })
        .collect();
    fields.sort_by(|left, right| left.field.cmp(&right.field));
    ApiError::Validation(fields)
}

#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Any signed-in user, from `Authorization: Bearer <access token>`.
#[derive(Clone, Debug)]
pub struct CurrentUser(pub Claims);

impl FromRequestParts<ApiContext> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, context: &ApiContext) -> Result<Self, Self::Rejection> {
        let header_value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized("sign in first: send the header Authorization: Bearer <access token>".into())
        })?;
        let token = header_value
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must read: Bearer <access token>".into())
            })?;
        let claims =
            context.jwt.verify(token.trim()).map_err(|error: TokenError| ApiError::Unauthorized(error.to_string()))?;
        tracing::Span::current().record("user_id", tracing::field::display(claims.sub));
        // A demoted or deleted account's tokens stop working at once, not when they expire.
        context.accounts.check(&context.pool, &claims).await?;
        Ok(Self(claims))
    }
}

/// A signed-in administrator; anyone else gets 403. Checked on every call.
#[derive(Clone, Debug)]
pub struct AdminUser(pub Claims);

impl FromRequestParts<ApiContext> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, context: &ApiContext) -> Result<Self, Self::Rejection> {
        let CurrentUser(claims) = CurrentUser::from_request_parts(parts, context).await?;
        if claims.role != Role::Admin {
            return Err(ApiError::Forbidden("only administrators may do this".into()));
        }
        Ok(Self(claims))
    }
}

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

/// A JSON body; malformed JSON or a wrong shape becomes a 400 or 422 that says what was wrong, and
/// so does a string holding a NUL character, which PostgreSQL cannot store in text: checked here
/// once for every field of every body rather than in each handler.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(request, state).await?;
        let mut nul_fields = Vec::new();
        fields_with_nul(&value, &mut String::new(), &mut nul_fields);
        if !nul_fields.is_empty() {
            return Err(ApiError::Validation(nul_fields.iter().map(|field| FieldError::new(field, NO_NUL)).collect()));
        }
        let value = serde_json::from_value(value)
            .map_err(|error| ApiError::invalid("body", format!("the JSON does not fit: {error}")))?;
        Ok(Self(value))
    }
}

/// The message for a text holding U+0000.
pub const NO_NUL: &str = "must not contain the NUL character (U+0000, `\\u0000` in JSON, `%00` in a URL); remove it";

/// Collects the path (`name`, `items[2].name`) of every string in `value` that holds a NUL,
/// object keys included.
fn fields_with_nul(value: &serde_json::Value, path: &mut String, found: &mut Vec<String>) {
    use serde_json::Value;
    let here = |path: &str| if path.is_empty() { "body".to_owned() } else { path.to_owned() };
    match value {
        Value::String(text) if text.contains('\0') => found.push(here(path)),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let length = path.len();
                path.push_str(&format!("[{index}]"));
                fields_with_nul(item, path, found);
                path.truncate(length);
            }
        }
        Value::Object(members) => {
            for (key, member) in members {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if key.contains('\0') {
                    found.push(here(path));
                } else {
                    fields_with_nul(member, path, found);
                }
                path.truncate(length);
            }
        }
        _ => {}
    }
}

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

/// A query string: every value is first checked for NUL characters (named by parameter), then
/// the whole is parsed into `T` (a 400 when it does not parse) and checked by `T`'s `validator`
/// rules (a 422 naming each parameter at fault), so ranges such as dates are enforced here.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)?;
        let mut nul_fields: Vec<FieldError> = pairs
            .iter()
            .filter(|(name, value)| name.contains('\0') || value.contains('\0'))
            .map(|(name, _)| FieldError::new(&name.replace('\0', "\\0"), NO_NUL))
            .collect();
        if !nul_fields.is_empty() {
            nul_fields.dedup();
            return Err(ApiError::Validation(nul_fields));
        }
        let Query(value) = Query::<T>::try_from_uri(&parts.uri)?;
        value.validate().map_err(validation_error)?;
        Ok(Self(value))
    }
}

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::fields_with_nul;

    #[test]
    fn a_nul_is_found_at_any_depth_and_named_by_its_path() {
        let body = json!({"name": "ok", "items": [{"name": "x"}, {"name": "a\u{0}b"}], "owner": {"note": "\u{0}"}});
        let mut found = Vec::new();
        fields_with_nul(&body, &mut String::new(), &mut found);
        found.sort();
        assert_eq!(found, ["items[1].name", "owner.note"]);
        let mut whole = Vec::new();
        fields_with_nul(&json!("\u{0}"), &mut String::new(), &mut whole);
        assert_eq!(whole, ["body"]);
    }
}

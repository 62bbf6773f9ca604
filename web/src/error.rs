//! The API's one error type, mapped to HTTP in one place. 4xx bodies say what was wrong and how to
//! fix it; a 500 says nothing internal and logs the cause chain instead.

use axum::{
    Json,
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

/// The error answers most operations document, each named once for their `responses(...)`.
pub mod documented {
    use utoipa::IntoResponses;

    use super::ErrorBody;

    #[derive(IntoResponses)]
    #[response(status = 400, description = "the body is not JSON, or a query parameter does not parse")]
    pub struct Malformed(pub ErrorBody);

    #[derive(IntoResponses)]
    #[response(
        status = 401,
        description = "no valid access token: sign in and send `Authorization: Bearer <access token>`"
    )]
    pub struct NotSignedIn(pub ErrorBody);

    #[derive(IntoResponses)]
    #[response(status = 403, description = "only administrators may do this")]
    pub struct NotAdmin(pub ErrorBody);

    #[derive(IntoResponses)]
    #[response(
        status = 422,
        description = "a field or parameter is invalid; `fields` names each and says what it needs"
    )]
    pub struct Invalid(pub ErrorBody);
}

/// An error body: a stable machine `code`, a sentence for people, and per-field details on 422.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable identifier, e.g. `validation_failed`, `conflict`, `not_found`.
    pub code: &'static str,
    /// What went wrong and how to fix it.
    pub message: String,
    /// For `validation_failed` and `conflict`: each field at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict { field: Option<&'static str>, message: String },
    #[error("some fields are invalid")]
    Validation(Vec<FieldError>),
    #[error("{message}")]
    TooManyRequests { retry_after_secs: u64, message: String },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let (message, fields) = match &self {
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "request failed");
                (
                    "something went wrong on our side; try again, and if it persists tell an administrator".to_owned(),
                    vec![],
                )
            }
            Self::Validation(fields) => {
                let names: Vec<&str> = fields.iter().map(|field| field.field.as_str()).collect();
                (format!("invalid value for {}; see `fields` for what each needs", names.join(", ")), fields.clone())
            }
            Self::Conflict { field: Some(field), message } => {
                (message.clone(), vec![FieldError::new(field, message.clone())])
            }
            other => (other.to_string(), vec![]),
        };
        let mut response = (status, Json(ErrorBody { code, message, fields })).into_response();
        match self {
            Self::Unauthorized(_) => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyRequests { retry_after_secs, .. } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(database_error) = &error
            && let Some(constraint) = database_error.constraint()
            && let Some(mapped) = from_constraint(constraint)
        {
            return mapped;
        }
        Self::Internal(error.into())
    }
}

/// Database constraints are the last line of defence; each maps to the error a person can act on.
fn from_constraint(constraint: &str) -> Option<ApiError> {
    Some(match constraint {
        "users_username_unique" => ApiError::Conflict {
            field: Some("username"),
            message: "this username is already taken; choose another".into(),
        },
        "users_username_format" => ApiError::invalid("username", USERNAME_RULE),
        "users_display_name_length" => ApiError::invalid("display_name", "must be 1 to 100 characters"),
        "devices_name_length" => ApiError::invalid("name", "must be 1 to 100 characters"),
        "devices_max_hourly_kwh_positive" => {
            ApiError::invalid("max_hourly_kwh", "must be a number of kWh greater than 0")
        }
        "devices_owner_id_fkey" => ApiError::invalid("user_id", "no user has this id"),
        _ => return None,
    })
}

pub const USERNAME_RULE: &str =
    "must be 3 to 32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit";

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(error) => {
                // serde's message names the field and the expected type, e.g.
                // "missing field `name`" or "invalid type: string, expected f64".
                Self::invalid("body", format!("the JSON does not fit: {}", error.body_text()))
            }
            JsonRejection::JsonSyntaxError(_) => {
                Self::BadRequest("the request body is not valid JSON; check quotes, commas and brackets".into())
            }
            JsonRejection::MissingJsonContentType(_) => {
                Self::BadRequest("send the body as JSON with the header Content-Type: application/json".into())
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge(format!(
                "the request body is larger than the {} KiB an API request may have",
                crate::MAX_BODY_BYTES / 1024
            )),
            other => Self::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(format!("invalid query string: {}", rejection.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::NotFound(format!("no such resource ({}); ids are UUIDs", rejection.body_text()))
    }
}

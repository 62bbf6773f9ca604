//! Access tokens: short-lived HS256 JWTs issued by the web API and verified by every service
//! that accepts users (the API and the WebSocket notifier), so both read the same claims.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `iss` of every access token.
pub const ISSUER: &str = "ems";

/// What a user may do: administrators manage everything, clients see their own things.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "user_role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Client,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Client => "client",
        }
    }
}

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    pub role: Role,
    /// Display name, so a service can greet the user without a database round trip.
    pub name: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    /// The account's token version when this was issued (`users.token_version`); the API refuses
    /// a token whose version is behind the account's. Tokens without one are version 0.
    #[serde(default)]
    pub ver: i32,
}

impl Claims {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the access token has expired; refresh it with POST /api/auth/refresh or log in again")]
    Expired,
    #[error("the access token is not valid; log in again")]
    Invalid,
}

/// Signing and verification keys plus the access-token lifetime.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("JwtKeys").field("access_ttl", &self.access_ttl).finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys for a secret, which must not be empty (configured secrets are checked to be at least
    /// [`crate::config::MIN_JWT_SECRET_BYTES`] long before they get here).
    pub fn new(secret: &[u8], access_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret).expect("a non-empty JWT secret"),
            decoding: DecodingKey::from_secret(secret).expect("a non-empty JWT secret"),
            validation,
            access_ttl,
        }
    }

    /// Keys from a fresh random secret, for a single process with nothing configured.
    pub fn random(access_ttl: Duration) -> Self {
        let secret: [u8; 32] = rand::random();
        Self::new(&secret, access_ttl)
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// Issues an access token for a user whose account was never changed (token version 0).
    pub fn issue(&self, user_id: Uuid, role: Role, name: &str) -> anyhow::Result<String> {
        self.issue_version(user_id, role, name, 0)
    }

    /// Issues an access token for this user at the account's token version, valid for the
    /// configured lifetime.
    pub fn issue_version(&self, user_id: Uuid, role: Role, name: &str, version: i32) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            role,
            name: name.to_owned(),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + self.access_ttl.as_secs() as i64,
            ver: version,
        };
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(
            |error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_verifies_to_the_same_user_and_role() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let user = Uuid::new_v4();
        let claims = keys.verify(&keys.issue(user, Role::Admin, "Ada").unwrap()).unwrap();
        assert_eq!((claims.sub, claims.role, claims.name.as_str()), (user, Role::Admin, "Ada"));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_invalid() {
        let ours = JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let theirs = JwtKeys::new(b"fedcba9876543210fedcba9876543210", Duration::from_secs(60));
        let token = theirs.issue(Uuid::new_v4(), Role::Admin, "Mallory").unwrap();
        assert_eq!(ours.verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn an_expired_token_says_so() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let claims = Claims {
            sub: Uuid::new_v4(),
            role: Role::Client,
            name: "Old".into(),
            iss: ISSUER.into(),
            iat: 0,
            exp: Utc::now().timestamp() - 120,
            ver: 0,
        };
        let token = jsonwebtoken::encode(&Header::default(), &claims, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&token), Err(TokenError::Expired));
    }
}

//! Password hashing with argon2id (OWASP's first choice), run off the async threads because each
//! hash deliberately costs tens of milliseconds of CPU and 19 MiB of memory.

use std::sync::OnceLock;

use anyhow::Context;
use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

pub const MIN_PASSWORD_CHARS: u64 = 8;
pub const MAX_PASSWORD_CHARS: u64 = 128;

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await.context("password hashing task failed")?
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    // A new random salt (from the operating system) for every hash.
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|error| anyhow::anyhow!("hashing a password failed: {error}"))?;
    Ok(hash.to_string())
}

/// Checks a password against a stored hash. With no stored hash (unknown user), it checks against
/// a fixed dummy hash so that the answer takes as long as for a real user.
pub async fn verify(password: String, stored_hash: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let hash_text = stored_hash.as_deref().unwrap_or_else(|| dummy_hash());
        let parsed =
            PasswordHash::new(hash_text).map_err(|error| anyhow::anyhow!("stored hash is malformed: {error}"))?;
        let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(matches && stored_hash.is_some())
    })
    .await
    .context("password verification task failed")?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("not a real password").expect("hashing a constant works"))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let hash = super::hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(super::verify("correct horse".into(), Some(hash.clone())).await.unwrap());
        assert!(!super::verify("wrong horse".into(), Some(hash)).await.unwrap());
        assert!(!super::verify("not a real password".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_hash_stored_by_an_earlier_release_still_verifies() {
        // Made by `ems seed` with argon2 0.5, before the move to 0.6: databases hold such hashes.
        let stored =
            "$argon2id$v=19$m=19456,t=2,p=1$Set6JVlOU4tTwburRUVOdg$h9khNHmDd8GutMTuVCQNrZvHAJr3UMHs7+GhF0phHic";
        assert!(super::verify("old-argon2-password".into(), Some(stored.into())).await.unwrap());
        assert!(!super::verify("old-argon2-passwore".into(), Some(stored.into())).await.unwrap());
    }
}

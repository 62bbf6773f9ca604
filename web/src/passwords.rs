//! Password hashing with argon2id (OWASP's first choice), run off the async threads because each
//! hash deliberately costs tens of milliseconds of CPU and 19 MiB of memory; logins check
//! passwords through [`Hashing`], which bounds how many run at once. And the password policy.

use std::{
    collections::HashSet,
    sync::{Arc, OnceLock},
    time::Duration,
};

use anyhow::Context;
use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

pub const MIN_PASSWORD_CHARS: u64 = 10;
pub const MAX_PASSWORD_CHARS: u64 = 128;

/// Why a new password is refused, or `None` when it is acceptable: 10 to 128 characters, not on
/// the list of common passwords shipped with EMS, and not the username (in any case).
pub fn policy_violation(password: &str, username: Option<&str>) -> Option<String> {
    let length = password.chars().count() as u64;
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) {
        return Some(format!(
            "must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters; a passphrase of a few words is easy to remember"
        ));
    }
    let lower = password.to_lowercase();
    if username.is_some_and(|username| lower.trim() == username.trim().to_lowercase()) {
        return Some("must not be the username; choose a passphrase of a few words".into());
    }
    if common_passwords().contains(lower.as_str()) {
        return Some("is one of the most common passwords and would be guessed first; choose another".into());
    }
    None
}

/// web/src/common-passwords.txt: common passwords long enough to pass the length rule.
fn common_passwords() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common-passwords.txt").lines().filter(|line| !line.is_empty() && !line.starts_with('#')).collect()
    })
}

/// At most `permits` password checks at once; a login that cannot get one within `wait` is
/// answered 429 with `Retry-After`, so a burst of logins costs bounded memory and CPU.
#[derive(Clone, Debug)]
pub struct Hashing {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl Hashing {
    /// `permits` defaults to the number of CPUs.
    pub fn new(permits: Option<u32>, wait: Duration) -> Self {
        let permits = permits.map_or_else(
            || std::thread::available_parallelism().map_or(2, |cpus| cpus.get()),
            |permits| permits as usize,
        );
        Self { permits: Arc::new(Semaphore::new(permits.max(1))), wait }
    }

    /// [`verify`] once a check is free.
    pub async fn verify(&self, password: String, stored_hash: Option<String>) -> ApiResult<bool> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await;
        let Ok(Ok(_permit)) = permit else {
            metrics::counter!("auth_password_checks_busy_total").increment(1);
            return Err(ApiError::TooManyRequests {
                retry_after_secs: 1,
                message: "the server is busy checking other passwords; try again in a second".into(),
            });
        };
        Ok(verify(password, stored_hash).await?)
    }
}

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
    use super::policy_violation;

    #[test]
    fn short_common_and_username_passwords_are_refused_with_the_reason() {
        assert!(policy_violation("nine char", None).unwrap().contains("10 to 128 characters"));
        assert!(policy_violation("Password1234", None).unwrap().contains("most common"));
        assert!(policy_violation("qwertyuiop", None).unwrap().contains("most common"));
        assert!(policy_violation("Ana.Popescu", Some("ana.popescu")).unwrap().contains("not be the username"));
        assert_eq!(policy_violation("correct horse battery", Some("ana")), None);
        assert!(policy_violation(&"x".repeat(129), None).is_some());
    }
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

//! Web Push's server identity: the VAPID key pair (RFC 8292) that signs every push request, and
//! whose public half browsers subscribe with (`applicationServerKey`). It is kept in the
//! database (`web_push_keys`), written by `ems seed`: generated there, or taken from a secret, so
//! every web and notifier instance uses the same one.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use std::sync::Arc;

use sqlx::PgPool;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};

/// A VAPID key pair.
#[derive(Clone)]
pub struct VapidKey {
    pair: Arc<ES256KeyPair>,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey").field("public", &self.public_base64()).finish_non_exhaustive()
    }
}

impl VapidKey {
    pub fn generate() -> Self {
        Self { pair: Arc::new(ES256KeyPair::generate()) }
    }

    /// From a private key written as base64url (the 32 bytes of a P-256 scalar, as
    /// [`VapidKey::private_base64`] writes it and as `web-push generate-vapid-keys` prints it).
    pub fn from_base64(private: &str) -> anyhow::Result<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(private.trim().trim_end_matches('=')).map_err(|error| {
            anyhow::anyhow!(
                "a VAPID private key is base64url (RFC 4648 §5) of 32 bytes; this one does not decode: {error}"
            )
        })?;
        anyhow::ensure!(
            bytes.len() == 32,
            "a VAPID private key is 32 bytes (a P-256 scalar); this one is {}",
            bytes.len()
        );
        let pair =
            ES256KeyPair::from_bytes(&bytes).map_err(|error| anyhow::anyhow!("not a P-256 private key: {error}"))?;
        Ok(Self { pair: Arc::new(pair) })
    }

    pub fn private_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.to_bytes())
    }

    /// The public key as browsers take it: the uncompressed point (65 bytes), base64url.
    pub fn public_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().public_key().to_bytes_uncompressed())
    }

    pub fn pair(&self) -> &ES256KeyPair {
        &self.pair
    }
}

/// The key `ems seed` stored; `None` before it ran.
pub async fn stored_key(pool: &PgPool) -> anyhow::Result<Option<VapidKey>> {
    let private: Option<String> =
        sqlx::query_scalar("SELECT private_key FROM web_push_keys").fetch_optional(pool).await?;
    private.map(|private| VapidKey::from_base64(&private)).transpose()
}

/// Stores `key`, replacing any other (subscriptions made with another key stop receiving, so
/// they are dropped: their browsers subscribe again with the new one). Returns whether it changed.
pub async fn store_key(pool: &PgPool, key: &VapidKey) -> anyhow::Result<bool> {
    let mut transaction = pool.begin().await?;
    let before: Option<String> = sqlx::query_scalar("SELECT private_key FROM web_push_keys FOR UPDATE")
        .fetch_optional(&mut *transaction)
        .await?;
    if before.as_deref() == Some(key.private_base64().as_str()) {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO web_push_keys (private_key) VALUES ($1) \
         ON CONFLICT (only_one) DO UPDATE SET private_key = EXCLUDED.private_key, created_at = now()",
    )
    .bind(key.private_base64())
    .execute(&mut *transaction)
    .await?;
    if before.is_some() {
        sqlx::query("DELETE FROM push_subscriptions").execute(&mut *transaction).await?;
    }
    transaction.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_back_from_its_base64_and_bad_ones_say_why() {
        let key = VapidKey::generate();
        let again = VapidKey::from_base64(&key.private_base64()).unwrap();
        assert_eq!(again.public_base64(), key.public_base64());
        assert_eq!(URL_SAFE_NO_PAD.decode(key.public_base64()).unwrap().len(), 65);
        assert!(VapidKey::from_base64("not base64!").unwrap_err().to_string().contains("base64url"));
        assert!(VapidKey::from_base64("AAAA").unwrap_err().to_string().contains("32 bytes"));
    }
}

//! Whether a signed access token still speaks for its account. A token is refused once its
//! account is deleted or its token version (bumped when the role changes or the password is
//! reset) has moved past the token's, so a demoted administrator loses their rights at once
//! rather than when the token expires.
//!
//! Each instance caches every account's current version for a short time, so most requests
//! cost no query; a change made through any instance is published on `ems.users.changed`, and
//! every instance forgets that account at once (the time limit covers a lost message).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ems_common::{Claims, Role, Shutdown, contracts::UserChanged};
use futures::StreamExt;
use uuid::Uuid;

use crate::{
    error::{ApiError, ApiResult},
    state::Events,
};

/// Longest an instance trusts what it cached of an account without hearing of a change.
const CACHE_FOR: Duration = Duration::from_secs(30);
/// The cache is emptied when it grows past this many accounts (each entry is a few dozen bytes).
const MAX_CACHED: usize = 100_000;

/// An account as tokens are checked against it; `None` when it no longer exists.
type Current = Option<(Role, i32)>;

/// A small map with a time limit per entry: the one lookup per request needs nothing more, so
/// no cache crate is pulled in for it.
#[derive(Clone, Default)]
pub struct Accounts {
    cached: Arc<Mutex<HashMap<Uuid, (Instant, Current)>>>,
}

impl Accounts {
    /// Refuses `claims` with 401 when the account is gone or was changed after they were issued.
    pub async fn check(&self, pool: &sqlx::PgPool, claims: &Claims) -> ApiResult<()> {
        match self.current(pool, claims.sub).await? {
            None => Err(ApiError::Unauthorized("this account no longer exists".into())),
            Some((role, version)) if version != claims.ver || role != claims.role => {
                Err(ApiError::Unauthorized("your account was changed by an administrator; sign in again".into()))
            }
            Some(_) => Ok(()),
        }
    }

    async fn current(&self, pool: &sqlx::PgPool, user_id: Uuid) -> ApiResult<Current> {
        if let Some((at, current)) = self.cached.lock().expect("the account cache lock").get(&user_id)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(*current);
        }
        let current: Current = sqlx::query_as("SELECT role, token_version FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
        let mut cached = self.cached.lock().expect("the account cache lock");
        if cached.len() >= MAX_CACHED {
            cached.clear();
        }
        cached.insert(user_id, (Instant::now(), current));
        Ok(current)
    }

    pub fn forget(&self, user_id: Uuid) {
        self.cached.lock().expect("the account cache lock").remove(&user_id);
    }

    /// After an account's role, password or existence changed: forgotten here, and published so
    /// that other instances forget it and notifiers close its WebSockets.
    pub async fn changed(&self, events: &Events, user_id: Uuid) {
        self.forget(user_id);
        let payload = serde_json::to_vec(&UserChanged { user_id }).expect("an event serialises");
        if let Err(error) = events.nats.publish(events.names.users_changed_subject(), payload.into()).await {
            tracing::warn!(%error, %user_id, "publishing an account change failed; other instances notice within 30s");
        }
    }

    /// Forgets every account another instance reports changed, until `shutdown`.
    pub async fn follow(self, events: Events, shutdown: Shutdown) -> anyhow::Result<()> {
        let mut changes = events.nats.subscribe(events.names.users_changed_subject()).await?;
        loop {
            let message = tokio::select! {
                message = changes.next() => message,
                () = shutdown.requested() => return Ok(()),
            };
            let Some(message) = message else { anyhow::bail!("the subscription to account changes ended") };
            match serde_json::from_slice::<UserChanged>(&message.payload) {
                Ok(change) => self.forget(change.user_id),
                Err(error) => tracing::warn!(%error, "ignoring a malformed account change"),
            }
        }
    }
}

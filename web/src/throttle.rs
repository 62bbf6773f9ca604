//! Slowing down password guessing, counted in PostgreSQL so every replica of the web service sees
//! the same counts. A login attempt counts against three keys at once:
//!
//! - the username from this source address (the usual lockout, `login_max_failures`);
//! - the source address, over every username (a password sprayed over many accounts);
//! - the username, from every address (a guessing attack spread over many addresses).
//!
//! One address can therefore lock an account only for itself: once its own pair key is locked it
//! adds nothing to the account's key, whose limit is higher than any one address reaches.
//!
//! An attempt is claimed before its password is checked, in one transaction that locks the rows
//! of its keys: requests sent in parallel are counted one after the other, so no more than the
//! limit of checks run in a window whatever the concurrency. A successful login gives back its
//! claim. Failures older than the window stop counting, and their rows are deleted by
//! [`expire`].

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};
use chrono::{DateTime, Utc};

use crate::{
    error::{ApiError, ApiResult},
    state::{ApiContext, Settings},
};

/// Failures older than this no longer count towards a lockout.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest a key stays locked.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// The address a request came from: the TCP peer, or, behind a proxy that is trusted to say so
/// (`--trust-forwarded-for`), the last address in `X-Forwarded-For` (the one that proxy saw).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<ApiContext> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, context: &ApiContext) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(address)| address.ip());
        if !context.settings.trust_forwarded_for {
            return Ok(Self(peer));
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .next_back()
            .and_then(|entry| entry.trim().parse::<IpAddr>().ok());
        Ok(Self(forwarded.or(peer)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Pair,
    Address,
    Account,
}

/// The keys one attempt counts against, with their limits; sorted, so that parallel attempts
/// lock shared rows in the same order and cannot deadlock.
pub struct Attempt {
    keys: Vec<(String, Scope, u32)>,
}

/// A key's row: key, failures, last failure, locked until, and the database's `now()`.
type ThrottleRow = (String, i32, DateTime<Utc>, Option<DateTime<Utc>>, DateTime<Utc>);

/// Counts of a claimed attempt, one per key, to decide on lockouts once the password is checked.
pub struct Claim {
    attempt: Attempt,
    counts: Vec<i32>,
}

impl Attempt {
    pub fn new(username: &str, address: ClientAddress, settings: &Settings) -> Self {
        let address = address.0.map_or_else(|| "unknown".to_owned(), |address| address.to_string());
        let mut keys = vec![
            (format!("pair:{address}|{username}"), Scope::Pair, settings.login_max_failures),
            (format!("addr:{address}"), Scope::Address, settings.login_max_failures_per_address),
            (format!("user:{username}"), Scope::Account, settings.login_max_failures_per_account),
        ];
        keys.sort_by(|left, right| left.0.cmp(&right.0));
        Self { keys }
    }

    fn names(&self) -> Vec<String> {
        self.keys.iter().map(|(key, _, _)| key.clone()).collect()
    }

    /// Counts this attempt against each key, or refuses it with 429 and `Retry-After` when a key
    /// is locked or already has as many attempts in the window as its limit allows.
    pub async fn claim(self, context: &ApiContext) -> ApiResult<Claim> {
        let names = self.names();
        let mut transaction = context.pool.begin().await?;
        sqlx::query(
            "INSERT INTO login_throttle (key, failures, last_failure_at) \
             SELECT key, 0, now() FROM unnest($1::text[]) AS key ORDER BY key ON CONFLICT (key) DO NOTHING",
        )
        .bind(&names)
        .execute(&mut *transaction)
        .await?;
        let rows: Vec<ThrottleRow> = sqlx::query_as(
            "SELECT key, failures, last_failure_at, locked_until, now() FROM login_throttle \
             WHERE key = ANY($1) ORDER BY key FOR UPDATE",
        )
        .bind(&names)
        .fetch_all(&mut *transaction)
        .await?;

        let window = chrono::Duration::from_std(FAILURE_WINDOW).expect("the window fits");
        let mut counts = Vec::with_capacity(self.keys.len());
        let mut refusal: Option<(u64, Scope)> = None;
        for (key, scope, limit) in &self.keys {
            let Some((_, failures, last, locked_until, now)) = rows.iter().find(|row| &row.0 == key) else {
                return Err(anyhow::anyhow!("the login throttle row for {key} vanished").into());
            };
            let waiting = match locked_until {
                Some(until) if until > now => Some(seconds_until(*until, *now)),
                _ => None,
            };
            let current = if *last < *now - window { 0 } else { *failures };
            let over = u32::try_from(current).unwrap_or(0) >= *limit;
            if let Some(seconds) = waiting.or(over.then(|| context.settings.login_lockout.as_secs().max(1)))
                && refusal.is_none_or(|(longest, _)| seconds > longest)
            {
                refusal = Some((seconds, *scope));
            }
            counts.push(current + 1);
        }
        if let Some((seconds, scope)) = refusal {
            transaction.rollback().await?;
            metrics::counter!("auth_login_throttled_total").increment(1);
            let whose = match scope {
                Scope::Pair => "this username",
                Scope::Address => "your network address",
                Scope::Account => "this username from many addresses",
            };
            return Err(ApiError::TooManyRequests {
                retry_after_secs: seconds,
                message: format!("too many failed logins for {whose}; try again in {seconds} seconds"),
            });
        }
        sqlx::query(
            "UPDATE login_throttle SET failures = claimed.count, last_failure_at = now() \
             FROM unnest($1::text[], $2::int[]) AS claimed (key, count) WHERE login_throttle.key = claimed.key",
        )
        .bind(&names)
        .bind(&counts)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Claim { attempt: self, counts })
    }
}

impl Claim {
    /// The password was wrong: each key at or past its limit is locked, for a time that doubles
    /// with each failure beyond the limit.
    pub async fn failed(self, context: &ApiContext) -> ApiResult<()> {
        for ((key, scope, limit), count) in self.attempt.keys.iter().zip(&self.counts) {
            let Some(lockout) = lockout_after(*count, *limit, &context.settings) else { continue };
            sqlx::query("UPDATE login_throttle SET locked_until = now() + make_interval(secs => $2) WHERE key = $1")
                .bind(key)
                .bind(lockout.as_secs_f64())
                .execute(&context.pool)
                .await?;
            tracing::warn!(key, ?scope, failures = count, ?lockout, "login locked after repeated failures");
        }
        Ok(())
    }

    /// The password was right: the username's failures are forgiven, and the address gets back
    /// the attempt it was charged.
    pub async fn succeeded(self, context: &ApiContext) -> ApiResult<()> {
        let (forgiven, returned): (Vec<_>, Vec<_>) =
            self.attempt.keys.into_iter().partition(|(_, scope, _)| *scope != Scope::Address);
        let forgiven: Vec<String> = forgiven.into_iter().map(|(key, _, _)| key).collect();
        let returned: Vec<String> = returned.into_iter().map(|(key, _, _)| key).collect();
        sqlx::query("DELETE FROM login_throttle WHERE key = ANY($1)").bind(&forgiven).execute(&context.pool).await?;
        sqlx::query("UPDATE login_throttle SET failures = GREATEST(failures - 1, 0) WHERE key = ANY($1)")
            .bind(&returned)
            .execute(&context.pool)
            .await?;
        Ok(())
    }
}

fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    (until - now).num_seconds().max(1) as u64
}

/// From `limit` failures in a row on, the key is locked for the configured time, doubled for
/// each failure beyond the limit, up to [`MAX_LOCKOUT`].
pub fn lockout_after(failures: i32, limit: u32, settings: &Settings) -> Option<Duration> {
    let beyond = u32::try_from(failures).ok()?.checked_sub(limit)?;
    let factor = 2u32.saturating_pow(beyond.min(16));
    Some(settings.login_lockout.saturating_mul(factor).min(MAX_LOCKOUT))
}

/// Deletes the rows that no longer count: last failure outside the window and no lock in force.
/// Returns how many went.
pub async fn expire(pool: &sqlx::PgPool) -> sqlx::Result<u64> {
    let deleted = sqlx::query(
        "DELETE FROM login_throttle WHERE last_failure_at < now() - make_interval(secs => $1) \
         AND (locked_until IS NULL OR locked_until < now())",
    )
    .bind(FAILURE_WINDOW.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(max: u32, lockout_secs: u64) -> Settings {
        Settings { login_max_failures: max, login_lockout: Duration::from_secs(lockout_secs), ..Settings::for_tests() }
    }

    #[test]
    fn lockout_starts_at_the_limit_and_doubles_up_to_a_cap() {
        let settings = settings(5, 30);
        assert_eq!(lockout_after(4, 5, &settings), None);
        assert_eq!(lockout_after(5, 5, &settings), Some(Duration::from_secs(30)));
        assert_eq!(lockout_after(6, 5, &settings), Some(Duration::from_secs(60)));
        assert_eq!(lockout_after(40, 5, &settings), Some(MAX_LOCKOUT));
    }

    #[test]
    fn an_attempt_counts_against_its_pair_its_address_and_its_account_in_a_fixed_order() {
        let address = ClientAddress(Some("192.0.2.7".parse().unwrap()));
        let attempt = Attempt::new("ana", address, &settings(5, 30));
        assert_eq!(attempt.names(), ["addr:192.0.2.7", "pair:192.0.2.7|ana", "user:ana"]);
    }
}

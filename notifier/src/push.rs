//! The push sender: stored alerts to the Web Push subscriptions of their users, so they reach a
//! customer whose dashboard is closed.
//!
//! Alerts are the outbox. Every notifier instance runs a sender, but only the one holding a
//! PostgreSQL advisory lock sends: it takes the alerts not yet marked `pushed`, in id order, sends
//! each to every subscription of its user, and marks it once that is done. A sender that dies
//! loses its connection and with it the lock; another instance takes the lock within a second and
//! carries on from the first alert not marked. Nothing is lost while a sender is down, and since
//! NATS is not the source, two instances never both push an alert. The one push that can be sent
//! twice is one in flight when its sender was killed (sent, not yet marked): it carries the alert's
//! topic and tag, so the push service and the browser show it once.
//!
//! A subscription whose push service answers 404 or 410 is gone (unsubscribed, expired) and is
//! removed. Other failures are retried a few times, then given up for that alert, with a warning.

use std::{collections::HashMap, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ems_common::{Shutdown, contracts::AlertKind, webpush};
use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;
use web_push_native::{
    Auth, WebPushBuilder,
    jwt_simple::{algorithms::ECDSAP256KeyPairLike, claims::Claims},
    p256::PublicKey,
};

/// The advisory lock that makes one sender active among all instances.
const SENDER_LOCK: i64 = 0x454d_535f_5055_5348; // "EMS_PUSH"
/// How often an idle active sender looks for new alerts, and a standby one for the lock.
const POLL: Duration = Duration::from_millis(250);
const STANDBY_POLL: Duration = Duration::from_secs(1);
/// Alerts taken per round.
const BATCH: i64 = 100;
/// Attempts per push before it is given up.
const ATTEMPTS: u32 = 3;
/// How long a push service keeps a push for a browser that is offline.
const TTL: Duration = Duration::from_secs(6 * 3600);

/// What the service worker receives (decrypted) and shows.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct PushMessage {
    pub title: String,
    pub body: String,
    /// The page to open when the notification is clicked.
    pub url: String,
    /// One notification per alert: a second push of it replaces the first.
    pub tag: String,
    pub alert_id: i64,
}

#[derive(sqlx::FromRow)]
struct Pending {
    id: i64,
    user_id: Option<Uuid>,
    device_id: Uuid,
    device_name: String,
    kind: AlertKind,
    message: String,
    snoozed: bool,
}

#[derive(sqlx::FromRow)]
struct Subscription {
    id: i64,
    user_id: Uuid,
    endpoint: String,
    p256dh: String,
    auth: String,
}

/// Runs until `shutdown`: a standby sender until it takes the lock, then the active one.
pub async fn run_sender(pool: PgPool, contact: String, shutdown: Shutdown) -> anyhow::Result<()> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    metrics::gauge!("push_sender_active").set(0.0);
    let mut active = false;
    while !shutdown.is_triggered() {
        match hold_lock_and_send(&pool, &http, &contact, &shutdown, &mut active).await {
            Ok(()) => {}
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "push sender: lost its connection; trying again");
            }
        }
        if active {
            active = false;
            metrics::gauge!("push_sender_active").set(0.0);
        }
        let _ = tokio::time::timeout(STANDBY_POLL, shutdown.requested()).await;
    }
    Ok(())
}

/// On a connection of its own (the lock lives as long as it does): waits for the lock, then
/// sends until `shutdown` or until the connection fails.
async fn hold_lock_and_send(
    pool: &PgPool,
    http: &reqwest::Client,
    contact: &str,
    shutdown: &Shutdown,
    active: &mut bool,
) -> anyhow::Result<()> {
    let mut lock = PgConnection::connect_with(&pool.connect_options()).await?;
    loop {
        let taken: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(SENDER_LOCK).fetch_one(&mut lock).await?;
        if taken {
            break;
        }
        metrics::gauge!("push_sender_active").set(0.0);
        if tokio::time::timeout(STANDBY_POLL, shutdown.requested()).await.is_ok() {
            return Ok(());
        }
    }
    *active = true;
    metrics::gauge!("push_sender_active").set(1.0);
    tracing::info!("push sender: active on this instance");
    loop {
        let sent = send_pending(pool, http, contact).await?;
        if sent > 0 {
            continue;
        }
        // Still holding the lock? A connection that broke gave it up.
        sqlx::query("SELECT 1").execute(&mut lock).await?;
        if tokio::time::timeout(POLL, shutdown.requested()).await.is_ok() {
            let _ = lock.close().await;
            return Ok(());
        }
    }
}

/// One round: up to [`BATCH`] alerts not yet pushed, each sent and then marked. Returns how
/// many alerts it handled.
async fn send_pending(pool: &PgPool, http: &reqwest::Client, contact: &str) -> anyhow::Result<usize> {
    let pending: Vec<Pending> = sqlx::query_as(
        "SELECT a.id, a.user_id, a.device_id, d.name AS device_name, a.kind, a.message, a.snoozed \
         FROM alerts a JOIN devices d ON d.id = a.device_id WHERE NOT a.pushed ORDER BY a.id LIMIT $1",
    )
    .bind(BATCH)
    .fetch_all(pool)
    .await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let key = webpush::stored_key(pool).await?;
    // The round's users' subscriptions, read once for all their alerts.
    let users: Vec<Uuid> = pending.iter().filter_map(|alert| alert.user_id).collect();
    let rows: Vec<Subscription> =
        sqlx::query_as("SELECT id, user_id, endpoint, p256dh, auth FROM push_subscriptions WHERE user_id = ANY($1)")
            .bind(&users)
            .fetch_all(pool)
            .await?;
    let mut subscriptions: HashMap<Uuid, Vec<Subscription>> = HashMap::new();
    for row in rows {
        subscriptions.entry(row.user_id).or_default().push(row);
    }
    for alert in &pending {
        if let (Some(user_id), Some(key), false) = (alert.user_id, &key, alert.snoozed)
            && let Some(theirs) = subscriptions.get_mut(&user_id)
        {
            let message = message_of(alert);
            let mut kept = Vec::with_capacity(theirs.len());
            for subscription in theirs.drain(..) {
                if deliver(pool, http, key, contact, &subscription, &message).await? == Outcome::Kept {
                    kept.push(subscription);
                }
            }
            *theirs = kept;
        }
        // Snoozed alerts, alerts of unassigned devices or of users without a subscription, and
        // any alert while no key is set: nothing to send, only to mark.
        sqlx::query("UPDATE alerts SET pushed = true WHERE id = $1").bind(alert.id).execute(pool).await?;
    }
    Ok(pending.len())
}

fn message_of(alert: &Pending) -> PushMessage {
    let what = match alert.kind {
        AlertKind::Overconsumption => "over the hourly limit",
        AlertKind::Peak => "peak above the limit",
        AlertKind::Forecast => "forecast to cross the limit",
    };
    PushMessage {
        title: format!("{}: {what}", alert.device_name),
        body: alert.message.clone(),
        url: format!("/alerts?device={}&acknowledged=false", alert.device_id),
        tag: format!("alert-{}", alert.id),
        alert_id: alert.id,
    }
}

/// Whether a subscription is still there after a push to it.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Kept,
    Removed,
}

/// Sends one push, retrying what may pass; removes a subscription that is gone.
async fn deliver(
    pool: &PgPool,
    http: &reqwest::Client,
    key: &webpush::VapidKey,
    contact: &str,
    subscription: &Subscription,
    message: &PushMessage,
) -> anyhow::Result<Outcome> {
    let request = match build(key, contact, subscription, message) {
        Ok(request) => request,
        Err(error) => {
            // Keys that do not parse cannot be fixed by trying again; the API checks them, so
            // this is a row written some other way.
            tracing::warn!(
                subscription = subscription.id,
                error = format!("{error:#}"),
                "push subscription unusable; removed"
            );
            sqlx::query("DELETE FROM push_subscriptions WHERE id = $1").bind(subscription.id).execute(pool).await?;
            return Ok(Outcome::Removed);
        }
    };
    let (parts, body) = request.into_parts();
    for attempt in 1..=ATTEMPTS {
        let mut outgoing = http.post(parts.uri.to_string()).body(body.clone());
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
        // RFC 8030 §5.4: a later push with the same topic replaces one the service still holds.
        outgoing = outgoing.header("Topic", &message.tag).header("Urgency", "high");
        match outgoing.send().await {
            Ok(response) if response.status().is_success() => {
                metrics::counter!("push_sent_total").increment(1);
                return Ok(Outcome::Kept);
            }
            Ok(response) if matches!(response.status().as_u16(), 404 | 410) => {
                tracing::info!(subscription = subscription.id, status = %response.status(), "push subscription gone; removed");
                metrics::counter!("push_subscriptions_removed_total").increment(1);
                sqlx::query("DELETE FROM push_subscriptions WHERE id = $1").bind(subscription.id).execute(pool).await?;
                return Ok(Outcome::Removed);
            }
            Ok(response) => {
                tracing::warn!(subscription = subscription.id, status = %response.status(), attempt, "push refused")
            }
            Err(error) => tracing::warn!(subscription = subscription.id, error = %error, attempt, "push not delivered"),
        }
        tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
    }
    metrics::counter!("push_failed_total").increment(1);
    tracing::warn!(subscription = subscription.id, alert = message.alert_id, "push given up after {ATTEMPTS} attempts");
    Ok(Outcome::Kept)
}

fn build(
    key: &webpush::VapidKey,
    contact: &str,
    subscription: &Subscription,
    message: &PushMessage,
) -> anyhow::Result<axum::http::Request<Vec<u8>>> {
    let p256dh = URL_SAFE_NO_PAD.decode(subscription.p256dh.trim_end_matches('='))?;
    let auth = URL_SAFE_NO_PAD.decode(subscription.auth.trim_end_matches('='))?;
    anyhow::ensure!(auth.len() == 16, "auth is {} bytes, not 16", auth.len());
    let endpoint: axum::http::Uri = subscription.endpoint.parse()?;
    let builder =
        WebPushBuilder::new(endpoint.clone(), PublicKey::from_sec1_bytes(&p256dh)?, Auth::clone_from_slice(&auth))
            .with_valid_duration(TTL);
    let mut request = builder.build(serde_json::to_vec(message)?).map_err(|error| anyhow::anyhow!("{error:?}"))?;
    request.headers_mut().insert(axum::http::header::AUTHORIZATION, vapid_authorization(key, contact, &endpoint)?);
    Ok(request)
}

/// RFC 8292's `Authorization: vapid t=<JWT>, k=<public key>`. Signed here rather than by the
/// crate's `with_vapid`, whose audience leaves out the endpoint's port: the audience is the push
/// resource's origin, which includes a port that is not the scheme's default.
fn vapid_authorization(
    key: &webpush::VapidKey,
    contact: &str,
    endpoint: &axum::http::Uri,
) -> anyhow::Result<axum::http::HeaderValue> {
    let scheme = endpoint.scheme_str().ok_or_else(|| anyhow::anyhow!("the endpoint has no scheme"))?;
    let host = endpoint.host().ok_or_else(|| anyhow::anyhow!("the endpoint has no host"))?;
    let origin = match endpoint.port_u16() {
        Some(port) if !matches!((scheme, port), ("https", 443) | ("http", 80)) => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    };
    let claims = Claims::create(TTL.into()).with_audience(origin).with_subject(contact);
    let token = key.pair().sign(claims).map_err(|error| anyhow::anyhow!("signing the VAPID token: {error}"))?;
    Ok(format!("vapid t={token}, k={}", key.public_base64()).try_into()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_names_the_device_and_kind_and_opens_its_open_alerts() {
        let device_id = Uuid::new_v4();
        let alert = Pending {
            id: 42,
            user_id: None,
            device_id,
            device_name: "Oven".into(),
            kind: AlertKind::Forecast,
            message: "Oven is on course to use 2.40 kWh".into(),
            snoozed: false,
        };
        let message = message_of(&alert);
        assert_eq!(message.title, "Oven: forecast to cross the limit");
        assert_eq!(message.url, format!("/alerts?device={device_id}&acknowledged=false"));
        assert_eq!((message.tag.as_str(), message.alert_id), ("alert-42", 42));
    }
}

//! The connections of this notifier instance, by user, and the fan-out from NATS to them. Each
//! connection has a small bounded queue; a connection whose queue is full misses ephemeral frames
//! (typing, presence) and is cut off by a durable one (an alert, a chat message) rather than
//! allowed to slow the fan-out for everyone else.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::extract::ws::Utf8Bytes;
use ems_common::{
    Role, Shutdown,
    broker::Names,
    contracts::{AlertEvent, ChatEvent, UserChanged},
};
use ems_web::accounts::Accounts;
use futures::StreamExt;
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use crate::{
    presence::{LocalChange, Member},
    protocol::ServerFrame,
};

struct Connection {
    id: u64,
    sender: mpsc::Sender<Utf8Bytes>,
    /// Told when the user's account changed: the connection closes and the client signs in again.
    revoked: Arc<Notify>,
}

#[derive(Default)]
struct Registry {
    by_user: HashMap<Uuid, Vec<Connection>>,
    admins: Vec<(Uuid, Connection)>,
}

#[derive(Clone)]
pub struct Hub {
    registry: Arc<Mutex<Registry>>,
    next_id: Arc<AtomicU64>,
    queue: usize,
    /// Told, in the order they happen, when a customer's first connection on this instance
    /// opens and their last one closes (see `presence`).
    presence: Option<mpsc::UnboundedSender<LocalChange>>,
}

/// What a connection gets from the hub: its id and the frames to send. When the hub drops the
/// sending side, the connection was too slow (or the notifier is stopping). Dropping it, however
/// the connection ended, takes the connection out of the hub and of the connection gauge once.
pub struct Registration {
    pub id: u64,
    pub frames: mpsc::Receiver<Utf8Bytes>,
    /// True when this is the user's first open connection on this instance.
    pub first: bool,
    /// Notified when the user's account changed (role, password, deleted).
    pub revoked: Arc<Notify>,
    user: Uuid,
    role: Role,
    hub: Hub,
}

impl Registration {
    /// Leaves the hub; true when this was the user's last connection on this instance.
    pub fn leave(self) -> bool {
        self.hub.remove(self.user, self.id, self.role)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // A second removal (after `leave`) finds nothing; the gauge moves once either way.
        self.hub.remove(self.user, self.id, self.role);
        metrics::gauge!("notifier_connections").decrement(1.0);
    }
}

impl Hub {
    pub fn new(queue: usize) -> Self {
        Self { registry: Arc::default(), next_id: Arc::new(AtomicU64::new(1)), queue: queue.max(1), presence: None }
    }

    /// The same hub, telling `changes` when a user's first connection opens and their last
    /// one closes.
    pub(crate) fn reporting_presence(self, changes: mpsc::UnboundedSender<LocalChange>) -> Self {
        Self { presence: Some(changes), ..self }
    }

    /// Sent under the registry's lock, so changes arrive in the order the registry saw them.
    fn report(&self, user: Uuid, role: Role, online: bool) {
        if let Some(presence) = &self.presence {
            // Closed only once the notifier is stopping, when nobody is told of departures.
            let _ = presence.send((Member::new(user, role), online));
        }
    }

    pub fn register(&self, user: Uuid, role: Role) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, frames) = mpsc::channel(self.queue);
        let mut registry = self.registry.lock().expect("hub lock");
        let connections = registry.by_user.entry(user).or_default();
        let first = connections.is_empty();
        let revoked = Arc::new(Notify::new());
        connections.push(Connection { id, sender: sender.clone(), revoked: revoked.clone() });
        if role == Role::Admin {
            registry.admins.push((user, Connection { id, sender, revoked: revoked.clone() }));
        }
        if first {
            self.report(user, role, true);
        }
        drop(registry);
        metrics::gauge!("notifier_connections").increment(1.0);
        Registration { id, frames, first, revoked, user, role, hub: self.clone() }
    }

    /// Removes a connection (if still there: the fan-out removes those it cuts off); true when
    /// it was the user's last one on this instance.
    fn remove(&self, user: Uuid, id: u64, role: Role) -> bool {
        let mut registry = self.registry.lock().expect("hub lock");
        let mut last = false;
        if let Some(connections) = registry.by_user.get_mut(&user) {
            connections.retain(|connection| connection.id != id);
            if connections.is_empty() {
                registry.by_user.remove(&user);
                last = true;
                self.report(user, role, false);
            }
        }
        registry.admins.retain(|(_, connection)| connection.id != id);
        last
    }

    pub fn connections(&self) -> usize {
        self.registry.lock().expect("hub lock").by_user.values().map(Vec::len).sum()
    }

    /// Tells every connection of `user` on this instance that the account changed.
    pub fn revoke_user(&self, user: Uuid) {
        let registry = self.registry.lock().expect("hub lock");
        for connection in registry.by_user.get(&user).into_iter().flatten() {
            // A stored permit: the connection sees it even if it is not waiting right now.
            connection.revoked.notify_one();
        }
    }

    /// Queues a frame for every connection of `user`.
    pub fn to_user(&self, user: Uuid, frame: &ServerFrame) {
        let text = Utf8Bytes::from(frame.to_text());
        let mut registry = self.registry.lock().expect("hub lock");
        let Some(connections) = registry.by_user.get_mut(&user) else { return };
        let cut = offer(
            connections.iter().map(|connection| (connection.id, &connection.sender)),
            &text,
            frame.is_ephemeral(),
        );
        if !cut.is_empty() {
            connections.retain(|connection| !cut.contains(&connection.id));
            registry.admins.retain(|(_, connection)| !cut.contains(&connection.id));
        }
    }

    /// Queues a frame for every administrator's connection.
    pub fn to_admins(&self, frame: &ServerFrame) {
        self.to_admins_except(frame, None);
    }

    /// To every administrator's connections but those of `except` (an administrator is not told
    /// of their own presence).
    pub fn to_admins_except(&self, frame: &ServerFrame, except: Option<Uuid>) {
        let text = Utf8Bytes::from(frame.to_text());
        let mut registry = self.registry.lock().expect("hub lock");
        let cut = offer(
            registry
                .admins
                .iter()
                .filter(|(user, _)| Some(*user) != except)
                .map(|(_, connection)| (connection.id, &connection.sender)),
            &text,
            frame.is_ephemeral(),
        );
        if !cut.is_empty() {
            registry.admins.retain(|(_, connection)| !cut.contains(&connection.id));
            for connections in registry.by_user.values_mut() {
                connections.retain(|connection| !cut.contains(&connection.id));
            }
        }
    }

    /// Subscribes to the alert and chat subjects (one wildcard subscription per family) and to
    /// account changes, then routes what arrives to local connections by the user id in the
    /// subject, until shutdown; a changed account is forgotten by `accounts` and its connections
    /// are closed. Returns once subscribed, with the routing task.
    pub async fn follow(
        self,
        nats: async_nats::Client,
        names: Names,
        accounts: Accounts,
        shutdown: Shutdown,
    ) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
        let subscriptions = Subscriptions {
            alerts: nats.subscribe(names.alerts_wildcard()).await?,
            chats: nats.subscribe(names.chat_user_wildcard()).await?,
            admins: nats.subscribe(names.chat_admins_subject()).await?,
            users: nats.subscribe(names.users_changed_subject()).await?,
        };
        Ok(tokio::spawn(self.route(subscriptions, accounts, shutdown)))
    }

    async fn route(self, subscriptions: Subscriptions, accounts: Accounts, shutdown: Shutdown) -> anyhow::Result<()> {
        let Subscriptions { mut alerts, mut chats, mut admins, mut users } = subscriptions;
        loop {
            tokio::select! {
                () = shutdown.requested() => return Ok(()),
                Some(message) = users.next() => {
                    match serde_json::from_slice::<UserChanged>(&message.payload) {
                        Ok(UserChanged { user_id }) => {
                            accounts.forget(user_id);
                            self.revoke_user(user_id);
                        }
                        Err(error) => tracing::warn!(%error, "ignoring a malformed account change"),
                    }
                }
                Some(message) = alerts.next() => {
                    match (user_in(&message.subject), serde_json::from_slice::<AlertEvent>(&message.payload)) {
                        (Some(user), Ok(alert)) => self.to_user(user, &ServerFrame::Alert { alert }),
                        _ => tracing::warn!(subject = %message.subject, "ignoring a malformed alert event"),
                    }
                }
                Some(message) = chats.next() => {
                    match (user_in(&message.subject), serde_json::from_slice::<ChatEvent>(&message.payload)) {
                        (Some(user), Ok(event)) => self.to_user(user, &event.into()),
                        _ => tracing::warn!(subject = %message.subject, "ignoring a malformed chat event"),
                    }
                }
                Some(message) = admins.next() => {
                    match serde_json::from_slice::<ChatEvent>(&message.payload) {
                        Ok(event) => self.to_admins(&event.into()),
                        Err(error) => tracing::warn!(%error, "ignoring a malformed chat event for administrators"),
                    }
                }
                else => anyhow::bail!("the NATS subscriptions ended"),
            }
        }
    }
}

struct Subscriptions {
    alerts: async_nats::Subscriber,
    chats: async_nats::Subscriber,
    admins: async_nats::Subscriber,
    users: async_nats::Subscriber,
}

/// Offers a frame to each connection; returns the ids of those to cut off (dropping their sender
/// ends their task with a "too slow" close): gone ones, and those whose queue is full for a durable
/// frame. A full queue only misses an ephemeral frame.
fn offer<'a>(
    connections: impl Iterator<Item = (u64, &'a mpsc::Sender<Utf8Bytes>)>,
    text: &Utf8Bytes,
    ephemeral: bool,
) -> Vec<u64> {
    let mut cut = Vec::new();
    for (id, sender) in connections {
        match sender.try_send(text.clone()) {
            Ok(()) => metrics::counter!("notifier_frames_sent_total").increment(1),
            Err(mpsc::error::TrySendError::Full(_)) if ephemeral => {
                metrics::counter!("notifier_ephemeral_frames_dropped_total").increment(1);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(connection = id, "connection too slow for its events; cutting it off");
                metrics::counter!("notifier_slow_disconnects_total").increment(1);
                cut.push(id);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => cut.push(id),
        }
    }
    cut
}

/// The user id that ends a subject such as `ems.alerts.<uuid>`.
fn user_in(subject: &str) -> Option<Uuid> {
    subject.rsplit('.').next().and_then(|last| Uuid::parse_str(last).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(client_id: &str) -> ServerFrame {
        ServerFrame::Ack { client_id: client_id.into() }
    }

    #[test]
    fn frames_reach_every_connection_of_the_user_and_nobody_else() {
        let hub = Hub::new(8);
        let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
        let mut tab = hub.register(ana, Role::Client);
        let mut phone = hub.register(ana, Role::Client);
        let mut other = hub.register(ben, Role::Client);
        assert!(tab.first && !phone.first);
        hub.to_user(ana, &frame("a"));
        assert!(tab.frames.try_recv().unwrap().as_str().contains("\"a\""));
        assert!(phone.frames.try_recv().is_ok());
        assert!(other.frames.try_recv().is_err());
    }

    #[test]
    fn a_full_queue_cuts_off_only_that_connection() {
        let hub = Hub::new(2);
        let ana = Uuid::new_v4();
        let mut slow = hub.register(ana, Role::Client);
        let mut fast = hub.register(ana, Role::Client);
        for index in 0..3 {
            hub.to_user(ana, &frame(&index.to_string()));
            while fast.frames.try_recv().is_ok() {}
        }
        // The slow one received two frames, then its sender was dropped.
        assert!(slow.frames.try_recv().is_ok() && slow.frames.try_recv().is_ok());
        assert_eq!(slow.frames.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
        hub.to_user(ana, &frame("later"));
        assert!(fast.frames.try_recv().is_ok(), "the fast one keeps receiving");
        assert_eq!(hub.connections(), 1);
    }

    #[test]
    fn a_full_queue_misses_ephemeral_frames_and_is_cut_off_only_by_a_durable_one() {
        let hub = Hub::new(1);
        let mut admin = hub.register(Uuid::new_v4(), Role::Admin);
        let typing = ServerFrame::ChatTyping {
            customer_id: Uuid::new_v4(),
            role: Role::Client,
            user_id: Uuid::new_v4(),
            typing: true,
        };
        for _ in 0..5 {
            hub.to_admins(&typing);
            hub.to_admins(&ServerFrame::Presence { user_id: Uuid::new_v4(), role: Role::Client, online: true });
        }
        assert_eq!(hub.connections(), 1, "still connected");
        assert!(admin.frames.try_recv().unwrap().as_str().contains("chat.typing"));
        hub.to_admins(&frame("durable"));
        assert_eq!(hub.connections(), 1, "room again after reading");
        hub.to_admins(&frame("durable too"));
        assert_eq!(hub.connections(), 0, "a durable frame into a full queue cuts it off");
    }

    #[test]
    fn a_connection_leaves_the_hub_however_it_ends() {
        let hub = Hub::new(1);
        let ana = Uuid::new_v4();
        let cut = hub.register(ana, Role::Client);
        let other = hub.register(ana, Role::Client);
        hub.to_user(ana, &frame("1"));
        hub.to_user(ana, &frame("2"));
        assert_eq!(hub.connections(), 0, "both cut off as too slow");
        assert!(cut.leave(), "the first to leave finds ana with no connection left");
        assert!(!other.leave(), "and only it says so");
        let dropped = hub.register(ana, Role::Admin);
        assert!(dropped.first);
        drop(dropped);
        assert_eq!(hub.connections(), 0);
        assert!(hub.register(ana, Role::Client).first, "a dropped registration left no trace");
    }

    #[test]
    fn only_administrators_get_the_administrators_stream() {
        let hub = Hub::new(4);
        let mut admin = hub.register(Uuid::new_v4(), Role::Admin);
        let mut client = hub.register(Uuid::new_v4(), Role::Client);
        hub.to_admins(&frame("x"));
        assert!(admin.frames.try_recv().is_ok());
        assert!(client.frames.try_recv().is_err());
    }

    #[test]
    fn the_user_is_read_from_the_last_subject_token() {
        let user = Uuid::new_v4();
        assert_eq!(user_in(&format!("ems.alerts.{user}")), Some(user));
        assert_eq!(user_in("ems.alerts.*"), None);
    }
}

//! Which customers and administrators are online, over every notifier instance, so that an
//! administrator who connects learns it at once (a `presence.snapshot` frame) and hears of each
//! change after.
//!
//! Presence lives in a JetStream key-value bucket (`<NAMESPACE>_PRESENCE`, one per system):
//!
//! - `i.<instance>` is each instance's heartbeat, rewritten every third of `--presence-timeout`
//!   with the time it was written (Unix milliseconds);
//! - `c.<instance>.<customer>` exists while the customer has a connection on that instance: put
//!   when their first connection there opens, deleted when their last one closes;
//! - `a.<instance>.<administrator>` the same for an administrator, so that administrators see
//!   each other and know who is there to take a conversation.
//!
//! Every instance watches the whole bucket, so it holds the same view of who is online where.
//! An instance whose heartbeat is older than the timeout (it was killed, or stopped) counts as
//! gone: its customers are offline unless connected elsewhere, and the first instance to notice
//! purges its keys. A stopping instance leaves its keys to expire the same way, so customers who
//! reconnect to another instance within the timeout never show as offline. Each instance tells
//! only its own administrators' connections of changes (nothing is published twice), and derives
//! them from the shared view, so a customer connected to two instances goes offline only when
//! both connections have closed.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use async_nats::jetstream::{
    self,
    kv::{Operation, Store, Watch},
};
use ems_common::{Role, Shutdown, broker::Names};
use futures::StreamExt;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::{hub::Hub, protocol::ServerFrame};

/// Puts and deletes sent to the bucket at once when many customers connect together.
const WRITES_IN_FLIGHT: usize = 64;
/// The longest the initial read of the bucket may take before the instance serves anyway.
const INITIAL_LOAD: Duration = Duration::from_secs(10);

/// A change of this instance's own connections: a user's first connection opened (`true`)
/// or their last one closed (`false`).
pub(crate) type LocalChange = (Member, bool);

/// Someone whose presence is shared: a customer or an administrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Member {
    pub user: Uuid,
    pub admin: bool,
}

impl Member {
    pub(crate) fn new(user: Uuid, role: Role) -> Self {
        Self { user, admin: role == Role::Admin }
    }

    fn role(self) -> Role {
        if self.admin { Role::Admin } else { Role::Client }
    }

    /// Tells every other administrator on this instance that this member came or went.
    fn tell(self, hub: &Hub, online: bool) {
        let frame = ServerFrame::Presence { user_id: self.user, role: self.role(), online };
        hub.to_admins_except(&frame, self.admin.then_some(self.user));
    }
}

/// Who is online on which instance, as read from the bucket.
#[derive(Default)]
struct View {
    instances: HashMap<String, Instance>,
}

struct Instance {
    /// When its heartbeat was last written (estimated from the written time).
    last_seen: Instant,
    customers: HashSet<Member>,
}

impl View {
    fn is_online(&self, customer: Member) -> bool {
        self.instances.values().any(|instance| instance.customers.contains(&customer))
    }

    fn online(&self) -> HashSet<Member> {
        self.instances.values().flat_map(|instance| instance.customers.iter().copied()).collect()
    }

    fn instance(&mut self, name: &str) -> &mut Instance {
        self.instances
            .entry(name.to_owned())
            .or_insert_with(|| Instance { last_seen: Instant::now(), customers: HashSet::new() })
    }

    /// Applies one entry of the bucket; returns the customer whose online state changed, if any.
    fn apply(&mut self, key: &str, operation: Operation, value: &[u8]) -> Vec<(Member, bool)> {
        let removed = matches!(operation, Operation::Delete | Operation::Purge);
        match parse_key(key) {
            Some(Key::Heartbeat(name)) if removed => self.remove_instance(name),
            Some(Key::Heartbeat(name)) => {
                let written = std::str::from_utf8(value).ok().and_then(|text| text.parse::<u64>().ok());
                let age =
                    written.map_or(Duration::ZERO, |written| Duration::from_millis(now_ms().saturating_sub(written)));
                let last_seen = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
                self.instance(name).last_seen = last_seen;
                Vec::new()
            }
            Some(Key::Customer(name, customer)) => {
                let before = self.is_online(customer);
                if removed {
                    if let Some(instance) = self.instances.get_mut(name) {
                        instance.customers.remove(&customer);
                    }
                } else {
                    self.instance(name).customers.insert(customer);
                }
                let after = self.is_online(customer);
                if before == after { Vec::new() } else { vec![(customer, after)] }
            }
            None => Vec::new(),
        }
    }

    fn remove_instance(&mut self, name: &str) -> Vec<(Member, bool)> {
        let Some(gone) = self.instances.remove(name) else { return Vec::new() };
        gone.customers
            .into_iter()
            .filter(|customer| !self.is_online(*customer))
            .map(|customer| (customer, false))
            .collect()
    }

    /// The instances (other than `me`) whose heartbeat is older than `timeout`.
    fn expired(&self, me: &str, timeout: Duration) -> Vec<String> {
        self.instances
            .iter()
            .filter(|(name, instance)| name.as_str() != me && instance.last_seen.elapsed() > timeout)
            .map(|(name, _)| name.clone())
            .collect()
    }
}

enum Key<'a> {
    Heartbeat(&'a str),
    Customer(&'a str, Member),
}

fn parse_key(key: &str) -> Option<Key<'_>> {
    if let Some(name) = key.strip_prefix("i.") {
        return Some(Key::Heartbeat(name));
    }
    let (admin, rest) = match (key.strip_prefix("c."), key.strip_prefix("a.")) {
        (Some(rest), _) => (false, rest),
        (None, Some(rest)) => (true, rest),
        (None, None) => return None,
    };
    let (name, user) = rest.split_once('.')?;
    Some(Key::Customer(name, Member { user: Uuid::parse_str(user).ok()?, admin }))
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64)
}

/// The customers online on any live instance, as this instance knows them.
#[derive(Clone)]
pub struct Presence {
    view: Arc<Mutex<View>>,
    instance: String,
    timeout: Duration,
}

impl Presence {
    /// For administrator `me`, who just connected: the customers, and the other administrators,
    /// online on a live instance.
    pub fn snapshot_for(&self, me: Uuid) -> (Vec<Uuid>, Vec<Uuid>) {
        let mut online: Vec<Member> = self.view.lock().expect("presence lock").online().into_iter().collect();
        online.sort();
        let (admins, customers): (Vec<Member>, Vec<Member>) = online.into_iter().partition(|member| member.admin);
        (
            customers.into_iter().map(|member| member.user).collect(),
            admins.into_iter().map(|member| member.user).filter(|user| *user != me).collect(),
        )
    }

    /// This instance's name in the bucket (random per start).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// How long an instance's heartbeat counts (`--presence-timeout`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// What the presence task needs, made by [`start`] before the notifier serves.
pub struct Follower {
    presence: Presence,
    store: Store,
    changes: mpsc::UnboundedReceiver<LocalChange>,
    watch: Watch,
}

/// Creates (or finds) the bucket, announces this instance and reads who is online where, so that
/// the first administrator to connect already gets the whole picture. Local changes arrive on
/// `changes` (sent by the hub); [`follow`] keeps the bucket and the view current.
pub(crate) async fn start(
    jetstream: &jetstream::Context,
    names: &Names,
    timeout: Duration,
    changes: mpsc::UnboundedReceiver<LocalChange>,
) -> anyhow::Result<(Presence, Follower)> {
    let store = bucket(jetstream, names).await?;
    let instance = Uuid::new_v4().simple().to_string();
    heartbeat(&store, &instance).await.context("announcing this notifier in the presence bucket")?;
    let mut watch = store.watch_with_history(">").await.context("watching the presence bucket")?;
    let mut view = View::default();
    // The bucket holds at least our own heartbeat, so the replay ends with an entry marked current.
    let loaded = tokio::time::timeout(INITIAL_LOAD, async {
        while let Some(entry) = watch.next().await {
            let entry = entry?;
            view.apply(&entry.key, entry.operation, &entry.value);
            if entry.seen_current {
                break;
            }
        }
        anyhow::Ok(())
    })
    .await;
    match loaded {
        Ok(result) => result.context("reading the presence bucket")?,
        Err(_) => tracing::warn!("the presence bucket took over {INITIAL_LOAD:?} to read; serving with what was read"),
    }
    let presence = Presence { view: Arc::new(Mutex::new(view)), instance, timeout };
    Ok((presence.clone(), Follower { presence, store, changes, watch }))
}

async fn bucket(jetstream: &jetstream::Context, names: &Names) -> anyhow::Result<Store> {
    use jetstream::stream::{Config, DiscardPolicy, StorageType};
    let bucket = names.presence_bucket();
    // The stream behind a key-value bucket, made as `create_key_value` would: that call first asks
    // for account details that servers before 2.11 answer in a shape it cannot read.
    let config = Config {
        name: format!("KV_{bucket}"),
        description: Some("customers online, per notifier instance".into()),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        storage: StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: DiscardPolicy::New,
        ..Config::default()
    };
    let unavailable = |error: &dyn std::fmt::Display| {
        anyhow::anyhow!("cannot create the JetStream presence bucket {bucket} (is JetStream enabled on NATS?): {error}")
    };
    // Two instances starting together both create it: the same configuration twice is no error.
    jetstream.get_or_create_stream(config).await.map_err(|error| unavailable(&error))?;
    jetstream.get_key_value(&bucket).await.map_err(|error| unavailable(&error))
}

async fn heartbeat(store: &Store, instance: &str) -> anyhow::Result<()> {
    store.put(format!("i.{instance}"), now_ms().to_string().into()).await?;
    Ok(())
}

fn customer_key(instance: &str, member: Member) -> String {
    let kind = if member.admin { 'a' } else { 'c' };
    format!("{kind}.{instance}.{}", member.user)
}

/// Keeps the bucket in step with this instance's connections (heartbeats, puts and deletes, a
/// failed write tried again at the next beat), follows the other instances' entries, and tells
/// this instance's administrators of every change in who is online, until shutdown.
pub(crate) async fn follow(follower: Follower, hub: Hub, shutdown: Shutdown) -> anyhow::Result<()> {
    let Follower { presence, store, mut changes, mut watch } = follower;
    let me = presence.instance.clone();
    let mut beats = tokio::time::interval(presence.timeout / 3);
    beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut keys = Keys::default();
    let tell = |changes: Vec<(Member, bool)>| {
        for (member, online) in changes {
            member.tell(&hub, online);
        }
    };
    loop {
        tokio::select! {
            () = shutdown.requested() => return Ok(()),
            change = changes.recv() => {
                let Some(first) = change else { return Ok(()) };
                // Whatever else is waiting goes in the same round of writes, one per customer.
                let mut batch = vec![first];
                while let Ok(more) = changes.try_recv() {
                    batch.push(more);
                }
                if shutdown.is_triggered() {
                    // Stopping: every connection closes at once; the entries expire instead, so
                    // customers who reconnect elsewhere in time never show as offline.
                    continue;
                }
                for (customer, online) in batch {
                    keys.change(customer, online);
                }
                keys.write(&store, &me).await;
            }
            entry = watch.next() => match entry {
                Some(Ok(entry)) => {
                    let ours_purged = entry.key == format!("i.{me}") && entry.operation != Operation::Put;
                    {
                        let mut view = presence.view.lock().expect("presence lock");
                        tell(view.apply(&entry.key, entry.operation, &entry.value));
                    }
                    if ours_purged {
                        // Another instance took us for gone (we missed beats): announce us again.
                        tracing::warn!("this notifier's presence entries were expired by another instance; writing them again");
                        keys.lost();
                        if heartbeat(&store, &me).await.is_ok() {
                            keys.write(&store, &me).await;
                        }
                    }
                }
                Some(Err(error)) => tracing::warn!(%error, "a presence entry could not be read"),
                None => {
                    tracing::warn!("the presence watch ended; watching again");
                    let Some(again) = rewatch(&store, &presence, &hub, &shutdown).await else { return Ok(()) };
                    watch = again;
                    keys.lost();
                }
            },
            _ = beats.tick() => {
                if let Err(error) = heartbeat(&store, &me).await {
                    tracing::warn!(%error, "the presence heartbeat could not be written");
                }
                keys.write(&store, &me).await;
                keys.sweep(&store, &me).await;
                let expired = presence.view.lock().expect("presence lock").expired(&me, presence.timeout);
                for name in expired {
                    {
                        let mut view = presence.view.lock().expect("presence lock");
                        tell(view.remove_instance(&name));
                    }
                    tracing::info!(instance = %name, "a notifier instance stopped sending heartbeats; its customers are offline");
                    forget(&store, &name).await;
                }
            }
        }
    }
}

/// This instance's customer keys: who is connected here, and what the bucket holds of it.
#[derive(Default)]
struct Keys {
    /// The customers connected to this instance.
    local: HashSet<Member>,
    /// Those whose key may not say what `local` does.
    dirty: HashSet<Member>,
    /// Those whose key the bucket holds.
    written: HashSet<Member>,
    /// Those whose key was deleted since the last beat, and before it: a delete marker stays a
    /// whole beat, for every watcher to see, and is then purged, so departed customers leave
    /// nothing behind in the bucket.
    deleted: HashSet<Member>,
    settled: HashSet<Member>,
}

impl Keys {
    fn change(&mut self, customer: Member, online: bool) {
        if online {
            self.local.insert(customer);
        } else {
            self.local.remove(&customer);
        }
        self.dirty.insert(customer);
    }

    /// The bucket lost our keys (purged by another instance, or NATS lost its data): write them all.
    fn lost(&mut self) {
        self.written.clear();
        self.deleted.clear();
        self.settled.clear();
        self.dirty.extend(self.local.iter().copied());
    }

    /// Writes each dirty customer's key as `local` says; those that fail stay dirty.
    async fn write(&mut self, store: &Store, me: &str) {
        let writes = self.dirty.drain().filter_map(|customer| {
            let online = self.local.contains(&customer);
            if online == self.written.contains(&customer) {
                return None; // Connected and left again, or the other way round: nothing to tell.
            }
            let (store, key) = (store.clone(), customer_key(me, customer));
            Some(async move {
                let result = if online {
                    store.put(&key, Default::default()).await.map(|_| ()).map_err(anyhow::Error::from)
                } else {
                    store.delete(&key).await.map_err(anyhow::Error::from)
                };
                (customer, online, result)
            })
        });
        let done: Vec<(Member, bool, anyhow::Result<()>)> =
            futures::stream::iter(writes.collect::<Vec<_>>()).buffer_unordered(WRITES_IN_FLIGHT).collect().await;
        let mut failed = 0;
        for (customer, online, result) in done {
            match result {
                Ok(()) if online => {
                    self.written.insert(customer);
                    self.deleted.remove(&customer);
                    self.settled.remove(&customer);
                }
                Ok(()) => {
                    self.written.remove(&customer);
                    self.deleted.insert(customer);
                }
                Err(error) => {
                    failed += 1;
                    if failed == 1 {
                        tracing::warn!(%error, "a presence entry could not be written; trying again at the next beat");
                    }
                    self.dirty.insert(customer);
                }
            }
        }
    }

    /// Purges the delete markers written before the last beat, of customers still away.
    async fn sweep(&mut self, store: &Store, me: &str) {
        let settled = std::mem::replace(&mut self.settled, std::mem::take(&mut self.deleted));
        for customer in settled {
            if self.local.contains(&customer) || self.written.contains(&customer) {
                continue;
            }
            let subject = format!("{}{}", store.prefix, customer_key(me, customer));
            if store.stream.purge().filter(subject).await.is_err() {
                self.settled.insert(customer);
            }
        }
    }
}

/// Removes a gone instance's entries: its customers' keys, then its heartbeat (a purge, which
/// every watcher sees). Any instance may do it; doing it twice does nothing more.
async fn forget(store: &Store, instance: &str) {
    for kind in ['c', 'a'] {
        let members = format!("{}{kind}.{instance}.>", store.prefix);
        if let Err(error) = store.stream.purge().filter(members).await {
            tracing::warn!(%error, %instance, "the entries of a gone notifier could not be purged");
            return;
        }
    }
    if let Err(error) = store.purge(format!("i.{instance}")).await {
        tracing::warn!(%error, %instance, "the heartbeat of a gone notifier could not be purged");
    }
}

/// A new watch after the old one ended (NATS restarted, say): the view is read again from the
/// start, and administrators are told what changed meanwhile. None when shutdown comes first.
async fn rewatch(store: &Store, presence: &Presence, hub: &Hub, shutdown: &Shutdown) -> Option<Watch> {
    let mut failures = ems_common::retry::Failures::new(Duration::from_millis(200), Duration::from_secs(5));
    loop {
        let attempt = async {
            heartbeat(store, &presence.instance).await?;
            let mut watch = store.watch_with_history(">").await?;
            let mut view = View::default();
            while let Some(entry) = watch.next().await {
                let entry = entry?;
                view.apply(&entry.key, entry.operation, &entry.value);
                if entry.seen_current {
                    break;
                }
            }
            anyhow::Ok((watch, view))
        };
        match tokio::time::timeout(INITIAL_LOAD, attempt).await {
            Ok(Ok((watch, fresh))) => {
                let mut view = presence.view.lock().expect("presence lock");
                let (before, after) = (view.online(), fresh.online());
                for member in before.difference(&after) {
                    member.tell(hub, false);
                }
                for member in after.difference(&before) {
                    member.tell(hub, true);
                }
                *view = fresh;
                return Some(watch);
            }
            Ok(Err(error)) => tracing::warn!(%error, "the presence bucket could not be watched yet"),
            Err(_) => tracing::warn!("reading the presence bucket timed out"),
        }
        if !ems_common::retry::pause(failures.failed(), shutdown).await {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(user: Uuid) -> Member {
        Member { user, admin: false }
    }

    #[test]
    fn administrators_have_keys_of_their_own_and_are_apart_in_the_snapshot() {
        let mut view = View::default();
        let (ana, admin) = (customer(Uuid::new_v4()), Member { user: Uuid::new_v4(), admin: true });
        assert_eq!(view.apply(&customer_key("a", admin), Operation::Put, b""), [(admin, true)]);
        assert!(customer_key("a", admin).starts_with("a.a."));
        view.apply(&customer_key("a", ana), Operation::Put, b"");
        let presence =
            Presence { view: Arc::new(Mutex::new(view)), instance: "a".into(), timeout: Duration::from_secs(1) };
        assert_eq!(presence.snapshot_for(Uuid::new_v4()), (vec![ana.user], vec![admin.user]));
        assert_eq!(
            presence.snapshot_for(admin.user),
            (vec![ana.user], vec![]),
            "an administrator is not told of themself"
        );
    }

    #[test]
    fn a_customer_on_two_instances_goes_offline_when_both_connections_are_gone() {
        let mut view = View::default();
        let ana = customer(Uuid::new_v4());
        assert_eq!(view.apply(&customer_key("a", ana), Operation::Put, b""), [(ana, true)]);
        assert!(view.apply(&customer_key("b", ana), Operation::Put, b"").is_empty());
        assert!(view.apply(&customer_key("a", ana), Operation::Delete, b"").is_empty());
        assert_eq!(view.apply(&customer_key("b", ana), Operation::Delete, b""), [(ana, false)]);
    }

    #[test]
    fn a_gone_instance_takes_only_its_own_customers_offline() {
        let mut view = View::default();
        let (ana, ben) = (customer(Uuid::new_v4()), customer(Uuid::new_v4()));
        view.apply(&customer_key("a", ana), Operation::Put, b"");
        view.apply(&customer_key("a", ben), Operation::Put, b"");
        view.apply(&customer_key("b", ben), Operation::Put, b"");
        assert_eq!(view.apply("i.a", Operation::Purge, b""), [(ana, false)]);
        assert_eq!(view.online(), HashSet::from([ben]));
    }

    #[test]
    fn an_old_heartbeat_counts_as_expired_and_a_fresh_one_does_not() {
        let mut view = View::default();
        view.apply("i.old", Operation::Put, (now_ms() - 60_000).to_string().as_bytes());
        view.apply("i.new", Operation::Put, now_ms().to_string().as_bytes());
        view.apply("i.me", Operation::Put, b"0");
        assert_eq!(view.expired("me", Duration::from_secs(15)), ["old"]);
    }

    #[test]
    fn keys_that_are_not_ours_are_ignored() {
        let mut view = View::default();
        assert!(view.apply("c.a.not-a-uuid", Operation::Put, b"").is_empty());
        assert!(view.apply("other", Operation::Put, b"").is_empty());
        assert!(view.online().is_empty());
    }
}

//! Presence over several notifier instances: an administrator who connects is told at once who
//! is online, wherever they are connected, and a stopped instance's customers go offline after
//! the presence timeout.

use std::time::{Duration, Instant};

use ems_common::Role;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{Client, Notifier, Setup, WAIT, args, connect, connect_with_snapshot, next_frame};

fn online_in(snapshot: &Value) -> Vec<String> {
    let mut online: Vec<String> =
        snapshot["online"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()).collect();
    online.sort();
    online
}

/// Connects an administrator until their snapshot has exactly `expected` online (the instances
/// learn of each other's customers within milliseconds, not at once); fails after a deadline.
async fn admin_seeing(notifier: &Notifier, token: &str, expected: &[Uuid]) -> Client {
    let mut expected: Vec<String> = expected.iter().map(Uuid::to_string).collect();
    expected.sort();
    let deadline = Instant::now() + WAIT;
    loop {
        let (client, snapshot) = connect_with_snapshot(notifier, token, "").await;
        let online = online_in(&snapshot.unwrap());
        if online == expected {
            return client;
        }
        assert!(Instant::now() < deadline, "the snapshot says {online:?}, expected {expected:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Removes the test's presence bucket and chat stream from NATS.
async fn remove_streams(setup: &Setup) {
    let jetstream = async_nats::jetstream::new(setup.nats.clone());
    let names = setup.broker.names();
    jetstream.delete_key_value(names.presence_bucket()).await.unwrap();
    jetstream.delete_stream(names.chat_stream()).await.unwrap();
}

/// The next `presence` frame, other frames left out.
async fn next_presence(client: &mut Client) -> (String, bool) {
    loop {
        let frame = next_frame(client).await;
        if frame["type"] == "presence" {
            return (frame["user_id"].as_str().unwrap().to_owned(), frame["online"].as_bool().unwrap());
        }
    }
}

#[tokio::test]
async fn an_administrator_connecting_after_customers_is_told_they_are_online_whichever_instance_they_use() {
    let setup = Setup::new().await;
    let first = setup.notifier(args()).await;
    let second = setup.notifier(args()).await;
    let (ana, ben, carl) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let admin_token = setup.token(Uuid::new_v4(), Role::Admin).await;

    // Nobody is online: the snapshot is empty, and customers never get one.
    let (_, snapshot) = connect_with_snapshot(&first, &admin_token, "").await;
    assert!(online_in(&snapshot.unwrap()).is_empty());
    let (_ana_chat, none) = connect_with_snapshot(&first, &setup.token(ana, Role::Client).await, "").await;
    assert!(none.is_none());
    let mut ben_chat = connect(&second, &setup.token(ben, Role::Client).await, "").await;

    // Ana on this instance, Ben on the other one.
    let mut admin = admin_seeing(&first, &admin_token, &[ana, ben]).await;
    // And on the other instance the same.
    admin_seeing(&second, &admin_token, &[ana, ben]).await;

    // Changes after the snapshot arrive as they happen, from either instance.
    let _carl_chat = connect(&second, &setup.token(carl, Role::Client).await, "").await;
    assert_eq!(next_presence(&mut admin).await, (carl.to_string(), true));
    ben_chat.close(None).await.unwrap();
    assert_eq!(next_presence(&mut admin).await, (ben.to_string(), false));
    admin_seeing(&first, &admin_token, &[ana, carl]).await;
    first.shutdown.trigger();
    second.shutdown.trigger();
    remove_streams(&setup).await;
}

#[tokio::test]
async fn a_customer_connected_to_two_instances_is_online_until_the_last_connection_closes() {
    let setup = Setup::new().await;
    let first = setup.notifier(args()).await;
    let second = setup.notifier(args()).await;
    let ana = Uuid::new_v4();
    let token = setup.token(ana, Role::Client).await;
    let admin_token = setup.token(Uuid::new_v4(), Role::Admin).await;
    let mut laptop = connect(&first, &token, "").await;
    let mut phone = connect(&second, &token, "").await;
    let mut admin = admin_seeing(&first, &admin_token, &[ana]).await;

    laptop.close(None).await.unwrap();
    // Still connected on the other instance: the snapshot still has her, and no offline came.
    admin_seeing(&first, &admin_token, &[ana]).await;
    let early = tokio::time::timeout(Duration::from_millis(500), next_presence(&mut admin)).await;
    assert!(early.is_err(), "told {early:?} while the phone is still connected");
    phone.close(None).await.unwrap();
    assert_eq!(next_presence(&mut admin).await, (ana.to_string(), false));
    first.shutdown.trigger();
    second.shutdown.trigger();
    remove_streams(&setup).await;
}

#[tokio::test]
async fn the_customers_of_an_instance_that_stops_without_a_word_go_offline_after_the_timeout() {
    let setup = Setup::new().await;
    let settings = || {
        let mut settings = args();
        settings.presence_timeout = Duration::from_millis(1500);
        settings
    };
    let doomed = setup.notifier(settings()).await;
    let survivor = setup.notifier(settings()).await;
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let admin_token = setup.token(Uuid::new_v4(), Role::Admin).await;
    let _ana_chat = connect(&doomed, &setup.token(ana, Role::Client).await, "").await;
    let _ben_chat = connect(&survivor, &setup.token(ben, Role::Client).await, "").await;
    let mut admin = admin_seeing(&survivor, &admin_token, &[ana, ben]).await;

    // Stopping writes nothing to the bucket, just as a killed process would not: its heartbeats
    // simply stop, and its entries stay until the others see them expire.
    let stopped = Instant::now();
    doomed.shutdown.trigger();
    assert_eq!(next_presence(&mut admin).await, (ana.to_string(), false));
    let after = stopped.elapsed();
    assert!(after >= Duration::from_millis(900), "offline after {after:?}: before the heartbeat expired");
    admin_seeing(&survivor, &admin_token, &[ben]).await;

    // The gone instance's entries were removed from the bucket: a notifier starting now does not
    // count Ana, even for the first moments of its own timeout.
    let newcomer = setup.notifier(args()).await;
    admin_seeing(&newcomer, &admin_token, &[ben]).await;
    let jetstream = async_nats::jetstream::new(setup.nats.clone());
    let bucket = jetstream.get_key_value(setup.broker.names().presence_bucket()).await.unwrap();
    let mut keys: Vec<String> = futures::TryStreamExt::try_collect(bucket.keys().await.unwrap()).await.unwrap();
    keys.retain(|key| key.ends_with(&ana.to_string()));
    assert!(keys.is_empty(), "left in the bucket: {keys:?}");
    survivor.shutdown.trigger();
    newcomer.shutdown.trigger();
    remove_streams(&setup).await;
}

#[tokio::test]
async fn a_customer_who_left_leaves_nothing_behind_in_the_bucket() {
    let setup = Setup::new().await;
    let mut settings = args();
    settings.presence_timeout = Duration::from_millis(1500);
    let notifier = setup.notifier(settings).await;
    let ana = Uuid::new_v4();
    let admin_token = setup.token(Uuid::new_v4(), Role::Admin).await;
    let mut admin = admin_seeing(&notifier, &admin_token, &[]).await;
    let mut chat = connect(&notifier, &setup.token(ana, Role::Client).await, "").await;
    assert_eq!(next_presence(&mut admin).await, (ana.to_string(), true));
    chat.close(None).await.unwrap();
    assert_eq!(next_presence(&mut admin).await, (ana.to_string(), false));

    // The delete marker is purged a beat later: the bucket holds the heartbeat and the
    // administrator still connected, nothing of Ana.
    let jetstream = async_nats::jetstream::new(setup.nats.clone());
    let mut stream = jetstream.get_stream(format!("KV_{}", setup.broker.names().presence_bucket())).await.unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let messages = stream.info().await.unwrap().state.messages;
        if messages == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "{messages} messages in the presence bucket");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    notifier.shutdown.trigger();
    remove_streams(&setup).await;
}

/// The ids of an administrator's snapshot's `admins`, sorted.
fn admins_in(snapshot: &Value) -> Vec<String> {
    let mut admins: Vec<String> =
        snapshot["admins"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()).collect();
    admins.sort();
    admins
}

/// The next `presence` frame about an administrator, other frames left out.
async fn next_admin_presence(client: &mut Client) -> (String, bool) {
    loop {
        let frame = next_frame(client).await;
        if frame["type"] == "presence" && frame["role"] == "admin" {
            return (frame["user_id"].as_str().unwrap().to_owned(), frame["online"].as_bool().unwrap());
        }
    }
}

#[tokio::test]
async fn administrators_see_each_other_in_the_snapshot_and_as_they_come_and_go_but_never_themselves() {
    let setup = Setup::new().await;
    let first = setup.notifier(args()).await;
    let second = setup.notifier(args()).await;
    let (maria, ion, ana) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (maria_token, ion_token) = (setup.token(maria, Role::Admin).await, setup.token(ion, Role::Admin).await);
    let _ana_chat = connect(&first, &setup.token(ana, Role::Client).await, "").await;

    let (mut maria_chat, snapshot) = connect_with_snapshot(&first, &maria_token, "").await;
    assert!(admins_in(&snapshot.unwrap()).is_empty(), "Maria is alone, and not told of herself");

    // Ion connects to the other instance: his snapshot names Maria (once the instances agree)
    // and the customer, and Maria is told he came.
    let deadline = Instant::now() + WAIT;
    let mut ion_chat = loop {
        let (client, snapshot) = connect_with_snapshot(&second, &ion_token, "").await;
        let snapshot = snapshot.unwrap();
        if admins_in(&snapshot) == [maria.to_string()] && online_in(&snapshot) == [ana.to_string()] {
            break client;
        }
        assert!(Instant::now() < deadline, "Ion's snapshot: {snapshot}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(next_admin_presence(&mut maria_chat).await, (ion.to_string(), true));

    // Maria leaves: Ion is told; Ion is never told of himself.
    maria_chat.close(None).await.unwrap();
    assert_eq!(next_admin_presence(&mut ion_chat).await, (maria.to_string(), false));
    let deadline = Instant::now() + WAIT;
    loop {
        // Only Ion is left, and he is not in his own snapshot.
        let (_, snapshot) = connect_with_snapshot(&first, &ion_token, "").await;
        let admins = admins_in(&snapshot.unwrap());
        if admins.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the snapshot still names {admins:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    remove_streams(&setup).await;
}

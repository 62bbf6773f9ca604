//! Web Push end to end: two real `ems notifier` processes on one database, a push service of the
//! test's own on 127.0.0.1 that checks each request's VAPID signature and decrypts its body with
//! the browser's keys (RFC 8291), as a browser's push service and the browser would. Alerts are
//! stored as the monitors store them; the active sender is SIGKILLed while it is sending, and the
//! other takes over: every alert reaches the browser, as one notification each.

use std::{
    collections::BTreeMap,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ems_common::{testing::TestDatabase, webpush::VapidKey};
use ems_notifier::push::PushMessage;
use rand::RngCore;
use uuid::Uuid;
use web_push_native::{
    Auth,
    jwt_simple::{
        algorithms::{ECDSAP256PublicKeyLike, ES256PublicKey},
        prelude::{JWTClaims, NoCustomClaims, VerificationOptions},
    },
    p256::{SecretKey, elliptic_curve::sec1::ToEncodedPoint},
};

/// What the browser's side holds: its key pair and authentication secret.
struct Browser {
    secret: SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new() -> Self {
        let mut bytes = [0u8; 32];
        let secret = loop {
            rand::rng().fill_bytes(&mut bytes);
            if let Ok(secret) = SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let mut auth = [0u8; 16];
        rand::rng().fill_bytes(&mut auth);
        Self { secret, auth }
    }

    fn p256dh(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes())
    }
}

#[derive(Clone)]
struct PushService {
    vapid_public: String,
    origin: String,
    browser: Arc<Browser>,
    /// Every push received, in order: its topic and what it said.
    received: Arc<Mutex<Vec<(String, PushMessage)>>>,
    refused: Arc<Mutex<Vec<String>>>,
}

/// A push for the live subscription: checked as a push service would, decrypted as the browser would.
async fn accept(State(service): State<PushService>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let refuse = |why: String| {
        service.refused.lock().unwrap().push(why);
        StatusCode::BAD_REQUEST
    };
    let authorization = headers.get("authorization").and_then(|value| value.to_str().ok()).unwrap_or_default();
    // RFC 8292 §3: `vapid t=<JWT>, k=<public key>`.
    let Some(rest) = authorization.strip_prefix("vapid ") else {
        return refuse(format!("authorization {authorization:?}"));
    };
    let fields: BTreeMap<&str, &str> = rest.split(',').filter_map(|field| field.trim().split_once('=')).collect();
    if fields.get("k") != Some(&service.vapid_public.as_str()) {
        return refuse(format!("key {:?}", fields.get("k")));
    }
    let key = ES256PublicKey::from_bytes(&URL_SAFE_NO_PAD.decode(service.vapid_public.as_bytes()).unwrap()).unwrap();
    let options = VerificationOptions {
        allowed_audiences: Some([service.origin.clone()].into_iter().collect()),
        ..Default::default()
    };
    let claims: Result<JWTClaims<NoCustomClaims>, _> =
        key.verify_token(fields.get("t").copied().unwrap_or_default(), Some(options));
    if let Err(error) = claims {
        return refuse(format!("VAPID token: {error}"));
    }
    if headers.get("content-encoding").map(|value| value.as_bytes()) != Some(b"aes128gcm") {
        return refuse("content-encoding".into());
    }
    let plain = match web_push_native::decrypt(
        body.to_vec(),
        &service.browser.secret,
        &Auth::clone_from_slice(&service.browser.auth),
    ) {
        Ok(plain) => plain,
        Err(error) => return refuse(format!("decrypt: {error:?}")),
    };
    // A push service across the network takes a while to answer: the sender is still sending the
    // first alerts when it is killed.
    tokio::time::sleep(Duration::from_millis(40)).await;
    let topic = headers.get("topic").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    service.received.lock().unwrap().push((topic, serde_json::from_slice(&plain).unwrap()));
    StatusCode::CREATED
}

/// A subscription its browser dropped: the push service says it is gone.
async fn gone(Path(_): Path<String>) -> StatusCode {
    StatusCode::GONE
}

/// A process killed when the test ends, however it ends, and where its log goes.
struct Process(Child, Option<std::path::PathBuf>);

impl Process {
    /// Panics with the process's log when it has exited (a port taken meanwhile, say), rather
    /// than let a wait for it run out with no reason given.
    fn assert_running(&mut self, name: &str) {
        if let Ok(Some(status)) = self.0.try_wait() {
            let log = self.1.as_ref().map(|path| std::fs::read_to_string(path).unwrap_or_default());
            panic!("notifier {name} exited ({status}); its log:\n{}", log.unwrap_or_default());
        }
    }

    fn kill(&mut self) {
        let _ = self.0.kill(); // SIGKILL on Unix
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

fn notifier(database: &TestDatabase, namespace: &str, port: u16) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ems"));
    command
        .args(["notifier", "--namespace", namespace, "--listen", &format!("127.0.0.1:{port}"), "--log-format", "json"])
        .env("EMS_DATABASE_URL", &database.url)
        .env("EMS_JWT_SECRET", "push-test-secret-push-test-secret-push!!")
        .env("EMS_VAPID_SUBJECT", "mailto:ops@example.com")
        .env("EMS_LOG", "warn,ems_notifier=info")
        .stdout(Stdio::null());
    // Its log to a file, shown if it stops early (or to the terminal with EMS_TEST_LOGS).
    let log = (std::env::var_os("EMS_TEST_LOGS").is_none())
        .then(|| std::env::temp_dir().join(format!("ems-push-test-notifier-{port}.log")));
    match &log {
        Some(path) => command.stderr(std::fs::File::create(path).expect("a log file")),
        None => command.stderr(Stdio::inherit()),
    };
    Process(command.spawn().expect("start ems notifier"), log)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The value of a metric on a process's `/metrics`, if it answers.
async fn metric(port: u16, name: &str) -> Option<f64> {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.ok()?.text().await.ok()?;
    text.lines().find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn insert_alert(database: &TestDatabase, device: Uuid, owner: Uuid, index: i64, snoozed: bool) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO alerts (device_id, user_id, kind, hour, value, limit_kwh, message, snoozed) \
         VALUES ($1, $2, 'overconsumption', date_trunc('hour', now()) - make_interval(hours => $3::int), 2.5, 2, \
                 'Oven used 2.50 kWh in the hour, above its limit of 2.00 kWh', $4) RETURNING id",
    )
    .bind(device)
    .bind(owner)
    .bind(index as i32)
    .bind(snoozed)
    .fetch_one(&database.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_alert_reaches_the_browser_once_though_the_active_sender_is_killed_mid_stream() {
    let database = TestDatabase::create().await;
    let key = VapidKey::generate();
    ems_common::webpush::store_key(&database.pool, &key).await.unwrap();
    let (owner, device) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query("INSERT INTO users (id, username, display_name, password_hash) VALUES ($1, $2, 'Ana', 'x')")
        .bind(owner)
        .bind(format!("ana-{}", &owner.simple().to_string()[..8]))
        .execute(&database.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO devices (id, name, max_hourly_kwh, owner_id) VALUES ($1, 'Oven', 2, $2)")
        .bind(device)
        .bind(owner)
        .execute(&database.pool)
        .await
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let browser = Arc::new(Browser::new());
    let service = PushService {
        vapid_public: key.public_base64(),
        origin: origin.clone(),
        browser: browser.clone(),
        received: Arc::default(),
        refused: Arc::default(),
    };
    let app =
        Router::new().route("/push/{id}", post(accept)).route("/gone/{id}", post(gone)).with_state(service.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    for endpoint in [format!("{origin}/push/1"), format!("{origin}/gone/2")] {
        sqlx::query("INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)")
            .bind(owner)
            .bind(endpoint)
            .bind(browser.p256dh())
            .bind(URL_SAFE_NO_PAD.encode(browser.auth))
            .execute(&database.pool)
            .await
            .unwrap();
    }

    // Instance A starts first and takes the sender's lock; B waits as the standby.
    let namespace = format!("t{}", &Uuid::new_v4().simple().to_string()[..12]);
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = notifier(&database, &namespace, port_a);
    wait_for("A to be the active sender", async || {
        a.assert_running("A");
        metric(port_a, "push_sender_active").await == Some(1.0)
    })
    .await;
    let mut b = notifier(&database, &namespace, port_b);
    wait_for("B to answer", async || {
        b.assert_running("B");
        metric(port_b, "push_sender_active").await == Some(0.0)
    })
    .await;

    let mut ids = Vec::new();
    for index in 0..20 {
        ids.push(insert_alert(&database, device, owner, index, false).await);
    }
    let snoozed = insert_alert(&database, device, owner, 100, true).await;
    // Killed while sending: some of the first twenty are through.
    wait_for("the first pushes", async || service.received.lock().unwrap().len() >= 5).await;
    a.kill();
    let before_kill = service.received.lock().unwrap().len();
    assert!(before_kill < 20, "killed mid-stream: {before_kill} of the first 20 were through");
    for index in 20..40 {
        ids.push(insert_alert(&database, device, owner, index, false).await);
    }
    wait_for("B to take over and push every alert", async || {
        let received = service.received.lock().unwrap().clone();
        ids.iter().all(|id| received.iter().any(|(_, message)| message.alert_id == *id))
    })
    .await;
    assert_eq!(metric(port_b, "push_sender_active").await, Some(1.0), "B is the sender now");
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM alerts WHERE NOT pushed").fetch_one(&database.pool).await.unwrap();
    assert_eq!(pending, 0, "every alert marked, the snoozed one too");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let received = service.received.lock().unwrap().clone();
    assert!(service.refused.lock().unwrap().is_empty(), "refused: {:?}", service.refused.lock().unwrap());
    let mut times: BTreeMap<i64, usize> = BTreeMap::new();
    for (topic, message) in received.iter() {
        *times.entry(message.alert_id).or_default() += 1;
        // One notification per alert: a second push of it carries the same topic and tag.
        assert_eq!(
            (topic.as_str(), message.tag.as_str()),
            (format!("alert-{}", message.alert_id).as_str(), topic.as_str())
        );
        assert_eq!(message.title, "Oven: over the hourly limit");
        assert_eq!(message.url, format!("/alerts?device={device}&acknowledged=false"));
    }
    assert_eq!(times.keys().copied().collect::<Vec<_>>(), ids, "each alert, none else (not the snoozed {snoozed})");
    // The only push sent twice can be the one in flight when A was killed (sent, not yet marked).
    let twice: Vec<_> = times.iter().filter(|(_, count)| **count > 1).collect();
    eprintln!("{} pushes for {} alerts; killed after {before_kill}; sent twice: {twice:?}", received.len(), ids.len());
    assert!(twice.len() <= 1 && twice.iter().all(|(_, count)| **count == 2), "pushed more than once: {twice:?}");
    let subscriptions: Vec<String> =
        sqlx::query_scalar("SELECT endpoint FROM push_subscriptions").fetch_all(&database.pool).await.unwrap();
    assert_eq!(subscriptions, [format!("{origin}/push/1")], "the gone subscription is removed");
    b.kill();
}

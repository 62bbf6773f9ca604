//! The Swarm stack, deployed for real by scripts/swarm-test.sh, checked from outside as its users
//! and operators see it: through Traefik's published port, the stack's own RabbitMQ (readings in)
//! and PostgreSQL (what was counted), and the `docker` command (scale, kill, update, secrets).
//!
//! Ignored by `cargo test`: it needs the stack that scripts/swarm-test.sh deploys, and it says
//! where through EMS_SWARM_STACK, EMS_HTTP_PORT, EMS_TEST_AMQP_PORT, EMS_TEST_PG_PORT,
//! RABBITMQ_PASSWORD, EMS_SWARM_DB_PASSWORD, EMS_SWARM_ADMIN_PASSWORD and EMS_SWARM_COMPOSE_FILES.

use std::{
    collections::{BTreeMap, BTreeSet},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use ems_ingress::{Reading, topology};
use futures::{SinkExt, StreamExt};
use lapin::{
    Channel, Connection, ConnectionProperties,
    options::{ConfirmSelectOptions, QueueDeclareOptions},
};
use serde_json::{Value as Json, json};
use sqlx::PgPool;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(120);

fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run this through scripts/swarm-test.sh"))
}

struct Stack {
    name: String,
    base: String,
    http: reqwest::Client,
    pool: PgPool,
    channel: Channel,
    _amqp: Connection,
}

impl Stack {
    async fn connect() -> Self {
        let name = setting("EMS_SWARM_STACK");
        let base = format!("http://127.0.0.1:{}", setting("EMS_HTTP_PORT"));
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let database_url = format!(
            "postgres://ems:{}@127.0.0.1:{}/ems",
            setting("EMS_SWARM_DB_PASSWORD"),
            setting("EMS_TEST_PG_PORT")
        );
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(&database_url).await.unwrap();
        let amqp_url =
            format!("amqp://ems:{}@127.0.0.1:{}/%2f", setting("RABBITMQ_PASSWORD"), setting("EMS_TEST_AMQP_PORT"));
        let amqp = Connection::connect(&amqp_url, ConnectionProperties::default()).await.unwrap();
        let channel = amqp.create_channel().await.unwrap();
        channel.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
        Stack { name, base, http, pool, channel, _amqp: amqp }
    }

    fn service(&self, service: &str) -> String {
        format!("{}_{service}", self.name)
    }

    async fn login(&self, username: &str, password: &str) -> String {
        self.try_login(username, password).await.unwrap_or_else(|error| panic!("{error}"))
    }

    /// A login that may fail to get an answer at all (while tasks are being replaced).
    async fn try_login(&self, username: &str, password: &str) -> Result<String, String> {
        let response = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .map_err(|error| format!("login of {username} through Traefik: {}", error_chain(&error)))?;
        let status = response.status();
        if status != 200 {
            return Err(format!("login of {username} through Traefik answered {status}"));
        }
        Ok(response.json::<Json>().await.map_err(|error| error.to_string())?["access_token"]
            .as_str()
            .ok_or("a login answer without an access token")?
            .to_owned())
    }

    async fn admin(&self) -> String {
        self.login("admin", &setting("EMS_SWARM_ADMIN_PASSWORD")).await
    }

    async fn call(&self, token: &str, method: reqwest::Method, path: &str, body: Option<Json>) -> (u16, Json) {
        let path_shown = path.to_owned();
        self.try_call(token, method, path, body).await.unwrap_or_else(|error| panic!("{path_shown}: {error}"))
    }

    /// A call that may fail to get an answer at all (while tasks are being replaced).
    async fn try_call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Json>,
    ) -> Result<(u16, Json), String> {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|error| error_chain(&error))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Json::Null)))
    }

    /// A new customer (username, password, token) with one device of the given hourly limit.
    async fn customer_with_device(&self, admin: &str, limit: f64) -> (String, Uuid) {
        let username = format!("swarm-{}", &Uuid::new_v4().simple().to_string()[..10]);
        let password = "swarm-test-password";
        let (status, user) = self
            .call(
                admin,
                reqwest::Method::POST,
                "/api/users",
                Some(json!({"username": username, "display_name": "Swarm Test", "password": password})),
            )
            .await;
        assert_eq!(status, 201, "creating a customer: {user}");
        let (status, device) = self
            .call(
                admin,
                reqwest::Method::POST,
                "/api/devices",
                Some(json!({"name": "Heat pump", "max_hourly_kwh": limit, "owner_id": user["id"]})),
            )
            .await;
        assert_eq!(status, 201, "creating a device: {device}");
        let token = self.login(&username, password).await;
        (token, device["id"].as_str().unwrap().parse().unwrap())
    }

    /// Publishes readings into the stack's `readings` queue and waits for RabbitMQ's confirms.
    async fn publish(&self, readings: &[Reading]) {
        let bodies = readings.iter().map(Reading::to_json);
        topology::publish_confirmed(&self.channel, "readings", bodies, 1000)
            .await
            .expect("RabbitMQ takes the readings");
    }

    /// The monitor replicas the web API has heard from, by replica number.
    async fn replicas(&self, admin: &str) -> BTreeMap<u32, Json> {
        let (status, listed) = self.call(admin, reqwest::Method::GET, "/api/system/replicas", None).await;
        assert_eq!(status, 200, "{listed}");
        listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|replica| replica["live"] == true)
            .map(|replica| (replica["replica"].as_u64().unwrap() as u32, replica.clone()))
            .collect()
    }

    async fn wait_for_replicas(&self, admin: &str, wanted: &[u32]) -> BTreeMap<u32, Json> {
        let deadline = Instant::now() + WAIT;
        loop {
            let live = self.replicas(admin).await;
            if live.keys().copied().collect::<Vec<_>>() == wanted {
                return live;
            }
            assert!(Instant::now() < deadline, "live replicas {:?}, not {wanted:?}, after {WAIT:?}", live.keys());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// (readings stored, their hourly total) for a device, as PostgreSQL has them.
    async fn counted(&self, device: Uuid) -> (i64, f64) {
        sqlx::query_as(
            "SELECT COALESCE(sum(readings), 0)::bigint, COALESCE(sum(kwh), 0)::float8 FROM hourly_consumption WHERE device_id = $1",
        )
        .bind(device)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// Waits until the device's hourly totals hold exactly `count` readings summing to `kwh`.
    async fn wait_counted(&self, device: Uuid, count: i64, kwh: f64) {
        let deadline = Instant::now() + WAIT;
        loop {
            let (stored, total) = self.counted(device).await;
            assert!(stored <= count, "{stored} readings counted, more than the {count} published: one counted twice");
            if stored == count {
                assert_eq!(total, kwh, "hourly totals of {count} readings");
                return;
            }
            assert!(Instant::now() < deadline, "only {stored} of {count} readings counted within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn queue_depth(&self, queue: &str) -> Option<u32> {
        let channel = self._amqp.create_channel().await.unwrap();
        let options = QueueDeclareOptions { passive: true, ..Default::default() };
        let depth = channel.queue_declare(queue.into(), options, Default::default()).await.ok()?.message_count();
        let _ = channel.close(200, "done".into()).await;
        Some(depth)
    }
}

/// Runs `docker` with these arguments and returns its standard output; fails the test if it fails.
fn docker(args: &[&str]) -> String {
    docker_with(args, &[])
}

fn docker_with(args: &[&str], env: &[(&str, &str)]) -> String {
    let output = Command::new("docker").args(args).envs(env.iter().copied()).output().expect("docker runs");
    assert!(output.status.success(), "docker {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The running containers of a service, with their task slots.
fn containers(service: &str) -> Vec<(String, u32)> {
    docker(&[
        "ps",
        "--filter",
        &format!("label=com.docker.swarm.service.name={service}"),
        "--format",
        "{{.ID}} {{.Label \"com.docker.swarm.task.name\"}}",
    ])
    .lines()
    .map(|line| {
        let (id, task) = line.split_once(' ').unwrap();
        let slot = task.split('.').nth(1).and_then(|slot| slot.parse().ok()).unwrap_or(0);
        (id.to_owned(), slot)
    })
    .collect()
}

/// Readings of one device, `interval` apart from `start`, with values that add up exactly.
fn readings(device: Uuid, start: DateTime<Utc>, count: usize, kwh: f64) -> Vec<Reading> {
    (0..count)
        .map(|index| Reading {
            device_id: device,
            timestamp: start + TimeDelta::minutes(10 * index as i64),
            measurement_value: kwh,
            interval_s: 600,
        })
        .collect()
}

fn hours_ago(hours: i64) -> DateTime<Utc> {
    (Utc::now() - TimeDelta::hours(hours)).duration_trunc(TimeDelta::hours(1)).unwrap()
}

/// Publishes `readings` at about `per_second`, in small confirmed batches, until all are sent.
async fn stream(stack: &Stack, readings: &[Reading], per_second: usize) {
    let batch = (per_second / 10).max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for chunk in readings.chunks(batch) {
        tick.tick().await;
        stack.publish(chunk).await;
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket as the dashboard does: a ticket from `POST /api/ws-ticket`, then `/ws?ticket=`.
async fn open_socket(stack: &Stack, token: &str, last_alert_id: i64) -> Option<Socket> {
    let (status, answer) = stack.try_call(token, reqwest::Method::POST, "/api/ws-ticket", None).await.ok()?;
    let ticket = answer["ticket"].as_str().filter(|_| status == 200)?;
    let url = format!("{}/ws?ticket={ticket}&last_alert_id={last_alert_id}", stack.base.replace("http", "ws"));
    let (socket, _) =
        tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(url)).await.ok()?.ok()?;
    Some(socket)
}

/// A dashboard's WebSocket: it reconnects whenever the connection ends, asking for the alerts
/// after the last one it saw, and records every alert id it receives.
#[derive(Default)]
struct LiveClient {
    alerts: Mutex<BTreeSet<i64>>,
    connections: AtomicU64,
    stop: AtomicBool,
}

impl LiveClient {
    async fn run(self: Arc<Self>, stack: Arc<Stack>, token: String) {
        while !self.stop.load(Ordering::Relaxed) {
            let last = self.alerts.lock().await.last().copied().unwrap_or(0);
            let Some(mut socket) = open_socket(&stack, &token, last).await else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            self.connections.fetch_add(1, Ordering::Relaxed);
            while !self.stop.load(Ordering::Relaxed) {
                match tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
                    Err(_) => continue,
                    Ok(Some(Ok(Message::Text(text)))) => {
                        let frame: Json = serde_json::from_str(&text).unwrap();
                        if frame["type"] == "alert" {
                            self.alerts.lock().await.insert(frame["alert"]["id"].as_i64().unwrap());
                        }
                    }
                    Ok(Some(Ok(_))) => continue,
                    Ok(_) => break, // closed (the notifier is restarting) or broken: reconnect
                }
            }
            let _ = socket.close(None).await;
        }
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

async fn alert_ids(stack: &Stack, device: Uuid) -> BTreeSet<i64> {
    sqlx::query_scalar::<_, i64>("SELECT id FROM alerts WHERE device_id = $1")
        .bind(device)
        .fetch_all(&stack.pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test]
#[ignore = "needs the stack deployed by scripts/swarm-test.sh"]
async fn through_traefik_the_dashboard_loads_a_customer_logs_in_and_a_reading_raises_a_live_alert() {
    let stack = Stack::connect().await;
    let home = stack.http.get(format!("{}/", stack.base)).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("<html") && html.contains("manifest"), "the dashboard's page: {html:.300}");

    let admin = stack.admin().await;
    let (token, device) = stack.customer_with_device(&admin, 1.0).await;
    let mut socket = open_socket(&stack, &token, 0).await.expect("the WebSocket opens through Traefik");
    let hello: Json = match socket.next().await {
        Some(Ok(Message::Text(text))) => serde_json::from_str(&text).unwrap(),
        other => panic!("no hello frame: {other:?}"),
    };
    assert_eq!(hello["type"], "hello", "{hello}");

    let published = Instant::now();
    stack.publish(&readings(device, Utc::now() - TimeDelta::minutes(5), 1, 2.5)).await;
    let alert = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(Ok(Message::Text(text))) = socket.next().await {
                let frame: Json = serde_json::from_str(&text).unwrap();
                if frame["type"] == "alert" {
                    return frame;
                }
            }
        }
    })
    .await
    .expect("a live alert within the wait");
    println!("reading published -> alert on the WebSocket through Traefik: {:?}", published.elapsed());
    assert_eq!(alert["alert"]["device_id"], device.to_string());
    assert_eq!(alert["alert"]["device_name"], "Heat pump");
}

#[tokio::test]
#[ignore = "needs the stack deployed by scripts/swarm-test.sh"]
async fn monitors_take_their_numbers_from_task_slots_and_scaling_to_five_and_back_loses_no_reading() {
    let stack = Stack::connect().await;
    let admin = stack.admin().await;
    let monitor = stack.service("monitor");

    // Three tasks, slots 1–3, each running as the replica its slot names.
    let tasks = containers(&monitor);
    assert_eq!(tasks.iter().map(|(_, slot)| *slot).collect::<BTreeSet<_>>(), BTreeSet::from([1, 2, 3]));
    for (container, slot) in &tasks {
        let environment = docker(&["inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", container]);
        assert!(environment.lines().any(|line| line == format!("EMS_MONITOR_REPLICA={slot}")), "task {slot}");
    }
    let before = stack.wait_for_replicas(&admin, &[1, 2, 3]).await;
    let balancers = containers(&stack.service("balancer"));

    let (_, device) = stack.customer_with_device(&admin, 1_000_000.0).await;
    let mut published = 0;
    let first = readings(device, hours_ago(24 * 40), 600, 0.25);
    stream(&stack, &first, 300).await;
    published += first.len();
    stack.wait_counted(device, published as i64, 0.25 * published as f64).await;
    let after = stack.replicas(&admin).await;
    for replica in [1, 2, 3] {
        let gained = after[&replica]["processed"].as_u64().unwrap() - before[&replica]["processed"].as_u64().unwrap();
        println!("replica {replica} of 3 stored {gained} readings");
        assert!(gained > 0, "replica {replica} stored nothing");
    }

    // Scaled to five: the balancer, not restarted, adds replicas 4 and 5 and spreads over five.
    let started = Instant::now();
    docker(&["service", "scale", "--detach=false", &format!("{monitor}=5")]);
    let five = stack.wait_for_replicas(&admin, &[1, 2, 3, 4, 5]).await;
    println!("scaled to 5: all five replicas live after {:?}", started.elapsed());
    let second = readings(device, hours_ago(24 * 30), 1000, 0.25);
    stream(&stack, &second, 300).await;
    published += second.len();
    stack.wait_counted(device, published as i64, 0.25 * published as f64).await;
    let after = stack.replicas(&admin).await;
    for replica in 1..=5 {
        let gained = after[&replica]["processed"].as_u64().unwrap() - five[&replica]["processed"].as_u64().unwrap();
        println!("replica {replica} of 5 stored {gained} readings");
        assert!(gained > 0, "replica {replica} stored nothing after scaling to 5");
    }
    assert_eq!(containers(&stack.service("balancer")), balancers, "the balancers were not restarted");

    // Scaled back to three under a stream: what was routed to 4 and 5 is drained to the others.
    let third = readings(device, hours_ago(24 * 20), 3000, 0.25);
    let streaming = stream(&stack, &third, 150);
    let scaling = async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let monitor = monitor.clone();
        tokio::task::spawn_blocking(move || docker(&["service", "scale", "--detach=false", &format!("{monitor}=3")]))
            .await
            .unwrap();
    };
    tokio::join!(streaming, scaling);
    published += third.len();
    stack.wait_for_replicas(&admin, &[1, 2, 3]).await;
    stack.wait_counted(device, published as i64, 0.25 * published as f64).await;
    for replica in [4, 5] {
        let depth = stack.queue_depth(&format!("ingest.{replica}")).await;
        assert!(matches!(depth, None | Some(0)), "ingest.{replica} still holds {depth:?} batches");
    }
    println!("scaled 3 -> 5 -> 3: {published} readings published, {published} counted once each");
}

/// The balancer container that forwards readings (the other one stands by).
fn active_balancer(service: &str) -> Option<String> {
    containers(service).into_iter().map(|(id, _)| id).find(|id| forwarded(id) > 0.0)
}

fn forwarded(container: &str) -> f64 {
    let Ok(output) =
        Command::new("docker").args(["exec", container, "curl", "-fsS", "http://127.0.0.1:9464/metrics"]).output()
    else {
        return 0.0;
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.starts_with("balancer_forwarded_total"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
#[ignore = "needs the stack deployed by scripts/swarm-test.sh"]
async fn killing_a_monitor_and_the_active_balancer_mid_stream_loses_and_doubles_nothing() {
    let stack = Stack::connect().await;
    let admin = stack.admin().await;
    let (_, device) = stack.customer_with_device(&admin, 1_000_000.0).await;
    let warm_up = readings(device, hours_ago(24 * 60), 100, 0.5);
    stack.publish(&warm_up).await;
    stack.wait_counted(device, 100, 50.0).await;
    let balancer_service = stack.service("balancer");
    let active = active_balancer(&balancer_service).expect("one balancer forwards");
    let (monitor, slot) = containers(&stack.service("monitor")).into_iter().next().unwrap();

    let rest = readings(device, hours_ago(24 * 59), 4000, 0.5);
    let streaming = stream(&stack, &rest, 200);
    let killing = async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        docker(&["kill", &monitor]);
        tokio::time::sleep(Duration::from_secs(3)).await;
        docker(&["kill", &active]);
        let killed = Instant::now();
        loop {
            let standby = containers(&balancer_service).into_iter().map(|(id, _)| id).find(|id| *id != active);
            if standby.as_deref().is_some_and(|id| forwarded(id) > 0.0) {
                return killed.elapsed();
            }
            assert!(killed.elapsed() < WAIT, "no balancer took over within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    let ((), takeover) = tokio::join!(streaming, killing);
    println!("monitor {slot} and the active balancer killed mid-stream; the standby forwarded {takeover:?} after");
    stack.wait_counted(device, 4100, 0.5 * 4100.0).await;
    println!("4100 readings published, 4100 counted once each");

    // Swarm replaced both.
    let deadline = Instant::now() + WAIT;
    while containers(&stack.service("monitor")).len() < 3 || containers(&balancer_service).len() < 2 {
        assert!(Instant::now() < deadline, "Swarm did not replace the killed tasks within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stack.wait_for_replicas(&admin, &[1, 2, 3]).await;
}

#[tokio::test]
#[ignore = "needs the stack deployed by scripts/swarm-test.sh"]
async fn a_rolling_update_of_web_and_notifier_fails_no_request_and_the_socket_reconnects_and_replays() {
    let stack = Arc::new(Stack::connect().await);
    let admin = stack.admin().await;
    let (token, device) = stack.customer_with_device(&admin, 1.0).await;

    let client = Arc::new(LiveClient::default());
    let live = tokio::spawn(client.clone().run(stack.clone(), token.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(Mutex::new(Vec::new())));
    let requests = {
        let (stack, token, stop, ok, failed) = (stack.clone(), token.clone(), stop.clone(), ok.clone(), failed.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match stack.http.get(format!("{}/api/me/devices", stack.base)).bearer_auth(&token).send().await {
                    Ok(response) if response.status() == 200 => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(response) => failed.lock().await.push(format!("HTTP {}", response.status())),
                    Err(error) => failed.lock().await.push(error_chain(&error)),
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    // A reading above the limit in a new hour every half second: two alerts each.
    let alerting = {
        let (stack, stop) = (stack.clone(), stop.clone());
        tokio::spawn(async move {
            let mut hour = 24 * 90;
            while !stop.load(Ordering::Relaxed) {
                stack.publish(&readings(device, hours_ago(hour), 1, 2.0)).await;
                hour -= 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };

    let started = Instant::now();
    let updates: Vec<_> = ["web", "notifier"]
        .map(|service| {
            let service = stack.service(service);
            tokio::task::spawn_blocking(move || docker(&["service", "update", "--force", "--detach=false", &service]))
        })
        .into_iter()
        .collect();
    for update in updates {
        update.await.unwrap();
    }
    println!("rolling update of web and notifier took {:?}", started.elapsed());
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    alerting.await.unwrap();
    requests.await.unwrap();

    let stored = alert_ids(&stack, device).await;
    let deadline = Instant::now() + WAIT;
    while *client.alerts.lock().await != stored {
        assert!(Instant::now() < deadline, "the WebSocket client is missing alerts after {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    client.stop.store(true, Ordering::Relaxed);
    live.await.unwrap();
    let failed = failed.lock().await;
    let connections = client.connections.load(Ordering::Relaxed);
    println!(
        "during the update: {} requests answered, {} failed; the socket connected {connections} times and received all {} alerts",
        ok.load(Ordering::Relaxed),
        failed.len(),
        stored.len()
    );
    assert!(
        failed.is_empty(),
        "{} failed requests during the rolling update, the first: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(connections >= 2, "the WebSocket never had to reconnect, so the notifiers were not replaced");
    assert!(stored.len() >= 4, "too few alerts raised during the update to show anything: {}", stored.len());
}

#[tokio::test]
#[ignore = "needs the stack deployed by scripts/swarm-test.sh"]
async fn rotating_the_jwt_secret_as_documented_invalidates_old_tokens_and_new_ones_work() {
    let stack = Stack::connect().await;
    let old = stack.admin().await;
    let (status, _) = stack.call(&old, reqwest::Method::GET, "/api/me", None).await;
    assert_eq!(status, 200);

    // docs/deployment.md, "Rotate a secret".
    let version = "2";
    let secret = format!("{}_jwt_secret_v{version}", stack.name);
    let value = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let mut create = Command::new("docker")
        .args(["secret", "create", &secret, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut create.stdin.take().unwrap(), value.as_bytes()).unwrap();
    assert!(create.wait().unwrap().success(), "docker secret create {secret}");
    let files = setting("EMS_SWARM_COMPOSE_FILES");
    let mut deploy = vec!["stack", "deploy"];
    for file in files.split(' ') {
        deploy.extend(["-c", file]);
    }
    deploy.push(&stack.name);
    let started = Instant::now();
    docker_with(&deploy, &[("JWT_SECRET_VERSION", version)]);

    // Once every web and notifier task runs with the new secret: old tokens are refused
    // everywhere, new ones accepted everywhere (Traefik spreads the calls over the replicas).
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut unanswered = Vec::new();
    loop {
        assert!(Instant::now() < deadline, "the rotation did not settle within 300 s");
        let new = match stack.try_login("admin", &setting("EMS_SWARM_ADMIN_PASSWORD")).await {
            Ok(token) => token,
            Err(error) => {
                unanswered.push(error);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut settled = true;
        for _ in 0..8 {
            let old_status = stack.try_call(&old, reqwest::Method::GET, "/api/me", None).await;
            let new_status = stack.try_call(&new, reqwest::Method::GET, "/api/me", None).await;
            settled &= matches!(old_status, Ok((401, _))) && matches!(new_status, Ok((200, _)));
            unanswered.extend([old_status, new_status].into_iter().filter_map(Result::err));
        }
        let socket = open_socket(&stack, &new, 0).await;
        if settled && socket.is_some() && updated(&stack, &["web", "notifier", "support"]) {
            break;
        }
        assert!(Instant::now() < deadline, "the rotation did not settle within 300 s");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    println!(
        "JWT secret rotated (v1 -> v{version}) in {:?}; {} requests unanswered while the tasks were replaced{}",
        started.elapsed(),
        unanswered.len(),
        unanswered.first().map(|error| format!(", the first: {error}")).unwrap_or_default()
    );
    let mut socket = open_socket(&stack, &stack.admin().await, 0).await.unwrap();
    let _ = socket.send(Message::Close(None)).await;
    // No task uses v1 any more, so it can go.
    docker(&["secret", "rm", &format!("{}_jwt_secret_v1", stack.name)]);
}

/// Whether every task of these services runs the current spec (its update has finished).
fn updated(stack: &Stack, services: &[&str]) -> bool {
    services.iter().all(|service| {
        let state = docker(&[
            "service",
            "inspect",
            "-f",
            "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
            &stack.service(service),
        ]);
        matches!(state.trim(), "" | "completed")
    })
}

#[tokio::test]
#[ignore = "needs the stack deployed by scripts/swarm-test.sh"]
async fn through_traefik_the_push_key_a_tariffs_cost_and_the_early_warning_switch_work() {
    let stack = Stack::connect().await;
    let admin = stack.admin().await;
    // Web Push: the VAPID key the stack's `ems seed` made.
    let (status, key) = stack.call(&admin, reqwest::Method::GET, "/api/push/key", None).await;
    assert_eq!(status, 200, "{key}");
    let point =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, key["public_key"].as_str().unwrap())
            .unwrap();
    assert_eq!(point.len(), 65, "an uncompressed P-256 point");

    // Cost: a flat tariff on the customer, readings of an hour three hours ago.
    let (token, device) = stack.customer_with_device(&admin, 5.0).await;
    let (_, me) = stack.call(&token, reqwest::Method::GET, "/api/me", None).await;
    let path = format!("/api/users/{}/tariff", me["id"].as_str().unwrap());
    let (status, tariff) =
        stack.call(&admin, reqwest::Method::PUT, &path, Some(json!({"currency": "RON", "flat_price": "0.85"}))).await;
    assert_eq!(status, 200, "setting a tariff: {tariff}");
    let hour = hours_ago(3);
    stack.publish(&readings(device, hour, 6, 0.5)).await;
    stack.wait_counted(device, 6, 3.0).await;
    let query = format!(
        "/api/devices/{device}/consumption?from={}&to={}&step=hour",
        hour.format("%Y-%m-%dT%H:%M:%SZ"),
        (hour + TimeDelta::hours(1)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    let (status, series) = stack.call(&token, reqwest::Method::GET, &query, None).await;
    assert_eq!(status, 200, "{series}");
    assert_eq!(series["currency"], "RON");
    let cost: f64 = series["total_cost"]
        .as_str()
        .map_or_else(|| series["total_cost"].as_f64().unwrap(), |text| text.parse().unwrap());
    assert!((cost - 2.55).abs() < 1e-9, "3 kWh at 0.85: {series}");

    // Early warnings: the owner turns them off.
    let (status, changed) = stack
        .call(
            &token,
            reqwest::Method::PUT,
            &format!("/api/devices/{device}/forecast-alerts"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!((status, &changed["forecast_alerts"]), (200, &json!(false)), "{changed}");
}

#[tokio::test]
#[ignore = "needs the stack deployed by scripts/swarm-test.sh"]
async fn through_traefik_support_answers_by_meaning_and_an_administrator_finds_takes_and_hands_back_the_conversation() {
    let stack = Stack::connect().await;
    let admin = stack.admin().await;
    let (token, _) = stack.customer_with_device(&admin, 5.0).await;
    let (_, me) = stack.call(&token, reqwest::Method::GET, "/api/me", None).await;
    let customer = me["id"].as_str().unwrap().to_owned();
    let mut socket = open_socket(&stack, &token, 0).await.expect("the WebSocket opens through Traefik");
    // No keyword rule knows this question; the image's embedding model finds the FAQ answer.
    let ask = json!({"type": "chat.send", "client_id": "swarm-meaning-1", "text": "Is there an app for my iPhone?"});
    socket.send(Message::Text(ask.to_string().into())).await.unwrap();
    // The support tasks load the model before they take a message: allow for that after a deploy.
    let answer = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            if let Some(Ok(Message::Text(text))) = socket.next().await {
                let frame: Json = serde_json::from_str(&text).unwrap();
                if frame["type"] == "chat.message" && frame["message"]["source"] != "customer" {
                    return frame;
                }
            }
        }
    })
    .await
    .expect("an answer within two minutes");
    assert_eq!(answer["message"]["source"], "rule", "{answer}");
    assert!(answer["message"]["body"].as_str().unwrap().contains("installable web app"), "{answer}");

    // Several administrators: the inbox finds it by a fragment of the message, one takes it, and
    // handing it back releases it.
    let (status, inbox) =
        stack.call(&admin, reqwest::Method::GET, "/api/support/conversations?q=iphon&assigned=all", None).await;
    assert_eq!(status, 200, "{inbox}");
    assert!(inbox["items"].as_array().unwrap().iter().any(|item| item["customer_id"] == customer), "{inbox}");
    let path = format!("/api/support/conversations/{customer}/takeover");
    let (status, taken) = stack.call(&admin, reqwest::Method::POST, &path, None).await;
    assert_eq!(status, 200, "{taken}");
    let path = format!("/api/support/conversations/{customer}/handback");
    let (status, back) = stack.call(&admin, reqwest::Method::POST, &path, None).await;
    assert_eq!(status, 200, "{back}");
}

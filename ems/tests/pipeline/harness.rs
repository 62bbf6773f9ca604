//! A pipeline under test: a fresh database, a random broker namespace, the real `ems balancer`
//! and `ems monitor` processes (so they can be SIGKILLed), and a confirming publisher. By default
//! on the shared local services; [`Pipeline::on`] takes others (the outage tests' own servers).

use std::{
    collections::{BTreeMap, HashMap},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use ems_common::{
    broker::{BrokerArgs, QueueType},
    testing::TestDatabase,
};
use ems_ingress::{Reading, topology};
use futures::StreamExt;
use lapin::{
    Channel, Connection,
    options::{BasicAckOptions, BasicGetOptions, ConfirmSelectOptions},
};
use sqlx::PgPool;
use uuid::Uuid;

pub const WAIT: Duration = Duration::from_secs(90);

/// The JWT secret of every process a pipeline starts, for tests that mint their own tokens.
pub const JWT_SECRET: &str = "pipeline-test-secret-pipeline-test-secret";

/// Where the pipeline's PostgreSQL, RabbitMQ and NATS are.
pub struct Services {
    /// A URL naming any database on the server; each pipeline creates its own database there.
    pub database_url: String,
    pub amqp_url: String,
    pub nats_url: String,
}

impl Services {
    /// The shared local services (or those of `EMS_TEST_DATABASE_URL`, `EMS_AMQP_URL` and
    /// `EMS_NATS_URL`).
    pub fn shared() -> Self {
        let broker = BrokerArgs::local("");
        let database_url =
            std::env::var("EMS_TEST_DATABASE_URL").unwrap_or_else(|_| ems_common::config::DEFAULT_DATABASE_URL.into());
        Self { database_url, amqp_url: broker.amqp_url, nats_url: broker.nats_url }
    }
}

pub struct Pipeline {
    pub pool: PgPool,
    pub broker: BrokerArgs,
    pub database_url: String,
    pub channel: Channel,
    /// Kept open for `channel`'s sake.
    _amqp: Connection,
    pub nats: async_nats::Client,
    processes: HashMap<String, Child>,
    /// The HTTP port of each running process, to read its metrics and readiness.
    ports: HashMap<String, u16>,
    /// The names of the running balancers.
    balancers: std::collections::HashSet<String>,
    /// A device whose readings mark how far the pipeline has got; left out of the totals.
    sentinel: Uuid,
    sentinels_sent: i64,
    /// Dropped after the processes are stopped (fields drop after `Drop::drop`).
    _database: TestDatabase,
}

pub struct Device {
    pub id: Uuid,
    pub owner: Uuid,
    pub limit: f64,
}

impl Pipeline {
    pub async fn new() -> Self {
        Self::on(Services::shared()).await
    }

    pub async fn on(services: Services) -> Self {
        Self::with_queue_type(services, QueueType::Classic).await
    }

    /// A pipeline whose queues, and those of every process it starts, are of `queue_type`.
    pub async fn with_queue_type(services: Services, queue_type: QueueType) -> Self {
        let database = TestDatabase::create_on(&services.database_url).await;
        let (pool, database_url) = (database.pool.clone(), database.url.clone());

        let mut broker = BrokerArgs::local(&format!("t{}", &Uuid::new_v4().simple().to_string()[..12]));
        (broker.amqp_url, broker.nats_url) = (services.amqp_url, services.nats_url);
        broker.queue_type = queue_type;
        let amqp = broker.amqp("pipeline-test").await.unwrap();
        let channel = amqp.create_channel().await.unwrap();
        channel.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
        topology::declare(&channel, &broker.names()).await.unwrap();
        let nats = broker.nats("pipeline-test").await.unwrap();
        let sentinel = Uuid::new_v4();
        sqlx::query("INSERT INTO devices (id, name, max_hourly_kwh) VALUES ($1, 'Sentinel', 1000000)")
            .bind(sentinel)
            .execute(&pool)
            .await
            .unwrap();
        Self {
            pool,
            broker,
            database_url,
            channel,
            _amqp: amqp,
            nats,
            processes: HashMap::new(),
            ports: HashMap::new(),
            balancers: Default::default(),
            sentinel,
            sentinels_sent: 0,
            _database: database,
        }
    }

    /// Waits until everything published so far has been processed: the balancer routes in
    /// order and each replica consumes its queue in order, so once sentinel readings sent after
    /// everything else are stored (enough of them to reach every replica), nothing earlier is
    /// still on its way.
    pub async fn settle(&mut self, replicas: usize) {
        let count = 4 * replicas as i64;
        let base = Utc::now() - TimeDelta::hours(1);
        let sentinels: Vec<Reading> = (0..count)
            .map(|index| Reading {
                device_id: self.sentinel,
                timestamp: base + TimeDelta::milliseconds(self.sentinels_sent + index),
                measurement_value: 0.0,
                interval_s: 600,
            })
            .collect();
        self.sentinels_sent += count;
        self.publish(&sentinels).await;
        let deadline = Instant::now() + WAIT;
        loop {
            let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM readings WHERE device_id = $1")
                .bind(self.sentinel)
                .fetch_one(&self.pool)
                .await
                .unwrap();
            if stored == self.sentinels_sent {
                return;
            }
            assert!(Instant::now() < deadline, "the pipeline did not settle within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A customer with devices of the given hourly limits.
    pub async fn devices(&self, limits: &[f64]) -> Vec<Device> {
        let owner = Uuid::new_v4();
        sqlx::query("INSERT INTO users (id, username, display_name, password_hash) VALUES ($1, $2, 'Test Owner', 'x')")
            .bind(owner)
            .bind(format!("owner-{}", &owner.simple().to_string()[..8]))
            .execute(&self.pool)
            .await
            .unwrap();
        let mut devices = Vec::new();
        for (index, limit) in limits.iter().enumerate() {
            let id = Uuid::new_v4();
            sqlx::query("INSERT INTO devices (id, name, max_hourly_kwh, owner_id) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(format!("Device {index}"))
                .bind(ems_common::energy::Kwh::from_f64(*limit))
                .bind(owner)
                .execute(&self.pool)
                .await
                .unwrap();
            devices.push(Device { id, owner, limit: *limit });
        }
        devices
    }

    /// An `ems` command on this pipeline's database and broker namespace; `--listen` when a port
    /// is given.
    pub fn command(&self, args: &[&str], port: Option<u16>) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ems"));
        command.args(args).args(["--namespace", &self.broker.namespace, "--log-format", "json"]);
        if let Some(port) = port {
            command.args(["--listen", &format!("127.0.0.1:{port}")]);
        }
        command
            .env("EMS_DATABASE_URL", &self.database_url)
            .env("EMS_AMQP_URL", &self.broker.amqp_url)
            .env("EMS_NATS_URL", &self.broker.nats_url)
            .env("EMS_QUEUE_TYPE", self.broker.queue_type.as_str())
            .env("EMS_JWT_SECRET", JWT_SECRET)
            .env("EMS_LOG", "warn,ems_balancer=info,ems_monitors=info")
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("EMS_TEST_LOGS").is_some() { Stdio::inherit() } else { Stdio::null() });
        command
    }

    /// Starts (or restarts) a named process: `monitor-K`, or else a balancer with extra flags
    /// (which may replace `--replica-timeout`).
    pub fn start(&mut self, name: &str, extra: &[&str]) {
        let mut args: Vec<&str> = Vec::new();
        let replica;
        if let Some(number) = name.strip_prefix("monitor-") {
            replica = number.to_owned();
            args.extend(["monitor", "--replica", &replica, "--heartbeat-interval", "300ms"]);
        } else {
            self.balancers.insert(name.to_owned());
            args.extend(["balancer", "--batch-linger", "10ms"]);
            if !extra.contains(&"--replica-timeout") {
                args.extend(["--replica-timeout", "1500ms"]);
            }
        }
        args.extend(extra);
        self.spawn(name, &args);
    }

    /// Starts (or restarts) a named `ems` process with these arguments on a free HTTP port.
    pub fn spawn(&mut self, name: &str, args: &[&str]) {
        // A free port now, for the process to bind, so that its metrics and readiness can be read.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        self.ports.insert(name.to_owned(), port);
        let child = self.command(args, Some(port)).spawn().expect("start ems");
        if let Some(mut old) = self.processes.insert(name.to_owned(), child) {
            let _ = old.kill();
            let _ = old.wait();
        }
    }

    /// The HTTP port of a running process.
    #[allow(dead_code)] // for the outage tests, which share this harness
    pub fn port(&self, name: &str) -> u16 {
        self.ports[name]
    }

    /// Whether the named process is still running (it has not exited on its own).
    #[allow(dead_code)] // for the outage tests, which share this harness
    pub fn is_running(&mut self, name: &str) -> bool {
        self.processes.get_mut(name).is_some_and(|child| child.try_wait().unwrap().is_none())
    }

    pub fn kill(&mut self, name: &str) {
        self.ports.remove(name);
        self.balancers.remove(name);
        let mut child = self.processes.remove(name).expect("a running process");
        child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
        child.wait().unwrap();
    }

    /// Starts monitors 1 to `monitors` and a balancer with `balancer_flags`, and waits until the
    /// monitors are heard.
    pub async fn run(&mut self, monitors: u32, balancer_flags: &[&str]) {
        for replica in 1..=monitors {
            self.start(&format!("monitor-{replica}"), &[]);
        }
        self.start("balancer", balancer_flags);
        self.wait_for_heartbeats(&(1..=monitors).collect::<Vec<_>>()).await;
    }

    /// Waits until the balancer sees these replicas: a probe reading per replica is not needed;
    /// instead, watch heartbeats until every replica has been heard.
    pub async fn wait_for_heartbeats(&self, replicas: &[u32]) {
        let mut heartbeats = self.nats.subscribe(self.broker.names().heartbeat_subject()).await.unwrap();
        let mut heard = std::collections::HashSet::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !replicas.iter().all(|replica| heard.contains(replica)) {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let message =
                tokio::time::timeout(remaining, heartbeats.next()).await.expect("heartbeats within 60s").unwrap();
            let heartbeat: ems_common::contracts::Heartbeat = serde_json::from_slice(&message.payload).unwrap();
            heard.insert(heartbeat.replica);
        }
        // Heard here is not yet in the rotation: wait until every running balancer counts them
        // among its live replicas.
        let names: Vec<String> = self.balancers.iter().cloned().collect();
        for name in names {
            self.wait_for_metric(&name, "balancer_live_replicas ", |live| live >= replicas.len() as f64).await;
        }
    }

    /// Waits until the value of the metric line starting with `line` (name and labels, then a
    /// space) on the named process's `/metrics` satisfies `wanted`; returns that value.
    pub async fn wait_for_metric(&self, process: &str, line: &str, wanted: impl Fn(f64) -> bool) -> f64 {
        let port = self.ports[process];
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = match http.get(format!("http://127.0.0.1:{port}/metrics")).send().await {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(_) => String::new(), // still starting
            };
            let value = text
                .lines()
                .find_map(|metric| metric.strip_prefix(line))
                .and_then(|value| value.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            if wanted(value) {
                return value;
            }
            assert!(Instant::now() < deadline, "{process}'s {line}is {value} after 60s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Publishes messages to `readings` with pipelined confirms; returns when all are confirmed.
    pub async fn publish_many(&self, bodies: impl IntoIterator<Item = Vec<u8>>) {
        let queue = self.broker.names().readings_queue();
        ems_ingress::topology::publish_confirmed(&self.channel, &queue, bodies, 500).await.unwrap();
    }

    pub async fn publish(&self, readings: &[Reading]) {
        self.publish_many(readings.iter().map(Reading::to_json)).await;
    }

    /// Waits until the stored readings reach `count`, then returns the hourly totals.
    pub async fn wait_for_readings(&self, count: i64) -> BTreeMap<(Uuid, DateTime<Utc>), f64> {
        let deadline = Instant::now() + WAIT;
        loop {
            let stored: i64 = sqlx::query_scalar(
                "SELECT COALESCE(sum(readings), 0)::bigint FROM hourly_consumption WHERE device_id <> $1",
            )
            .bind(self.sentinel)
            .fetch_one(&self.pool)
            .await
            .unwrap();
            assert!(stored <= count, "{stored} readings counted, more than the {count} sent: something counted twice");
            if stored == count {
                break;
            }
            assert!(Instant::now() < deadline, "only {stored} of {count} readings stored within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.totals().await
    }

    pub async fn totals(&self) -> BTreeMap<(Uuid, DateTime<Utc>), f64> {
        let rows: Vec<(Uuid, DateTime<Utc>, f64)> =
            sqlx::query_as("SELECT device_id, hour, kwh::float8 FROM hourly_consumption WHERE device_id <> $1")
                .bind(self.sentinel)
                .fetch_all(&self.pool)
                .await
                .unwrap();
        rows.into_iter().map(|(device, hour, kwh)| ((device, hour), kwh)).collect()
    }

    /// Takes every message from `readings.invalid`, returning each body with its reason.
    pub async fn take_invalid(&self) -> Vec<(Vec<u8>, String)> {
        let queue = self.broker.names().invalid_queue();
        let mut taken = Vec::new();
        while let Some(message) =
            self.channel.basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false }).await.unwrap()
        {
            let reason = topology::reason_of(&message.delivery.properties).unwrap_or_default();
            taken.push((message.delivery.data.clone(), reason));
            message.delivery.ack(BasicAckOptions::default()).await.unwrap();
        }
        taken
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        for (_, mut child) in self.processes.drain() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let (names, amqp_url) = (self.broker.names(), self.broker.amqp_url.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                // Remove this test's queues so the broker does not collect them.
                if let Ok(connection) = Connection::connect(&amqp_url, lapin::ConnectionProperties::default()).await
                    && let Ok(channel) = connection.create_channel().await
                {
                    let mut queues = vec![names.readings_queue(), names.invalid_queue()];
                    queues.extend((1..=8).map(|replica| names.ingest_queue(replica)));
                    for queue in queues {
                        let _ = channel.queue_delete(queue.as_str().into(), Default::default()).await;
                    }
                }
            })
        })
        .join();
    }
}

/// Readings of `devices` every 10 minutes from `start`, `steps` of them, with values from `value`.
pub fn series(
    devices: &[Device],
    start: DateTime<Utc>,
    steps: usize,
    value: impl Fn(usize, usize) -> f64,
) -> Vec<Reading> {
    let mut readings = Vec::new();
    for step in 0..steps {
        for (index, device) in devices.iter().enumerate() {
            readings.push(Reading {
                device_id: device.id,
                timestamp: start + TimeDelta::minutes(10 * step as i64 + 10),
                measurement_value: value(index, step),
                interval_s: 600,
            });
        }
    }
    readings
}

pub fn hour_of(timestamp: DateTime<Utc>) -> DateTime<Utc> {
    timestamp.duration_trunc(TimeDelta::hours(1)).unwrap()
}

/// The hourly totals the contract defines, computed independently of the monitors.
pub fn ground_truth(readings: &[Reading]) -> BTreeMap<(Uuid, DateTime<Utc>), f64> {
    let mut totals = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for reading in readings {
        if seen.insert((reading.device_id, reading.timestamp)) {
            *totals.entry((reading.device_id, hour_of(reading.timestamp))).or_insert(0.0) += reading.measurement_value;
        }
    }
    totals
}

pub fn assert_same_totals(
    actual: &BTreeMap<(Uuid, DateTime<Utc>), f64>,
    expected: &BTreeMap<(Uuid, DateTime<Utc>), f64>,
) {
    assert_eq!(actual.len(), expected.len(), "number of device-hours");
    for (key, want) in expected {
        let got = actual.get(key).unwrap_or_else(|| panic!("no total for {key:?}"));
        assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{key:?}: stored {got}, expected {want}");
    }
}

/// A fixed start an hour-aligned few days ago, so readings are recent but never in the future.
pub fn start_hours_ago(hours: i64) -> DateTime<Utc> {
    hour_of(Utc::now()) - TimeDelta::hours(hours)
}

//! `ems bench pipeline`: in one run on one machine,
//! 1. the raw broker single hop: persistent messages with pipelined publisher confirms, one
//!    consumer with a prefetch in the hundreds acknowledging with `multiple`;
//! 2. the full pipeline: publisher, balancer, monitor replicas and PostgreSQL, until every reading
//!    is committed;
//! 3. publish-to-alert latency at half the pipeline's maximum rate (alert received on NATS,
//!    which happens after its commit);
//! 4. where that latency goes, stage by stage, from the balancer's and monitors' own histograms;
//! 5. peak resident memory of the balancer and each monitor.
//!
//! The balancer and monitors run as child processes of this same binary, as in production.

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use clap::Args;
use ems_common::{
    broker::BrokerArgs,
    config::{DatabaseArgs, DatabaseUrl},
    contracts::AlertEvent,
    db,
};
use ems_ingress::{Reading, topology};
use futures::{FutureExt, StreamExt, stream::FuturesUnordered};
use lapin::{
    Channel,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicQosOptions, ConfirmSelectOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::FieldTable,
};
use sqlx::{PgPool, postgres::PgConnectOptions};

use uuid::Uuid;

use crate::stats::{CpuTimes, Histogram, Processes, peak_rss_kib, percentile};

#[derive(Args, Clone, Debug)]
pub struct PipelineBenchArgs {
    /// The PostgreSQL server to use; the benchmark creates and drops its own database there.
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub broker: BrokerArgs,

    /// Readings sent in each throughput run.
    #[arg(long, default_value_t = 100_000)]
    pub readings: usize,

    /// Devices the readings are spread over.
    #[arg(long, default_value_t = 200)]
    pub devices: usize,

    /// Monitor replicas.
    #[arg(long, default_value_t = 3)]
    pub monitors: u32,

    /// Length of the latency run, in seconds.
    #[arg(long, default_value_t = 10)]
    pub latency_seconds: u64,

    /// Rounds of the raw hop and the pipeline, one after the other: the figures are medians,
    /// so one round disturbed by the machine does not decide the ratio.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,
}

/// Confirms in flight at most, for both the raw hop and the pipeline's publisher.
const MAX_IN_FLIGHT: usize = 2000;
/// The raw hop's consumer prefetch: "in the hundreds", as a RabbitMQ user would tune it.
const RAW_PREFETCH: u16 = 500;
/// The raw hop's consumer acknowledges this many deliveries with one frame.
const RAW_ACK_EVERY: usize = 100;
/// One reading in this many is a latency probe during the latency run.
const PROBE_EVERY: usize = 10;

/// The stages a reading passes on its way to an alert, by the histogram that times each in the
/// balancer's and the monitors' `/metrics`.
const STAGES: &[(&str, &str)] = &[
    ("balancer_reading_delay_seconds", "publish to the balancer (RabbitMQ)"),
    ("balancer_batch_linger_seconds", "a batch waits in the balancer"),
    ("monitor_batch_delay_seconds", "balancer to a monitor (RabbitMQ, queue)"),
    ("monitor_store_seconds", "the monitor's transaction"),
    ("monitor_commit_seconds", "  of which its commit"),
    ("monitor_batch_seconds", "a batch in the monitor, NATS included"),
];

/// One stage's share of the latency run: how many it timed, its p50 and p99.
pub struct Stage {
    pub name: &'static str,
    pub count: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// When each probe (device, hour) was published.
type SendTimes = std::sync::Arc<std::sync::Mutex<HashMap<(Uuid, DateTime<Utc>), Instant>>>;

pub struct Report {
    pub readings: usize,
    /// (raw hop messages/s, pipeline readings/s) of each round, in order.
    pub rounds: Vec<(f64, f64)>,
    /// Medians over the rounds.
    pub raw_per_second: f64,
    pub pipeline_per_second: f64,
    /// The median of the rounds' ratios.
    pub ratio: f64,
    pub latency_rate: f64,
    pub latency_samples: usize,
    pub latency_p50: Duration,
    pub latency_p99: Duration,
    /// The raw single hop's latency at the same rate, publish to delivery.
    pub raw_latency_p50: Duration,
    pub raw_latency_p99: Duration,
    /// The latency run's stages, in the order a reading passes them.
    pub stages: Vec<Stage>,
    pub peak_rss_kib: Vec<(String, u64)>,
    /// Cores each part kept busy during the pipeline run, busiest first.
    pub pipeline_cores: Vec<(String, f64)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            out,
            "EMS pipeline benchmark ({} readings per run, median of {} rounds)",
            self.readings,
            self.rounds.len()
        )?;
        writeln!(out, "  raw broker single hop   {:>10.0} messages/s", self.raw_per_second)?;
        writeln!(out, "  full pipeline           {:>10.0} readings/s", self.pipeline_per_second)?;
        writeln!(out, "  pipeline / raw hop      {:>10.2}", self.ratio)?;
        let rounds: Vec<String> = self
            .rounds
            .iter()
            .map(|(raw, pipeline)| format!("{pipeline:.0}/{raw:.0} = {:.2}", pipeline / raw))
            .collect();
        writeln!(out, "  rounds (pipeline/raw hop): {}", rounds.join(", "))?;
        writeln!(
            out,
            "  publish-to-alert latency at {:.0} readings/s ({} alerts): p50 {:.1} ms, p99 {:.1} ms",
            self.latency_rate,
            self.latency_samples,
            self.latency_p50.as_secs_f64() * 1000.0,
            self.latency_p99.as_secs_f64() * 1000.0
        )?;
        writeln!(
            out,
            "  raw broker single hop at the same rate: p50 {:.1} ms, p99 {:.1} ms (publish to delivery)",
            self.raw_latency_p50.as_secs_f64() * 1000.0,
            self.raw_latency_p99.as_secs_f64() * 1000.0
        )?;
        if !self.stages.is_empty() {
            writeln!(out, "  its stages (p50 / p99 of what each service timed, from its histograms):")?;
        }
        for stage in &self.stages {
            writeln!(
                out,
                "    {:<42} {:>6.1} / {:>6.1} ms  ({} timed)",
                stage.name,
                stage.p50.as_secs_f64() * 1000.0,
                stage.p99.as_secs_f64() * 1000.0,
                stage.count
            )?;
        }
        let busy: Vec<String> = self.pipeline_cores.iter().map(|(part, cores)| format!("{part} {cores:.2}")).collect();
        writeln!(out, "  cores busy during the pipeline run: {}", busy.join(", "))?;
        for (process, kib) in &self.peak_rss_kib {
            writeln!(out, "  peak RSS {process:<14} {:>8.1} MiB", *kib as f64 / 1024.0)?;
        }
        Ok(())
    }
}

/// What [`Bench::measure_pipeline`] found.
struct Measured {
    /// (raw hop messages/s, pipeline readings/s) of each round.
    rounds: Vec<(f64, f64)>,
    cores: Vec<(String, f64)>,
    /// The latency run's rate.
    rate: f64,
    latencies: Vec<Duration>,
    raw_latencies: Vec<Duration>,
    stages: Vec<Stage>,
}

/// Where the services' `/metrics` are.
struct MetricsUrls {
    monitors: Vec<String>,
    balancer: String,
}

impl MetricsUrls {
    fn all(&self) -> impl Iterator<Item = &String> {
        self.monitors.iter().chain([&self.balancer])
    }
}

struct Bench {
    args: PipelineBenchArgs,
    broker: BrokerArgs,
    pool: PgPool,
    database_url: String,
    channel: Channel,
    nats: async_nats::Client,
    devices: Vec<Uuid>,
    probes: Vec<Uuid>,
    http: reqwest::Client,
}

pub async fn run(args: PipelineBenchArgs) -> anyhow::Result<Report> {
    let suffix = Uuid::new_v4().simple().to_string()[..10].to_owned();
    let database = format!("ems_bench_{suffix}");
    let options = args.database.database_url.options.clone().database(&database);
    db::ensure_database_exists(&DatabaseUrl::new(options.clone())).await?;
    let result = run_in(&args, &suffix, &options).await;
    db::drop_database(&options, &database).await.ok();
    result
}

/// The same benchmark in an existing database (one full of history, say), which it leaves in
/// place: its devices and readings are added beside what is there.
pub async fn run_on(args: PipelineBenchArgs, options: &PgConnectOptions) -> anyhow::Result<Report> {
    let suffix = Uuid::new_v4().simple().to_string()[..10].to_owned();
    run_in(&args, &suffix, options).await
}

async fn run_in(args: &PipelineBenchArgs, suffix: &str, options: &PgConnectOptions) -> anyhow::Result<Report> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect_with(options.clone()).await?;
    db::migrate(&pool).await?;
    let mut broker = args.broker.clone();
    broker.namespace = format!("bench{suffix}");
    let amqp = broker.amqp("ems-bench").await?;
    let channel = amqp.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    topology::declare(&channel, &broker.names()).await?;
    let nats = broker.nats("ems-bench").await?;
    let database_url = args.database.database_url.url_for(options.get_database().unwrap_or_default());

    let (devices, probes) = create_devices(&pool, args.devices, suffix).await?;
    let http = reqwest::Client::new();
    let bench = Bench { args: args.clone(), broker, pool, database_url, channel, nats, devices, probes, http };

    let (mut children, metrics_urls) = bench.start_pipeline()?;
    let monitors = children.iter().filter(|(name, _)| name.starts_with("monitor")).map(|(_, child)| child.id());
    let balancer = children.iter().filter(|(name, _)| name == "balancer").map(|(_, child)| child.id());
    let groups = vec![
        ("bench (publisher)".to_owned(), Processes::Pids(vec![std::process::id()])),
        ("balancer".to_owned(), Processes::Pids(balancer.collect())),
        ("monitors".to_owned(), Processes::Pids(monitors.collect())),
        ("PostgreSQL".to_owned(), Processes::Named("postgres")),
        ("RabbitMQ".to_owned(), Processes::Named("beam.smp")),
        ("NATS".to_owned(), Processes::Named("nats-server")),
    ];
    let outcome = bench.measure_pipeline(&amqp, &groups, &metrics_urls).await;
    let peak_rss_kib =
        children.iter().map(|(name, child)| (name.clone(), peak_rss_kib(child.id()).unwrap_or_default())).collect();
    for (_, child) in &mut children {
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    }
    for (_, child) in &mut children {
        let _ = child.wait();
    }
    bench.cleanup_queues().await;
    amqp.close(200, "benchmark done".into()).await.ok();
    let Measured { rounds, cores: pipeline_cores, rate: latency_rate, mut latencies, mut raw_latencies, stages } =
        outcome?;
    latencies.sort();
    raw_latencies.sort();
    Ok(Report {
        readings: args.readings,
        raw_per_second: median(rounds.iter().map(|(raw, _)| *raw)),
        pipeline_per_second: median(rounds.iter().map(|(_, pipeline)| *pipeline)),
        ratio: median(rounds.iter().map(|(raw, pipeline)| pipeline / raw)),
        rounds,
        latency_rate,
        latency_samples: latencies.len(),
        latency_p50: percentile(&latencies, 0.50),
        latency_p99: percentile(&latencies, 0.99),
        raw_latency_p50: percentile(&raw_latencies, 0.50),
        raw_latency_p99: percentile(&raw_latencies, 0.99),
        stages,
        peak_rss_kib,
        pipeline_cores,
    })
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Devices with a limit nobody reaches, and probe devices whose every reading is over the limit.
async fn create_devices(pool: &PgPool, count: usize, suffix: &str) -> anyhow::Result<(Vec<Uuid>, Vec<Uuid>)> {
    let owner = Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, username, display_name, password_hash) VALUES ($1, $2, 'Bench', 'x')")
        .bind(owner)
        .bind(format!("bench-{suffix}"))
        .execute(pool)
        .await?;
    let devices: Vec<Uuid> = (0..count).map(|_| Uuid::new_v4()).collect();
    let probes: Vec<Uuid> = (0..count).map(|_| Uuid::new_v4()).collect();
    for (ids, limit) in [(&devices, 1_000_000.0), (&probes, 0.001)] {
        sqlx::query(
            "INSERT INTO devices (id, name, max_hourly_kwh, owner_id) \
             SELECT id, 'bench ' || id, $2, $3 FROM UNNEST($1::uuid[]) AS id",
        )
        .bind(ids)
        .bind(limit)
        .bind(owner)
        .execute(pool)
        .await?;
    }
    Ok((devices, probes))
}

impl Bench {
    /// The i-th throughput reading: devices in turn, each going back 10 minutes per round.
    /// Reading `index` of `round`: the devices in turn, ten minutes earlier each time round. Each
    /// round is `round` seconds earlier again, so the rounds write the same devices' same hours
    /// (as meters do) with readings of their own.
    fn reading(&self, round: usize, index: usize) -> Reading {
        let base = Utc::now().duration_trunc(TimeDelta::hours(1)).expect("hour") - TimeDelta::hours(1);
        let devices = &self.devices;
        Reading {
            device_id: devices[index % devices.len()],
            timestamp: base
                - TimeDelta::minutes(10 * (index / devices.len()) as i64)
                - TimeDelta::seconds(round as i64),
            measurement_value: 0.1,
            interval_s: 600,
        }
    }

    async fn publish_all(&self, queue: &str, bodies: impl Iterator<Item = Vec<u8>>) -> anyhow::Result<()> {
        topology::publish_confirmed(&self.channel, queue, bodies, MAX_IN_FLIGHT).await?;
        Ok(())
    }

    async fn raw_hop(&self, amqp: &lapin::Connection) -> anyhow::Result<f64> {
        let queue = format!("{}.bench.raw", self.broker.namespace);
        let total = self.args.readings;
        let receiver = self.raw_consumer(amqp, &queue, total).await?;
        let started = Instant::now();
        self.publish_all(&queue, (0..total).map(|index| self.reading(0, index).to_json())).await?;
        let (finished, _) = receiver.await??;
        self.channel.queue_delete(queue.as_str().into(), QueueDeleteOptions::default()).await.ok();
        Ok(total as f64 / (finished - started).as_secs_f64())
    }

    /// A consumer of `queue` (declared as the pipeline's queues are, so that the raw hop compares
    /// like with like) that takes `total` messages, acknowledging a hundred with one frame, and
    /// returns when it received the last and how long each had travelled (by its sent-at).
    async fn raw_consumer(
        &self,
        amqp: &lapin::Connection,
        queue: &str,
        total: usize,
    ) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<(Instant, Vec<Duration>)>>> {
        let consumer_channel = amqp.create_channel().await?;
        let durable = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
        let arguments = topology::queue_arguments(self.broker.queue_type);
        consumer_channel.queue_declare(queue.into(), durable, arguments).await?;
        consumer_channel.basic_qos(RAW_PREFETCH, BasicQosOptions::default()).await?;
        let mut consumer = consumer_channel
            .basic_consume(queue.into(), "raw".into(), BasicConsumeOptions::default(), FieldTable::default())
            .await?;
        Ok(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(total);
            for received in 1..=total {
                let delivery = consumer.next().await.context("consumer closed")??;
                latencies.extend(topology::since_sent(&delivery.properties));
                // One ack frame settles the last hundred deliveries (the prefetch is larger).
                if received.is_multiple_of(RAW_ACK_EVERY) || received == total {
                    consumer_channel.basic_ack(delivery.delivery_tag, BasicAckOptions { multiple: true }).await?;
                }
            }
            consumer_channel.close(200, "done".into()).await.ok();
            anyhow::Ok((Instant::now(), latencies))
        }))
    }

    /// The balancer and the monitors, and the `/metrics` address of each: the monitors' first,
    /// the balancer's last.
    #[allow(clippy::type_complexity)]
    fn start_pipeline(&self) -> anyhow::Result<(Vec<(String, Child)>, MetricsUrls)> {
        let exe = std::env::current_exe().context("finding the ems binary")?;
        let common = ["--namespace", &self.broker.namespace, "--log", "warn"];
        let mut children = Vec::new();
        let mut monitor_urls = Vec::new();
        let mut spawn = |name: String, args: Vec<String>| -> anyhow::Result<()> {
            let child = Command::new(&exe)
                .args(args)
                .args(common)
                .env("EMS_DATABASE_URL", &self.database_url)
                .env("EMS_AMQP_URL", &self.broker.amqp_url)
                .env("EMS_NATS_URL", &self.broker.nats_url)
                .stdout(Stdio::null())
                .spawn()
                .with_context(|| format!("starting {name}"))?;
            children.push((name, child));
            Ok(())
        };
        // Ports free a moment ago: a monitor's /metrics tells how many readings it stored, and
        // every service's how long each stage took.
        let free_address = || -> anyhow::Result<String> {
            Ok(format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port()))
        };
        let listen = free_address()?;
        let balancer_url = format!("http://{listen}/metrics");
        spawn("balancer".into(), vec!["balancer".into(), "--listen".into(), listen])?;
        for replica in 1..=self.args.monitors {
            let listen = free_address()?;
            monitor_urls.push(format!("http://{listen}/metrics"));
            spawn(
                format!("monitor {replica}"),
                vec!["monitor".into(), "--replica".into(), replica.to_string(), "--listen".into(), listen],
            )?;
        }
        Ok((children, MetricsUrls { monitors: monitor_urls, balancer: balancer_url }))
    }

    async fn wait_for_replicas(&self) -> anyhow::Result<()> {
        let mut heartbeats = self.nats.subscribe(self.broker.names().heartbeat_subject()).await?;
        let mut heard = std::collections::HashSet::new();
        while heard.len() < self.args.monitors as usize {
            let message = tokio::time::timeout(Duration::from_secs(60), heartbeats.next())
                .await
                .context("the monitors did not start within 60s")?
                .context("NATS closed")?;
            let heartbeat: ems_common::contracts::Heartbeat = serde_json::from_slice(&message.payload)?;
            heard.insert(heartbeat.replica);
        }
        tokio::time::sleep(Duration::from_secs(1)).await; // one membership round of the balancer
        Ok(())
    }

    /// Readings the monitors have stored and committed since they started, from their
    /// `monitor_readings_stored_total`. Asking them costs PostgreSQL nothing, where counting in
    /// the database would compete with the pipeline it measures: on a year of history, summing a
    /// round's hourly totals reads thousands of pages and takes 100-400 ms.
    async fn stored_by_monitors(&self, urls: &[String]) -> anyhow::Result<u64> {
        let stored: f64 = self
            .scrape(urls)
            .await?
            .iter()
            .flat_map(|text| text.lines())
            .filter(|line| line.starts_with("monitor_readings_stored_total"))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        Ok(stored as u64)
    }

    /// The `/metrics` text of each of `urls`.
    async fn scrape(&self, urls: impl IntoIterator<Item = &String>) -> anyhow::Result<Vec<String>> {
        let mut texts = Vec::new();
        for url in urls {
            texts.push(self.http.get(url).send().await?.error_for_status()?.text().await?);
        }
        Ok(texts)
    }

    /// Readings of this run's devices counted in hourly totals (the database may hold others).
    async fn stored(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(sum(readings), 0)::int8 FROM hourly_consumption WHERE device_id = ANY($1)",
        )
        .bind(&self.devices)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Rounds of the raw hop and the pipeline's throughput, the cores each of `groups` kept busy
    /// during the pipeline's runs (averaged over the rounds), and the latency run.
    async fn measure_pipeline(
        &self,
        amqp: &lapin::Connection,
        groups: &[(String, Processes)],
        urls: &MetricsUrls,
    ) -> anyhow::Result<Measured> {
        let monitor_urls = &urls.monitors;
        self.wait_for_replicas().await?;
        let total = self.args.readings;
        let queue = self.broker.names().readings_queue();
        let mut rounds = Vec::new();
        let mut cores: Vec<(String, f64)> = Vec::new();
        for round in 0..self.args.rounds as usize {
            eprintln!("round {} of {}: the raw broker single hop ...", round + 1, self.args.rounds);
            let raw = self.raw_hop(amqp).await?;
            eprintln!("  {raw:.0} messages/s; the full pipeline ...");
            let cpu_before = CpuTimes::now(groups);
            let started = Instant::now();
            self.publish_all(&queue, (0..total).map(|index| self.reading(round, index).to_json())).await?;
            while self.stored_by_monitors(monitor_urls).await? < ((round + 1) * total) as u64 {
                anyhow::ensure!(
                    started.elapsed() < Duration::from_secs(600),
                    "the pipeline did not store every reading in 10 minutes"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let elapsed = started.elapsed();
            for (part, busy) in CpuTimes::now(groups).cores_since(&cpu_before, elapsed) {
                match cores.iter_mut().find(|(known, _)| *known == part) {
                    Some((_, sum)) => *sum += busy,
                    None => cores.push((part, busy)),
                }
            }
            let (reported, counted) = ((round + 1) * total, self.stored().await?);
            anyhow::ensure!(
                counted == reported as i64,
                "the monitors report {reported} readings stored, but the hourly totals count {counted}"
            );
            let pipeline = total as f64 / elapsed.as_secs_f64();
            eprintln!("  {pipeline:.0} readings/s ({:.2} of the raw hop)", pipeline / raw);
            rounds.push((raw, pipeline));
        }
        for (_, sum) in &mut cores {
            *sum /= rounds.len() as f64;
        }
        cores.sort_by(|a, b| b.1.total_cmp(&a.1));

        let rate = median(rounds.iter().map(|(_, pipeline)| *pipeline)) / 2.0;
        eprintln!("measuring publish-to-alert latency at {rate:.0} readings/s for {}s ...", self.args.latency_seconds);
        let raw_latencies = self.raw_latency(amqp, rate).await?;
        let before = self.scrape(urls.all()).await?;
        let latencies = self.latency(rate).await?;
        let after = self.scrape(urls.all()).await?;
        let stages = STAGES
            .iter()
            .filter_map(|(metric, name)| {
                let timed = Histogram::scrape(&after, metric).since(&Histogram::scrape(&before, metric));
                Some(Stage { name, count: timed.count(), p50: timed.quantile(0.5)?, p99: timed.quantile(0.99)? })
            })
            .collect();
        Ok(Measured { rounds, cores, rate, latencies, raw_latencies, stages })
    }

    /// Sends readings at `rate`, one in ten a probe that raises an alert; the latency of each is
    /// from just before its publish to the alert's arrival on NATS.
    async fn latency(&self, rate: f64) -> anyhow::Result<Vec<Duration>> {
        let mut alerts = self.nats.subscribe(format!("{}.alerts.*", self.broker.namespace)).await?;
        self.nats.flush().await?;
        let sent_at: SendTimes = Default::default();
        let collector = {
            let sent_at = sent_at.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(15), alerts.next()).await {
                    let arrived = Instant::now();
                    let Ok(alert) = serde_json::from_slice::<AlertEvent>(&message.payload) else { continue };
                    if let Some(sent) = sent_at.lock().expect("lock").remove(&(alert.device_id, alert.hour)) {
                        latencies.push(arrived - sent);
                    }
                }
                latencies
            })
        };
        // The current hour and those before it, as a meter's alerts would be: an hour of a month
        // that has ended would also mark its month's rollup stale, which live readings never do.
        let probe_base = Utc::now().duration_trunc(TimeDelta::hours(1))?;
        let mut probes = 0usize;
        let queue = self.broker.names().readings_queue();
        self.publish_at(&queue, rate, |sent| {
            let reading = if sent.is_multiple_of(PROBE_EVERY) {
                let reading = Reading {
                    device_id: self.probes[probes % self.probes.len()],
                    timestamp: probe_base - TimeDelta::hours((probes / self.probes.len()) as i64),
                    measurement_value: 1.0,
                    interval_s: 600,
                };
                probes += 1;
                // On the hour, so the alert's hour is the reading's timestamp.
                sent_at.lock().expect("lock").insert((reading.device_id, reading.timestamp), Instant::now());
                reading
            } else {
                // Readings of their own, after every round's.
                self.reading(self.args.rounds as usize, self.args.readings + sent)
            };
            reading.to_json()
        })
        .await?;
        Ok(collector.await?)
    }

    /// How many messages [`Self::publish_at`] sends at `rate`: so many every 10 ms for the
    /// latency run's length.
    fn schedule(&self, rate: f64) -> (Duration, usize, usize) {
        let tick = Duration::from_millis(10);
        let per_tick = (rate * tick.as_secs_f64()).max(1.0) as usize;
        let ticks = (self.args.latency_seconds as f64 / tick.as_secs_f64()) as usize;
        (tick, per_tick, ticks)
    }

    /// Publishes `body(0)`, `body(1)`, … to `queue` at `rate` a second (a burst every 10 ms) for
    /// the latency run's length, then waits for every confirm.
    async fn publish_at(&self, queue: &str, rate: f64, mut body: impl FnMut(usize) -> Vec<u8>) -> anyhow::Result<()> {
        let (tick, per_tick, ticks) = self.schedule(rate);
        let mut interval = tokio::time::interval(tick);
        let mut sent = 0usize;
        let mut in_flight: FuturesUnordered<lapin::PublisherConfirm> = FuturesUnordered::new();
        for _ in 0..ticks {
            interval.tick().await;
            for _ in 0..per_tick {
                in_flight.push(topology::publish(&self.channel, queue, &body(sent)).await?);
                sent += 1;
            }
            while let Some(Some(confirmation)) = in_flight.next().now_or_never() {
                anyhow::ensure!(confirmation?.is_ack(), "a publish was refused");
            }
        }
        while let Some(confirmation) = in_flight.next().await {
            anyhow::ensure!(confirmation?.is_ack(), "a publish was refused");
        }
        Ok(())
    }

    /// The raw single hop's latency at `rate`, the baseline of publish-to-alert: from each
    /// message's publish (its sent-at header) to its delivery to a consumer that acknowledges
    /// as the raw throughput hop does.
    async fn raw_latency(&self, amqp: &lapin::Connection, rate: f64) -> anyhow::Result<Vec<Duration>> {
        let queue = format!("{}.bench.raw-latency", self.broker.namespace);
        let (_, per_tick, ticks) = self.schedule(rate);
        let total = per_tick * ticks;
        let receiver = self.raw_consumer(amqp, &queue, total).await?;
        let body = self.reading(0, 0).to_json();
        self.publish_at(&queue, rate, |_| body.clone()).await?;
        let (_, latencies) = receiver.await??;
        self.channel.queue_delete(queue.as_str().into(), QueueDeleteOptions::default()).await.ok();
        anyhow::ensure!(latencies.len() == total, "a raw message came without its sent-at header");
        Ok(latencies)
    }

    async fn cleanup_queues(&self) {
        let names = self.broker.names();
        let mut queues = vec![names.readings_queue(), names.invalid_queue()];
        queues.extend((1..=self.args.monitors).map(|replica| names.ingest_queue(replica)));
        for queue in queues {
            self.channel.queue_delete(queue.as_str().into(), QueueDeleteOptions::default()).await.ok();
        }
    }
}

//! `ems simulate`: a fleet of simulated meters publishing readings for devices from the database.
//!
//! - Live (default): every device sends a reading per 10 simulated minutes; `--speedup 60` makes
//!   a simulated hour pass in a real minute, `--rate` sets readings per second instead.
//! - Backfill (`--days N`): N days of history up to now, as fast as RabbitMQ confirms them.
//!
//! Every message is persistent and publisher-confirmed; Ctrl-C stops sending new readings, waits
//! for the confirms of those already sent, and prints a summary.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use ems_common::{
    Shutdown,
    broker::{self, Amqp, BrokerArgs},
    config::DatabaseArgs,
    db,
};
use futures::{FutureExt, StreamExt, future::BoxFuture, stream::FuturesUnordered};
use indicatif::{ProgressBar, ProgressStyle};
use lapin::{Channel, Confirmation, options::ConfirmSelectOptions};
use sqlx::PgPool;

use crate::{
    Reading,
    fleet::{self, Profile, STEP, SimulatedDevice, step_floor},
    topology,
};

#[derive(Args, Clone, Debug)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub broker: BrokerArgs,

    /// A device to simulate, by id or by name (repeat for several). Default: every device.
    #[arg(long = "device", value_name = "ID_OR_NAME")]
    pub devices: Vec<String>,

    /// Backfill: publish this many days of history ending now, as fast as possible, then stop.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=366), conflicts_with_all = ["speedup", "rate"])]
    pub days: Option<u32>,

    /// Live: how much faster than real time the simulated clock runs (1: a reading per device
    /// every 10 minutes; 600: every second).
    #[arg(long, default_value_t = 1.0, value_parser = parse_positive)]
    pub speedup: f64,

    /// Live: readings per second across all devices (instead of --speedup).
    #[arg(long, value_parser = parse_positive, conflicts_with = "speedup")]
    pub rate: Option<f64>,

    /// Live: start the simulated clock here (RFC 3339). Default: now at speedup 1, else the
    /// start of today (UTC), so today's charts fill quickly.
    #[arg(long)]
    pub start: Option<DateTime<Utc>>,

    /// Stop after this many readings.
    #[arg(long)]
    pub limit: Option<u64>,

    /// Each device's average hour as a share of its hourly limit, before its spikes (0.3: 30 %,
    /// varied by 0.8 to 1.2 per device). At the default a device crosses its limit only in its
    /// spikes, two to four a week; from about 0.4 the replayed data's own peaks cross it too, and
    /// at 0.6 about one reading in twelve does.
    #[arg(long, default_value_t = fleet::DEFAULT_LOAD, value_parser = parse_positive)]
    pub load: f64,

    /// Readings sent but not yet confirmed, at most.
    #[arg(long, default_value_t = 2000)]
    pub max_in_flight: usize,
}

fn parse_positive(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(number) if number.is_finite() && number > 0.0 => Ok(number),
        _ => Err(format!("expected a number greater than 0, got {value:?}")),
    }
}

/// What a run did, printed at the end.
#[derive(Debug, Default)]
pub struct Summary {
    pub devices: usize,
    pub sent: u64,
    pub confirmed: u64,
    pub refused: u64,
    /// Readings sent again on a new connection after RabbitMQ was lost before confirming them.
    pub resent: u64,
    pub elapsed: Duration,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.elapsed.as_secs_f64().max(1e-9);
        write!(
            formatter,
            "{} devices: sent {} readings, {} confirmed, {} refused, {} resent after reconnecting, in {:.1}s ({:.0} readings/s)",
            self.devices,
            self.sent,
            self.confirmed,
            self.refused,
            self.resent,
            seconds,
            self.confirmed as f64 / seconds
        )
    }
}

pub async fn run(args: SimulateArgs, shutdown: Shutdown) -> anyhow::Result<Summary> {
    let pool = db::connect_and_migrate(&args.database).await?;
    let profile = Profile::bundled();
    let devices = load_devices(&pool, &args.devices, args.load, &profile).await?;
    let amqp = args.broker.amqp_reconnecting("ems-simulate").await?;
    let channel = confirming_channel(&amqp.connection()).await?;
    topology::declare(&channel, &args.broker.names()).await?;
    let mut publisher = Publisher::new(
        amqp.clone(),
        channel,
        args.broker.names().readings_queue(),
        args.max_in_flight,
        devices.len(),
        shutdown.clone(),
    );

    let started = Instant::now();
    let now = step_floor(Utc::now());
    match args.days {
        Some(days) => {
            let first = now - TimeDelta::days(i64::from(days)) + STEP;
            let steps = (now - first).num_minutes() / STEP.num_minutes() + 1;
            let total = (steps as u64 * devices.len() as u64).min(args.limit.unwrap_or(u64::MAX));
            publisher.progress(total, &format!("backfilling {days} days for {} devices", devices.len()));
            'backfill: for step in 0..steps as i32 {
                for device in &devices {
                    if shutdown.is_triggered() || args.limit.is_some_and(|limit| publisher.summary.sent >= limit) {
                        break 'backfill;
                    }
                    publisher.send(device.reading_at(first + STEP * step, &profile)).await?;
                }
            }
        }
        None => {
            let period = match args.rate {
                Some(rate) => Duration::from_secs_f64(devices.len() as f64 / rate),
                None => Duration::from_secs_f64(STEP.num_seconds() as f64 / args.speedup),
            };
            let mut clock = match args.start {
                Some(start) => step_floor(start),
                None if args.rate.is_none() && args.speedup <= 1.0 => now,
                None => step_floor(now - TimeDelta::seconds(now.timestamp() % 86_400)),
            };
            publisher.progress(args.limit.unwrap_or(0), &format!("live, a reading per device every {period:?}"));
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            'live: loop {
                tokio::select! {
                    () = shutdown.requested() => break 'live,
                    _ = ticks.tick() => {}
                }
                // Readings may not run more than a day ahead: past 12 hours, wait for real time.
                if clock > Utc::now() + TimeDelta::hours(12) {
                    continue;
                }
                clock += STEP;
                for device in &devices {
                    if args.limit.is_some_and(|limit| publisher.summary.sent >= limit) {
                        break 'live;
                    }
                    publisher.send(device.reading_at(clock, &profile)).await?;
                }
            }
        }
    }
    let mut summary = publisher.finish().await?;
    summary.elapsed = started.elapsed();
    amqp.close("simulation finished").await;
    Ok(summary)
}

async fn load_devices(
    pool: &PgPool,
    wanted: &[String],
    load: f64,
    profile: &Profile,
) -> anyhow::Result<Vec<SimulatedDevice>> {
    let rows: Vec<(uuid::Uuid, String, f64)> =
        sqlx::query_as("SELECT id, name, max_hourly_kwh::float8 FROM devices ORDER BY name, id")
            .fetch_all(pool)
            .await?;
    anyhow::ensure!(
        !rows.is_empty(),
        "there are no devices to simulate; create some first (for example with `ems seed --demo`)"
    );
    let mut chosen = Vec::new();
    for want in wanted {
        let found: Vec<_> =
            rows.iter().filter(|(id, name, _)| id.to_string() == *want || name.eq_ignore_ascii_case(want)).collect();
        anyhow::ensure!(
            !found.is_empty(),
            "no device is called or has the id {want:?}; known devices: {}",
            rows.iter().map(|(_, name, _)| name.as_str()).collect::<Vec<_>>().join(", ")
        );
        chosen.extend(found);
    }
    let selected: Vec<&(uuid::Uuid, String, f64)> = if wanted.is_empty() { rows.iter().collect() } else { chosen };
    Ok(selected
        .into_iter()
        .map(|(id, name, limit)| SimulatedDevice::new(*id, name.clone(), *limit, load, profile))
        .collect())
}

async fn confirming_channel(connection: &lapin::Connection) -> lapin::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    Ok(channel)
}

type Confirming = BoxFuture<'static, (Reading, lapin::Result<Confirmation>)>;

/// Publishes readings with pipelined publisher confirms and keeps the counts. Each reading is
/// kept until RabbitMQ confirms it, so that when the connection is lost the unconfirmed ones are
/// sent again on a new one (at least once: the monitors count a reading that arrives twice once).
struct Publisher {
    amqp: Amqp,
    channel: Channel,
    queue: String,
    max_in_flight: usize,
    in_flight: FuturesUnordered<Confirming>,
    summary: Summary,
    bar: ProgressBar,
    shutdown: Shutdown,
}

impl Publisher {
    fn new(
        amqp: Amqp,
        channel: Channel,
        queue: String,
        max_in_flight: usize,
        devices: usize,
        shutdown: Shutdown,
    ) -> Self {
        let summary = Summary { devices, ..Summary::default() };
        Self {
            amqp,
            channel,
            queue,
            max_in_flight: max_in_flight.max(1),
            in_flight: FuturesUnordered::new(),
            summary,
            bar: ProgressBar::hidden(),
            shutdown,
        }
    }

    fn progress(&mut self, total: u64, message: &str) {
        let bar = if total > 0 { ProgressBar::new(total) } else { ProgressBar::new_spinner() };
        let template = if total > 0 {
            "{msg}\n[{elapsed_precise}] {wide_bar} {pos}/{len} readings ({per_sec}, {eta} left)"
        } else {
            "{spinner} {msg}: {pos} readings sent ({per_sec}) [{elapsed_precise}]"
        };
        bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        tracing::info!("{message}");
        self.bar = bar;
    }

    async fn send(&mut self, reading: Reading) -> anyhow::Result<()> {
        while self.in_flight.len() >= self.max_in_flight {
            self.settle_one().await?;
        }
        self.summary.sent += 1;
        self.bar.inc(1);
        if let Err(error) = self.publish(reading.clone()).await {
            self.recover(vec![reading], anyhow::Error::new(error).context("publishing a reading")).await?;
        }
        Ok(())
    }

    async fn publish(&mut self, reading: Reading) -> lapin::Result<()> {
        let confirm = topology::publish(&self.channel, &self.queue, &reading.to_json()).await?;
        self.in_flight.push(async move { (reading, confirm.await) }.boxed());
        Ok(())
    }

    async fn settle_one(&mut self) -> anyhow::Result<()> {
        let Some((reading, outcome)) = self.in_flight.next().await else { return Ok(()) };
        match outcome {
            Ok(confirmation) if confirmation.is_ack() => self.summary.confirmed += 1,
            Ok(_) => self.summary.refused += 1,
            Err(error) => {
                let error = anyhow::Error::new(error).context("waiting for a publisher confirm");
                self.recover(vec![reading], error).await?;
            }
        }
        Ok(())
    }

    /// After `error`: if the connection is lost, waits for every reading still in flight, then
    /// sends `unsent` and the unconfirmed ones again on a new connection, for as long as it takes.
    /// Any other error is returned, as is a shutdown before RabbitMQ is back.
    async fn recover(&mut self, mut unsent: Vec<Reading>, error: anyhow::Error) -> anyhow::Result<()> {
        let mut connection = self.amqp.connection();
        if !broker::is_lost(&connection).await {
            return Err(error);
        }
        tracing::warn!(
            error = format!("{error:#}"),
            "lost RabbitMQ; reconnecting to send the unconfirmed readings again"
        );
        loop {
            while let Some((reading, outcome)) = self.in_flight.next().await {
                match outcome {
                    Ok(confirmation) if confirmation.is_ack() => self.summary.confirmed += 1,
                    Ok(_) => self.summary.refused += 1,
                    Err(_) => unsent.push(reading),
                }
            }
            let Some(fresh) = self.amqp.reconnect(&connection, &self.shutdown).await else {
                return Err(
                    error.context(format!("stopped before RabbitMQ was back; {} readings unsent", unsent.len()))
                );
            };
            connection = fresh;
            match confirming_channel(&connection).await {
                Ok(channel) => self.channel = channel,
                Err(_) => continue,
            }
            self.summary.resent += unsent.len() as u64;
            let mut readings = std::mem::take(&mut unsent).into_iter();
            while let Some(reading) = readings.next() {
                if self.publish(reading.clone()).await.is_err() {
                    unsent.push(reading);
                    unsent.extend(readings);
                    break;
                }
            }
            if unsent.is_empty() {
                return Ok(());
            }
        }
    }

    async fn finish(mut self) -> anyhow::Result<Summary> {
        while !self.in_flight.is_empty() {
            self.settle_one().await?;
        }
        self.bar.finish_and_clear();
        self.channel.close(200, "simulation finished".into()).await.ok();
        Ok(self.summary)
    }
}

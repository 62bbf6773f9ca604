//! `ems bench history`: EMS on years of data. In a database of its own (kept between runs, so the
//! load is paid once), it loads a year of hourly totals for 1,000 devices (`--devices 10000` for
//! ten thousand), the raw readings of the retention window and the alerts they raised; then, with
//! `ems all` running on it, it measures what a customer waits for: the consumption views of one
//! device and of all of a customer's devices, the device and alert lists, and the data the support
//! rules read, each beside its time inside PostgreSQL; the idle memory of `ems all`; the database's
//! size and the disk per device-year; and finally the pipeline benchmark on the full database.

mod load;
mod measure;

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use chrono::TimeDelta;
use clap::Args;
use ems_common::{
    Role,
    broker::BrokerArgs,
    config::{DatabaseArgs, DatabaseUrl},
    db,
    jwt::JwtKeys,
};
use ems_support::{CustomerData, PgCustomerData};
use sqlx::PgPool;
use uuid::Uuid;

use self::{
    load::{DEVICES_PER_CUSTOMER, Loaded, customer_id, device_id},
    measure::Timing,
};
use crate::{pipeline, stats::rss_kib};

#[derive(Args, Clone, Debug)]
pub struct HistoryBenchArgs {
    /// The PostgreSQL server to use; the history goes into a database of its own there
    /// (`ems_history_<devices>_<days>`), kept for the next run.
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub broker: BrokerArgs,

    /// Devices (four per customer).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(4..=200_000))]
    pub devices: u32,

    /// Days of hourly totals.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: u32,

    /// Days of raw readings (the last ones; the default retention is 90 days).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub raw_days: u32,

    /// Requests of each kind timed.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(10..))]
    pub requests: u32,

    /// Concurrent clients sending them.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub clients: u32,

    /// Load the data again even if an earlier run left it.
    #[arg(long)]
    pub reload: bool,

    /// Drop the database at the end instead of keeping it for the next run.
    #[arg(long)]
    pub drop: bool,

    /// Readings sent by the pipeline benchmark on the full database (0 skips it).
    #[arg(long, default_value_t = 50_000)]
    pub pipeline_readings: usize,
}

const SECRET: &str = "history-bench-secret-history-bench-secret";

pub struct Report {
    pub loaded: Loaded,
    pub reused: bool,
    pub timings: Vec<Timing>,
    pub statements: Result<(), String>,
    pub idle_rss_kib: u64,
    pub rss_after_kib: u64,
    pub sizes: Sizes,
    pub pipeline: Option<pipeline::Report>,
}

pub struct Sizes {
    pub database: i64,
    pub tables: Vec<(String, i64)>,
    pub readings_per_device_year: f64,
    pub hourly_per_device_year: f64,
    pub partitions: i64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let loaded = &self.loaded;
        let mib = |bytes: f64| bytes / 1024.0 / 1024.0;
        writeln!(
            out,
            "EMS history benchmark: {} devices, {} days of hourly totals, {} days of raw readings, up to {}",
            loaded.devices,
            loaded.days,
            loaded.raw_days,
            loaded.end_hour.format("%Y-%m-%d %H:00 UTC")
        )?;
        writeln!(
            out,
            "  loaded in {:.0} s{}",
            loaded.load_seconds,
            if self.reused { " (by an earlier run; reused)" } else { "" }
        )?;
        writeln!(out, "  database {:>10.1} MiB", mib(self.sizes.database as f64))?;
        for (table, bytes) in &self.sizes.tables {
            writeln!(out, "    {table:<22} {:>10.1} MiB", mib(*bytes as f64))?;
        }
        writeln!(out, "    raw readings in {} daily partitions", self.sizes.partitions)?;
        writeln!(
            out,
            "  disk per device-year: {:.2} MiB of raw readings (if kept a year), {:.2} MiB of hourly totals",
            mib(self.sizes.readings_per_device_year),
            mib(self.sizes.hourly_per_device_year)
        )?;
        writeln!(
            out,
            "  ems all resident memory: {:.1} MiB idle, {:.1} MiB after the requests",
            self.idle_rss_kib as f64 / 1024.0,
            self.rss_after_kib as f64 / 1024.0
        )?;
        if let Err(why) = &self.statements {
            writeln!(out, "  (no time inside PostgreSQL: {why})")?;
        }
        for timing in &self.timings {
            writeln!(out, "{timing}")?;
        }
        if let Some(pipeline) = &self.pipeline {
            write!(out, "on the full database: {pipeline}")?;
        }
        Ok(())
    }
}

pub async fn run(args: HistoryBenchArgs) -> anyhow::Result<Report> {
    let database = format!("ems_history_{}_{}", args.devices, args.days);
    let options = args.database.database_url.options.clone().database(&database);
    if args.reload {
        db::drop_database(&options, &database).await?;
    }
    let pool = open(&options).await?;
    let (pool, loaded, reused) = match load::loaded(&pool).await? {
        Some(loaded) if loaded.raw_days == args.raw_days as i32 => {
            eprintln!("reusing the history loaded by an earlier run into {database} (--reload loads it again)");
            (pool, loaded, true)
        }
        earlier => {
            let pool = if earlier.is_some() || has_devices(&pool).await? {
                eprintln!("{database} holds other or unfinished data; loading it again");
                pool.close().await;
                db::drop_database(&options, &database).await?;
                open(&options).await?
            } else {
                pool
            };
            eprintln!("loading the history into {database} ...");
            let loaded = load::load(&pool, args.devices as usize, args.days, args.raw_days).await?;
            (pool, loaded, false)
        }
    };
    // The monitors' storage upkeep rolls up ended months at its first round; done here, before
    // `ems all` starts, so that no request is timed while it runs.
    let started = std::time::Instant::now();
    let rolled = ems_monitors::rollups::upkeep(&pool, chrono::Utc::now()).await?;
    if rolled != ems_monitors::rollups::Rolled::default() {
        eprintln!(
            "rolled up {} months and {} changed device-months in {:.1} s",
            rolled.months,
            rolled.refreshed,
            started.elapsed().as_secs_f64()
        );
    }
    let url = args.database.database_url.url_for(&database);
    let result = measure_all(&args, &pool, &url, loaded, reused).await;
    pool.close().await;
    if args.drop {
        db::drop_database(&options, &database).await.ok();
    }
    result
}

/// A small pool on the history database, created and migrated if need be.
async fn open(options: &sqlx::postgres::PgConnectOptions) -> anyhow::Result<PgPool> {
    db::ensure_database_exists(&DatabaseUrl::new(options.clone())).await?;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect_with(options.clone()).await?;
    db::migrate(&pool).await?;
    Ok(pool)
}

async fn has_devices(pool: &PgPool) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM devices)").fetch_one(pool).await?)
}

/// `ems all` on the history database, stopped when dropped.
struct EmsAll {
    child: Child,
    base: String,
}

impl Drop for EmsAll {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

async fn start_ems_all(
    args: &HistoryBenchArgs,
    database_url: &str,
    client: &reqwest::Client,
) -> anyhow::Result<EmsAll> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let namespace = format!("history{}", &Uuid::new_v4().simple().to_string()[..8]);
    let child = Command::new(std::env::current_exe().context("finding the ems binary")?)
        .args(["all", "--namespace", &namespace, "--listen", &format!("127.0.0.1:{port}"), "--log", "warn"])
        .env("EMS_DATABASE_URL", database_url)
        .env("EMS_AMQP_URL", &args.broker.amqp_url)
        .env("EMS_NATS_URL", &args.broker.nats_url)
        .env("EMS_JWT_SECRET", SECRET)
        .env("EMS_RAW_RETENTION", format!("{}d", args.raw_days.max(1) + 2))
        .stdout(Stdio::null())
        .spawn()
        .context("starting ems all")?;
    let ems = EmsAll { child, base: format!("http://127.0.0.1:{port}") };
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(response) = client.get(format!("{}/readyz", ems.base)).send().await
            && response.status().is_success()
        {
            return Ok(ems);
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "ems all was not ready within 120 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The customer and device a request `index` is about, spread over all of them.
fn customer_of(loaded: &Loaded, index: usize) -> usize {
    let customers = (loaded.devices as usize).div_ceil(DEVICES_PER_CUSTOMER);
    (index.wrapping_mul(7919)) % customers
}

fn devices_of(loaded: &Loaded, customer: usize) -> Vec<Uuid> {
    let first = customer * DEVICES_PER_CUSTOMER;
    (first..(first + DEVICES_PER_CUSTOMER).min(loaded.devices as usize)).map(device_id).collect()
}

/// A view's query: (label, how far back from the data's end, step).
const VIEWS: [(&str, i64, &str); 4] =
    [("day", 1, "hour"), ("week", 7, "day"), ("month", 30, "day"), ("year", 365, "month")];

async fn measure_all(
    args: &HistoryBenchArgs,
    pool: &PgPool,
    database_url: &str,
    loaded: Loaded,
    reused: bool,
) -> anyhow::Result<Report> {
    let statements = measure::statements_available(pool).await;
    let with_statements = statements.is_ok();
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.clients as usize * 4).build()?;
    let ems = start_ems_all(args, database_url, &client).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_rss_kib = rss_kib(ems.child.id()).unwrap_or_default();

    let jwt = JwtKeys::new(SECRET.as_bytes(), Duration::from_secs(3600));
    let customers = (loaded.devices as usize).div_ceil(DEVICES_PER_CUSTOMER);
    let tokens: Arc<Vec<String>> = Arc::new(
        (0..customers)
            .map(|index| jwt.issue(customer_id(index), Role::Client, "History customer"))
            .collect::<Result<_, _>>()?,
    );
    let (requests, clients) = (args.requests as usize, args.clients as usize);
    let end = loaded.end_hour;
    let mut timings = Vec::new();
    let shared = Shared { client: client.clone(), base: ems.base.clone(), tokens, loaded: loaded.clone() };

    for (label, days, step) in VIEWS {
        let from = (end - TimeDelta::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let to = end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let query = format!("from={from}&to={to}&step={step}");
        let one = shared.clone();
        let query_one = query.clone();
        timings.push(
            measure::time(
                &format!("one device, {label} by {step}"),
                pool,
                with_statements,
                requests,
                clients,
                move |index| {
                    let (one, query) = (one.clone(), query_one.clone());
                    async move {
                        let (customer, devices) = one.customer_and_devices(index);
                        let device = devices[index % devices.len()];
                        one.get(&format!("/api/devices/{device}/consumption?{query}"), customer).await
                    }
                },
            )
            .await?,
        );
        let all = shared.clone();
        timings.push(
            measure::time(
                &format!("all 4 devices, {label} by {step}"),
                pool,
                with_statements,
                requests,
                clients,
                move |index| {
                    let (all, query) = (all.clone(), query.clone());
                    async move {
                        // As the dashboard asks: every device at once.
                        let (customer, devices) = all.customer_and_devices(index);
                        let paths: Vec<String> =
                            devices.iter().map(|device| format!("/api/devices/{device}/consumption?{query}")).collect();
                        let each = paths.iter().map(|path| all.get(path, customer));
                        futures::future::try_join_all(each).await.map(drop)
                    }
                },
            )
            .await?,
        );
    }
    let date = (end - TimeDelta::hours(1)).date_naive();
    for (name, path) in [
        ("all devices, today by hour (my day)", format!("/api/me/consumption?date={date}")),
        ("device list with last readings", "/api/me/devices".to_owned()),
        ("alert list, newest page", "/api/alerts".to_owned()),
        ("alert incidents, newest page", "/api/alerts/incidents".to_owned()),
    ] {
        let on = shared.clone();
        timings.push(
            measure::time(name, pool, with_statements, requests, clients, move |index| {
                let (on, path) = (on.clone(), path.clone());
                async move {
                    let customer = customer_of(&on.loaded, index);
                    on.get(&path, customer).await
                }
            })
            .await?,
        );
    }
    let data = Arc::new(PgCustomerData::new(pool.clone()));
    let on = shared.clone();
    timings.push(
        measure::time("support rules' customer data", pool, with_statements, requests, clients, move |index| {
            let (data, customer) = (data.clone(), customer_id(customer_of(&on.loaded, index)));
            let today = date;
            async move {
                data.devices(customer, today).await?;
                data.open_alerts(customer).await?;
                Ok(())
            }
        })
        .await?,
    );
    let rss_after_kib = rss_kib(ems.child.id()).unwrap_or_default();
    drop(ems);

    let sizes = sizes(pool, &loaded).await?;
    let pipeline = if args.pipeline_readings > 0 {
        eprintln!("the pipeline benchmark on the full database ...");
        let options = args.database.database_url.options.clone().database(&database_of(database_url)?);
        Some(
            pipeline::run_on(
                pipeline::PipelineBenchArgs {
                    database: args.database.clone(),
                    broker: args.broker.clone(),
                    readings: args.pipeline_readings,
                    devices: 200,
                    monitors: 3,
                    latency_seconds: 10,
                    rounds: 3,
                },
                &options,
            )
            .await?,
        )
    } else {
        None
    };
    Ok(Report { loaded, reused, timings, statements, idle_rss_kib, rss_after_kib, sizes, pipeline })
}

fn database_of(url: &str) -> anyhow::Result<String> {
    let parsed = ems_common::config::parse_database_url(url).map_err(anyhow::Error::msg)?;
    Ok(parsed.options.get_database().unwrap_or_default().to_owned())
}

#[derive(Clone)]
struct Shared {
    client: reqwest::Client,
    base: String,
    tokens: Arc<Vec<String>>,
    loaded: Loaded,
}

impl Shared {
    /// GETs `path` as `customer`, failing on any answer but a success.
    async fn get(&self, path: &str, customer: usize) -> anyhow::Result<()> {
        let url = format!("{}{path}", self.base);
        let response = self.client.get(&url).bearer_auth(&self.tokens[customer]).send().await?;
        anyhow::ensure!(response.status().is_success(), "GET {url} answered {}", response.status());
        response.bytes().await?;
        Ok(())
    }

    /// Request `index`'s customer and that customer's devices.
    fn customer_and_devices(&self, index: usize) -> (usize, Vec<Uuid>) {
        let customer = customer_of(&self.loaded, index);
        (customer, devices_of(&self.loaded, customer))
    }
}

async fn sizes(pool: &PgPool, loaded: &Loaded) -> anyhow::Result<Sizes> {
    let database: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(pool).await?;
    let readings: i64 = sqlx::query_scalar(
        "SELECT COALESCE(sum(pg_total_relation_size(relid)), 0)::int8 FROM pg_partition_tree('readings')",
    )
    .fetch_one(pool)
    .await?;
    let partitions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_partition_tree('readings') WHERE isleaf").fetch_one(pool).await?;
    let mut tables = vec![("readings (all partitions)".to_owned(), readings)];
    for table in ["hourly_consumption", "alerts", "devices", "users"] {
        let bytes: i64 =
            sqlx::query_scalar("SELECT pg_total_relation_size($1::regclass)").bind(table).fetch_one(pool).await?;
        tables.push((table.to_owned(), bytes));
    }
    let devices = f64::from(loaded.devices);
    let hourly = tables[1].1 as f64;
    Ok(Sizes {
        database,
        readings_per_device_year: readings as f64 / devices / f64::from(loaded.raw_days) * 365.0,
        hourly_per_device_year: hourly / devices / f64::from(loaded.days) * 365.0,
        tables,
        partitions,
    })
}

//! `ems bench ws`: the notifier under many connections, as a separate `ems notifier` process.
//! 1. memory per idle connection: the notifier's resident memory before and after opening N
//!    authenticated connections, divided by N;
//! 2. alert fan-out latency at a stated rate: alerts published on NATS to random connected users,
//!    from publish to arrival at the client;
//! 3. rule-answer round trip: a chat message a rule answers, from send to the answer's arrival
//!    (needs `ems support` running against the same database and namespace: started here too).

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::Utc;
use clap::Args;
use ems_common::{
    JwtKeys, Role,
    broker::BrokerArgs,
    config::{DatabaseArgs, DatabaseUrl},
    contracts::{AlertEvent, AlertKind},
    db,
};
use futures::{SinkExt, StreamExt, stream::FuturesUnordered};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::{
    file_limit,
    stats::{peak_rss_kib, percentile, rss_kib},
};

#[derive(Args, Clone, Debug)]
pub struct WsBenchArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub broker: BrokerArgs,

    /// Connections to open. Each needs a file descriptor in the bench and one in the notifier,
    /// each process within its `ulimit -n`: by default 20,000, or as many as the limit allows.
    #[arg(long)]
    pub connections: Option<usize>,

    /// Alerts per second during the fan-out measurement.
    #[arg(long, default_value_t = 1000)]
    pub rate: u32,

    /// Length of the fan-out measurement, in seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,

    /// Chat messages for the rule-answer round trip.
    #[arg(long, default_value_t = 200)]
    pub chats: usize,

    /// Connections opened at once while connecting.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
}

pub struct Report {
    pub connections: usize,
    pub idle_kib_per_connection: f64,
    pub notifier_rss_before_kib: u64,
    pub notifier_rss_after_kib: u64,
    pub rate: u32,
    pub alerts: usize,
    pub fanout_p50: Duration,
    pub fanout_p99: Duration,
    pub chats: usize,
    pub rule_p50: Duration,
    pub rule_p99: Duration,
    pub notifier_peak_kib: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
        writeln!(out, "EMS WebSocket benchmark")?;
        writeln!(out, "  connections open            {:>10}", self.connections)?;
        writeln!(
            out,
            "  memory per idle connection  {:>10.1} KiB  (notifier RSS {:.1} MiB -> {:.1} MiB)",
            self.idle_kib_per_connection,
            self.notifier_rss_before_kib as f64 / 1024.0,
            self.notifier_rss_after_kib as f64 / 1024.0
        )?;
        writeln!(
            out,
            "  alert fan-out at {}/s ({} alerts): p50 {:.1} ms, p99 {:.1} ms",
            self.rate,
            self.alerts,
            ms(self.fanout_p50),
            ms(self.fanout_p99)
        )?;
        writeln!(
            out,
            "  rule answer round trip ({} chats): p50 {:.1} ms, p99 {:.1} ms",
            self.chats,
            ms(self.rule_p50),
            ms(self.rule_p99)
        )?;
        writeln!(out, "  notifier peak RSS           {:>10.1} MiB", self.notifier_peak_kib as f64 / 1024.0)
    }
}

const SECRET: &str = "bench-secret-bench-secret-bench-secret";

struct Child2 {
    name: &'static str,
    child: Child,
}

impl Drop for Child2 {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
        tracing::debug!(process = self.name, "stopped");
    }
}

/// Raises the file limit as far as it goes and picks the number of connections within it.
fn connections_within_file_limit(args: &WsBenchArgs) -> anyhow::Result<usize> {
    let reserve = file_limit::reserve(args.database.db_max_connections);
    let wanted = args.connections.unwrap_or(file_limit::DEFAULT_CONNECTIONS) as u64 + reserve;
    let limits = file_limit::raise_and_read(wanted).context("reading the file limit")?;
    let choice = file_limit::choose(args.connections, limits, reserve).map_err(anyhow::Error::msg)?;
    eprintln!("connections: {} ({})", choice.connections, choice.reason);
    Ok(choice.connections)
}

pub async fn run(args: WsBenchArgs) -> anyhow::Result<Report> {
    let connections = connections_within_file_limit(&args)?;
    let suffix = Uuid::new_v4().simple().to_string()[..10].to_owned();
    let database = format!("ems_bench_{suffix}");
    let options = args.database.database_url.options.clone().database(&database);
    db::ensure_database_exists(&DatabaseUrl::new(options.clone())).await?;
    let result = run_in(&args, connections, &suffix, &database).await;
    db::drop_database(&options, &database).await.ok();
    result
}

async fn run_in(args: &WsBenchArgs, connections: usize, suffix: &str, database: &str) -> anyhow::Result<Report> {
    let pool = db::connect_and_migrate(&DatabaseArgs {
        database_url: ems_common::config::parse_database_url(&args.database.database_url.url_for(database))
            .map_err(anyhow::Error::msg)?,
        ..args.database.clone()
    })
    .await?;
    let mut broker = args.broker.clone();
    broker.namespace = format!("bench{suffix}");
    let nats = broker.nats("ems-bench").await?;
    let jwt = JwtKeys::new(SECRET.as_bytes(), Duration::from_secs(3600));
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let exe = std::env::current_exe()?;
    let spawn = |name: &'static str, command: &str, listen: &str| -> anyhow::Result<Child2> {
        let child = Command::new(&exe)
            .args([command, "--namespace", &broker.namespace, "--listen", listen, "--log", "warn"])
            .env("EMS_DATABASE_URL", args.database.database_url.url_for(database))
            .env("EMS_JWT_SECRET", SECRET)
            .env("EMS_NATS_URL", &broker.nats_url)
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Child2 { name, child })
    };
    let notifier = spawn("notifier", "notifier", &format!("127.0.0.1:{port}"))?;
    let _support = spawn("support", "support", "127.0.0.1:0")?;
    let url = format!("ws://127.0.0.1:{port}/ws");
    wait_for_port(port).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_kib(notifier.child.id()).unwrap_or_default();

    eprintln!("opening {} connections ...", connections);
    let users: Vec<Uuid> = (0..connections).map(|_| Uuid::new_v4()).collect();
    // The notifier accepts tokens of existing accounts only.
    sqlx::query(
        "INSERT INTO users (id, username, display_name, password_hash) \
         SELECT id, replace(id::text, '-', ''), 'Bench', 'x' FROM unnest($1::uuid[]) AS id",
    )
    .bind(&users)
    .execute(&pool)
    .await
    .context("adding the connections' accounts")?;
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<Duration>();
    let mut opened = 0usize;
    let mut opening = FuturesUnordered::new();
    let mut readers = Vec::with_capacity(connections);
    for user in &users {
        let (url, token, arrivals, user) =
            (url.clone(), jwt.issue(*user, Role::Client, "bench")?, arrivals.clone(), *user);
        opening.push(async move {
            let socket = connect_as(&url, &token).await?;
            anyhow::Ok((user, socket, arrivals))
        });
        if opening.len() >= args.connect_concurrency {
            let (user, socket, arrivals) = opening.next().await.expect("not empty")?;
            readers.push(tokio::spawn(read_alerts(user, socket, arrivals)));
            opened += 1;
        }
    }
    while let Some(result) = opening.next().await {
        let (user, socket, arrivals) = result?;
        readers.push(tokio::spawn(read_alerts(user, socket, arrivals)));
        opened += 1;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_kib(notifier.child.id()).unwrap_or_default();
    eprintln!("  {opened} open; notifier RSS {:.1} MiB", rss_after as f64 / 1024.0);

    eprintln!("alert fan-out at {}/s for {}s ...", args.rate, args.seconds);
    let names = broker.names();
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    let per_tick = (args.rate as usize).div_ceil(100);
    let total = args.rate as usize * args.seconds as usize;
    let mut sent = 0usize;
    while sent < total {
        ticks.tick().await;
        for _ in 0..per_tick.min(total - sent) {
            let user = users[fastrand(sent) % users.len()];
            let alert = AlertEvent {
                id: sent as i64,
                device_id: Uuid::nil(),
                device_name: "bench".into(),
                user_id: Some(user),
                kind: AlertKind::Peak,
                hour: Utc::now(),
                value: 1.0,
                limit_kwh: 1.0,
                reading_at: None,
                interval_s: None,
                snoozed: false,
                message: String::new(),
                created_at: Utc::now(),
            };
            nats.publish(names.alerts_subject(user), serde_json::to_vec(&alert)?.into()).await?;
            sent += 1;
        }
    }
    nats.flush().await?;
    let mut latencies = Vec::with_capacity(total);
    while latencies.len() < total {
        match tokio::time::timeout(Duration::from_secs(10), arrived.recv()).await {
            Ok(Some(latency)) => latencies.push(latency),
            _ => break,
        }
    }
    latencies.sort();
    eprintln!("  {} of {total} alerts arrived", latencies.len());

    eprintln!("rule answer round trip for {} chats ...", args.chats);
    let rule_latencies = rule_round_trips(&pool, &jwt, &url, args.chats).await?;
    let notifier_peak = peak_rss_kib(notifier.child.id()).unwrap_or_default();
    for reader in readers {
        reader.abort();
    }
    drop(notifier);
    pool.close().await;
    Ok(Report {
        connections: opened,
        idle_kib_per_connection: rss_after.saturating_sub(rss_before) as f64 / opened.max(1) as f64,
        notifier_rss_before_kib: rss_before,
        notifier_rss_after_kib: rss_after,
        rate: args.rate,
        alerts: latencies.len(),
        fanout_p50: percentile(&latencies, 0.5),
        fanout_p99: percentile(&latencies, 0.99),
        chats: rule_latencies.len(),
        rule_p50: percentile(&rule_latencies, 0.5),
        rule_p99: percentile(&rule_latencies, 0.99),
        notifier_peak_kib: notifier_peak,
    })
}

/// A cheap deterministic spread of alerts over users.
fn fastrand(index: usize) -> usize {
    index.wrapping_mul(2_654_435_761) ^ (index >> 7)
}

async fn wait_for_port(port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        anyhow::ensure!(Instant::now() < deadline, "the notifier did not listen within 60s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reports each alert's latency, measured the moment it arrives.
async fn read_alerts(user: Uuid, mut socket: Socket, arrivals: mpsc::UnboundedSender<Duration>) {
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message
            && let Ok(frame) = serde_json::from_str::<serde_json::Value>(&text)
            && frame["type"] == "alert"
            && let Ok(alert) = serde_json::from_value::<AlertEvent>(frame["alert"].clone())
            && alert.user_id == Some(user)
        {
            let _ = arrivals.send((Utc::now() - alert.created_at).to_std().unwrap_or_default());
        }
    }
}

/// Customers (real users, since chat is stored) each send a question a rule answers and wait for
/// the answer frame. The notifier lets one connection send only a burst of chat messages before
/// it refuses them (`rate_limited`), so each burst goes over its own customer's connection, one
/// connection at a time (it needs no more descriptors than one).
async fn rule_round_trips(
    pool: &sqlx::PgPool,
    jwt: &JwtKeys,
    url: &str,
    chats: usize,
) -> anyhow::Result<Vec<Duration>> {
    let per_connection = ems_notifier::limits::SENDS.burst_size().get() as usize;
    let mut latencies = Vec::with_capacity(chats);
    let mut missed = 0usize;
    for (batch, first) in (0..chats).step_by(per_connection).enumerate() {
        let customer = Uuid::new_v4();
        sqlx::query("INSERT INTO users (id, username, display_name, password_hash) VALUES ($1, $2, 'Bench', 'x')")
            .bind(customer)
            .bind(format!("bench-chat-{batch}"))
            .execute(pool)
            .await?;
        let token = jwt.issue(customer, Role::Client, "Bench")?;
        let mut socket = connect_as(url, &token).await?;
        for index in first..(first + per_connection).min(chats) {
            let started = Instant::now();
            let frame =
                serde_json::json!({"type": "chat.send", "client_id": format!("bench-{index}"), "text": "hello"});
            socket.send(Message::Text(frame.to_string().into())).await?;
            let answered = tokio::time::timeout(Duration::from_secs(10), async {
                while let Some(Ok(message)) = socket.next().await {
                    if let Message::Text(text) = message
                        && let Ok(frame) = serde_json::from_str::<serde_json::Value>(&text)
                        && frame["type"] == "chat.message"
                        && frame["message"]["source"] == "rule"
                    {
                        return true;
                    }
                }
                false
            })
            .await;
            match answered {
                Ok(true) => latencies.push(started.elapsed()),
                _ => missed += 1,
            }
        }
        socket.close(None).await.ok();
    }
    if missed > 0 {
        eprintln!("  {missed} chats got no rule answer within 10s");
    }
    latencies.sort();
    Ok(latencies)
}

/// Opens a WebSocket to `url` with `Authorization: Bearer <token>`, as programs connect.
async fn connect_as(url: &str, token: &str) -> anyhow::Result<Socket> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    // Nagle off, as browsers do.
    Ok(tokio_tungstenite::connect_async_with_config(request, None, true).await?.0)
}

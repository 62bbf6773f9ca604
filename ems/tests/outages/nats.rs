use std::{
    collections::{BTreeSet, VecDeque},
    time::{Duration, Instant},
};

use chrono::TimeDelta;
use ems_common::{JwtKeys, Role};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    harness::{JWT_SECRET, Pipeline, Services, series, start_hours_ago},
    seconds,
    servers::Nats,
    wait_for_readiness, wait_until,
};

const FRAME_WAIT: Duration = Duration::from_secs(60);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A customer's WebSocket, keeping the frames a wait skipped for later waits.
struct Client {
    socket: Socket,
    skipped: VecDeque<Value>,
}

impl Client {
    /// Connects to `url` with `Authorization: Bearer <token>`, as a program may.
    async fn connect(url: &str, token: &str) -> Self {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let deadline = Instant::now() + FRAME_WAIT;
        let socket = loop {
            let mut request = url.into_client_request().unwrap();
            request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
            match tokio_tungstenite::connect_async(request).await {
                Ok((socket, _)) => break socket,
                Err(error) => assert!(Instant::now() < deadline, "the notifier accepts WebSockets: {error}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let mut client = Self { socket, skipped: VecDeque::new() };
        client.next_where(|frame| frame["type"] == "hello").await;
        client
    }

    async fn read(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(FRAME_WAIT, self.socket.next())
                .await
                .expect("a frame in time")
                .expect("the WebSocket stays open")
                .unwrap();
            if let Message::Text(text) = message {
                return serde_json::from_str(&text).unwrap();
            }
        }
    }

    /// The first frame, skipped earlier or new, for which `wanted` holds.
    async fn next_where(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.skipped.iter().position(&wanted) {
            return self.skipped.remove(index).unwrap();
        }
        loop {
            let frame = self.read().await;
            if wanted(&frame) {
                return frame;
            }
            self.skipped.push_back(frame);
        }
    }

    async fn send(&mut self, frame: Value) {
        self.socket.send(Message::Text(frame.to_string().into())).await.unwrap();
    }

    /// Sends a chat message and returns the notifier's answer to it: `ack` or `error`.
    async fn chat(&mut self, client_id: &str, text: &str) -> Value {
        self.send(json!({"type": "chat.send", "client_id": client_id, "text": text})).await;
        self.next_where(|frame| {
            frame["type"] == "ack" && frame["client_id"] == client_id
                || frame["type"] == "error" && frame["code"] == "not_sent"
        })
        .await
    }

    /// Sends a chat message again with the same `client_id` until it is acknowledged, as the
    /// protocol asks of a client told `not_sent`; returns how many times it was refused.
    async fn chat_until_acked(&mut self, client_id: &str, text: &str) -> u32 {
        let deadline = Instant::now() + FRAME_WAIT;
        let mut refused = 0;
        while self.chat(client_id, text).await["type"] != "ack" {
            refused += 1;
            assert!(Instant::now() < deadline, "{client_id:?} acknowledged within {FRAME_WAIT:?}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        refused
    }

    /// Alert ids from frames until `count` distinct ones are seen.
    async fn alerts(&mut self, count: usize) -> BTreeSet<i64> {
        let mut ids = BTreeSet::new();
        while ids.len() < count {
            let frame = self.next_where(|frame| frame["type"] == "alert").await;
            ids.insert(frame["alert"]["id"].as_i64().unwrap());
        }
        ids
    }
}

impl Client {
    /// Reads alert frames until every one of `wanted` has arrived (others may come in between:
    /// an alert published while NATS was away can arrive live after it is back, as well as in
    /// the replay).
    async fn alerts_among(&mut self, wanted: &BTreeSet<i64>) {
        let mut missing = wanted.clone();
        while !missing.is_empty() {
            let frame = self.next_where(|frame| frame["type"] == "alert").await;
            missing.remove(&frame["alert"]["id"].as_i64().unwrap());
        }
    }
}

async fn alert_ids(pipeline: &Pipeline, after: i64) -> BTreeSet<i64> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM alerts WHERE id > $1").bind(after).fetch_all(&pipeline.pool).await.unwrap();
    ids.into_iter().collect()
}

#[tokio::test]
async fn nats_restarted_alerts_are_replayed_and_no_chat_message_is_lost() {
    let mut nats = Nats::start().await;
    let mut pipeline = Pipeline::on(Services { nats_url: nats.url(), ..Services::shared() }).await;
    let devices = pipeline.devices(&[1.0]).await;
    // Heartbeats travel on NATS: a long replica timeout keeps the monitor in the rotation while
    // NATS is away, so that readings go on raising alerts.
    pipeline.run(1, &["--replica-timeout", "120s"]).await;
    pipeline.spawn("notifier", &["notifier"]);
    pipeline.spawn("support", &["support"]);
    let names = ["balancer", "monitor-1", "notifier", "support"];
    let ports: Vec<u16> = names.iter().map(|name| pipeline.port(name)).collect();
    wait_for_readiness("services before the outage", &ports, true, Duration::from_secs(60)).await;

    let token = JwtKeys::new(JWT_SECRET.as_bytes(), Duration::from_secs(600))
        .issue(devices[0].owner, Role::Client, "owner")
        .unwrap();
    let url = |after: Option<i64>| {
        let replay = after.map(|id| format!("last_alert_id={id}")).unwrap_or_default();
        format!("ws://127.0.0.1:{}/ws?{replay}", pipeline.port("notifier"))
    };
    let mut customer = Client::connect(&url(None), &token).await;
    // Five readings of 0.25 kWh in an hour: 1.25 kWh, over the 1 kWh limit, and 1.5 kW peaks.
    let crossing = |hour: i64| series(&devices, start_hours_ago(10) + TimeDelta::hours(hour), 5, |_, _| 0.25);

    pipeline.publish(&crossing(0)).await;
    let before = customer.alerts(2).await;
    assert_eq!(alert_ids(&pipeline, 0).await, before, "both alerts of the first hour arrive live");
    let last_seen = *before.last().unwrap();

    nats.down().await;
    let down_at = Instant::now();
    let not_ready = wait_for_readiness("services while NATS is down", &ports, false, Duration::from_secs(30)).await;
    pipeline.publish(&crossing(1)).await;
    pipeline.publish(&crossing(2)).await;
    wait_until("alerts committed while NATS is down", FRAME_WAIT, || async {
        alert_ids(&pipeline, last_seen).await.len() == 4
    })
    .await;
    let missed = alert_ids(&pipeline, last_seen).await;
    let refused_while_down = customer.chat("hello-while-down", "Hello").await;
    assert_eq!(refused_while_down["code"], "not_sent", "the customer is told to send it again");

    nats.up().await;
    let up_at = Instant::now();
    let down_for = up_at.duration_since(down_at);
    // The customer sends again what was refused, and something new, around the restart.
    let refused = customer.chat_until_acked("hello-while-down", "Hello").await
        + customer.chat_until_acked("thanks-after", "thank you").await;
    let acked = up_at.elapsed();
    let ready = wait_for_readiness("services after NATS is back", &ports, true, Duration::from_secs(60)).await;
    for _ in 0..2 {
        customer.next_where(|frame| frame["type"] == "chat.message" && frame["message"]["source"] == "rule").await;
    }
    let answered = up_at.elapsed();
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT source::text, body FROM chat_messages ORDER BY id")
        .fetch_all(&pipeline.pool)
        .await
        .unwrap();
    let sources: Vec<&str> = rows.iter().map(|(source, _)| source.as_str()).collect();
    assert_eq!(sources, ["customer", "rule", "customer", "rule"], "each message stored and answered once: {rows:?}");

    let mut returning = Client::connect(&url(Some(last_seen)), &token).await;
    assert_eq!(returning.alerts(missed.len()).await, missed, "the alerts committed meanwhile are replayed");
    pipeline.publish(&crossing(3)).await;
    let newest = *missed.last().unwrap();
    wait_until("the alerts of a later hour", FRAME_WAIT, || async { alert_ids(&pipeline, newest).await.len() == 2 })
        .await;
    returning.alerts_among(&alert_ids(&pipeline, newest).await).await;
    let alerts_live = up_at.elapsed();
    for name in names {
        assert!(pipeline.is_running(name), "{name} reconnected by itself instead of exiting");
    }
    eprintln!(
        "outage summary: nats down {}, services not ready {} after it stopped and ready {} after it was back; \
         {} alerts committed meanwhile replayed; chat accepted {} after restart ({} refusals first), \
         both messages answered once after {}; live alerts again after {}",
        seconds(down_for),
        seconds(not_ready),
        seconds(ready),
        missed.len(),
        seconds(acked),
        refused + 1,
        seconds(answered),
        seconds(alerts_live)
    );
}

//! The connection gauge on `/metrics` counts open connections, however they end.

use std::time::Duration;

use ems_common::Role;
use futures::SinkExt;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::helpers::{NotifierArgsExt, Setup, alert, args, close_code, connect};

fn connections(metrics: &PrometheusHandle) -> f64 {
    metrics
        .render()
        .lines()
        .find_map(|line| line.strip_prefix("notifier_connections "))
        .map_or(0.0, |value| value.parse().unwrap())
}

async fn gauge_reaches(metrics: &PrometheusHandle, expected: f64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = connections(metrics);
        if value == expected {
            return;
        }
        assert!(Instant::now() < deadline, "notifier_connections stays at {value}, not {expected}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// A single-threaded runtime: every task of the notifier records into this test's own recorder.
#[tokio::test(flavor = "current_thread")]
async fn the_connection_gauge_counts_each_connection_down_whether_closed_cut_off_or_stopped() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let metrics = recorder.handle();
    let _recording = metrics::set_default_local_recorder(&recorder);

    let setup = Setup::new().await;
    let mut settings = args().with_queue(4);
    settings.ws_send_timeout = Duration::from_secs(1);
    let notifier = setup.notifier(settings).await;
    let slow_user = Uuid::new_v4();
    let mut leaving = connect(&notifier, &setup.token(Uuid::new_v4(), Role::Client).await, "").await;
    let _slow = connect(&notifier, &setup.token(slow_user, Role::Client).await, "").await;
    let mut flooder = connect(&notifier, &setup.token(Uuid::new_v4(), Role::Client).await, "").await;
    let mut staying = connect(&notifier, &setup.token(Uuid::new_v4(), Role::Admin).await, "").await;
    gauge_reaches(&metrics, 4.0).await;

    leaving.close(None).await.unwrap();
    gauge_reaches(&metrics, 3.0).await;

    // 24 MB of alerts for a client that reads none: more than its socket buffers hold, so its
    // queue fills and the fan-out cuts it off.
    let padding = "x".repeat(16 * 1024);
    for id in 0..1500 {
        let payload = serde_json::to_vec(&alert(id, slow_user, &padding)).unwrap();
        setup.nats.publish(setup.broker.names().alerts_subject(slow_user), payload.into()).await.unwrap();
    }
    setup.nats.flush().await.unwrap();
    gauge_reaches(&metrics, 2.0).await;

    for _ in 0..1000 {
        let _ = flooder.send(Message::Text(json!({"type": "chat.typing", "typing": true}).to_string().into())).await;
    }
    assert_eq!(u16::from(close_code(&mut flooder).await.0), 4029);
    gauge_reaches(&metrics, 1.0).await;

    notifier.shutdown.trigger();
    assert_eq!(u16::from(close_code(&mut staying).await.0), 1001);
    gauge_reaches(&metrics, 0.0).await;
}

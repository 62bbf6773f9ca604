use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestSettings, spawn_app, spawn_app_with};

#[tokio::test]
async fn liveness_and_readiness_answer_and_readiness_follows_the_database() {
    let app = spawn_app().await;
    let live = app.client.get(app.url("/livez")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["checks"]["postgres"], "ok");

    app.pool.close().await;
    let not_ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(not_ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = not_ready.json().await.unwrap();
    assert_eq!(body["status"], "not ready");
    assert_ne!(body["checks"]["postgres"], "ok");
    assert_eq!(app.client.get(app.url("/livez")).send().await.unwrap().status(), StatusCode::OK, "alive all the same");
}

#[tokio::test]
async fn requests_are_counted_in_prometheus_metrics() {
    let app = spawn_app().await;
    app.login("nobody", "whatever-it-is").await;
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let line = metrics
        .lines()
        .find(|line| {
            line.starts_with("http_requests_total")
                && line.contains("route=\"/api/auth/login\"")
                && line.contains("status=\"401\"")
        })
        .unwrap_or_else(|| panic!("no login counter in:\n{metrics}"));
    assert!(line.split_whitespace().last().unwrap().parse::<f64>().unwrap() >= 1.0);
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
    assert!(metrics.contains("auth_login_failures_total"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let app = spawn_app().await;
    let generated = app.client.get(app.url("/livez")).send().await.unwrap();
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);

    let given = app.client.get(app.url("/livez")).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_the_docs_page_is_served() {
    let app = spawn_app().await;
    let document: Value = app.client.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/me",
        "/api/me/devices",
        "/api/users",
        "/api/users/{id}",
        "/api/users/{id}/password",
        "/api/devices",
        "/api/devices/{id}",
        "/api/devices/{id}/owner",
        "/api/devices/{id}/consumption",
        "/api/me/consumption",
        "/api/alerts",
        "/api/alerts/{id}/acknowledge",
        "/api/alerts/incidents",
        "/api/alerts/acknowledge",
        "/api/devices/{id}/snooze",
        "/api/chat/messages",
        "/api/support/conversations",
        "/api/support/conversations/{customer_id}/messages",
        "/api/support/conversations/{customer_id}/takeover",
        "/api/support/conversations/{customer_id}/handback",
        "/api/system/replicas",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());

    let docs = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"), "interactive docs page");
}

#[tokio::test]
async fn an_unknown_api_path_is_a_json_404_pointing_to_the_docs() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/nothing/here")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("/api/docs"));
}

#[tokio::test]
async fn the_dashboard_is_served_with_client_routes_and_cache_rules() {
    let ui = std::env::temp_dir().join(format!("ems-ui-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(ui.join("assets")).unwrap();
    std::fs::write(ui.join("index.html"), "<!doctype html><title>EMS</title>").unwrap();
    std::fs::write(ui.join("assets/app-1a2b3c.js"), "console.log('ems')").unwrap();
    let app = spawn_app_with(TestSettings { ui_dir: ui.clone(), ..TestSettings::default() }).await;

    let shell = app.client.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!(shell.status(), StatusCode::OK, "a client-side route gets the app shell");
    assert_eq!(shell.headers()["cache-control"], "no-cache");
    let shell_headers = shell.headers().clone();
    assert!(shell.text().await.unwrap().contains("<title>EMS</title>"));

    let asset = app.client.get(app.url("/assets/app-1a2b3c.js")).send().await.unwrap();
    assert_eq!(asset.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(asset.headers()["x-content-type-options"], "nosniff");
    assert!(shell_headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));

    // A bundle the server does not have (an old page after a deployment) is a 404, not the shell
    // cached for a year.
    let missing = app.client.get(app.url("/assets/app-0ld0ld.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_ne!(missing.headers()["cache-control"], "public, max-age=31536000, immutable");

    // API answers, tokens included, are never cached.
    let login = app.login("nobody", "not the password").await;
    assert_eq!(login.headers()["cache-control"], "no-store");
    assert_eq!(
        app.client.get(app.url("/api/nothing")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "the API keeps its 404s"
    );
    std::fs::remove_dir_all(ui).ok();
}

#[tokio::test]
async fn the_system_view_lists_replicas_from_heartbeats_with_their_queue_depth() {
    use ems_common::contracts::Heartbeat;
    let app = spawn_app().await;
    let (_, token) = app.admin().await;
    let (_, client_token) = app.client_user("ana").await;
    let names = app.events.names.clone();
    let channel = app.amqp.create_channel().await.unwrap();
    ems_ingress::topology::declare_ingest(&channel, &names, 2).await.unwrap();
    for _ in 0..3 {
        channel
            .basic_publish(
                "".into(),
                names.ingest_queue(2).as_str().into(),
                Default::default(),
                b"[]",
                Default::default(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    for (replica, weight, processed) in [(1, 1, 10), (2, 3, 500)] {
        let heartbeat = Heartbeat { replica, weight, processed };
        app.events
            .nats
            .publish(names.heartbeat_subject(), serde_json::to_vec(&heartbeat).unwrap().into())
            .await
            .unwrap();
    }
    app.events.nats.flush().await.unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let replicas = loop {
        let listed: Value = app.get("/api/system/replicas", &token).await.json().await.unwrap();
        if listed.as_array().unwrap().len() == 2 {
            break listed;
        }
        assert!(std::time::Instant::now() < deadline, "heartbeats not seen: {listed}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(replicas[1]["replica"], 2);
    assert_eq!((replicas[1]["weight"].as_u64(), replicas[1]["processed"].as_u64()), (Some(3), Some(500)));
    assert_eq!((replicas[1]["live"].as_bool(), replicas[1]["queue_depth"].as_u64()), (Some(true), Some(3)));
    assert_eq!(replicas[0]["queue_depth"], Value::Null, "replica 1 has no queue yet");
    assert_eq!(app.get("/api/system/replicas", &client_token).await.status(), StatusCode::FORBIDDEN);
    channel.queue_delete(names.ingest_queue(2).as_str().into(), Default::default()).await.unwrap();
}

#[tokio::test]
async fn an_oversize_body_is_refused_with_413_in_the_api_error_shape() {
    let app = spawn_app().await;
    let huge = serde_json::json!({ "username": "ana", "password": "x".repeat(200 * 1024) });
    let response = app.call(reqwest::Method::POST, "/api/auth/login", None, Some(huge)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");
    assert!(body["message"].as_str().unwrap().contains("64 KiB"), "{body}");
}

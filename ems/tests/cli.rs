//! The built `ems` binary: bad configuration stops it at start with a message that names the
//! setting and says what is expected; SIGTERM stops it cleanly.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

fn ems(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ems"));
    command.args(args).env_remove("EMS_JWT_SECRET").env_remove("EMS_DATABASE_URL").env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the ems binary runs")
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_listen_address_that_is_not_ip_and_port_is_refused_naming_the_flag() {
    let output = ems(&["web", "--listen", "localhost"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("--listen") && stderr.contains("IP:PORT"), "{stderr}");
}

#[test]
fn a_bad_value_from_the_environment_is_refused_too() {
    let output = ems(&["web"], &[("EMS_ACCESS_TOKEN_TTL", "forever")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("--access-token-ttl") && stderr.contains("such as 30s"), "{stderr}");
}

#[test]
fn out_of_range_websocket_settings_are_refused_with_their_range_instead_of_failing_later() {
    for (flag, value, range) in
        [("--ws-replay-limit", "-1", "0..=10000"), ("--ws-buffer-bytes", "100", "512..=1048576")]
    {
        let output = ems(&["notifier", &format!("{flag}={value}")], &[]);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains(flag) && stderr.contains(range), "{flag} {value}: {stderr}");
    }
}

#[test]
fn out_of_range_durations_and_counts_are_refused_with_their_range() {
    for (command, flag, value, range) in [
        ("balancer", "--replica-timeout", "0s", "between 100ms and 10m"),
        ("balancer", "--batch-linger", "1h", "between 1ms and 10s"),
        ("monitor", "--heartbeat-interval", "1ms", "between 50ms and 1m"),
        ("web", "--login-lockout", "2h", "between 1s and 15m"),
        ("web", "--request-timeout", "0s", "between 1s and 10m"),
        ("support", "--ai-max-retries", "50", "0..=10"),
    ] {
        let output = ems(&[command, &format!("{flag}={value}")], &[]);
        assert_eq!(output.status.code(), Some(2), "{command} {flag} {value}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains(flag) && stderr.contains(range), "{command} {flag} {value}: {stderr}");
    }
}

#[test]
fn a_short_jwt_secret_is_refused_with_how_to_make_a_good_one() {
    let output = ems(&["web"], &[("EMS_JWT_SECRET", "too-short")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("EMS_JWT_SECRET") && stderr.contains("at least 32"), "{stderr}");
    assert!(stderr.contains("openssl rand"), "{stderr}");
    assert!(!stderr.contains("too-short"), "the secret itself is never printed: {stderr}");
}

#[test]
fn a_database_url_of_another_kind_is_refused() {
    let output = ems(&["migrate", "--database-url", "mysql://root@localhost/ems"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("--database-url") && stderr.contains("postgres://"), "{stderr}");
}

#[test]
fn an_unreachable_database_is_reported_without_its_password() {
    let output =
        ems(&["migrate", "--database-url", "postgres://ems:s3cret@127.0.0.1:1/ems", "--db-connect-timeout", "2s"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("cannot connect to PostgreSQL at postgres://ems@127.0.0.1:1/ems"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn a_short_admin_password_is_refused_before_anything_is_written() {
    let output =
        ems(&["seed", "--database-url", "postgres://postgres@127.0.0.1:1/ems"], &[("EMS_ADMIN_PASSWORD", "1234")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("EMS_ADMIN_PASSWORD") && stderr.contains("8 to 128"), "{stderr}");
}

/// The status line of a plain HTTP/1.0 GET, or None while nothing listens.
fn status_line(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_owned)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn the_web_service_becomes_ready_and_stops_cleanly_on_sigterm() {
    let port = free_port();
    let database = format!("ems_cli_{}", std::process::id());
    let url = format!("postgres://postgres:postgres@127.0.0.1:5432/{database}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ems"))
        .args(["web", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &url, "--log-format", "json"])
        .env_remove("EMS_JWT_SECRET")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        if status_line(port, "/readyz").is_some_and(|line| line.contains(" 200 ")) {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(ready, "ready within 30s");

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let stopped_by = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < stopped_by, "stopped within 15s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    let logs: Vec<serde_json::Value> = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str(&line).ok())
        .collect();
    let messages: Vec<&str> = logs.iter().filter_map(|log| log["message"].as_str()).collect();
    assert!(messages.iter().any(|message| message.contains("shutdown requested")), "{messages:?}");
    assert!(messages.contains(&"web stopped"), "{messages:?}");

    let _ = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-c", &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")])
        .output();
}

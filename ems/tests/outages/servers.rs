//! Private PostgreSQL, RabbitMQ and NATS servers, one per test, on free ports and in temporary
//! directories, which a test stops and starts again. The shared services on the default ports
//! are never touched.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use uuid::Uuid;

/// How long a server may take to start or stop on a loaded machine.
const SERVER_WAIT: Duration = Duration::from_secs(120);

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).is_ok()
}

/// Waits (without blocking the runtime) until something listens on `port`.
async fn wait_for_port(what: &str, port: u16) {
    let deadline = Instant::now() + SERVER_WAIT;
    while !port_open(port) {
        assert!(Instant::now() < deadline, "{what} did not listen on 127.0.0.1:{port} within {SERVER_WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn temporary_directory(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ems-outage-{kind}-{}", &Uuid::new_v4().simple().to_string()[..12]));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn signal(pid: u32, name: &str) -> bool {
    Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).stderr(Stdio::null()).status().unwrap().success()
}

fn alive(pid: u32) -> bool {
    signal(pid, "0")
}

fn running_as_root() -> bool {
    let output = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

/// A PostgreSQL cluster of its own, made with Debian's binaries. PostgreSQL refuses to run as
/// root, so under root it runs as the `postgres` user.
pub struct Postgres {
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

impl Postgres {
    pub async fn start() -> Self {
        let dir = temporary_directory("postgres");
        let as_postgres = running_as_root();
        if as_postgres {
            run(Command::new("chown").args(["postgres:postgres", dir.to_str().unwrap()]));
        }
        let cluster = Self { port: free_port(), dir, as_postgres };
        run(cluster.tool("initdb").args([
            "-D",
            cluster.data().to_str().unwrap(),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        ]));
        cluster.up().await;
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn tool(&self, name: &str) -> Command {
        let program = format!("{PG_BIN}/{name}");
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", &program]);
            command
        } else {
            Command::new(program)
        };
        command.current_dir(&self.dir);
        command
    }

    /// A URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres:postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub async fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("postgres.log");
        let mut command = self.tool("pg_ctl");
        command.args(["-D", self.data().to_str().unwrap(), "-l", log.to_str().unwrap(), "-o", &options]);
        command.args(["-w", "-t", "120", "start"]);
        tokio::task::spawn_blocking(move || run(&mut command)).await.unwrap();
        wait_for_port("PostgreSQL", self.port).await;
    }

    /// Stops the server at once (fast shutdown: open connections are cut).
    pub async fn down(&self) {
        let mut command = self.tool("pg_ctl");
        command.args(["-D", self.data().to_str().unwrap(), "-m", "fast", "-w", "-t", "120", "stop"]);
        tokio::task::spawn_blocking(move || run(&mut command)).await.unwrap();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.tool("pg_ctl").args(["-D", self.data().to_str().unwrap(), "-m", "immediate", "stop"]).output();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A RabbitMQ node of its own: its own node name, ports, database and logs in a temporary
/// directory, its own Erlang cookie (in the HOME it is given), no plugins.
pub struct RabbitMq {
    dir: PathBuf,
    node: String,
    port: u16,
    dist_port: u16,
    child: Option<Child>,
}

impl RabbitMq {
    pub async fn start() -> Self {
        let dir = temporary_directory("rabbitmq");
        fs::write(dir.join("rabbitmq.conf"), "").unwrap();
        fs::write(dir.join("enabled_plugins"), "[].\n").unwrap();
        let cookie = dir.join(".erlang.cookie");
        fs::write(&cookie, Uuid::new_v4().simple().to_string().to_uppercase()).unwrap();
        run(Command::new("chmod").args(["400", cookie.to_str().unwrap()]));
        let node = format!("ems-outage-{}@localhost", &Uuid::new_v4().simple().to_string()[..8]);
        let mut rabbit = Self { dir, node, port: free_port(), dist_port: free_port(), child: None };
        rabbit.up().await;
        rabbit
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Starts the node and waits until it accepts AMQP connections.
    pub async fn up(&mut self) {
        let dir = &self.dir;
        let log = fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log")).unwrap();
        let child = Command::new("/usr/lib/rabbitmq/bin/rabbitmq-server")
            .current_dir(dir)
            .env("HOME", dir)
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start rabbitmq-server");
        self.child = Some(child);
        wait_for_port("RabbitMQ", self.port).await;
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("mnesia").join(format!("{}.pid", self.node))
    }

    /// Stops the node as an operator does (SIGTERM: it closes its connections and exits) and
    /// waits until it is gone.
    pub async fn down(&mut self) {
        stop_beam(&self.pid_file(), "TERM").await;
        if let Some(mut child) = self.child.take() {
            tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
        }
    }
}

async fn stop_beam(pid_file: &Path, how: &str) {
    let Ok(text) = fs::read_to_string(pid_file) else { return };
    let Ok(pid) = text.trim().parse::<u32>() else { return };
    signal(pid, how);
    let deadline = Instant::now() + SERVER_WAIT;
    while alive(pid) {
        assert!(Instant::now() < deadline, "RabbitMQ (pid {pid}) did not stop within {SERVER_WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Drop for RabbitMq {
    fn drop(&mut self) {
        if let Ok(pid) = fs::read_to_string(self.pid_file()).map(|text| text.trim().to_owned()) {
            let _ = Command::new("kill").args(["-KILL", &pid]).stderr(Stdio::null()).status();
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A NATS server of its own with JetStream, storing in a temporary directory that outlives
/// restarts.
pub struct Nats {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Nats {
    pub async fn start() -> Self {
        let mut nats = Self { dir: temporary_directory("nats"), port: free_port(), child: None };
        nats.up().await;
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub async fn up(&mut self) {
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-n", "ems-outage"])
            .args(["-sd", self.dir.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        wait_for_port("NATS", self.port).await;
    }

    /// Stops the server (SIGTERM) and waits until it is gone.
    pub async fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), "TERM");
            tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

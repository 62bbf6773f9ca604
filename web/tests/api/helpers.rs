//! `spawn_app()`: the web service on a random port with its own freshly migrated database, and
//! the little client helpers every test uses.

use std::time::Duration;

use ems_common::{Role, Shutdown, broker::BrokerArgs, config::HttpArgs, service, testing::TestDatabase};
use ems_web::{
    Events, WebArgs,
    auth::Session,
    state::LoginThrottleArgs,
    users::{NewUser, User, insert_user},
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    /// The app's NATS connection and namespace, to watch what it publishes.
    pub events: Events,
    pub amqp: std::sync::Arc<lapin::Connection>,
    shutdown: Shutdown,
    _database: TestDatabase,
}

pub struct TestSettings {
    pub login_max_failures: u32,
    pub login_lockout: Duration,
    pub ui_dir: std::path::PathBuf,
    /// The rest of the login throttle's and password checks' settings.
    pub login: LoginThrottleArgs,
}

impl Default for TestSettings {
    fn default() -> Self {
        Self {
            login_max_failures: 5,
            login_lockout: Duration::from_secs(30),
            ui_dir: "no-ui-in-tests".into(),
            login: LoginThrottleArgs::default(),
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestSettings::default()).await
}

/// Starts the API against a new database named `ems_test_<random>`, dropped when the app is.
/// The server is the real one (`ems_web::service`, served as `ems web` serves it), on port 0.
pub async fn spawn_app_with(settings: TestSettings) -> TestApp {
    let database = TestDatabase::create().await;
    let pool = database.pool.clone();

    let jwt_args = ems_common::config::JwtArgs {
        jwt_secret: Some("test-secret-test-secret-test-secret!".into()),
        jwt_secret_file: None,
        access_token_ttl: Duration::from_secs(900),
        refresh_token_ttl: Duration::from_secs(3600),
    };
    let login = LoginThrottleArgs {
        login_max_failures: settings.login_max_failures,
        login_lockout: settings.login_lockout,
        ..settings.login
    };
    let broker = BrokerArgs::local(&format!("t{}", Uuid::new_v4().simple()));
    let nats = broker.nats("ems-web-test").await.expect("NATS answers");
    let events = Events { nats, names: broker.names() };
    let reconnecting = broker.amqp_reconnecting("ems-web-test").await.expect("RabbitMQ answers");
    let amqp = reconnecting.connection();
    let shutdown = Shutdown::new();
    let web_args = WebArgs { login, ui_dir: settings.ui_dir, cookie_secure: true };
    let web = ems_web::service(
        &web_args,
        &Default::default(),
        &jwt_args,
        jwt_args.keys().unwrap(),
        pool.clone(),
        reconnecting,
        events.clone(),
        shutdown.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(service::serve_on(listener, HttpArgs::for_tests(), vec![web], shutdown.clone()));

    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    TestApp { address, client, pool, events, amqp, shutdown, _database: database }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The server stops first; the database goes when `_database` is dropped after this.
        self.shutdown.trigger();
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request reaches the server")
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.call(Method::POST, "/api/auth/login", None, Some(json!({"username": username, "password": password})))
            .await
    }

    /// Creates a user straight in the database and signs them in.
    pub async fn user_with_session(&self, username: &str, role: Role) -> (User, Session) {
        let new_user = NewUser {
            username: username.into(),
            display_name: format!("{username} Example"),
            password: PASSWORD.into(),
            role,
            time_zone: None,
        };
        let user = insert_user(&self.pool, &new_user).await.expect("insert user");
        let response = self.login(username, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "login of {username}");
        (user, response.json().await.unwrap())
    }

    pub async fn admin(&self) -> (User, String) {
        let (user, session) = self.user_with_session("root-admin", Role::Admin).await;
        (user, session.access_token)
    }

    pub async fn client_user(&self, username: &str) -> (User, String) {
        let (user, session) = self.user_with_session(username, Role::Client).await;
        (user, session.access_token)
    }

    /// Creates a device through the API as an administrator; returns its JSON.
    pub async fn create_device(&self, admin_token: &str, body: Value) -> Value {
        let response = self.post("/api/devices", admin_token, body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }
}

/// Reads an error body and returns (code, message, field names).
pub async fn error_of(response: Response) -> (String, String, Vec<String>) {
    let body: Value = response.json().await.expect("error body is JSON");
    let fields = body["fields"]
        .as_array()
        .map(|fields| fields.iter().map(|field| field["field"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    (body["code"].as_str().unwrap().to_owned(), body["message"].as_str().unwrap().to_owned(), fields)
}

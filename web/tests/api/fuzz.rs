//! A property test over every text and date parameter of the API, against the real server and
//! database: whatever text or date arrives, the answer is never a 5xx. Text is built from pieces
//! that have broken servers before (NUL, wildcards, quotes, odd Unicode, very long runs), dates
//! from years far outside what PostgreSQL stores and from fields out of range.
//!
//! This is a property test rather than a coverage-guided fuzzer: cargo-fuzz needs a nightly
//! toolchain, which CI does not have. The number of cases is bounded so that the test takes well
//! under a minute; `EMS_FUZZ_CASES` raises it for a longer hunt.

use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const DEFAULT_CASES: u32 = 100;

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\0".to_owned()),
        prop::sample::select(vec![
            "%",
            "_",
            "\\",
            "'",
            "\"",
            " ",
            "İ",
            "ß",
            "ǅ",
            "\u{FEFF}",
            "\u{10FFFF}",
            "😀",
            "e\u{301}"
        ])
        .prop_map(str::to_owned),
        "[a-z0-9._-]{1,12}",
        any::<char>().prop_map(String::from),
        any::<String>(),
        (prop::sample::select(vec!["a", "é", "😀"]), 30usize..3500).prop_map(|(unit, count)| unit.repeat(count)),
        // Long and without a pattern, so PostgreSQL cannot compress it below an index's limit.
        prop::collection::vec(prop::char::range('a', 'z'), 2700..3300).prop_map(String::from_iter),
    ];
    prop::collection::vec(piece, 0..4).prop_map(|pieces| pieces.concat())
}

fn date_text() -> impl Strategy<Value = String> {
    let year = prop_oneof![1960i32..10_010, -300_000i32..300_000];
    let date = (year, 0u32..14, 0u32..33).prop_map(|(year, month, day)| match year {
        0..=9999 => format!("{year:04}-{month:02}-{day:02}"),
        _ => format!("{year:+}-{month:02}-{day:02}"),
    });
    let zone = prop::sample::select(vec!["Z", "+00:00", "+14:00", "-12:00", "+23:59", ""]);
    prop_oneof![
        date.clone(),
        (date, 0u32..25, 0u32..61, zone)
            .prop_map(|(date, hour, minute, zone)| format!("{date}T{hour:02}:{minute:02}:00{zone}")),
        text(),
    ]
}

fn step() -> impl Strategy<Value = String> {
    prop_oneof![prop::sample::select(vec!["hour", "day", "month"]).prop_map(str::to_owned), text()]
}

#[derive(Debug, Clone)]
struct Inputs {
    texts: [String; 3],
    dates: [String; 2],
    step: String,
}

fn inputs() -> impl Strategy<Value = Inputs> {
    ((text(), text(), text()), (date_text(), date_text()), step()).prop_map(|((a, b, c), (from, to), step)| Inputs {
        texts: [a, b, c],
        dates: [from, to],
        step,
    })
}

struct Fixture {
    app: TestApp,
    admin: String,
    client: String,
    client_id: String,
    device_id: String,
}

fn with_token(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.bearer_auth(token)
}

/// Every request that carries text or a date, each built from the same inputs.
fn requests(fixture: &Fixture, inputs: &Inputs) -> Vec<(String, RequestBuilder)> {
    let Fixture { app, admin, client, client_id, device_id } = fixture;
    let [a, b, c] = &inputs.texts;
    let [from, to] = &inputs.dates;
    let get = |path: &str, token: &str, query: Vec<(&str, &str)>| {
        (format!("GET {path} {query:?}"), with_token(app.client.get(app.url(path)), token).query(&query))
    };
    let send = |method: Method, path: &str, token: Option<&str>, body: Value| {
        let mut request = app.client.request(method.clone(), app.url(path)).json(&body);
        if let Some(token) = token {
            request = with_token(request, token);
        }
        (format!("{method} {path} {body}"), request)
    };
    let consumption = format!("/api/devices/{device_id}/consumption");
    let device = format!("/api/devices/{device_id}");
    let user = format!("/api/users/{client_id}");
    vec![
        get("/api/users", admin, vec![("q", a), ("role", b)]),
        get("/api/devices", admin, vec![("q", b)]),
        get("/api/me/devices", client, vec![("q", c)]),
        get("/api/alerts", admin, vec![("q", a), ("from", from), ("to", to), ("kind", c)]),
        get("/api/alerts", client, vec![("from", to), ("to", from)]),
        get("/api/support/conversations", admin, vec![("q", b), ("mode", a)]),
        get(&consumption, admin, vec![("from", from), ("to", to), ("step", &inputs.step)]),
        get("/api/me/consumption", client, vec![("date", from)]),
        send(Method::POST, "/api/auth/login", None, json!({"username": a, "password": b})),
        send(Method::POST, "/api/auth/refresh", None, json!({"refresh_token": c})),
        send(Method::POST, "/api/auth/logout", None, json!({"refresh_token": a})),
        send(Method::POST, "/api/users", Some(admin), json!({"username": a, "display_name": b, "password": c})),
        send(Method::PATCH, &user, Some(admin), json!({"display_name": c})),
        send(Method::PATCH, &user, Some(admin), json!({"username": b})),
        send(Method::PUT, &format!("{user}/password"), Some(admin), json!({"password": a})),
        send(
            Method::POST,
            "/api/devices",
            Some(admin),
            json!({"name": a, "description": b, "location": c, "max_hourly_kwh": 1.5}),
        ),
        send(Method::PATCH, &device, Some(admin), json!({"name": b, "description": c, "location": a})),
    ]
}

/// A request's description cut to a readable length (the inputs can be thousands of characters).
fn shorten(what: &str) -> String {
    const KEEP: usize = 300;
    match what.char_indices().nth(KEEP) {
        Some((end, _)) => format!("{}… ({} characters)", &what[..end], what.chars().count()),
        None => what.to_owned(),
    }
}

async fn check(fixture: &Fixture, inputs: &Inputs) -> Result<(), TestCaseError> {
    for (what, request) in requests(fixture, inputs) {
        let what = shorten(&what);
        let response = match request.send().await {
            Ok(response) => response,
            // A URL too long for the client to build never reaches the server.
            Err(error) if error.is_builder() => continue,
            Err(error) => return Err(TestCaseError::fail(format!("{what}: {}", shorten(&error.to_string())))),
        };
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        prop_assert!(!status.is_server_error(), "got {status} ({body}) for {what}");
    }
    Ok(())
}

#[test]
fn no_text_or_date_in_any_parameter_gets_a_server_error() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let fixture = runtime.block_on(async {
        let app = spawn_app().await;
        let (_, admin) = app.admin().await;
        let (client_user, client) = app.client_user("ana").await;
        let device = app.create_device(&admin, json!({"name": "Kitchen", "max_hourly_kwh": 2.0})).await;
        let device_id = device["id"].as_str().unwrap().to_owned();
        let client_id = client_user.id.to_string();
        Fixture { app, admin, client, client_id, device_id }
    });
    let cases = std::env::var("EMS_FUZZ_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(DEFAULT_CASES);
    // Shrinking replays requests against the server; a bounded number still finds a small input.
    let config = Config { cases, max_shrink_iters: 200, failure_persistence: None, ..Config::default() };
    let result = TestRunner::new(config).run(&inputs(), |inputs| runtime.block_on(check(&fixture, &inputs)));
    runtime.block_on(async move { drop(fixture) });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

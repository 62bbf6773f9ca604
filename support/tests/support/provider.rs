//! A local AI provider on 127.0.0.1:0 that speaks the OpenAI and Gemini wire formats, answers as
//! scripted, counts the requests it receives and keeps them for inspection.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use ems_support::{AiConfig, ChatModel, Provider};
use serde_json::{Value, json};
use tokio::sync::watch;

/// How the provider answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Text(&'static str),
    Status(u16),
    /// HTTP 200 with a body that is not JSON.
    Malformed,
    /// Never answers.
    Hang,
    /// Answers with the text once the test opens the gate.
    Gated(Gate, &'static str),
    /// Answers with the text after this long, like a provider that is slow to think.
    Slow(Duration, &'static str),
}

/// Holds a [`Reply::Gated`] back until [`GateOpener::open`].
#[derive(Clone, Debug)]
pub struct Gate(watch::Receiver<bool>);

pub struct GateOpener(watch::Sender<bool>);

impl Gate {
    pub fn closed() -> (GateOpener, Gate) {
        let (opener, gate) = watch::channel(false);
        (GateOpener(opener), Gate(gate))
    }
}

impl GateOpener {
    pub fn open(&self) {
        self.0.send_replace(true);
    }
}

#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

struct Script {
    replies: VecDeque<Reply>,
    /// Used once the scripted replies run out.
    then: Option<Reply>,
    received: Vec<Received>,
    /// How many requests came, for tests that wait for one.
    requests: watch::Sender<usize>,
}

pub struct FakeProvider {
    pub url: String,
    script: Arc<Mutex<Script>>,
    requests: watch::Receiver<usize>,
}

impl FakeProvider {
    /// Answers with `replies` in turn, then with `then` for ever.
    pub async fn start(replies: Vec<Reply>, then: Reply) -> Self {
        let (counter, requests) = watch::channel(0);
        let script = Arc::new(Mutex::new(Script {
            replies: replies.into(),
            then: Some(then),
            received: Vec::new(),
            requests: counter,
        }));
        let app = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/v1beta/models/{target}", post(gemini))
            .with_state(Arc::clone(&script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, script, requests }
    }

    /// Waits until at least `count` requests have come.
    pub async fn wait_for_requests(&self, count: usize) {
        let mut requests = self.requests.clone();
        tokio::time::timeout(Duration::from_secs(10), requests.wait_for(|received| *received >= count))
            .await
            .unwrap_or_else(|_| panic!("{count} requests reached the provider within 10 s"))
            .expect("the provider is running");
    }

    /// The customer's message in each request received, in order (OpenAI format).
    pub fn questions(&self) -> Vec<String> {
        let question = |request: &Received| {
            let messages = request.body["messages"].as_array().expect("a chat-completions request");
            messages.last().and_then(|message| message["content"].as_str()).unwrap_or_default().to_owned()
        };
        self.received().iter().map(question).collect()
    }

    pub fn hits(&self) -> usize {
        self.script.lock().unwrap().received.len()
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    /// A configuration for this server with short waits, so failing tests fail quickly.
    pub fn config(&self, provider: Provider) -> AiConfig {
        let base_url = match provider {
            Provider::OpenAi => format!("{}/v1", self.url),
            _ => self.url.clone(),
        };
        AiConfig {
            provider,
            base_url,
            model: "test-model".into(),
            api_key: Some("test-key".into()),
            timeout: Duration::from_secs(5),
            max_retries: 2,
            backoff: Duration::from_millis(10),
            failure_threshold: 10,
            cooldown: Duration::from_secs(600),
        }
    }

    pub fn model(&self, config: &AiConfig) -> Box<dyn ChatModel> {
        ems_support::ai::build(config).expect("a valid configuration").expect("a provider is configured")
    }
}

fn next_reply(script: &Mutex<Script>, received: Received) -> Reply {
    let mut script = script.lock().unwrap();
    script.received.push(received);
    let count = script.received.len();
    script.requests.send_replace(count);
    script.replies.pop_front().or_else(|| script.then.clone()).expect("a reply is scripted")
}

async fn openai(State(script): State<Arc<Mutex<Script>>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let reply = next_reply(&script, Received { path: "/v1/chat/completions".into(), headers, body });
    respond(reply, |text| json!({ "choices": [{ "index": 0, "message": { "role": "assistant", "content": text } }] }))
        .await
}

async fn gemini(
    State(script): State<Arc<Mutex<Script>>>,
    Path(target): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let reply = next_reply(&script, Received { path: format!("/v1beta/models/{target}"), headers, body });
    // Gemini may split a reply into several parts; the client must join them.
    respond(reply, |text| {
        let (first, second) = text.split_at(text.len() / 2);
        json!({ "candidates": [{ "content": { "role": "model", "parts": [{ "text": first }, { "text": second }] } }] })
    })
    .await
}

async fn respond(reply: Reply, body: impl Fn(&str) -> Value) -> Response {
    match reply {
        Reply::Text(text) => Json(body(text)).into_response(),
        Reply::Status(status) => {
            (StatusCode::from_u16(status).unwrap(), Json(json!({ "error": { "message": "scripted failure" } })))
                .into_response()
        }
        Reply::Malformed => (StatusCode::OK, "{\"choices\": [ this is not JSON").into_response(),
        Reply::Hang => std::future::pending().await,
        Reply::Gated(Gate(mut gate), text) => {
            let _ = gate.wait_for(|open| *open).await;
            Json(body(text)).into_response()
        }
        Reply::Slow(delay, text) => {
            tokio::time::sleep(delay).await;
            Json(body(text)).into_response()
        }
    }
}

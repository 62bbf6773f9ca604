//! AI chat models behind one trait, and how one is built from configuration. Every provider is
//! wrapped in [`resilient::Resilient`], which adds the timeout, the retries and the circuit breaker,
//! so the providers themselves only speak their wire format.

mod gemini;
mod openai;
pub(crate) mod prompt;
mod resilient;

use std::{fmt, str::FromStr, time::Duration};

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use crate::breaker::CircuitBreaker;

pub use prompt::{ChatRole, Message, Prompt};

#[async_trait]
pub trait ChatModel: Send + Sync {
    /// The model's reply to the conversation in `prompt`; never empty.
    async fn reply(&self, prompt: &Prompt) -> Result<String, AiError>;
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AiError {
    #[error("the AI provider did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the AI provider: {0}")]
    Transport(String),
    #[error("the AI provider answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the AI provider's reply is not in the expected format: {0}")]
    Malformed(String),
    #[error("the AI provider's reply is empty")]
    Empty,
    #[error("the AI provider kept failing; it is not asked again until a cooldown has passed")]
    CircuitOpen,
}

impl AiError {
    /// Whether trying again may help: the provider was slow, unreachable, overloaded or broken
    /// for a moment. Other client errors (bad key, unknown model) will not fix themselves.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::Transport(_) => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Malformed(_) | Self::Empty | Self::CircuitOpen => false,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Provider {
    /// No AI: what no rule answers goes to an administrator.
    #[default]
    None,
    /// Any OpenAI-compatible chat-completions API: OpenAI, Mistral, Hugging Face's router,
    /// Ollama, llama.cpp, vLLM.
    OpenAi,
    /// Google's Gemini `generateContent` API.
    Gemini,
}

impl Provider {
    /// The public endpoint used when no base URL is configured.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::OpenAi => Some("https://api.openai.com/v1"),
            Self::Gemini => Some("https://generativelanguage.googleapis.com"),
        }
    }
}

impl FromStr for Provider {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "none" | "" => Ok(Self::None),
            "openai" => Ok(Self::OpenAi),
            "gemini" => Ok(Self::Gemini),
            _ => Err(format!("expected none, openai or gemini, got {value:?}")),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::None => "none",
            Self::OpenAi => "openai",
            Self::Gemini => "gemini",
        })
    }
}

/// Which AI answers, and how patiently.
#[derive(Clone)]
pub struct AiConfig {
    pub provider: Provider,
    /// Empty for the provider's public endpoint; e.g. `http://127.0.0.1:11434/v1` for Ollama.
    pub base_url: String,
    pub model: String,
    /// Sent as a bearer token (OpenAI-compatible) or `x-goog-api-key` (Gemini); never logged.
    pub api_key: Option<String>,
    /// Longest wait for one request.
    pub timeout: Duration,
    /// Further attempts after a timeout, a 5xx or a 429.
    pub max_retries: u32,
    /// Wait before the first retry; it doubles for each further one, with jitter.
    pub backoff: Duration,
    /// Consecutive failed requests that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit turns calls away before letting a probe through.
    pub cooldown: Duration,
}

impl Default for AiConfig {
    fn default() -> Self {
        Self {
            provider: Provider::None,
            base_url: String::new(),
            model: String::new(),
            api_key: None,
            timeout: Duration::from_secs(20),
            max_retries: 2,
            backoff: Duration::from_millis(500),
            failure_threshold: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for AiConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AiConfig")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("backoff", &self.backoff)
            .field("failure_threshold", &self.failure_threshold)
            .field("cooldown", &self.cooldown)
            .finish()
    }
}

/// The configured model with its timeout, retries and circuit breaker, or `None` when no
/// provider is configured. Fails, naming the setting, when the configuration cannot work.
pub fn build(config: &AiConfig) -> anyhow::Result<Option<Box<dyn ChatModel>>> {
    let client: fn(Endpoint) -> Box<dyn ChatModel> = match config.provider {
        Provider::None => return Ok(None),
        Provider::OpenAi => |endpoint| Box::new(openai::OpenAi::new(endpoint)),
        Provider::Gemini => |endpoint| Box::new(gemini::Gemini::new(endpoint)),
    };
    let base_url = match config.base_url.trim() {
        "" => config.provider.default_base_url().unwrap_or_default(),
        url => url.trim_end_matches('/'),
    };
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        anyhow::bail!("the AI base URL must start with http:// or https://, got {base_url:?}");
    }
    if config.model.trim().is_empty() {
        anyhow::bail!("an AI model name is required with the {} provider", config.provider);
    }
    if config.timeout.is_zero() {
        anyhow::bail!("the AI timeout must be longer than zero");
    }
    if config.failure_threshold == 0 {
        anyhow::bail!("the AI failure threshold must be at least 1");
    }
    let endpoint = Endpoint {
        http: reqwest::Client::builder().connect_timeout(config.timeout).build()?,
        base_url: base_url.to_owned(),
        model: config.model.trim().to_owned(),
        api_key: config.api_key.clone().filter(|key| !key.is_empty()),
    };
    let policy =
        resilient::Policy { timeout: config.timeout, max_retries: config.max_retries, backoff: config.backoff };
    let breaker = CircuitBreaker::new(config.failure_threshold, config.cooldown);
    Ok(Some(Box::new(resilient::Resilient::new(client(endpoint), policy, breaker))))
}

/// Where and as whom a provider client talks.
struct Endpoint {
    http: reqwest::Client,
    /// Without a trailing slash.
    base_url: String,
    model: String,
    api_key: Option<String>,
}

/// Reads a provider's JSON reply, turning an error status into [`AiError::Status`] with the
/// start of its body (providers explain there what was wrong).
async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, AiError> {
    let status = response.status();
    let body = response.bytes().await.map_err(|error| AiError::Transport(error.to_string()))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        return Err(AiError::Status { status: status.as_u16(), body: text.chars().take(300).collect() });
    }
    serde_json::from_slice(&body).map_err(|error| AiError::Malformed(error.to_string()))
}

fn transport(error: reqwest::Error) -> AiError {
    AiError::Transport(error.without_url().to_string())
}

/// A reply with only whitespace is no answer.
fn non_empty(text: String) -> Result<String, AiError> {
    let trimmed = text.trim();
    if trimmed.is_empty() { Err(AiError::Empty) } else { Ok(trimmed.to_owned()) }
}

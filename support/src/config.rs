//! The settings of `ems support`, each documented for `--help`, and their checks at start.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use clap::Args;
use ems_common::{
    broker::BrokerArgs,
    config::{DatabaseArgs, HttpArgs, duration_between, parse_duration},
};

use crate::{AiConfig, Faq, Provider, Rules, SemanticMatcher, consumer::Limits, semantic::Embedder};

/// The default `--embedding-threshold`: from the evaluation on `support/eval/paraphrases.toml`
/// (docs/support.md), where it answered most paraphrases rightly and few wrongly.
pub const DEFAULT_EMBEDDING_THRESHOLD: f32 = 0.6;

/// Bounds of `--support-concurrency`.
const CONCURRENCY: std::ops::RangeInclusive<usize> = 1..=1024;

/// The shortest `--support-ack-wait`: a lease is renewed every quarter of it, and each renewal
/// must reach NATS in time.
const SHORTEST_ACK_WAIT: Duration = Duration::from_secs(1);

#[derive(Args, Clone, Debug)]
pub struct SupportArgs {
    /// AI provider after the rules: `none` (hand straight to administrators), `openai` (any
    /// OpenAI-compatible chat-completions API: OpenAI, Mistral, Hugging Face, Ollama, llama.cpp,
    /// vLLM) or `gemini`.
    #[arg(long, env = "EMS_AI_PROVIDER", default_value = "none")]
    pub ai_provider: Provider,

    /// Base URL of the AI API, e.g. `http://127.0.0.1:11434/v1` for Ollama; empty for the
    /// provider's public endpoint.
    #[arg(long, env = "EMS_AI_BASE_URL", default_value = "")]
    pub ai_base_url: String,

    /// Model name, e.g. `gpt-4o-mini`, `mistral-small-latest`, `llama3.2`, `gemini-2.0-flash`.
    #[arg(long, env = "EMS_AI_MODEL", default_value = "")]
    pub ai_model: String,

    /// API key of the AI provider.
    #[arg(long, env = "EMS_AI_API_KEY", hide_env_values = true, conflicts_with = "ai_api_key_file")]
    pub ai_api_key: Option<String>,

    /// File holding the AI provider's key (Docker secrets).
    #[arg(long, env = "EMS_AI_API_KEY_FILE")]
    pub ai_api_key_file: Option<PathBuf>,

    /// Longest wait for one AI request.
    #[arg(long, env = "EMS_AI_TIMEOUT", default_value = "20s", value_parser = duration_between("100ms", "10m"))]
    pub ai_timeout: Duration,

    /// Further AI attempts after a timeout, a 5xx or a 429.
    #[arg(long, env = "EMS_AI_MAX_RETRIES", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub ai_max_retries: u32,

    /// Wait before the first AI retry; doubles for each further one.
    #[arg(long, env = "EMS_AI_BACKOFF", default_value = "500ms", value_parser = duration_between("0s", "1m"))]
    pub ai_backoff: Duration,

    /// Consecutive AI failures after which it is not asked for a while (circuit breaker).
    #[arg(long, env = "EMS_AI_FAILURE_THRESHOLD", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub ai_failure_threshold: u32,

    /// How long the AI is left alone once the circuit opens.
    #[arg(long, env = "EMS_AI_COOLDOWN", default_value = "30s", value_parser = duration_between("100ms", "1h"))]
    pub ai_cooldown: Duration,

    /// A rules file to use instead of the built-in one (same format as support/rules.toml).
    #[arg(long, env = "EMS_SUPPORT_RULES")]
    pub rules_file: Option<PathBuf>,

    /// A FAQ file to use instead of the built-in one (same format as support/faq.toml). Its
    /// entries answer only by meaning, so only when --embedding-model is set.
    #[arg(long, env = "EMS_SUPPORT_FAQ")]
    pub faq_file: Option<PathBuf>,

    /// Directory of the sentence-embedding model (all-MiniLM-L6-v2: config.json, tokenizer.json,
    /// model.safetensors) that matches by meaning the messages no rule's pattern matches, against
    /// the rules' examples and the FAQ. `scripts/fetch-model.sh` downloads it and prints the
    /// directory. Unset, or without those files, support answers by keywords alone.
    #[arg(long, env = "EMS_EMBEDDING_MODEL")]
    pub embedding_model: Option<PathBuf>,

    /// Cosine similarity, above 0 and at most 1, from which the nearest example answers a
    /// message; below it the message goes to the AI or an administrator. Higher answers fewer
    /// messages and gets fewer wrong.
    #[arg(long, env = "EMS_EMBEDDING_THRESHOLD", default_value_t = DEFAULT_EMBEDDING_THRESHOLD)]
    pub embedding_threshold: f32,

    /// Name of the durable JetStream consumer; every support instance with the same name shares
    /// the work.
    #[arg(long, env = "EMS_SUPPORT_CONSUMER", default_value = "support")]
    pub consumer: String,

    /// Chat messages one support instance holds at once, between 1 and 1024. Different
    /// customers' messages are answered in parallel; one customer's are answered one after the
    /// other, in the order they arrived, and wait in this count meanwhile.
    #[arg(long, env = "EMS_SUPPORT_CONCURRENCY", default_value_t = 16)]
    pub support_concurrency: usize,

    /// How long JetStream waits for a chat message to be settled before offering it again: the
    /// time after which the messages of an instance that died are answered by another. At least
    /// 1s. Support renews the lease of each message it holds every quarter of this, so a slow AI
    /// answer is never redelivered while it is under way.
    #[arg(long, env = "EMS_SUPPORT_ACK_WAIT", default_value = "60s", value_parser = parse_duration)]
    pub support_ack_wait: Duration,
}

#[derive(Args, Clone, Debug)]
pub struct SupportConfig {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub broker: BrokerArgs,
    #[command(flatten)]
    pub support: SupportArgs,
}

impl SupportArgs {
    pub(crate) fn limits(&self) -> anyhow::Result<Limits> {
        if !CONCURRENCY.contains(&self.support_concurrency) {
            anyhow::bail!(
                "--support-concurrency (EMS_SUPPORT_CONCURRENCY) must be between {} and {}, got {}",
                CONCURRENCY.start(),
                CONCURRENCY.end(),
                self.support_concurrency
            );
        }
        if self.support_ack_wait < SHORTEST_ACK_WAIT {
            anyhow::bail!(
                "--support-ack-wait (EMS_SUPPORT_ACK_WAIT) must be at least {SHORTEST_ACK_WAIT:?}, got {:?}",
                self.support_ack_wait
            );
        }
        Ok(Limits { concurrency: self.support_concurrency, ack_wait: self.support_ack_wait })
    }

    pub(crate) fn ai_config(&self) -> anyhow::Result<AiConfig> {
        let api_key = match (&self.ai_api_key, &self.ai_api_key_file) {
            (Some(key), _) => Some(key.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the AI key file {} (--ai-api-key-file)", path.display()))?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => None,
        };
        Ok(AiConfig {
            provider: self.ai_provider,
            base_url: self.ai_base_url.clone(),
            model: self.ai_model.clone(),
            api_key,
            timeout: self.ai_timeout,
            max_retries: self.ai_max_retries,
            backoff: self.ai_backoff,
            failure_threshold: self.ai_failure_threshold,
            cooldown: self.ai_cooldown,
        })
    }

    pub(crate) fn faq(&self, rules: &Rules) -> anyhow::Result<Faq> {
        load_faq(self.faq_file.as_deref(), rules)
    }

    /// The matcher by meaning, or None when no model is configured or its files are missing
    /// (support then answers by keywords alone; logged once here). Loads the model and embeds
    /// every example: CPU work of a few seconds, to be run off the async runtime.
    pub(crate) fn semantic(&self, rules: &Rules, faq: &Faq) -> anyhow::Result<Option<SemanticMatcher>> {
        let threshold = self.embedding_threshold;
        if !(threshold > 0.0 && threshold <= 1.0) {
            anyhow::bail!(
                "--embedding-threshold (EMS_EMBEDDING_THRESHOLD) must be above 0 and at most 1, got {threshold}"
            );
        }
        let Some(dir) = &self.embedding_model else {
            tracing::info!(
                "matching by meaning is off: questions no rule's keywords match go to the AI or an administrator; \
                 to turn it on, run scripts/fetch-model.sh and set EMS_EMBEDDING_MODEL (--embedding-model) to the \
                 directory it prints"
            );
            return Ok(None);
        };
        if !Embedder::present(dir) {
            let error = Embedder::load(dir).err().map(|error| error.to_string()).unwrap_or_default();
            tracing::warn!(%error, "matching by meaning is off: answering by keywords alone");
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let matcher = SemanticMatcher::load(dir, rules, faq, threshold)
            .with_context(|| format!("loading the embedding model in {} (--embedding-model)", dir.display()))?;
        tracing::info!(
            model = %dir.display(),
            examples = matcher.examples(),
            threshold,
            load_ms = started.elapsed().as_millis() as u64,
            "matching by meaning is on"
        );
        Ok(Some(matcher))
    }

    pub(crate) fn rules(&self) -> anyhow::Result<Rules> {
        load_rules(self.rules_file.as_deref())
    }
}

/// The rules file at `path` (--rules-file), or the built-in one.
pub(crate) fn load_rules(path: Option<&Path>) -> anyhow::Result<Rules> {
    match path {
        Some(path) => Rules::load(path).with_context(|| format!("the rules file {} (--rules-file)", path.display())),
        None => Ok(Rules::builtin()),
    }
}

/// The FAQ file at `path` (--faq-file), or the built-in one, checked against `rules`.
pub(crate) fn load_faq(path: Option<&Path>, rules: &Rules) -> anyhow::Result<Faq> {
    let faq = match path {
        Some(path) => Faq::load(path).with_context(|| format!("the FAQ file {} (--faq-file)", path.display()))?,
        None => Faq::builtin(),
    };
    faq.check_against(rules).context("the FAQ does not fit the rules file")?;
    Ok(faq)
}

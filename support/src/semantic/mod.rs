//! Matching by meaning: a message no rule's pattern matches is compared with the rules' `examples`
//! and the FAQ's questions by a local sentence-embedding model (all-MiniLM-L6-v2 through candle),
//! and gets the answer of the nearest one when it is similar enough (cosine similarity at least
//! the threshold). The model is optional and loaded from a directory given in the configuration;
//! without it support answers by keywords alone.
//!
//! The examples are embedded once, when the matcher is built. A message is embedded on a
//! blocking thread (`spawn_blocking`): a few milliseconds of CPU that must not stall the async
//! runtime answering other customers meanwhile.

mod embedder;
mod index;

use std::{collections::HashMap, path::Path, sync::Arc, time::Instant};

pub use embedder::{Embedder, EmbedderError, MODEL_FILES};
use index::{Entry, Index};

use crate::{Faq, Rules, normalize::words};

/// What an example stands for: a rule or a FAQ entry, by id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Rule(String),
    Faq(String),
}

impl Target {
    pub fn id(&self) -> &str {
        match self {
            Self::Rule(id) | Self::Faq(id) => id,
        }
    }
}

/// The example nearest a message, whether or not it is near enough to answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Nearest {
    pub target: Target,
    /// Cosine similarity of the message and the example, from -1 to 1.
    pub similarity: f32,
    /// The language of the example, when its rule or FAQ entry names one.
    pub language: Option<String>,
}

/// The embedding model with the examples it matches against.
#[derive(Clone)]
pub struct SemanticMatcher {
    embedder: Arc<Embedder>,
    index: Arc<Index>,
    /// The FAQ whose questions are in the index, for its answers.
    faq: Arc<Faq>,
    threshold: f32,
    /// Thresholds of the languages whose [[language]] table sets one.
    thresholds: Arc<HashMap<String, f32>>,
}

impl SemanticMatcher {
    /// Embeds every example of `rules` and every question of `faq`. CPU work of a second or two:
    /// call it at start, off the async runtime.
    pub fn build(embedder: Embedder, rules: &Rules, faq: &Faq, threshold: f32) -> Result<Self, EmbedderError> {
        let mut texts: Vec<&str> = Vec::new();
        let mut entries: Vec<(Target, Option<String>, Option<usize>)> = Vec::new();
        for rule in rules.iter() {
            for example in rule.examples() {
                texts.push(example);
                entries.push((
                    Target::Rule(rule.id().to_owned()),
                    rule.language().map(str::to_owned),
                    rule.max_words(),
                ));
            }
        }
        for entry in faq.iter() {
            for question in entry.questions() {
                texts.push(question);
                entries.push((Target::Faq(entry.id().to_owned()), entry.language().map(str::to_owned), None));
            }
        }
        let vectors = embedder.embed_all(&texts)?;
        let index = entries
            .into_iter()
            .zip(vectors)
            .map(|((target, language, max_words), vector)| Entry { target, language, max_words, vector })
            .collect();
        let thresholds = rules
            .languages()
            .filter_map(|language| Some((language.to_owned(), rules.embedding_threshold(language)?)))
            .collect();
        Ok(Self {
            embedder: Arc::new(embedder),
            index: Arc::new(Index::new(index)),
            faq: Arc::new(faq.clone()),
            threshold,
            thresholds: Arc::new(thresholds),
        })
    }

    /// Loads the model in `dir` and builds the matcher; see [`Self::build`].
    pub fn load(dir: &Path, rules: &Rules, faq: &Faq, threshold: f32) -> Result<Self, EmbedderError> {
        Self::build(Embedder::load(dir)?, rules, faq, threshold)
    }

    /// The FAQ entries a match may name.
    pub fn faq(&self) -> &Faq {
        &self.faq
    }

    /// The similarity from which a match with an example in `language` answers: the language's
    /// own threshold if the rules file sets one, else --embedding-threshold.
    pub fn threshold(&self, language: Option<&str>) -> f32 {
        language.and_then(|language| self.thresholds.get(language)).copied().unwrap_or(self.threshold)
    }

    /// How many example questions the matcher compares a message with.
    pub fn examples(&self) -> usize {
        self.index.len()
    }

    /// The example nearest `message` among those in `language` (or in none) whose rule admits a
    /// message of its length, whether or not it is near enough: [`Self::answers`] says that.
    pub async fn nearest(&self, message: &str, language: Option<&str>) -> Result<Option<Nearest>, EmbedderError> {
        let embedder = Arc::clone(&self.embedder);
        let text = message.to_owned();
        let started = Instant::now();
        let query = tokio::task::spawn_blocking(move || embedder.embed(&text))
            .await
            .map_err(|error| EmbedderError::Thread(error.to_string()))??;
        metrics::histogram!("support_embedding_seconds").record(started.elapsed().as_secs_f64());
        let found = self.index.nearest(&query, language, words(message).len());
        Ok(found.map(|found| Nearest {
            target: found.entry.target.clone(),
            similarity: found.similarity,
            language: found.entry.language.clone(),
        }))
    }

    /// Whether a match this similar answers the message.
    pub fn answers(&self, nearest: &Nearest) -> bool {
        nearest.similarity >= self.threshold(nearest.language.as_deref())
    }
}

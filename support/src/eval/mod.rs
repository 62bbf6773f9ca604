//! The evaluation of matching by meaning (`ems bench support`): held-out paraphrases answered by
//! keywords alone and by keywords plus the embedding model, counted as answered rightly, wrongly
//! or handed over to a person, with the time the model takes per message.
//!
//! Only the decision is evaluated ([`Support::route`]): which rule or FAQ entry answers, before
//! any customer data is read, and with no AI (what nothing matches goes to a person).

mod paraphrases;
mod report;

use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use async_trait::async_trait;
use chrono::NaiveDate;
use clap::Args;
use uuid::Uuid;

pub use paraphrases::{HANDOFF, Paraphrase};
pub use report::{Evaluation, Latency, ModelFigures, Tally};

use crate::{
    CustomerData, DeviceSummary, OpenAlerts, Route, Rules, SemanticMatcher, Support,
    config::{DEFAULT_EMBEDDING_THRESHOLD, load_faq, load_rules},
    semantic::{Nearest, Target},
};

/// The settings of `ems bench support`.
#[derive(Args, Clone, Debug)]
pub struct EvalArgs {
    /// Directory of the embedding model (what `scripts/fetch-model.sh` prints).
    #[arg(long, env = "EMS_EMBEDDING_MODEL")]
    pub embedding_model: PathBuf,

    /// Similarity from which the nearest example answers (as `ems support --embedding-threshold`).
    #[arg(long, env = "EMS_EMBEDDING_THRESHOLD", default_value_t = DEFAULT_EMBEDDING_THRESHOLD)]
    pub embedding_threshold: f32,

    /// Held-out questions, each with the rule or FAQ id that should answer it, or "handoff"
    /// (format of support/eval/paraphrases.toml; that file when not given).
    #[arg(long)]
    pub paraphrases: Option<PathBuf>,

    /// A rules file instead of the built-in one.
    #[arg(long, env = "EMS_SUPPORT_RULES")]
    pub rules_file: Option<PathBuf>,

    /// A FAQ file instead of the built-in one.
    #[arg(long, env = "EMS_SUPPORT_FAQ")]
    pub faq_file: Option<PathBuf>,
}

/// How one paraphrase was dealt with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Answered by the rule or FAQ entry it expects, or handed to a person as it expects.
    Correct,
    /// Answered by another rule or FAQ entry, or answered when it should reach a person.
    Wrong,
    /// Handed to a person though a rule or FAQ entry should have answered.
    HandedOver,
}

/// Loads the model, answers every paraphrase both ways and counts.
pub async fn run(args: EvalArgs) -> anyhow::Result<Evaluation> {
    let threshold = args.embedding_threshold;
    anyhow::ensure!(
        threshold > 0.0 && threshold <= 1.0,
        "--embedding-threshold must be above 0 and at most 1, got {threshold}"
    );
    let rules = load_rules(args.rules_file.as_deref())?;
    let faq = load_faq(args.faq_file.as_deref(), &rules)?;
    let paraphrases = paraphrases::load(args.paraphrases.as_deref(), &rules, &faq)?;

    let memory_before = resident_bytes();
    let started = Instant::now();
    let dir = args.embedding_model.clone();
    let matcher = {
        let (rules, faq) = (rules.clone(), faq.clone());
        tokio::task::spawn_blocking(move || SemanticMatcher::load(&dir, &rules, &faq, threshold))
            .await?
            .with_context(|| format!("loading the embedding model in {}", args.embedding_model.display()))?
    };
    let model = ModelFigures {
        load: started.elapsed(),
        examples: matcher.examples(),
        resident_bytes: resident_bytes().zip(memory_before).map(|(after, before)| after.saturating_sub(before)),
    };

    let mut thresholds = format!("{threshold:.2}");
    for language in rules.languages() {
        if let Some(own) = rules.embedding_threshold(language) {
            thresholds.push_str(&format!(", {language} {own:.2}"));
        }
    }
    let keywords = Support::new(rules.clone(), Box::new(NoData), None);
    let with_model = Support::new(rules.clone(), Box::new(NoData), None).with_semantic(matcher);
    let mut cases = Vec::with_capacity(paraphrases.len());
    let mut embedding_times = Vec::new();
    for paraphrase in paraphrases {
        let by_keywords = keywords.route(&paraphrase.text).await;
        let started = Instant::now();
        let by_model = with_model.route(&paraphrase.text).await;
        let elapsed = started.elapsed();
        let keyword_match = by_keywords.id().is_some();
        if !keyword_match {
            embedding_times.push(elapsed);
        }
        cases.push(Case {
            by_keywords: judge(&paraphrase, answering(&by_keywords)),
            by_model: judge(&paraphrase, answering(&by_model)),
            answered_by: answering(&by_model).map(str::to_owned),
            keyword_match,
            nearest: nearest_of(&by_model, &rules),
            paraphrase,
        });
    }
    Ok(Evaluation::new(cases, thresholds, Latency::of(embedding_times), model))
}

/// One paraphrase, answered both ways.
#[derive(Clone, Debug)]
pub struct Case {
    pub paraphrase: Paraphrase,
    pub by_keywords: Verdict,
    pub by_model: Verdict,
    /// The rule or FAQ entry that answered with the model; None when it went to a person.
    pub answered_by: Option<String>,
    /// Whether a rule's pattern matched, so the model was not asked.
    pub keyword_match: bool,
    /// The example nearest in meaning, when the model was asked.
    pub nearest: Option<NearestExample>,
}

/// The example nearest a paraphrase in meaning.
#[derive(Clone, Debug)]
pub struct NearestExample {
    pub similarity: f32,
    /// The rule or FAQ entry that would answer were the threshold at most `similarity`; None
    /// for a rule that hands off to a person.
    pub answers: Option<String>,
}

impl Case {
    /// The verdict with the model at another `threshold`: the nearest example is the same at
    /// every threshold, only whether it answers changes.
    pub fn by_model_at(&self, threshold: f32) -> Verdict {
        match &self.nearest {
            _ if self.keyword_match => self.by_keywords,
            Some(nearest) if nearest.similarity >= threshold => judge(&self.paraphrase, nearest.answers.as_deref()),
            _ => judge(&self.paraphrase, None),
        }
    }
}

/// The rule or FAQ entry that answers by `route`; None when it goes to a person (support here
/// has no AI).
fn answering<'a>(route: &'a Route<'_>) -> Option<&'a str> {
    match route {
        Route::Rule { rule, .. } if rule.hands_off() => None,
        route => route.id(),
    }
}

/// The verdict on `paraphrase` answered by `answered` (None: handed to a person).
pub fn judge(paraphrase: &Paraphrase, answered: Option<&str>) -> Verdict {
    match answered {
        None if paraphrase.expects_handoff() => Verdict::Correct,
        None => Verdict::HandedOver,
        Some(id) if id == paraphrase.expect => Verdict::Correct,
        Some(_) => Verdict::Wrong,
    }
}

fn nearest_of(route: &Route<'_>, rules: &Rules) -> Option<NearestExample> {
    let similarity = match route {
        Route::Rule { similarity: Some(similarity), .. } | Route::Faq { similarity, .. } => *similarity,
        Route::Unmatched { nearest: Some(nearest) } => nearest.similarity,
        Route::Rule { similarity: None, .. } | Route::Unmatched { nearest: None } => return None,
    };
    let answers = match route {
        Route::Unmatched { nearest: Some(Nearest { target: Target::Faq(id), .. }) } => Some(id.clone()),
        Route::Unmatched { nearest: Some(Nearest { target: Target::Rule(id), .. }) } => {
            rules.get(id).filter(|rule| !rule.hands_off()).map(|rule| rule.id().to_owned())
        }
        route => answering(route).map(str::to_owned),
    };
    Some(NearestExample { similarity, answers })
}

/// The process's resident memory, where /proc tells it.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The evaluation decides routes only; it reads no customer's data.
struct NoData;

#[async_trait]
impl CustomerData for NoData {
    async fn devices(&self, _customer: Uuid, _today: NaiveDate) -> anyhow::Result<Vec<DeviceSummary>> {
        anyhow::bail!("the evaluation reads no customer data")
    }

    async fn open_alerts(&self, _customer: Uuid) -> anyhow::Result<OpenAlerts> {
        anyhow::bail!("the evaluation reads no customer data")
    }
}

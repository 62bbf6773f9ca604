//! The decision: a rule whose pattern matches; otherwise the rule or FAQ entry whose example means
//! the same (when the embedding model is configured); otherwise the AI; otherwise an
//! administrator.

use std::fmt;

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::{
    ai::{AiError, ChatModel, Prompt, prompt::Grounding},
    data::CustomerData,
    facts::Facts,
    faq::FaqEntry,
    rules::{Rule, Rules},
    semantic::{Nearest, SemanticMatcher, Target},
};

/// The customer who wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    pub id: Uuid,
    /// How answers address them (the account's display name).
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    Customer,
    /// Rules and the AI.
    Assistant,
    Administrator,
}

/// One earlier message of the conversation, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    pub from: Speaker,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A rule answered.
    Rule { rule_id: String, text: String },
    /// A FAQ entry answered (matched by meaning).
    Faq { faq_id: String, text: String },
    /// The AI model answered.
    Ai { text: String },
    /// The conversation goes to the administrators; the customer is told so.
    Human { reason: HandoffReason, text_to_customer: String },
}

impl Answer {
    /// What the customer reads.
    pub fn text(&self) -> &str {
        match self {
            Self::Rule { text, .. } | Self::Faq { text, .. } | Self::Ai { text } => text,
            Self::Human { text_to_customer, .. } => text_to_customer,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum HandoffReason {
    /// The customer asked for a person (a rule with `action = "handoff"`).
    Requested { rule_id: String },
    /// No rule matched and no AI provider is configured.
    NoAiProvider,
    /// No rule matched and the AI failed.
    AiFailed(AiError),
    /// The customer's data could not be read to answer.
    DataUnavailable(String),
}

impl fmt::Display for HandoffReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Requested { rule_id } => write!(formatter, "the customer asked for a person (rule {rule_id})"),
            Self::NoAiProvider => formatter.write_str("no rule matched and no AI provider is configured"),
            Self::AiFailed(error) => write!(formatter, "no rule matched and the AI failed: {error}"),
            Self::DataUnavailable(error) => write!(formatter, "the customer's data could not be read: {error}"),
        }
    }
}

/// What answers a message, decided before any of the customer's data is read.
#[derive(Debug)]
pub enum Route<'a> {
    /// A rule, by one of its patterns (`similarity` is None) or by one of its examples.
    Rule { rule: &'a Rule, similarity: Option<f32> },
    /// A FAQ entry, by one of its questions.
    Faq { entry: &'a FaqEntry, similarity: f32 },
    /// Neither: the AI answers, or an administrator. `nearest` is the closest example when the
    /// embedding model was asked, not similar enough to answer.
    Unmatched { nearest: Option<Nearest> },
}

impl Route<'_> {
    /// The id of the rule or FAQ entry that answers.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Rule { rule, .. } => Some(rule.id()),
            Self::Faq { entry, .. } => Some(entry.id()),
            Self::Unmatched { .. } => None,
        }
    }
}

pub struct Support {
    rules: Rules,
    data: Box<dyn CustomerData>,
    semantic: Option<SemanticMatcher>,
    ai: Option<Box<dyn ChatModel>>,
}

impl Support {
    pub fn new(rules: Rules, data: Box<dyn CustomerData>, ai: Option<Box<dyn ChatModel>>) -> Self {
        Self { rules, data, semantic: None, ai }
    }

    /// Matches by meaning what no pattern matches, with `matcher` (built from these rules).
    pub fn with_semantic(mut self, matcher: SemanticMatcher) -> Self {
        self.semantic = Some(matcher);
        self
    }

    /// Answers the customer's `message`; `history` is the conversation before it, oldest first.
    /// Never fails: whatever cannot be answered goes to an administrator.
    pub async fn answer(&self, customer: &Customer, message: &str, history: &[Turn]) -> Answer {
        let today = Utc::now().date_naive();
        match self.route(message).await {
            Route::Rule { rule, similarity } => {
                if let Some(similarity) = similarity {
                    tracing::info!(rule = rule.id(), similarity, customer = %customer.id, "answered by meaning");
                }
                self.answer_by_rule(rule, customer, message, history, today).await
            }
            Route::Faq { entry, similarity } => {
                tracing::info!(faq = entry.id(), similarity, customer = %customer.id, "answered by meaning");
                Answer::Faq { faq_id: entry.id().to_owned(), text: entry.render(&customer.name) }
            }
            Route::Unmatched { nearest } => {
                if let Some(Nearest { target, similarity, .. }) = nearest {
                    tracing::debug!(nearest = target.id(), similarity, "no example near enough");
                }
                self.answer_by_ai(customer, message, history, today).await
            }
        }
    }

    /// What answers `message`: a rule whose pattern it contains; otherwise, when the embedding
    /// model is configured, the rule or FAQ entry with the example nearest in meaning, if it is
    /// near enough.
    ///
    /// The model comes before the AI: it runs here in milliseconds, costs nothing, and answers
    /// only with the reviewed text of a rule or FAQ entry (a rule's filled from the customer's
    /// data), and only when the message is close to a question that text answers. The AI, slower
    /// and paid per request and free to say what no one reviewed, is kept for what the examples
    /// do not cover.
    pub async fn route(&self, message: &str) -> Route<'_> {
        if let Some(rule) = self.rules.find(message) {
            return Route::Rule { rule, similarity: None };
        }
        let Some(matcher) = &self.semantic else { return Route::Unmatched { nearest: None } };
        let nearest = match matcher.nearest(message, self.rules.language_of(message)).await {
            Ok(Some(nearest)) => nearest,
            Ok(None) => return Route::Unmatched { nearest: None },
            Err(error) => {
                tracing::warn!(%error, "the embedding model could not read a message; treating it as unmatched");
                return Route::Unmatched { nearest: None };
            }
        };
        if !matcher.answers(&nearest) {
            return Route::Unmatched { nearest: Some(nearest) };
        }
        let similarity = nearest.similarity;
        let route = match &nearest.target {
            Target::Rule(id) => self.rules.get(id).map(|rule| Route::Rule { rule, similarity: Some(similarity) }),
            Target::Faq(id) => matcher.faq().get(id).map(|entry| Route::Faq { entry, similarity }),
        };
        route.unwrap_or(Route::Unmatched { nearest: Some(nearest) })
    }

    /// The language to tell the customer in: that of their message, else of their latest earlier
    /// message whose language shows, else the rules' first (None: the rules declare none).
    pub fn language<'a>(&'a self, message: &str, history: &[Turn]) -> Option<&'a str> {
        self.rules
            .language_of(message)
            .or_else(|| {
                history
                    .iter()
                    .rev()
                    .filter(|turn| turn.from == Speaker::Customer)
                    .find_map(|turn| self.rules.language_of(&turn.text))
            })
            .or_else(|| self.rules.languages().next())
    }

    async fn answer_by_rule(
        &self,
        rule: &Rule,
        customer: &Customer,
        message: &str,
        history: &[Turn],
        today: NaiveDate,
    ) -> Answer {
        let facts = match Facts::gather(self.data.as_ref(), customer, rule.data(), message, today).await {
            Ok(facts) => facts,
            Err(error) => {
                let language = rule.language().or_else(|| self.language(message, history));
                return self.data_unavailable(customer, &error, language);
            }
        };
        let text = rule.render(|slot| facts.value(slot));
        if rule.hands_off() {
            Answer::Human { reason: HandoffReason::Requested { rule_id: rule.id().to_owned() }, text_to_customer: text }
        } else {
            Answer::Rule { rule_id: rule.id().to_owned(), text }
        }
    }

    async fn answer_by_ai(&self, customer: &Customer, message: &str, history: &[Turn], today: NaiveDate) -> Answer {
        let language = self.language(message, history);
        let Some(model) = &self.ai else {
            return self.human(customer, HandoffReason::NoAiProvider, language);
        };
        let (devices, alerts) = tokio::join!(self.data.devices(customer.id, today), self.data.open_alerts(customer.id));
        let (devices, alerts) = match (devices, alerts) {
            (Ok(devices), Ok(alerts)) => (devices, alerts),
            (Err(error), _) | (_, Err(error)) => return self.data_unavailable(customer, &error, language),
        };
        let grounding = Grounding { customer, today, devices: &devices, alerts: &alerts };
        match model.reply(&Prompt::grounded(&grounding, history, message)).await {
            Ok(text) => Answer::Ai { text },
            Err(error) => {
                tracing::warn!(%error, customer = %customer.id, "the AI could not answer; handing off");
                self.human(customer, HandoffReason::AiFailed(error), language)
            }
        }
    }

    fn data_unavailable(&self, customer: &Customer, error: &anyhow::Error, language: Option<&str>) -> Answer {
        let error = format!("{error:#}");
        tracing::warn!(%error, customer = %customer.id, "cannot read the customer's data; handing off");
        self.human(customer, HandoffReason::DataUnavailable(error), language)
    }

    /// Hands off with the notice in `language`, so the customer reads it once, in their language.
    fn human(&self, customer: &Customer, reason: HandoffReason, language: Option<&str>) -> Answer {
        Answer::Human { reason, text_to_customer: self.rules.handoff_answer(&customer.name, language) }
    }
}

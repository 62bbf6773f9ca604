//! The decision: a rule if one matches, otherwise the AI, otherwise an administrator.

use std::fmt;

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::{
    ai::{AiError, ChatModel, Prompt, prompt::Grounding},
    data::CustomerData,
    facts::Facts,
    rules::{Rule, Rules},
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
    /// The AI model answered.
    Ai { text: String },
    /// The conversation goes to the administrators; the customer is told so.
    Human { reason: HandoffReason, text_to_customer: String },
}

impl Answer {
    /// What the customer reads.
    pub fn text(&self) -> &str {
        match self {
            Self::Rule { text, .. } | Self::Ai { text } => text,
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

pub struct Support {
    rules: Rules,
    data: Box<dyn CustomerData>,
    ai: Option<Box<dyn ChatModel>>,
}

impl Support {
    pub fn new(rules: Rules, data: Box<dyn CustomerData>, ai: Option<Box<dyn ChatModel>>) -> Self {
        Self { rules, data, ai }
    }

    /// Answers the customer's `message`; `history` is the conversation before it, oldest first.
    /// Never fails: whatever cannot be answered goes to an administrator.
    pub async fn answer(&self, customer: &Customer, message: &str, history: &[Turn]) -> Answer {
        let today = Utc::now().date_naive();
        match self.rules.find(message) {
            Some(rule) => self.answer_by_rule(rule, customer, message, history, today).await,
            None => self.answer_by_ai(customer, message, history, today).await,
        }
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

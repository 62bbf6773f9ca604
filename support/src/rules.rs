//! The rules file: which messages a rule recognises and what it answers. The built-in file is
//! `support/rules.toml`; another can be loaded from a path. Everything that could go wrong in a
//! file is checked when it is loaded, and the error names the rule.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::{
    normalize::{contains_phrase, words},
    template::{DataKind, Slot, Template, TemplateError},
};

const BUILTIN: &str = include_str!("../rules.toml");

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read the rules file {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the rules file is not valid TOML for rules: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("rule number {number} has an empty id")]
    EmptyId { number: usize },
    #[error("rule `{rule}` is defined twice; ids must be unique")]
    DuplicateId { rule: String },
    #[error("rule `{rule}` has no patterns")]
    NoPatterns { rule: String },
    #[error("rule `{rule}` has the pattern {pattern:?}, which contains no word")]
    PatternWithoutWords { rule: String, pattern: String },
    #[error("rule `{rule}` has the unknown action {action:?}; the only action is \"handoff\"")]
    UnknownAction { rule: String, action: String },
    #[error("rule `{rule}` needs the unknown data {kind:?}; known data: {}", DataKind::names())]
    UnknownDataKind { rule: String, kind: String },
    #[error("rule `{rule}` hands off to a person, so it cannot need data")]
    HandoffWithData { rule: String },
    #[error("rule `{rule}`, {field}: {error}")]
    Template { rule: String, field: &'static str, error: TemplateError },
    #[error("rule `{rule}`, {field}: {{{placeholder}}} needs `data = [\"{kind}\"]`", kind = kind.name())]
    PlaceholderWithoutData { rule: String, field: &'static str, placeholder: &'static str, kind: DataKind },
    #[error("rule `{rule}` needs `{kind}`, which can be absent, so it needs an `answer_if_none`", kind = kind.name())]
    MissingAnswerIfNone { rule: String, kind: DataKind },
    #[error("rule `{rule}` has an `answer_if_none` but none of its data can be absent")]
    UnusedAnswerIfNone { rule: String },
    #[error("rule `{rule}`, answer_if_none: {{{placeholder}}} has no value when the data is absent")]
    PlaceholderMayBeMissing { rule: String, placeholder: &'static str },
    #[error("handoff_answer: {0}")]
    HandoffAnswer(TemplateError),
    #[error("handoff_answer may use only {{customer_name}}, not {{{0}}}")]
    HandoffAnswerPlaceholder(&'static str),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    handoff_answer: String,
    #[serde(rename = "rule")]
    rules: Vec<RuleEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    id: String,
    priority: i32,
    patterns: Vec<String>,
    answer: String,
    answer_if_none: Option<String>,
    action: Option<String>,
    #[serde(default)]
    data: Vec<String>,
    max_words: Option<usize>,
}

/// One rule, checked.
#[derive(Clone, Debug)]
pub struct Rule {
    id: String,
    priority: i32,
    /// Each pattern as its normalised words.
    patterns: Vec<Vec<String>>,
    max_words: Option<usize>,
    handoff: bool,
    data: Vec<DataKind>,
    answer: Template,
    answer_if_none: Option<Template>,
}

impl Rule {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// Whether the rule passes the conversation to an administrator.
    pub fn hands_off(&self) -> bool {
        self.handoff
    }

    pub(crate) fn data(&self) -> &[DataKind] {
        &self.data
    }

    fn matches(&self, message: &[String]) -> bool {
        self.max_words.is_none_or(|max| message.len() <= max)
            && self.patterns.iter().any(|pattern| contains_phrase(message, pattern))
    }

    /// The answer, or `answer_if_none` when some of the data it speaks about is absent.
    pub(crate) fn render(&self, value: impl Fn(Slot) -> Option<String>) -> String {
        self.answer
            .render(&value)
            .or_else(|| self.answer_if_none.as_ref().and_then(|fallback| fallback.render(&value)))
            .expect("rules are checked at load: a value can be missing only where answer_if_none has none")
    }

    fn check(entry: RuleEntry, number: usize) -> Result<Self, RulesError> {
        let rule = entry.id.trim().to_owned();
        if rule.is_empty() {
            return Err(RulesError::EmptyId { number });
        }
        if entry.patterns.is_empty() {
            return Err(RulesError::NoPatterns { rule });
        }
        let mut patterns = Vec::with_capacity(entry.patterns.len());
        for pattern in entry.patterns {
            let pattern_words = words(&pattern);
            if pattern_words.is_empty() {
                return Err(RulesError::PatternWithoutWords { rule, pattern });
            }
            patterns.push(pattern_words);
        }
        let handoff = match entry.action.as_deref() {
            None => false,
            Some("handoff") => true,
            Some(action) => return Err(RulesError::UnknownAction { rule, action: action.to_owned() }),
        };
        let mut data = Vec::with_capacity(entry.data.len());
        for kind in entry.data {
            match DataKind::from_name(&kind) {
                Some(known) => data.push(known),
                None => return Err(RulesError::UnknownDataKind { rule, kind }),
            }
        }
        if handoff && !data.is_empty() {
            return Err(RulesError::HandoffWithData { rule });
        }
        let answer = template(&rule, "answer", &entry.answer, &data)?;
        let absent_kind = data.iter().copied().find(|kind| kind.can_be_absent());
        let answer_if_none = match (entry.answer_if_none, absent_kind) {
            (None, None) => None,
            (None, Some(kind)) => return Err(RulesError::MissingAnswerIfNone { rule, kind }),
            (Some(_), None) => return Err(RulesError::UnusedAnswerIfNone { rule }),
            (Some(source), Some(_)) => {
                let fallback = template(&rule, "answer_if_none", &source, &data)?;
                if let Some(slot) = fallback.slots().find(|slot| !slot.survives_absence()) {
                    return Err(RulesError::PlaceholderMayBeMissing { rule, placeholder: slot.name() });
                }
                Some(fallback)
            }
        };
        Ok(Self {
            id: rule,
            priority: entry.priority,
            patterns,
            max_words: entry.max_words,
            handoff,
            data,
            answer,
            answer_if_none,
        })
    }
}

/// Parses a template and checks that the rule declares the data behind each placeholder.
fn template(rule: &str, field: &'static str, source: &str, data: &[DataKind]) -> Result<Template, RulesError> {
    let template =
        Template::parse(source).map_err(|error| RulesError::Template { rule: rule.to_owned(), field, error })?;
    for slot in template.slots() {
        if let Some(kind) = slot.source().filter(|kind| !data.contains(kind)) {
            return Err(RulesError::PlaceholderWithoutData {
                rule: rule.to_owned(),
                field,
                placeholder: slot.name(),
                kind,
            });
        }
    }
    Ok(template)
}

/// A checked rules file, ready to match messages.
#[derive(Clone, Debug)]
pub struct Rules {
    /// Highest priority first; equal priorities keep their order in the file.
    rules: Vec<Rule>,
    handoff_answer: Template,
}

impl Rules {
    /// The rules shipped in `support/rules.toml`.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN).expect("the built-in rules file is valid (its tests load it)")
    }

    pub fn load(path: &Path) -> Result<Self, RulesError> {
        let source =
            std::fs::read_to_string(path).map_err(|source| RulesError::Io { path: path.to_owned(), source })?;
        Self::parse(&source)
    }

    pub fn parse(source: &str) -> Result<Self, RulesError> {
        let file: RulesFile = toml::from_str(source)?;
        let handoff_answer = Template::parse(&file.handoff_answer).map_err(RulesError::HandoffAnswer)?;
        if let Some(slot) = handoff_answer.slots().find(|slot| slot.source().is_some()) {
            return Err(RulesError::HandoffAnswerPlaceholder(slot.name()));
        }
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(file.rules.len());
        for (index, entry) in file.rules.into_iter().enumerate() {
            let rule = Rule::check(entry, index + 1)?;
            if !seen.insert(rule.id.clone()) {
                return Err(RulesError::DuplicateId { rule: rule.id });
            }
            rules.push(rule);
        }
        // A stable sort keeps file order among equal priorities, which makes matching deterministic.
        rules.sort_by_key(|rule| std::cmp::Reverse(rule.priority));
        Ok(Self { rules, handoff_answer })
    }

    /// The rule that answers `message`: among those with a matching pattern, the highest
    /// priority, and of equal priorities the first in the file.
    pub fn find(&self, message: &str) -> Option<&Rule> {
        let message = words(message);
        self.rules.iter().find(|rule| rule.matches(&message))
    }

    /// Every rule, in the order they are tried.
    pub fn iter(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }

    /// What the customer is told when the conversation passes to an administrator without a
    /// rule asking for it (no AI, or the AI failed).
    pub(crate) fn handoff_answer(&self, customer_name: &str) -> String {
        self.handoff_answer
            .render(|slot| (slot == Slot::CustomerName).then(|| customer_name.to_owned()))
            .expect("handoff_answer is checked at load to use only {customer_name}")
    }
}

#[cfg(test)]
mod properties;

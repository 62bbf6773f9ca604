//! The rules file: which messages a rule recognises and what it answers. The built-in file is
//! `support/rules.toml`; another can be loaded from a path. Everything that could go wrong in a
//! file is checked when it is loaded, and the error names the rule.

use std::{
    collections::{HashMap, HashSet},
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
    #[error("rule `{rule}` has the example {example:?}, which contains no word")]
    ExampleWithoutWords { rule: String, example: String },
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
    #[error("the rules file needs a handoff_answer: at the top, or in each [[language]]")]
    NoHandoffAnswer,
    #[error("handoff_answer is given at the top and in [[language]] tables; keep only the ones in [[language]]")]
    HandoffAnswerTwice,
    #[error("language number {number} has an empty code")]
    EmptyLanguageCode { number: usize },
    #[error("the language `{language}` is declared twice; codes must be unique")]
    DuplicateLanguage { language: String },
    #[error("language `{language}` has no handoff_answer")]
    LanguageWithoutHandoffAnswer { language: String },
    #[error("language `{language}` has the embedding_threshold {threshold}; it must be above 0 and at most 1")]
    EmbeddingThreshold { language: String, threshold: f32 },
    #[error("rule `{rule}` has the language {language:?}, which no [[language]] declares (declared: {declared})")]
    UnknownLanguage { rule: String, language: String, declared: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    /// For a file in one language; one with `[[language]]` tables gives one in each.
    handoff_answer: Option<String>,
    #[serde(default, rename = "language")]
    languages: Vec<LanguageEntry>,
    #[serde(rename = "rule")]
    rules: Vec<RuleEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageEntry {
    code: String,
    handoff_answer: Option<String>,
    /// Common words of the language, to tell it from the others.
    #[serde(default)]
    words: Vec<String>,
    /// Letters only this language uses: a word with one of them counts for it.
    #[serde(default)]
    letters: String,
    /// The similarity from which the embedding model's nearest example answers a message in
    /// this language, instead of --embedding-threshold.
    embedding_threshold: Option<f32>,
}

/// A language the rules speak: its hand-off notice, and what tells a message is in it.
#[derive(Clone, Debug)]
struct Language {
    code: String,
    handoff_answer: Template,
    /// Its words (from `words` and from its rules' patterns) that no other language has.
    vocabulary: HashSet<String>,
    letters: Vec<char>,
    embedding_threshold: Option<f32>,
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
    language: Option<String>,
    #[serde(default)]
    examples: Vec<String>,
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
    language: Option<String>,
    /// Questions the rule answers, in customers' words: what the embedding model compares a
    /// message no pattern matched with.
    examples: Vec<String>,
}

impl Rule {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The code of the language the rule's patterns and answer are in, when the file says.
    pub fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// Whether the rule passes the conversation to an administrator.
    pub fn hands_off(&self) -> bool {
        self.handoff
    }

    /// The longest message the rule answers, in words, when it has a limit.
    pub fn max_words(&self) -> Option<usize> {
        self.max_words
    }

    /// Natural questions the rule answers, for matching by meaning ([`crate::semantic`]).
    pub fn examples(&self) -> &[String] {
        &self.examples
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
        if let Some(example) = entry.examples.iter().find(|example| words(example).is_empty()) {
            return Err(RulesError::ExampleWithoutWords { rule, example: example.clone() });
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
            language: entry.language.map(|language| language.trim().to_owned()),
            examples: entry.examples,
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

/// A hand-off notice, checked to use nothing but the customer's name.
fn handoff_template(source: &str) -> Result<Template, RulesError> {
    let template = Template::parse(source).map_err(RulesError::HandoffAnswer)?;
    if let Some(slot) = template.slots().find(|slot| slot.source().is_some()) {
        return Err(RulesError::HandoffAnswerPlaceholder(slot.name()));
    }
    Ok(template)
}

/// A checked rules file, ready to match messages.
#[derive(Clone, Debug)]
pub struct Rules {
    /// Highest priority first; equal priorities keep their order in the file.
    rules: Vec<Rule>,
    /// In the file's order: the first is the default.
    languages: Vec<Language>,
    /// The notice of a file without languages.
    handoff_answer: Option<Template>,
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
        let handoff_answer = match (&file.handoff_answer, file.languages.is_empty()) {
            (Some(_), false) => return Err(RulesError::HandoffAnswerTwice),
            (None, true) => return Err(RulesError::NoHandoffAnswer),
            (Some(source), true) => Some(handoff_template(source)?),
            (None, false) => None,
        };
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(file.rules.len());
        for (index, entry) in file.rules.into_iter().enumerate() {
            let rule = Rule::check(entry, index + 1)?;
            if !seen.insert(rule.id.clone()) {
                return Err(RulesError::DuplicateId { rule: rule.id });
            }
            rules.push(rule);
        }
        let languages = Self::check_languages(file.languages, &rules)?;
        // A stable sort keeps file order among equal priorities, which makes matching deterministic.
        rules.sort_by_key(|rule| std::cmp::Reverse(rule.priority));
        Ok(Self { rules, languages, handoff_answer })
    }

    /// Checks the `[[language]]` tables and builds each one's vocabulary: its words and its
    /// rules' pattern words, without those another language has too.
    fn check_languages(entries: Vec<LanguageEntry>, rules: &[Rule]) -> Result<Vec<Language>, RulesError> {
        let mut languages: Vec<Language> = Vec::with_capacity(entries.len());
        for (index, entry) in entries.into_iter().enumerate() {
            let code = entry.code.trim().to_owned();
            if code.is_empty() {
                return Err(RulesError::EmptyLanguageCode { number: index + 1 });
            }
            if languages.iter().any(|language| language.code == code) {
                return Err(RulesError::DuplicateLanguage { language: code });
            }
            let Some(source) = entry.handoff_answer else {
                return Err(RulesError::LanguageWithoutHandoffAnswer { language: code });
            };
            let vocabulary = entry.words.iter().flat_map(|phrase| words(phrase)).collect();
            let letters = entry.letters.chars().flat_map(char::to_lowercase).collect();
            if let Some(threshold) =
                entry.embedding_threshold.filter(|threshold| !(*threshold > 0.0 && *threshold <= 1.0))
            {
                return Err(RulesError::EmbeddingThreshold { language: code, threshold });
            }
            let embedding_threshold = entry.embedding_threshold;
            languages.push(Language {
                code,
                handoff_answer: handoff_template(&source)?,
                vocabulary,
                letters,
                embedding_threshold,
            });
        }
        for rule in rules {
            let Some(code) = rule.language() else { continue };
            let Some(language) = languages.iter().position(|language| language.code == code) else {
                let declared = languages.iter().map(|language| language.code.as_str()).collect::<Vec<_>>().join(", ");
                return Err(RulesError::UnknownLanguage { rule: rule.id.clone(), language: code.to_owned(), declared });
            };
            let pattern_words: Vec<String> = rule.patterns.iter().flatten().cloned().collect();
            languages[language].vocabulary.extend(pattern_words);
        }
        let mut speakers: HashMap<String, usize> = HashMap::new();
        for language in &languages {
            for word in &language.vocabulary {
                *speakers.entry(word.clone()).or_default() += 1;
            }
        }
        for language in &mut languages {
            language.vocabulary.retain(|word| speakers[word] == 1);
        }
        Ok(languages)
    }

    /// The code of the language `message` is in: the one most of its words belong to (a word with
    /// a letter only that language uses counts for it too). None when no word tells, or two
    /// languages have as many, or the file declares no languages.
    pub fn language_of(&self, message: &str) -> Option<&str> {
        let mut votes = vec![0usize; self.languages.len()];
        for word in lower_words(message) {
            let plain = words(&word);
            for (language, count) in self.languages.iter().zip(votes.iter_mut()) {
                let known = plain.iter().any(|part| language.vocabulary.contains(part));
                let lettered = word.chars().any(|letter| language.letters.contains(&letter));
                *count += usize::from(known) + usize::from(lettered);
            }
        }
        let best = *votes.iter().max()?;
        if best == 0 || votes.iter().filter(|count| **count == best).count() > 1 {
            return None;
        }
        let winner = votes.iter().position(|count| *count == best)?;
        Some(self.languages[winner].code.as_str())
    }

    /// The similarity the embedding model needs to answer in `language`, when the file sets one
    /// for it.
    pub fn embedding_threshold(&self, language: &str) -> Option<f32> {
        self.languages.iter().find(|known| known.code == language).and_then(|known| known.embedding_threshold)
    }

    /// The languages the file declares, the default first.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.languages.iter().map(|language| language.code.as_str())
    }

    /// The rule that answers `message`: among those with a matching pattern, the highest
    /// priority, and of equal priorities the first in the file.
    pub fn find(&self, message: &str) -> Option<&Rule> {
        let message = words(message);
        self.rules.iter().find(|rule| rule.matches(&message))
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }

    /// Every rule, in the order they are tried.
    pub fn iter(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }

    /// What the customer is told when the conversation passes to an administrator without a
    /// rule asking for it (no AI, or the AI failed), in `language` (a code the file declares; the
    /// first language otherwise).
    pub(crate) fn handoff_answer(&self, customer_name: &str, language: Option<&str>) -> String {
        let template = self
            .languages
            .iter()
            .find(|known| Some(known.code.as_str()) == language)
            .or(self.languages.first())
            .map(|known| &known.handoff_answer)
            .or(self.handoff_answer.as_ref())
            .expect("a rules file has a handoff_answer at the top or in each language (checked at load)");
        template
            .render(|slot| (slot == Slot::CustomerName).then(|| customer_name.to_owned()))
            .expect("handoff_answer is checked at load to use only {customer_name}")
    }
}

/// The lower-case words of `text`, diacritics kept (to see which language's letters they use).
fn lower_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| word.chars().flat_map(char::to_lowercase).collect())
}

#[cfg(test)]
mod properties;

//! The FAQ: questions customers ask in many words, each with one fixed answer. Unlike the rules it
//! has no keywords: an entry answers only a message that means the same as one of its questions,
//! as the embedding model judges ([`crate::semantic`]). The built-in file is `support/faq.toml`;
//! another can be loaded from a path. Like the rules file, it is checked whole when loaded.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::{
    Rules,
    normalize::words,
    template::{Slot, Template, TemplateError},
};

const BUILTIN: &str = include_str!("../faq.toml");

#[derive(Debug, thiserror::Error)]
pub enum FaqError {
    #[error("cannot read the FAQ file {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the FAQ file is not valid TOML for a FAQ: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("FAQ entry number {number} has an empty id")]
    EmptyId { number: usize },
    #[error("FAQ entry `{id}` is defined twice; ids must be unique")]
    DuplicateId { id: String },
    #[error("FAQ entry `{id}` has the id of a rule; give it another")]
    IdOfARule { id: String },
    #[error("FAQ entry `{id}` has no questions; give it at least one in `questions = [...]`")]
    NoQuestions { id: String },
    #[error("FAQ entry `{id}` has the question {question:?}, which contains no word")]
    QuestionWithoutWords { id: String, question: String },
    #[error("FAQ entry `{id}`, answer: {error}")]
    Template { id: String, error: TemplateError },
    #[error("FAQ entry `{id}`: an answer may use only {{customer_name}}, not {{{placeholder}}}")]
    Placeholder { id: String, placeholder: &'static str },
    #[error(
        "FAQ entry `{id}` has the language {language:?}, which the rules file does not declare (declared: {declared})"
    )]
    UnknownLanguage { id: String, language: String, declared: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaqFile {
    #[serde(default, rename = "faq")]
    entries: Vec<EntryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    id: String,
    language: Option<String>,
    questions: Vec<String>,
    answer: String,
}

/// One checked FAQ entry.
#[derive(Clone, Debug)]
pub struct FaqEntry {
    id: String,
    language: Option<String>,
    questions: Vec<String>,
    answer: Template,
}

impl FaqEntry {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The code of the language the entry is in, when the file says.
    pub fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    /// The questions this entry answers, as customers would write them.
    pub fn questions(&self) -> &[String] {
        &self.questions
    }

    /// The answer, addressed to `customer_name`.
    pub(crate) fn render(&self, customer_name: &str) -> String {
        self.answer
            .render(|slot| (slot == Slot::CustomerName).then(|| customer_name.to_owned()))
            .expect("FAQ answers are checked at load to use only {customer_name}")
    }

    fn check(entry: EntryFile, number: usize) -> Result<Self, FaqError> {
        let id = entry.id.trim().to_owned();
        if id.is_empty() {
            return Err(FaqError::EmptyId { number });
        }
        if entry.questions.is_empty() {
            return Err(FaqError::NoQuestions { id });
        }
        if let Some(question) = entry.questions.iter().find(|question| words(question).is_empty()) {
            return Err(FaqError::QuestionWithoutWords { id, question: question.clone() });
        }
        let answer = match Template::parse(&entry.answer) {
            Ok(answer) => answer,
            Err(error) => return Err(FaqError::Template { id, error }),
        };
        if let Some(slot) = answer.slots().find(|slot| *slot != Slot::CustomerName) {
            return Err(FaqError::Placeholder { id, placeholder: slot.name() });
        }
        let language = entry.language.map(|language| language.trim().to_owned());
        Ok(Self { id, language, questions: entry.questions, answer })
    }
}

/// A checked FAQ.
#[derive(Clone, Debug, Default)]
pub struct Faq {
    entries: Vec<FaqEntry>,
}

impl Faq {
    /// The FAQ shipped in `support/faq.toml`.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN).expect("the built-in FAQ is valid (its tests load it)")
    }

    pub fn load(path: &Path) -> Result<Self, FaqError> {
        let source = std::fs::read_to_string(path).map_err(|source| FaqError::Io { path: path.to_owned(), source })?;
        Self::parse(&source)
    }

    pub fn parse(source: &str) -> Result<Self, FaqError> {
        let file: FaqFile = toml::from_str(source)?;
        let mut seen = HashSet::new();
        let mut entries = Vec::with_capacity(file.entries.len());
        for (index, entry) in file.entries.into_iter().enumerate() {
            let entry = FaqEntry::check(entry, index + 1)?;
            if !seen.insert(entry.id.clone()) {
                return Err(FaqError::DuplicateId { id: entry.id });
            }
            entries.push(entry);
        }
        Ok(Self { entries })
    }

    /// Checks what the FAQ shares with the rules: its languages must be theirs, and its ids must
    /// not be a rule's (an answer is stored and logged by that id).
    pub fn check_against(&self, rules: &Rules) -> Result<(), FaqError> {
        for entry in &self.entries {
            if rules.get(&entry.id).is_some() {
                return Err(FaqError::IdOfARule { id: entry.id.clone() });
            }
            let Some(language) = entry.language() else { continue };
            if !rules.languages().any(|known| known == language) {
                let declared = rules.languages().collect::<Vec<_>>().join(", ");
                return Err(FaqError::UnknownLanguage {
                    id: entry.id.clone(),
                    language: language.to_owned(),
                    declared,
                });
            }
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&FaqEntry> {
        self.entries.iter().find(|entry| entry.id == id)
    }

    /// Every entry, in the file's order.
    pub fn iter(&self) -> impl Iterator<Item = &FaqEntry> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(source: &str) -> String {
        Faq::parse(source).expect_err("the FAQ is refused").to_string()
    }

    #[test]
    fn the_builtin_faq_loads_and_agrees_with_the_builtin_rules() {
        let faq = Faq::builtin();
        assert!(faq.iter().count() >= 10);
        faq.check_against(&Rules::builtin()).expect("the built-in FAQ fits the built-in rules");
        assert!(faq.iter().all(|entry| entry.language().is_some()), "every built-in entry names its language");
        assert!(Rules::builtin().iter().all(|rule| !rule.examples().is_empty()), "every built-in rule has examples");
    }

    #[test]
    fn an_answer_greets_the_customer_by_name() {
        let faq =
            Faq::parse("[[faq]]\nid = \"x\"\nquestions = [\"why?\"]\nanswer = \"Because, {customer_name}.\"").unwrap();
        assert_eq!(faq.get("x").unwrap().render("Ana"), "Because, Ana.");
    }

    #[test]
    fn mistakes_are_named_with_their_entry() {
        assert!(error("[[faq]]\nid = \" \"\nquestions = [\"a\"]\nanswer = \"b\"").contains("number 1 has an empty id"));
        assert!(error("[[faq]]\nid = \"x\"\nquestions = []\nanswer = \"b\"").contains("`x` has no questions"));
        assert!(error("[[faq]]\nid = \"x\"\nquestions = [\"?!\"]\nanswer = \"b\"").contains("contains no word"));
        assert!(
            error("[[faq]]\nid = \"x\"\nquestions = [\"a\"]\nanswer = \"{today_kwh}\"").contains("not {today_kwh}")
        );
        assert!(error("[[faq]]\nid = \"x\"\nquestions = [\"a\"]\nanswer = \"{nope}\"").contains("`x`, answer"));
        let twice = "[[faq]]\nid = \"x\"\nquestions = [\"a\"]\nanswer = \"b\"\n".repeat(2);
        assert!(error(&twice).contains("defined twice"));
        assert!(error("[[faq]]\nid = \"x\"\nquestion = [\"a\"]\nanswer = \"b\"").contains("unknown field"));
    }

    #[test]
    fn an_entry_may_not_take_a_rule_id_or_an_undeclared_language() {
        let rules = Rules::builtin();
        let taken = Faq::parse("[[faq]]\nid = \"billing.en\"\nquestions = [\"a\"]\nanswer = \"b\"").unwrap();
        assert!(taken.check_against(&rules).unwrap_err().to_string().contains("id of a rule"));
        let german = Faq::parse("[[faq]]\nid = \"x\"\nlanguage = \"de\"\nquestions = [\"a\"]\nanswer = \"b\"").unwrap();
        assert!(german.check_against(&rules).unwrap_err().to_string().contains("declared: en, ro"));
    }
}

//! The held-out questions of the evaluation (`support/eval/paraphrases.toml`): customers' wordings
//! that are not among the rules' examples or the FAQ's questions, each with what should answer it.

use std::{collections::HashSet, path::Path};

use anyhow::Context;
use serde::Deserialize;

use crate::{Faq, Rules, normalize::words};

const BUILTIN: &str = include_str!("../../eval/paraphrases.toml");

/// What should answer `"handoff"` questions: a person, not the bot.
pub const HANDOFF: &str = "handoff";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "case")]
    cases: Vec<CaseFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    expect: String,
    language: String,
    texts: Vec<String>,
}

/// One held-out question.
#[derive(Clone, Debug)]
pub struct Paraphrase {
    pub text: String,
    /// The rule or FAQ id that should answer, or [`HANDOFF`].
    pub expect: String,
    pub language: String,
}

impl Paraphrase {
    pub fn expects_handoff(&self) -> bool {
        self.expect == HANDOFF
    }
}

/// Reads the paraphrases, the built-in file when `path` is None, and checks them against the
/// rules and the FAQ: every expected id exists, and no paraphrase is one of the examples the
/// model matches against (the evaluation would then measure recall, not understanding).
pub fn load(path: Option<&Path>, rules: &Rules, faq: &Faq) -> anyhow::Result<Vec<Paraphrase>> {
    let source = match path {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the paraphrases file {}", path.display()))?,
        None => BUILTIN.to_owned(),
    };
    let file: File = toml::from_str(&source).context("the paraphrases file is not valid TOML for paraphrases")?;
    let examples: HashSet<Vec<String>> = rules
        .iter()
        .flat_map(|rule| rule.examples())
        .chain(faq.iter().flat_map(|entry| entry.questions()))
        .map(|example| words(example))
        .collect();
    let mut paraphrases = Vec::new();
    for case in file.cases {
        let known = case.expect == HANDOFF || rules.get(&case.expect).is_some() || faq.get(&case.expect).is_some();
        anyhow::ensure!(
            known,
            "paraphrases expecting {:?}: no rule or FAQ entry has that id (or write \"{HANDOFF}\")",
            case.expect
        );
        anyhow::ensure!(
            rules.languages().any(|language| language == case.language),
            "paraphrases expecting {:?}: the language {:?} is not one of the rules'",
            case.expect,
            case.language
        );
        for text in case.texts {
            anyhow::ensure!(
                !examples.contains(&words(&text)),
                "the paraphrase {text:?} is an example of a rule or FAQ entry; held-out questions must differ"
            );
            paraphrases.push(Paraphrase { text, expect: case.expect.clone(), language: case.language.clone() });
        }
    }
    anyhow::ensure!(!paraphrases.is_empty(), "the paraphrases file holds no paraphrase");
    Ok(paraphrases)
}

//! The evaluation's figures and how they are printed.

use std::{fmt, time::Duration};

use super::{Case, Verdict};

/// Paraphrases answered rightly, wrongly, or handed to a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub correct: usize,
    pub wrong: usize,
    pub handed_over: usize,
}

impl Tally {
    fn of(verdicts: impl Iterator<Item = Verdict>) -> Self {
        let mut tally = Self::default();
        for verdict in verdicts {
            match verdict {
                Verdict::Correct => tally.correct += 1,
                Verdict::Wrong => tally.wrong += 1,
                Verdict::HandedOver => tally.handed_over += 1,
            }
        }
        tally
    }

    pub fn total(&self) -> usize {
        self.correct + self.wrong + self.handed_over
    }
}

/// The time one message takes through the model (embedding and search), over the paraphrases
/// no keyword matched.
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latency {
    pub(crate) fn of(mut times: Vec<Duration>) -> Self {
        times.sort();
        let at = |quantile: f64| {
            let rank = (quantile * times.len() as f64).ceil() as usize;
            times.get(rank.saturating_sub(1)).copied().unwrap_or_default()
        };
        Self { count: times.len(), p50: at(0.50), p99: at(0.99), max: times.last().copied().unwrap_or_default() }
    }
}

/// What loading the model cost.
#[derive(Clone, Copy, Debug)]
pub struct ModelFigures {
    /// Reading the model and embedding every example.
    pub load: Duration,
    pub examples: usize,
    /// Growth of the process's resident memory over the load, where /proc tells it.
    pub resident_bytes: Option<u64>,
}

/// The result of `ems bench support`.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub cases: Vec<Case>,
    /// The thresholds the model answered with: --embedding-threshold and the languages' own.
    pub thresholds: String,
    pub keywords: Tally,
    pub with_model: Tally,
    pub latency: Latency,
    pub model: ModelFigures,
}

/// Thresholds the report compares.
const SWEEP: [f32; 9] = [0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80];

impl Evaluation {
    pub(crate) fn new(cases: Vec<Case>, thresholds: String, latency: Latency, model: ModelFigures) -> Self {
        let keywords = Tally::of(cases.iter().map(|case| case.by_keywords));
        let with_model = Tally::of(cases.iter().map(|case| case.by_model));
        Self { cases, thresholds, keywords, with_model, latency, model }
    }

    /// The counts with the model at one `threshold` for every language.
    pub fn with_model_at(&self, threshold: f32) -> Tally {
        Tally::of(self.cases.iter().map(|case| case.by_model_at(threshold)))
    }

    fn with_model_at_in(&self, threshold: f32, language: &str) -> Tally {
        let cases = self.cases.iter().filter(|case| case.paraphrase.language == language);
        Tally::of(cases.map(|case| case.by_model_at(threshold)))
    }

    fn in_language(&self, language: &str) -> (Tally, Tally) {
        let cases = || self.cases.iter().filter(|case| case.paraphrase.language == language);
        (Tally::of(cases().map(|case| case.by_keywords)), Tally::of(cases().map(|case| case.by_model)))
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.cases.len();
        let handoffs = self.cases.iter().filter(|case| case.paraphrase.expects_handoff()).count();
        writeln!(out, "support answers to {total} held-out paraphrases ({handoffs} of them should reach a person)")?;
        writeln!(out, "{:<28}{:>9}{:>9}{:>13}", "", "correct", "wrong", "handed over")?;
        let row = |out: &mut fmt::Formatter<'_>, name: &str, tally: Tally| {
            writeln!(out, "{name:<28}{:>9}{:>9}{:>13}", tally.correct, tally.wrong, tally.handed_over)
        };
        row(out, "keywords alone", self.keywords)?;
        row(out, "keywords + model", self.with_model)?;
        let mut languages: Vec<&str> = self.cases.iter().map(|case| case.paraphrase.language.as_str()).collect();
        languages.sort_unstable();
        languages.dedup();
        for language in &languages {
            let (keywords, with_model) = self.in_language(language);
            row(out, &format!("  {language}: keywords alone"), keywords)?;
            row(out, &format!("  {language}: keywords + model"), with_model)?;
        }
        let millis = |duration: Duration| duration.as_secs_f64() * 1000.0;
        writeln!(
            out,
            "model per message (embedding and search, {} messages no keyword matched): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.latency.count,
            millis(self.latency.p50),
            millis(self.latency.p99),
            millis(self.latency.max)
        )?;
        let memory = self
            .model
            .resident_bytes
            .map_or_else(|| "unknown".to_owned(), |bytes| format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0)));
        writeln!(
            out,
            "model load: {:.2} s with {} examples embedded; resident memory +{memory}",
            self.model.load.as_secs_f64(),
            self.model.examples
        )?;
        writeln!(out, "thresholds: {}", self.thresholds)?;
        writeln!(
            out,
            "\nkeywords + model with one threshold for every language (correct / wrong / handed over), all and by language:"
        )?;
        for threshold in SWEEP {
            let tally = self.with_model_at(threshold);
            write!(out, "  {threshold:.2}  {:>4} {:>4} {:>4}", tally.correct, tally.wrong, tally.handed_over)?;
            for language in &languages {
                let tally = self.with_model_at_in(threshold, language);
                write!(out, "   {language}: {:>3} {:>3} {:>3}", tally.correct, tally.wrong, tally.handed_over)?;
            }
            writeln!(out)?;
        }
        let mistakes: Vec<&Case> = self.cases.iter().filter(|case| case.by_model == Verdict::Wrong).collect();
        if !mistakes.is_empty() {
            writeln!(out, "\nwrong answers with the model:")?;
        }
        for case in mistakes {
            let how = match (&case.nearest, case.keyword_match) {
                (_, true) => "by keywords".to_owned(),
                (Some(nearest), false) => format!("similarity {:.2}", nearest.similarity),
                (None, false) => String::new(),
            };
            writeln!(
                out,
                "  {:?}: expected {}, answered by {} ({how})",
                case.paraphrase.text,
                case.paraphrase.expect,
                case.answered_by.as_deref().unwrap_or("a person")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_taken_by_rank() {
        let latency = Latency::of((1..=100).rev().map(Duration::from_millis).collect());
        assert_eq!(
            (latency.count, latency.p50, latency.p99),
            (100, Duration::from_millis(50), Duration::from_millis(99))
        );
        assert_eq!(Latency::of(Vec::new()).p99, Duration::ZERO);
    }
}

//! The embedded examples, and the search for the one nearest a message. Pure arithmetic on
//! vectors, so it is tested without a model.

use super::{Target, embedder::Embedding, embedder::similarity};

/// One example question, embedded, with what it stands for and where it applies.
#[derive(Debug)]
pub(crate) struct Entry {
    pub target: Target,
    /// The example's language, when its rule or FAQ entry names one.
    pub language: Option<String>,
    /// A rule's `max_words`: its examples apply only to messages that short.
    pub max_words: Option<usize>,
    pub vector: Embedding,
}

/// The example nearest a message among those that apply to it.
#[derive(Debug)]
pub(crate) struct Nearest<'a> {
    pub entry: &'a Entry,
    pub similarity: f32,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: Vec<Entry>,
}

impl Index {
    pub fn new(entries: Vec<Entry>) -> Self {
        Self { entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entry most similar to `query` among those in `language` or in none (all of them when
    /// the message's language is unknown) whose `max_words` admits a message of `words` words.
    /// Of equal similarities, the first in the index.
    pub fn nearest(&self, query: &[f32], language: Option<&str>, words: usize) -> Option<Nearest<'_>> {
        let mut best: Option<Nearest<'_>> = None;
        for entry in &self.entries {
            let same_language = match (language, entry.language.as_deref()) {
                (Some(message), Some(example)) => message == example,
                _ => true,
            };
            if !same_language || entry.max_words.is_some_and(|max| words > max) {
                continue;
            }
            let similarity = similarity(query, &entry.vector);
            if best.as_ref().is_none_or(|best| similarity > best.similarity) {
                best = Some(Nearest { entry, similarity });
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, language: Option<&str>, max_words: Option<usize>, vector: [f32; 2]) -> Entry {
        Entry {
            target: Target::Rule(id.to_owned()),
            language: language.map(str::to_owned),
            max_words,
            vector: vector.to_vec(),
        }
    }

    fn nearest(index: &Index, query: [f32; 2], language: Option<&str>, words: usize) -> Option<(String, f32)> {
        index.nearest(&query, language, words).map(|found| (found.entry.target.id().to_owned(), found.similarity))
    }

    #[test]
    fn the_most_similar_example_wins() {
        let index = Index::new(vec![entry("east", None, None, [1.0, 0.0]), entry("north", None, None, [0.0, 1.0])]);
        assert_eq!(nearest(&index, [0.6, 0.8], None, 3), Some(("north".into(), 0.8)));
        assert_eq!(nearest(&index, [0.8, 0.6], None, 3), Some(("east".into(), 0.8)));
        assert_eq!(nearest(&Index::default(), [1.0, 0.0], None, 3), None);
    }

    #[test]
    fn a_message_in_a_known_language_is_matched_with_examples_in_it_or_in_none() {
        let index = Index::new(vec![
            entry("en", Some("en"), None, [1.0, 0.0]),
            entry("ro", Some("ro"), None, [0.8, 0.6]),
            entry("any", None, None, [0.0, 1.0]),
        ]);
        assert_eq!(nearest(&index, [1.0, 0.0], Some("ro"), 3).unwrap().0, "ro");
        assert_eq!(nearest(&index, [1.0, 0.0], Some("en"), 3).unwrap().0, "en");
        assert_eq!(nearest(&index, [1.0, 0.0], None, 3).unwrap().0, "en");
        assert_eq!(nearest(&index, [0.0, 1.0], Some("de"), 3).unwrap().0, "any");
    }

    #[test]
    fn a_short_rule_does_not_answer_a_long_message() {
        let index =
            Index::new(vec![entry("greeting", None, Some(5), [1.0, 0.0]), entry("other", None, None, [0.0, 1.0])]);
        assert_eq!(nearest(&index, [1.0, 0.0], None, 5).unwrap().0, "greeting");
        assert_eq!(nearest(&index, [1.0, 0.0], None, 6).unwrap().0, "other");
    }
}

//! Property tests of the rules matcher and the normalisation it rests on: neither panics on any
//! Unicode, and matching does not change with letter case or with diacritics left out, as
//! `normalize` promises ("astăzi", "astazi" and "ASTĂZI" are one word). These are property tests
//! rather than a coverage-guided fuzzer: cargo-fuzz needs a nightly toolchain, which CI lacks.

use std::sync::LazyLock;

use proptest::prelude::*;

use super::Rules;
use crate::normalize::words;

/// Letters with diacritics customers type (Romanian in both spellings of ș and ț, and a few
/// others), each with the plain letter it stands for.
const DIACRITICS: &[(char, char)] = &[
    ('ă', 'a'),
    ('â', 'a'),
    ('î', 'i'),
    ('ș', 's'),
    ('ț', 't'),
    ('ş', 's'),
    ('ţ', 't'),
    ('Ă', 'A'),
    ('Â', 'A'),
    ('Î', 'I'),
    ('Ș', 'S'),
    ('Ț', 'T'),
    ('Ş', 'S'),
    ('Ţ', 'T'),
    ('é', 'e'),
    ('è', 'e'),
    ('ê', 'e'),
    ('ë', 'e'),
    ('à', 'a'),
    ('á', 'a'),
    ('ä', 'a'),
    ('ô', 'o'),
    ('ö', 'o'),
    ('ü', 'u'),
    ('û', 'u'),
    ('ç', 'c'),
    ('ñ', 'n'),
    ('É', 'E'),
    ('Ö', 'O'),
];

/// Parsed once: loading checks the whole file, which would dominate each case.
static BUILTIN: LazyLock<Rules> = LazyLock::new(Rules::builtin);

fn plain(character: char) -> char {
    DIACRITICS.iter().find(|(marked, _)| *marked == character).map_or(character, |(_, plain)| *plain)
}

/// The same text as a customer might type it: each letter in either case, with or without its
/// diacritic, as `choices` (one per character, cycled) say.
fn vary(text: &str, choices: &[u8]) -> String {
    text.chars()
        .zip(choices.iter().cycle())
        .map(|(character, choice)| {
            let character = if choice & 1 == 1 { plain(character) } else { character };
            if choice & 2 == 2 {
                character.to_uppercase().collect::<String>()
            } else {
                character.to_lowercase().collect()
            }
        })
        .collect()
}

/// Text over the alphabet the rules speak: ASCII letters and digits, the diacritics above,
/// spaces and punctuation.
fn rules_text() -> impl Strategy<Value = String> {
    let mut alphabet: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
    alphabet.extend(DIACRITICS.iter().map(|(marked, _)| *marked));
    alphabet.extend([' ', ' ', ',', '.', '?', '!', '\'', '-']);
    prop::collection::vec(prop::sample::select(alphabet), 0..60).prop_map(|characters| characters.into_iter().collect())
}

/// Every pattern of the built-in rules, as its words.
fn pattern_words() -> Vec<String> {
    BUILTIN.rules.iter().flat_map(|rule| rule.patterns.iter().flatten().cloned()).collect()
}

/// A message made of pattern words, diacritic letters and other words, so that rules do match.
fn message() -> impl Strategy<Value = String> {
    let vocabulary = pattern_words();
    let word = prop_oneof![3 => prop::sample::select(vocabulary), 1 => "[a-zăâîșțşţ]{1,8}"];
    prop::collection::vec(word, 0..12).prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn normalising_any_unicode_gives_lower_case_words_of_letters_and_digits(text in any::<String>()) {
        let found = words(&text);
        for word in &found {
            prop_assert!(!word.is_empty());
            prop_assert!(word.chars().all(char::is_alphanumeric), "{word:?} from {text:?}");
            prop_assert!(!word.chars().any(unicode_normalization::char::is_combining_mark), "{word:?}");
            prop_assert_eq!(&word.to_lowercase(), word, "from {:?}", text);
        }
        prop_assert_eq!(words(&found.join(" ")), found, "normalising twice changes nothing");
    }

    #[test]
    fn matching_any_unicode_never_panics(text in any::<String>()) {
        let _ = BUILTIN.find(&text);
    }

    #[test]
    fn words_do_not_change_with_case_or_left_out_diacritics(
        text in rules_text(),
        choices in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        let expected: String = text.chars().map(plain).collect::<String>().to_lowercase();
        prop_assert_eq!(words(&vary(&text, &choices)), words(&expected));
        prop_assert_eq!(words(&text.to_uppercase()), words(&expected));
    }

    #[test]
    fn the_matching_rule_does_not_change_with_case_or_left_out_diacritics(
        text in message(),
        choices in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        let rules = &*BUILTIN;
        let matched = |message: &str| rules.find(message).map(|rule| rule.id().to_owned());
        let expected = matched(&text);
        prop_assert_eq!(matched(&vary(&text, &choices)), expected.clone(), "{:?}", vary(&text, &choices));
        prop_assert_eq!(matched(&text.to_uppercase()), expected.clone());
        prop_assert_eq!(matched(&text.chars().map(plain).collect::<String>()), expected);
    }

    #[test]
    fn a_message_holding_a_pattern_is_answered_by_that_rule_or_a_higher_one(
        rule_index in any::<prop::sample::Index>(),
        pattern_index in any::<prop::sample::Index>(),
        before in prop::collection::vec("[a-z]{1,6}", 0..3),
        after in prop::collection::vec("[a-z]{1,6}", 0..3),
    ) {
        let rules = &*BUILTIN;
        let rule = &rules.rules[rule_index.index(rules.rules.len())];
        let pattern = &rule.patterns[pattern_index.index(rule.patterns.len())];
        let message = [before, pattern.clone(), after].concat();
        prop_assume!(rule.max_words.is_none_or(|max| message.len() <= max));
        let found = rules.find(&message.join(" "));
        prop_assert!(found.is_some_and(|found| found.priority() >= rule.priority()), "{message:?} for {}", rule.id());
    }
}

//! Text as the rules see it: lower-case words without diacritics, so that "Consumul de astăzi",
//! "consumul de astazi" and "CONSUMUL DE ASTĂZI" are the same three words.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// The words of `text`: runs of letters and digits, lower-cased, with combining marks removed.
///
/// Decomposing (NFD) splits "ă" into "a" and a breve, and both Romanian "ș" (comma below) and the
/// legacy "ş" (cedilla) into "s" and a mark, so dropping the marks maps either spelling to the
/// plain letter customers type on keyboards without Romanian layouts.
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for character in text.nfd().flat_map(char::to_lowercase).filter(|character| !is_combining_mark(*character)) {
        if character.is_alphanumeric() {
            current.push(character);
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether `phrase` occurs in `words` as whole, consecutive words.
pub fn contains_phrase(words: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && words.windows(phrase.len()).any(|window| window == phrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn romanian_diacritics_in_either_spelling_become_plain_letters() {
        assert_eq!(words("Consumul de astăzi"), ["consumul", "de", "astazi"]);
        assert_eq!(words("Mulțumesc Mulţumesc"), ["multumesc", "multumesc"]);
        assert_eq!(words("ÎNCĂLZIRE, pâine"), ["incalzire", "paine"]);
    }

    #[test]
    fn punctuation_separates_words_and_digits_stay() {
        assert_eq!(words("What's my limit?! (heat-pump 2)"), ["what", "s", "my", "limit", "heat", "pump", "2"]);
        assert!(words("  ?! ").is_empty());
    }

    #[test]
    fn phrases_match_whole_consecutive_words_only() {
        let message = words("Is this the limit of my heat pump");
        assert!(contains_phrase(&message, &words("heat pump")));
        assert!(!contains_phrase(&message, &words("hi")));
        assert!(!contains_phrase(&message, &words("limit pump")));
        assert!(!contains_phrase(&message, &[]));
    }
}

//! Loading a rules file: every mistake is refused at load with an error naming the rule.

use std::io::Write;

use ems_support::{Rules, RulesError};

const HEADER: &str = "handoff_answer = \"An administrator will reply here.\"\n";

fn load(rules: &str) -> Result<Rules, RulesError> {
    Rules::parse(&format!("{HEADER}{rules}"))
}

fn refusal(rules: &str) -> String {
    load(rules).expect_err("the file is refused").to_string()
}

#[test]
fn a_valid_file_loads_from_a_path() {
    let path = std::env::temp_dir().join(format!("ems-support-rules-{}.toml", uuid::Uuid::new_v4()));
    let mut file = std::fs::File::create(&path).unwrap();
    write!(
        file,
        "{HEADER}[[rule]]\nid = \"hello\"\npriority = 1\npatterns = [\"hello\"]\nanswer = \"Hi {{customer_name}}\"\n"
    )
    .unwrap();
    let rules = Rules::load(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(rules.unwrap().find("HELLO!").unwrap().id(), "hello");
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let error = Rules::load("/nonexistent/rules.toml".as_ref()).unwrap_err().to_string();
    assert!(error.contains("/nonexistent/rules.toml"), "{error}");
}

#[test]
fn mistakes_in_a_rule_are_refused_naming_the_rule() {
    let rule = |body: &str| format!("[[rule]]\nid = \"bad-rule\"\npriority = 1\n{body}\n");
    for (body, expected) in [
        ("patterns = []\nanswer = \"x\"", "rule `bad-rule` has no patterns"),
        ("patterns = [\"?!\"]\nanswer = \"x\"", "rule `bad-rule` has the pattern \"?!\", which contains no word"),
        ("patterns = [\"a\"]\nanswer = \"{kwh}\"", "rule `bad-rule`, answer: unknown placeholder {kwh}"),
        ("patterns = [\"a\"]\nanswer = \"{customer_name\"", "rule `bad-rule`, answer: a `{` has no closing `}`"),
        (
            "patterns = [\"a\"]\nanswer = \"x\"\ndata = [\"weather\"]",
            "rule `bad-rule` needs the unknown data \"weather\"",
        ),
        (
            "patterns = [\"a\"]\nanswer = \"x\"\naction = \"escalate\"",
            "rule `bad-rule` has the unknown action \"escalate\"",
        ),
        (
            "patterns = [\"a\"]\nanswer = \"{today_kwh}\"",
            "rule `bad-rule`, answer: {today_kwh} needs `data = [\"today_total\"]`",
        ),
        (
            "patterns = [\"a\"]\nanswer = \"{top_device}\"\ndata = [\"top_device_today\"]",
            "rule `bad-rule` needs `top_device_today`, which can be absent, so it needs an `answer_if_none`",
        ),
        (
            "patterns = [\"a\"]\nanswer = \"{top_device}\"\nanswer_if_none = \"{top_device}\"\ndata = [\"top_device_today\"]",
            "rule `bad-rule`, answer_if_none: {top_device} has no value when the data is absent",
        ),
        (
            "patterns = [\"a\"]\nanswer = \"{today_kwh}\"\nanswer_if_none = \"none\"\ndata = [\"today_total\"]",
            "rule `bad-rule` has an `answer_if_none` but none of its data can be absent",
        ),
        (
            "patterns = [\"a\"]\nanswer = \"x\"\naction = \"handoff\"\ndata = [\"today_total\"]",
            "rule `bad-rule` hands off to a person, so it cannot need data",
        ),
        (
            "patterns = [\"a\"]\nanswer = \"x\"\nexamples = [\"What is a?\", \" ?\"]",
            "rule `bad-rule` has the example \" ?\", which contains no word",
        ),
    ] {
        let error = refusal(&rule(body));
        assert!(error.contains(expected), "expected {expected:?} in {error:?}");
    }
}

#[test]
fn duplicate_and_empty_ids_are_refused() {
    let twice = "[[rule]]\nid = \"hello\"\npriority = 1\npatterns = [\"hi\"]\nanswer = \"x\"\n";
    assert_eq!(refusal(&format!("{twice}{twice}")), "rule `hello` is defined twice; ids must be unique");
    let nameless = "[[rule]]\nid = \" \"\npriority = 1\npatterns = [\"hi\"]\nanswer = \"x\"\n";
    assert_eq!(refusal(&format!("{twice}{nameless}")), "rule number 2 has an empty id");
}

#[test]
fn unknown_fields_and_a_handoff_answer_with_data_are_refused() {
    let misspelt = refusal("[[rule]]\nid = \"hi\"\npriority = 1\npattern = [\"hi\"]\nanswer = \"x\"\n");
    assert!(misspelt.contains("pattern"), "{misspelt}");
    let error = Rules::parse("handoff_answer = \"{today_kwh}\"\nrule = []").unwrap_err().to_string();
    assert_eq!(error, "handoff_answer may use only {customer_name}, not {today_kwh}");
}

#[test]
fn languages_are_checked_at_load_naming_what_is_wrong() {
    let language = |code: &str| format!("[[language]]\ncode = \"{code}\"\nhandoff_answer = \"passed on\"\n");
    let rule = "[[rule]]\nid = \"hello\"\npriority = 1\npatterns = [\"hello\"]\nanswer = \"Hi\"\nlanguage = \"fr\"\n";
    let refused = |source: &str| Rules::parse(source).expect_err("the file is refused").to_string();
    assert_eq!(
        refused(&format!("{}{rule}", language("en"))),
        "rule `hello` has the language \"fr\", which no [[language]] declares (declared: en)"
    );
    assert_eq!(
        refused(&format!("{HEADER}rule = []\n{}", language("en"))),
        "handoff_answer is given at the top and in [[language]] tables; keep only the ones in [[language]]"
    );
    assert_eq!(refused("rule = []"), "the rules file needs a handoff_answer: at the top, or in each [[language]]");
    assert_eq!(
        refused(&format!("rule = []\n{}{}", language("en"), language("en"))),
        "the language `en` is declared twice; codes must be unique"
    );
    assert_eq!(refused("rule = []\n[[language]]\ncode = \"ro\""), "language `ro` has no handoff_answer");
    assert_eq!(
        refused(&format!("rule = []\n{}embedding_threshold = 1.5\n", language("en"))),
        "language `en` has the embedding_threshold 1.5; it must be above 0 and at most 1"
    );
    assert_eq!(
        refused("rule = []\n[[language]]\ncode = \"en\"\nhandoff_answer = \"{today_kwh}\""),
        "handoff_answer may use only {customer_name}, not {today_kwh}"
    );
}

#[test]
fn a_message_is_in_the_language_most_of_its_words_belong_to() {
    let rules = Rules::builtin();
    assert_eq!(rules.languages().collect::<Vec<_>>(), ["en", "ro"]);
    for (message, expected) in [
        ("Why is my bill so high?", Some("en")),
        ("De ce este factura atât de mare?", Some("ro")),
        ("Caldura", None),
        ("Căldură", Some("ro")),
        ("42", None),
        ("", None),
    ] {
        assert_eq!(rules.language_of(message), expected, "{message:?}");
    }
    // A file in one language tells none.
    assert_eq!(load("rule = []").unwrap().language_of("Why is my bill so high?"), None);
}

#[test]
fn examples_and_a_languages_embedding_threshold_are_read() {
    let rules = Rules::parse(
        "[[language]]\ncode = \"ro\"\nhandoff_answer = \"transmis\"\nembedding_threshold = 0.7\n\
         [[language]]\ncode = \"en\"\nhandoff_answer = \"passed on\"\n\
         [[rule]]\nid = \"hello\"\npriority = 1\npatterns = [\"hello\"]\nanswer = \"Hi\"\nexamples = [\"Good day to you\"]\n",
    )
    .unwrap();
    assert_eq!(rules.get("hello").unwrap().examples(), ["Good day to you"]);
    assert_eq!((rules.embedding_threshold("ro"), rules.embedding_threshold("en")), (Some(0.7), None));
}

//! The built-in rules, table-driven: for each rule, messages it must answer and messages it must
//! not, in English and Romanian, with and without diacritics, and which rule wins when several match.

use std::collections::HashSet;

use ems_support::Rules;

struct Case {
    rule: &'static str,
    answers: &'static [&'static str],
    ignores: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        rule: "handoff.en",
        answers: &[
            "Can I talk to a person?",
            "I want to SPEAK TO A HUMAN",
            "get me a real person",
            "An operator, please",
        ],
        ignores: &["Is this person's account mine?", "talk to me about my heat pump", "operators"],
    },
    Case {
        rule: "handoff.ro",
        answers: &[
            "Vreau să vorbesc cu un operator",
            "vreau sa vorbesc cu un operator",
            "pot vorbi cu o persoană reală?",
        ],
        ignores: &["Operatorul de rețea a sunat", "vorbesc cu vecinul"],
    },
    Case {
        rule: "password.en",
        answers: &["I forgot my password", "How do I reset my Password?", "I can't log in", "I'm locked out"],
        ignores: &["passwordless sign-in", "log in history", "passworded"],
    },
    Case {
        rule: "password.ro",
        answers: &["Am uitat parola", "Cum îmi schimb parola?", "Nu mă pot conecta", "nu ma pot autentifica"],
        ignores: &["parolele vecinului", "nu mă pot hotărî"],
    },
    Case {
        rule: "device-limit.en",
        answers: &["What is the limit of my heat pump?", "What are my limits?", "maximum for the fridge"],
        ignores: &["Is there a limitation?", "unlimited energy", "maximise savings"],
    },
    Case {
        rule: "device-limit.ro",
        answers: &["Care este limita pompei de căldură?", "care e limita frigiderului", "Care e consumul maxim?"],
        ignores: &["limitare", "nelimitat"],
    },
    Case {
        rule: "top-device.en",
        answers: &["Which device uses the most?", "what has used the most energy", "who is my biggest consumer"],
        ignores: &["the most beautiful chart", "my top"],
    },
    Case {
        rule: "top-device.ro",
        answers: &[
            "Ce dispozitiv consumă cel mai mult azi?",
            "care dispozitiv consuma cel mai mult",
            "cel mai mare consumator",
        ],
        ignores: &["cel mai bun program de economisire", "dispozitivul meu"],
    },
    Case {
        rule: "today.en",
        answers: &["How much energy did I use today?", "What's today's consumption?", "kWh today"],
        ignores: &["What did I use yesterday?", "today is a good day"],
    },
    Case {
        rule: "today.ro",
        answers: &["Care este consumul de astăzi?", "consumul de astazi", "Cât am consumat?", "CONSUMUL DE AZI"],
        ignores: &["consumul de ieri", "astăzi e frumos"],
    },
    Case {
        rule: "how-alerts.en",
        answers: &["How do alerts work?", "Why did I get an alert?", "What does this alert mean?"],
        ignores: &["alert me tomorrow", "alerting"],
    },
    Case {
        rule: "how-alerts.ro",
        answers: &["Cum funcționează alertele?", "De ce am primit o alertă?", "ce inseamna alerta"],
        ignores: &["alertă de inundație mâine"],
    },
    Case {
        rule: "open-alerts.en",
        answers: &["Do I have any alerts?", "Show my alerts", "How many alerts do I have"],
        ignores: &["alerts", "my alert settings"],
    },
    Case {
        rule: "open-alerts.ro",
        answers: &["Am alerte?", "Câte alerte am?", "care sunt alertele mele", "ALERTE ACTIVE"],
        ignores: &["alertele vecinului", "alerta"],
    },
    Case {
        rule: "chart.en",
        answers: &["How do I read the chart?", "what does the graph show", "the diagram is confusing"],
        ignores: &["charter flight", "graphics card", "photograph"],
    },
    Case {
        rule: "chart.ro",
        answers: &["Cum citesc graficul?", "Ce arată diagrama?", "nu înțeleg graficul"],
        ignores: &["grafician", "fotografic"],
    },
    Case {
        rule: "billing.en",
        answers: &["Why is my bill so high?", "What is the price per kWh?", "Where is my invoice"],
        ignores: &["a billion", "priceless", "costume"],
    },
    Case {
        rule: "billing.ro",
        answers: &["Unde găsesc factura?", "Cât costă un kWh?", "care este prețul", "cat platesc pe luna"],
        ignores: &["facturare automată", "pretutindeni"],
    },
    Case {
        rule: "add-device.en",
        answers: &["How do I add a device?", "I bought a new device", "Can I add another device?"],
        ignores: &["add a comment", "devices", "additional device"],
    },
    Case {
        rule: "add-device.ro",
        answers: &["Cum adaug un dispozitiv?", "Am un dispozitiv nou", "vreau un contor nou"],
        ignores: &["dispozitivul nostru", "nou venit"],
    },
    Case {
        rule: "contact.en",
        answers: &["What are your opening hours?", "How can I contact you?", "phone number please"],
        ignores: &["contactless card", "opening the app", "hours of use"],
    },
    Case {
        rule: "contact.ro",
        answers: &["Care este programul?", "Aveți un număr de telefon?", "orar suport"],
        ignores: &["programare", "telefonul meu e nou"],
    },
    Case {
        rule: "greeting.en",
        answers: &["Hi", "Hello there!", "good morning!", "hey"],
        ignores: &["this", "which", "hi, my heat pump makes a strange noise at night", "shellfish"],
    },
    Case {
        rule: "greeting.ro",
        answers: &["Bună ziua!", "buna", "Salut!", "Neața"],
        ignores: &["salutar", "o zi bună pentru economii la curent electric"],
    },
    Case {
        rule: "thanks.en",
        answers: &["Thanks!", "thank you very much", "cheers"],
        ignores: &["thankful", "thanksgiving"],
    },
    Case {
        rule: "thanks.ro",
        answers: &["Mulțumesc!", "Mulţumesc frumos", "multumesc", "mersi"],
        ignores: &["mulțumit", "mersul"],
    },
];

fn answering(rules: &Rules, message: &str) -> Option<String> {
    rules.find(message).map(|rule| rule.id().to_owned())
}

#[test]
fn each_rule_answers_its_examples() {
    let rules = Rules::builtin();
    for case in CASES {
        for message in case.answers {
            assert_eq!(answering(&rules, message).as_deref(), Some(case.rule), "{message:?}");
        }
    }
}

#[test]
fn each_rule_ignores_words_that_only_look_like_its_patterns() {
    let rules = Rules::builtin();
    for case in CASES {
        for message in case.ignores {
            assert_ne!(answering(&rules, message).as_deref(), Some(case.rule), "{message:?}");
        }
    }
}

#[test]
fn every_built_in_rule_is_covered_and_both_languages_are_served() {
    let rules = Rules::builtin();
    let ids: HashSet<&str> = rules.iter().map(|rule| rule.id()).collect();
    let covered: HashSet<&str> = CASES.iter().map(|case| case.rule).collect();
    assert_eq!(ids, covered);
    assert!(ids.len() >= 12);
    for topic in ids.iter().map(|id| id.rsplit_once('.').expect("ids end in .en or .ro").0) {
        assert!(
            ids.contains(format!("{topic}.en").as_str()) && ids.contains(format!("{topic}.ro").as_str()),
            "{topic}"
        );
    }
}

#[test]
fn when_several_rules_match_the_highest_priority_wins() {
    let rules = Rules::builtin();
    for (message, expected) in [
        ("Hello, consumption today?", "today.en"),
        ("I forgot my password, talk to a person", "handoff.en"),
        ("Which device has the highest limit?", "device-limit.en"),
        ("Which device used the most energy today?", "top-device.en"),
        ("Bună, consumul de azi?", "today.ro"),
        ("Mulțumesc, dar vreau să vorbesc cu un operator", "handoff.ro"),
        ("thanks, how do I read the chart", "chart.en"),
    ] {
        assert_eq!(answering(&rules, message).as_deref(), Some(expected), "{message:?}");
    }
    let order: Vec<i32> = rules.iter().map(|rule| rule.priority()).collect();
    assert!(order.windows(2).all(|pair| pair[0] >= pair[1]), "rules are tried by priority");
}

#[test]
fn equal_priorities_are_resolved_by_the_order_in_the_file() {
    let rules = Rules::parse(
        r#"
        handoff_answer = "handed over"
        [[rule]]
        id = "low"
        priority = 1
        patterns = ["energy"]
        answer = "low"
        [[rule]]
        id = "first"
        priority = 5
        patterns = ["energy"]
        answer = "first"
        [[rule]]
        id = "second"
        priority = 5
        patterns = ["energy"]
        answer = "second"
        "#,
    )
    .unwrap();
    assert_eq!(answering(&rules, "energy").as_deref(), Some("first"));
}

#[test]
fn only_the_handoff_rules_hand_off() {
    let rules = Rules::builtin();
    let handing_off: Vec<&str> = rules.iter().filter(|rule| rule.hands_off()).map(|rule| rule.id()).collect();
    assert_eq!(handing_off, ["handoff.en", "handoff.ro"]);
}

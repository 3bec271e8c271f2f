//! Never panics, never hangs: arbitrary text, SQL-shaped noise and very deep nesting all
//! come back as a result (with diagnostics), bounded in time by construction.

use headwaters_sqllineage::{DiagnosticKind, Dialect, Options, analyze};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "SELECT", "FROM", "WHERE", "INSERT", "INTO", "WITH", "AS", "JOIN", "ON", "UNION", "(", ")",
    ",", ";", "*", "a", "b.c", "t", "1", "'x'", "CASE", "WHEN", "THEN", "END", "OVER", "MERGE",
    "USING", "UPDATE", "SET", "=", "GROUP", "BY", "LATERAL", "VIEW", "explode", "CREATE", "TABLE",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}", d in 0usize..16) {
        let dialect: Dialect = Dialect::names().nth(d).unwrap().parse().unwrap();
        let _ = analyze(&s, &Options { dialect, ..Options::default() });
    }

    #[test]
    fn sql_shaped_noise_never_panics(words in prop::collection::vec(prop::sample::select(WORDS), 0..60)) {
        let _ = analyze(&words.join(" "), &Options::default());
    }
}

#[test]
fn deep_nesting_is_reported_not_followed() {
    let depth = 5000;
    let sql = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
    let l = analyze(&sql, &Options::default());
    assert!(
        l.diagnostics().any(|d| d.kind == DiagnosticKind::Parse),
        "the parser's recursion limit applies"
    );
    let subqueries = format!(
        "INSERT INTO t SELECT * FROM {} s {}",
        "(SELECT * FROM ".repeat(60),
        ") x".repeat(60)
    );
    let l = analyze(&subqueries, &Options::default());
    assert!(l.diagnostics().count() >= 1);
    let long = format!(
        "INSERT INTO t SELECT {} AS x FROM s",
        vec!["a"; 20_000].join(" + ")
    );
    let l = analyze(&long, &Options::default());
    assert_eq!(l.statements.len(), 1);
}

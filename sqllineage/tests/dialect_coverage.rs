//! Parse coverage on real dialect syntax: every statement of fixtures/sql-dialects (878
//! files from sqlfluff's dialect fixtures, MIT, see its README) is analyzed with its
//! dialect, and the share read without a parse diagnostic is counted per dialect. The
//! test fails when a dialect falls below its recorded baseline
//! (fixtures/sql-dialects/baseline.json), so coverage only goes up;
//! `UPDATE_SQL_BASELINE=1` records the current counts after an improvement.
//!
//! Run with `--nocapture` for the table and the refused statements of one dialect
//! (`SQL_COVERAGE_SHOW=bigquery`).

use std::collections::BTreeMap;

use headwaters_sqllineage::{DiagnosticKind, Dialect, Options, analyze};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/sql-dialects");

#[test]
fn dialect_statements_parse_at_or_above_the_baseline() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/cases.json")).unwrap())
            .unwrap();
    let show = std::env::var("SQL_COVERAGE_SHOW").ok();
    // dialect -> (statements, parsed)
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    // `SQL_COVERAGE_DUMP=file`: one line per case (id, statements, parsed), to compare runs.
    let mut dump = String::new();
    // dialect -> parser message without its position -> where
    let mut refusals: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for case in &cases {
        let name = case["dialect"].as_str().unwrap();
        let dialect: Dialect = name.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        let sql = case["sql"].as_str().unwrap();
        let l = analyze(
            sql,
            &Options {
                dialect,
                ..Options::default()
            },
        );
        let c = counts.entry(name.to_string()).or_default();
        let before = *c;
        // Statements found inside a refused one are partial reads of it, not statements
        // of the input.
        for s in l.statements.iter().filter(|s| !s.recovered) {
            c.0 += 1;
            let refused = s
                .diagnostics
                .iter()
                .find(|d| d.kind == DiagnosticKind::Parse);
            if let Some(d) = refused {
                let why = d
                    .message
                    .trim_start_matches("sql parser error: ")
                    .split(" at Line: ")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                refusals
                    .entry(name.to_string())
                    .or_default()
                    .entry(why)
                    .or_default()
                    .push(format!("{}:{}", case["id"].as_str().unwrap(), s.location));
            }
            match refused {
                None => c.1 += 1,
                Some(d) if show.as_deref() == Some(name) => {
                    println!(
                        "{}:{}: {}",
                        case["id"].as_str().unwrap(),
                        s.location,
                        d.message
                    );
                }
                Some(_) => {}
            }
        }
        dump += &format!(
            "{} {} {}\n",
            case["id"].as_str().unwrap(),
            c.0 - before.0,
            c.1 - before.1
        );
    }
    if let Ok(path) = std::env::var("SQL_COVERAGE_DUMP") {
        std::fs::write(path, dump).unwrap();
    }
    let (all, ok) = counts.values().fold((0, 0), |a, c| (a.0 + c.0, a.1 + c.1));
    println!("dialect        statements  parsed    rate");
    for (d, (n, p)) in &counts {
        println!(
            "{d:<14} {n:>10} {p:>7} {:>6.1}%",
            *p as f64 * 100.0 / (*n).max(1) as f64
        );
    }
    println!(
        "{:<14} {all:>10} {ok:>7} {:>6.1}%",
        "all",
        ok as f64 * 100.0 / all.max(1) as f64
    );

    let path = format!("{DIR}/baseline.json");
    let current: BTreeMap<String, u64> = counts.iter().map(|(d, c)| (d.clone(), c.1)).collect();
    if std::env::var("UPDATE_SQL_BASELINE").is_ok() {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&current).unwrap() + "\n",
        )
        .unwrap();
        std::fs::write(
            format!("{DIR}/REFUSED.md"),
            refused_report(&counts, &refusals),
        )
        .unwrap();
        return;
    }
    let baseline: BTreeMap<String, u64> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut worse = Vec::new();
    for (d, want) in &baseline {
        let got = current.get(d).copied().unwrap_or(0);
        if got < *want {
            worse.push(format!("{d}: {got} statements parsed, baseline {want}"));
        }
    }
    assert!(worse.is_empty(), "parse coverage fell: {worse:?}");
}

/// The statements still refused, per dialect, grouped by the parser's reason (most
/// frequent first), each with where it is: the list the issue of parse coverage asks
/// for, regenerated with the baseline.
fn refused_report(
    counts: &BTreeMap<String, (u64, u64)>,
    refusals: &BTreeMap<String, BTreeMap<String, Vec<String>>>,
) -> String {
    let mut out = String::from(
        "# Statements still refused\n\n\
         Generated by `UPDATE_SQL_BASELINE=1 cargo test --release --workspace --test \
         dialect_coverage` with the baseline. Per dialect: the parser's reason and where \
         (`case:line:column`). Most reasons are grammar sqlparser-rs lacks (DDL for \
         functions, policies and governance clauses, dialect-only statements); \
         `Expected: end of statement` marks a statement whose prefix parsed and whose \
         lineage is kept in part.\n",
    );
    for (dialect, reasons) in refusals {
        let (n, p) = counts[dialect];
        out += &format!(
            "\n## {dialect}: {} of {n} refused ({:.1}% parsed)\n\n",
            n - p,
            p as f64 * 100.0 / n.max(1) as f64
        );
        let mut reasons: Vec<_> = reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        for (why, wheres) in reasons {
            out += &format!(
                "- {} × `{}`: {}\n",
                wheres.len(),
                why.replace('`', "'"),
                wheres.join(", ")
            );
        }
    }
    out
}

//! Conformance: the 262 cases of sqllineage 1.5.9's own test suite
//! (`fixtures/sql-conformance/cases.json`, MIT, (c) reata).
//!
//! Comparison rules:
//! - each case is analyzed in its first listed dialect, with its catalog and with
//!   lateral column aliases on exactly when the case's env turns them on (sqllineage's
//!   default is off);
//! - table cases: the script's reads and writes, minus intermediate tables (written,
//!   then read, in the same script), as sqllineage reports source and target tables;
//! - column cases: the set of (source, target) of DIRECT edges plus INDIRECT edges of
//!   subtype CONDITIONAL and WINDOW (sqllineage counts every column inside a select
//!   expression, CASE conditions and window keys included, as a source of the result,
//!   but not join, filter, grouping or sorting influence, so Headwaters' other INDIRECT
//!   edges are extra and not compared);
//! - in scripts, columns of intermediate tables are bridged and left out, as sqllineage
//!   reports end-to-end column lineage (Headwaters reports each statement's edges and
//!   lists the intermediate tables);
//! - an unqualified table prints as `<default>.table` in table cases and as `table` in
//!   column cases, as the expectations are written.
//!
//! The test prints every failing case and fails if fewer cases pass than `BASELINE`.
//! Raise `BASELINE` when the extractor improves.

use std::collections::BTreeSet;
use std::sync::Arc;

use headwaters_sqllineage::{
    Dialect, JsonCatalog, Options, TableName, TransformationSubtype, TransformationType, analyze,
};
use serde::Deserialize;

/// Cases known to pass; the test fails below this.
const BASELINE: usize = 252;

#[derive(Deserialize)]
struct Case {
    id: String,
    kind: String,
    sql: String,
    dialect: String,
    expected: serde_json::Value,
    metadata: Option<serde_json::Value>,
    #[serde(default)]
    env: serde_json::Map<String, serde_json::Value>,
}

/// Table cases spell an unqualified table `<default>.t`; column cases spell it `t`.
fn show(t: &TableName) -> String {
    match &t.schema {
        None if t.name.contains('/') => t.name.clone(),
        None => format!("<default>.{}", t.name),
        Some(_) => t.to_string(),
    }
}

fn show_col(t: &TableName) -> String {
    t.to_string()
}

fn run(case: &Case) -> Result<(), String> {
    let dialect: Dialect = case.dialect.parse().map_err(|e| format!("{e}"))?;
    let catalog = match &case.metadata {
        Some(m) => {
            Some(Arc::new(JsonCatalog::from_json(&m.to_string()).map_err(|e| e.to_string())?) as _)
        }
        None => None,
    };
    let opts = Options {
        dialect,
        catalog,
        lateral_column_alias: Some(
            case.env
                .contains_key("SQLLINEAGE_LATERAL_COLUMN_ALIAS_REFERENCE"),
        ),
        ..Options::default()
    };
    let lineage = analyze(&case.sql, &opts);
    let diags: Vec<String> = lineage.diagnostics().map(|d| d.to_string()).collect();
    let inter: BTreeSet<String> = lineage.intermediate_tables.iter().map(show).collect();
    if case.kind == "table" {
        let set = |v: &serde_json::Value| -> BTreeSet<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        };
        let want_read = set(&case.expected["read"]);
        let want_write = set(&case.expected["write"]);
        let all = |f: &dyn Fn(&headwaters_sqllineage::StatementLineage) -> &Vec<TableName>| -> BTreeSet<String> {
            lineage.statements.iter().flat_map(|s| f(s).iter().map(show)).filter(|t| !inter.contains(t)).collect()
        };
        let got_read = all(&|s| &s.reads);
        let got_write = all(&|s| &s.writes);
        if got_read == want_read && got_write == want_write {
            Ok(())
        } else {
            Err(format!(
                "read: want {want_read:?} got {got_read:?}; write: want {want_write:?} got {got_write:?}; diagnostics {diags:?}"
            ))
        }
    } else {
        let want: BTreeSet<(String, String)> = case
            .expected
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_str()?.to_string())))
            .collect();
        let got: BTreeSet<(String, String)> = lineage
            .statements
            .iter()
            .flat_map(|s| s.columns.iter())
            .filter(|e| {
                e.kind == TransformationType::Direct
                    || matches!(
                        e.subtype,
                        TransformationSubtype::Conditional | TransformationSubtype::Window
                    )
            })
            .map(|e| {
                (
                    format!("{}.{}", show_col(&e.source.table), e.source.column),
                    format!("{}.{}", show_col(&e.target.table), e.target.column),
                )
            })
            .collect();
        let inter: BTreeSet<String> = lineage.intermediate_tables.iter().map(show_col).collect();
        let got = collapse(got, &inter);
        if got == want {
            Ok(())
        } else {
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            Err(format!(
                "missing {missing:?}; extra {extra:?}; diagnostics {diags:?}"
            ))
        }
    }
}

/// sqllineage reports a script's column lineage end to end: a column of an
/// intermediate table that is both written and read in the script is bridged (its
/// sources connected to its targets) and left out.
fn collapse(
    edges: BTreeSet<(String, String)>,
    intermediate: &BTreeSet<String>,
) -> BTreeSet<(String, String)> {
    let in_intermediate = |c: &str| {
        intermediate.iter().any(|t| {
            c.strip_prefix(t.as_str())
                .is_some_and(|r| r.starts_with('.') && !r[1..].contains('.'))
        })
    };
    let internal = |c: &str| {
        in_intermediate(c) && edges.iter().any(|(_, b)| b == c) && edges.iter().any(|(a, _)| a == c)
    };
    let mut out = BTreeSet::new();
    for (s, t) in &edges {
        if internal(s) {
            continue;
        }
        let mut stack = vec![t.clone()];
        let mut seen = BTreeSet::new();
        while let Some(c) = stack.pop() {
            if !seen.insert(c.clone()) {
                continue;
            }
            if internal(&c) {
                stack.extend(
                    edges
                        .iter()
                        .filter(|(a, _)| *a == c)
                        .map(|(_, b)| b.clone()),
                );
            } else {
                out.insert((s.clone(), c));
            }
        }
    }
    out
}

#[test]
fn sqllineage_conformance_cases() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sql-conformance/cases.json");
    let cases: Vec<Case> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (mut pass, mut table_pass, mut column_pass) = (0, 0, 0);
    let (tables, columns) = (
        cases.iter().filter(|c| c.kind == "table").count(),
        cases.iter().filter(|c| c.kind != "table").count(),
    );
    for case in &cases {
        match run(case) {
            Ok(()) => {
                pass += 1;
                if case.kind == "table" {
                    table_pass += 1;
                } else {
                    column_pass += 1;
                }
            }
            Err(why) => println!("FAIL {} [{}]: {why}", case.id, case.dialect),
        }
    }
    println!(
        "conformance: {pass}/{} passed ({:.1}%): table {table_pass}/{tables}, column {column_pass}/{columns}",
        cases.len(),
        100.0 * pass as f64 / cases.len() as f64
    );
    assert!(
        pass >= BASELINE,
        "{pass} cases pass, fewer than the recorded baseline {BASELINE}"
    );
}

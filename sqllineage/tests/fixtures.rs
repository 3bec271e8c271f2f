//! One snapshot per SQL file under `fixtures/sql/<dialect>/`: the tables each statement
//! reads and writes, its column edges with their transformation (a plain query's into
//! `<query>.column`), and its diagnostics.
//! Review changes with `cargo insta review` (or rerun with `INSTA_UPDATE=always` and
//! read the diff).

use std::fmt::Write;

use headwaters_sqllineage::{Options, analyze};

fn render(sql: &str, dialect: &str) -> String {
    let opts = Options {
        dialect: dialect.parse().expect("folder names are dialects"),
        ..Options::default()
    };
    let lineage = analyze(sql, &opts);
    let mut out = String::new();
    for (i, s) in lineage.statements.iter().enumerate() {
        let names = |v: &[headwaters_sqllineage::TableName]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(out, "statement {} ({}) at {}", i + 1, s.kind, s.location).unwrap();
        if s.recovered {
            writeln!(
                out,
                "  (recovered from inside the refused statement before)"
            )
            .unwrap();
        }
        writeln!(out, "  reads:  {}", names(&s.reads)).unwrap();
        writeln!(out, "  writes: {}", names(&s.writes)).unwrap();
        if !s.reads_written.is_empty() {
            writeln!(out, "  reads (written too): {}", names(&s.reads_written)).unwrap();
        }
        if !s.modifies.is_empty() {
            writeln!(out, "  modifies: {}", names(&s.modifies)).unwrap();
        }
        for e in s.columns.iter().chain(&s.query_output) {
            writeln!(
                out,
                "  {} -> {}  {:?}/{:?}",
                e.source, e.target, e.kind, e.subtype
            )
            .unwrap();
        }
        for d in &s.diagnostics {
            writeln!(out, "  ! {:?} at {}: {}", d.kind, d.location, d.message).unwrap();
        }
    }
    if !lineage.intermediate_tables.is_empty() {
        let t: Vec<String> = lineage
            .intermediate_tables
            .iter()
            .map(|t| t.to_string())
            .collect();
        writeln!(out, "intermediate: {}", t.join(", ")).unwrap();
    }
    out
}

#[test]
fn sql_fixture_snapshots() {
    insta::glob!("../../fixtures/sql", "*/*.sql", |path| {
        let dialect = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .expect("dialect folder");
        let sql = std::fs::read_to_string(path).expect("readable fixture");
        insta::assert_snapshot!(render(&sql, dialect));
    });
}

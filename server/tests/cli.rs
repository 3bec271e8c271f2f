//! End-to-end tests of the `headwaters` binary: gen, load, lineage, demo, and errors.

use std::process::{Command, Output};

fn headwaters(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_headwaters"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn gen_load_and_query_a_graph() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("g.jsonl");
    let data = dir.path().join("data");
    let (file, data) = (file.to_str().unwrap(), data.to_str().unwrap());
    let out = headwaters(&["gen", "--nodes", "3000", "--format", "jsonl", "--out", file]);
    assert!(out.status.success(), "{}", text(&out));
    let out = headwaters(&["load", "--data-dir", data, "--jsonl", file]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("loaded 3000 new nodes"),
        "{}",
        text(&out)
    );
    // Node 2000 is a mart table in a 3000-node graph (layers 15/25/25/20/15%).
    let out = headwaters(&[
        "lineage",
        "--data-dir",
        data,
        "warehouse.marts.s0.t2000",
        "--up",
        "2",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("table warehouse.marts.s0.t2000") && t.contains("upstream:"),
        "{t}"
    );
    assert!(t.contains("depth 1 "), "a mart table has parents: {t}");
    // Loading the same file again reuses every entity.
    let out = headwaters(&["load", "--data-dir", data, "--jsonl", file]);
    assert!(
        text(&out).contains("loaded 0 new nodes (3000 already present)"),
        "{}",
        text(&out)
    );
}

#[test]
fn errors_name_the_problem_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.jsonl");
    std::fs::write(&file, "{\"kind\":\"node\",\"type\":\"table\",\"fqn\":\"a\"}\n{\"kind\":\"edge\",\"from\":\"a\",\"to\":\"b\"}\n").unwrap();
    let data = dir.path().join("data");
    let out = headwaters(&[
        "load",
        "--data-dir",
        data.to_str().unwrap(),
        "--jsonl",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("line 2") && t.contains("unknown node key \"b\""),
        "{t}"
    );
    let out = headwaters(&[
        "lineage",
        "--data-dir",
        data.to_str().unwrap(),
        "--type",
        "tabel",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("unknown entity type \"tabel\""),
        "{}",
        text(&out)
    );
    let out = headwaters(&["load", "--jsonl"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn demo_answers_lineage_queries() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let args = [
        "demo",
        "--nodes",
        "5000",
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let out = headwaters(&args);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("lineage of warehouse.marts."), "{t}");
    assert!(t.contains("impact of hub"), "{t}");
    // A second run reuses the store.
    let out = headwaters(&args);
    assert!(
        text(&out).contains("already holds 5000 nodes"),
        "{}",
        text(&out)
    );
}

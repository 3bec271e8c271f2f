//! End-to-end tests of the `headwaters` binary: gen, load, lineage, demo, and errors.

mod common;

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
    // The load leaves the graph's snapshot, so the next open need not rebuild it.
    assert!(
        text(&out).contains("graph snapshot saved"),
        "{}",
        text(&out)
    );
    assert!(
        std::path::Path::new(data)
            .join("store/headwaters-graph.snapshot")
            .exists()
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

/// `headwaters-sql --format openlineage` on a multi-statement script, posted to the
/// receiver, gives exactly the statement-level table and column edges that the same
/// analysis reports (no cross product of the whole script's reads and writes, no
/// column mapping lost).
#[test]
fn headwaters_sql_openlineage_output_posts_the_statement_edges() {
    let sql_bin = std::path::Path::new(common::bin()).with_file_name("headwaters-sql");
    assert!(
        sql_bin.exists(),
        "{} is missing: build the workspace (cargo test --release --workspace)",
        sql_bin.display()
    );
    let script = "\
        CREATE TABLE stage.orders AS SELECT o.id, o.amount, c.region FROM raw.orders o JOIN raw.customers c ON o.customer_id = c.id;\n\
        INSERT INTO mart.revenue (region, total) SELECT region, sum(amount) FROM stage.orders GROUP BY region;\n\
        SELECT count(*) FROM mart.revenue;\n\
        CREATE VIEW mart.big_regions AS SELECT region FROM mart.revenue WHERE total > 100;\n\
        INSERT INTO mart.audit (id, note) SELECT id, 'seen' FROM raw.events;\n";
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&sql_bin)
            .args(args)
            .args(["--dialect", "postgres", "-e", script])
            .output()
            .expect("headwaters-sql runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // What the analysis says: table edges per statement, column edges across tables.
    let analysis: serde_json::Value = serde_json::from_str(&run(&["--format", "json"])).unwrap();
    let name = |t: &serde_json::Value| {
        format!(
            "{}.{}",
            t["schema"].as_str().unwrap(),
            t["name"].as_str().unwrap()
        )
    };
    let mut want_tables = std::collections::BTreeSet::new();
    let mut want_columns = std::collections::BTreeSet::new();
    for st in analysis[0]["lineage"]["statements"].as_array().unwrap() {
        for r in st["reads"].as_array().unwrap() {
            for w in st["writes"].as_array().unwrap() {
                want_tables.insert((name(r), name(w)));
            }
        }
        for c in st["columns"].as_array().unwrap() {
            let (s, t) = (name(&c["source"]["table"]), name(&c["target"]["table"]));
            if s != t {
                want_columns.insert((
                    format!("{s}.{}", c["source"]["column"].as_str().unwrap()),
                    format!("{t}.{}", c["target"]["column"].as_str().unwrap()),
                ));
            }
        }
    }
    assert_eq!(want_tables.len(), 5, "{want_tables:?}");

    let dir = tempfile::tempdir().unwrap();
    let server = common::Server::start(dir.path(), &[]);
    let c = common::Client::new(&server.url, &common::token(dir.path(), "editor"));
    let events = run(&["--format", "openlineage"]);
    assert_eq!(
        events.lines().count(),
        5,
        "one event per statement that names a table (the SELECT only reads)"
    );
    for line in events.lines() {
        let ev: serde_json::Value = serde_json::from_str(line).unwrap();
        let (s, v) = c.post("/api/v1/openlineage/lineage", &ev);
        assert_eq!(s, 201, "{v}");
    }
    // Every edge in the graph, by `schema.table` (the service is postgres_default, the
    // database `default`).
    let (_, tables) = c.get("/api/v1/tables?limit=1000");
    let short = |fqn: &str| fqn.splitn(3, '.').nth(2).unwrap().to_string();
    let (mut got_tables, mut got_columns) = (
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    );
    for t in tables["data"].as_array().unwrap() {
        let fqn = t["fullyQualifiedName"].as_str().unwrap();
        assert!(fqn.starts_with("postgres_default.default."), "{fqn}");
        let (_, g) = c.get(&format!(
            "/api/v1/lineage/table/name/{fqn}?upstreamDepth=1&downstreamDepth=0"
        ));
        let by_id: std::collections::HashMap<&str, &str> = g["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["id"].as_str().unwrap(),
                    n["fullyQualifiedName"].as_str().unwrap(),
                )
            })
            .collect();
        for e in g["upstreamEdges"].as_array().unwrap() {
            got_tables.insert((short(by_id[e["fromEntity"].as_str().unwrap()]), short(fqn)));
            for m in e["lineageDetails"]["columnsLineage"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for f in m["fromColumns"].as_array().unwrap() {
                    got_columns.insert((
                        short(f.as_str().unwrap()),
                        short(m["toColumn"].as_str().unwrap()),
                    ));
                }
            }
        }
    }
    assert_eq!(got_tables, want_tables);
    assert_eq!(got_columns, want_columns);
    server.stop();
}

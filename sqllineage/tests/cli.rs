//! The `headwaters-sql` binary end to end: inputs, formats, summary, exit codes.

use std::process::{Command, Output, Stdio};

fn sql(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_headwaters-sql"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("binary runs");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn column_lineage_as_text_and_json() {
    let o = sql(
        &[
            "-e",
            "INSERT INTO mart.t SELECT a + 1 AS x FROM raw.s WHERE b > 0",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.contains("raw.s.a -> mart.t.x  Direct/Transformation"),
        "{text}"
    );
    assert!(
        text.contains("raw.s.b -> mart.t.x  Indirect/Filter"),
        "{text}"
    );
    assert!(
        err(&o).contains("statements: 1, succeeded: 1, failed: 0"),
        "{}",
        err(&o)
    );

    let o = sql(
        &["--format", "json", "-e", "INSERT INTO t SELECT a FROM s"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let edge = &v[0]["lineage"]["statements"][0]["columns"][0];
    assert_eq!(edge["source"]["column"], "a");
    assert_eq!(edge["type"], "DIRECT");
    assert_eq!(edge["subtype"], "IDENTITY");
}

#[test]
fn files_directories_globs_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("models")).unwrap();
    std::fs::write(
        dir.path().join("models/a.sql"),
        "INSERT INTO x SELECT c FROM y;",
    )
    .unwrap();
    std::fs::write(dir.path().join("models/b.sql"), "\n\nSELEC oops;").unwrap();
    std::fs::write(dir.path().join("models/notes.txt"), "not sql").unwrap();
    let o = sql(
        &[
            "--level",
            "table",
            "-f",
            dir.path().join("models").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "a statement failed: {}", err(&o));
    assert!(out(&o).contains("writes: x"), "{}", out(&o));
    let e = err(&o);
    assert!(
        e.contains("b.sql:3:1: Parse"),
        "errors name file, line and column: {e}"
    );
    assert!(e.contains("statements: 2, succeeded: 1, failed: 1"), "{e}");

    let pattern = format!("{}/models/*.sql", dir.path().display());
    let o = sql(&["--level", "table", "-f", &pattern], None);
    assert_eq!(out(&o).matches("== ").count(), 2, "{}", out(&o));

    let log = dir.path().join("queries.jsonl");
    std::fs::write(&log, "{\"query\": \"INSERT INTO a SELECT x FROM b\"}\n\n{\"query\": \"INSERT INTO c SELECT y FROM d\"}\n").unwrap();
    let o = sql(
        &[
            "--format",
            "dot",
            "--level",
            "table",
            "--log",
            log.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        out(&o).contains("\"b\" -> \"a\"") && out(&o).contains("\"d\" -> \"c\""),
        "{}",
        out(&o)
    );
    std::fs::write(&log, "{\"sql\": \"SELECT 1\"}\n").unwrap();
    let o = sql(&["--log", log.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("queries.jsonl:1: no \"query\" field"),
        "{}",
        err(&o)
    );
}

#[test]
fn stdin_catalog_formats_and_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("catalog.json");
    std::fs::write(&cat, r#"{"raw.s": ["a", "b"]}"#).unwrap();
    let o = sql(
        &[
            "--catalog",
            cat.to_str().unwrap(),
            "--format",
            "openlineage",
        ],
        Some("INSERT INTO mart.t SELECT * FROM raw.s"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let ev: serde_json::Value = serde_json::from_str(out(&o).trim()).unwrap();
    assert_eq!(ev["eventType"], "COMPLETE");
    let fields = &ev["outputs"][0]["facets"]["columnLineage"]["fields"];
    assert_eq!(
        fields["b"]["inputFields"][0]["field"], "b",
        "the catalog expanded *: {ev}"
    );

    // One event per statement (reads and writes of that statement only), in the
    // dialect's namespace; --namespace, --job and --openlineage-per file.
    let script = "INSERT INTO m.a SELECT x FROM r.s; SELECT 1; INSERT INTO m.b SELECT y FROM r.t JOIN r.u ON r.t.k = r.u.k";
    let run = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = vec!["--format", "openlineage", "-e", script];
        all.extend_from_slice(args);
        out(&sql(&all, None))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let per_statement = run(&["--dialect", "postgres"]);
    let events = &per_statement;
    assert_eq!(events.len(), 2, "SELECT 1 reads no table: {events:?}");
    let names = |e: &serde_json::Value, k: &str| -> Vec<String> {
        e[k].as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        (names(&events[0], "inputs"), names(&events[0], "outputs")),
        (vec!["r.s".to_string()], vec!["m.a".to_string()])
    );
    assert_eq!(
        names(&events[1], "inputs"),
        vec!["r.t".to_string(), "r.u".to_string()]
    );
    assert_eq!(events[0]["inputs"][0]["namespace"], "postgres://default");
    assert_ne!(events[0]["run"]["runId"], events[1]["run"]["runId"]);
    let per_file = run(&[
        "--namespace",
        "snowflake://acme",
        "--job",
        "nightly",
        "--openlineage-per",
        "file",
    ]);
    let events = &per_file;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["job"],
        serde_json::json!({"namespace": "headwaters-sql", "name": "nightly"})
    );
    assert_eq!(events[0]["outputs"].as_array().unwrap().len(), 2);
    assert_eq!(events[0]["outputs"][0]["namespace"], "snowflake://acme");

    let o = sql(
        &["--format", "mermaid", "-e", "INSERT INTO t SELECT a FROM s"],
        None,
    );
    assert!(out(&o).starts_with("flowchart LR"), "{}", out(&o));

    let o = sql(&["--dialect", "nope", "-e", "SELECT 1"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("valid dialects: generic, ansi"),
        "{}",
        err(&o)
    );
    let o = sql(&["-f", "/definitely/missing.sql"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = sql(&["--format", "yaml"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_plain_query_output_in_every_format() {
    let q = "SELECT o.id, sum(o.amount) AS total FROM shop.orders o GROUP BY o.id;\nSELECT name FROM shop.customers";
    let text = out(&sql(&["-e", q], None));
    assert!(
        text.contains("shop.orders.amount -> query@1:1.total  Direct/Aggregation  [sum(o.amount)]"),
        "{text}"
    );
    assert!(
        text.contains("shop.customers.name -> query@2:1.name  Direct/Identity"),
        "the second query's output is its own: {text}"
    );
    let o = sql(&["--format", "json", "-e", q], None);
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let edges = v[0]["lineage"]["statements"][0]["query_output"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        edges.iter().any(|e| e["source"]["column"] == "amount"
            && e["target"]["table"]["name"] == "<query>"
            && e["target"]["column"] == "total"
            && e["subtype"] == "AGGREGATION"),
        "{edges:?}"
    );
    let dot = out(&sql(
        &["--format", "dot", "--level", "column", "-e", q],
        None,
    ));
    assert!(
        dot.contains("\"shop.orders.amount\" -> \"query@1:1.total\";"),
        "{dot}"
    );
    let mermaid = out(&sql(
        &["--format", "mermaid", "--level", "column", "-e", q],
        None,
    ));
    assert!(mermaid.contains("[\"query@2:1.name\"]"), "{mermaid}");
}

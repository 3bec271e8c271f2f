//! The OpenLineage Python client (HTTP transport, gzip) against the real server.

mod common;

use common::{Client, Server, openlineage_python, run_python, token};
use serde_json::json;

#[test]
fn openlineage_python_client_builds_the_graph() {
    let python = openlineage_python();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hw.toml");
    std::fs::write(
        &cfg,
        "[openlineage_namespaces]\n\"postgres://db:5432\" = \"pg_prod\"\n",
    )
    .unwrap();
    let server = Server::start(dir.path(), &["--config", cfg.to_str().unwrap()]);
    let editor = token(dir.path(), "editor");
    // The table the postgres namespace maps to exists already, OpenMetadata-style.
    let c = Client::new(&server.url, &editor);
    assert_eq!(
        c.put(
            "/api/v1/services/databaseServices",
            &json!({"name": "pg_prod", "serviceType": "Postgres"})
        )
        .0,
        201
    );
    assert_eq!(
        c.put(
            "/api/v1/databases",
            &json!({"name": "shop", "service": "pg_prod"})
        )
        .0,
        201
    );
    assert_eq!(
        c.put(
            "/api/v1/databaseSchemas",
            &json!({"name": "public", "database": "pg_prod.shop"})
        )
        .0,
        201
    );
    let (s, v) = c.put(
        "/api/v1/tables",
        &json!({"name": "orders", "databaseSchema": "pg_prod.shop.public",
        "columns": [{"name": "id", "dataType": "INT"}, {"name": "amount", "dataType": "DECIMAL"}]}),
    );
    assert_eq!(s, 201, "{v}");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openlineage/ol_e2e.py");
    run_python(
        &python,
        script,
        &server.url,
        &editor,
        "OpenLineage checks passed",
    );
    // The existing table kept its columns and gained the ones the events named.
    let (_, t) = c.get("/api/v1/tables/name/pg_prod.shop.public.orders");
    let names: Vec<&str> = t["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["id", "amount", "status", "created_at"], "{t}");
    assert_eq!(
        t["columns"][1]["dataType"], "DECIMAL",
        "existing column kept as it was"
    );
    server.stop();
}

/// Marquez's read API, read with Marquez's own Python client (marquez-python) after the
/// OpenLineage client wrote on Marquez's `POST /api/v1/lineage`.
#[test]
fn marquez_python_client_reads_the_graph() {
    let python = openlineage_python();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let editor = token(dir.path(), "editor");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/openlineage/marquez_e2e.py"
    );
    run_python(
        &python,
        script,
        &server.url,
        &editor,
        "Marquez checks passed",
    );
    server.stop();
}

//! The real `headwaters serve` binary: restart durability, the demo, --no-auth, config.

mod common;

use std::process::Command;

use common::{Client, Server, bin, pluck, run_ok, token};
use serde_json::json;

#[test]
fn writes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let admin = server
        .first_token
        .clone()
        .expect("first start prints an admin token");
    let c = Client::new(&server.url, &admin);
    assert_eq!(
        c.put(
            "/api/v1/services/databaseServices",
            &json!({"name": "svc", "serviceType": "Postgres"})
        )
        .0,
        201
    );
    assert_eq!(
        c.put(
            "/api/v1/databases",
            &json!({"name": "db", "service": "svc"})
        )
        .0,
        201
    );
    assert_eq!(
        c.put(
            "/api/v1/databaseSchemas",
            &json!({"name": "s", "database": "svc.db"})
        )
        .0,
        201
    );
    let mut ids = Vec::new();
    for name in ["src", "dst.v2"] {
        let (s, v) = c.put("/api/v1/tables", &json!({"name": name, "databaseSchema": "svc.db.s", "description": format!("table {name}"),
            "columns": [{"name": "id", "dataType": "BIGINT"}]}));
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let (s, v) = c.put("/api/v1/lineage", &json!({"edge": {"fromEntity": {"id": ids[0], "type": "table"}, "toEntity": {"id": ids[1], "type": "table"},
        "lineageDetails": {"sqlQuery": "insert into dst select id from src", "columnsLineage": [{"fromColumns": ["svc.db.s.src.id"], "toColumn": "svc.db.s.\"dst.v2\".id"}]}}}));
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        c.delete(&format!("/api/v1/tables/{}", ids[0])).0,
        200,
        "soft delete"
    );
    assert_eq!(
        c.put("/api/v1/tables/restore", &json!({"id": ids[0]})).0,
        200
    );
    server.stop();

    let server = Server::start(dir.path(), &[]);
    assert!(
        server.first_token.is_none(),
        "the secret persists, so no new admin token"
    );
    let c = Client::new(&server.url, &admin);
    let (s, v) = c.get("/api/v1/tables/name/svc.db.s.\"dst.v2\"");
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["id"].as_str().unwrap(),
            v["description"].as_str().unwrap()
        ),
        (ids[1].as_str(), "table dst.v2")
    );
    let (_, v) = c.get("/api/v1/lineage/table/name/svc.db.s.src?upstreamDepth=0&downstreamDepth=1");
    assert_eq!(v["nodes"][0]["id"], ids[1].as_str());
    let details = &v["downstreamEdges"][0]["lineageDetails"];
    assert_eq!(details["sqlQuery"], "insert into dst select id from src");
    assert_eq!(
        details["columnsLineage"][0]["toColumn"],
        "svc.db.s.\"dst.v2\".id"
    );
    let (_, v) = c.get("/api/v1/search/query?q=dst&index=table_search_index");
    assert_eq!(
        v["hits"]["total"]["value"], 1,
        "search index rebuilt at start: {v}"
    );
    let (_, v) = c.get("/api/v1/tables?databaseSchema=svc.db.s");
    assert_eq!(v["paging"]["total"], 2);
    let viewer = Client::new(&server.url, &token(dir.path(), "viewer"));
    assert_eq!(viewer.get("/api/v1/tables").0, 200);
    assert_eq!(
        viewer
            .put("/api/v1/databases", &json!({"name": "x", "service": "svc"}))
            .0,
        403
    );
    server.stop();
}

#[test]
fn demo_platform_and_no_auth() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo", "--no-auth"]);
    let c = Client::new(&server.url, "");
    let (s, v) = c.get("/api/v1/tables?limit=1");
    assert_eq!(s, 200, "--no-auth serves without a token");
    assert!(v["paging"]["total"].as_u64().unwrap() >= 40, "{v}");
    let (_, v) = c.get("/api/v1/lineage/table/name/warehouse.analytics.marts.fct_orders?upstreamDepth=3&downstreamDepth=3");
    let names = pluck(&v, "nodes", "name");
    for expected in [
        "stg_orders",
        "orders",
        "int_payments_by_order",
        "mart_daily_revenue",
        "order_operations",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let (_, v) = c.get("/api/v1/lineage/column/name/warehouse.analytics.raw.orders.amount?upstreamDepth=0&downstreamDepth=10");
    let cols = pluck(&v, "columns", "column");
    assert!(
        cols.iter()
            .any(|c| c == "warehouse.analytics.marts.mart_daily_revenue.revenue"),
        "{cols:?}"
    );
    let (_, v) = c.get("/api/v1/search/query?q=revenue");
    assert!(v["hits"]["total"]["value"].as_u64().unwrap() >= 3, "{v}");
    assert_eq!(c.get("/readyz").1["status"], "ready");
    server.stop();
    // A second start with --demo keeps the data as it is.
    let server = Server::start(dir.path(), &["--demo", "--no-auth"]);
    let before =
        Client::new(&server.url, "").get("/api/v1/tables?limit=1").1["paging"]["total"].clone();
    assert!(before.as_u64().unwrap() >= 40);
    server.stop();
}

#[test]
fn bad_configuration_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hw.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:0\"\nmax_deph = 4\n").unwrap();
    let out = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("max_deph") && err.contains("hw.toml"), "{err}");
    let out = Command::new(bin())
        .args([
            "token",
            "create",
            "--name",
            "x",
            "--role",
            "owner",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role \"owner\""));
}

#[test]
fn rs256_tokens_with_configured_keys() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private.pem");
    let public = dir.path().join("public.pem");
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&private)
        .status()
        .expect("openssl runs");
    assert!(ok.success());
    let ok = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .status()
        .unwrap();
    assert!(ok.success());
    let server = Server::start(dir.path(), &["--jwt-public-key", public.to_str().unwrap()]);
    assert!(
        server.first_token.is_none(),
        "with RS256 the server has no key to mint an admin token"
    );
    let rs = run_ok(
        Command::new(bin())
            .args([
                "token",
                "create",
                "--name",
                "rs",
                "--role",
                "viewer",
                "--jwt-public-key",
            ])
            .arg(&public)
            .arg("--jwt-private-key")
            .arg(&private)
            .arg("--data-dir")
            .arg(dir.path()),
    )
    .trim()
    .to_string();
    assert_eq!(Client::new(&server.url, &rs).get("/api/v1/tables").0, 200);
    let hs = token(dir.path(), "admin");
    let (s, v) = Client::new(&server.url, &hs).get("/api/v1/tables");
    assert_eq!(
        s, 401,
        "an HS256 token is not accepted by an RS256 server: {v}"
    );
    server.stop();
}

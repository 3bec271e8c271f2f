//! dbt import from the checked-in artifacts of a real dbt project (fixtures/dbt/jaffle,
//! built with dbt-core 1.10 and dbt-duckdb): CLI, API, idempotent and scoped re-import.

mod common;

use std::process::Command;

use common::{Client, Server, bin, pluck, run_ok, token};
use serde_json::{Value, json};

const MANIFEST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/dbt/jaffle/manifest.json"
);
const CATALOG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/dbt/jaffle/catalog.json"
);

fn import(data: &std::path::Path, manifest: &str) -> String {
    run_ok(
        Command::new(bin())
            .args([
                "import",
                "dbt",
                "--manifest",
                manifest,
                "--catalog",
                CATALOG,
                "--service",
                "duck",
                "--data-dir",
            ])
            .arg(data),
    )
}

fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

#[test]
fn dbt_artifacts_become_the_expected_graph() {
    let dir = tempfile::tempdir().unwrap();
    let summary = import(dir.path(), MANIFEST);
    assert!(summary.contains("dbt project jaffle: 6 models, 3 seeds, 1 snapshots, 1 sources; 10 edges, 31 column edges"), "{summary}");
    assert_eq!(
        import(dir.path(), MANIFEST),
        summary,
        "a re-import is idempotent"
    );

    let server = Server::start(dir.path(), &[]);
    let c = Client::new(&server.url, &token(dir.path(), "editor"));
    let (_, v) = c.get(
        "/api/v1/lineage/table/name/duck.jaffle.main.customers?upstreamDepth=3&downstreamDepth=0",
    );
    assert_eq!(
        names(&v),
        [
            "ext_events",
            "orders",
            "raw_customers",
            "raw_orders",
            "raw_payments",
            "stg_customers",
            "stg_events",
            "stg_orders",
            "stg_payments"
        ]
    );
    let edge = v["upstreamEdges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["lineageDetails"]["sqlQuery"]
                .as_str()
                .is_some_and(|s| s.contains("customer_orders"))
        })
        .expect("the model's compiled SQL is kept");
    assert_eq!(edge["lineageDetails"]["source"], "DbtLineage");
    let (_, t) = c.get("/api/v1/tables/name/duck.jaffle.main.stg_customers");
    assert_eq!(t["tableType"], "View");
    assert_eq!(t["columns"][0]["name"], "customer_id");
    assert_eq!(
        t["columns"][0]["dataType"], "INT",
        "INTEGER in catalog.json"
    );
    let (_, t) = c.get("/api/v1/tables/name/duck.jaffle.snapshots.orders_snapshot");
    assert_eq!(t["tableType"], "Regular");
    let (_, col) = c.get("/api/v1/lineage/column/name/duck.jaffle.main.customers.lifetime_value?upstreamDepth=5&downstreamDepth=0");
    let chain = pluck(&col, "columns", "column");
    assert_eq!(
        chain,
        [
            "duck.jaffle.main.orders.amount",
            "duck.jaffle.main.stg_payments.amount",
            "duck.jaffle.main.raw_payments.amount"
        ]
    );
    let tr: Vec<&str> = col["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["transformation"].as_str().unwrap())
        .collect();
    assert!(
        tr.contains(&"DIRECT/AGGREGATION") && tr.contains(&"DIRECT/TRANSFORMATION"),
        "{tr:?}"
    );

    // Things the import did not make: a table and a manual edge into a dbt model.
    let (s, own) = c.put("/api/v1/tables", &json!({"name": "handmade", "databaseSchema": "duck.jaffle.main", "columns": [{"name": "x", "dataType": "INT"}]}));
    assert_eq!(s, 201, "{own}");
    let (_, stg) = c.get("/api/v1/tables/name/duck.jaffle.main.stg_orders");
    let (s, _) = c.put("/api/v1/lineage", &json!({"edge": {"fromEntity": {"id": own["id"], "type": "table"}, "toEntity": {"id": stg["id"], "type": "table"}}}));
    assert_eq!(s, 200);

    // The API takes the same artifacts; with `customers` gone from the project, its
    // table and edges go, and nothing else.
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(MANIFEST).unwrap()).unwrap();
    manifest["nodes"]
        .as_object_mut()
        .unwrap()
        .remove("model.jaffle.customers");
    let catalog: Value = serde_json::from_str(&std::fs::read_to_string(CATALOG).unwrap()).unwrap();
    let (s, r) = c.post(
        "/api/v1/dbt/import",
        &json!({"manifest": manifest, "catalog": catalog, "service": "duck"}),
    );
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (
            r["models"].clone(),
            r["edges"].clone(),
            r["removedEdges"].clone(),
            r["removedEntities"].clone()
        ),
        (json!(5), json!(7), json!(3), json!(1)),
        "{r}"
    );
    assert_eq!(
        c.get("/api/v1/tables/name/duck.jaffle.main.customers").0,
        404
    );
    assert_eq!(
        c.get("/api/v1/tables/name/duck.jaffle.main.handmade").0,
        200
    );
    let (_, v) = c.get(
        "/api/v1/lineage/table/name/duck.jaffle.main.stg_orders?upstreamDepth=1&downstreamDepth=0",
    );
    assert_eq!(
        names(&v),
        ["handmade", "raw_orders"],
        "the manual edge stays"
    );
    let (s, v) = c.post(
        "/api/v1/dbt/import",
        &json!({"manifest": {"nodes": {}}, "service": "duck"}),
    );
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("metadata"), "{v}");
    server.stop();
}

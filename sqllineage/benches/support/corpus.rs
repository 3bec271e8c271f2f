//! The benchmark corpora, shared by the throughput run and the criterion bench.

use std::collections::HashMap;
use std::sync::Arc;

use headwaters_sqllineage::{JsonCatalog, Options};

/// One SQL text with the options to analyze it with.
pub(crate) struct Item {
    pub(crate) sql: String,
    pub(crate) opts: Options,
}

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// The 262 conformance cases (mixed dialects, some with catalogs).
pub(crate) fn mixed() -> Vec<Item> {
    cases("sql-conformance/cases.json")
}

/// A fixtures file of `{"sql", "dialect", "metadata"?}` cases: each with its dialect and,
/// where it has one, its catalog.
fn cases(path: &str) -> Vec<Item> {
    let text = std::fs::read_to_string(fixtures().join(path)).expect(path);
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    cases
        .into_iter()
        .map(|c| {
            let catalog = c["metadata"].as_object().map(|m| {
                Arc::new(
                    JsonCatalog::from_json(&serde_json::Value::Object(m.clone()).to_string())
                        .expect("catalog"),
                ) as Arc<dyn headwaters_sqllineage::Catalog>
            });
            let dialect = c["dialect"]
                .as_str()
                .unwrap_or("generic")
                .parse()
                .unwrap_or_default();
            Item {
                sql: c["sql"].as_str().unwrap_or_default().to_string(),
                opts: Options {
                    dialect,
                    catalog,
                    ..Options::default()
                },
            }
        })
        .collect()
}

/// TPC-H (`"tpch"`) or TPC-DS (`"tpcds"`) queries, with their schema as the catalog.
pub(crate) fn tpc(which: &str) -> Vec<Item> {
    let text = std::fs::read_to_string(fixtures().join("sql-bench/tpc.json")).expect("tpc");
    let all: serde_json::Value = serde_json::from_str(&text).expect("json");
    let schema: HashMap<String, Vec<String>> = all[which]["schema"]
        .as_object()
        .expect("schema")
        .iter()
        .map(|(t, cols)| {
            (
                t.clone(),
                cols.as_object()
                    .map(|c| c.keys().cloned().collect())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let catalog: Arc<dyn headwaters_sqllineage::Catalog> = Arc::new(
        JsonCatalog::from_json(&serde_json::to_string(&schema).expect("json")).expect("catalog"),
    );
    all[which]["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .map(|q| Item {
            sql: q["sql"].as_str().unwrap_or_default().to_string(),
            opts: Options {
                catalog: Some(catalog.clone()),
                ..Options::default()
            },
        })
        .collect()
}

/// The dialect corpus: 878 files of real dialect syntax from sqlfluff's fixtures
/// (fixtures/sql-dialects, MIT, see its README), each with its own dialect.
pub(crate) fn dialects() -> Vec<Item> {
    cases("sql-dialects/cases.json")
}

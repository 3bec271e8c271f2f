//! Writes the small database checked in under `fixtures/db-v1/`, which
//! `tests/fixture_db.rs` opens to prove that newer builds still read it.
//! Only rerun it when starting a new storage version (into a new folder).
//!
//! `cargo run --release -p headwaters-engine --example make_fixture_db -- fixtures/db-v1`

use headwaters_engine::{ColumnMapping, EdgeInput, EntityInput, EntityType, LineageSource, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: make_fixture_db DIR")?;
    if std::path::Path::new(&out).exists() {
        return Err(format!("{out} exists; pick a new folder for a new storage version").into());
    }
    let store = Store::open(&out)?;
    let entity = |n: u128, t: EntityType, fqn: &str, cols: &[&str]| EntityInput {
        id: uuid::Uuid::from_u128(n),
        entity_type: t,
        fqn: fqn.into(),
        name: fqn.rsplit('.').next().unwrap_or(fqn).into(),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        doc: serde_json::json!({"description": format!("fixture {fqn}")}),
    };
    let (orders, _) = store.upsert_entity(entity(
        1,
        EntityType::Table,
        "pg.shop.public.orders",
        &["id", "customer_id", "amount"],
    ))?;
    let (customers, _) = store.upsert_entity(entity(
        2,
        EntityType::Table,
        "pg.shop.public.customers",
        &["id", "name"],
    ))?;
    let (revenue, _) = store.upsert_entity(entity(
        3,
        EntityType::Table,
        "dwh.analytics.marts.revenue",
        &["customer_name", "total"],
    ))?;
    let (dash, _) = store.upsert_entity(entity(
        4,
        EntityType::Dashboard,
        "superset.revenue_board",
        &[],
    ))?;
    let (etl, _) = store.upsert_entity(entity(
        5,
        EntityType::Pipeline,
        "airflow.nightly_revenue",
        &[],
    ))?;
    let (old, _) = store.upsert_entity(entity(
        6,
        EntityType::Table,
        "pg.shop.public.orders_old",
        &["id"],
    ))?;
    let col = |t: &str, c: &str| format!("{t}.{c}");
    let sql = "INSERT INTO revenue SELECT c.name, sum(o.amount) FROM orders o JOIN customers c ON o.customer_id = c.id GROUP BY c.name";
    store.put_edge(
        orders,
        revenue,
        EdgeInput {
            sql_query: Some(sql.into()),
            columns_lineage: vec![ColumnMapping {
                from_columns: vec![col("pg.shop.public.orders", "amount")],
                to_column: col("dwh.analytics.marts.revenue", "total"),
                function: Some("sum(o.amount)".into()),
                transformation: None,
            }],
            pipeline: Some(uuid::Uuid::from_u128(5)),
            source: LineageSource::QueryLineage,
            actor: Some("fixture".into()),
            at_millis: Some(1_763_000_000_000),
            ..EdgeInput::default()
        },
    )?;
    store.put_edge(
        customers,
        revenue,
        EdgeInput {
            sql_query: Some(sql.into()),
            columns_lineage: vec![ColumnMapping {
                from_columns: vec![col("pg.shop.public.customers", "name")],
                to_column: col("dwh.analytics.marts.revenue", "customer_name"),
                function: None,
                transformation: None,
            }],
            source: LineageSource::QueryLineage,
            at_millis: Some(1_763_000_000_000),
            ..EdgeInput::default()
        },
    )?;
    store.put_edge(
        revenue,
        dash,
        EdgeInput {
            source: LineageSource::DashboardLineage,
            at_millis: Some(1_763_000_000_000),
            ..EdgeInput::default()
        },
    )?;
    store.put_edge(
        old,
        orders,
        EdgeInput {
            at_millis: Some(1_763_000_000_000),
            ..EdgeInput::default()
        },
    )?;
    store.put_edge(
        etl,
        revenue,
        EdgeInput {
            source: LineageSource::PipelineLineage,
            at_millis: Some(1_763_000_000_000),
            ..EdgeInput::default()
        },
    )?;
    store.set_deleted(old, true)?;
    store.flush()?;
    drop(store);
    for e in std::fs::read_dir(&out)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("LOG") || name == "LOCK" {
            std::fs::remove_file(e.path())?;
        }
    }
    println!("wrote {out}");
    Ok(())
}

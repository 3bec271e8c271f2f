//! The demo data platform `headwaters serve --demo` loads on first start: a shop's
//! warehouse (raw -> staging -> intermediate -> marts -> finance, 45 tables), the
//! ingestion pipelines that fill the raw tables, and the dashboards that read the
//! marts. Every table past raw is created by a statement of
//! `fixtures/demo/warehouse.sql`, and its table and column lineage comes from running
//! that SQL through the sqllineage crate, exactly as `POST /lineage/sql` does.

use headwaters_engine::{EntityType, LineageSource};
use headwaters_sqllineage::{Options, TransformationType, analyze};
use serde_json::{Value, json};

use crate::domain::error::{Error, Result};
use crate::domain::kinds;
use crate::domain::lineage::{EdgeDetails, EdgeSpec, lineage_source};
use crate::domain::pipelines::{PipelineStatus, StatusType};
use crate::domain::sql::SqlRequest;
use crate::domain::{Actor, Key, Mode, Service};

/// The demo's SQL.
pub const WAREHOUSE_SQL: &str = include_str!("../../../fixtures/demo/warehouse.sql");

/// Raw tables: name and `column:TYPE` list.
const RAW: &[(&str, &str)] = &[
    (
        "orders",
        "id:BIGINT customer_id:BIGINT order_date:TIMESTAMP status:VARCHAR amount:DECIMAL currency:CHAR",
    ),
    (
        "customers",
        "id:BIGINT name:VARCHAR email:VARCHAR country:CHAR created_at:TIMESTAMP",
    ),
    (
        "products",
        "id:BIGINT name:VARCHAR category:VARCHAR price:DECIMAL",
    ),
    (
        "order_items",
        "order_id:BIGINT product_id:BIGINT quantity:INT unit_price:DECIMAL",
    ),
    (
        "payments",
        "id:BIGINT order_id:BIGINT method:VARCHAR amount:DECIMAL paid_at:TIMESTAMP",
    ),
    (
        "shipments",
        "id:BIGINT order_id:BIGINT carrier:VARCHAR shipped_at:TIMESTAMP delivered_at:TIMESTAMP",
    ),
    (
        "web_events",
        "event_id:VARCHAR user_id:BIGINT session_id:VARCHAR url:VARCHAR event_time:TIMESTAMP",
    ),
    (
        "campaigns",
        "id:BIGINT name:VARCHAR channel:VARCHAR budget:DECIMAL start_date:DATE",
    ),
    (
        "ad_spend",
        "campaign_id:BIGINT spend_date:DATE spend:DECIMAL",
    ),
    ("stores", "id:BIGINT name:VARCHAR region:VARCHAR"),
    (
        "inventory",
        "product_id:BIGINT store_id:BIGINT quantity:INT snapshot_date:DATE",
    ),
    (
        "employees",
        "id:BIGINT name:VARCHAR store_id:BIGINT hired_at:DATE",
    ),
];

/// Dashboards: name, description, the mart tables they read.
const DASHBOARDS: &[(&str, &str, &[&str])] = &[
    (
        "Executive Revenue",
        "Daily and monthly revenue for the leadership team",
        &["marts.mart_daily_revenue", "finance.monthly_close"],
    ),
    (
        "Customer 360",
        "Lifetime value and activity per customer",
        &[
            "marts.mart_customer_ltv",
            "marts.dim_customers",
            "marts.fct_sessions",
        ],
    ),
    (
        "Marketing ROI",
        "Spend and attributed revenue per campaign",
        &["marts.mart_marketing_roi"],
    ),
    (
        "Inventory Health",
        "Stock cover per store and product",
        &["marts.mart_inventory_health"],
    ),
    (
        "Store Performance",
        "Staffing and stock per store",
        &["marts.mart_store_performance"],
    ),
    (
        "Product Catalog",
        "Units and revenue per product",
        &["marts.dim_products"],
    ),
    (
        "Order Operations",
        "Orders, payments and delivery times",
        &["marts.fct_orders"],
    ),
    (
        "Finance Close",
        "Recognized revenue and GL postings",
        &["finance.gl_revenue", "finance.revenue_recognition"],
    ),
];

/// Ingestion pipelines: name, the last run's state, and the raw tables they load.
const PIPELINES: &[(&str, StatusType, &[&str])] = &[
    (
        "ingest_shop_db",
        StatusType::Successful,
        &[
            "orders",
            "customers",
            "products",
            "order_items",
            "payments",
            "shipments",
        ],
    ),
    ("ingest_web_events", StatusType::Failed, &["web_events"]),
    (
        "ingest_marketing",
        StatusType::Successful,
        &["campaigns", "ad_spend"],
    ),
    (
        "ingest_store_ops",
        StatusType::Successful,
        &["stores", "inventory", "employees"],
    ),
];

/// The pipelines that run the warehouse SQL, one per target schema, and their last
/// run's state: they are shown on the edges they drive.
const TRANSFORMS: &[(&str, StatusType)] = &[
    ("staging", StatusType::Successful),
    ("intermediate", StatusType::Successful),
    ("marts", StatusType::Successful),
    ("finance", StatusType::Pending),
];

/// Owners: (a user or a team, name, display name, the schemas whose tables they own).
const OWNERS: &[(&kinds::Kind, &str, &str, &[&str])] = &[
    (&kinds::USER, "alice", "Alice Analyst", &["marts"]),
    (&kinds::USER, "bob", "Bob Finance", &["finance"]),
    (
        &kinds::TEAM,
        "data_platform",
        "Data Platform",
        &["raw", "staging", "intermediate"],
    ),
];

/// Tags: (classification, tag, description).
const TAGS: &[(&str, &str, &str)] = &[
    ("PII", "Sensitive", "Personal data: restricted access"),
    ("Tier", "Tier1", "Business-critical: reviewed changes only"),
];

/// Columns tagged PII.Sensitive and tables tagged Tier.Tier1.
const PII_COLUMNS: &[&str] = &[
    "raw.customers.email",
    "raw.customers.name",
    "staging.stg_customers.email",
];
const TIER1_TABLES: &[&str] = &[
    "marts.fct_orders",
    "marts.mart_daily_revenue",
    "finance.monthly_close",
];

fn tag_label(fqn: &str) -> Value {
    json!({"tagFQN": fqn, "source": "Classification", "labelType": "Manual", "state": "Confirmed"})
}

/// A pipeline's last run, a fixed time in the past so every demo looks the same.
fn demo_run(state: StatusType, hours_ago: i64) -> PipelineStatus {
    const DEMO_NOW: i64 = 1_764_460_800_000; // 2025-11-30T00:00:00Z
    let start = DEMO_NOW - hours_ago * 3_600_000;
    let mut other = serde_json::Map::new();
    if state != StatusType::Pending {
        other.insert("endTime".into(), json!(start + 600_000));
    }
    PipelineStatus {
        timestamp: start,
        execution_status: state,
        task_status: Vec::new(),
        other,
    }
}

const SERVICE: &str = "warehouse";
const DATABASE: &str = "analytics";

fn put(svc: &Service, kind: &kinds::Kind, body: Value) -> Result<Value> {
    svc.put_entity(kind, body, &Actor("demo".into()), Mode::Upsert)
        .map(|(d, _)| d)
}

fn uuid_of(doc: &Value) -> Result<uuid::Uuid> {
    doc["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::invariant(format!("a stored entity without an id: {doc}")))
}

fn column_type(
    raw_types: &std::collections::HashMap<String, String>,
    source: Option<&str>,
    expr: &str,
    sub: &str,
) -> String {
    if let Some(t) = source.and_then(|s| raw_types.get(s))
        && sub == "IDENTITY"
    {
        return t.clone();
    }
    let e = expr.to_lowercase();
    if e.starts_with("count(") {
        "BIGINT".into()
    } else if e.contains("sum(") || e.contains('/') || e.contains('*') {
        "DECIMAL".into()
    } else if e.contains("date") || e.contains("_at") || e.contains("time") {
        "TIMESTAMP".into()
    } else if let Some(t) = source.and_then(|s| raw_types.get(s)) {
        t.clone()
    } else {
        "VARCHAR".into()
    }
}

/// Loads the demo platform into an empty service. Returns (tables, edges) created.
pub fn load(svc: &Service) -> Result<(usize, usize)> {
    put(
        svc,
        &kinds::DATABASE_SERVICE,
        json!({"name": SERVICE, "serviceType": "Snowflake", "description": "The shop's Snowflake warehouse"}),
    )?;
    put(
        svc,
        &kinds::DATABASE,
        json!({"name": DATABASE, "service": SERVICE}),
    )?;
    for (schema, desc) in [
        ("raw", "Tables loaded as-is from source systems"),
        ("staging", "Cleaned, renamed views over raw"),
        ("intermediate", "Joined and aggregated building blocks"),
        ("marts", "Business-facing facts and dimensions"),
        ("finance", "Revenue recognition and the general ledger"),
    ] {
        put(
            svc,
            &kinds::DATABASE_SCHEMA,
            json!({"name": schema, "database": format!("{SERVICE}.{DATABASE}"), "description": desc}),
        )?;
    }
    let mut owners = std::collections::HashMap::new();
    for (kind, name, display, schemas) in OWNERS {
        let mut body =
            json!({"name": name, "displayName": display, "email": format!("{name}@shop.example")});
        if kind.ty == EntityType::Team {
            body["teamType"] = json!("Group");
        }
        let doc = put(svc, kind, body)?;
        let reference = json!({
            "id": doc["id"], "type": kind.ty.as_str(), "name": name,
            "fullyQualifiedName": doc["fullyQualifiedName"], "displayName": display,
        });
        for schema in *schemas {
            owners.insert(*schema, reference.clone());
        }
    }
    let owners_of =
        |schema: &str| -> Value { json!(owners.get(schema).into_iter().collect::<Vec<_>>()) };
    for (classification, tag, description) in TAGS {
        put(
            svc,
            &kinds::CLASSIFICATION,
            json!({"name": classification, "description": format!("{classification} tags")}),
        )?;
        put(
            svc,
            &kinds::TAG,
            json!({"name": tag, "classification": classification, "description": description}),
        )?;
    }
    let column_tags = |schema: &str, table: &str, column: &str| -> Value {
        let key = format!("{schema}.{table}.{column}");
        if PII_COLUMNS.contains(&key.as_str()) {
            json!([tag_label("PII.Sensitive")])
        } else {
            json!([])
        }
    };
    let table_tags = |schema: &str, table: &str| -> Value {
        if TIER1_TABLES.contains(&format!("{schema}.{table}").as_str()) {
            json!([tag_label("Tier.Tier1")])
        } else {
            json!([])
        }
    };
    put(
        svc,
        &kinds::PIPELINE_SERVICE,
        json!({"name": "airflow", "serviceType": "Airflow"}),
    )?;
    // Each pipeline with its last run: the ones that run the warehouse SQL now, the
    // ingestion ones below.
    let mut transforms = std::collections::HashMap::new();
    for (i, (schema, state)) in TRANSFORMS.iter().enumerate() {
        let name = format!("transform_{schema}");
        let doc = put(
            svc,
            &kinds::PIPELINE,
            json!({"name": name, "service": "airflow", "description": format!("Airflow DAG that builds the {schema} tables from the warehouse SQL")}),
        )?;
        let id = uuid_of(&doc)?;
        svc.put_pipeline_status(&Key::Id(id), &demo_run(*state, i as i64 + 1))?;
        transforms.insert(*schema, id);
    }
    let mut tables = 0;
    // Column types by "schema.table.column", to carry types along identity lineage.
    let mut types = std::collections::HashMap::new();
    for (name, cols) in RAW {
        let columns: Vec<Value> = cols
            .split_whitespace()
            .map(|c| {
                let (n, t) = c.split_once(':').unwrap_or((c, "VARCHAR"));
                types.insert(format!("raw.{name}.{n}"), t.to_string());
                json!({"name": n, "dataType": t, "tags": column_tags("raw", name, n)})
            })
            .collect();
        put(
            svc,
            &kinds::TABLE,
            json!({
                "name": name,
                "databaseSchema": format!("{SERVICE}.{DATABASE}.raw"),
                "tableType": "Regular",
                "description": format!("Raw {} from the source system", name.replace('_', " ")),
                "columns": columns,
                "owners": owners_of("raw"),
            }),
        )?;
        tables += 1;
    }
    let mut edges = 0;
    for stmt in WAREHOUSE_SQL.split("\n;\n").map(str::trim).filter(|s| {
        s.lines()
            .any(|l| !l.trim_start().starts_with("--") && !l.trim().is_empty())
    }) {
        let lineage = analyze(stmt, &Options::default());
        let st = lineage
            .statements
            .first()
            .ok_or_else(|| Error::invariant(format!("demo SQL has no statement: {stmt}")))?;
        let target = st
            .writes
            .first()
            .ok_or_else(|| Error::invariant(format!("demo SQL writes nothing: {stmt}")))?;
        let schema = target.schema.clone().unwrap_or_else(|| "marts".into());
        let mut columns: Vec<(String, String)> = Vec::new();
        for ce in &st.columns {
            if ce.target.table != *target || ce.kind != TransformationType::Direct {
                continue;
            }
            if columns.iter().any(|(n, _)| *n == ce.target.column) {
                continue;
            }
            let src = format!("{}.{}", ce.source.table, ce.source.column);
            let t = column_type(
                &types,
                Some(&src),
                ce.expression.as_deref().unwrap_or(""),
                &format!("{:?}", ce.subtype).to_uppercase(),
            );
            types.insert(
                format!("{schema}.{}.{}", target.name, ce.target.column),
                t.clone(),
            );
            columns.push((ce.target.column.clone(), t));
        }
        // In SELECT order: by where each name is first defined in the statement.
        let lower = stmt.to_lowercase();
        let select = lower.find("select").unwrap_or(0);
        let position = |name: &str| -> usize {
            let name = name.to_lowercase();
            [
                format!(" as {name}"),
                format!(".{name}"),
                format!(" {name}"),
            ]
            .iter()
            .filter_map(|p| lower[select..].find(p.as_str()))
            .min()
            .unwrap_or(usize::MAX)
        };
        columns.sort_by_key(|(n, _)| position(n));
        let view = stmt.to_uppercase().starts_with("CREATE VIEW");
        let mut sources: Vec<String> = st
            .reads
            .iter()
            .map(|t| format!("{}.{}", t.schema.as_deref().unwrap_or("marts"), t.name))
            .collect();
        sources.sort();
        sources.dedup();
        put(
            svc,
            &kinds::TABLE,
            json!({
                "name": target.name,
                "databaseSchema": format!("{SERVICE}.{DATABASE}.{schema}"),
                "tableType": if view { "View" } else { "Regular" },
                "description": format!("{} of {}, built by transform_{schema}", if view { "A view" } else { "A table" }, sources.join(", ")),
                "owners": owners_of(&schema),
                "tags": table_tags(&schema, &target.name),
                "columns": columns.iter().map(|(n, t)| json!({"name": n, "dataType": t, "tags": column_tags(&schema, &target.name, n)})).collect::<Vec<_>>(),
            }),
        )?;
        tables += 1;
        let out = svc.lineage_from_sql(
            &SqlRequest {
                query: None,
                sql: stmt.to_string(),
                dialect: Some("snowflake".into()),
                service: SERVICE.into(),
                default_database: Some(DATABASE.into()),
                default_schema: None,
                dry_run: false,
            },
            &Actor("demo".into()),
        )?;
        edges += out.edges.len();
        // The edges are driven by the schema's transform pipeline.
        let pipeline = transforms.get(schema.as_str()).copied();
        for e in out.edges {
            svc.put_edge(
                EdgeSpec {
                    from: (e.from.entity_type, Key::Id(e.from.id)),
                    to: (e.to.entity_type, Key::Id(e.to.id)),
                    details: EdgeDetails {
                        sql_query: Some(stmt.to_string()),
                        columns_lineage: e.columns_lineage,
                        pipeline: pipeline.map(|p| (EntityType::Pipeline, p)),
                        description: None,
                        source: LineageSource::QueryLineage,
                    },
                },
                &Actor("demo".into()),
            )?;
        }
    }
    put(
        svc,
        &kinds::DASHBOARD_SERVICE,
        json!({"name": "looker", "serviceType": "Looker"}),
    )?;
    let link = |from: (EntityType, String), to: (EntityType, String), source: &str| -> Result<()> {
        svc.put_edge(
            EdgeSpec {
                from: (from.0, Key::Fqn(from.1)),
                to: (to.0, Key::Fqn(to.1)),
                details: EdgeDetails {
                    source: lineage_source(source)?,
                    ..EdgeDetails::default()
                },
            },
            &Actor("demo".into()),
        )?;
        Ok(())
    };
    for (i, (name, state, loads)) in PIPELINES.iter().enumerate() {
        let doc = put(
            svc,
            &kinds::PIPELINE,
            json!({"name": name, "service": "airflow", "description": format!("Airflow DAG {name}: loads {} into raw", loads.join(", ")), "owners": owners_of("raw")}),
        )?;
        svc.put_pipeline_status(&Key::Id(uuid_of(&doc)?), &demo_run(*state, 6 + i as i64))?;
        for t in *loads {
            link(
                (EntityType::Pipeline, format!("airflow.{name}")),
                (EntityType::Table, format!("{SERVICE}.{DATABASE}.raw.{t}")),
                "PipelineLineage",
            )?;
            edges += 1;
        }
    }
    for (name, desc, reads) in DASHBOARDS {
        let dname = name.to_lowercase().replace(' ', "_");
        put(
            svc,
            &kinds::DASHBOARD,
            json!({"name": dname, "displayName": name, "service": "looker", "description": desc}),
        )?;
        for t in *reads {
            link(
                (EntityType::Table, format!("{SERVICE}.{DATABASE}.{t}")),
                (EntityType::Dashboard, format!("looker.{dname}")),
                "DashboardLineage",
            )?;
            edges += 1;
        }
    }
    Ok((tables, edges))
}

//! dbt import: `manifest.json` (and `catalog.json`) become tables, views, table
//! lineage and column lineage.
//!
//! Models, seeds, snapshots and sources become tables (views where materialized so) in
//! the given database service, with columns from the catalog (else the manifest).
//! `depends_on` gives the table edges (source `DbtLineage`, the compiled SQL kept);
//! each model's compiled SQL, wrapped as `CREATE TABLE <relation> AS ...`, goes
//! through the sqllineage crate with the parents' columns as catalog for column
//! lineage. What one import of a (service, project) created is recorded (aux
//! `dbt/<service>/<project>`): a re-import removes the edges and entities of the
//! previous import that are gone from the project, and touches nothing else.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use headwaters_engine::{EdgeInput, EntityType, LineageSource, NodeId};
use headwaters_sqllineage::{Options, TableName, TransformationType, analyze};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::fqn;
use crate::kinds;
use crate::openlineage::data_type;
use crate::service::{Actor, Key, Mode, Service};
use crate::sql::{MapCatalog, Mappings};

/// What an import did.
#[derive(Clone, Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DbtReport {
    /// dbt project name.
    pub project: String,
    /// Models imported.
    pub models: usize,
    /// Seeds imported.
    pub seeds: usize,
    /// Snapshots imported.
    pub snapshots: usize,
    /// Sources imported.
    pub sources: usize,
    /// Table edges written.
    pub edges: usize,
    /// Column mappings written.
    pub column_edges: usize,
    /// Edges of the previous import removed because the project no longer has them.
    pub removed_edges: usize,
    /// Entities of the previous import deleted (soft) because the project no longer has them.
    pub removed_entities: usize,
    /// Models whose SQL could not be analyzed for column lineage, with the reason.
    pub unanalyzed: Vec<(String, String)>,
}

/// One relation dbt builds or reads.
struct Relation {
    unique_id: String,
    resource_type: String,
    database: String,
    schema: String,
    name: String,
    view: bool,
    description: Option<String>,
    columns: Vec<(String, String, Option<String>)>,
    compiled: Option<String>,
    parents: Vec<String>,
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn catalog_columns(
    catalog: Option<&Value>,
    section: &str,
    id: &str,
) -> Option<Vec<(String, String, Option<String>)>> {
    let cols = catalog?
        .get(section)?
        .get(id)?
        .get("columns")?
        .as_object()?;
    let mut v: Vec<(i64, String, String, Option<String>)> = cols
        .values()
        .map(|c| {
            (
                c.get("index").and_then(Value::as_i64).unwrap_or(0),
                s(c, "name").unwrap_or_default().to_string(),
                data_type(s(c, "type").unwrap_or("UNKNOWN")),
                s(c, "comment").map(str::to_string),
            )
        })
        .collect();
    v.sort();
    Some(v.into_iter().map(|(_, n, t, d)| (n, t, d)).collect())
}

fn relations(manifest: &Value, catalog: Option<&Value>) -> ApiResult<Vec<Relation>> {
    let mut out = Vec::new();
    let nodes = manifest
        .get("nodes")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::bad("manifest: nodes is missing; is this a dbt manifest.json?"))?;
    for (id, n) in nodes {
        let rt = s(n, "resource_type").unwrap_or_default();
        if !matches!(rt, "model" | "seed" | "snapshot") {
            continue;
        }
        let name = s(n, "alias")
            .or_else(|| s(n, "name"))
            .unwrap_or_default()
            .to_string();
        let columns = catalog_columns(catalog, "nodes", id).unwrap_or_else(|| manifest_columns(n));
        out.push(Relation {
            unique_id: id.clone(),
            resource_type: rt.to_string(),
            database: s(n, "database").unwrap_or("default").to_string(),
            schema: s(n, "schema").unwrap_or("default").to_string(),
            name,
            view: n.get("config").and_then(|c| s(c, "materialized")) == Some("view"),
            description: s(n, "description")
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            columns,
            compiled: s(n, "compiled_code")
                .or_else(|| s(n, "compiled_sql"))
                .map(str::to_string),
            parents: n
                .get("depends_on")
                .and_then(|d| d.get("nodes"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    if let Some(sources) = manifest.get("sources").and_then(Value::as_object) {
        for (id, n) in sources {
            let columns =
                catalog_columns(catalog, "sources", id).unwrap_or_else(|| manifest_columns(n));
            out.push(Relation {
                unique_id: id.clone(),
                resource_type: "source".into(),
                database: s(n, "database").unwrap_or("default").to_string(),
                schema: s(n, "schema").unwrap_or("default").to_string(),
                name: s(n, "identifier")
                    .or_else(|| s(n, "name"))
                    .unwrap_or_default()
                    .to_string(),
                view: false,
                description: s(n, "description")
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
                columns,
                compiled: None,
                parents: Vec::new(),
            });
        }
    }
    out.sort_by(|a, b| a.unique_id.cmp(&b.unique_id));
    Ok(out)
}

fn manifest_columns(n: &Value) -> Vec<(String, String, Option<String>)> {
    n.get("columns")
        .and_then(Value::as_object)
        .map(|cols| {
            cols.values()
                .map(|c| {
                    (
                        s(c, "name").unwrap_or_default().to_string(),
                        data_type(s(c, "data_type").unwrap_or("UNKNOWN")),
                        s(c, "description")
                            .filter(|d| !d.is_empty())
                            .map(str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Service {
    /// Imports a dbt project's artifacts into database service `service` (created if
    /// missing). `progress(done, total)` is called as relations and edges are written.
    pub fn import_dbt(
        &self,
        manifest: &Value,
        catalog: Option<&Value>,
        service: &str,
        progress: &dyn Fn(usize, usize),
    ) -> ApiResult<DbtReport> {
        let meta = manifest.get("metadata").ok_or_else(|| {
            ApiError::bad("manifest: metadata is missing; is this a dbt manifest.json?")
        })?;
        let project = s(meta, "project_name")
            .ok_or_else(|| ApiError::bad("manifest: metadata.project_name is missing"))?
            .to_string();
        let adapter = s(meta, "adapter_type").unwrap_or("generic");
        let dialect = adapter.parse().unwrap_or_default();
        let rels = relations(manifest, catalog)?;
        let total = rels.len() * 2;
        let actor = Actor("dbt".into());
        let mut report = DbtReport {
            project: project.clone(),
            ..DbtReport::default()
        };

        let svc_fqn = fqn::quote(service)?;
        let exists = {
            let view = self.store.read();
            view.node_by_fqn(EntityType::DatabaseService, &svc_fqn)?
                .is_some_and(|n| !view.is_deleted(n))
        };
        if !exists {
            let st = match adapter {
                "postgres" => "Postgres",
                "snowflake" => "Snowflake",
                "bigquery" => "BigQuery",
                "redshift" => "Redshift",
                "databricks" | "spark" => "Databricks",
                "trino" => "Trino",
                _ => "CustomDatabase",
            };
            self.put_entity(
                &kinds::DATABASE_SERVICE,
                json!({"name": service, "serviceType": st}),
                &actor,
                Mode::Upsert,
            )?;
        }
        let state_key = format!("dbt/{svc_fqn}/{project}");
        let previous: Value = match self.store.read().aux(state_key.as_bytes())? {
            Some(b) => serde_json::from_slice(&b)
                .map_err(|e| ApiError::Internal(format!("dbt import state: {e}")))?,
            None => json!({"entities": [], "edges": []}),
        };
        let mut created: BTreeSet<Uuid> = previous["entities"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
            .collect();
        let mut kept_entities: BTreeSet<Uuid> = BTreeSet::new();

        // Entities.
        let mut by_id: HashMap<String, (NodeId, Uuid, String)> = HashMap::new();
        for (i, r) in rels.iter().enumerate() {
            let db = fqn::build(Some(&svc_fqn), &r.database)?;
            let sch = fqn::build(Some(&db), &r.schema)?;
            for (kind, body, f) in [
                (
                    &kinds::DATABASE,
                    json!({"name": r.database, "service": svc_fqn}),
                    db.clone(),
                ),
                (
                    &kinds::DATABASE_SCHEMA,
                    json!({"name": r.schema, "database": db}),
                    sch.clone(),
                ),
            ] {
                let there = self.store.read().node_by_fqn(kind.ty, &f)?.is_some();
                if !there {
                    let (d, _) = self.put_entity(kind, body, &actor, Mode::Upsert)?;
                    if let Some(id) = d["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()) {
                        created.insert(id);
                    }
                }
            }
            let table_fqn = fqn::build(Some(&sch), &r.name)?;
            let existed = self
                .store
                .read()
                .node_by_fqn(EntityType::Table, &table_fqn)?
                .is_some();
            let mut body = json!({
                "name": r.name,
                "databaseSchema": sch,
                "tableType": if r.view { "View" } else { "Regular" },
                "columns": r.columns.iter().map(|(n, t, d)| {
                    let mut c = json!({"name": n, "dataType": t});
                    if let Some(d) = d { c["description"] = json!(d); }
                    c
                }).collect::<Vec<_>>(),
            });
            if let Some(d) = &r.description {
                body["description"] = json!(d);
            }
            let (doc, _) = self.put_entity(&kinds::TABLE, body, &actor, Mode::Upsert)?;
            let id: Uuid = serde_json::from_value(doc["id"].clone())
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            if !existed {
                created.insert(id);
            }
            kept_entities.insert(id);
            let node = self
                .store
                .read()
                .node_by_id(&id)?
                .ok_or_else(|| ApiError::Internal(format!("{table_fqn} vanished")))?;
            by_id.insert(r.unique_id.clone(), (node, id, table_fqn));
            match r.resource_type.as_str() {
                "model" => report.models += 1,
                "seed" => report.seeds += 1,
                "snapshot" => report.snapshots += 1,
                _ => report.sources += 1,
            }
            progress(i + 1, total);
        }
        // Relations by lower-cased "db.schema.name", for resolving SQL table names.
        let by_name: HashMap<String, &Relation> = rels
            .iter()
            .map(|r| {
                (
                    format!("{}.{}.{}", r.database, r.schema, r.name).to_lowercase(),
                    r,
                )
            })
            .collect();

        // Edges.
        let mut new_edges: BTreeSet<(Uuid, Uuid)> = BTreeSet::new();
        for (i, r) in rels.iter().enumerate() {
            let Some((to, to_id, to_fqn)) = by_id.get(&r.unique_id).cloned() else {
                continue;
            };
            let parents: Vec<&Relation> = r
                .parents
                .iter()
                .filter_map(|p| rels.iter().find(|x| &x.unique_id == p))
                .collect();
            // Column lineage from the compiled SQL.
            // Parent unique id -> its column mappings into this relation.
            let mut cols: BTreeMap<String, Mappings> = BTreeMap::new();
            if let (Some(sql), false) = (&r.compiled, parents.is_empty()) {
                let catalog: HashMap<String, Vec<String>> = parents
                    .iter()
                    .map(|p| {
                        (
                            format!("{}.{}.{}", p.database, p.schema, p.name).to_lowercase(),
                            p.columns.iter().map(|c| c.0.to_lowercase()).collect(),
                        )
                    })
                    .collect();
                let target = TableName {
                    database: Some(r.database.clone()),
                    schema: Some(r.schema.clone()),
                    name: r.name.clone(),
                };
                let wrapped = format!(
                    "CREATE TABLE {target} AS\n{}",
                    sql.trim().trim_end_matches(';')
                );
                let lineage = analyze(
                    &wrapped,
                    &Options {
                        dialect,
                        catalog: Some(Arc::new(MapCatalog(catalog))),
                        ..Options::default()
                    },
                );
                if let Some(d) = lineage
                    .diagnostics()
                    .find(|d| matches!(d.kind, headwaters_sqllineage::DiagnosticKind::Parse))
                {
                    report
                        .unanalyzed
                        .push((r.unique_id.clone(), d.message.clone()));
                }
                for st in &lineage.statements {
                    for ce in &st.columns {
                        if ce.kind != TransformationType::Direct {
                            continue;
                        }
                        let Some(src) = by_name.get(&ce.source.table.to_string().to_lowercase())
                        else {
                            continue;
                        };
                        let Some((_, _, src_fqn)) = by_id.get(&src.unique_id) else {
                            continue;
                        };
                        let col = |rel: &Relation, c: &str| {
                            rel.columns
                                .iter()
                                .find(|x| x.0.eq_ignore_ascii_case(c))
                                .map(|x| x.0.clone())
                        };
                        let (Some(fc), Some(tc)) =
                            (col(src, &ce.source.column), col(r, &ce.target.column))
                        else {
                            continue;
                        };
                        let from_col = format!("{src_fqn}.{}", fqn::quote(&fc)?);
                        let to_col = format!("{to_fqn}.{}", fqn::quote(&tc)?);
                        cols.entry(src.unique_id.clone())
                            .or_default()
                            .add(from_col, to_col, ce);
                    }
                }
            }
            for p in parents {
                let Some((from, from_id, _)) = by_id.get(&p.unique_id).cloned() else {
                    continue;
                };
                let mappings = cols
                    .remove(&p.unique_id)
                    .map(Mappings::into_vec)
                    .unwrap_or_default();
                report.column_edges += mappings.iter().map(|m| m.from_columns.len()).sum::<usize>();
                self.store.put_edge(
                    from,
                    to,
                    EdgeInput {
                        sql_query: r.compiled.clone(),
                        columns_lineage: mappings,
                        pipeline: None,
                        description: None,
                        source: LineageSource::DbtLineage,
                        actor: Some("dbt".into()),
                        at_millis: None,
                    },
                )?;
                report.edges += 1;
                new_edges.insert((from_id, to_id));
            }
            progress(rels.len() + i + 1, total);
        }

        // What the previous import made that this one does not have.
        let view = self.store.read();
        let mut stale_edges = Vec::new();
        for e in previous["edges"].as_array().into_iter().flatten() {
            let (Some(a), Some(b)) = (
                e[0].as_str().and_then(|s| Uuid::parse_str(s).ok()),
                e[1].as_str().and_then(|s| Uuid::parse_str(s).ok()),
            ) else {
                continue;
            };
            if new_edges.contains(&(a, b)) {
                continue;
            }
            if let (Some(x), Some(y)) = (view.node_by_id(&a)?, view.node_by_id(&b)?) {
                stale_edges.push((x, y));
            }
        }
        let stale_entities: Vec<NodeId> = created
            .iter()
            .filter(|id| !kept_entities.contains(id))
            .filter_map(|id| view.node_by_id(id).ok().flatten())
            .filter(|n| view.entity_type(*n) == Some(EntityType::Table) && !view.is_deleted(*n))
            .collect();
        drop(view);
        for (x, y) in stale_edges {
            if self.store.remove_edge(x, y)? {
                report.removed_edges += 1;
            }
        }
        for n in stale_entities {
            let fqn = self.store.read().entity(n)?.fqn;
            self.delete_entity(&kinds::TABLE, &Key::Fqn(fqn), false, false)?;
            report.removed_entities += 1;
        }
        created.retain(|id| {
            kept_entities.contains(id)
                || !matches!(self.entity_kind_of(id), Some(EntityType::Table))
        });
        let state = json!({
            "entities": created.iter().map(Uuid::to_string).collect::<Vec<_>>(),
            "edges": new_edges.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
        });
        self.store.put_aux(
            state_key.as_bytes(),
            Some(serde_json::to_vec(&state).map_err(|e| ApiError::Internal(e.to_string()))?),
        )?;
        Ok(report)
    }

    fn entity_kind_of(&self, id: &Uuid) -> Option<EntityType> {
        let view = self.store.read();
        view.node_by_id(id)
            .ok()
            .flatten()
            .and_then(|n| view.entity_type(n))
    }
}

/// `POST /api/v1/dbt/import` `{"manifest": {...}, "catalog": {...}?, "service": "..."}`.
pub mod http {
    use axum::Router;
    use axum::extract::State;
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use serde_json::Value;

    use crate::AppState;
    use crate::error::{ApiError, ApiResult, Json};

    async fn import(State(s): State<AppState>, Json(body): Json<Value>) -> ApiResult<Response> {
        let service = body
            .get("service")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::bad("field service is required (the database service dbt builds in)")
            })?
            .to_string();
        let svc = s.0.service.clone();
        let report = tokio::task::spawn_blocking(move || {
            let manifest = body
                .get("manifest")
                .ok_or_else(|| ApiError::bad("field manifest is required"))?;
            svc.import_dbt(manifest, body.get("catalog"), &service, &|_, _| {})
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
        Ok(Json(report).into_response())
    }

    /// The dbt import endpoint.
    pub fn routes() -> Router<AppState> {
        Router::new().route("/api/v1/dbt/import", post(import))
    }
}

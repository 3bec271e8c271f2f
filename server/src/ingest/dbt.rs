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

use crate::domain::error::{Error, Result, UserError};
use crate::domain::fqn;
use crate::domain::kinds::{self, data_type};
use crate::domain::sql::{MapCatalog, Mappings};
use crate::domain::{Actor, Key, Mode, Service};

/// What an import did.
#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
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

impl Relation {
    /// `database.schema.name`, lower-cased: how SQL names resolve to relations.
    fn key(&self) -> String {
        format!("{}.{}.{}", self.database, self.schema, self.name).to_lowercase()
    }
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

fn relations(manifest: &Value, catalog: Option<&Value>) -> Result<Vec<Relation>> {
    let mut out = Vec::new();
    let nodes = manifest
        .get("nodes")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            Error::invalid("manifest: nodes is missing; is this a dbt manifest.json?")
        })?;
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

/// What an import of one project into one service created, kept in `aux` under
/// `dbt/<service>/<project>` so the next import removes only its own stale work.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct ImportState {
    /// Entities this project's imports created.
    entities: BTreeSet<Uuid>,
    /// Edges the last import wrote, (from, to).
    edges: BTreeSet<(Uuid, Uuid)>,
}

/// One import in progress: the phases of [`Service::import_dbt`] share this.
struct Import<'a> {
    svc: &'a Service,
    rels: &'a [Relation],
    svc_fqn: String,
    dialect: headwaters_sqllineage::Dialect,
    actor: Actor,
    previous: ImportState,
    created: BTreeSet<Uuid>,
    kept: BTreeSet<Uuid>,
    /// Relation unique id -> (node, id, table FQN).
    by_id: HashMap<String, (NodeId, Uuid, String)>,
    /// [`Relation::key`] -> index in `rels`.
    by_name: HashMap<String, usize>,
    new_edges: BTreeSet<(Uuid, Uuid)>,
    report: DbtReport,
    /// Past this, no further relation starts.
    deadline: Option<std::time::Instant>,
}

impl Service {
    /// Imports a dbt project's artifacts into database service `service` (created if
    /// missing). `progress(done, total)` is called as relations and edges are written.
    ///
    /// Phases: read the artifacts, make sure the service exists, load what the previous
    /// import of this project made, write databases, schemas and tables
    /// ([`Import::write_entities`]), write `depends_on` edges with column mappings from
    /// the compiled SQL ([`Import::write_edges`]), remove what the previous import made
    /// and this one does not have ([`Import::remove_stale`]), save the new state.
    pub fn import_dbt(
        &self,
        manifest: &Value,
        catalog: Option<&Value>,
        service: &str,
        progress: &dyn Fn(usize, usize),
        deadline: Option<std::time::Instant>,
    ) -> Result<DbtReport> {
        let meta = manifest.get("metadata").ok_or_else(|| {
            Error::invalid("manifest: metadata is missing; is this a dbt manifest.json?")
        })?;
        let project = s(meta, "project_name")
            .ok_or_else(|| Error::invalid("manifest: metadata.project_name is missing"))?
            .to_string();
        let adapter = s(meta, "adapter_type").unwrap_or("generic");
        let rels = relations(manifest, catalog)?;
        let svc_fqn = fqn::quote(service)?;
        self.ensure_dbt_service(service, &svc_fqn, adapter)?;
        let state_key = format!("dbt/{svc_fqn}/{project}");
        let previous: ImportState = match self.store.read().aux(state_key.as_bytes())? {
            Some(b) => serde_json::from_slice(&b)
                .map_err(|e| Error::json(format!("dbt import state {state_key}"), e))?,
            None => ImportState::default(),
        };
        let mut import = Import {
            svc: self,
            rels: &rels,
            svc_fqn,
            dialect: adapter.parse().unwrap_or_default(),
            actor: Actor("dbt".into()),
            created: previous.entities.clone(),
            previous,
            kept: BTreeSet::new(),
            by_id: HashMap::new(),
            by_name: rels.iter().enumerate().map(|(i, r)| (r.key(), i)).collect(),
            new_edges: BTreeSet::new(),
            report: DbtReport {
                project,
                ..DbtReport::default()
            },
            deadline,
        };
        let total = rels.len() * 2;
        let finished = import.write_entities(&|i| progress(i, total))?
            && import.write_edges(&|i| progress(rels.len() + i, total))?;
        if finished {
            import.remove_stale()?;
        } else {
            // Stopped at the deadline between two relations: remember everything this
            // import and the previous ones made, so the next import (the same one sent
            // again finishes this one) still knows what is the project's.
            import
                .new_edges
                .extend(import.previous.edges.iter().copied());
        }
        let state = ImportState {
            entities: import.created,
            edges: import.new_edges,
        };
        self.store.put_aux(
            state_key.as_bytes(),
            Some(serde_json::to_vec(&state).map_err(|e| Error::json("dbt import state", e))?),
        )?;
        if !finished {
            return Err(Error::User(UserError::OverBudget(format!(
                "the dbt import of {} ran past this server's time budget and stopped between two relations; what it wrote stays, and sending the same import again finishes it (imports are idempotent)",
                import.report.project
            ))));
        }
        Ok(import.report)
    }

    /// Creates the database service dbt builds in, typed after the adapter, if missing.
    fn ensure_dbt_service(&self, service: &str, svc_fqn: &str, adapter: &str) -> Result<()> {
        let exists = {
            let view = self.store.read();
            view.node_by_fqn(EntityType::DatabaseService, svc_fqn)?
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
                &Actor("dbt".into()),
                Mode::Upsert,
            )?;
        }
        Ok(())
    }
}

impl Import<'_> {
    fn past_deadline(&self) -> bool {
        self.deadline
            .is_some_and(|d| std::time::Instant::now() >= d)
    }

    /// Databases, schemas and one table per relation; `false` when stopped at the
    /// deadline.
    fn write_entities(&mut self, progress: &dyn Fn(usize)) -> Result<bool> {
        let svc = self.svc;
        for (i, r) in self.rels.iter().enumerate() {
            if self.past_deadline() {
                return Ok(false);
            }
            let db = fqn::build(Some(&self.svc_fqn), &r.database)?;
            let sch = fqn::build(Some(&db), &r.schema)?;
            for (kind, body, f) in [
                (
                    &kinds::DATABASE,
                    json!({"name": r.database, "service": self.svc_fqn}),
                    db.clone(),
                ),
                (
                    &kinds::DATABASE_SCHEMA,
                    json!({"name": r.schema, "database": db}),
                    sch.clone(),
                ),
            ] {
                let there = svc.store.read().node_by_fqn(kind.ty, &f)?.is_some();
                if !there {
                    let (d, _) = svc.put_entity(kind, body, &self.actor, Mode::Upsert)?;
                    if let Some(id) = d["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()) {
                        self.created.insert(id);
                    }
                }
            }
            let table_fqn = fqn::build(Some(&sch), &r.name)?;
            let existed = svc
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
            let (doc, _) = svc.put_entity(&kinds::TABLE, body, &self.actor, Mode::Upsert)?;
            let id: Uuid = serde_json::from_value(doc["id"].clone())
                .map_err(|e| Error::json("id of a stored table", e))?;
            if !existed {
                self.created.insert(id);
            }
            self.kept.insert(id);
            let node = svc
                .store
                .read()
                .node_by_id(&id)?
                .ok_or_else(|| Error::invariant(format!("{table_fqn} vanished")))?;
            self.by_id
                .insert(r.unique_id.clone(), (node, id, table_fqn));
            match r.resource_type.as_str() {
                "model" => self.report.models += 1,
                "seed" => self.report.seeds += 1,
                "snapshot" => self.report.snapshots += 1,
                _ => self.report.sources += 1,
            }
            progress(i + 1);
        }
        Ok(true)
    }

    /// Column mappings from `r`'s compiled SQL into `r`, by parent unique id (the SQL is
    /// wrapped as `CREATE TABLE <relation> AS ...`, the parents' columns the catalog).
    fn column_mappings(
        &mut self,
        r: &Relation,
        parents: &[&Relation],
    ) -> Result<BTreeMap<String, Mappings>> {
        let mut cols: BTreeMap<String, Mappings> = BTreeMap::new();
        let (Some(sql), false) = (&r.compiled, parents.is_empty()) else {
            return Ok(cols);
        };
        let Some((_, _, to_fqn)) = self.by_id.get(&r.unique_id) else {
            return Ok(cols);
        };
        let catalog: HashMap<String, Vec<String>> = parents
            .iter()
            .map(|p| {
                (
                    p.key(),
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
                dialect: self.dialect,
                catalog: Some(Arc::new(MapCatalog(catalog))),
                ..Options::default()
            },
        );
        if let Some(d) = lineage
            .diagnostics()
            .find(|d| matches!(d.kind, headwaters_sqllineage::DiagnosticKind::Parse))
        {
            self.report
                .unanalyzed
                .push((r.unique_id.clone(), d.message.clone()));
        }
        let col = |rel: &Relation, c: &str| {
            rel.columns
                .iter()
                .find(|x| x.0.eq_ignore_ascii_case(c))
                .map(|x| x.0.clone())
        };
        for ce in lineage.statements.iter().flat_map(|st| &st.columns) {
            if ce.kind != TransformationType::Direct {
                continue;
            }
            let key = ce.source.table.to_string().to_lowercase();
            let Some(src) = self.by_name.get(&key).map(|i| &self.rels[*i]) else {
                continue;
            };
            let Some((_, _, src_fqn)) = self.by_id.get(&src.unique_id) else {
                continue;
            };
            let (Some(fc), Some(tc)) = (col(src, &ce.source.column), col(r, &ce.target.column))
            else {
                continue;
            };
            let from_col = format!("{src_fqn}.{}", fqn::quote(&fc)?);
            let to_col = format!("{to_fqn}.{}", fqn::quote(&tc)?);
            cols.entry(src.unique_id.clone())
                .or_default()
                .add(from_col, to_col, ce);
        }
        Ok(cols)
    }

    /// One `DbtLineage` edge per `depends_on` parent, with the SQL's column mappings;
    /// `false` when stopped at the deadline.
    fn write_edges(&mut self, progress: &dyn Fn(usize)) -> Result<bool> {
        for (i, r) in self.rels.iter().enumerate() {
            if self.past_deadline() {
                return Ok(false);
            }
            let Some((to, to_id, _)) = self.by_id.get(&r.unique_id).cloned() else {
                continue;
            };
            let parents: Vec<&Relation> = r
                .parents
                .iter()
                .filter_map(|p| self.rels.iter().find(|x| &x.unique_id == p))
                .collect();
            let mut cols = self.column_mappings(r, &parents)?;
            for p in parents {
                let Some((from, from_id, _)) = self.by_id.get(&p.unique_id).cloned() else {
                    continue;
                };
                let mappings = cols
                    .remove(&p.unique_id)
                    .map(Mappings::into_vec)
                    .unwrap_or_default();
                self.report.column_edges +=
                    mappings.iter().map(|m| m.from_columns.len()).sum::<usize>();
                self.svc.store.put_edge(
                    from,
                    to,
                    EdgeInput {
                        sql_query: r.compiled.clone(),
                        columns_lineage: mappings,
                        pipeline: None,
                        description: None,
                        source: LineageSource::DbtLineage,
                        actor: Some("dbt".into()),
                        at_millis: Some(crate::domain::clock::now_millis()),
                    },
                )?;
                self.report.edges += 1;
                self.new_edges.insert((from_id, to_id));
            }
            progress(i + 1);
        }
        Ok(true)
    }

    /// Removes the edges and tables the previous import made that this one does not
    /// have; forgets removed tables from the state.
    fn remove_stale(&mut self) -> Result<()> {
        let svc = self.svc;
        let view = svc.store.read();
        let mut stale_edges = Vec::new();
        for (a, b) in self.previous.edges.difference(&self.new_edges) {
            if let (Some(x), Some(y)) = (view.node_by_id(a)?, view.node_by_id(b)?) {
                stale_edges.push((x, y));
            }
        }
        let stale_entities: Vec<NodeId> = self
            .created
            .iter()
            .filter(|id| !self.kept.contains(id))
            .filter_map(|id| view.node_by_id(id).ok().flatten())
            .filter(|n| view.entity_type(*n) == Some(EntityType::Table) && !view.is_deleted(*n))
            .collect();
        drop(view);
        for (x, y) in stale_edges {
            if svc.store.remove_edge(x, y)? {
                self.report.removed_edges += 1;
            }
        }
        for n in stale_entities {
            let fqn = svc.store.read().entity(n)?.fqn;
            svc.delete_entity(&kinds::TABLE, &Key::Fqn(fqn), false, false)?;
            self.report.removed_entities += 1;
        }
        let kept = &self.kept;
        self.created.retain(|id| {
            kept.contains(id) || !matches!(svc.entity_kind_of(id), Some(EntityType::Table))
        });
        Ok(())
    }
}

impl Service {
    fn entity_kind_of(&self, id: &Uuid) -> Option<EntityType> {
        let view = self.store.read();
        view.node_by_id(id)
            .ok()
            .flatten()
            .and_then(|n| view.entity_type(n))
    }
}

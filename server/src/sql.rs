//! Lineage from SQL, server side: `POST /api/v1/lineage/sql` and `/lineage/sql/batch`.
//!
//! The SQL goes through the sqllineage crate; each table it names is resolved within
//! the given database service (`service.database.schema.table`, with defaults and `*`
//! for parts the SQL leaves out, case-insensitively, unique match required); the
//! resolved tables' columns are handed back to the analyzer as a catalog (so `*`
//! expands); then table edges and DIRECT column mappings are written with source
//! `QueryLineage` and the SQL kept. Column mappings merge with what the edge already
//! had, so a query log builds up an edge's columns across queries.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use headwaters_engine::{ColumnMapping, EdgeInput, EntityType, Include, LineageSource, NodeId};
use headwaters_sqllineage::{
    Catalog, ColumnEdge, Options, TableName, TransformationSubtype, TransformationType, analyze,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Json};
use crate::fqn;
use crate::service::{Actor, Key, Service};

/// One SQL text to analyze.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SqlRequest {
    /// The SQL (one or more statements).
    pub sql: String,
    /// Dialect name (default `generic`).
    #[serde(default)]
    pub dialect: Option<String>,
    /// Database service the tables belong to.
    pub service: String,
    /// Database for names without one.
    #[serde(default)]
    pub default_database: Option<String>,
    /// Schema for names without one.
    #[serde(default)]
    pub default_schema: Option<String>,
    /// Analyze and resolve, write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// One query of a batch.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchQuery {
    /// The SQL.
    pub sql: String,
    /// Overrides the batch's default database.
    #[serde(default)]
    pub default_database: Option<String>,
    /// Overrides the batch's default schema.
    #[serde(default)]
    pub default_schema: Option<String>,
}

/// A query log.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SqlBatch {
    /// The queries.
    pub queries: Vec<BatchQuery>,
    /// Dialect for all.
    #[serde(default)]
    pub dialect: Option<String>,
    /// Service for all.
    pub service: String,
    /// Default database for all.
    #[serde(default)]
    pub default_database: Option<String>,
    /// Default schema for all.
    #[serde(default)]
    pub default_schema: Option<String>,
    /// Write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// A catalog from a map of lower-cased `db.schema.table` names to column names.
pub(crate) struct MapCatalog(pub(crate) HashMap<String, Vec<String>>);

impl Catalog for MapCatalog {
    fn columns(&self, t: &TableName) -> Option<Vec<String>> {
        self.0.get(&t.to_string().to_lowercase()).cloned()
    }
}

/// A table the SQL names, resolved (or not) to an entity.
struct Resolved {
    node: NodeId,
    fqn: String,
    columns: Vec<String>,
}

impl Service {
    fn resolve_table(
        &self,
        service: &str,
        t: &TableName,
        req: &SqlRequest,
    ) -> ApiResult<Result<Resolved, String>> {
        let db = t.database.clone().or_else(|| req.default_database.clone());
        let schema = t.schema.clone().or_else(|| req.default_schema.clone());
        let part = |p: Option<String>| -> ApiResult<String> {
            match p {
                Some(p) => fqn::quote(&p),
                None => Ok("*".into()),
            }
        };
        let pattern = format!(
            "{}.{}.{}.{}",
            fqn::quote(service)?,
            part(db)?,
            part(schema)?,
            fqn::quote(&t.name)?
        );
        let view = self.store.read();
        let hits = self
            .search
            .fqn_pattern(&view, &pattern, &[EntityType::Table], false, 0, 3)?;
        match hits.total {
            0 => Ok(Err(format!("no table matches {pattern}"))),
            1 => {
                let e = view.entity(hits.nodes[0])?;
                Ok(Ok(Resolved {
                    node: e.node,
                    fqn: e.fqn,
                    columns: e.columns.into_iter().map(|c| c.0).collect(),
                }))
            }
            n => {
                let names: Vec<String> = view
                    .entities(&hits.nodes)?
                    .into_iter()
                    .map(|e| e.fqn)
                    .collect();
                Ok(Err(format!(
                    "{n} tables match {pattern} (e.g. {}); qualify the name or set defaultDatabase/defaultSchema",
                    names.join(", ")
                )))
            }
        }
    }

    /// Analyzes SQL, resolves its tables in the service, and (unless a dry run) writes
    /// the table and column lineage. Answers with edges, unresolved tables and
    /// diagnostics.
    pub fn lineage_from_sql(&self, req: &SqlRequest, actor: &Actor) -> ApiResult<Value> {
        let dialect = match &req.dialect {
            Some(d) => d
                .parse()
                .map_err(|e| ApiError::bad(format!("field dialect: {e}")))?,
            None => Default::default(),
        };
        {
            let view = self.store.read();
            self.resolve(
                &view,
                EntityType::DatabaseService,
                &Key::Fqn(fqn::quote(&req.service)?),
                Include::NonDeleted,
            )?;
        }
        let mut opts = Options {
            dialect,
            default_database: req.default_database.clone(),
            default_schema: req.default_schema.clone(),
            ..Options::default()
        };
        let first = analyze(&req.sql, &opts);
        // Resolve every table named, then analyze again with their columns known.
        let mut resolved: BTreeMap<String, Result<Resolved, String>> = BTreeMap::new();
        for st in &first.statements {
            for t in st.reads.iter().chain(&st.writes) {
                if let Entry::Vacant(slot) = resolved.entry(t.to_string()) {
                    slot.insert(self.resolve_table(&req.service, t, req)?);
                }
            }
        }
        let catalog: HashMap<String, Vec<String>> = resolved
            .iter()
            .filter_map(|(k, r)| {
                r.as_ref()
                    .ok()
                    .map(|r| (k.to_lowercase(), r.columns.clone()))
            })
            .collect();
        opts.catalog = Some(Arc::new(MapCatalog(catalog)));
        let lineage = analyze(&req.sql, &opts);

        // Table edges (from, to) and their column mappings.
        let mut edges: BTreeMap<(String, String), Mappings> = BTreeMap::new();
        let mut unresolved: BTreeMap<String, String> = BTreeMap::new();
        let col_fqn = |r: &Resolved, c: &str| -> Option<String> {
            r.columns
                .iter()
                .find(|x| {
                    x.eq_ignore_ascii_case(c)
                        || fqn::split(x)
                            .last()
                            .is_some_and(|l| l.eq_ignore_ascii_case(c))
                })
                .map(|x| format!("{}.{x}", r.fqn))
        };
        for st in &lineage.statements {
            for t in st.reads.iter().chain(&st.writes) {
                let k = t.to_string();
                if let Entry::Vacant(slot) = resolved.entry(k.clone()) {
                    slot.insert(self.resolve_table(&req.service, t, req)?);
                }
                if let Some(Err(why)) = resolved.get(&k) {
                    unresolved.insert(k, why.clone());
                }
            }
            for w in &st.writes {
                for r in &st.reads {
                    let (Some(Ok(_)), Some(Ok(_))) =
                        (resolved.get(&r.to_string()), resolved.get(&w.to_string()))
                    else {
                        continue;
                    };
                    if r == w {
                        continue;
                    }
                    edges.entry((r.to_string(), w.to_string())).or_default();
                }
            }
            for ce in &st.columns {
                if ce.kind != TransformationType::Direct {
                    continue;
                }
                let (sk, tk) = (ce.source.table.to_string(), ce.target.table.to_string());
                let (Some(Ok(sr)), Some(Ok(tr))) = (resolved.get(&sk), resolved.get(&tk)) else {
                    continue;
                };
                if sk == tk {
                    continue;
                }
                let (Some(from), Some(to)) = (
                    col_fqn(sr, &ce.source.column),
                    col_fqn(tr, &ce.target.column),
                ) else {
                    continue;
                };
                edges.entry((sk, tk)).or_default().add(from, to, ce);
            }
        }

        let mut out_edges = Vec::new();
        let mut dropped = Vec::new();
        for ((from_k, to_k), cols) in edges {
            let (Some(Ok(f)), Some(Ok(t))) = (resolved.get(&from_k), resolved.get(&to_k)) else {
                continue;
            };
            let mut mappings = cols.into_vec();
            let (from_ref, to_ref, existing) = {
                let view = self.store.read();
                (
                    Service::reference(&view, f.node)?,
                    Service::reference(&view, t.node)?,
                    view.edge(f.node, t.node)?,
                )
            };
            if let Some(old) = &existing {
                mappings = merge_mappings(&old.columns_lineage, mappings);
            }
            let created = if req.dry_run {
                existing.is_none()
            } else {
                let outcome = self.store.put_edge(
                    f.node,
                    t.node,
                    EdgeInput {
                        sql_query: Some(req.sql.clone()),
                        columns_lineage: mappings.clone(),
                        pipeline: existing.as_ref().and_then(|e| e.pipeline),
                        description: existing.as_ref().and_then(|e| e.description.clone()),
                        source: LineageSource::QueryLineage,
                        actor: Some(actor.0.clone()),
                        at_millis: None,
                    },
                )?;
                dropped.extend(
                    outcome
                        .rejected_columns
                        .into_iter()
                        .map(|r| json!({"column": r.column, "reason": r.reason})),
                );
                outcome.created
            };
            out_edges.push(json!({
                "fromEntity": from_ref,
                "toEntity": to_ref,
                "columnsLineage": mappings,
                "created": created,
            }));
        }
        let diagnostics: Vec<Value> = lineage
            .diagnostics()
            .map(|d| {
                json!({
                    "kind": format!("{:?}", d.kind),
                    "line": d.location.line,
                    "column": d.location.column,
                    "message": d.message,
                })
            })
            .collect();
        Ok(json!({
            "statements": lineage.statements.len(),
            "dryRun": req.dry_run,
            "edges": out_edges,
            "unresolved": unresolved.into_iter().map(|(t, r)| json!({"table": t, "reason": r})).collect::<Vec<_>>(),
            "droppedColumns": dropped,
            "diagnostics": diagnostics,
        }))
    }
}

/// Column mappings gathered from DIRECT column edges of analyzed SQL, one per target
/// column (sources unioned; identity copies carry no function).
#[derive(Default)]
pub(crate) struct Mappings(BTreeMap<String, ColumnMapping>);

impl Mappings {
    /// Adds `from -> to` (column FQNs) for the analyzer's edge `ce`.
    pub(crate) fn add(&mut self, from: String, to: String, ce: &ColumnEdge) {
        let slot = self.0.entry(to.clone()).or_insert_with(|| ColumnMapping {
            from_columns: Vec::new(),
            to_column: to,
            function: (ce.subtype != TransformationSubtype::Identity)
                .then(|| ce.expression.clone())
                .flatten(),
            transformation: Some(format!("{:?}/{:?}", ce.kind, ce.subtype).to_uppercase()),
        });
        if !slot.from_columns.contains(&from) {
            slot.from_columns.push(from);
        }
    }

    /// The mappings, by target column.
    pub(crate) fn into_vec(self) -> Vec<ColumnMapping> {
        self.0.into_values().collect()
    }
}

/// Union of column mappings by target column (sources unioned, first function kept).
pub fn merge_mappings(old: &[ColumnMapping], new: Vec<ColumnMapping>) -> Vec<ColumnMapping> {
    let mut out: Vec<ColumnMapping> = old.to_vec();
    for m in new {
        match out.iter_mut().find(|o| o.to_column == m.to_column) {
            Some(o) => {
                for f in m.from_columns {
                    if !o.from_columns.contains(&f) {
                        o.from_columns.push(f);
                    }
                }
                if o.function.is_none() {
                    o.function = m.function;
                }
                if o.transformation.is_none() {
                    o.transformation = m.transformation;
                }
            }
            None => out.push(m),
        }
    }
    out
}

async fn from_sql(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let req: SqlRequest =
        serde_json::from_value(body).map_err(|e| ApiError::bad(format!("invalid body: {e}")))?;
    let svc = s.0.service.clone();
    let out = tokio::task::spawn_blocking(move || svc.lineage_from_sql(&req, &Actor(p.name)))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(out).into_response())
}

async fn from_sql_batch(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let batch: SqlBatch =
        serde_json::from_value(body).map_err(|e| ApiError::bad(format!("invalid body: {e}")))?;
    let svc = s.0.service.clone();
    let out = tokio::task::spawn_blocking(move || -> ApiResult<Value> {
        let actor = Actor(p.name);
        let mut results = Vec::with_capacity(batch.queries.len());
        let (mut edges, mut failed) = (0usize, 0usize);
        for (i, q) in batch.queries.iter().enumerate() {
            let req = SqlRequest {
                sql: q.sql.clone(),
                dialect: batch.dialect.clone(),
                service: batch.service.clone(),
                default_database: q.default_database.clone().or(batch.default_database.clone()),
                default_schema: q.default_schema.clone().or(batch.default_schema.clone()),
                dry_run: batch.dry_run,
            };
            match svc.lineage_from_sql(&req, &actor) {
                Ok(v) => {
                    edges += v["edges"].as_array().map_or(0, Vec::len);
                    results.push(v);
                }
                Err(e @ ApiError::Internal(_)) => return Err(e),
                Err(e) => {
                    failed += 1;
                    results.push(json!({"index": i, "error": e.public_message()}));
                }
            }
        }
        Ok(json!({"queries": batch.queries.len(), "failed": failed, "edges": edges, "results": results}))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(out).into_response())
}

/// `POST /api/v1/lineage/sql` and `/api/v1/lineage/sql/batch`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/lineage/sql", post(from_sql))
        .route("/api/v1/lineage/sql/batch", post(from_sql_batch))
}

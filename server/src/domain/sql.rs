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

use headwaters_engine::{
    ColumnMapping, EdgeInput, Entity, EntityType, Include, LineageSource, NodeId, RejectedColumn,
};
use headwaters_sqllineage::{Catalog, ColumnEdge, Options, TableName, TransformationType, analyze};
use serde::{Deserialize, Serialize};

use crate::domain::error::{Error, Result, UserError};
use crate::domain::fqn;
use crate::domain::{Actor, Key, Service};

/// One SQL text to analyze.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// FQN of a Query entity (created first, `POST /api/v1/queries`) to hold the
    /// lineage of the SQL's plain queries: the Query gets their output columns, and
    /// each table read gets an edge to it whose column mappings end at those columns.
    #[serde(default)]
    pub query: Option<String>,
}

/// One query of a batch.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
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
    ) -> Result<std::result::Result<Resolved, String>> {
        let db = t.database.clone().or_else(|| req.default_database.clone());
        let schema = t.schema.clone().or_else(|| req.default_schema.clone());
        let part = |p: Option<String>| -> Result<String> {
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
    /// the table and column lineage: edges, unresolved tables and diagnostics.
    pub fn lineage_from_sql(&self, req: &SqlRequest, actor: &Actor) -> Result<SqlLineage> {
        let dialect = match &req.dialect {
            Some(d) => d
                .parse()
                .map_err(|e| Error::invalid(format!("field dialect: {e}")))?,
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
        // Resolve every table named, then analyze again with their columns known.
        let mut tables = Tables::default();
        for st in &analyze(&req.sql, &opts).statements {
            for t in st.reads.iter().chain(&st.writes) {
                tables.resolve(self, t, req)?;
            }
        }
        opts.catalog = Some(Arc::new(tables.catalog()));
        let lineage = analyze(&req.sql, &opts);
        let mut edges = tables.edges(self, &lineage, req)?;
        let query_output = tables.query_output(&lineage);
        if let Some(query) = &req.query {
            let (node, columns) = self.query_target(query, &lineage, &mut tables, &mut edges)?;
            if !req.dry_run {
                self.set_server_columns(node, columns)?;
            }
        }
        let (edges, dropped_columns) = self.write_sql_edges(edges, &tables, req, actor)?;
        Ok(SqlLineage {
            statements: lineage.statements.len(),
            dry_run: req.dry_run,
            edges,
            unresolved: tables
                .unresolved
                .into_iter()
                .map(|(table, reason)| Unresolved { table, reason })
                .collect(),
            dropped_columns,
            query_output,
            diagnostics: lineage
                .diagnostics()
                .map(|d| SqlDiagnostic {
                    kind: format!("{:?}", d.kind),
                    line: d.location.line,
                    column: d.location.column,
                    message: d.message.clone(),
                })
                .collect(),
        })
    }

    /// The Query entity `fqn` as the target of the plain queries' lineage: adds it to
    /// `tables` (with the queries' output columns) and an edge to it from every
    /// resolved table the queries read, with the DIRECT mappings onto its columns.
    /// Returns its node and the columns it is to have.
    fn query_target(
        &self,
        fqn: &str,
        lineage: &headwaters_sqllineage::Lineage,
        tables: &mut Tables,
        edges: &mut BTreeMap<(String, String), Mappings>,
    ) -> Result<(NodeId, Vec<String>)> {
        let node = {
            let view = self.store.read();
            self.resolve(
                &view,
                EntityType::Query,
                &Key::Fqn(fqn.to_string()),
                Include::NonDeleted,
            )?
        };
        let plain: Vec<_> = lineage
            .statements
            .iter()
            .filter(|s| s.writes.is_empty() && !s.query_output.is_empty())
            .collect();
        if plain.is_empty() {
            return Err(Error::invalid(
                "field query: the SQL holds no plain query (a SELECT that writes nothing) whose lineage a Query could hold",
            ));
        }
        let mut columns: Vec<String> = Vec::new();
        for ce in plain.iter().flat_map(|s| &s.query_output) {
            let name = fqn::quote(&ce.target.column)?;
            if !columns.contains(&name) {
                columns.push(name);
            }
        }
        let key = format!("query:{fqn}");
        tables.resolved.insert(
            key.clone(),
            Ok(Resolved {
                node,
                fqn: fqn.to_string(),
                columns: columns.clone(),
            }),
        );
        for st in &plain {
            for r in &st.reads {
                if tables.get(&r.to_string()).is_some() {
                    edges.entry((r.to_string(), key.clone())).or_default();
                }
            }
            for ce in &st.query_output {
                tables.add_direct(edges, ce, &key);
            }
        }
        Ok((node, columns))
    }

    /// Writes (or, in a dry run, only looks up) the table edges found, their column
    /// mappings merged with what each edge had.
    fn write_sql_edges(
        &self,
        edges: BTreeMap<(String, String), Mappings>,
        tables: &Tables,
        req: &SqlRequest,
        actor: &Actor,
    ) -> Result<(Vec<SqlEdge>, Vec<RejectedColumn>)> {
        let mut out = Vec::new();
        let mut dropped = Vec::new();
        for ((from_k, to_k), cols) in edges {
            let (Some(f), Some(t)) = (tables.get(&from_k), tables.get(&to_k)) else {
                continue;
            };
            let mut mappings = cols.into_vec();
            let (from, to, existing) = {
                let view = self.store.read();
                (
                    view.entity(f.node)?,
                    view.entity(t.node)?,
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
                        at_millis: Some(crate::domain::clock::now_millis()),
                    },
                )?;
                dropped.extend(outcome.rejected_columns);
                outcome.created
            };
            out.push(SqlEdge {
                from,
                to,
                columns_lineage: mappings,
                created,
            });
        }
        Ok((out, dropped))
    }

    /// A query log: each query analyzed and written on its own. A query the caller got
    /// wrong is reported with its index and the rest go on; an internal error stops the
    /// batch.
    pub fn lineage_from_sql_batch(
        &self,
        batch: &SqlBatch,
        actor: &Actor,
    ) -> Result<SqlBatchReport> {
        let mut results = Vec::with_capacity(batch.queries.len());
        let (mut edges, mut failed) = (0usize, 0usize);
        for (index, q) in batch.queries.iter().enumerate() {
            let req = SqlRequest {
                query: None,
                sql: q.sql.clone(),
                dialect: batch.dialect.clone(),
                service: batch.service.clone(),
                default_database: q
                    .default_database
                    .clone()
                    .or(batch.default_database.clone()),
                default_schema: q.default_schema.clone().or(batch.default_schema.clone()),
                dry_run: batch.dry_run,
            };
            match self.lineage_from_sql(&req, actor) {
                Ok(l) => {
                    edges += l.edges.len();
                    results.push(BatchItem::Done(l));
                }
                Err(Error::User(error)) => {
                    failed += 1;
                    results.push(BatchItem::Failed { index, error });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(SqlBatchReport {
            queries: batch.queries.len(),
            failed,
            edges,
            results,
        })
    }
}

/// The tables a SQL text names, resolved in one service (or why not).
#[derive(Default)]
struct Tables {
    resolved: BTreeMap<String, std::result::Result<Resolved, String>>,
    unresolved: BTreeMap<String, String>,
}

impl Tables {
    fn resolve(&mut self, svc: &Service, t: &TableName, req: &SqlRequest) -> Result<()> {
        if let Entry::Vacant(slot) = self.resolved.entry(t.to_string()) {
            slot.insert(svc.resolve_table(&req.service, t, req)?);
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&Resolved> {
        self.resolved.get(key).and_then(|r| r.as_ref().ok())
    }

    /// The resolved tables' columns, for the second analysis.
    fn catalog(&self) -> MapCatalog {
        MapCatalog(
            self.resolved
                .iter()
                .filter_map(|(k, r)| {
                    r.as_ref()
                        .ok()
                        .map(|r| (k.to_lowercase(), r.columns.clone()))
                })
                .collect(),
        )
    }

    /// Table edges (read -> written) between resolved tables, with the DIRECT column
    /// mappings between their columns; records every table that did not resolve.
    fn edges(
        &mut self,
        svc: &Service,
        lineage: &headwaters_sqllineage::Lineage,
        req: &SqlRequest,
    ) -> Result<BTreeMap<(String, String), Mappings>> {
        let mut edges: BTreeMap<(String, String), Mappings> = BTreeMap::new();
        for st in &lineage.statements {
            for t in st.reads.iter().chain(&st.writes) {
                self.resolve(svc, t, req)?;
                let k = t.to_string();
                if let Some(Err(why)) = self.resolved.get(&k) {
                    self.unresolved.insert(k, why.clone());
                }
            }
            for w in &st.writes {
                for r in &st.reads {
                    let (rk, wk) = (r.to_string(), w.to_string());
                    if r != w && self.get(&rk).is_some() && self.get(&wk).is_some() {
                        edges.entry((rk, wk)).or_default();
                    }
                }
            }
            for ce in &st.columns {
                self.add_direct(&mut edges, ce, &ce.target.table.to_string());
            }
        }
        Ok(edges)
    }

    /// Adds the analyzer's DIRECT edge `ce` as a column mapping on the table edge from
    /// its source table to `target` (a key of `resolved`), when both resolved, differ,
    /// and have the columns named.
    fn add_direct(
        &self,
        edges: &mut BTreeMap<(String, String), Mappings>,
        ce: &ColumnEdge,
        target: &str,
    ) {
        if ce.kind != TransformationType::Direct {
            return;
        }
        let source = ce.source.table.to_string();
        if source == target {
            return;
        }
        let (Some(sr), Some(tr)) = (self.get(&source), self.get(target)) else {
            return;
        };
        let (Some(from), Some(to)) = (
            sr.column_fqn(&ce.source.column),
            tr.column_fqn(&ce.target.column),
        ) else {
            return;
        };
        edges
            .entry((source, target.to_string()))
            .or_default()
            .add(from, to, ce);
    }
}

impl Tables {
    /// The plain queries' output columns, their sources resolved to column FQNs where
    /// the tables resolved.
    fn query_output(&self, lineage: &headwaters_sqllineage::Lineage) -> Vec<QueryOutputColumn> {
        let mut out: Vec<QueryOutputColumn> = Vec::new();
        for (i, st) in lineage.statements.iter().enumerate() {
            let mut by_column: BTreeMap<&str, Vec<QuerySource>> = BTreeMap::new();
            for ce in &st.query_output {
                let column = self
                    .get(&ce.source.table.to_string())
                    .and_then(|r| r.column_fqn(&ce.source.column))
                    .unwrap_or_else(|| ce.source.to_string());
                by_column
                    .entry(&ce.target.column)
                    .or_default()
                    .push(QuerySource {
                        column,
                        transformation: ce.transformation(),
                        function: ce.function().map(str::to_string),
                    });
            }
            out.extend(by_column.into_iter().map(|(c, sources)| QueryOutputColumn {
                statement: i + 1,
                column: c.to_string(),
                sources,
            }));
        }
        out
    }
}

impl Resolved {
    /// The FQN of this table's column `c` (case-insensitive, last part of a nested name).
    fn column_fqn(&self, c: &str) -> Option<String> {
        self.columns
            .iter()
            .find(|x| {
                x.eq_ignore_ascii_case(c)
                    || fqn::split(x)
                        .last()
                        .is_some_and(|l| l.eq_ignore_ascii_case(c))
            })
            .map(|x| format!("{}.{x}", self.fqn))
    }
}

/// A table edge found in SQL.
#[derive(Clone, Debug)]
pub struct SqlEdge {
    /// Upstream table.
    pub from: Entity,
    /// Downstream table.
    pub to: Entity,
    /// Column mappings (merged with the edge's existing ones).
    pub columns_lineage: Vec<ColumnMapping>,
    /// The edge is new (or, in a dry run, would be).
    pub created: bool,
}

/// A table the SQL named that could not be resolved.
#[derive(Clone, Debug)]
pub struct Unresolved {
    /// The table as written.
    pub table: String,
    /// Why.
    pub reason: String,
}

/// An analyzer diagnostic.
#[derive(Clone, Debug)]
pub struct SqlDiagnostic {
    /// Kind (`Unsupported`, `ParseError`, ...).
    pub kind: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// What.
    pub message: String,
}

/// What [`Service::lineage_from_sql`] found and did.
#[derive(Clone, Debug)]
pub struct SqlLineage {
    /// Statements analyzed.
    pub statements: usize,
    /// Nothing was written.
    pub dry_run: bool,
    /// Table edges written (or that would be).
    pub edges: Vec<SqlEdge>,
    /// Tables that could not be resolved in the service.
    pub unresolved: Vec<Unresolved>,
    /// Column references the engine dropped.
    pub dropped_columns: Vec<RejectedColumn>,
    /// The output columns of plain queries (statements that write nothing) and where
    /// each comes from.
    pub query_output: Vec<QueryOutputColumn>,
    /// Analyzer diagnostics.
    pub diagnostics: Vec<SqlDiagnostic>,
}

/// One output column of a plain query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOutputColumn {
    /// The statement (1-based, in the SQL's order).
    pub statement: usize,
    /// The output column's name.
    pub column: String,
    /// Where it comes from.
    pub sources: Vec<QuerySource>,
}

/// A source column of a query's output column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuerySource {
    /// The column's FQN when its table resolved in the service, else as written.
    pub column: String,
    /// `DIRECT/AGGREGATION`, `INDIRECT/FILTER`, ...
    pub transformation: String,
    /// The expression, for direct transformations other than identity.
    pub function: Option<String>,
}

/// One query's outcome in a batch.
#[derive(Debug)]
pub enum BatchItem {
    /// Analyzed (and written unless a dry run).
    Done(SqlLineage),
    /// Refused: the query at `index` is wrong in the way `error` says.
    Failed {
        /// Position in the batch.
        index: usize,
        /// What is wrong.
        error: UserError,
    },
}

/// What [`Service::lineage_from_sql_batch`] did.
#[derive(Debug)]
pub struct SqlBatchReport {
    /// Queries in the batch.
    pub queries: usize,
    /// Queries refused.
    pub failed: usize,
    /// Table edges over all queries.
    pub edges: usize,
    /// Per query, in order.
    pub results: Vec<BatchItem>,
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
            function: ce.function().map(str::to_string),
            transformation: Some(ce.transformation()),
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

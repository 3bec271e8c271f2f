//! `POST /api/v1/lineage/sql` and `/lineage/sql/batch`: lineage from SQL.

use axum::Extension;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{actor, parse_body};
use crate::api::auth::Principal;
use crate::api::errors::{ApiError, ApiResult, Json};
use crate::api::openapi::{ApiRouter, Op};
use crate::api::{AppState, commands};
use crate::domain::reference_json;
use crate::domain::sql::{BatchItem, SqlBatch, SqlLineage, SqlRequest};

/// A table edge found in SQL, as answered.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SqlEdgeOut {
    /// Upstream table (EntityReference).
    #[schema(value_type = Object)]
    from_entity: Value,
    /// Downstream table (EntityReference).
    #[schema(value_type = Object)]
    to_entity: Value,
    /// Column mappings (`fromColumns`, `toColumn`, `function`, `transformation`).
    #[schema(value_type = Vec<Object>)]
    columns_lineage: Vec<headwaters_engine::ColumnMapping>,
    /// The edge is new (or, in a dry run, would be).
    created: bool,
}

/// A table the SQL named that could not be resolved.
#[derive(Serialize, ToSchema)]
pub struct UnresolvedOut {
    /// The table as written.
    table: String,
    /// Why.
    reason: String,
}

/// A column reference the engine dropped.
#[derive(Serialize, ToSchema)]
pub struct DroppedOut {
    /// The column FQN.
    column: String,
    /// Why.
    reason: String,
}

/// One output column of a plain query (`SELECT`) and its sources.
#[derive(Serialize, ToSchema)]
pub struct QueryOutputOut {
    /// The statement (1-based).
    statement: usize,
    /// The output column's name.
    column: String,
    /// Its sources: `column` (FQN when the table resolved, else as written),
    /// `transformation` (`DIRECT/AGGREGATION`, `INDIRECT/FILTER`, ...), `function`.
    #[schema(value_type = Vec<Object>)]
    sources: Vec<Value>,
}

/// An analyzer diagnostic.
#[derive(Serialize, ToSchema)]
pub struct DiagnosticOut {
    /// `Unsupported`, `ParseError`, ...
    kind: String,
    /// 1-based line.
    line: u64,
    /// 1-based column.
    column: u64,
    /// What.
    message: String,
}

/// What one SQL text yielded.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SqlLineageOut {
    /// Statements analyzed.
    statements: usize,
    /// Nothing was written.
    dry_run: bool,
    /// Table edges written (or that would be).
    edges: Vec<SqlEdgeOut>,
    /// Tables not found in the service.
    unresolved: Vec<UnresolvedOut>,
    /// Column references dropped.
    dropped_columns: Vec<DroppedOut>,
    /// Plain queries' output columns and their sources (written to the Query entity
    /// named by `query`, else nowhere).
    query_output: Vec<QueryOutputOut>,
    /// Analyzer diagnostics.
    diagnostics: Vec<DiagnosticOut>,
}

impl From<SqlLineage> for SqlLineageOut {
    fn from(l: SqlLineage) -> Self {
        SqlLineageOut {
            statements: l.statements,
            dry_run: l.dry_run,
            edges: l
                .edges
                .into_iter()
                .map(|e| SqlEdgeOut {
                    from_entity: reference_json(&e.from),
                    to_entity: reference_json(&e.to),
                    columns_lineage: e.columns_lineage,
                    created: e.created,
                })
                .collect(),
            unresolved: l
                .unresolved
                .into_iter()
                .map(|u| UnresolvedOut {
                    table: u.table,
                    reason: u.reason,
                })
                .collect(),
            dropped_columns: l
                .dropped_columns
                .into_iter()
                .map(|r| DroppedOut {
                    column: r.column,
                    reason: r.reason,
                })
                .collect(),
            query_output: l
                .query_output
                .into_iter()
                .map(|q| QueryOutputOut {
                    statement: q.statement,
                    column: q.column,
                    sources: q
                        .sources
                        .into_iter()
                        .map(|s| {
                            let mut v = serde_json::json!({"column": s.column, "transformation": s.transformation});
                            if let Some(f) = s.function {
                                v["function"] = Value::String(f);
                            }
                            v
                        })
                        .collect(),
                })
                .collect(),
            diagnostics: l
                .diagnostics
                .into_iter()
                .map(|d| DiagnosticOut {
                    kind: d.kind,
                    line: d.line,
                    column: d.column,
                    message: d.message,
                })
                .collect(),
        }
    }
}

/// One query's outcome in a batch: its lineage, or `{"index", "error"}`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchItemOut {
    /// Analyzed.
    Done(SqlLineageOut),
    /// Refused.
    Failed {
        /// Position in the batch.
        index: usize,
        /// What is wrong.
        error: String,
    },
}

/// What a batch did.
#[derive(Serialize, ToSchema)]
pub struct SqlBatchOut {
    /// Queries in the batch.
    queries: usize,
    /// Queries refused.
    failed: usize,
    /// Table edges over all queries.
    edges: usize,
    /// Per query, in order.
    results: Vec<BatchItemOut>,
}

async fn from_sql(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let req: SqlRequest = parse_body("SQL lineage", body)?;
    let out = commands::sql_lineage(&s, req, actor(&p)).await?;
    Ok(Json(SqlLineageOut::from(out)).into_response())
}

async fn from_sql_batch(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let batch: SqlBatch = parse_body("SQL batch", body)?;
    let r = commands::sql_lineage_batch(&s, batch, actor(&p)).await?;
    Ok(Json(SqlBatchOut {
        queries: r.queries,
        failed: r.failed,
        edges: r.edges,
        results: r
            .results
            .into_iter()
            .map(|i| match i {
                BatchItem::Done(l) => BatchItemOut::Done(l.into()),
                BatchItem::Failed { index, error } => BatchItemOut::Failed {
                    index,
                    error: ApiError::from(error).public_message(),
                },
            })
            .collect(),
    })
    .into_response())
}

/// The SQL lineage routes, documented.
pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .route(
            Method::POST,
            "/api/v1/lineage/sql",
            from_sql,
            Op::new("sql", "Lineage from SQL, parsed server-side")
                .describe("Each table the SQL names is resolved within `service` (defaults and `*` for parts the SQL leaves out, unique match); table edges and DIRECT column mappings are written with source `QueryLineage` unless `dryRun`. With `query` (a Query entity's FQN), the plain queries' lineage is stored on that Query: it gets their output columns, and every table they read an edge to it with column mappings onto those columns.")
                .body::<SqlRequest>("The SQL and where its tables live.")
                .answers::<SqlLineageOut>(200, "Edges, unresolved tables, diagnostics"),
        )
        .route(
            Method::POST,
            "/api/v1/lineage/sql/batch",
            from_sql_batch,
            Op::new("sql", "Lineage from a query log")
                .body::<SqlBatch>("The queries and their shared settings.")
                .answers::<SqlBatchOut>(200, "Per-query results; refused queries name their index"),
        )
}

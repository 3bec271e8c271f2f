//! Writes (editor role): lineage edges, lineage from SQL.

use async_graphql::{Context, ID, Object};
use headwaters_engine::ColumnMapping;

use super::types::{AddLineageInput, ColumnLineage, LineageEdge, SqlLineageResult, Unresolved};
use super::{R, editor, state};
use crate::api::commands::{self, DeleteEdge, PutEdge, execute};
use crate::api::errors::OrGraphql;
use crate::domain::Key;
use crate::domain::lineage::{EdgeDetails, EdgeSpec, entity_type, lineage_source};
use crate::domain::sql::SqlRequest;

/// Mutations (editor role).
pub struct MutationRoot;

/// Writes (editor role): lineage edges, lineage from SQL.
#[allow(clippy::too_many_arguments)]
#[Object]
impl MutationRoot {
    /// Adds an edge, or replaces its details; column mappings naming missing columns
    /// are dropped (the rest kept).
    async fn add_lineage(&self, ctx: &Context<'_>, input: AddLineageInput) -> R<LineageEdge> {
        let actor = editor(ctx)?;
        let s = state(ctx)?;
        let spec = EdgeSpec {
            from: (
                entity_type(&input.from_type).gql()?,
                Key::Fqn(input.from_fqn),
            ),
            to: (entity_type(&input.to_type).gql()?, Key::Fqn(input.to_fqn)),
            details: EdgeDetails {
                sql_query: input.sql_query,
                columns_lineage: input
                    .columns_lineage
                    .into_iter()
                    .map(|c| ColumnMapping {
                        from_columns: c.from_columns,
                        to_column: c.to_column,
                        function: c.function,
                        transformation: None,
                    })
                    .collect(),
                pipeline: None,
                description: input.description,
                source: input
                    .source
                    .as_deref()
                    .map(lineage_source)
                    .transpose()
                    .gql()?
                    .unwrap_or_default(),
            },
        };
        let w = execute(s, PutEdge { spec, actor }).await.gql()?;
        Ok(LineageEdge::of_view(&w.edge))
    }

    /// Deletes an edge; false when there was none.
    async fn delete_lineage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Upstream FQN.")] from_fqn: String,
        #[graphql(desc = "Downstream FQN.")] to_fqn: String,
        #[graphql(desc = "Upstream type.", default = "table")] from_type: String,
        #[graphql(desc = "Downstream type.", default = "table")] to_type: String,
    ) -> R<bool> {
        editor(ctx)?;
        let s = state(ctx)?;
        let from = (entity_type(&from_type).gql()?, Key::Fqn(from_fqn));
        let to = (entity_type(&to_type).gql()?, Key::Fqn(to_fqn));
        execute(s, DeleteEdge { from, to }).await.gql()
    }

    /// Lineage from SQL, as `POST /api/v1/lineage/sql`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::TRAVERSAL_COST + child_complexity")]
    async fn lineage_from_sql(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The SQL (one or more statements).")] sql: String,
        #[graphql(desc = "Database service the tables belong to.")] service: String,
        #[graphql(desc = "Dialect (default generic).")] dialect: Option<String>,
        #[graphql(desc = "Database for names without one.")] default_database: Option<String>,
        #[graphql(desc = "Schema for names without one.")] default_schema: Option<String>,
        #[graphql(desc = "Analyze and resolve, write nothing.", default = false)] dry_run: bool,
        #[graphql(
            desc = "FQN of a Query entity to hold the lineage of the SQL's plain queries (their output columns, and an edge from each table read)."
        )]
        query: Option<String>,
    ) -> R<SqlLineageResult> {
        let actor = editor(ctx)?;
        let s = state(ctx)?;
        let req = SqlRequest {
            sql,
            dialect,
            service,
            default_database,
            default_schema,
            dry_run,
            query,
        };
        let l = commands::sql_lineage(s, req, actor).await.gql()?;
        Ok(SqlLineageResult {
            statements: l.statements as i32,
            edges: l
                .edges
                .iter()
                .map(|e| LineageEdge {
                    from_id: ID(e.from.id.to_string()),
                    from_fqn: e.from.fqn.clone(),
                    to_id: ID(e.to.id.to_string()),
                    to_fqn: e.to.fqn.clone(),
                    sql_query: None,
                    columns_lineage: e.columns_lineage.iter().map(ColumnLineage::from).collect(),
                    source: "QueryLineage".into(),
                    pipeline: None,
                    description: None,
                    created_at: None,
                    created_by: None,
                    updated_at: None,
                    updated_by: None,
                })
                .collect(),
            unresolved: l
                .unresolved
                .into_iter()
                .map(|u| Unresolved {
                    table: u.table,
                    reason: u.reason,
                })
                .collect(),
            diagnostics: l
                .diagnostics
                .iter()
                .map(|d| format!("{}:{}: {}: {}", d.line, d.column, d.kind, d.message))
                .collect(),
        })
    }
}

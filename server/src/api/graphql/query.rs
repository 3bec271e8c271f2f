//! Reads: entities, search, lineage of entities and columns, impact, paths. Each
//! resolver parses its arguments, makes one domain call through [`blocking`], and
//! maps the typed answer onto GraphQL objects.

use async_graphql::{Context, ID, Object};
use headwaters_engine::EntityType;
use uuid::Uuid;

use super::types::{
    ColumnEdge, ColumnLineageResult, ColumnNode, DepthCount, Entity, Impact, LineageDirection,
    LineageEdge, LineageNode, LineageResult, SearchConnection, type_counts, types_list, types_set,
};
use super::{R, cursor, offset, page_size, state};
use crate::api::errors::{ApiError, OrGraphql, graphql_error};
use crate::api::{blocking, blocking_light};
use crate::domain::Key;
use crate::domain::lineage::{LineageOpts, Page, check_depth, entity_type};
use crate::domain::search::SearchQuery;

/// A depth argument (negative counts as 0), checked against the server's maximum.
fn depth_arg(s: &crate::api::AppState, name: &str, depth: i32, default: u32) -> R<u32> {
    check_depth(
        name,
        Some(depth.max(0) as u32),
        default,
        s.service.settings.max_depth,
    )
    .gql()
}

/// Queries.
pub struct QueryRoot;

/// Reads: entities, search, lineage of entities and columns, impact, paths.
// Resolver arguments are the GraphQL field's arguments, one each.
#[allow(clippy::too_many_arguments)]
#[Object]
impl QueryRoot {
    /// One entity by fully qualified name (and type, default `table`) or by id.
    async fn entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Fully qualified name.")] fqn: Option<String>,
        #[graphql(desc = "Entity type of `fqn`.", default = "table")] r#type: String,
        #[graphql(desc = "The entity's UUID (instead of `fqn`).")] id: Option<ID>,
    ) -> R<Option<Entity>> {
        let s = state(ctx)?;
        let (ty, key) = match (fqn, id) {
            (Some(f), None) => (entity_type(&r#type).gql()?, Key::Fqn(f)),
            (None, Some(id)) => {
                let u = Uuid::parse_str(&id)
                    .map_err(|_| ApiError::bad(format!("id: {:?} is not a UUID", id.as_str())))
                    .gql()?;
                (EntityType::Table, Key::Id(u))
            }
            _ => {
                return Err(graphql_error(ApiError::bad(
                    "give exactly one of fqn and id",
                )));
            }
        };
        let v = blocking_light(s, move |svc| svc.find_entity(ty, &key))
            .await
            .gql()?;
        Ok(v.as_ref().map(Entity::of))
    }

    /// Search names, FQNs, display names and descriptions (prefix match per word).
    #[graphql(complexity = "10 + first.max(0) as usize * child_complexity")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words to match; empty matches everything.")] query: String,
        #[graphql(desc = "Only these entity types.")] types: Option<Vec<String>>,
        #[graphql(desc = "Page size (at most 100).", default = 10)] first: i32,
        #[graphql(desc = "Cursor from a previous page's endCursor.")] after: Option<String>,
    ) -> R<SearchConnection> {
        let s = state(ctx)?;
        let q = SearchQuery {
            text: query,
            types: types_list(types).gql()?,
            from: offset(after)?,
            size: page_size(first, 100)?,
            deleted: false,
            ..SearchQuery::default()
        };
        let from = q.from;
        let page = blocking_light(s, move |svc| svc.search_entities(&q))
            .await
            .gql()?;
        let next = from + page.hits.len();
        Ok(SearchConnection {
            total: page.total as i32,
            nodes: page.hits.iter().map(Entity::of).collect(),
            end_cursor: (next < page.total).then(|| cursor(next)),
            has_next_page: next < page.total,
        })
    }

    /// Lineage of an entity: nodes with depth and direction, edges with details.
    #[graphql(complexity = "super::TRAVERSAL_COST + first.max(0) as usize * child_complexity")]
    async fn lineage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Fully qualified name of the start entity.")] fqn: String,
        #[graphql(desc = "Its entity type.", default = "table")] r#type: String,
        #[graphql(desc = "Which way to walk.", default_with = "LineageDirection::Both")] direction: LineageDirection,
        #[graphql(desc = "Levels to walk in each direction.", default = 3)] depth: i32,
        #[graphql(desc = "Only visit (and walk through) these entity types.")] entity_types: Option<
            Vec<String>,
        >,
        #[graphql(desc = "Nodes per page (at most 10000).", default = 500)] first: i32,
        #[graphql(desc = "Cursor from a previous page's endCursor.")] after: Option<String>,
    ) -> R<LineageResult> {
        let s = state(ctx)?;
        let d = depth_arg(s, "depth", depth, 3)?;
        let (up, down) = direction.depths(d);
        let o = LineageOpts {
            up,
            down,
            include_deleted: false,
            types: types_set(entity_types).gql()?,
        };
        let ty = entity_type(&r#type).gql()?;
        let page = Page {
            from: offset(after)?,
            size: page_size(first, 10_000)?,
        };
        let p = blocking(s, move |svc| svc.lineage_page(ty, &Key::Fqn(fqn), &o, page))
            .await
            .gql()?;
        let g = &p.graph;
        let total = g.visits_up.len() + g.visits_down.len();
        let next = page.from + p.nodes.len();
        let entity = |n| {
            p.views
                .get(n)
                .map(Entity::of)
                .ok_or_else(|| ApiError::Internal(format!("node {n} not fetched")))
                .gql()
        };
        Ok(LineageResult {
            root: entity(&g.root)?,
            nodes: p
                .nodes
                .iter()
                .map(|n| {
                    Ok(LineageNode {
                        entity: entity(&n.node)?,
                        depth: n.depth as i32,
                        direction: n.side.into(),
                    })
                })
                .collect::<R<_>>()?,
            edges: p
                .edges()
                .map(|e| LineageEdge::of(e, &g.entities, &g.pipelines))
                .collect(),
            total_nodes: total as i32,
            end_cursor: (next < total).then(|| cursor(next)),
            has_next_page: next < total,
            truncated: g.truncated,
            upstream_counts: g.upstream_counts.iter().map(|c| *c as i32).collect(),
            downstream_counts: g.downstream_counts.iter().map(|c| *c as i32).collect(),
        })
    }

    /// Lineage of one column across tables.
    #[graphql(complexity = "super::TRAVERSAL_COST + 100 * child_complexity")]
    async fn column_lineage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Fully qualified name of the column.")] column_fqn: String,
        #[graphql(desc = "Which way to walk.", default_with = "LineageDirection::Both")] direction: LineageDirection,
        #[graphql(desc = "Levels to walk.", default = 5)] depth: i32,
    ) -> R<ColumnLineageResult> {
        let s = state(ctx)?;
        let d = depth_arg(s, "depth", depth, 5)?;
        let (up, down) = direction.depths(d);
        let c = blocking(s, move |svc| svc.column_lineage(&column_fqn, up, down))
            .await
            .gql()?;
        let columns = c
            .columns
            .iter()
            .map(|v| {
                let owner = c
                    .owners
                    .get(&v.owner)
                    .ok_or_else(|| ApiError::Internal(format!("owner {} not fetched", v.owner)))
                    .gql()?;
                Ok(ColumnNode {
                    column: v.column.clone(),
                    entity: Entity::of(owner),
                    depth: v.depth as i32,
                    direction: v.side.into(),
                })
            })
            .collect::<R<_>>()?;
        Ok(ColumnLineageResult {
            columns,
            edges: c
                .edges
                .iter()
                .map(|e| ColumnEdge {
                    from_column: e.from_column.clone(),
                    to_column: e.to_column.clone(),
                    function: e.function.clone(),
                    transformation: e.transformation.clone(),
                })
                .collect(),
            truncated: c.truncated,
            column: c.column,
        })
    }

    /// Everything downstream of an entity, counted by depth and type.
    #[graphql(complexity = "super::TRAVERSAL_COST + child_complexity")]
    async fn impact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Fully qualified name.")] fqn: String,
        #[graphql(desc = "Entity type.", default = "table")] r#type: String,
        #[graphql(desc = "Levels to walk; unbounded when absent.")] depth: Option<i32>,
    ) -> R<Impact> {
        let s = state(ctx)?;
        let ty = entity_type(&r#type).gql()?;
        let depth = depth.map(|d| d.max(0) as u32);
        let i = blocking(s, move |svc| svc.impact(ty, &Key::Fqn(fqn), depth))
            .await
            .gql()?;
        Ok(Impact {
            entity: Entity::of(&i.entity),
            total: i.total as i32,
            by_depth: i
                .by_depth
                .iter()
                .enumerate()
                .map(|(d, m)| DepthCount {
                    depth: d as i32 + 1,
                    count: m.values().sum::<usize>() as i32,
                    by_type: type_counts(m),
                })
                .collect(),
            by_type: type_counts(&i.by_type),
        })
    }

    /// Simple paths (lists of entities) from one entity to another, following lineage.
    #[graphql(complexity = "super::TRAVERSAL_COST + limit.max(0) as usize * child_complexity")]
    async fn paths(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "FQN of the upstream end.")] from: String,
        #[graphql(desc = "FQN of the downstream end.")] to: String,
        #[graphql(desc = "Type of `from`.", default = "table")] from_type: String,
        #[graphql(desc = "Type of `to`.", default = "table")] to_type: String,
        #[graphql(desc = "Longest path, in edges.", default = 6)] max_depth: i32,
        #[graphql(desc = "Most paths returned.", default = 20)] limit: i32,
    ) -> R<Vec<Vec<Entity>>> {
        let s = state(ctx)?;
        let d = depth_arg(s, "maxDepth", max_depth, 6)?;
        let from = (entity_type(&from_type).gql()?, Key::Fqn(from));
        let to = (entity_type(&to_type).gql()?, Key::Fqn(to));
        let limit = limit.clamp(0, 1000) as usize;
        let paths = blocking(s, move |svc| svc.paths(from, to, d, limit))
            .await
            .gql()?;
        Ok(paths
            .iter()
            .map(|p| p.iter().map(Entity::of).collect())
            .collect())
    }
}

//! The GraphQL API at `/api/graphql`: one schema over the same service layer as REST.
//!
//! Queries: `entity`, `search`, `lineage`, `columnLineage`, `impact`, `paths`;
//! mutations (editor role): `addLineage`, `deleteLineage`, `lineageFromSql`. Depth and
//! complexity are limited; every type and field carries a description (the explorer
//! shows them); the SDL is committed at `server/schema.graphql` and a test fails when
//! the code drifts from it. Errors carry `extensions.code` (see `error.rs`).

use async_graphql::{
    Context, EmptySubscription, Enum, ID, InputObject, Interface, Object, Schema, SimpleObject,
};
use headwaters_engine::{ColumnMapping, Entity as Rec, EntityType, EntityTypeSet, NodeId, Query};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, OrGraphql, graphql_error};
use crate::lineage::{AddLineage, LineageOpts, check_depth, entity_type};
use crate::search::SearchQuery;
use crate::service::{Actor, Key, Service};
use crate::sql::SqlRequest;

/// The schema type.
pub type HwSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema, with depth and complexity limits. Each request carries the
/// [`AppState`] and the caller's [`Principal`] as request data.
pub fn schema() -> HwSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .limit_depth(12)
        .limit_complexity(20_000)
        .finish()
}

/// `POST /api/graphql` (and GET with a query string).
pub async fn handler(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::Extension(principal): axum::Extension<Principal>,
    req: async_graphql_axum::GraphQLRequest,
) -> async_graphql_axum::GraphQLResponse {
    let schema = state.0.graphql.clone();
    schema
        .execute(req.into_inner().data(state).data(principal))
        .await
        .into()
}

type R<T> = async_graphql::Result<T>;

fn svc<'a>(ctx: &Context<'a>) -> R<&'a Service> {
    Ok(ctx.data::<AppState>().gql()?.service())
}

fn editor(ctx: &Context<'_>) -> R<Actor> {
    let p = ctx.data::<Principal>().gql()?;
    if p.role < Role::Editor {
        return Err(graphql_error(ApiError::Forbidden(format!(
            "mutations need the editor role; token {:?} has {:?}",
            p.name, p.role
        ))));
    }
    Ok(Actor(p.name.clone()))
}

/// A column of a table or data model.
#[derive(SimpleObject, Clone)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Fully qualified name: the entity's FQN, a dot, the (quoted) name.
    pub fully_qualified_name: String,
    /// OpenMetadata data type (`INT`, `VARCHAR`, `STRUCT`, ...).
    pub data_type: String,
    /// Free text.
    pub description: Option<String>,
    /// Nested columns of a STRUCT/MAP/ARRAY.
    pub children: Vec<Column>,
}

fn columns_of(doc: &Value) -> Vec<Column> {
    doc.get("columns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .map(|c| Column {
                    name: c["name"].as_str().unwrap_or_default().to_string(),
                    fully_qualified_name: c["fullyQualifiedName"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    data_type: c["dataType"].as_str().unwrap_or("UNKNOWN").to_string(),
                    description: c["description"].as_str().map(str::to_string),
                    children: columns_of(c),
                })
                .collect()
        })
        .unwrap_or_default()
}

macro_rules! entity_objects {
    ($($name:ident, $doc:literal, [$($field:ident: $fty:ty = $init:expr, $fdoc:literal);*];)*) => {
        $(
            #[doc = $doc]
            #[derive(SimpleObject, Clone)]
            pub struct $name {
                /// The entity's UUID.
                pub id: ID,
                /// OpenMetadata entity type (`table`, `dashboard`, `pipeline`, ...).
                pub entity_type: String,
                /// Short name.
                pub name: String,
                /// Fully qualified name (unique per type).
                pub fully_qualified_name: String,
                /// Display name, if set.
                pub display_name: Option<String>,
                /// Free text.
                pub description: Option<String>,
                /// Soft-deleted.
                pub deleted: bool,
                /// Name of the service the entity belongs to.
                pub service: Option<String>,
                $(#[doc = $fdoc] pub $field: $fty,)*
            }

            impl $name {
                #[allow(unused_variables)]
                fn build(e: &Rec, doc: &Value) -> Self {
                    $name {
                        id: ID(e.id.to_string()),
                        entity_type: e.entity_type.as_str().to_string(),
                        name: e.name.clone(),
                        fully_qualified_name: e.fqn.clone(),
                        display_name: doc["displayName"].as_str().map(str::to_string),
                        description: doc["description"].as_str().map(str::to_string),
                        deleted: e.deleted,
                        service: doc["service"]["name"].as_str().map(str::to_string),
                        $($field: $init(doc),)*
                    }
                }
            }
        )*
    };
}

entity_objects! {
    Table, "A table or view.", [
        columns: Vec<Column> = columns_of, "Columns, nested children included.";
        table_type: Option<String> = |d: &Value| d["tableType"].as_str().map(str::to_string), "OpenMetadata table type (Regular, View, ...)."
    ];
    DashboardDataModel, "A dashboard's data model.", [columns: Vec<Column> = columns_of, "Columns."];
    Dashboard, "A BI dashboard.", [];
    Chart, "A chart of a dashboard.", [];
    Pipeline, "A pipeline (job, DAG).", [];
    Topic, "A messaging topic.", [];
    MlModel, "A machine-learning model.", [];
    Container, "A storage container (bucket, path).", [];
    StoredProcedure, "A stored procedure.", [];
    SearchIndex, "A search index.", [];
    ApiEndpoint, "An API endpoint.", [];
    Metric, "A metric.", [];
    OtherEntity, "A service, database, schema or API collection.", [];
}

/// Any entity: the fields every entity type has.
// clippy reads the repeated `ty = ...` of the field list as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(Interface, Clone)]
#[graphql(
    field(name = "id", ty = "&ID", desc = "The entity's UUID."),
    field(
        name = "entity_type",
        ty = "&String",
        desc = "OpenMetadata entity type."
    ),
    field(name = "name", ty = "&String", desc = "Short name."),
    field(
        name = "fully_qualified_name",
        ty = "&String",
        desc = "Fully qualified name."
    ),
    field(
        name = "display_name",
        ty = "&Option<String>",
        desc = "Display name, if set."
    ),
    field(name = "description", ty = "&Option<String>", desc = "Free text."),
    field(name = "deleted", ty = "&bool", desc = "Soft-deleted."),
    field(
        name = "service",
        ty = "&Option<String>",
        desc = "Name of the service the entity belongs to."
    )
)]
pub enum Entity {
    /// A table or view.
    Table(Table),
    /// A dashboard data model.
    DashboardDataModel(DashboardDataModel),
    /// A dashboard.
    Dashboard(Dashboard),
    /// A chart.
    Chart(Chart),
    /// A pipeline.
    Pipeline(Pipeline),
    /// A topic.
    Topic(Topic),
    /// An ML model.
    MlModel(MlModel),
    /// A container.
    Container(Container),
    /// A stored procedure.
    StoredProcedure(StoredProcedure),
    /// A search index.
    SearchIndex(SearchIndex),
    /// An API endpoint.
    ApiEndpoint(ApiEndpoint),
    /// A metric.
    Metric(Metric),
    /// Services, databases, schemas, API collections.
    OtherEntity(OtherEntity),
}

impl Entity {
    fn of(e: &Rec, doc: &Value) -> Entity {
        match e.entity_type {
            EntityType::Table => Entity::Table(Table::build(e, doc)),
            EntityType::DashboardDataModel => {
                Entity::DashboardDataModel(DashboardDataModel::build(e, doc))
            }
            EntityType::Dashboard => Entity::Dashboard(Dashboard::build(e, doc)),
            EntityType::Chart => Entity::Chart(Chart::build(e, doc)),
            EntityType::Pipeline => Entity::Pipeline(Pipeline::build(e, doc)),
            EntityType::Topic => Entity::Topic(Topic::build(e, doc)),
            EntityType::MlModel => Entity::MlModel(MlModel::build(e, doc)),
            EntityType::Container => Entity::Container(Container::build(e, doc)),
            EntityType::StoredProcedure => Entity::StoredProcedure(StoredProcedure::build(e, doc)),
            EntityType::SearchIndex => Entity::SearchIndex(SearchIndex::build(e, doc)),
            EntityType::ApiEndpoint => Entity::ApiEndpoint(ApiEndpoint::build(e, doc)),
            EntityType::Metric => Entity::Metric(Metric::build(e, doc)),
            _ => Entity::OtherEntity(OtherEntity::build(e, doc)),
        }
    }
}

fn load(svc: &Service, nodes: &[NodeId]) -> R<Vec<Entity>> {
    let view = svc.store.read();
    let recs = view.entities(nodes).gql()?;
    recs.iter()
        .map(|e| Ok(Entity::of(e, &svc.document(&view, e.node).gql()?)))
        .collect()
}

/// Which way to walk.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum LineageDirection {
    /// Towards sources.
    Upstream,
    /// Towards consumers.
    Downstream,
    /// Both.
    Both,
}

/// One column mapping of an edge.
#[derive(SimpleObject, Clone)]
pub struct ColumnLineage {
    /// Upstream column FQNs.
    pub from_columns: Vec<String>,
    /// Downstream column FQN.
    pub to_column: String,
    /// The expression, if known.
    pub function: Option<String>,
    /// OpenLineage transformation type/subtype (`DIRECT/AGGREGATION`, ...), if known.
    pub transformation: Option<String>,
}

impl From<&ColumnMapping> for ColumnLineage {
    fn from(m: &ColumnMapping) -> Self {
        ColumnLineage {
            from_columns: m.from_columns.clone(),
            to_column: m.to_column.clone(),
            function: m.function.clone(),
            transformation: m.transformation.clone(),
        }
    }
}

/// A table-level lineage edge with its details.
#[derive(SimpleObject, Clone)]
pub struct LineageEdge {
    /// Upstream entity id.
    pub from_id: ID,
    /// Upstream entity FQN.
    pub from_fqn: String,
    /// Downstream entity id.
    pub to_id: ID,
    /// Downstream entity FQN.
    pub to_fqn: String,
    /// The SQL the lineage came from.
    pub sql_query: Option<String>,
    /// Column mappings.
    pub columns_lineage: Vec<ColumnLineage>,
    /// Where the lineage came from (OpenMetadata's LineageSource: Manual, QueryLineage, ...).
    pub source: String,
    /// FQN of the pipeline that moves the data, if any.
    pub pipeline: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Created at, ms since the epoch.
    pub created_at: Option<i64>,
    /// Created by.
    pub created_by: Option<String>,
    /// Last updated at, ms since the epoch.
    pub updated_at: Option<i64>,
    /// Last updated by.
    pub updated_by: Option<String>,
}

/// A node of a lineage answer.
#[derive(SimpleObject, Clone)]
pub struct LineageNode {
    /// The entity.
    pub entity: Entity,
    /// Hops from the root.
    pub depth: i32,
    /// Upstream or downstream of the root.
    pub direction: LineageDirection,
}

/// A lineage answer.
#[derive(SimpleObject, Clone)]
pub struct LineageResult {
    /// The start entity.
    pub root: Entity,
    /// Nodes of this page (nearest first, upstream before downstream).
    pub nodes: Vec<LineageNode>,
    /// Edges among the root and this page's nodes.
    pub edges: Vec<LineageEdge>,
    /// Nodes reached in all pages.
    pub total_nodes: i32,
    /// Cursor for the next page, if any.
    pub end_cursor: Option<String>,
    /// Whether another page follows.
    pub has_next_page: bool,
    /// The node budget cut the walk.
    pub truncated: bool,
    /// Nodes per depth upstream (index 0 = depth 1).
    pub upstream_counts: Vec<i32>,
    /// Nodes per depth downstream.
    pub downstream_counts: Vec<i32>,
}

/// A page of search hits.
#[derive(SimpleObject, Clone)]
pub struct SearchConnection {
    /// Hits in all pages.
    pub total: i32,
    /// This page, best first.
    pub nodes: Vec<Entity>,
    /// Cursor for the next page, if any.
    pub end_cursor: Option<String>,
    /// Whether another page follows.
    pub has_next_page: bool,
}

/// A column reached by column lineage.
#[derive(SimpleObject, Clone)]
pub struct ColumnNode {
    /// Column FQN.
    pub column: String,
    /// The entity that owns it.
    pub entity: Entity,
    /// Hops from the start column.
    pub depth: i32,
    /// Upstream or downstream.
    pub direction: LineageDirection,
}

/// One column-level edge.
#[derive(SimpleObject, Clone)]
pub struct ColumnEdge {
    /// Upstream column FQN.
    pub from_column: String,
    /// Downstream column FQN.
    pub to_column: String,
    /// The expression, if known.
    pub function: Option<String>,
    /// OpenLineage transformation type/subtype, if known.
    pub transformation: Option<String>,
}

/// Column lineage across tables.
#[derive(SimpleObject, Clone)]
pub struct ColumnLineageResult {
    /// The start column.
    pub column: String,
    /// Columns reached.
    pub columns: Vec<ColumnNode>,
    /// Column edges followed.
    pub edges: Vec<ColumnEdge>,
    /// The node budget cut the walk.
    pub truncated: bool,
}

/// How many entities of one type.
#[derive(SimpleObject, Clone)]
pub struct TypeCount {
    /// Entity type.
    pub entity_type: String,
    /// How many.
    pub count: i32,
}

/// Downstream entities at one depth.
#[derive(SimpleObject, Clone)]
pub struct DepthCount {
    /// Hops from the entity.
    pub depth: i32,
    /// Entities at this depth.
    pub count: i32,
    /// Split by type.
    pub by_type: Vec<TypeCount>,
}

/// What depends on an entity.
#[derive(SimpleObject, Clone)]
pub struct Impact {
    /// The entity.
    pub entity: Entity,
    /// Downstream entities in all.
    pub total: i32,
    /// By depth.
    pub by_depth: Vec<DepthCount>,
    /// By type.
    pub by_type: Vec<TypeCount>,
}

/// A table the SQL named that could not be resolved.
#[derive(SimpleObject, Clone)]
pub struct Unresolved {
    /// The table as written.
    pub table: String,
    /// Why.
    pub reason: String,
}

/// What `lineageFromSql` did.
#[derive(SimpleObject, Clone)]
pub struct SqlLineageResult {
    /// Statements analyzed.
    pub statements: i32,
    /// Edges written (or, in a dry run, that would be).
    pub edges: Vec<LineageEdge>,
    /// Tables that could not be resolved in the service.
    pub unresolved: Vec<Unresolved>,
    /// Analyzer diagnostics as `line:column: kind: message`.
    pub diagnostics: Vec<String>,
}

/// A column mapping to write.
#[derive(InputObject)]
pub struct ColumnLineageInput {
    /// Upstream column FQNs.
    pub from_columns: Vec<String>,
    /// Downstream column FQN.
    pub to_column: String,
    /// The expression.
    pub function: Option<String>,
}

/// An edge to add (or whose details to replace).
#[derive(InputObject)]
pub struct AddLineageInput {
    /// Upstream entity FQN.
    pub from_fqn: String,
    /// Upstream entity type.
    #[graphql(default = "table")]
    pub from_type: String,
    /// Downstream entity FQN.
    pub to_fqn: String,
    /// Downstream entity type.
    #[graphql(default = "table")]
    pub to_type: String,
    /// The SQL.
    pub sql_query: Option<String>,
    /// Column mappings.
    #[graphql(default)]
    pub columns_lineage: Vec<ColumnLineageInput>,
    /// LineageSource (default Manual).
    pub source: Option<String>,
    /// Free text.
    pub description: Option<String>,
}

fn cursor(offset: usize) -> String {
    crate::service::encode_cursor(&offset.to_string())
}

fn offset(after: Option<String>) -> R<usize> {
    match after {
        None => Ok(0),
        Some(c) => {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    graphql_error(ApiError::bad(format!(
                        "after: {c:?} is not a cursor this server issued"
                    )))
                })
        }
    }
}

fn page_size(first: i32, max: i32) -> R<usize> {
    if first < 0 || first > max {
        return Err(graphql_error(ApiError::bad(format!(
            "first must be between 0 and {max}"
        ))));
    }
    Ok(first as usize)
}

fn edge_out(
    e: &headwaters_engine::Edge,
    ents: &std::collections::HashMap<NodeId, Rec>,
    pipelines: &std::collections::HashMap<Uuid, Rec>,
) -> LineageEdge {
    let id = |n: NodeId| {
        ents.get(&n)
            .map(|x| (ID(x.id.to_string()), x.fqn.clone()))
            .unwrap_or_else(|| (ID(String::new()), String::new()))
    };
    let (from_id, from_fqn) = id(e.from);
    let (to_id, to_fqn) = id(e.to);
    LineageEdge {
        from_id,
        from_fqn,
        to_id,
        to_fqn,
        sql_query: e.sql_query.clone(),
        columns_lineage: e.columns_lineage.iter().map(ColumnLineage::from).collect(),
        source: e.source.as_str().to_string(),
        pipeline: e
            .pipeline
            .and_then(|p| pipelines.get(&p))
            .map(|p| p.fqn.clone()),
        description: e.description.clone(),
        created_at: (e.created_at != 0).then_some(e.created_at),
        created_by: e.created_by.clone(),
        updated_at: (e.updated_at != 0).then_some(e.updated_at),
        updated_by: e.updated_by.clone(),
    }
}

fn types_set(types: Option<Vec<String>>) -> R<EntityTypeSet> {
    Ok(match types {
        None => EntityTypeSet::ALL,
        Some(ts) => ts
            .iter()
            .map(|t| entity_type(t))
            .collect::<Result<EntityTypeSet, ApiError>>()
            .gql()?,
    })
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
        let svc = svc(ctx).gql()?;
        let view = svc.store.read();
        let node = match (fqn, id) {
            (Some(f), None) => view.node_by_fqn(entity_type(&r#type).gql()?, &f).gql()?,
            (None, Some(id)) => {
                let u = Uuid::parse_str(&id)
                    .map_err(|_| ApiError::bad(format!("id: {:?} is not a UUID", id.as_str())))
                    .gql()?;
                view.node_by_id(&u).gql()?
            }
            _ => {
                return Err(graphql_error(ApiError::bad(
                    "give exactly one of fqn and id",
                )));
            }
        };
        drop(view);
        Ok(match node {
            Some(n) => load(svc, &[n]).gql()?.pop(),
            None => None,
        })
    }

    /// Search names, FQNs, display names and descriptions (prefix match per word).
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words to match; empty matches everything.")] query: String,
        #[graphql(desc = "Only these entity types.")] types: Option<Vec<String>>,
        #[graphql(desc = "Page size (at most 100).", default = 10)] first: i32,
        #[graphql(desc = "Cursor from a previous page's endCursor.")] after: Option<String>,
    ) -> R<SearchConnection> {
        let svc = svc(ctx).gql()?;
        let from = offset(after).gql()?;
        let size = page_size(first, 100).gql()?;
        let types = types
            .unwrap_or_default()
            .iter()
            .map(|t| entity_type(t))
            .collect::<Result<Vec<_>, _>>()
            .gql()?;
        let hits = {
            let view = svc.store.read();
            svc.search.search(
                &view,
                &SearchQuery {
                    text: query,
                    types,
                    from,
                    size,
                    deleted: false,
                },
            )
        };
        let next = from + hits.nodes.len();
        Ok(SearchConnection {
            total: hits.total as i32,
            nodes: load(svc, &hits.nodes).gql()?,
            end_cursor: (next < hits.total).then(|| cursor(next)),
            has_next_page: next < hits.total,
        })
    }

    /// Lineage of an entity: nodes with depth and direction, edges with details.
    #[allow(clippy::too_many_arguments)]
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
        let svc = svc(ctx).gql()?;
        let max = svc.settings.max_depth;
        let d = check_depth("depth", Some(depth.max(0) as u32), 3, max).gql()?;
        let (up, down) = match direction {
            LineageDirection::Upstream => (d, 0),
            LineageDirection::Downstream => (0, d),
            LineageDirection::Both => (d, d),
        };
        let o = LineageOpts {
            up,
            down,
            include_deleted: false,
            types: types_set(entity_types).gql()?,
        };
        let g = svc
            .lineage_graph(entity_type(&r#type).gql()?, &Key::Fqn(fqn), &o)
            .gql()?;
        let from = offset(after).gql()?;
        let size = page_size(first, 10_000).gql()?;
        let all: Vec<(NodeId, u32, LineageDirection)> = g
            .visits_up
            .iter()
            .map(|(n, d)| (*n, *d, LineageDirection::Upstream))
            .chain(
                g.visits_down
                    .iter()
                    .map(|(n, d)| (*n, *d, LineageDirection::Downstream)),
            )
            .collect();
        let page: Vec<&(NodeId, u32, LineageDirection)> =
            all.iter().skip(from).take(size).collect();
        let mut keep: std::collections::HashSet<NodeId> = page.iter().map(|p| p.0).collect();
        keep.insert(g.root);
        let mut ids: Vec<NodeId> = keep.iter().copied().collect();
        ids.sort_unstable();
        let ents: std::collections::HashMap<NodeId, Entity> =
            ids.iter().copied().zip(load(svc, &ids).gql()?).collect();
        let next = from + page.len();
        Ok(LineageResult {
            root: ents[&g.root].clone(),
            nodes: page
                .iter()
                .map(|(n, d, dir)| LineageNode {
                    entity: ents[n].clone(),
                    depth: *d as i32,
                    direction: *dir,
                })
                .collect(),
            edges: g
                .upstream
                .iter()
                .chain(&g.downstream)
                .filter(|e| keep.contains(&e.from) && keep.contains(&e.to))
                .map(|e| edge_out(e, &g.entities, &g.pipelines))
                .collect(),
            total_nodes: all.len() as i32,
            end_cursor: (next < all.len()).then(|| cursor(next)),
            has_next_page: next < all.len(),
            truncated: g.truncated,
            upstream_counts: g.upstream_counts.iter().map(|c| *c as i32).collect(),
            downstream_counts: g.downstream_counts.iter().map(|c| *c as i32).collect(),
        })
    }

    /// Lineage of one column across tables.
    async fn column_lineage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Fully qualified name of the column.")] column_fqn: String,
        #[graphql(desc = "Which way to walk.", default_with = "LineageDirection::Both")] direction: LineageDirection,
        #[graphql(desc = "Levels to walk.", default = 5)] depth: i32,
    ) -> R<ColumnLineageResult> {
        let svc = svc(ctx).gql()?;
        let d = check_depth(
            "depth",
            Some(depth.max(0) as u32),
            5,
            svc.settings.max_depth,
        )
        .gql()?;
        let (up, down) = match direction {
            LineageDirection::Upstream => (d, 0),
            LineageDirection::Downstream => (0, d),
            LineageDirection::Both => (d, d),
        };
        let v = svc.column_lineage(&column_fqn, up, down).gql()?;
        let mut columns = Vec::new();
        let mut owners = Vec::new();
        let view = svc.store.read();
        for c in v["columns"].as_array().into_iter().flatten() {
            let id = Uuid::parse_str(c["table"]["id"].as_str().unwrap_or_default())
                .map_err(|e| ApiError::Internal(e.to_string()))
                .gql()?;
            owners.push(
                view.node_by_id(&id)
                    .gql()?
                    .ok_or_else(|| ApiError::Internal("column owner vanished".into()))
                    .gql()?,
            );
        }
        drop(view);
        let ents = load(svc, &owners).gql()?;
        for (c, e) in v["columns"].as_array().into_iter().flatten().zip(ents) {
            columns.push(ColumnNode {
                column: c["column"].as_str().unwrap_or_default().to_string(),
                entity: e,
                depth: c["depth"].as_i64().unwrap_or(0) as i32,
                direction: if c["direction"] == "upstream" {
                    LineageDirection::Upstream
                } else {
                    LineageDirection::Downstream
                },
            });
        }
        let s = |x: &Value| x.as_str().map(str::to_string);
        Ok(ColumnLineageResult {
            column: column_fqn,
            columns,
            edges: v["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| ColumnEdge {
                    from_column: s(&e["fromColumn"]).unwrap_or_default(),
                    to_column: s(&e["toColumn"]).unwrap_or_default(),
                    function: s(&e["function"]),
                    transformation: s(&e["transformation"]),
                })
                .collect(),
            truncated: v["truncated"].as_bool().unwrap_or(false),
        })
    }

    /// Everything downstream of an entity, counted by depth and type.
    async fn impact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Fully qualified name.")] fqn: String,
        #[graphql(desc = "Entity type.", default = "table")] r#type: String,
        #[graphql(desc = "Levels to walk; unbounded when absent.")] depth: Option<i32>,
    ) -> R<Impact> {
        let svc = svc(ctx).gql()?;
        let ty = entity_type(&r#type).gql()?;
        let v = svc
            .impact(ty, &Key::Fqn(fqn.clone()), depth.map(|d| d.max(0) as u32))
            .gql()?;
        let counts = |m: &Value| -> Vec<TypeCount> {
            m.as_object()
                .into_iter()
                .flatten()
                .map(|(k, c)| TypeCount {
                    entity_type: k.clone(),
                    count: c.as_i64().unwrap_or(0) as i32,
                })
                .collect()
        };
        let node = {
            let view = svc.store.read();
            svc.resolve(
                &view,
                ty,
                &Key::Fqn(fqn),
                headwaters_engine::Include::NonDeleted,
            )
            .gql()?
        };
        Ok(Impact {
            entity: load(svc, &[node]).gql()?.remove(0),
            total: v["total"].as_i64().unwrap_or(0) as i32,
            by_depth: v["byDepth"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| DepthCount {
                    depth: d["depth"].as_i64().unwrap_or(0) as i32,
                    count: d["count"].as_i64().unwrap_or(0) as i32,
                    by_type: counts(&d["byType"]),
                })
                .collect(),
            by_type: counts(&v["byType"]),
        })
    }

    /// Simple paths (lists of entities) from one entity to another, following lineage.
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
        let svc = svc(ctx).gql()?;
        let d = check_depth(
            "maxDepth",
            Some(max_depth.max(0) as u32),
            6,
            svc.settings.max_depth,
        )
        .gql()?;
        let paths = {
            let view = svc.store.read();
            let f = svc
                .resolve(
                    &view,
                    entity_type(&from_type).gql()?,
                    &Key::Fqn(from),
                    headwaters_engine::Include::NonDeleted,
                )
                .gql()?;
            let t = svc
                .resolve(
                    &view,
                    entity_type(&to_type).gql()?,
                    &Key::Fqn(to),
                    headwaters_engine::Include::NonDeleted,
                )
                .gql()?;
            view.paths(f, t, d, limit.clamp(0, 1000) as usize, &Query::depths(d, d))
                .gql()?
        };
        paths.iter().map(|p| load(svc, p)).collect()
    }
}

/// Mutations (editor role).
pub struct MutationRoot;

/// Writes (editor role): lineage edges, lineage from SQL.
#[allow(clippy::too_many_arguments)]
#[Object]
impl MutationRoot {
    /// Adds an edge, or replaces its details; column mappings naming missing columns
    /// are dropped (the rest kept).
    async fn add_lineage(&self, ctx: &Context<'_>, input: AddLineageInput) -> R<LineageEdge> {
        let actor = editor(ctx).gql()?;
        let svc = svc(ctx).gql()?;
        let (from, to) = {
            let view = svc.store.read();
            let f = svc
                .resolve(
                    &view,
                    entity_type(&input.from_type).gql()?,
                    &Key::Fqn(input.from_fqn.clone()),
                    headwaters_engine::Include::NonDeleted,
                )
                .gql()?;
            let t = svc
                .resolve(
                    &view,
                    entity_type(&input.to_type).gql()?,
                    &Key::Fqn(input.to_fqn.clone()),
                    headwaters_engine::Include::NonDeleted,
                )
                .gql()?;
            (view.entity(f).gql()?, view.entity(t).gql()?)
        };
        let req: AddLineage = serde_json::from_value(json!({"edge": {
            "fromEntity": {"id": from.id, "type": from.entity_type.as_str()},
            "toEntity": {"id": to.id, "type": to.entity_type.as_str()},
            "lineageDetails": {
                "sqlQuery": input.sql_query,
                "columnsLineage": input.columns_lineage.iter().map(|c| json!({"fromColumns": c.from_columns, "toColumn": c.to_column, "function": c.function})).collect::<Vec<_>>(),
                "source": input.source,
                "description": input.description,
            }}}))
        .map_err(|e| ApiError::bad(format!("input: {e}"))).gql()?;
        svc.add_lineage(req, &actor).gql()?;
        let view = svc.store.read();
        let e = view
            .edge(from.node, to.node)
            .gql()?
            .ok_or_else(|| ApiError::Internal("edge vanished".into()))
            .gql()?;
        let mut ents = std::collections::HashMap::new();
        ents.insert(from.node, from);
        ents.insert(to.node, to);
        let mut pipes = std::collections::HashMap::new();
        if let Some(p) = e.pipeline
            && let Some(n) = view.node_by_id(&p).gql()?
        {
            pipes.insert(p, view.entity(n).gql()?);
        }
        Ok(edge_out(&e, &ents, &pipes))
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
        editor(ctx).gql()?;
        let svc = svc(ctx).gql()?;
        match svc.delete_edge(
            (entity_type(&from_type).gql()?, Key::Fqn(from_fqn)),
            (entity_type(&to_type).gql()?, Key::Fqn(to_fqn)),
        ) {
            Ok(()) => Ok(true),
            Err(ApiError::NotFound(m)) if m == "Lineage edge not found" => Ok(false),
            Err(e) => Err(graphql_error(e)),
        }
    }

    /// Lineage from SQL, as `POST /api/v1/lineage/sql`.
    #[allow(clippy::too_many_arguments)]
    async fn lineage_from_sql(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The SQL (one or more statements).")] sql: String,
        #[graphql(desc = "Database service the tables belong to.")] service: String,
        #[graphql(desc = "Dialect (default generic).")] dialect: Option<String>,
        #[graphql(desc = "Database for names without one.")] default_database: Option<String>,
        #[graphql(desc = "Schema for names without one.")] default_schema: Option<String>,
        #[graphql(desc = "Analyze and resolve, write nothing.", default = false)] dry_run: bool,
    ) -> R<SqlLineageResult> {
        let actor = editor(ctx).gql()?;
        let svc = svc(ctx).gql()?;
        let v = svc
            .lineage_from_sql(
                &SqlRequest {
                    sql,
                    dialect,
                    service,
                    default_database,
                    default_schema,
                    dry_run,
                },
                &actor,
            )
            .gql()?;
        let s = |x: &Value| x.as_str().unwrap_or_default().to_string();
        Ok(SqlLineageResult {
            statements: v["statements"].as_i64().unwrap_or(0) as i32,
            edges: v["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| LineageEdge {
                    from_id: ID(s(&e["fromEntity"]["id"])),
                    from_fqn: s(&e["fromEntity"]["fullyQualifiedName"]),
                    to_id: ID(s(&e["toEntity"]["id"])),
                    to_fqn: s(&e["toEntity"]["fullyQualifiedName"]),
                    sql_query: None,
                    columns_lineage: serde_json::from_value::<Vec<ColumnMapping>>(
                        e["columnsLineage"].clone(),
                    )
                    .unwrap_or_default()
                    .iter()
                    .map(ColumnLineage::from)
                    .collect(),
                    source: "QueryLineage".into(),
                    pipeline: None,
                    description: None,
                    created_at: None,
                    created_by: None,
                    updated_at: None,
                    updated_by: None,
                })
                .collect(),
            unresolved: v["unresolved"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|u| Unresolved {
                    table: s(&u["table"]),
                    reason: s(&u["reason"]),
                })
                .collect(),
            diagnostics: v["diagnostics"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    format!(
                        "{}:{}: {}: {}",
                        d["line"],
                        d["column"],
                        s(&d["kind"]),
                        s(&d["message"])
                    )
                })
                .collect(),
        })
    }
}

/// The SDL of the schema (what `server/schema.graphql` must hold).
pub fn sdl() -> String {
    schema().sdl()
}

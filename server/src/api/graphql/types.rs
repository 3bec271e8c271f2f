//! The GraphQL object and input types. Every type and field carries a description (the
//! explorer shows them); entities are built from the domain's typed [`EntityView`].

use std::collections::HashMap;

use async_graphql::{Enum, ID, InputObject, Interface, SimpleObject};
use headwaters_engine::{ColumnMapping, Entity as Rec, EntityType, NodeId};
use uuid::Uuid;

use crate::domain::lineage::Side;
use crate::domain::{ColumnInfo, Document, EntityView};

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

impl From<ColumnInfo> for Column {
    fn from(c: ColumnInfo) -> Self {
        Column {
            name: c.name,
            fully_qualified_name: c.fully_qualified_name,
            data_type: c.data_type,
            description: c.description,
            children: c.children.into_iter().map(Column::from).collect(),
        }
    }
}

fn columns_of(d: &Document) -> Vec<Column> {
    d.columns().into_iter().map(Column::from).collect()
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
                fn build(e: &Rec, doc: &Document) -> Self {
                    $name {
                        id: ID(e.id.to_string()),
                        entity_type: e.entity_type.as_str().to_string(),
                        name: e.name.clone(),
                        fully_qualified_name: e.fqn.clone(),
                        display_name: doc.display_name().map(str::to_string),
                        description: doc.description().map(str::to_string),
                        deleted: e.deleted,
                        service: doc.service_name().map(str::to_string),
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
        table_type: Option<String> = |d: &Document| d.table_type().map(str::to_string), "OpenMetadata table type (Regular, View, ...)."
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
    /// The GraphQL object of a domain entity view.
    pub fn of(v: &EntityView) -> Entity {
        let (e, doc) = (&v.record, &v.document);
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

impl From<Side> for LineageDirection {
    fn from(s: Side) -> Self {
        match s {
            Side::Upstream => LineageDirection::Upstream,
            Side::Downstream => LineageDirection::Downstream,
        }
    }
}

impl LineageDirection {
    /// (upstream, downstream) depths for a walk of `d` levels this way.
    pub fn depths(self, d: u32) -> (u32, u32) {
        match self {
            LineageDirection::Upstream => (d, 0),
            LineageDirection::Downstream => (0, d),
            LineageDirection::Both => (d, d),
        }
    }
}

impl LineageEdge {
    /// An edge, its ends' records and the pipelines its details may name.
    pub fn of<E: std::borrow::Borrow<Rec>>(
        e: &headwaters_engine::Edge,
        ents: &HashMap<NodeId, E>,
        pipelines: &HashMap<Uuid, Rec>,
    ) -> LineageEdge {
        let end = |n: NodeId| {
            ents.get(&n)
                .map(|x| x.borrow())
                .map(|x| (ID(x.id.to_string()), x.fqn.clone()))
                .unwrap_or_else(|| (ID(String::new()), String::new()))
        };
        let (from_id, from_fqn) = end(e.from);
        let (to_id, to_fqn) = end(e.to);
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
}

/// Counts by type name, in name order.
pub fn type_counts(m: &std::collections::BTreeMap<&'static str, usize>) -> Vec<TypeCount> {
    m.iter()
        .map(|(t, c)| TypeCount {
            entity_type: t.to_string(),
            count: *c as i32,
        })
        .collect()
}

/// Type names to a set (all types when absent).
pub fn types_set(
    types: Option<Vec<String>>,
) -> crate::domain::Result<headwaters_engine::EntityTypeSet> {
    Ok(match types {
        None => headwaters_engine::EntityTypeSet::ALL,
        Some(ts) => ts
            .iter()
            .map(|t| crate::domain::lineage::entity_type(t))
            .collect::<crate::domain::Result<_>>()?,
    })
}

/// Type names to a list (empty: all).
pub fn types_list(types: Option<Vec<String>>) -> crate::domain::Result<Vec<EntityType>> {
    types
        .unwrap_or_default()
        .iter()
        .map(|t| crate::domain::lineage::entity_type(t))
        .collect()
}

impl LineageEdge {
    /// An edge as the domain hands it out after a write.
    pub fn of_view(v: &crate::domain::lineage::EdgeView) -> LineageEdge {
        let ents: HashMap<NodeId, Rec> = [v.from.clone(), v.to.clone()]
            .into_iter()
            .map(|e| (e.node, e))
            .collect();
        let pipes: HashMap<Uuid, Rec> = v.pipeline.iter().map(|p| (p.id, p.clone())).collect();
        LineageEdge::of(&v.edge, &ents, &pipes)
    }
}

//! Records the engine stores and returns: entities, edges and their details.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{ColumnId, EntityType, LineageSource, NodeId};
use crate::util::SplitMix64;

/// An entity to create or update (keyed by its UUID).
#[derive(Clone, Debug, PartialEq)]
pub struct EntityInput {
    /// Stable identity.
    pub id: Uuid,
    /// Type; cannot change once created.
    pub entity_type: EntityType,
    /// Fully qualified name, unique per type.
    pub fqn: String,
    /// Short name.
    pub name: String,
    /// Column names (nested children as `parent.child`); a column's FQN is the
    /// entity's FQN, a dot, and this name. Used to validate column lineage.
    pub columns: Vec<String>,
    /// Opaque document, stored as given; its shape belongs to the server.
    pub doc: serde_json::Value,
}

/// A stored entity, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    /// Dense id.
    pub node: NodeId,
    /// Stable identity.
    pub id: Uuid,
    /// Type.
    pub entity_type: EntityType,
    /// Fully qualified name.
    pub fqn: String,
    /// Short name.
    pub name: String,
    /// Soft-deleted: hidden from traversals by default, restorable.
    pub deleted: bool,
    /// Columns with their ids, in the order given.
    pub columns: Vec<(String, ColumnId)>,
}

/// JSON part of a `node_entity` value (type and flags are the binary header).
#[derive(Serialize, Deserialize)]
pub(crate) struct EntityHeader {
    pub(crate) id: Uuid,
    pub(crate) fqn: String,
    pub(crate) name: String,
    pub(crate) columns: Vec<(String, u32)>,
}

/// One column mapping of an edge, by column FQN (as OpenMetadata's `columnsLineage`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnMapping {
    /// Column FQNs of the upstream entity.
    pub from_columns: Vec<String>,
    /// Column FQN of the downstream entity.
    pub to_column: String,
    /// The transformation, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// OpenLineage's transformation type and subtype (`DIRECT/AGGREGATION`,
    /// `INDIRECT/JOIN`, ...), if known. Not part of OpenMetadata's `ColumnLineage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation: Option<String>,
}

/// Details to attach to an edge; replaces what the edge had.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EdgeInput {
    /// The SQL the lineage came from.
    pub sql_query: Option<String>,
    /// Column mappings; each column must belong to the edge's own endpoints.
    pub columns_lineage: Vec<ColumnMapping>,
    /// The pipeline that moves the data (must be an existing entity).
    pub pipeline: Option<Uuid>,
    /// Free text.
    pub description: Option<String>,
    /// Where this lineage came from.
    pub source: LineageSource,
    /// Who makes the change.
    pub actor: Option<String>,
    /// When, in milliseconds since the epoch; `None` means now.
    pub at_millis: Option<i64>,
}

/// A column reference the engine refused, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedColumn {
    /// The FQN as given.
    pub column: String,
    /// Which side it was on and what is wrong.
    pub reason: String,
}

/// What [`crate::Store::put_edge`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutEdgeOutcome {
    /// The edge did not exist before.
    pub created: bool,
    /// Column references that were dropped (the rest of each mapping was kept).
    pub rejected_columns: Vec<RejectedColumn>,
}

/// Stored edge details: column mappings by ColumnId so renames never leave them stale.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sql: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) cols: Vec<StoredMapping>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pipeline: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) desc: Option<String>,
    #[serde(default)]
    pub(crate) source: u8,
    #[serde(default)]
    pub(crate) created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_by: Option<String>,
    #[serde(default)]
    pub(crate) updated_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) updated_by: Option<String>,
}

/// A stored column mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredMapping {
    pub(crate) from: Vec<u32>,
    pub(crate) to: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) func: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tr: Option<String>,
}

impl StoredDetails {
    /// The column edges these details imply, as (from, to) pairs.
    pub(crate) fn column_edges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.cols
            .iter()
            .flat_map(|m| m.from.iter().map(move |f| (*f, m.to)))
    }
}

/// An edge with its details, column mappings rendered as FQNs.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// Upstream end.
    pub from: NodeId,
    /// Downstream end.
    pub to: NodeId,
    /// The SQL the lineage came from.
    pub sql_query: Option<String>,
    /// Column mappings (columns since removed from their entity are left out).
    pub columns_lineage: Vec<ColumnMapping>,
    /// The pipeline, if it still exists.
    pub pipeline: Option<Uuid>,
    /// Free text.
    pub description: Option<String>,
    /// Where the lineage came from.
    pub source: LineageSource,
    /// Created at, ms since the epoch.
    pub created_at: i64,
    /// Created by.
    pub created_by: Option<String>,
    /// Last updated at, ms since the epoch.
    pub updated_at: i64,
    /// Last updated by.
    pub updated_by: Option<String>,
}

/// Random (version 4) UUIDs for bulk loads, from a fast generator seeded once from the
/// operating system, instead of one system call per UUID.
pub(crate) struct UuidSource(SplitMix64);

impl UuidSource {
    pub(crate) fn new() -> Self {
        UuidSource(SplitMix64::new(Uuid::new_v4().as_u64_pair().0))
    }

    pub(crate) fn next(&mut self) -> Uuid {
        let mut half = || self.0.next_u64();
        let bytes = ((half() as u128) << 64 | half() as u128).to_be_bytes();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

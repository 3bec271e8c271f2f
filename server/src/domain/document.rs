//! An entity as the domain hands it out: the engine's record plus its stored document,
//! whose OpenMetadata fields are read through typed accessors, so no caller indexes
//! JSON by string.

use headwaters_engine::{Entity, NodeId, ReadView};
use serde_json::Value;

use super::error::Result;
use super::service::Service;

/// An entity's stored OpenMetadata document (without `href`s).
#[derive(Clone, Debug, PartialEq)]
pub struct Document(Value);

/// A column of a table or data model, from its document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Fully qualified name.
    pub fully_qualified_name: String,
    /// OpenMetadata data type (`UNKNOWN` when the document has none).
    pub data_type: String,
    /// Free text.
    pub description: Option<String>,
    /// Nested columns of a STRUCT/MAP/ARRAY.
    pub children: Vec<ColumnInfo>,
}

impl Document {
    /// Wraps a stored document.
    pub fn new(v: Value) -> Self {
        Document(v)
    }

    /// The document as JSON (REST answers it as is, with `href`s added).
    pub fn into_json(self) -> Value {
        self.0
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    /// `displayName`.
    pub fn display_name(&self) -> Option<&str> {
        self.str_field("displayName")
    }

    /// `description`.
    pub fn description(&self) -> Option<&str> {
        self.str_field("description")
    }

    /// The name of the service the entity belongs to (`service.name`).
    pub fn service_name(&self) -> Option<&str> {
        self.0
            .get("service")
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
    }

    /// `tableType` (tables).
    pub fn table_type(&self) -> Option<&str> {
        self.str_field("tableType")
    }

    /// `columns`, nested children included.
    pub fn columns(&self) -> Vec<ColumnInfo> {
        column_list(&self.0, "columns")
    }
}

/// The column list at `key` of `v` (`columns` of a document, `children` of a column).
fn column_list(v: &Value, key: &str) -> Vec<ColumnInfo> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let s = |k: &str| c.get(k).and_then(Value::as_str);
            ColumnInfo {
                name: s("name").unwrap_or_default().to_string(),
                fully_qualified_name: s("fullyQualifiedName").unwrap_or_default().to_string(),
                data_type: s("dataType").unwrap_or("UNKNOWN").to_string(),
                description: s("description").map(str::to_string),
                children: column_list(c, "children"),
            }
        })
        .collect()
}

/// An entity: the engine's record (id, type, FQN, name, deleted, columns) and its
/// document.
#[derive(Clone, Debug)]
pub struct EntityView {
    /// The engine's record.
    pub record: Entity,
    /// The stored document, `deleted` brought up to date.
    pub document: Document,
}

impl Service {
    /// The views of `nodes`, in order, from one read view.
    pub(crate) fn views(&self, view: &ReadView<'_>, nodes: &[NodeId]) -> Result<Vec<EntityView>> {
        let records = view.entities(nodes)?;
        records
            .into_iter()
            .map(|record| {
                let document = Document::new(self.document(view, record.node)?);
                Ok(EntityView { record, document })
            })
            .collect()
    }
}

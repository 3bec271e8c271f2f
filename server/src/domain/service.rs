//! The [`Service`]: the store, the search index and the settings every domain
//! operation works on, and the vocabulary the operations share (how an entity is
//! named, who acts, list parameters).

use std::sync::Mutex;

use headwaters_engine::{EntityType, Include, NodeId, ReadView, Store};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::domain::error::{Error, Result};
use crate::domain::fqn;
use crate::domain::kinds::Kind;
use crate::domain::search::SearchIndex;

/// Tunables the domain operations need.
#[derive(Clone, Debug)]
pub struct Settings {
    /// OpenMetadata API level reported by `/system/version`.
    pub openmetadata_version: String,
    /// Deepest lineage query allowed.
    pub max_depth: u32,
    /// Most nodes one lineage answer returns per direction (`truncated` beyond).
    pub node_budget: usize,
    /// OpenLineage namespace -> service name (unmapped namespaces get a service
    /// named after them).
    pub openlineage_namespaces: std::collections::BTreeMap<String, String>,
    /// OpenLineage runs kept per job.
    pub run_retention: usize,
    /// Seals connection secrets at rest and opens or masks them in answers.
    pub secrets: std::sync::Arc<crate::domain::secrets::Secrets>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            openmetadata_version: "1.11.14".into(),
            max_depth: 50,
            node_budget: 10_000,
            openlineage_namespaces: Default::default(),
            run_retention: 1000,
            secrets: std::sync::Arc::new(crate::domain::secrets::Secrets::ephemeral(true)),
        }
    }
}

/// The lineage service: the store, the search index and the settings.
pub struct Service {
    /// The graph store.
    pub store: Store,
    /// Names, FQNs and descriptions, searchable.
    pub search: SearchIndex,
    /// Tunables.
    pub settings: Settings,
    /// Serialises read-modify-write of entity documents and edge patches.
    doc_lock: Mutex<()>,
}

/// Who is making a change.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Actor(pub String);

/// How an entity is named in a request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Key {
    /// By UUID.
    Id(Uuid),
    /// By fully qualified name.
    Fqn(String),
}

/// Create (`POST`, 409 if it exists) or create-or-update (`PUT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// POST.
    Create,
    /// PUT.
    Upsert,
}

/// List parameters.
#[derive(Clone, Debug, Default)]
pub struct ListParams {
    /// Page size.
    pub limit: usize,
    /// Cursor: entries after this one.
    pub after: Option<String>,
    /// Cursor: entries before this one.
    pub before: Option<String>,
    /// FQN prefix (a parent filter such as `database=`).
    pub parent: Option<String>,
    /// Deleted filter.
    pub include: Include,
}

/// Parses OpenMetadata's `include` parameter.
pub fn parse_include(s: Option<&str>) -> Result<Include> {
    match s.unwrap_or("non-deleted") {
        "non-deleted" => Ok(Include::NonDeleted),
        "deleted" => Ok(Include::Deleted),
        "all" => Ok(Include::All),
        other => Err(Error::invalid(format!(
            "parameter include={other:?} must be one of non-deleted, deleted, all"
        ))),
    }
}

/// Cursor encoding: the FQN, base64url so it survives a query string untouched.
pub fn encode_cursor(fqn: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(fqn)
}

pub(crate) fn decode_cursor(name: &str, c: &str) -> Result<String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim_end_matches('='))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| Error::invalid(format!("parameter {name}: not a cursor this server issued")))
}

impl Service {
    /// A service over `store`; builds the search index from what the store holds.
    pub fn new(store: Store, settings: Settings) -> Result<Service> {
        let search = SearchIndex::default();
        search.rebuild(&store.read())?;
        Ok(Service {
            store,
            search,
            settings,
            doc_lock: Mutex::new(()),
        })
    }

    pub(crate) fn lock_docs(&self) -> std::sync::MutexGuard<'_, ()> {
        self.doc_lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Resolves a key to a node of `ty`; 404 when absent, of another type, or (unless
    /// `include` admits it) soft-deleted.
    pub fn resolve(
        &self,
        view: &ReadView<'_>,
        ty: EntityType,
        key: &Key,
        include: Include,
    ) -> Result<NodeId> {
        let node = match key {
            Key::Id(id) => view
                .node_by_id(id)?
                .filter(|n| view.entity_type(*n) == Some(ty)),
            Key::Fqn(f) => view.node_by_fqn(ty, f)?,
        };
        let node = node.filter(|n| match include {
            Include::NonDeleted => !view.is_deleted(*n),
            Include::Deleted => view.is_deleted(*n),
            Include::All => true,
        });
        node.ok_or_else(|| {
            Error::not_found(match key {
                Key::Id(id) => format!("{ty} instance for {id} not found"),
                Key::Fqn(f) => format!("{ty} instance for {f} not found"),
            })
        })
    }

    /// The stored document of a node with its `deleted` flag brought up to date.
    pub fn document(&self, view: &ReadView<'_>, node: NodeId) -> Result<Value> {
        let mut doc = view.document(node)?;
        if doc.is_null() {
            // Bulk-loaded entities carry no document: answer the minimal valid one.
            let e = view.entity(node)?;
            let mut m = Map::new();
            m.insert("id".into(), json!(e.id));
            m.insert("name".into(), json!(e.name));
            m.insert("fullyQualifiedName".into(), json!(e.fqn));
            if Kind::of(e.entity_type).has_columns || !e.columns.is_empty() {
                let cols: Vec<Value> = e
                    .columns
                    .iter()
                    .map(|(c, _)| {
                        json!({
                            "name": fqn::split(c).pop().unwrap_or_default(),
                            "dataType": "UNKNOWN",
                            "fullyQualifiedName": format!("{}.{c}", e.fqn),
                        })
                    })
                    .collect();
                m.insert("columns".into(), Value::Array(cols));
            }
            m.insert("version".into(), json!(0.1));
            doc = Value::Object(m);
        }
        if let Value::Object(m) = &mut doc {
            m.insert("deleted".into(), Value::Bool(view.is_deleted(node)));
        }
        Ok(doc)
    }

    /// Entity, edge and column counts of the graph.
    pub fn stats(&self) -> headwaters_engine::Stats {
        self.store.read().stats()
    }

    /// GET one entity.
    pub fn get_entity(&self, kind: &Kind, key: &Key, include: Include) -> Result<Value> {
        let view = self.store.read();
        let node = self.resolve(&view, kind.ty, key, include)?;
        self.document(&view, node)
    }

    /// A reference to a node: `{id, type, name, fullyQualifiedName, deleted}`.
    pub fn reference(view: &ReadView<'_>, node: NodeId) -> Result<Value> {
        Ok(reference_json(&view.entity(node)?))
    }
}

/// OpenMetadata's `EntityReference` of an entity (without `href`, which the REST layer
/// adds).
pub fn reference_json(e: &headwaters_engine::Entity) -> Value {
    json!({
        "id": e.id,
        "type": e.entity_type.as_str(),
        "name": e.name,
        "fullyQualifiedName": e.fqn,
        "deleted": e.deleted,
    })
}

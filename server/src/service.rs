//! The service layer: the domain operations REST (and later GraphQL) call.
//!
//! Handlers parse, authorise, call one of these and shape the answer; the logic lives
//! here once. Entity documents are stored in the engine as OpenMetadata-shaped JSON
//! without `href`s (those depend on the address the client used and are added by the
//! REST layer, see [`crate::rest::with_hrefs`]).

use std::sync::Mutex;

use headwaters_engine::{EntityInput, EntityType, Include, NodeId, ReadView, Store};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::fqn;
use crate::kinds::{COLUMN_FIELDS, DATA_TYPES, Kind, TABLE_TYPES};
use crate::search::SearchIndex;

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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            openmetadata_version: "1.11.14".into(),
            max_depth: 50,
            node_budget: 10_000,
            openlineage_namespaces: Default::default(),
            run_retention: 1000,
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
#[derive(Clone, Debug)]
pub struct Actor(pub String);

/// How an entity is named in a request.
#[derive(Clone, Debug)]
pub enum Key {
    /// By UUID.
    Id(Uuid),
    /// By fully qualified name.
    Fqn(String),
}

/// Create (`POST`, 409 if it exists) or create-or-update (`PUT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
pub fn parse_include(s: Option<&str>) -> ApiResult<Include> {
    match s.unwrap_or("non-deleted") {
        "non-deleted" => Ok(Include::NonDeleted),
        "deleted" => Ok(Include::Deleted),
        "all" => Ok(Include::All),
        other => Err(ApiError::bad(format!(
            "parameter include={other:?} must be one of non-deleted, deleted, all"
        ))),
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Cursor encoding: the FQN, base64url so it survives a query string untouched.
pub fn encode_cursor(fqn: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(fqn)
}

fn decode_cursor(name: &str, c: &str) -> ApiResult<String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim_end_matches('='))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::bad(format!("parameter {name}: not a cursor this server issued")))
}

impl Service {
    /// A service over `store`; builds the search index from what the store holds.
    pub fn new(store: Store, settings: Settings) -> ApiResult<Service> {
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
    ) -> ApiResult<NodeId> {
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
            ApiError::not_found(match key {
                Key::Id(id) => format!("{ty} instance for {id} not found"),
                Key::Fqn(f) => format!("{ty} instance for {f} not found"),
            })
        })
    }

    /// The stored document of a node with its `deleted` flag brought up to date.
    pub fn document(&self, view: &ReadView<'_>, node: NodeId) -> ApiResult<Value> {
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

    /// GET one entity.
    pub fn get_entity(&self, kind: &Kind, key: &Key, include: Include) -> ApiResult<Value> {
        let view = self.store.read();
        let node = self.resolve(&view, kind.ty, key, include)?;
        self.document(&view, node)
    }

    /// A reference to a node: `{id, type, name, fullyQualifiedName, deleted}`.
    pub fn reference(view: &ReadView<'_>, node: NodeId) -> ApiResult<Value> {
        Ok(reference_json(&view.entity(node)?))
    }

    /// PUT / POST an entity from its OpenMetadata create request.
    pub fn put_entity(
        &self,
        kind: &Kind,
        body: Value,
        actor: &Actor,
        mode: Mode,
    ) -> ApiResult<(Value, bool)> {
        let Value::Object(body) = body else {
            return Err(ApiError::bad("request body must be a JSON object"));
        };
        let name = match body.get("name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return Err(ApiError::bad("field name: must be a non-empty string")),
            None => return Err(ApiError::bad("field name is required")),
        };
        for req in kind.required {
            if body.get(*req).is_none_or(Value::is_null) {
                return Err(ApiError::bad(format!("field {req} is required")));
            }
        }
        let parent_field = kind.parent.map(|(f, _)| f);
        let mut given = Map::new();
        for (k, v) in &body {
            if k == "name" || Some(k.as_str()) == parent_field {
                continue;
            }
            if kind.fields.contains(&k.as_str()) {
                if !v.is_null() {
                    given.insert(k.clone(), v.clone());
                }
            } else if !kind.ignores(k) {
                return Err(ApiError::bad(format!(
                    "field {k}: not a field of a {} create request",
                    kind.ty
                )));
            }
        }
        if let Some(Value::String(t)) = given.get("tableType")
            && !TABLE_TYPES.contains(&t.as_str())
        {
            return Err(ApiError::bad(format!(
                "field tableType: {t:?} is not one of {}",
                TABLE_TYPES.join(", ")
            )));
        }

        let _guard = self.lock_docs();
        let view = self.store.read();
        // The parent and the references a child carries (service, database, schema).
        let mut refs = Map::new();
        let parent_fqn = match kind.parent {
            None => None,
            Some((field, pty)) => {
                let pfqn = match body.get(field) {
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    Some(Value::Object(o)) => match (o.get("fullyQualifiedName"), o.get("id")) {
                        (Some(Value::String(s)), _) => s.clone(),
                        (_, Some(Value::String(id))) => {
                            let id = Uuid::parse_str(id).map_err(|_| {
                                ApiError::bad(format!("field {field}.id: not a UUID"))
                            })?;
                            let n = self.resolve(&view, pty, &Key::Id(id), Include::NonDeleted)?;
                            view.entity(n)?.fqn
                        }
                        _ => {
                            return Err(ApiError::bad(format!(
                                "field {field}: expected the {pty}'s fully qualified name"
                            )));
                        }
                    },
                    None | Some(Value::Null) => {
                        return Err(ApiError::bad(format!("field {field} is required")));
                    }
                    Some(_) => {
                        return Err(ApiError::bad(format!(
                            "field {field}: expected the {pty}'s fully qualified name"
                        )));
                    }
                };
                let pnode = view
                    .node_by_fqn(pty, &pfqn)?
                    .filter(|n| !view.is_deleted(*n))
                    .ok_or_else(|| {
                        ApiError::not_found(format!("{pty} instance for {pfqn} not found"))
                    })?;
                let pdoc = view.document(pnode)?;
                for inherited in ["service", "database", "databaseSchema", "apiCollection"] {
                    if let Some(r) = pdoc.get(inherited) {
                        refs.insert(inherited.into(), r.clone());
                    }
                }
                if let Some(st) = pdoc.get("serviceType") {
                    refs.insert("serviceType".into(), st.clone());
                }
                let pref = Self::reference(&view, pnode)?;
                let pref_field = if Kind::of(pty).is_service() {
                    "service"
                } else {
                    pty.as_str()
                };
                refs.insert(pref_field.into(), pref);
                Some(pfqn)
            }
        };
        let full_name = fqn::build(parent_fqn.as_deref(), &name)?;
        let existing = view.node_by_fqn(kind.ty, &full_name)?;
        if mode == Mode::Create && existing.is_some() {
            return Err(ApiError::Conflict(format!(
                "{} {full_name} already exists",
                kind.ty
            )));
        }
        let (id, mut doc, old_doc) = match existing {
            Some(n) => {
                let old = view.document(n)?;
                let id = view.entity(n)?.id;
                let Value::Object(m) = old.clone() else {
                    return Err(ApiError::Internal(format!(
                        "document of {id} is not an object"
                    )));
                };
                (id, m, Some(old))
            }
            None => (Uuid::new_v4(), Map::new(), None),
        };
        drop(view);
        doc.insert("id".into(), json!(id));
        doc.insert("name".into(), json!(name));
        doc.insert("fullyQualifiedName".into(), json!(full_name));
        for (k, v) in given {
            doc.insert(k, v);
        }
        for (k, v) in refs {
            doc.insert(k, v);
        }
        let columns = if kind.has_columns {
            prepare_columns(&mut doc, &full_name)?
        } else {
            Vec::new()
        };
        // OpenMetadata stores a connection with its defaults filled in; clients rely on
        // `connection.config.type` (the service type) being there.
        if let (Some(st), Some(Value::Object(config))) = (
            doc.get("serviceType").cloned(),
            doc.get_mut("connection").and_then(|c| c.get_mut("config")),
        ) && kind.is_service()
        {
            config.entry("type").or_insert(st);
        }
        doc.insert("deleted".into(), Value::Bool(false));
        let changed = old_doc.as_ref().is_none_or(|o| {
            let mut a = o.clone();
            let mut b = Value::Object(doc.clone());
            for v in [&mut a, &mut b] {
                if let Value::Object(m) = v {
                    for k in ["version", "updatedAt", "updatedBy", "deleted"] {
                        m.remove(k);
                    }
                }
            }
            a != b || o.get("deleted") == Some(&Value::Bool(true))
        });
        let version = match &old_doc {
            None => 0.1,
            Some(o) => {
                let v = o.get("version").and_then(Value::as_f64).unwrap_or(0.1);
                if changed {
                    ((v + 0.1) * 10.0).round() / 10.0
                } else {
                    v
                }
            }
        };
        doc.insert("version".into(), json!(version));
        if changed {
            doc.insert("updatedAt".into(), json!(now_millis()));
            doc.insert("updatedBy".into(), json!(actor.0));
        }
        let doc = Value::Object(doc);
        let (node, created) = self.store.upsert_entity(EntityInput {
            id,
            entity_type: kind.ty,
            fqn: full_name,
            name,
            columns,
            doc: doc.clone(),
        })?;
        if !created {
            self.store.set_deleted(node, false)?;
        }
        self.search.upsert(node, kind.ty, &doc);
        Ok((doc, created))
    }

    /// A page of entities of one kind: `{"data": [...], "paging": {...}}`.
    pub fn list_entities(&self, kind: &Kind, p: &ListParams) -> ApiResult<Value> {
        if p.after.is_some() && p.before.is_some() {
            return Err(ApiError::bad(
                "parameters before and after cannot be used together",
            ));
        }
        let prefix = p
            .parent
            .as_ref()
            .map(|f| format!("{f}."))
            .unwrap_or_default();
        let view = self.store.read();
        let after = p
            .after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?;
        let before = p
            .before
            .as_deref()
            .map(|c| decode_cursor("before", c))
            .transpose()?;
        let total = view.count(kind.ty, &prefix, p.include)?;
        let (page, has_prev, has_next) = if let Some(b) = &before {
            let mut rows = view.list(kind.ty, &prefix, Some(b), true, p.limit + 1, p.include)?;
            let more = rows.len() > p.limit;
            rows.truncate(p.limit);
            rows.reverse();
            (rows, more, true)
        } else {
            let mut rows = view.list(
                kind.ty,
                &prefix,
                after.as_deref(),
                false,
                p.limit + 1,
                p.include,
            )?;
            let more = rows.len() > p.limit;
            rows.truncate(p.limit);
            (rows, after.is_some(), more)
        };
        let mut data = Vec::with_capacity(page.len());
        for (_, n) in &page {
            data.push(self.document(&view, *n)?);
        }
        let mut paging = Map::new();
        if has_prev && let Some((f, _)) = page.first() {
            paging.insert("before".into(), json!(encode_cursor(f)));
        }
        if has_next && let Some((f, _)) = page.last() {
            paging.insert("after".into(), json!(encode_cursor(f)));
        }
        paging.insert("total".into(), json!(total));
        Ok(json!({"data": data, "paging": paging}))
    }

    /// PATCH an entity with an RFC 6902 JSON Patch.
    pub fn patch_entity(
        &self,
        kind: &Kind,
        key: &Key,
        patch: &json_patch::Patch,
        actor: &Actor,
    ) -> ApiResult<Value> {
        let _guard = self.lock_docs();
        let view = self.store.read();
        let node = self.resolve(&view, kind.ty, key, Include::NonDeleted)?;
        let old = self.document(&view, node)?;
        let entity = view.entity(node)?;
        drop(view);
        let mut doc = old.clone();
        json_patch::patch(&mut doc, patch)
            .map_err(|e| ApiError::bad(format!("JSON Patch cannot be applied: {e}")))?;
        let Value::Object(mut m) = doc else {
            return Err(ApiError::bad("JSON Patch must leave an object"));
        };
        for fixed in [
            "id",
            "name",
            "fullyQualifiedName",
            "service",
            "database",
            "databaseSchema",
            "deleted",
        ] {
            if m.get(fixed) != old.get(fixed) {
                return Err(ApiError::bad(format!(
                    "field {fixed} cannot be changed by PATCH"
                )));
            }
        }
        let allowed = |k: &str| {
            kind.fields.contains(&k)
                || matches!(
                    k,
                    "id" | "name"
                        | "fullyQualifiedName"
                        | "version"
                        | "updatedAt"
                        | "updatedBy"
                        | "deleted"
                        | "service"
                        | "serviceType"
                        | "database"
                        | "databaseSchema"
                        | "apiCollection"
                        | "followers"
                        | "votes"
                )
        };
        if let Some(k) = m.keys().find(|k| !allowed(k)) {
            return Err(ApiError::bad(format!(
                "field {k}: not a field Headwaters keeps on a {}",
                kind.ty
            )));
        }
        let columns = if kind.has_columns {
            prepare_columns(&mut m, &entity.fqn)?
        } else {
            Vec::new()
        };
        if Value::Object(m.clone()) != old {
            let v = old.get("version").and_then(Value::as_f64).unwrap_or(0.1);
            m.insert("version".into(), json!(((v + 0.1) * 10.0).round() / 10.0));
            m.insert("updatedAt".into(), json!(now_millis()));
            m.insert("updatedBy".into(), json!(actor.0));
        }
        let doc = Value::Object(m);
        self.store.upsert_entity(EntityInput {
            id: entity.id,
            entity_type: kind.ty,
            fqn: entity.fqn,
            name: entity.name,
            columns,
            doc: doc.clone(),
        })?;
        self.search.upsert(node, kind.ty, &doc);
        Ok(doc)
    }

    /// DELETE an entity: soft by default, `hard` for good; `recursive` takes the
    /// children (databases of a service, ...) along, otherwise a parent with children
    /// is refused.
    pub fn delete_entity(
        &self,
        kind: &Kind,
        key: &Key,
        hard: bool,
        recursive: bool,
    ) -> ApiResult<Value> {
        let _guard = self.lock_docs();
        let view = self.store.read();
        let include = if hard {
            Include::All
        } else {
            Include::NonDeleted
        };
        let node = self.resolve(&view, kind.ty, key, include)?;
        let doc = self.document(&view, node)?;
        let fqn = view.entity(node)?.fqn;
        // Descendants: every entity of a child type under this FQN.
        let mut victims = Vec::new();
        let mut stack = vec![kind];
        while let Some(k) = stack.pop() {
            for child in k.children() {
                stack.push(child);
                for (_, n) in view.list(
                    child.ty,
                    &format!("{fqn}."),
                    None,
                    false,
                    usize::MAX,
                    include,
                )? {
                    victims.push(n);
                }
            }
        }
        drop(view);
        if !victims.is_empty() && !recursive {
            return Err(ApiError::bad(format!(
                "{} {fqn} is not empty ({} entities under it); use recursive=true",
                kind.ty,
                victims.len()
            )));
        }
        victims.push(node);
        for n in victims {
            if hard {
                self.store.hard_delete(n)?;
                self.search.remove(n);
            } else {
                self.store.set_deleted(n, true)?;
            }
        }
        let mut doc = doc;
        doc["deleted"] = Value::Bool(true);
        Ok(doc)
    }

    /// Stores `doc` as the node's document as is (server-maintained fields such as a
    /// pipeline's `pipelineStatus`); the caller holds the document lock.
    pub(crate) fn replace_document(&self, node: NodeId, doc: Value) -> ApiResult<()> {
        let e = self.store.read().entity(node)?;
        self.store.upsert_entity(EntityInput {
            id: e.id,
            entity_type: e.entity_type,
            fqn: e.fqn,
            name: e.name,
            columns: e.columns.into_iter().map(|c| c.0).collect(),
            doc: doc.clone(),
        })?;
        self.search.upsert(node, e.entity_type, &doc);
        Ok(())
    }

    /// Restores a soft-deleted entity (`PUT /{collection}/restore {"id": ...}`).
    pub fn restore_entity(&self, kind: &Kind, id: Uuid) -> ApiResult<Value> {
        let view = self.store.read();
        let node = self.resolve(&view, kind.ty, &Key::Id(id), Include::Deleted)?;
        drop(view);
        self.store.set_deleted(node, false)?;
        let view = self.store.read();
        self.document(&view, node)
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

/// Validates a document's `columns`, gives each (and nested children) its FQN, and
/// returns the engine column names (the FQN suffix after the entity's FQN).
fn prepare_columns(doc: &mut Map<String, Value>, entity_fqn: &str) -> ApiResult<Vec<String>> {
    let mut names = Vec::new();
    match doc.get_mut("columns") {
        None | Some(Value::Null) => {}
        Some(Value::Array(cols)) => {
            walk_columns(cols, entity_fqn, entity_fqn, "columns", &mut names)?;
        }
        Some(_) => return Err(ApiError::bad("field columns: must be an array")),
    }
    Ok(names)
}

fn walk_columns(
    cols: &mut [Value],
    entity_fqn: &str,
    parent_fqn: &str,
    path: &str,
    names: &mut Vec<String>,
) -> ApiResult<()> {
    let mut seen = std::collections::HashSet::new();
    for (i, col) in cols.iter_mut().enumerate() {
        let here = format!("{path}[{i}]");
        let Value::Object(c) = col else {
            return Err(ApiError::bad(format!("field {here}: must be an object")));
        };
        if let Some(k) = c.keys().find(|k| !COLUMN_FIELDS.contains(&k.as_str())) {
            return Err(ApiError::bad(format!(
                "field {here}.{k}: not a column field"
            )));
        }
        let name = match c.get("name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(ApiError::bad(format!("field {here}.name is required"))),
        };
        match c.get("dataType") {
            Some(Value::String(t)) if DATA_TYPES.contains(&t.as_str()) => {}
            Some(Value::String(t)) => {
                return Err(ApiError::bad(format!(
                    "field {here}.dataType: {t:?} is not an OpenMetadata data type (upper case, e.g. INT, VARCHAR, STRUCT)"
                )));
            }
            _ => return Err(ApiError::bad(format!("field {here}.dataType is required"))),
        }
        if !seen.insert(name.to_lowercase()) {
            return Err(ApiError::bad(format!(
                "field {here}.name: column {name:?} appears twice"
            )));
        }
        let col_fqn = fqn::build(Some(parent_fqn), &name)?;
        names.push(col_fqn[entity_fqn.len() + 1..].to_string());
        c.insert("fullyQualifiedName".into(), json!(col_fqn));
        match c.get_mut("children") {
            None | Some(Value::Null) => {}
            Some(Value::Array(children)) => {
                walk_columns(
                    children,
                    entity_fqn,
                    &col_fqn,
                    &format!("{here}.children"),
                    names,
                )?;
            }
            Some(_) => {
                return Err(ApiError::bad(format!(
                    "field {here}.children: must be an array"
                )));
            }
        }
    }
    Ok(())
}

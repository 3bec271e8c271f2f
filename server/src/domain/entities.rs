//! Entity documents: create, update, list, patch, delete, restore.
//!
//! Documents are OpenMetadata-shaped JSON (the SDK's pydantic models are the schema
//! they must satisfy), stored in the engine without `href`s. Read-modify-write of a
//! document is serialised by the service's document lock.

use headwaters_engine::{Entity, EntityInput, EntityType, Include, NodeId, ReadView};

use crate::domain::clock::{new_uuid, now_millis};
use md5::{Digest, Md5};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::{Error, Result};
use super::fqn;
use super::kinds::{COLUMN_FIELDS, DATA_TYPES, Kind, TABLE_TYPES};
use super::openmetadata::entity_fields;
use super::service::{Actor, Key, ListParams, Mode, Service, decode_cursor, encode_cursor};
use super::versions::change_description;

impl Service {
    /// PUT / POST an entity from its OpenMetadata create request. Answers the stored
    /// document and whether it was created.
    ///
    /// Phases: check the request against the kind's schema ([`CreateRequest::parse`]),
    /// resolve the parent and the references a child inherits ([`Service::parent_refs`]),
    /// merge onto the existing document ([`merge_document`]), bump the version when
    /// something changed ([`bump_version`]), write.
    pub fn put_entity(
        &self,
        kind: &Kind,
        body: Value,
        actor: &Actor,
        mode: Mode,
    ) -> Result<(Value, bool)> {
        let body = if kind.ty == EntityType::Query {
            query_request(body)?
        } else {
            body
        };
        let mut req = CreateRequest::parse(kind, body)?;
        let _guard = self.lock_docs();
        let view = self.store.read();
        let (parent_fqn, refs) = self.parent_refs(&view, kind, &req.body)?;
        if kind.ty == EntityType::Query {
            self.resolve_query_users(&view, &mut req.given)?;
        }
        let full_name = fqn::build(parent_fqn.as_deref(), &req.name)?;
        check_fqn(&full_name)?;
        let existing = view.node_by_fqn(kind.ty, &full_name)?;
        if mode == Mode::Create && existing.is_some() {
            return Err(Error::conflict(format!(
                "{} {full_name} already exists",
                kind.ty
            )));
        }
        let (id, old, server_columns) = match existing {
            Some(n) => {
                let e = view.entity(n)?;
                let columns: Vec<String> = e.columns.into_iter().map(|c| c.0).collect();
                (e.id, Some(view.document(n)?), columns)
            }
            None => (new_uuid(), None, Vec::new()),
        };
        drop(view);
        let (mut doc, columns) = merge_document(kind, id, &req, &full_name, refs, old.as_ref())?;
        // A kind without columns in its document keeps the columns the server gave it
        // (a query's output columns, from its lineage).
        let columns = if kind.has_columns {
            columns
        } else {
            server_columns
        };
        self.settings.secrets.seal(&mut doc, old.as_ref())?;
        bump_version(&mut doc, old.as_ref(), actor)?;
        if let Some(o) = &old
            && o.get("version") != doc.get("version")
        {
            doc.insert("changeDescription".into(), change_description(o, &doc));
            self.keep_version(id, o)?;
        }
        let doc = Value::Object(doc);
        let (node, created) = self.store.upsert_entity(EntityInput {
            id,
            entity_type: kind.ty,
            fqn: full_name,
            name: req.name,
            columns,
            doc: doc.clone(),
        })?;
        if !created {
            self.store.set_deleted(node, false)?;
        }
        self.search.upsert(node, kind.ty, &doc);
        Ok((doc, created))
    }

    /// The parent's FQN (from the parent field, by FQN or by reference) and the
    /// references a child carries (service, database, schema, its parent).
    fn parent_refs(
        &self,
        view: &ReadView<'_>,
        kind: &Kind,
        body: &Map<String, Value>,
    ) -> Result<(Option<String>, Map<String, Value>)> {
        let mut refs = Map::new();
        let Some((field, pty)) = kind.parent else {
            return Ok((None, refs));
        };
        let expected = || {
            Error::invalid(format!(
                "field {field}: expected the {pty}'s fully qualified name"
            ))
        };
        let pfqn = match body.get(field) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Object(o)) => match (o.get("fullyQualifiedName"), o.get("id")) {
                (Some(Value::String(s)), _) => s.clone(),
                (_, Some(Value::String(id))) => {
                    let id = Uuid::parse_str(id)
                        .map_err(|_| Error::invalid(format!("field {field}.id: not a UUID")))?;
                    let n = self.resolve(view, pty, &Key::Id(id), Include::NonDeleted)?;
                    view.entity(n)?.fqn
                }
                _ => return Err(expected()),
            },
            None | Some(Value::Null) => {
                return Err(Error::invalid(format!("field {field} is required")));
            }
            Some(_) => return Err(expected()),
        };
        let pnode = view
            .node_by_fqn(pty, &pfqn)?
            .filter(|n| !view.is_deleted(*n))
            .ok_or_else(|| Error::not_found(format!("{pty} instance for {pfqn} not found")))?;
        let pdoc = view.document(pnode)?;
        for inherited in ["service", "database", "databaseSchema", "apiCollection"] {
            if let Some(r) = pdoc.get(inherited) {
                refs.insert(inherited.into(), r.clone());
            }
        }
        if let Some(st) = pdoc.get("serviceType") {
            refs.insert("serviceType".into(), st.clone());
        }
        let pref_field = if Kind::of(pty).is_service() {
            "service"
        } else {
            pty.as_str()
        };
        refs.insert(pref_field.into(), Service::reference(view, pnode)?);
        Ok((Some(pfqn), refs))
    }

    /// A query's `users` arrive as user FQNs and are stored as references.
    fn resolve_query_users(
        &self,
        view: &ReadView<'_>,
        given: &mut Map<String, Value>,
    ) -> Result<()> {
        let Some(Value::Array(users)) = given.get_mut("users") else {
            return Ok(());
        };
        for (i, u) in users.iter_mut().enumerate() {
            let fqn = match u {
                Value::String(s) => s.clone(),
                Value::Object(_) => continue,
                _ => {
                    return Err(Error::invalid(format!(
                        "field users[{i}]: expected a user name"
                    )));
                }
            };
            *u = Service::user_reference(view, &fqn)?;
        }
        Ok(())
    }

    /// The reference to a user by name; a 404 naming it when there is none.
    pub(crate) fn user_reference(view: &ReadView<'_>, name: &str) -> Result<Value> {
        let n = view
            .node_by_fqn(EntityType::User, name)?
            .ok_or_else(|| Error::not_found(format!("user instance for {name} not found")))?;
        Service::reference(view, n)
    }

    /// A page of entities of one kind: `{"data": [...], "paging": {...}}`.
    pub fn list_entities(&self, kind: &Kind, p: &ListParams) -> Result<Value> {
        if p.after.is_some() && p.before.is_some() {
            return Err(Error::invalid(
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
    ) -> Result<Value> {
        let _guard = self.lock_docs();
        let view = self.store.read();
        let node = self.resolve(&view, kind.ty, key, Include::NonDeleted)?;
        let old = self.document(&view, node)?;
        let entity = view.entity(node)?;
        drop(view);
        let mut doc = old.clone();
        json_patch::patch(&mut doc, patch)
            .map_err(|e| Error::invalid(format!("JSON Patch cannot be applied: {e}")))?;
        let Value::Object(mut m) = doc else {
            return Err(Error::invalid("JSON Patch must leave an object"));
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
                return Err(Error::invalid(format!(
                    "field {fixed} cannot be changed by PATCH"
                )));
            }
        }
        let model = entity_fields(kind.collection);
        let allowed = |k: &str| kind.fields.contains(&k) || model.iter().any(|f| f == k);
        if let Some(k) = m.keys().find(|k| !allowed(k)) {
            return Err(Error::invalid(format!(
                "field {k}: not a field Headwaters keeps on a {}",
                kind.ty
            )));
        }
        check_field_types(&m)?;
        let columns = if kind.has_columns {
            prepare_columns(&mut m, &entity.fqn)?
        } else {
            // Columns the server gave it (a query's output columns, from its lineage).
            entity.columns.iter().map(|c| c.0.clone()).collect()
        };
        self.settings.secrets.seal(&mut m, Some(&old))?;
        if Value::Object(m.clone()) != old {
            let v = old.get("version").and_then(Value::as_f64).unwrap_or(0.1);
            m.insert("version".into(), json!(next_version(v)));
            m.insert("updatedAt".into(), json!(now_millis()));
            m.insert("updatedBy".into(), json!(actor.0));
            m.insert("changeDescription".into(), change_description(&old, &m));
            self.keep_version(entity.id, &old)?;
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
    ) -> Result<Value> {
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
            return Err(Error::invalid(format!(
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
    pub(crate) fn replace_document(&self, node: NodeId, doc: Value) -> Result<()> {
        let e = self.store.read().entity(node)?;
        let (ty, columns) = (
            e.entity_type,
            e.columns.iter().map(|c| c.0.clone()).collect(),
        );
        self.rewrite_record(e, columns, doc.clone())?;
        self.search.upsert(node, ty, &doc);
        Ok(())
    }

    /// Gives a node columns its document does not list (a query's output columns, so
    /// column lineage can end at them); the document stays as it is.
    pub(crate) fn set_server_columns(&self, node: NodeId, columns: Vec<String>) -> Result<()> {
        let _guard = self.lock_docs();
        let view = self.store.read();
        let (e, doc) = (view.entity(node)?, view.document(node)?);
        drop(view);
        self.rewrite_record(e, columns, doc)
    }

    /// Stores an existing entity again with these columns and this document (its
    /// identity unchanged).
    fn rewrite_record(&self, e: Entity, columns: Vec<String>, doc: Value) -> Result<()> {
        self.store.upsert_entity(EntityInput {
            id: e.id,
            entity_type: e.entity_type,
            fqn: e.fqn,
            name: e.name,
            columns,
            doc,
        })?;
        Ok(())
    }

    /// Restores a soft-deleted entity (`PUT /{collection}/restore {"id": ...}`).
    pub fn restore_entity(&self, kind: &Kind, id: Uuid) -> Result<Value> {
        let view = self.store.read();
        let node = self.resolve(&view, kind.ty, &Key::Id(id), Include::Deleted)?;
        drop(view);
        self.store.set_deleted(node, false)?;
        let view = self.store.read();
        self.document(&view, node)
    }
}

/// Validates a document's `columns`, gives each (and nested children) its FQN, and
/// returns the engine column names (the FQN suffix after the entity's FQN).
fn prepare_columns(doc: &mut Map<String, Value>, entity_fqn: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    match doc.get_mut("columns") {
        None | Some(Value::Null) => {}
        Some(Value::Array(cols)) => {
            walk_columns(cols, entity_fqn, entity_fqn, "columns", &mut names)?;
        }
        Some(_) => return Err(Error::invalid("field columns: must be an array")),
    }
    Ok(names)
}

fn walk_columns(
    cols: &mut [Value],
    entity_fqn: &str,
    parent_fqn: &str,
    path: &str,
    names: &mut Vec<String>,
) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (i, col) in cols.iter_mut().enumerate() {
        let here = format!("{path}[{i}]");
        let Value::Object(c) = col else {
            return Err(Error::invalid(format!("field {here}: must be an object")));
        };
        if let Some(k) = c.keys().find(|k| !COLUMN_FIELDS.contains(&k.as_str())) {
            return Err(Error::invalid(format!(
                "field {here}.{k}: not a column field"
            )));
        }
        check_shapes(c, &format!("{here}."), column_shape_of)?;
        let name = match c.get("name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(Error::invalid(format!("field {here}.name is required"))),
        };
        check_name(&format!("{here}.name"), &name)?;
        match c.get("dataType") {
            Some(Value::String(t)) if DATA_TYPES.contains(&t.as_str()) => {}
            Some(Value::String(t)) => {
                return Err(Error::invalid(format!(
                    "field {here}.dataType: {t:?} is not an OpenMetadata data type (upper case, e.g. INT, VARCHAR, STRUCT)"
                )));
            }
            _ => return Err(Error::invalid(format!("field {here}.dataType is required"))),
        }
        if !seen.insert(name.to_lowercase()) {
            return Err(Error::invalid(format!(
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
                return Err(Error::invalid(format!(
                    "field {here}.children: must be an array"
                )));
            }
        }
    }
    Ok(())
}

/// A create request checked against its kind: the name, the stored fields given, and
/// the whole body (for the parent field).
struct CreateRequest {
    name: String,
    given: Map<String, Value>,
    body: Map<String, Value>,
}

impl CreateRequest {
    fn parse(kind: &Kind, body: Value) -> Result<CreateRequest> {
        let Value::Object(body) = body else {
            return Err(Error::invalid("request body must be a JSON object"));
        };
        let name = match body.get("name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return Err(Error::invalid("field name: must be a non-empty string")),
            None => return Err(Error::invalid("field name is required")),
        };
        check_name("name", &name)?;
        for req in kind.required {
            if body.get(*req).is_none_or(Value::is_null) {
                return Err(Error::invalid(format!("field {req} is required")));
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
                return Err(Error::invalid(format!(
                    "field {k}: not a field of a {} create request",
                    kind.ty
                )));
            }
        }
        check_field_types(&given)?;
        if let Some(Value::String(t)) = given.get("tableType")
            && !TABLE_TYPES.contains(&t.as_str())
        {
            return Err(Error::invalid(format!(
                "field tableType: {t:?} is not one of {}",
                TABLE_TYPES.join(", ")
            )));
        }
        Ok(CreateRequest { name, given, body })
    }
}

/// The new document: the old one (if any) with identity, the given fields and the
/// references set, columns validated (returns the engine's column names), a service's
/// `connection.config.type` filled in as OpenMetadata does.
fn merge_document(
    kind: &Kind,
    id: Uuid,
    req: &CreateRequest,
    full_name: &str,
    refs: Map<String, Value>,
    old: Option<&Value>,
) -> Result<(Map<String, Value>, Vec<String>)> {
    let mut doc = match old {
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(Error::invariant(format!(
                "document of {id} is not an object"
            )));
        }
        None => Map::new(),
    };
    doc.insert("id".into(), json!(id));
    doc.insert("name".into(), json!(req.name));
    doc.insert("fullyQualifiedName".into(), json!(full_name));
    for (k, v) in &req.given {
        doc.insert(k.clone(), v.clone());
    }
    for (k, v) in refs {
        doc.insert(k, v);
    }
    let columns = if kind.has_columns {
        prepare_columns(&mut doc, full_name)?
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
    if kind.ty == EntityType::Query
        && let Some(Value::String(q)) = doc.get("query")
    {
        let sum = checksum(q);
        doc.insert("checksum".into(), json!(sum));
    }
    doc.insert("deleted".into(), Value::Bool(false));
    // The SDK refuses answers with fields its model lacks (a child inherits
    // `serviceType` from its service, but a query has none).
    let model = entity_fields(kind.collection);
    if !model.is_empty() {
        doc.retain(|k, _| model.iter().any(|f| f == k));
    }
    Ok((doc, columns))
}

/// OpenMetadata's query checksum: the MD5 of the text, in hex (the SDK computes the
/// same to find a query again).
pub fn checksum(query: &str) -> String {
    Md5::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A query's create request: `query` is required, `name` defaults to its checksum
/// (OpenMetadata's rule, so the query's FQN is `service.checksum`).
fn query_request(body: Value) -> Result<Value> {
    let Value::Object(mut m) = body else {
        return Err(Error::invalid("request body must be a JSON object"));
    };
    let sum = match m.get("query") {
        Some(Value::String(q)) if !q.is_empty() => checksum(q),
        _ => return Err(Error::invalid("field query: the SQL text is required")),
    };
    if m.get("name").is_none_or(Value::is_null) {
        m.insert("name".into(), json!(sum));
    }
    Ok(Value::Object(m))
}

/// Sets `version` (0.1 when new, +0.1 when anything but bookkeeping changed or the
/// entity comes back from a soft delete) and, on a change, `updatedAt`/`updatedBy`.
fn bump_version(doc: &mut Map<String, Value>, old: Option<&Value>, actor: &Actor) -> Result<()> {
    let changed = old.is_none_or(|o| {
        let strip = |v: Value| {
            let mut v = v;
            if let Value::Object(m) = &mut v {
                for k in [
                    "version",
                    "updatedAt",
                    "updatedBy",
                    "deleted",
                    "changeDescription",
                ] {
                    m.remove(k);
                }
            }
            v
        };
        strip(o.clone()) != strip(Value::Object(doc.clone()))
            || o.get("deleted") == Some(&Value::Bool(true))
    });
    let version = match old {
        None => 0.1,
        Some(o) => {
            let v = o.get("version").and_then(Value::as_f64).unwrap_or(0.1);
            if changed { next_version(v) } else { v }
        }
    };
    doc.insert("version".into(), json!(version));
    if changed {
        doc.insert("updatedAt".into(), json!(now_millis()));
        doc.insert("updatedBy".into(), json!(actor.0));
    }
    Ok(())
}

/// OpenMetadata's minor version step: 0.1 -> 0.2.
fn next_version(v: f64) -> f64 {
    ((v + 0.1) * 10.0).round() / 10.0
}

/// Longest entity or column name, in characters (OpenMetadata's `entityName`).
pub const MAX_NAME_CHARS: usize = 256;

/// Longest fully qualified name, in characters (OpenMetadata's
/// `fullyQualifiedEntityName`).
pub const MAX_FQN_CHARS: usize = 3072;

fn check_name(field: &str, name: &str) -> Result<()> {
    let n = name.chars().count();
    if n > MAX_NAME_CHARS {
        return Err(Error::invalid(format!(
            "field {field}: {n} characters; at most {MAX_NAME_CHARS}"
        )));
    }
    Ok(())
}

fn check_fqn(fqn: &str) -> Result<()> {
    let n = fqn.chars().count();
    if n > MAX_FQN_CHARS {
        return Err(Error::invalid(format!(
            "the fully qualified name would be {n} characters; at most {MAX_FQN_CHARS}"
        )));
    }
    Ok(())
}

/// The JSON type OpenMetadata 1.11's schemas give a create-request field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Str,
    Bool,
    Int,
    Num,
    Arr,
    Obj,
}

fn shape_of(field: &str) -> Option<Shape> {
    use Shape::*;
    Some(match field {
        "displayName"
        | "description"
        | "tableType"
        | "serviceType"
        | "sourceUrl"
        | "schemaDefinition"
        | "storedProcedureType"
        | "dashboardType"
        | "chartType"
        | "dataModelType"
        | "sql"
        | "project"
        | "fileFormat"
        | "locationPath"
        | "sourceHash"
        | "retentionPeriod"
        | "pipelineLocation"
        | "startDate"
        | "scheduleInterval"
        | "state"
        | "ingestionRunner"
        | "algorithm"
        | "endpointURL"
        | "fullPath"
        | "granularity"
        | "indexType"
        | "metricType"
        | "prefix"
        | "requestMethod"
        | "server"
        | "target"
        | "unitOfMeasurement"
        | "customUnitOfMeasurement"
        | "query"
        | "query_type"
        | "email"
        | "teamType"
        | "provider"
        | "timezone"
        | "externalId" => Str,
        "default" | "processedLineage" | "exclude_usage" | "isBot" | "isAdmin"
        | "mutuallyExclusive" | "isJoinable" => Bool,
        "duration" => Num,
        "queryDate" => Int,
        "users" | "usedBy" | "queryUsedIn" => Arr,
        "triggeredBy" | "style" => Obj,
        "partitions"
        | "replicationFactor"
        | "maximumMessageSize"
        | "minimumInSyncReplicas"
        | "concurrency" => Int,
        "retentionTime" | "retentionSize" | "size" | "numberOfObjects" => Num,
        "tags" | "owners" | "columns" | "tableConstraints" | "tasks" | "cleanupPolicies"
        | "followers" | "fields" | "fileFormats" | "mlFeatures" | "mlHyperParameters"
        | "reviewers" => Arr,
        "connection"
        | "dataModel"
        | "tablePartition"
        | "tableProfilerConfig"
        | "extension"
        | "lifeCycle"
        | "storedProcedureCode"
        | "topicConfig"
        | "messageSchema" => Obj,
        _ => return None,
    })
}

/// Each given field has the JSON type OpenMetadata's schema gives it; a document the
/// SDK could not read back is refused up front, naming the field.
fn check_field_types(given: &Map<String, Value>) -> Result<()> {
    check_shapes(given, "", shape_of)
}

/// The JSON type OpenMetadata's `Column` gives a column field.
fn column_shape_of(field: &str) -> Option<Shape> {
    use Shape::*;
    Some(match field {
        "name" | "displayName" | "description" | "dataType" | "dataTypeDisplay"
        | "arrayDataType" | "constraint" | "jsonSchema" | "fullyQualifiedName" => Str,
        "dataLength" | "precision" | "scale" | "ordinalPosition" => Int,
        "tags" | "children" | "customMetrics" => Arr,
        "profile" | "extension" => Obj,
        _ => return None,
    })
}

/// Each field of `m` whose type `shape` knows has that JSON type; errors name the
/// field under `prefix` (`columns[2].`).
fn check_shapes(
    m: &Map<String, Value>,
    prefix: &str,
    shape: fn(&str) -> Option<Shape>,
) -> Result<()> {
    for (k, v) in m {
        let Some(want) = shape(k) else { continue };
        let ok = match want {
            Shape::Str => v.is_string(),
            Shape::Bool => v.is_boolean(),
            Shape::Int => v.is_i64() || v.is_u64(),
            Shape::Num => v.is_number(),
            Shape::Arr => v.is_array(),
            Shape::Obj => v.is_object(),
        };
        if !ok {
            let what = match want {
                Shape::Str => "a string",
                Shape::Bool => "true or false",
                Shape::Int => "an integer",
                Shape::Num => "a number",
                Shape::Arr => "an array",
                Shape::Obj => "an object",
            };
            return Err(Error::invalid(format!("field {prefix}{k}: must be {what}")));
        }
    }
    Ok(())
}

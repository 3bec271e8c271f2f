//! Entity versions, as OpenMetadata keeps them: every update that bumps an entity's
//! version keeps the previous document, and the new one carries a `changeDescription`
//! (fields added, updated and deleted, and the previous version).
//!
//! The previous documents live in the store's `aux` family: `ver/{id}/{version}` holds
//! a document, `verlist/{id}` the versions kept, oldest first.

use headwaters_engine::Include;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::{Error, Result};
use super::kinds::Kind;
use super::service::{Key, Service};

/// Fields that change with every write and are not part of a change.
const BOOKKEEPING: &[&str] = &[
    "version",
    "updatedAt",
    "updatedBy",
    "changeDescription",
    "incrementalChangeDescription",
    "href",
    "deleted",
];

/// `0.1` -> `"0.1"`, as versions are spelled in paths and keys.
pub fn version_text(v: f64) -> String {
    format!("{v:.1}")
}

/// OpenMetadata's `ChangeDescription` from `old` to `new`: top-level fields added,
/// updated (with old and new values as JSON text) and deleted.
pub fn change_description(old: &Value, new: &Map<String, Value>) -> Value {
    let empty = Map::new();
    let old_m = old.as_object().unwrap_or(&empty);
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (mut added, mut updated, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
    for (k, v) in new {
        if BOOKKEEPING.contains(&k.as_str()) {
            continue;
        }
        match old_m.get(k) {
            None => added.push(json!({"name": k, "newValue": text(v)})),
            Some(o) if o != v => {
                updated.push(json!({"name": k, "oldValue": text(o), "newValue": text(v)}))
            }
            Some(_) => {}
        }
    }
    for (k, v) in old_m {
        if !BOOKKEEPING.contains(&k.as_str()) && !new.contains_key(k) {
            deleted.push(json!({"name": k, "oldValue": text(v)}));
        }
    }
    json!({
        "fieldsAdded": added,
        "fieldsUpdated": updated,
        "fieldsDeleted": deleted,
        "previousVersion": old_m.get("version").and_then(Value::as_f64).unwrap_or(0.1),
    })
}

impl Service {
    /// Keeps `old` (the document being replaced) as a past version of entity `id`.
    pub(crate) fn keep_version(&self, id: Uuid, old: &Value) -> Result<()> {
        let v = version_text(old.get("version").and_then(Value::as_f64).unwrap_or(0.1));
        let bytes = serde_json::to_vec(old).map_err(|e| Error::json("version", e))?;
        self.store
            .put_aux(format!("ver/{id}/{v}").as_bytes(), Some(bytes))?;
        let list_key = format!("verlist/{id}");
        let mut list: Vec<String> = match self.store.read().aux(list_key.as_bytes())? {
            Some(b) => serde_json::from_slice(&b).map_err(|e| Error::json("version list", e))?,
            None => Vec::new(),
        };
        if !list.contains(&v) {
            list.push(v);
        }
        let bytes = serde_json::to_vec(&list).map_err(|e| Error::json("version list", e))?;
        self.store.put_aux(list_key.as_bytes(), Some(bytes))?;
        Ok(())
    }

    /// Every version of an entity, newest (the current document) first.
    pub fn entity_versions(&self, kind: &Kind, id: Uuid) -> Result<Vec<Value>> {
        let view = self.store.read();
        let node = self.resolve(&view, kind.ty, &Key::Id(id), Include::All)?;
        let mut out = vec![self.document(&view, node)?];
        let list: Vec<String> = match view.aux(format!("verlist/{id}").as_bytes())? {
            Some(b) => serde_json::from_slice(&b).map_err(|e| Error::json("version list", e))?,
            None => Vec::new(),
        };
        for v in list.iter().rev() {
            if let Some(b) = view.aux(format!("ver/{id}/{v}").as_bytes())? {
                out.push(serde_json::from_slice(&b).map_err(|e| Error::json("version", e))?);
            }
        }
        Ok(out)
    }

    /// One version of an entity (`0.2`); 404 naming the versions there are.
    pub fn entity_version(&self, kind: &Kind, id: Uuid, version: &str) -> Result<Value> {
        let wanted: f64 = version
            .parse()
            .map_err(|_| Error::invalid(format!("version {version:?} is not a number like 0.2")))?;
        let all = self.entity_versions(kind, id)?;
        let text = version_text(wanted);
        all.iter()
            .find(|d| {
                d.get("version").and_then(Value::as_f64).map(version_text) == Some(text.clone())
            })
            .cloned()
            .ok_or_else(|| {
                let have: Vec<String> = all
                    .iter()
                    .filter_map(|d| d.get("version").and_then(Value::as_f64).map(version_text))
                    .collect();
                Error::not_found(format!(
                    "{} {id} has no version {text} (versions: {})",
                    kind.ty,
                    have.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_fields_added_updated_and_deleted() {
        let old = json!({"version": 0.1, "description": "a", "tags": [], "displayName": "x"});
        let new = json!({"version": 0.2, "description": "b", "tags": [], "owners": [{"id": "1"}]});
        let c = change_description(&old, new.as_object().unwrap());
        assert_eq!(c["previousVersion"], json!(0.1));
        assert_eq!(
            c["fieldsUpdated"],
            json!([{"name": "description", "oldValue": "a", "newValue": "b"}])
        );
        assert_eq!(c["fieldsAdded"][0]["name"], "owners");
        assert_eq!(c["fieldsDeleted"][0]["name"], "displayName");
    }
}

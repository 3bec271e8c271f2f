//! Facts read out of the installed `openmetadata-ingestion` by
//! `scripts/gen-openmetadata-facts.py` into `openmetadata.json` (embedded here):
//! each entity model's field names, and the test connection definition of each
//! service type.
//!
//! The SDK parses answers with extra fields forbidden, so an answer holds only fields
//! of the entity's model, and `fields=*` expands to them. Every ingestion workflow starts with `GET /services/testConnectionDefinitions/name/
//! {Type}.testConnectionDefinition` and runs the steps listed there, looking each one
//! up in its connector's own table of test functions (a step it does not know is an
//! error), so the step names are taken from the connectors' own code.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// One step of a definition.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The connector's name for the step (`CheckAccess`, `GetQueries`, ...).
    pub name: String,
    /// A failure fails the test connection (and so the workflow).
    pub mandatory: bool,
    /// A failure stops the remaining steps.
    pub short_circuit: bool,
}

/// The test connection definition of one service type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    /// The service type (`Postgres`, `Rest`, ...), also the definition's name.
    pub service_type: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Facts {
    definitions: Vec<Definition>,
    entity_fields: HashMap<String, Vec<String>>,
}

fn facts() -> &'static Facts {
    static FACTS: OnceLock<Facts> = OnceLock::new();
    FACTS.get_or_init(|| {
        serde_json::from_str(include_str!("openmetadata.json"))
            .expect("openmetadata.json parses (a unit test reads it)")
    })
}

/// Every test connection definition.
pub fn definitions() -> &'static [Definition] {
    &facts().definitions
}

/// The field names of the entity model of a collection (`tables`, ...); empty for a
/// collection the file does not know.
pub fn entity_fields(collection: &str) -> &'static [String] {
    facts()
        .entity_fields
        .get(collection)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Namespace of the definitions' stable ids (UUID v5 of the name).
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6865_6164_7761_7465_7273_2d74_6573_7463);

impl Definition {
    /// `Postgres.testConnectionDefinition`.
    pub fn fqn(&self) -> String {
        format!("{}.testConnectionDefinition", self.service_type)
    }

    /// The definition's stable id.
    pub fn id(&self) -> Uuid {
        Uuid::new_v5(&ID_NAMESPACE, self.fqn().as_bytes())
    }

    /// By `Postgres.testConnectionDefinition` (or just `Postgres`).
    pub fn by_name(name: &str) -> Option<&'static Definition> {
        let ty = name
            .strip_suffix(".testConnectionDefinition")
            .unwrap_or(name);
        definitions().iter().find(|d| d.service_type == ty)
    }

    /// By id.
    pub fn by_id(id: Uuid) -> Option<&'static Definition> {
        definitions().iter().find(|d| d.id() == id)
    }

    /// OpenMetadata's `TestConnectionDefinition` document (without `href`).
    pub fn document(&self) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "description": format!("{} against the {} source.", s.name, self.service_type),
                    "errorMessage": format!("{} failed: check the {} connection's settings and grants.", s.name, self.service_type),
                    "mandatory": s.mandatory,
                    "shortCircuit": s.short_circuit,
                })
            })
            .collect();
        json!({
            "id": self.id(),
            "name": self.service_type,
            "fullyQualifiedName": self.fqn(),
            "displayName": format!("{} Test Connection", self.service_type),
            "description": format!("The steps the {} connector runs before a workflow.", self.service_type),
            "steps": steps,
            "version": 0.1,
            "updatedAt": 0,
            "updatedBy": "headwaters",
            "deleted": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_definition_has_a_mandatory_first_step_and_a_stable_id() {
        assert!(definitions().len() >= 70, "{}", definitions().len());
        for d in definitions() {
            assert!(
                d.steps.first().is_some_and(|s| s.mandatory),
                "{}",
                d.service_type
            );
            assert_eq!(
                Definition::by_id(d.id()).map(Definition::fqn),
                Some(d.fqn())
            );
        }
        let pg = Definition::by_name("Postgres.testConnectionDefinition").unwrap();
        let steps: Vec<&str> = pg.steps.iter().map(|s| s.name.as_str()).collect();
        assert!(
            steps.starts_with(&["CheckAccess", "GetSchemas", "GetTables"]),
            "{steps:?}"
        );
        assert!(Definition::by_name("Nope.testConnectionDefinition").is_none());
    }

    #[test]
    fn every_collection_has_its_model_fields() {
        for kind in crate::domain::kinds::ALL {
            let fields = entity_fields(kind.collection);
            assert!(
                fields.iter().any(|f| f == "fullyQualifiedName"),
                "{}",
                kind.collection
            );
            for f in kind.fields {
                assert!(
                    fields.iter().any(|m| m == f),
                    "{}: {f} is not a model field",
                    kind.collection
                );
            }
        }
    }
}

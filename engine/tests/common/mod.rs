//! Helpers the engine's integration tests share.

use headwaters_engine::{EntityInput, EntityType};

/// Table `i`: `svc.db.s.t{i}` with the given columns, its UUID `base + i` (each test
/// file picks its own base).
pub(crate) fn table(base: u128, i: u32, columns: &[&str]) -> EntityInput {
    EntityInput {
        id: uuid::Uuid::from_u128(base + u128::from(i)),
        entity_type: EntityType::Table,
        fqn: format!("svc.db.s.t{i}"),
        name: format!("t{i}"),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        doc: serde_json::json!({}),
    }
}

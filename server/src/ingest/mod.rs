//! Lineage from other tools' formats, written through the domain layer: OpenLineage
//! events, dbt artifacts, and the demo platform (SQL through the SQL lineage
//! operation).

pub mod dbt;
pub mod demo;
pub mod marquez;
pub mod openlineage;

//! Column-level lineage extracted from SQL (`headwaters-sqllineage`).
//!
//! The extractor itself arrives with its own issue. The crate is in the workspace from
//! the start so that its boundary holds from day one: it must not depend on the engine
//! or on RocksDB, and it builds on its own in about a minute.

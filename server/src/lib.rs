//! The Headwaters lineage service: one typed domain layer over the engine, with REST
//! (OpenMetadata-compatible, OpenLineage, dbt, SQL) and GraphQL faces.
//!
//! ```text
//!   api/      REST handlers, GraphQL resolvers, auth, limits, errors, OpenAPI, pages
//!     |  (typed calls, off the async workers)
//!   domain/   entities, lineage, column lineage, impact, search, SQL lineage
//!     ^
//!   ingest/   OpenLineage events, dbt artifacts, the demo platform -> domain writes
//!     |
//!   engine    (headwaters-engine: RocksDB + in-memory adjacency)
//! ```
//! [`api::app`] builds the axum router over an [`api::AppState`]; the `headwaters`
//! binary (`main.rs`, `cli/`) parses flags and binds a socket.

pub mod api;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod files;
pub mod ingest;

pub use api::{AppState, app};

/// The store's directory inside a data directory (`serve`, `load`, `lineage`, `demo`).
pub const STORE_DIR: &str = "store";

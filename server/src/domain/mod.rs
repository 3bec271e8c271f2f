//! The domain layer: every operation the APIs offer, with typed inputs and outputs,
//! one read view per answer, and its own [`Error`] (user vs internal).
//!
//! Nothing in here knows about axum or async-graphql. REST (`api/rest`) and GraphQL
//! (`api/graphql`) parse their input into these types, call one operation on the
//! [`Service`] (off the async workers, see `api::blocking`), and shape the answer.
//!
//! ```text
//!   service.rs    Service, Settings, Key, Actor: the store + search index + tunables
//!   entities.rs   entity documents: put, list, patch, delete, restore
//!   document.rs   EntityView: an engine record with its document, read through typed
//!                 accessors (description, columns, ...)
//!   lineage.rs    lineage graphs and pages, edges (put, update, delete), depth counts
//!   columns.rs    column lineage, downstream impact, paths
//!   sql.rs        lineage from SQL, one text or a query log
//!   search.rs     the in-process search index
//!   secrets.rs    connection secrets: sealed at rest, masked for non-admins
//!   kinds.rs      the entity collections and the OpenMetadata schema facts they need
//!   openmetadata.rs  facts read out of openmetadata-ingestion: model fields, test
//!                 connection definitions
//!   fqn.rs        fully qualified names: quoting, splitting, building
//! ```
//! Ingestion from other tools' formats (OpenLineage, dbt, the demo platform) lives in
//! `crate::ingest` and writes through these operations.

pub mod clock;
pub mod columns;
pub mod document;
pub mod entities;
pub mod error;
pub mod fqn;
pub mod kinds;
pub mod lineage;
pub mod openmetadata;
pub mod pipelines;
pub mod search;
pub mod search_dsl;
pub mod secrets;
pub mod service;
pub mod sql;
pub mod usage;
pub mod versions;

pub use document::{ColumnInfo, Document, EntityView};
pub use error::{Error, InternalError, Result, UserError};
pub use service::{
    Actor, Key, ListParams, Mode, Service, Settings, encode_cursor, parse_include, reference_json,
};

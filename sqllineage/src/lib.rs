//! Column-level lineage extracted from SQL (`headwaters-sqllineage`).
//!
//! [`analyze`] parses a script with sqlparser in the chosen [`Dialect`], statement by
//! statement, and returns per statement the tables read and written and the column
//! edges with OpenLineage's transformation types; what it cannot analyze comes back as
//! [`Diagnostic`]s with a line and column, never as a panic. The crate depends on
//! neither the engine nor RocksDB.
//!
//! ```
//! use headwaters_sqllineage::{analyze, Options};
//! let lineage = analyze(
//!     "INSERT INTO mart.revenue SELECT c.name, sum(o.amount) AS total \
//!      FROM shop.orders o JOIN shop.customers c ON o.customer_id = c.id GROUP BY c.name",
//!     &Options::default(),
//! );
//! let s = &lineage.statements[0];
//! assert_eq!(s.writes[0].to_string(), "mart.revenue");
//! assert!(s.columns.iter().any(|e| e.source.to_string() == "shop.orders.amount"
//!     && e.target.to_string() == "mart.revenue.total"));
//! ```
//!
//! Non-goals: dynamic SQL, UDF bodies and procedural control flow produce no lineage.

mod analyze;
mod dialect;
mod error;
mod model;
mod split;

pub use analyze::analyze;
pub use dialect::Dialect;
pub use error::Error;
pub use model::{
    Catalog, ColumnEdge, ColumnRef, Diagnostic, DiagnosticKind, JsonCatalog, Lineage, Location,
    Options, QUERY_OUTPUT, StatementKind, StatementLineage, TableName, TransformationSubtype,
    TransformationType,
};

//! Headwaters' lineage graph engine.
//!
//! A [`Store`] keeps entities (tables, dashboards, pipelines, ...) as dense [`NodeId`]s
//! and their columns as dense [`ColumnId`]s, with table-level edges carrying details
//! (SQL, column mappings, source, pipeline) and a column graph derived from those
//! mappings. RocksDB is the durable source of truth; an in-memory adjacency, rebuilt
//! at open and updated on every commit, answers traversals without a storage read per
//! visited node. See `ARCHITECTURE.md` at the repository root for the layout.

mod backend;
mod bulk;
mod cache;
mod error;
mod graph;
mod ids;
mod keys;
mod mapvec;
mod model;
mod replica;
mod snapshot;
mod spill;
mod store;
mod traverse;
mod txn;
mod util;

pub use bulk::{
    BulkEdge, BulkMapping, BulkNode, BulkRecord, BulkReport, JSONL_BLOCK, Progress, read_csv,
    read_jsonl,
};
pub use cache::{RENDER_TAGS, RecordCacheStats, RenderKey, RenderOf, Rendering};
pub use error::{Error, InternalError, Result, UserError};
pub use ids::{ColumnId, EntityType, EntityTypeSet, LineageSource, NodeId};
pub use keys::{STORAGE_VERSION, cf};
pub use model::{
    ColumnMapping, Edge, EdgeInput, Entity, EntityInput, PutEdgeOutcome, RejectedColumn,
};
pub use replica::{Digest, ReplicaState};
pub use store::{GraphSource, Include, Query, ReadView, Stats, Store};
pub use traverse::{
    Adjacency, Direction, PARALLEL_FRONTIER, Reach, Traversal, TraversalSpec, Visit, bfs, paths,
    traverse,
};
pub use util::{SplitMix64, now_millis};

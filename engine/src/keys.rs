//! The storage layout: column family names, key encodings and value codecs, in one place.
//!
//! Every id in a key is big-endian so that RocksDB's byte order is numeric order and
//! prefix scans work. Column families, named key -> value:
//!
//! | column family   | key                                  | value                                         |
//! |-----------------|--------------------------------------|-----------------------------------------------|
//! | `meta`          | ASCII name (`storage_version`, ...)  | u32 big-endian                                |
//! | `node_entity`   | NodeId (4)                           | type code (1), flags (1), JSON [`EntityHeader`] |
//! | `node_doc`      | NodeId (4)                           | opaque JSON document owned by the server      |
//! | `uuid_node`     | UUID (16)                            | NodeId (4)                                    |
//! | `fqn_node`      | type code (1), FQN (UTF-8)           | NodeId (4)                                    |
//! | `node_out`      | NodeId (4)                           | serialized RoaringBitmap of downstream NodeIds |
//! | `node_in`       | NodeId (4)                           | serialized RoaringBitmap of upstream NodeIds   |
//! | `edge_details`  | from NodeId (4), to NodeId (4)       | JSON [`crate::model::StoredDetails`]          |
//! | `column_node`   | ColumnId (4)                         | owner NodeId (4), column name (UTF-8)         |
//! | `fqn_column`    | type code (1), column FQN (UTF-8)    | ColumnId (4)                                  |
//! | `column_out`    | ColumnId (4)                         | serialized RoaringBitmap of downstream ColumnIds |
//! | `column_in`     | ColumnId (4)                         | serialized RoaringBitmap of upstream ColumnIds |
//! | `aux`           | bytes chosen by the server           | bytes (e.g. OpenLineage run records)          |
//!
//! `edge_details` is the source of truth for column lineage; `column_out`/`column_in`
//! are its index and change in the same write batch.

use roaring::RoaringBitmap;

use crate::error::{Result, corrupt};
use crate::ids::{ColumnId, EntityType, NodeId};

/// Newest storage version this build writes. Bump it and add a step to
/// [`crate::store`]'s `migrate` when the layout changes.
pub const STORAGE_VERSION: u32 = 2;

/// Column family names. `ALL` is the order in which they are created.
pub mod cf {
    /// Storage version, id counters, bulk-load marker.
    pub const META: &str = "meta";
    /// NodeId -> entity header.
    pub const NODE_ENTITY: &str = "node_entity";
    /// NodeId -> opaque document.
    pub const NODE_DOC: &str = "node_doc";
    /// UUID -> NodeId.
    pub const UUID_NODE: &str = "uuid_node";
    /// (type, FQN) -> NodeId.
    pub const FQN_NODE: &str = "fqn_node";
    /// NodeId -> downstream bitmap.
    pub const NODE_OUT: &str = "node_out";
    /// NodeId -> upstream bitmap.
    pub const NODE_IN: &str = "node_in";
    /// (from, to) -> edge details.
    pub const EDGE_DETAILS: &str = "edge_details";
    /// ColumnId -> (owner, name).
    pub const COLUMN_NODE: &str = "column_node";
    /// (type, column FQN) -> ColumnId.
    pub const FQN_COLUMN: &str = "fqn_column";
    /// ColumnId -> downstream column bitmap.
    pub const COLUMN_OUT: &str = "column_out";
    /// ColumnId -> upstream column bitmap.
    pub const COLUMN_IN: &str = "column_in";
    /// Server-owned key -> value records outside the graph (version 2).
    pub const AUX: &str = "aux";

    /// Every column family.
    pub const ALL: &[&str] = &[
        META,
        NODE_ENTITY,
        NODE_DOC,
        UUID_NODE,
        FQN_NODE,
        NODE_OUT,
        NODE_IN,
        EDGE_DETAILS,
        COLUMN_NODE,
        FQN_COLUMN,
        COLUMN_OUT,
        COLUMN_IN,
        AUX,
    ];
}

/// Keys of the `meta` column family.
pub(crate) mod meta {
    /// u32: the layout version of this database.
    pub(crate) const STORAGE_VERSION: &[u8] = b"storage_version";
    /// u32: the next NodeId to hand out.
    pub(crate) const NEXT_NODE: &[u8] = b"next_node";
    /// u32: the next ColumnId to hand out.
    pub(crate) const NEXT_COLUMN: &[u8] = b"next_column";
    /// Present while a bulk load is being ingested; found at open, it triggers repair.
    pub(crate) const BULK_LOAD_IN_PROGRESS: &[u8] = b"bulk_load_in_progress";
    /// u64: the replicated log's sequence of the last command applied in full (cluster
    /// mode; absent on a single node).
    pub(crate) const APPLIED_SEQ: &[u8] = b"applied_seq";
    /// u64: the sequence of a command being applied; present at open only when the
    /// process stopped in the middle of one (the store then holds part of it).
    pub(crate) const APPLYING_SEQ: &[u8] = b"applying_seq";
    /// u64: how many commands of the log this store has applied (each sequence once:
    /// equal to `applied_seq` unless a command was applied twice or skipped).
    pub(crate) const APPLIED_COUNT: &[u8] = b"applied_count";
    /// 32 bytes: SHA-256 chained over every applied log entry (sequence and bytes), so
    /// two replicas at one sequence can tell whether they applied the same log.
    pub(crate) const LOG_HASH: &[u8] = b"log_hash";
}

/// Entity flag bit: soft-deleted.
pub(crate) const FLAG_DELETED: u8 = 1;

/// 4-byte big-endian key of a node.
pub(crate) fn node_key(n: NodeId) -> [u8; 4] {
    n.0.to_be_bytes()
}

/// 4-byte big-endian key of a column.
pub(crate) fn column_key(c: ColumnId) -> [u8; 4] {
    c.0.to_be_bytes()
}

/// 8-byte key of an edge: from then to.
pub(crate) fn edge_key(from: NodeId, to: NodeId) -> [u8; 8] {
    let mut k = [0u8; 8];
    k[..4].copy_from_slice(&from.0.to_be_bytes());
    k[4..].copy_from_slice(&to.0.to_be_bytes());
    k
}

/// Decodes [`edge_key`].
pub(crate) fn decode_edge_key(k: &[u8]) -> Result<(NodeId, NodeId)> {
    if k.len() != 8 {
        return Err(corrupt("edge_details", format!("key of {} bytes", k.len())));
    }
    Ok((NodeId(be_u32(&k[..4])), NodeId(be_u32(&k[4..]))))
}

/// Key of the (type, FQN) indexes.
pub(crate) fn fqn_key(t: EntityType, fqn: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(fqn.len() + 1);
    k.push(t.code());
    k.extend_from_slice(fqn.as_bytes());
    k
}

/// Big-endian u32 from the first four bytes (callers check the length).
pub(crate) fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Decodes a 4-byte id value or key.
pub(crate) fn decode_u32(cf: &'static str, b: &[u8]) -> Result<u32> {
    if b.len() < 4 {
        return Err(corrupt(cf, format!("expected 4 bytes, found {}", b.len())));
    }
    Ok(be_u32(b))
}

/// Serializes a sorted neighbour list as a roaring bitmap.
pub(crate) fn encode_ids(ids: &[u32]) -> Vec<u8> {
    let bm = RoaringBitmap::from_sorted_iter(ids.iter().copied())
        .expect("neighbour lists are kept sorted and unique");
    let mut out = Vec::with_capacity(bm.serialized_size());
    bm.serialize_into(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// Decodes a roaring bitmap into a sorted neighbour list.
pub(crate) fn decode_ids(cf: &'static str, bytes: &[u8]) -> Result<Vec<u32>> {
    let bm = RoaringBitmap::deserialize_from(bytes)
        .map_err(|e| corrupt(cf, format!("bad bitmap: {e}")))?;
    Ok(bm.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_numerically() {
        assert!(node_key(NodeId(255)) < node_key(NodeId(256)));
        assert!(edge_key(NodeId(1), NodeId(900)) < edge_key(NodeId(2), NodeId(0)));
        assert_eq!(
            decode_edge_key(&edge_key(NodeId(7), NodeId(9))).unwrap(),
            (NodeId(7), NodeId(9))
        );
    }

    #[test]
    fn bitmaps_round_trip() {
        let ids = vec![0, 3, 70_000, 4_000_000];
        assert_eq!(decode_ids("node_out", &encode_ids(&ids)).unwrap(), ids);
        assert!(decode_ids("node_out", b"garbage").is_err());
    }
}

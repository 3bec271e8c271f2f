//! Decoded entity records and edge details kept in memory, so a lineage answer whose
//! nodes and edges were read before does no RocksDB read and no JSON decode.
//!
//! The cache lives in [`Graph`](crate::graph::Graph) and follows its locking: readers
//! hold the graph's read lock (so no write runs while they read RocksDB and fill the
//! cache), and every write drops the entries it changes while it holds the write lock
//! ([`Graph::apply`](crate::graph::Graph::apply)); a bulk load or a rebuilt graph starts
//! empty. So an entry is always what RocksDB holds. When a map reaches its capacity it
//! is emptied and refills from what is asked next (simple, bounded, no bookkeeping on
//! hits).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rustc_hash::FxHashMap;

use crate::model::{Entity, StoredDetails};

/// Entries per map before it is emptied (entities and edge details each).
pub(crate) const DEFAULT_CAPACITY: usize = 1 << 18;

/// See the module documentation.
pub(crate) struct RecordCache {
    entities: Mutex<FxHashMap<u32, Arc<Entity>>>,
    details: Mutex<FxHashMap<(u32, u32), Arc<StoredDetails>>>,
    capacity: usize,
}

impl Default for RecordCache {
    /// Holds [`DEFAULT_CAPACITY`] entries per map, or `HEADWATERS_RECORD_CACHE_ENTRIES`
    /// (0 turns the cache off: every read goes to RocksDB, as before it existed).
    fn default() -> Self {
        let capacity = std::env::var("HEADWATERS_RECORD_CACHE_ENTRIES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_CAPACITY);
        RecordCache {
            entities: Mutex::default(),
            details: Mutex::default(),
            capacity,
        }
    }
}

fn bounded_insert<K: std::hash::Hash + Eq, V, S: std::hash::BuildHasher>(
    map: &mut HashMap<K, V, S>,
    cap: usize,
    k: K,
    v: V,
) {
    if cap == 0 {
        return;
    }
    if map.len() >= cap {
        map.clear();
    }
    map.insert(k, v);
}

impl RecordCache {
    /// The cached entities of `nodes` (one lock for all).
    pub(crate) fn entities(&self, nodes: impl Iterator<Item = u32>) -> Vec<Option<Arc<Entity>>> {
        let m = self.entities.lock().unwrap_or_else(PoisonError::into_inner);
        nodes.map(|n| m.get(&n).cloned()).collect()
    }

    /// Keeps entities just read.
    pub(crate) fn put_entities(&self, read: impl IntoIterator<Item = Arc<Entity>>) {
        let mut m = self.entities.lock().unwrap_or_else(PoisonError::into_inner);
        for e in read {
            bounded_insert(&mut m, self.capacity, e.node.0, e);
        }
    }

    /// The cached details of the edges `pairs` (one lock for all).
    pub(crate) fn details(
        &self,
        pairs: impl Iterator<Item = (u32, u32)>,
    ) -> Vec<Option<Arc<StoredDetails>>> {
        let m = self.details.lock().unwrap_or_else(PoisonError::into_inner);
        pairs.map(|p| m.get(&p).cloned()).collect()
    }

    /// Keeps edge details just read.
    pub(crate) fn put_details(
        &self,
        read: impl IntoIterator<Item = ((u32, u32), Arc<StoredDetails>)>,
    ) {
        let mut m = self.details.lock().unwrap_or_else(PoisonError::into_inner);
        for (k, d) in read {
            bounded_insert(&mut m, self.capacity, k, d);
        }
    }

    /// Drops what a write changed (called under the graph's write lock).
    pub(crate) fn forget(&mut self, nodes: impl Iterator<Item = u32>, edges: &[(u32, u32)]) {
        let m = self
            .entities
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for n in nodes {
            m.remove(&n);
        }
        let d = self
            .details
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for e in edges {
            d.remove(e);
        }
    }

    /// Drops everything (after a bulk load).
    pub(crate) fn clear(&mut self) {
        self.entities
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.details
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Entries held (entities, edge details).
    #[cfg(test)]
    pub(crate) fn len(&self) -> (usize, usize) {
        (
            self.entities
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
            self.details
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EntityType, NodeId};

    fn entity(n: u32) -> Arc<Entity> {
        Arc::new(Entity {
            node: NodeId(n),
            id: uuid::Uuid::from_u128(u128::from(n)),
            entity_type: EntityType::Table,
            fqn: format!("db.t{n}"),
            name: format!("t{n}"),
            deleted: false,
            columns: vec![],
        })
    }

    fn with_capacity(capacity: usize) -> RecordCache {
        RecordCache {
            capacity,
            ..RecordCache::default()
        }
    }

    #[test]
    fn a_full_map_is_emptied_and_refills() {
        let c = with_capacity(2);
        c.put_entities([entity(1), entity(2)]);
        assert_eq!(c.len().0, 2);
        c.put_entities([entity(3)]);
        assert_eq!(
            c.len().0,
            1,
            "emptied at capacity, then holds the new entry"
        );
        let got = c.entities([1, 3].into_iter());
        assert!(got[0].is_none());
        assert_eq!(got[1].as_ref().map(|e| e.fqn.as_str()), Some("db.t3"));
    }

    #[test]
    fn capacity_zero_keeps_nothing_and_forget_drops_entries() {
        let off = with_capacity(0);
        off.put_entities([entity(1)]);
        off.put_details([((1, 2), Arc::new(StoredDetails::default()))]);
        assert_eq!(off.len(), (0, 0));
        let mut on = with_capacity(8);
        on.put_entities([entity(1), entity(2)]);
        on.put_details([((1, 2), Arc::new(StoredDetails::default()))]);
        on.forget([1].into_iter(), &[(1, 2)]);
        assert_eq!(on.len(), (1, 0));
        on.clear();
        assert_eq!(on.len(), (0, 0));
    }
}

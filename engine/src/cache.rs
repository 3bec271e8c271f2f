//! Decoded entity records and edge details kept in memory, so a lineage answer whose
//! nodes and edges were read before does no RocksDB read and no JSON decode.
//!
//! The cache lives in [`Graph`](crate::graph::Graph) and follows its locking: readers
//! hold the graph's read lock (so no write runs while they read RocksDB and fill the
//! cache), and every write drops the entries it changes while it holds the write lock
//! ([`Graph::apply`](crate::graph::Graph::apply)); a bulk load or a rebuilt graph starts
//! empty. So an entry is always what RocksDB holds. Each map counts the approximate
//! bytes its values hold; when the next value would pass its half of the budget it is
//! emptied and refills from what is asked next (simple, bounded, no bookkeeping on
//! hits).
//!
//! Besides records it keeps *renderings*: bytes a caller made from them (a server's JSON
//! fragment of a node or of an edge), opaque here, under a caller's tag. A node's
//! rendering is dropped with its record; an edge's with its details or with either end's
//! record (an edge's rendering may show its ends' ids and column names). A caller
//! renders from what it read in the same read view it keeps the rendering in, so a
//! rendering, like a record, is always what RocksDB holds.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use rustc_hash::FxHashMap;

use crate::ids::NodeId;
use crate::model::{Entity, StoredDetails};

/// Distinct tags a caller may keep renderings under.
pub const RENDER_TAGS: u8 = 4;

/// What a rendering was made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RenderOf {
    /// A node's entity record.
    Node(NodeId),
    /// An edge's details and its ends' records.
    Edge(NodeId, NodeId),
}

/// Bytes a caller made from records (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendering(pub Box<[u8]>);

impl std::ops::Deref for Rendering {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// A rendering's key: what it was made from and the caller's tag (below [`RENDER_TAGS`]).
pub type RenderKey = (RenderOf, u8);

/// Memory the cache may hold by default, its three maps together (a third each).
pub(crate) const DEFAULT_MIB: usize = 128;

/// Approximate heap bytes of a cached value (its strings, lists and fixed parts).
pub(crate) trait Footprint {
    /// Approximate bytes held.
    fn footprint(&self) -> usize;
}

impl Footprint for Entity {
    fn footprint(&self) -> usize {
        let columns: usize = self.columns.iter().map(|(n, _)| n.len() + 40).sum();
        96 + self.fqn.len() + self.name.len() + columns
    }
}

impl Footprint for StoredDetails {
    fn footprint(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, |s| s.len() + 24);
        let cols: usize = self
            .cols
            .iter()
            .map(|m| {
                64 + 4 * m.from.len()
                    + m.func.as_ref().map_or(0, String::len)
                    + m.tr.as_ref().map_or(0, String::len)
            })
            .sum();
        160 + text(&self.sql)
            + text(&self.desc)
            + text(&self.created_by)
            + text(&self.updated_by)
            + cols
    }
}

impl Footprint for Rendering {
    fn footprint(&self) -> usize {
        16 + self.0.len()
    }
}

/// One map and the bytes its values hold.
struct Held<K, V> {
    map: FxHashMap<K, Arc<V>>,
    bytes: usize,
}

impl<K, V> Default for Held<K, V> {
    fn default() -> Self {
        Held {
            map: FxHashMap::default(),
            bytes: 0,
        }
    }
}

/// Bytes an entry costs: its value and the map's slot, key and `Arc` header.
fn entry_bytes<V: Footprint>(v: &V) -> usize {
    v.footprint() + 48
}

impl<K: Hash + Eq, V: Footprint> Held<K, V> {
    /// Keeps `v`, emptying the map first when it would pass `budget` bytes.
    fn insert(&mut self, budget: usize, k: K, v: Arc<V>) {
        let size = entry_bytes(&*v);
        if size > budget {
            return;
        }
        if self.bytes + size > budget {
            self.clear();
        }
        if let Some(old) = self.map.insert(k, v) {
            self.bytes -= entry_bytes(&*old);
        }
        self.bytes += size;
    }

    fn remove(&mut self, k: &K) {
        if let Some(old) = self.map.remove(k) {
            self.bytes -= entry_bytes(&*old);
        }
    }

    fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }
}

/// What the record cache has done since the store opened, and what it holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordCacheStats {
    /// Entity records answered from memory.
    pub entity_hits: u64,
    /// Entity records read from storage.
    pub entity_misses: u64,
    /// Edge details answered from memory.
    pub detail_hits: u64,
    /// Edge details read from storage.
    pub detail_misses: u64,
    /// Renderings found kept.
    pub rendering_hits: u64,
    /// Renderings asked for and not kept (the caller makes them).
    pub rendering_misses: u64,
    /// Approximate bytes held, all maps.
    pub bytes: usize,
}

/// See the module documentation.
pub(crate) struct RecordCache {
    entities: Shared<u32, Entity>,
    details: Shared<(u32, u32), StoredDetails>,
    renderings: Shared<RenderKey, Rendering>,
    /// Bytes each map may hold.
    budget: usize,
    /// Hits and misses of entities, then of details, then of renderings.
    counts: [AtomicU64; 6],
}

impl Default for RecordCache {
    /// Holds [`DEFAULT_MIB`] MiB, or `HEADWATERS_RECORD_CACHE_MB` (0 turns the cache
    /// off: every read goes to RocksDB, as before it existed).
    fn default() -> Self {
        let mib = std::env::var("HEADWATERS_RECORD_CACHE_MB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MIB);
        RecordCache {
            entities: Shared::default(),
            details: Shared::default(),
            renderings: Shared::default(),
            budget: mib * (1 << 20) / 3,
            counts: Default::default(),
        }
    }
}

/// One map behind a read-write lock: lookups share it, so concurrent answers do not
/// queue for it; a write lock only to keep what was just read.
struct Shared<K, V>(RwLock<Held<K, V>>);

impl<K, V> Default for Shared<K, V> {
    fn default() -> Self {
        Shared(RwLock::new(Held::default()))
    }
}

impl<K: Hash + Eq, V: Footprint> Shared<K, V> {
    /// The values of `keys` (one read lock for all).
    fn get_many(&self, keys: impl Iterator<Item = K>) -> Vec<Option<Arc<V>>> {
        let m = self.0.read().unwrap_or_else(PoisonError::into_inner);
        keys.map(|k| m.map.get(&k).cloned()).collect()
    }

    /// Keeps `items` within `budget` bytes (no lock taken when there are none).
    fn put_many(&self, budget: usize, items: impl IntoIterator<Item = (K, Arc<V>)>) {
        let mut items = items.into_iter().peekable();
        if items.peek().is_none() {
            return;
        }
        let mut m = self.0.write().unwrap_or_else(PoisonError::into_inner);
        for (k, v) in items {
            m.insert(budget, k, v);
        }
    }

    fn bytes(&self) -> usize {
        self.0.read().unwrap_or_else(PoisonError::into_inner).bytes
    }

    /// The map, for a caller that holds the graph's write lock (so no reader can).
    fn held(&mut self) -> &mut Held<K, V> {
        self.0.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .len()
    }
}

impl RecordCache {
    /// The cached entities of `nodes` (one lock for all).
    pub(crate) fn entities(&self, nodes: impl Iterator<Item = u32>) -> Vec<Option<Arc<Entity>>> {
        self.look(0, &self.entities, nodes)
    }

    /// Keeps entities just read.
    pub(crate) fn put_entities(&self, read: impl IntoIterator<Item = Arc<Entity>>) {
        self.entities
            .put_many(self.budget, read.into_iter().map(|e| (e.node.0, e)));
    }

    /// The cached details of the edges `pairs` (one lock for all).
    pub(crate) fn details(
        &self,
        pairs: impl Iterator<Item = (u32, u32)>,
    ) -> Vec<Option<Arc<StoredDetails>>> {
        self.look(2, &self.details, pairs)
    }

    /// Keeps edge details just read.
    pub(crate) fn put_details(
        &self,
        read: impl IntoIterator<Item = ((u32, u32), Arc<StoredDetails>)>,
    ) {
        self.details.put_many(self.budget, read);
    }

    /// The renderings kept under `keys` (one lock for all).
    pub(crate) fn renderings(
        &self,
        keys: impl Iterator<Item = RenderKey>,
    ) -> Vec<Option<Arc<Rendering>>> {
        self.look(4, &self.renderings, keys)
    }

    /// Keeps renderings just made (tags at or above [`RENDER_TAGS`] are not kept).
    pub(crate) fn put_renderings(
        &self,
        made: impl IntoIterator<Item = (RenderKey, Arc<Rendering>)>,
    ) {
        self.renderings.put_many(
            self.budget,
            made.into_iter().filter(|(k, _)| k.1 < RENDER_TAGS),
        );
    }

    /// The values of `keys` in `map`, its hits and misses counted (`at`: 0 entities, 2
    /// details, 4 renderings).
    fn look<K: Hash + Eq, V: Footprint>(
        &self,
        at: usize,
        map: &Shared<K, V>,
        keys: impl Iterator<Item = K>,
    ) -> Vec<Option<Arc<V>>> {
        let got = map.get_many(keys);
        let hits = got.iter().filter(|g| g.is_some()).count() as u64;
        self.counts[at].fetch_add(hits, Ordering::Relaxed);
        self.counts[at + 1].fetch_add(got.len() as u64 - hits, Ordering::Relaxed);
        got
    }

    /// Hits, misses and bytes held.
    pub(crate) fn stats(&self) -> RecordCacheStats {
        let c = |i: usize| self.counts[i].load(Ordering::Relaxed);
        RecordCacheStats {
            entity_hits: c(0),
            entity_misses: c(1),
            detail_hits: c(2),
            detail_misses: c(3),
            rendering_hits: c(4),
            rendering_misses: c(5),
            bytes: self.entities.bytes() + self.details.bytes() + self.renderings.bytes(),
        }
    }

    /// Drops what a write changed (called under the graph's write lock): the records of
    /// `nodes` and their renderings, the details of `edges`, and the renderings of
    /// `edges` and of `touching` (the edges of changed nodes).
    pub(crate) fn forget(
        &mut self,
        nodes: impl Iterator<Item = u32> + Clone,
        edges: &[(u32, u32)],
        touching: impl Iterator<Item = (u32, u32)>,
    ) {
        let m = self.entities.held();
        for n in nodes.clone() {
            m.remove(&n);
        }
        let d = self.details.held();
        for e in edges {
            d.remove(e);
        }
        let r = self.renderings.held();
        if r.map.is_empty() {
            return;
        }
        let of_nodes = nodes.map(|n| RenderOf::Node(NodeId(n)));
        let of_edges = edges
            .iter()
            .copied()
            .chain(touching)
            .map(|(a, b)| RenderOf::Edge(NodeId(a), NodeId(b)));
        for of in of_nodes.chain(of_edges) {
            for tag in 0..RENDER_TAGS {
                r.remove(&(of, tag));
            }
        }
    }

    /// Drops everything (after a bulk load).
    pub(crate) fn clear(&mut self) {
        self.entities.held().clear();
        self.details.held().clear();
        self.renderings.held().clear();
    }

    /// Entries held (entities, edge details).
    #[cfg(test)]
    pub(crate) fn len(&self) -> (usize, usize) {
        (self.entities.len(), self.details.len())
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

    /// A cache whose maps hold `n` of the test's entities each.
    fn with_capacity(n: usize) -> RecordCache {
        RecordCache {
            budget: n * entry_bytes(&*entity(1)),
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
        let mut on = RecordCache {
            budget: 1 << 20,
            ..RecordCache::default()
        };
        on.put_entities([entity(1), entity(2)]);
        on.put_details([((1, 2), Arc::new(StoredDetails::default()))]);
        on.forget([1].into_iter(), &[(1, 2)], std::iter::empty());
        assert_eq!(on.len(), (1, 0));
        on.clear();
        assert_eq!(on.len(), (0, 0));
    }
}

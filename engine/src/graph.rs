//! The in-memory adjacency: what queries read, rebuilt at open, changed on every commit.
//!
//! Per node and per column the sorted neighbours in each direction ([`Lists`]: packed
//! CSR arrays, built at open and by bulk loads, plus an overlay of the lists single
//! commits replaced since), the node's type code and flags, and each column's owner.
//! RocksDB stays the source of truth; this is its index.

use std::borrow::Cow;
use std::collections::HashMap;

use rustc_hash::FxHashMap;

use crate::cache::RecordCache;
use crate::ids::EntityTypeSet;
use crate::keys::FLAG_DELETED;
use crate::traverse::{Adjacency, Direction};

/// Marks a column id with no owner (never allocated, or dropped).
pub(crate) const NO_OWNER: u32 = u32::MAX;

/// One adjacency family: which ids and which direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Side {
    NodeOut,
    NodeIn,
    ColumnOut,
    ColumnIn,
}

/// The whole in-memory graph.
#[derive(Default)]
pub(crate) struct Graph {
    /// Entity type code per node; 0 where no node exists.
    pub(crate) kind: Vec<u8>,
    /// Flag bits per node ([`FLAG_DELETED`]).
    pub(crate) flags: Vec<u8>,
    pub(crate) out: Lists,
    pub(crate) inn: Lists,
    /// Owning node per column, [`NO_OWNER`] where none.
    pub(crate) col_owner: Vec<u32>,
    pub(crate) col_out: Lists,
    pub(crate) col_in: Lists,
    /// How many nodes are soft-deleted (when none, traversals skip the per-node check).
    pub(crate) deleted: usize,
    /// Decoded entity records and edge details read before (see [`RecordCache`]).
    pub(crate) cache: RecordCache,
}

impl Graph {
    pub(crate) fn list(&self, side: Side, id: u32) -> &[u32] {
        let lists = match side {
            Side::NodeOut => &self.out,
            Side::NodeIn => &self.inn,
            Side::ColumnOut => &self.col_out,
            Side::ColumnIn => &self.col_in,
        };
        lists.get(id)
    }

    fn lists_mut(&mut self, side: Side) -> &mut Lists {
        match side {
            Side::NodeOut => &mut self.out,
            Side::NodeIn => &mut self.inn,
            Side::ColumnOut => &mut self.col_out,
            Side::ColumnIn => &mut self.col_in,
        }
    }

    pub(crate) fn exists(&self, n: u32) -> bool {
        self.kind.get(n as usize).is_some_and(|k| *k != 0)
    }

    /// Grows every per-node and per-column vector to the given id bounds.
    pub(crate) fn grow(&mut self, nodes: u32, columns: u32) {
        let n = nodes as usize;
        if self.kind.len() < n {
            self.kind.resize(n, 0);
            self.flags.resize(n, 0);
            self.out.grow(n);
            self.inn.grow(n);
        }
        let c = columns as usize;
        if self.col_owner.len() < c {
            self.col_owner.resize(c, NO_OWNER);
            self.col_out.grow(c);
            self.col_in.grow(c);
        }
    }

    /// Installs changes computed by a transaction (after they were committed to storage).
    pub(crate) fn apply(&mut self, c: MemChanges) {
        // The edges of changed nodes, before and after: their renderings show the nodes.
        let touching = c.nodes.keys().flat_map(|&n| {
            let now = |side| c.lists.get(&(side, n)).map_or(&[][..], Vec::as_slice);
            let out = self.out.get(n).iter().chain(now(Side::NodeOut));
            let inn = self.inn.get(n).iter().chain(now(Side::NodeIn));
            out.map(move |&b| (n, b)).chain(inn.map(move |&a| (a, n)))
        });
        self.cache
            .forget(c.nodes.keys().copied(), &c.details, touching);
        self.grow(c.next_node, c.next_column);
        for ((side, id), list) in c.lists {
            self.lists_mut(side).set(id, list);
        }
        for (n, (kind, flags)) in c.nodes {
            let was = self.flags[n as usize] & FLAG_DELETED != 0;
            let now = kind != 0 && flags & FLAG_DELETED != 0;
            self.deleted = self.deleted + usize::from(now) - usize::from(was);
            self.kind[n as usize] = kind;
            self.flags[n as usize] = flags;
        }
        for (col, owner) in c.col_owner {
            self.col_owner[col as usize] = owner;
        }
    }

    pub(crate) fn edge_count(&self) -> usize {
        self.out.entry_count()
    }

    pub(crate) fn column_edge_count(&self) -> usize {
        self.col_out.entry_count()
    }
}

/// The adjacency lists of one side, one sorted list per id.
///
/// Packed: list `i` is `targets[offsets[i]..offsets[i + 1]]`, 4 bytes per id and per
/// entry (a `Vec` per list would add a 24-byte header per id, most of the memory of a
/// big graph). Lists replaced later by single commits live in `overlay`, their ids
/// marked in the `overlaid` bitset so that a lookup pays for the hash only on them.
/// Bulk loads and opening a store build the packed arrays anew, folding the overlay in.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lists {
    offsets: Vec<u32>,
    targets: Vec<u32>,
    overlay: FxHashMap<u32, Vec<u32>>,
    overlaid: Vec<u64>,
}

impl Lists {
    /// Number of ids.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    fn is_overlaid(&self, i: usize) -> bool {
        !self.overlay.is_empty() && self.overlaid[i / 64] >> (i % 64) & 1 == 1
    }

    /// The list of `id` (empty beyond the ids).
    pub(crate) fn get(&self, id: u32) -> &[u32] {
        let i = id as usize;
        if i >= self.len() {
            return &[];
        }
        if self.is_overlaid(i) {
            return &self.overlay[&id];
        }
        &self.targets[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Makes room for ids below `n` (new ids have empty lists).
    pub(crate) fn grow(&mut self, n: usize) {
        if n > self.len() {
            let end = self.offsets.last().copied().unwrap_or(0);
            self.offsets.resize(n + 1, end);
            self.overlaid.resize(n.div_ceil(64), 0);
        }
    }

    /// Replaces the list of `id` (below [`Lists::len`]).
    pub(crate) fn set(&mut self, id: u32, list: Vec<u32>) {
        let i = id as usize;
        self.overlaid[i / 64] |= 1 << (i % 64);
        self.overlay.insert(id, list);
    }

    /// Entries over all lists.
    pub(crate) fn entry_count(&self) -> usize {
        if self.overlay.is_empty() {
            return self.targets.len();
        }
        (0..self.len() as u32).map(|i| self.get(i).len()).sum()
    }

    /// The packed arrays (offsets, then targets) with the overlay folded in; `None` when
    /// some list only fits the overlay (past 4G entries).
    pub(crate) fn packed(&self) -> Option<Packed<'_>> {
        if self.overlay.is_empty() {
            return Some(Packed {
                offsets: Cow::Borrowed(&self.offsets),
                targets: Cow::Borrowed(&self.targets),
            });
        }
        let folded = self.rebuilt(self.len(), std::iter::empty(), 0);
        folded.overlay.is_empty().then_some(Packed {
            offsets: Cow::Owned(folded.offsets),
            targets: Cow::Owned(folded.targets),
        })
    }

    /// Lists from packed arrays as [`Lists::packed`] gives them, if they are well formed:
    /// offsets start at 0, never decrease and end at the number of targets, and every
    /// target is below `bound`.
    pub(crate) fn from_packed(offsets: Vec<u32>, targets: Vec<u32>, bound: u32) -> Option<Lists> {
        let well_formed = offsets.first() == Some(&0)
            && offsets.windows(2).all(|w| w[0] <= w[1])
            && offsets.last().map(|l| *l as usize) == Some(targets.len())
            && targets.iter().all(|t| *t < bound);
        well_formed.then(|| Lists {
            overlaid: vec![0; (offsets.len() - 1).div_ceil(64)],
            offsets,
            targets,
            overlay: FxHashMap::default(),
        })
    }

    /// Every non-empty list with its id, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &[u32])> {
        (0..self.len() as u32)
            .map(|i| (i, self.get(i)))
            .filter(|(_, l)| !l.is_empty())
    }

    /// These lists with `changed` (sorted by id, ids below `n`) replacing theirs, over
    /// ids below `n`, packed anew. `room`: entries the changed lists add at most (the
    /// targets are allocated once, not grown by doubling and copying).
    pub(crate) fn rebuilt<'a>(
        &self,
        n: usize,
        changed: impl IntoIterator<Item = (u32, &'a [u32])>,
        room: usize,
    ) -> Lists {
        let mut b = ListsBuilder::with_capacity(n, self.targets.len() + room);
        let mut changed = changed.into_iter().peekable();
        for id in 0..n as u32 {
            match changed.peek() {
                Some((c, l)) if *c == id => {
                    b.push(l);
                    changed.next();
                }
                _ => b.push(self.get(id)),
            }
        }
        b.finish()
    }
}

/// The packed arrays of a [`Lists`] (see [`Lists::packed`]).
pub(crate) struct Packed<'a> {
    /// Where each id's list starts (and, last, where the final one ends).
    pub(crate) offsets: Cow<'a, [u32]>,
    /// Every list, one after the other.
    pub(crate) targets: Cow<'a, [u32]>,
}

/// Builds [`Lists`] id by id.
pub(crate) struct ListsBuilder {
    lists: Lists,
    overflow: Vec<(u32, Vec<u32>)>,
}

impl ListsBuilder {
    /// For `ids` lists of about `entries` entries in all.
    pub(crate) fn with_capacity(ids: usize, entries: usize) -> Self {
        let mut offsets = Vec::with_capacity(ids + 1);
        offsets.push(0);
        ListsBuilder {
            lists: Lists {
                offsets,
                targets: Vec::with_capacity(entries),
                ..Lists::default()
            },
            overflow: Vec::new(),
        }
    }

    /// Appends the list of the next id.
    pub(crate) fn push(&mut self, list: &[u32]) {
        let l = &mut self.lists;
        let id = l.len() as u32;
        // Offsets are u32: past 4G entries on one side, lists go to the overlay.
        if l.targets.len() + list.len() > u32::MAX as usize {
            self.overflow.push((id, list.to_vec()));
        } else {
            l.targets.extend_from_slice(list);
        }
        l.offsets.push(l.targets.len() as u32);
    }

    /// The lists pushed so far.
    pub(crate) fn finish(self) -> Lists {
        let mut lists = self.lists;
        lists.overlaid = vec![0; lists.len().div_ceil(64)];
        for (id, l) in self.overflow {
            lists.set(id, l);
        }
        lists
    }
}

impl From<Vec<Vec<u32>>> for Lists {
    fn from(v: Vec<Vec<u32>>) -> Lists {
        let mut b = ListsBuilder::with_capacity(v.len(), v.iter().map(Vec::len).sum());
        for l in &v {
            b.push(l);
        }
        b.finish()
    }
}

/// In-memory changes of one transaction.
#[derive(Default)]
pub(crate) struct MemChanges {
    pub(crate) lists: HashMap<(Side, u32), Vec<u32>>,
    pub(crate) nodes: HashMap<u32, (u8, u8)>,
    pub(crate) col_owner: HashMap<u32, u32>,
    /// Edges whose details were written or deleted.
    pub(crate) details: Vec<(u32, u32)>,
    pub(crate) next_node: u32,
    pub(crate) next_column: u32,
}

/// Node adjacency seen through a type filter and the soft-delete rule.
pub(crate) struct NodeView<'a> {
    pub(crate) g: &'a Graph,
    /// Every node is admitted (no type filter, no soft-deleted node hidden): skip checks.
    pub(crate) all: bool,
    pub(crate) types: EntityTypeSet,
    pub(crate) include_deleted: bool,
}

impl Adjacency for NodeView<'_> {
    fn id_bound(&self) -> u32 {
        self.g.kind.len() as u32
    }

    fn neighbors(&self, n: u32, dir: Direction) -> &[u32] {
        let side = match dir {
            Direction::Downstream => Side::NodeOut,
            Direction::Upstream => Side::NodeIn,
        };
        self.g.list(side, n)
    }

    fn admits(&self, n: u32) -> bool {
        if self.all {
            return true;
        }
        let i = n as usize;
        self.types.contains_code(self.g.kind[i])
            && (self.include_deleted || self.g.flags[i] & FLAG_DELETED == 0)
    }
}

/// Column adjacency; a column is admitted when its owner node is.
pub(crate) struct ColumnView<'a> {
    pub(crate) nodes: NodeView<'a>,
}

impl Adjacency for ColumnView<'_> {
    fn id_bound(&self) -> u32 {
        self.nodes.g.col_owner.len() as u32
    }

    fn neighbors(&self, n: u32, dir: Direction) -> &[u32] {
        let side = match dir {
            Direction::Downstream => Side::ColumnOut,
            Direction::Upstream => Side::ColumnIn,
        };
        self.nodes.g.list(side, n)
    }

    fn admits(&self, n: u32) -> bool {
        if self.nodes.all {
            // A dropped column has no edges left, so it is never reached.
            return true;
        }
        let owner = self.nodes.g.col_owner[n as usize];
        owner != NO_OWNER && self.nodes.admits(owner)
    }
}

/// Inserts `x` into a sorted list; false if present.
pub(crate) fn sorted_insert(list: &mut Vec<u32>, x: u32) -> bool {
    match list.binary_search(&x) {
        Ok(_) => false,
        Err(i) => {
            list.insert(i, x);
            true
        }
    }
}

/// Removes `x` from a sorted list; false if absent.
pub(crate) fn sorted_remove(list: &mut Vec<u32>, x: u32) -> bool {
    match list.binary_search(&x) {
        Ok(i) => {
            list.remove(i);
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Grow(usize),
        Set(u32, Vec<u32>),
        Rebuild(Vec<(u32, Vec<u32>)>),
    }

    fn op() -> impl Strategy<Value = Op> {
        let list =
            || prop::collection::btree_set(0u32..50, 0..6).prop_map(|s| s.into_iter().collect());
        prop_oneof![
            (0usize..60).prop_map(Op::Grow),
            (0u32..60, list()).prop_map(|(i, l)| Op::Set(i, l)),
            prop::collection::btree_map(0u32..60, list(), 0..8)
                .prop_map(|m| Op::Rebuild(m.into_iter().collect())),
        ]
    }

    proptest! {
        /// Packed lists with an overlay answer like one `Vec` per id.
        #[test]
        fn lists_match_a_vec_per_id(ops in prop::collection::vec(op(), 1..40)) {
            let mut lists = Lists::default();
            let mut model: Vec<Vec<u32>> = Vec::new();
            for op in ops {
                match op {
                    Op::Grow(n) => {
                        lists.grow(n);
                        if model.len() < n {
                            model.resize(n, Vec::new());
                        }
                    }
                    Op::Set(id, l) => {
                        if (id as usize) < model.len() {
                            lists.set(id, l.clone());
                            model[id as usize] = l;
                        }
                    }
                    Op::Rebuild(changed) => {
                        let changed: Vec<_> = changed
                            .into_iter()
                            .filter(|(id, _)| (*id as usize) < model.len())
                            .collect();
                        lists = lists.rebuilt(
                            model.len(),
                            changed.iter().map(|(id, l)| (*id, l.as_slice())),
                            0,
                        );
                        prop_assert!(lists.overlay.is_empty(), "a rebuild folds the overlay in");
                        for (id, l) in changed {
                            model[id as usize] = l;
                        }
                    }
                }
                prop_assert_eq!(lists.len(), model.len());
                for (i, l) in model.iter().enumerate() {
                    prop_assert_eq!(lists.get(i as u32), l.as_slice());
                }
                prop_assert_eq!(lists.get(model.len() as u32), &[] as &[u32]);
                prop_assert_eq!(lists.entry_count(), model.iter().map(Vec::len).sum::<usize>());
                let listed: Vec<(u32, Vec<u32>)> = lists.iter().map(|(i, l)| (i, l.to_vec())).collect();
                let expected: Vec<(u32, Vec<u32>)> = model
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| !l.is_empty())
                    .map(|(i, l)| (i as u32, l.clone()))
                    .collect();
                prop_assert_eq!(listed, expected);
            }
            let from_vecs = Lists::from(model.clone());
            for (i, l) in model.iter().enumerate() {
                prop_assert_eq!(from_vecs.get(i as u32), l.as_slice());
            }
        }
    }
}

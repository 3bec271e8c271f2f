//! The in-memory adjacency: what queries read, rebuilt at open, changed on every commit.
//!
//! Per node and per column a sorted `Vec<u32>` of neighbours in each direction (a
//! CSR-like layout that can still take single-edge updates), the node's type code and
//! flags, and each column's owner. RocksDB stays the source of truth; this is its index.

use std::collections::HashMap;

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
    pub(crate) out: Vec<Vec<u32>>,
    pub(crate) inn: Vec<Vec<u32>>,
    /// Owning node per column, [`NO_OWNER`] where none.
    pub(crate) col_owner: Vec<u32>,
    pub(crate) col_out: Vec<Vec<u32>>,
    pub(crate) col_in: Vec<Vec<u32>>,
    /// How many nodes are soft-deleted (when none, traversals skip the per-node check).
    pub(crate) deleted: usize,
}

impl Graph {
    pub(crate) fn list(&self, side: Side, id: u32) -> &[u32] {
        let lists = match side {
            Side::NodeOut => &self.out,
            Side::NodeIn => &self.inn,
            Side::ColumnOut => &self.col_out,
            Side::ColumnIn => &self.col_in,
        };
        lists.get(id as usize).map_or(&[], Vec::as_slice)
    }

    fn lists_mut(&mut self, side: Side) -> &mut Vec<Vec<u32>> {
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
            self.out.resize_with(n, Vec::new);
            self.inn.resize_with(n, Vec::new);
        }
        let c = columns as usize;
        if self.col_owner.len() < c {
            self.col_owner.resize(c, NO_OWNER);
            self.col_out.resize_with(c, Vec::new);
            self.col_in.resize_with(c, Vec::new);
        }
    }

    /// Installs changes computed by a transaction (after they were committed to storage).
    pub(crate) fn apply(&mut self, c: MemChanges) {
        self.grow(c.next_node, c.next_column);
        for ((side, id), list) in c.lists {
            self.lists_mut(side)[id as usize] = list;
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
        self.out.iter().map(Vec::len).sum()
    }

    pub(crate) fn column_edge_count(&self) -> usize {
        self.col_out.iter().map(Vec::len).sum()
    }
}

/// In-memory changes of one transaction.
#[derive(Default)]
pub(crate) struct MemChanges {
    pub(crate) lists: HashMap<(Side, u32), Vec<u32>>,
    pub(crate) nodes: HashMap<u32, (u8, u8)>,
    pub(crate) col_owner: HashMap<u32, u32>,
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

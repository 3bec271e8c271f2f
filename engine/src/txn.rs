//! One write: reads see the store plus this write's own changes; at the end the
//! key-value batch and the in-memory changes come out together, so storage and the
//! in-memory adjacency change from the same computation.

use crate::backend::{Backend, Batch};
use crate::error::{Result, corrupt};
use crate::graph::{Graph, MemChanges, NO_OWNER, Side, sorted_insert, sorted_remove};
use crate::ids::{EntityType, NodeId};
use crate::keys::{self, cf};
use crate::model::{EntityHeader, StoredDetails};

pub(crate) struct Txn<'a> {
    pub(crate) g: &'a Graph,
    kv: &'a Backend,
    batch: Batch,
    mem: MemChanges,
}

/// An entity record as stored in `node_entity`.
pub(crate) struct Record {
    pub(crate) kind: EntityType,
    pub(crate) flags: u8,
    pub(crate) header: EntityHeader,
}

impl Record {
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let (kind, flags, json) = match bytes {
            [k, f, rest @ ..] => (*k, *f, rest),
            _ => return Err(corrupt(cf::NODE_ENTITY, "value shorter than its header")),
        };
        let kind = EntityType::from_code(kind)
            .ok_or_else(|| corrupt(cf::NODE_ENTITY, format!("unknown type code {kind}")))?;
        let header =
            serde_json::from_slice(json).map_err(|e| corrupt(cf::NODE_ENTITY, e.to_string()))?;
        Ok(Record {
            kind,
            flags,
            header,
        })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut v = vec![self.kind.code(), self.flags];
        serde_json::to_writer(&mut v, &self.header).expect("headers serialize");
        v
    }
}

pub(crate) fn decode_details(bytes: &[u8]) -> Result<StoredDetails> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(cf::EDGE_DETAILS, e.to_string()))
}

impl<'a> Txn<'a> {
    pub(crate) fn new(g: &'a Graph, kv: &'a Backend) -> Self {
        let mem = MemChanges {
            next_node: g.kind.len() as u32,
            next_column: g.col_owner.len() as u32,
            ..MemChanges::default()
        };
        Txn {
            g,
            kv,
            batch: Batch::default(),
            mem,
        }
    }

    /// The batch and the in-memory changes, with touched adjacency lists and counters
    /// serialized into the batch.
    pub(crate) fn finish(mut self) -> (Batch, MemChanges) {
        for ((side, id), list) in &self.mem.lists {
            let (family, key) = match side {
                Side::NodeOut => (cf::NODE_OUT, *id),
                Side::NodeIn => (cf::NODE_IN, *id),
                Side::ColumnOut => (cf::COLUMN_OUT, *id),
                Side::ColumnIn => (cf::COLUMN_IN, *id),
            };
            if list.is_empty() {
                self.batch.delete(family, &key.to_be_bytes());
            } else {
                self.batch
                    .put(family, &key.to_be_bytes(), keys::encode_ids(list));
            }
        }
        if self.mem.next_node as usize != self.g.kind.len() {
            self.batch.put(
                cf::META,
                keys::meta::NEXT_NODE,
                self.mem.next_node.to_be_bytes().to_vec(),
            );
        }
        if self.mem.next_column as usize != self.g.col_owner.len() {
            self.batch.put(
                cf::META,
                keys::meta::NEXT_COLUMN,
                self.mem.next_column.to_be_bytes().to_vec(),
            );
        }
        (self.batch, self.mem)
    }

    pub(crate) fn get(&self, family: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.batch.staged(family, key) {
            Some(v) => Ok(v.map(<[u8]>::to_vec)),
            None => self.kv.get(family, key),
        }
    }

    pub(crate) fn put(&mut self, family: &'static str, key: &[u8], value: Vec<u8>) {
        self.batch.put(family, key, value);
    }

    pub(crate) fn delete(&mut self, family: &'static str, key: &[u8]) {
        self.batch.delete(family, key);
    }

    pub(crate) fn list(&self, side: Side, id: u32) -> &[u32] {
        match self.mem.lists.get(&(side, id)) {
            Some(l) => l,
            None => self.g.list(side, id),
        }
    }

    fn list_mut(&mut self, side: Side, id: u32) -> &mut Vec<u32> {
        let g = self.g;
        self.mem
            .lists
            .entry((side, id))
            .or_insert_with(|| g.list(side, id).to_vec())
    }

    fn link(&mut self, out: Side, inn: Side, a: u32, b: u32) {
        sorted_insert(self.list_mut(out, a), b);
        sorted_insert(self.list_mut(inn, b), a);
    }

    fn unlink(&mut self, out: Side, inn: Side, a: u32, b: u32) {
        sorted_remove(self.list_mut(out, a), b);
        sorted_remove(self.list_mut(inn, b), a);
    }

    pub(crate) fn has_edge(&self, from: NodeId, to: NodeId) -> bool {
        self.list(Side::NodeOut, from.0)
            .binary_search(&to.0)
            .is_ok()
    }

    pub(crate) fn record(&self, n: NodeId) -> Result<Option<Record>> {
        self.get(cf::NODE_ENTITY, &keys::node_key(n))?
            .map(|b| Record::decode(&b))
            .transpose()
    }

    pub(crate) fn write_record(&mut self, n: NodeId, r: &Record) {
        self.put(cf::NODE_ENTITY, &keys::node_key(n), r.encode());
        self.mem.nodes.insert(n.0, (r.kind.code(), r.flags));
    }

    pub(crate) fn forget_node(&mut self, n: NodeId) {
        self.delete(cf::NODE_ENTITY, &keys::node_key(n));
        self.delete(cf::NODE_DOC, &keys::node_key(n));
        self.mem.nodes.insert(n.0, (0, 0));
    }

    pub(crate) fn alloc_node(&mut self) -> NodeId {
        let n = NodeId(self.mem.next_node);
        self.mem.next_node += 1;
        n
    }

    pub(crate) fn alloc_column(&mut self, owner: NodeId) -> u32 {
        let c = self.mem.next_column;
        self.mem.next_column += 1;
        self.mem.col_owner.insert(c, owner.0);
        c
    }

    pub(crate) fn drop_column(&mut self, c: u32) {
        self.mem.col_owner.insert(c, NO_OWNER);
    }

    pub(crate) fn column_owner(&self, c: u32) -> u32 {
        match self.mem.col_owner.get(&c) {
            Some(o) => *o,
            None => self
                .g
                .col_owner
                .get(c as usize)
                .copied()
                .unwrap_or(NO_OWNER),
        }
    }

    pub(crate) fn details(&self, from: NodeId, to: NodeId) -> Result<Option<StoredDetails>> {
        self.get(cf::EDGE_DETAILS, &keys::edge_key(from, to))?
            .map(|b| decode_details(&b))
            .transpose()
    }

    /// Sets (or with `None` removes) the edge `from -> to` with these details, and keeps
    /// both adjacency directions and the column graph in step.
    pub(crate) fn set_edge(
        &mut self,
        from: NodeId,
        to: NodeId,
        details: Option<StoredDetails>,
    ) -> Result<()> {
        if let Some(old) = self.details(from, to)? {
            for (a, b) in old.column_edges() {
                self.unlink(Side::ColumnOut, Side::ColumnIn, a, b);
            }
        }
        let key = keys::edge_key(from, to);
        self.mem.details.push((from.0, to.0));
        match details {
            Some(d) => {
                self.link(Side::NodeOut, Side::NodeIn, from.0, to.0);
                for (a, b) in d.column_edges() {
                    self.link(Side::ColumnOut, Side::ColumnIn, a, b);
                }
                let bytes = serde_json::to_vec(&d).expect("details serialize");
                self.put(cf::EDGE_DETAILS, &key, bytes);
            }
            None => {
                self.unlink(Side::NodeOut, Side::NodeIn, from.0, to.0);
                self.delete(cf::EDGE_DETAILS, &key);
            }
        }
        Ok(())
    }
}

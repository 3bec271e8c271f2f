//! The lineage store: durable writes through RocksDB, queries on the in-memory graph.
//!
//! Concurrency: one `RwLock` guards the in-memory graph. A write takes it exclusively,
//! computes its batch, commits the batch to storage with a synced WAL, and only then
//! changes the in-memory graph; a failed commit leaves memory untouched. A [`ReadView`]
//! holds the lock shared, so every read through one view — traversals and the records
//! fetched for their results — sees one committed state.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use uuid::Uuid;

use crate::backend::{Backend, Batch};
use crate::cache::RecordCache;
use crate::error::{Error, InternalError, Result, UserError, bad_input, corrupt};
use crate::graph::{ColumnView, Graph, Lists, ListsBuilder, NO_OWNER, NodeView, Side};
use crate::ids::{ColumnId, EntityType, EntityTypeSet, LineageSource, NodeId};
use crate::keys::{self, FLAG_DELETED, STORAGE_VERSION, cf, meta};
use crate::model::{
    ColumnMapping, Edge, EdgeInput, Entity, EntityHeader, EntityInput, PutEdgeOutcome,
    RejectedColumn, StoredDetails, StoredMapping,
};
use crate::traverse::{self, Direction, Traversal, TraversalSpec};
use crate::txn::{Record, Txn, decode_details};
use crate::util::now_millis;

/// A lineage graph store.
///
/// ```
/// use headwaters_engine::{EntityInput, EntityType, EdgeInput, Query, Store};
/// let store = Store::in_memory();
/// let table = |name: &str| EntityInput {
///     id: uuid::Uuid::new_v4(),
///     entity_type: EntityType::Table,
///     fqn: format!("svc.db.sch.{name}"),
///     name: name.into(),
///     columns: vec!["id".into()],
///     doc: serde_json::Value::Null,
/// };
/// let (a, _) = store.upsert_entity(table("raw"))?;
/// let (b, _) = store.upsert_entity(table("clean"))?;
/// store.put_edge(a, b, EdgeInput::default())?;
/// let view = store.read();
/// let lineage = view.traverse(b, &Query::depths(3, 0))?;
/// assert_eq!(lineage.upstream.visits[0].node, a);
/// # Ok::<(), headwaters_engine::Error>(())
/// ```
pub struct Store {
    pub(crate) kv: Backend,
    pub(crate) graph: RwLock<Graph>,
    /// Highest RocksDB sequence number known to be on disk (group commit).
    synced: std::sync::Mutex<u64>,
    /// Bumped after every write, once readers can see it (see [`Store::version`]).
    version: std::sync::atomic::AtomicU64,
    /// Whether a write waits for its WAL fsync (see [`Store::set_durable`]).
    pub(crate) durable: std::sync::atomic::AtomicBool,
    /// A replica takes writes only inside a command (see [`Store::set_replica`]).
    pub(crate) replica: std::sync::atomic::AtomicBool,
    /// Where the in-memory graph came from when the store opened.
    source: GraphSource,
}

/// Where an opened store's in-memory graph came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphSource {
    /// The snapshot the last [`Store::flush`] saved, still current.
    Snapshot,
    /// Rebuilt from RocksDB: no usable snapshot (the reason says why: none, stale after
    /// later writes, damaged, another format) or an in-memory store.
    Rebuilt(String),
    /// Rebuilt while repairing an interrupted bulk load.
    Repaired,
}

/// A traversal request: depth bounds and budget, plus which nodes may be visited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// Depths, budget, edges.
    pub spec: TraversalSpec,
    /// Only nodes of these types are visited (and walked through).
    pub types: EntityTypeSet,
    /// Visit soft-deleted nodes too.
    pub include_deleted: bool,
}

impl Query {
    /// All types, no deleted nodes, `up`/`down` levels, no budget.
    pub fn depths(up: u32, down: u32) -> Self {
        Query {
            spec: TraversalSpec::depths(up, down),
            types: EntityTypeSet::ALL,
            include_deleted: false,
        }
    }
}

/// Sizes of the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stats {
    /// Entities (soft-deleted included).
    pub nodes: usize,
    /// Table-level edges.
    pub edges: usize,
    /// Columns.
    pub columns: usize,
    /// Column-level edges.
    pub column_edges: usize,
}

pub(crate) fn lock_poisoned<T>(p: std::sync::PoisonError<T>) -> T {
    // Writes change memory only after a successful commit and cannot panic halfway
    // through `Graph::apply`, so the graph behind a poisoned lock is still consistent.
    p.into_inner()
}

impl Store {
    /// Opens (creating if needed) a store in directory `path`: migrates the layout,
    /// finishes or repairs an interrupted bulk load, and builds the in-memory graph.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let kv = Backend::open_rocks(path.as_ref())?;
        Self::start(kv)
    }

    /// A store that lives in memory only (tests, benchmarks).
    pub fn in_memory() -> Store {
        Self::start(Backend::memory()).expect("an empty in-memory store opens")
    }

    fn start(kv: Backend) -> Result<Store> {
        migrate(&kv)?;
        let repair_needed = kv.get(cf::META, meta::BULK_LOAD_IN_PROGRESS)?.is_some();
        let (graph, source) = if repair_needed {
            (repair(&kv)?, GraphSource::Repaired)
        } else {
            match saved_graph(&kv)? {
                Ok(g) => (g, GraphSource::Snapshot),
                Err(why) => (load_graph(&kv)?, GraphSource::Rebuilt(why)),
            }
        };
        Ok(Store {
            kv,
            graph: RwLock::new(graph),
            synced: std::sync::Mutex::new(0),
            version: std::sync::atomic::AtomicU64::new(0),
            durable: std::sync::atomic::AtomicBool::new(true),
            replica: std::sync::atomic::AtomicBool::new(false),
            source,
        })
    }

    /// Where the in-memory graph came from when this store opened.
    pub fn graph_source(&self) -> &GraphSource {
        &self.source
    }

    /// Flushes memtables to disk and saves the in-memory graph beside them, so that the
    /// next open reads it instead of rebuilding it (see `snapshot.rs`). Optional for
    /// durability (every acknowledged write already is); call it at a clean shutdown and
    /// after large imports. Writes wait while it runs.
    pub fn flush(&self) -> Result<()> {
        let g = self.graph.read().unwrap_or_else(lock_poisoned);
        self.kv.flush()?;
        if let Some((dir, sequence)) = self.kv.snapshot_place() {
            let stamp = crate::snapshot::Stamp {
                sequence,
                next_node: read_counter(&self.kv, meta::NEXT_NODE)?,
                next_column: read_counter(&self.kv, meta::NEXT_COLUMN)?,
            };
            crate::snapshot::save(dir, &g, stamp)?;
        }
        Ok(())
    }

    /// A consistent read view; writes wait while it is alive, so keep it short.
    pub fn read(&self) -> ReadView<'_> {
        ReadView {
            g: self.graph.read().unwrap_or_else(lock_poisoned),
            kv: &self.kv,
        }
    }

    /// A read view if one can be had without waiting (`None` while a write holds or
    /// waits for the lock): for callers that must not block, such as async workers.
    pub fn try_read(&self) -> Option<ReadView<'_>> {
        let g = match self.graph.try_read() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => lock_poisoned(p),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(ReadView { g, kv: &self.kv })
    }

    /// Runs `f` as one atomic write and returns once it is durable.
    ///
    /// Under the graph lock: compute the changes, append them to RocksDB (WAL and
    /// memtable, not yet synced), apply them to memory. Then, outside the lock, wait for
    /// a WAL fsync that covers them (group commit, see [`Backend::sync_to`]). So writes
    /// are applied in one order and concurrent writers share fsyncs. A reader may see a
    /// write shortly before it is acknowledged; a crash in that window loses it, and it
    /// was never acknowledged. If the sync fails the caller gets the error and must
    /// treat the write's outcome as unknown.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut Txn<'_>) -> Result<T>) -> Result<T> {
        crate::replica::check_write_allowed(self)?;
        let (value, seq) = {
            let mut g = self.graph.write().unwrap_or_else(lock_poisoned);
            let (value, batch, mem) = {
                let mut t = Txn::new(&g, &self.kv);
                let value = f(&mut t)?;
                let (batch, mem) = t.finish();
                (value, batch, mem)
            };
            let seq = self.kv.write_unsynced(batch)?;
            g.apply(mem);
            self.bump_version();
            (value, seq)
        };
        if self.durable.load(std::sync::atomic::Ordering::Relaxed) {
            self.kv.sync_to(seq, &self.synced)?;
        }
        Ok(value)
    }

    /// Creates or updates the entity with `input.id`. Returns its node and whether it was
    /// created. Columns that disappear take their column lineage with them.
    pub fn upsert_entity(&self, input: EntityInput) -> Result<(NodeId, bool)> {
        validate_entity(&input)?;
        self.write(|t| {
            let uuid_key = *input.id.as_bytes();
            let existing = t.get(cf::UUID_NODE, &uuid_key)?;
            let by_fqn = t.get(cf::FQN_NODE, &keys::fqn_key(input.entity_type, &input.fqn))?;
            let existing = existing
                .map(|b| keys::decode_u32(cf::UUID_NODE, &b))
                .transpose()?;
            let by_fqn = by_fqn
                .map(|b| keys::decode_u32(cf::FQN_NODE, &b))
                .transpose()?;
            if by_fqn.is_some() && by_fqn != existing {
                return Err(UserError::DuplicateFqn(input.entity_type, input.fqn.clone()).into());
            }
            let (node, created) = match existing {
                Some(n) => (NodeId(n), false),
                None => (t.alloc_node(), true),
            };
            let mut flags = 0;
            let mut old_columns = Vec::new();
            if !created {
                let old = t.record(node)?.ok_or_else(|| {
                    corrupt(
                        cf::UUID_NODE,
                        format!("{} points at missing {node}", input.id),
                    )
                })?;
                if old.kind != input.entity_type {
                    return Err(UserError::TypeChange {
                        id: input.id,
                        existing: old.kind,
                        requested: input.entity_type,
                    }
                    .into());
                }
                flags = old.flags;
                t.delete(cf::FQN_NODE, &keys::fqn_key(old.kind, &old.header.fqn));
                for (name, _) in &old.header.columns {
                    let col_fqn = format!("{}.{name}", old.header.fqn);
                    t.delete(cf::FQN_COLUMN, &keys::fqn_key(old.kind, &col_fqn));
                }
                old_columns = old.header.columns;
            }
            let kept: HashMap<&str, u32> =
                old_columns.iter().map(|(n, c)| (n.as_str(), *c)).collect();
            let mut columns = Vec::with_capacity(input.columns.len());
            for name in &input.columns {
                let c = match kept.get(name.as_str()) {
                    Some(c) => *c,
                    None => {
                        let c = t.alloc_column(node);
                        let mut v = keys::node_key(node).to_vec();
                        v.extend_from_slice(name.as_bytes());
                        t.put(cf::COLUMN_NODE, &c.to_be_bytes(), v);
                        c
                    }
                };
                let col_fqn = format!("{}.{name}", input.fqn);
                t.put(
                    cf::FQN_COLUMN,
                    &keys::fqn_key(input.entity_type, &col_fqn),
                    c.to_be_bytes().to_vec(),
                );
                columns.push((name.clone(), c));
            }
            let keep: HashSet<u32> = columns.iter().map(|(_, c)| *c).collect();
            let dropped: Vec<u32> = old_columns
                .iter()
                .map(|(_, c)| *c)
                .filter(|c| !keep.contains(c))
                .collect();
            drop_columns(t, &dropped)?;
            t.put(cf::UUID_NODE, &uuid_key, keys::node_key(node).to_vec());
            t.put(
                cf::FQN_NODE,
                &keys::fqn_key(input.entity_type, &input.fqn),
                keys::node_key(node).to_vec(),
            );
            let header = EntityHeader {
                id: input.id,
                fqn: input.fqn,
                name: input.name,
                columns,
            };
            t.write_record(
                node,
                &Record {
                    kind: input.entity_type,
                    flags,
                    header,
                },
            );
            let doc = serde_json::to_vec(&input.doc).expect("JSON values serialize");
            t.put(cf::NODE_DOC, &keys::node_key(node), doc);
            Ok((node, created))
        })
    }

    /// Soft-deletes (`true`) or restores (`false`) an entity. Its edges stay; traversals
    /// skip it unless asked to include deleted entities.
    pub fn set_deleted(&self, node: NodeId, deleted: bool) -> Result<()> {
        self.write(|t| {
            let mut r = t.record(node)?.ok_or(UserError::UnknownNode(node))?;
            r.flags = if deleted {
                r.flags | FLAG_DELETED
            } else {
                r.flags & !FLAG_DELETED
            };
            t.write_record(node, &r);
            Ok(())
        })
    }

    /// Deletes an entity for good, with its edges, columns and column lineage.
    pub fn hard_delete(&self, node: NodeId) -> Result<()> {
        self.write(|t| {
            let r = t.record(node)?.ok_or(UserError::UnknownNode(node))?;
            for m in t.list(Side::NodeOut, node.0).to_vec() {
                t.set_edge(node, NodeId(m), None)?;
            }
            for m in t.list(Side::NodeIn, node.0).to_vec() {
                t.set_edge(NodeId(m), node, None)?;
            }
            let cols: Vec<u32> = r.header.columns.iter().map(|(_, c)| *c).collect();
            for (name, _) in &r.header.columns {
                let col_fqn = format!("{}.{name}", r.header.fqn);
                t.delete(cf::FQN_COLUMN, &keys::fqn_key(r.kind, &col_fqn));
            }
            drop_columns(t, &cols)?;
            t.delete(cf::UUID_NODE, r.header.id.as_bytes());
            t.delete(cf::FQN_NODE, &keys::fqn_key(r.kind, &r.header.fqn));
            t.forget_node(node);
            Ok(())
        })
    }

    /// Creates the edge `from -> to` or replaces its details. Column mappings are
    /// checked item by item: a column that is not on the edge's own endpoint is dropped
    /// and reported in the outcome; a mapping left without a valid target or source is
    /// dropped whole.
    pub fn put_edge(&self, from: NodeId, to: NodeId, input: EdgeInput) -> Result<PutEdgeOutcome> {
        self.write(|t| {
            let from_rec = t.record(from)?.ok_or(UserError::UnknownNode(from))?;
            let to_rec = t.record(to)?.ok_or(UserError::UnknownNode(to))?;
            if let Some(p) = input.pipeline
                && t.get(cf::UUID_NODE, p.as_bytes())?.is_none()
            {
                return Err(UserError::UnknownEntity(p).into());
            }
            let mut rejected = Vec::new();
            let cols = resolve_mappings(&input.columns_lineage, &from_rec, &to_rec, &mut rejected);
            let old = t.details(from, to)?;
            let created = !t.has_edge(from, to);
            let at = input.at_millis.unwrap_or_else(now_millis);
            let (created_at, created_by) = match &old {
                Some(o) if !created => (o.created_at, o.created_by.clone()),
                _ => (at, input.actor.clone()),
            };
            let details = StoredDetails {
                sql: input.sql_query,
                cols,
                pipeline: input.pipeline,
                desc: input.description,
                source: input.source.code(),
                created_at,
                created_by,
                updated_at: at,
                updated_by: input.actor,
            };
            t.set_edge(from, to, Some(details))?;
            Ok(PutEdgeOutcome {
                created,
                rejected_columns: rejected,
            })
        })
    }

    /// Writes (or with `None` deletes) a server-owned record in the `aux` column family,
    /// durably. The graph is untouched.
    pub fn put_aux(&self, key: &[u8], value: Option<Vec<u8>>) -> Result<()> {
        // Not under the graph lock: callers may hold a read view while they record.
        crate::replica::check_write_allowed(self)?;
        let mut b = Batch::default();
        match value {
            Some(v) => b.put(cf::AUX, key, v),
            None => b.delete(cf::AUX, key),
        }
        if self.durable.load(std::sync::atomic::Ordering::Relaxed) {
            self.kv.write(b)?;
        } else {
            self.kv.write_unsynced(b)?;
        }
        self.bump_version();
        Ok(())
    }

    /// A number that changes after every write, bumped only once the write is visible
    /// to readers. Something computed from a read view opened after reading version
    /// `v` reflects at least every write counted in `v`, so a cache entry tagged with
    /// the version read before its computation is current while the version is still
    /// `v` (a write racing with the computation only makes the entry stale early).
    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::Acquire)
    }

    fn bump_version(&self) {
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Removes the edge `from -> to` and its column lineage. False if there was none.
    pub fn remove_edge(&self, from: NodeId, to: NodeId) -> Result<bool> {
        self.write(|t| {
            if !t.has_edge(from, to) {
                return Ok(false);
            }
            t.set_edge(from, to, None)?;
            Ok(true)
        })
    }

    /// Removes every edge into `node` whose source is `source`; returns how many.
    pub fn remove_upstream_edges_by_source(
        &self,
        node: NodeId,
        source: LineageSource,
    ) -> Result<usize> {
        self.write(|t| {
            if t.record(node)?.is_none() {
                return Err(UserError::UnknownNode(node).into());
            }
            let mut removed = 0;
            for m in t.list(Side::NodeIn, node.0).to_vec() {
                let s = t.details(NodeId(m), node)?.map_or(0, |d| d.source);
                if s == source.code() {
                    t.set_edge(NodeId(m), node, None)?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
    }

    /// Checks that storage and memory agree: both adjacency directions on disk are
    /// transposes of each other, the column graph on disk equals what the edge details
    /// imply, and the in-memory graph equals the disk. Returns the sizes checked.
    pub fn verify(&self) -> Result<Stats> {
        let g = self.graph.read().unwrap_or_else(lock_poisoned);
        let out = read_lists(&self.kv, cf::NODE_OUT)?;
        let inn = read_lists(&self.kv, cf::NODE_IN)?;
        let col_out = read_lists(&self.kv, cf::COLUMN_OUT)?;
        let col_in = read_lists(&self.kv, cf::COLUMN_IN)?;
        let mismatch = |what: String| corrupt("verify", what);
        if transpose(&out) != inn {
            return Err(mismatch("node_in is not the transpose of node_out".into()));
        }
        if transpose(&col_out) != col_in {
            return Err(mismatch(
                "column_in is not the transpose of column_out".into(),
            ));
        }
        let mut implied: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut detail_err = None;
        self.kv.scan(cf::EDGE_DETAILS, |k, v| {
            let (a, b) = keys::decode_edge_key(k)?;
            if out.get(&a.0).is_none_or(|l| l.binary_search(&b.0).is_err()) {
                detail_err = Some(format!("details for missing edge {a} -> {b}"));
            }
            for (x, y) in decode_details(v)?.column_edges() {
                implied.entry(x).or_default().push(y);
            }
            Ok(())
        })?;
        if let Some(e) = detail_err {
            return Err(mismatch(e));
        }
        for l in implied.values_mut() {
            l.sort_unstable();
            l.dedup();
        }
        if implied != col_out {
            return Err(mismatch(
                "column_out differs from the column lineage in edge_details".into(),
            ));
        }
        let mem = |lists: &Lists| -> HashMap<u32, Vec<u32>> {
            lists.iter().map(|(i, l)| (i, l.to_vec())).collect()
        };
        if mem(&g.out) != out
            || mem(&g.inn) != inn
            || mem(&g.col_out) != col_out
            || mem(&g.col_in) != col_in
        {
            return Err(mismatch("in-memory adjacency differs from storage".into()));
        }
        // Types, flags and owners as a rebuild from storage would give them (a graph
        // read from a snapshot must be exactly that).
        let fresh = load_graph(&self.kv)?;
        let live_flags = |g: &Graph| -> Vec<u8> {
            g.kind
                .iter()
                .zip(&g.flags)
                .map(|(k, f)| if *k == 0 { 0 } else { *f })
                .collect()
        };
        if g.kind != fresh.kind
            || live_flags(&g) != live_flags(&fresh)
            || g.col_owner != fresh.col_owner
            || g.deleted != fresh.deleted
        {
            return Err(mismatch(
                "in-memory node types, flags or column owners differ from storage".into(),
            ));
        }
        Ok(Stats {
            nodes: g.kind.iter().filter(|k| **k != 0).count(),
            edges: g.edge_count(),
            columns: g.col_owner.iter().filter(|o| **o != NO_OWNER).count(),
            column_edges: g.column_edge_count(),
        })
    }

    pub(crate) fn backend(&self) -> &Backend {
        &self.kv
    }

    pub(crate) fn graph_mut(&self) -> std::sync::RwLockWriteGuard<'_, Graph> {
        self.graph.write().unwrap_or_else(lock_poisoned)
    }
}

fn validate_entity(e: &EntityInput) -> Result<()> {
    if e.fqn.trim().is_empty() {
        return Err(bad_input(format!(
            "entity {}: fullyQualifiedName is empty",
            e.id
        )));
    }
    let mut seen = HashSet::new();
    for (i, c) in e.columns.iter().enumerate() {
        if c.is_empty() {
            return Err(bad_input(format!(
                "entity {:?}: column {i} has an empty name",
                e.fqn
            )));
        }
        if !seen.insert(c) {
            return Err(bad_input(format!(
                "entity {:?}: column {c:?} appears twice",
                e.fqn
            )));
        }
    }
    Ok(())
}

/// Drops columns: strips them from the column mappings of every edge that uses them
/// (rewriting those edges), then forgets the columns.
fn drop_columns(t: &mut Txn<'_>, cols: &[u32]) -> Result<()> {
    if cols.is_empty() {
        return Ok(());
    }
    let gone: HashSet<u32> = cols.iter().copied().collect();
    let mut edges = HashSet::new();
    for &c in cols {
        let me = t.column_owner(c);
        for &d in t.list(Side::ColumnOut, c) {
            edges.insert((me, t.column_owner(d)));
        }
        for &u in t.list(Side::ColumnIn, c) {
            edges.insert((t.column_owner(u), me));
        }
    }
    for (a, b) in edges {
        let (a, b) = (NodeId(a), NodeId(b));
        if let Some(mut d) = t.details(a, b)? {
            d.cols.retain_mut(|m| {
                m.from.retain(|c| !gone.contains(c));
                !gone.contains(&m.to) && !m.from.is_empty()
            });
            t.set_edge(a, b, Some(d))?;
        }
    }
    for &c in cols {
        t.delete(cf::COLUMN_NODE, &c.to_be_bytes());
        t.drop_column(c);
    }
    Ok(())
}

/// Resolves column FQNs against the edge's endpoints, collecting what is refused.
fn resolve_mappings(
    mappings: &[ColumnMapping],
    from: &Record,
    to: &Record,
    rejected: &mut Vec<RejectedColumn>,
) -> Vec<StoredMapping> {
    let lookup = |r: &Record, fqn: &str| -> Option<u32> {
        let name = fqn.strip_prefix(r.header.fqn.as_str())?.strip_prefix('.')?;
        r.header
            .columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| *c)
    };
    let mut out = Vec::new();
    for m in mappings {
        let target = lookup(to, &m.to_column);
        if target.is_none() {
            rejected.push(RejectedColumn {
                column: m.to_column.clone(),
                reason: format!(
                    "toColumn is not a column of {} {:?}",
                    to.kind, to.header.fqn
                ),
            });
        }
        let mut sources = Vec::new();
        for f in &m.from_columns {
            match lookup(from, f) {
                Some(c) => sources.push(c),
                None => rejected.push(RejectedColumn {
                    column: f.clone(),
                    reason: format!(
                        "fromColumn is not a column of {} {:?}",
                        from.kind, from.header.fqn
                    ),
                }),
            }
        }
        if let Some(to) = target
            && !sources.is_empty()
        {
            sources.sort_unstable();
            sources.dedup();
            out.push(StoredMapping {
                from: sources,
                to,
                func: m.function.clone(),
                tr: m.transformation.clone(),
            });
        }
    }
    out
}

/// Creates or upgrades the layout. Version 1 is the first; later versions add steps here.
fn migrate(kv: &Backend) -> Result<()> {
    let found = kv.get(cf::META, meta::STORAGE_VERSION)?;
    let version = match found {
        None => {
            let mut any = false;
            kv.scan(cf::NODE_ENTITY, |_, _| {
                any = true;
                Ok(())
            })?;
            if any {
                return Err(corrupt(cf::META, "entities present but no storage_version"));
            }
            0
        }
        Some(b) => keys::decode_u32(cf::META, &b)?,
    };
    if version > STORAGE_VERSION {
        return Err(Error::Internal(InternalError::NewerStorageVersion {
            found: version,
            supported: STORAGE_VERSION,
        }));
    }
    // 0 -> 1: a new database; nothing to convert.
    // 1 -> 2: adds the `aux` column family (created empty when the database opens).
    if version < STORAGE_VERSION {
        let mut b = Batch::default();
        b.put(
            cf::META,
            meta::STORAGE_VERSION,
            STORAGE_VERSION.to_be_bytes().to_vec(),
        );
        kv.write(b)?;
    }
    Ok(())
}

/// Reads an adjacency column family into id -> sorted list.
fn read_lists(kv: &Backend, family: &'static str) -> Result<HashMap<u32, Vec<u32>>> {
    let mut m = HashMap::new();
    kv.scan(family, |k, v| {
        let l = keys::decode_ids(family, v)?;
        if !l.is_empty() {
            m.insert(keys::decode_u32(family, k)?, l);
        }
        Ok(())
    })?;
    Ok(m)
}

fn transpose(m: &HashMap<u32, Vec<u32>>) -> HashMap<u32, Vec<u32>> {
    let mut t: HashMap<u32, Vec<u32>> = HashMap::new();
    for (a, l) in m {
        for b in l {
            t.entry(*b).or_default().push(*a);
        }
    }
    for l in t.values_mut() {
        l.sort_unstable();
    }
    t
}

fn read_counter(kv: &Backend, key: &[u8]) -> Result<u32> {
    kv.get(cf::META, key)?
        .map_or(Ok(0), |b| keys::decode_u32(cf::META, &b))
}

/// The graph the last flush saved, if it matches the database as it is now; otherwise
/// why not.
fn saved_graph(kv: &Backend) -> Result<std::result::Result<Graph, String>> {
    let Some((dir, sequence)) = kv.snapshot_place() else {
        return Ok(Err("an in-memory store".into()));
    };
    let stamp = crate::snapshot::Stamp {
        sequence,
        next_node: read_counter(kv, meta::NEXT_NODE)?,
        next_column: read_counter(kv, meta::NEXT_COLUMN)?,
    };
    Ok(crate::snapshot::load(dir, stamp))
}

/// Whether pipelines named by edges still exist, each looked up once.
#[derive(Default)]
struct PipelinesSeen(HashMap<Uuid, bool>);

impl PipelinesSeen {
    /// `p` if it names an existing entity.
    fn filter(&mut self, view: &ReadView<'_>, p: Option<Uuid>) -> Result<Option<Uuid>> {
        let Some(p) = p else { return Ok(None) };
        let exists = match self.0.get(&p) {
            Some(e) => *e,
            None => {
                let e = view.node_by_id(&p)?.is_some();
                self.0.insert(p, e);
                e
            }
        };
        Ok(exists.then_some(p))
    }
}

/// Builds the in-memory graph from storage, scanning column families in parallel.
fn load_graph(kv: &Backend) -> Result<Graph> {
    let next_node = read_counter(kv, meta::NEXT_NODE)?;
    let next_column = read_counter(kv, meta::NEXT_COLUMN)?;
    // Keys are big-endian ids, so a scan sees the lists in id order.
    let lists = |family: &'static str, bound: u32| -> Result<Lists> {
        let mut b = ListsBuilder::with_capacity(bound as usize, 0);
        let mut next = 0u32;
        kv.scan(family, |k, val| {
            let id = keys::decode_u32(family, k)?;
            if id >= bound || id < next {
                return Err(corrupt(
                    family,
                    format!("id {id} beyond counter or out of order"),
                ));
            }
            for _ in next..id {
                b.push(&[]);
            }
            b.push(&keys::decode_ids(family, val)?);
            next = id + 1;
            Ok(())
        })?;
        for _ in next..bound {
            b.push(&[]);
        }
        Ok(b.finish())
    };
    let nodes = || -> Result<(Vec<u8>, Vec<u8>)> {
        let (mut kind, mut flags) = (vec![0u8; next_node as usize], vec![0u8; next_node as usize]);
        kv.scan(cf::NODE_ENTITY, |k, v| {
            let id = keys::decode_u32(cf::NODE_ENTITY, k)? as usize;
            if id >= kind.len() || v.len() < 2 {
                return Err(corrupt(cf::NODE_ENTITY, format!("bad entry for node {id}")));
            }
            kind[id] = v[0];
            flags[id] = v[1];
            Ok(())
        })?;
        Ok((kind, flags))
    };
    let owners = || -> Result<Vec<u32>> {
        let mut o = vec![NO_OWNER; next_column as usize];
        kv.scan(cf::COLUMN_NODE, |k, v| {
            let id = keys::decode_u32(cf::COLUMN_NODE, k)? as usize;
            let slot = o
                .get_mut(id)
                .ok_or_else(|| corrupt(cf::COLUMN_NODE, "id beyond counter"))?;
            *slot = keys::decode_u32(cf::COLUMN_NODE, v)?;
            Ok(())
        })?;
        Ok(o)
    };
    let ((out, inn), ((col_out, col_in), (nodes, owners))) = rayon::join(
        || {
            rayon::join(
                || lists(cf::NODE_OUT, next_node),
                || lists(cf::NODE_IN, next_node),
            )
        },
        || {
            rayon::join(
                || {
                    rayon::join(
                        || lists(cf::COLUMN_OUT, next_column),
                        || lists(cf::COLUMN_IN, next_column),
                    )
                },
                || rayon::join(nodes, owners),
            )
        },
    );
    let (kind, flags) = nodes?;
    let deleted = flags.iter().filter(|f| **f & FLAG_DELETED != 0).count();
    Ok(Graph {
        deleted,
        kind,
        flags,
        out: out?,
        inn: inn?,
        col_owner: owners?,
        col_out: col_out?,
        col_in: col_in?,
        cache: RecordCache::default(),
    })
}

/// Restores the invariants after an interrupted bulk load. `node_out` is the truth for
/// table edges: details without an edge are dropped, `node_in` is rebuilt as its
/// transpose, and the column graph is rebuilt from the remaining details.
fn repair(kv: &Backend) -> Result<Graph> {
    // Counters: the highest id present, in case the final counter write did not happen.
    let mut max_node = read_counter(kv, meta::NEXT_NODE)?;
    kv.scan(cf::NODE_ENTITY, |k, _| {
        max_node = max_node.max(keys::decode_u32(cf::NODE_ENTITY, k)? + 1);
        Ok(())
    })?;
    let mut max_col = read_counter(kv, meta::NEXT_COLUMN)?;
    kv.scan(cf::COLUMN_NODE, |k, _| {
        max_col = max_col.max(keys::decode_u32(cf::COLUMN_NODE, k)? + 1);
        Ok(())
    })?;
    let mut fixed = Batch::default();
    fixed.put(cf::META, meta::NEXT_NODE, max_node.to_be_bytes().to_vec());
    fixed.put(cf::META, meta::NEXT_COLUMN, max_col.to_be_bytes().to_vec());
    kv.write(fixed)?;
    let mut b = Batch::default();
    let mut loaded = load_graph(kv)?;
    let edges: HashSet<(u32, u32)> = loaded
        .out
        .iter()
        .flat_map(|(a, l)| l.iter().map(move |b| (a, *b)))
        .collect();
    let mut col_edges: Vec<(u32, u32)> = Vec::new();
    kv.scan(cf::EDGE_DETAILS, |k, v| {
        let (x, y) = keys::decode_edge_key(k)?;
        if edges.contains(&(x.0, y.0)) {
            col_edges.extend(decode_details(v)?.column_edges());
        } else {
            b.delete(cf::EDGE_DETAILS, k);
        }
        Ok(())
    })?;
    for family in [cf::NODE_IN, cf::COLUMN_OUT, cf::COLUMN_IN] {
        kv.scan(family, |k, _| {
            b.delete(family, k);
            Ok(())
        })?;
    }
    let n = loaded.kind.len();
    let c = loaded.col_owner.len();
    let mut inn = vec![Vec::new(); n];
    let mut col_out = vec![Vec::new(); c];
    let mut col_in: Vec<Vec<u32>> = vec![Vec::new(); c];
    for (a, l) in loaded.out.iter() {
        for &x in l {
            inn[x as usize].push(a);
        }
    }
    col_edges.sort_unstable();
    col_edges.dedup();
    for (x, y) in col_edges {
        col_out[x as usize].push(y);
        col_in[y as usize].push(x);
    }
    for l in col_in.iter_mut() {
        l.sort_unstable();
    }
    for (family, lists) in [
        (cf::NODE_IN, &inn),
        (cf::COLUMN_OUT, &col_out),
        (cf::COLUMN_IN, &col_in),
    ] {
        for (i, l) in lists.iter().enumerate() {
            if !l.is_empty() {
                b.put(family, &(i as u32).to_be_bytes(), keys::encode_ids(l));
            }
        }
    }
    (loaded.inn, loaded.col_out, loaded.col_in) = (inn.into(), col_out.into(), col_in.into());
    b.delete(cf::META, meta::BULK_LOAD_IN_PROGRESS);
    kv.write(b)?;
    Ok(loaded)
}

/// Which entities a listing returns, by their soft-deleted flag (OpenMetadata's `include`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Include {
    /// Only entities that are not soft-deleted.
    #[default]
    NonDeleted,
    /// Only soft-deleted entities.
    Deleted,
    /// Both.
    All,
}

impl Include {
    fn admits(self, deleted: bool) -> bool {
        match self {
            Include::NonDeleted => !deleted,
            Include::Deleted => deleted,
            Include::All => true,
        }
    }
}

/// A consistent view for reads. Holds the graph lock shared while alive.
pub struct ReadView<'a> {
    g: RwLockReadGuard<'a, Graph>,
    kv: &'a Backend,
}

impl ReadView<'_> {
    /// What the record cache has done and holds.
    pub fn record_cache_stats(&self) -> crate::RecordCacheStats {
        self.g.cache.stats()
    }

    /// Graph sizes.
    pub fn stats(&self) -> Stats {
        Stats {
            nodes: self.g.kind.iter().filter(|k| **k != 0).count(),
            edges: self.g.edge_count(),
            columns: self.g.col_owner.iter().filter(|o| **o != NO_OWNER).count(),
            column_edges: self.g.column_edge_count(),
        }
    }

    fn check_node(&self, n: NodeId) -> Result<()> {
        if self.g.exists(n.0) {
            Ok(())
        } else {
            Err(UserError::UnknownNode(n).into())
        }
    }

    /// The node of the entity with this UUID.
    pub fn node_by_id(&self, id: &Uuid) -> Result<Option<NodeId>> {
        self.kv
            .get(cf::UUID_NODE, id.as_bytes())?
            .map(|b| Ok(NodeId(keys::decode_u32(cf::UUID_NODE, &b)?)))
            .transpose()
    }

    /// The node of the entity of this type with this FQN.
    pub fn node_by_fqn(&self, t: EntityType, fqn: &str) -> Result<Option<NodeId>> {
        self.kv
            .get(cf::FQN_NODE, &keys::fqn_key(t, fqn))?
            .map(|b| Ok(NodeId(keys::decode_u32(cf::FQN_NODE, &b)?)))
            .transpose()
    }

    /// A server-owned record from the `aux` column family.
    pub fn aux(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.kv.get(cf::AUX, key)
    }

    /// The type of a node, from memory (`None` if there is no such node).
    pub fn entity_type(&self, n: NodeId) -> Option<EntityType> {
        self.g
            .kind
            .get(n.0 as usize)
            .and_then(|k| EntityType::from_code(*k))
    }

    /// Whether the node is soft-deleted, from memory.
    pub fn is_deleted(&self, n: NodeId) -> bool {
        self.g
            .flags
            .get(n.0 as usize)
            .is_some_and(|f| f & FLAG_DELETED != 0)
    }

    /// Every existing node, in id order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.g
            .kind
            .iter()
            .enumerate()
            .filter(|(_, k)| **k != 0)
            .map(|(i, _)| NodeId(i as u32))
    }

    /// Up to `limit` entities of type `t` whose FQN starts with `prefix`, in FQN order,
    /// strictly after `after` (or, with `backward`, strictly before it, nearest first).
    /// Returns (FQN, node) pairs.
    pub fn list(
        &self,
        t: EntityType,
        prefix: &str,
        after: Option<&str>,
        backward: bool,
        limit: usize,
        include: Include,
    ) -> Result<Vec<(String, NodeId)>> {
        let type_prefix = keys::fqn_key(t, prefix);
        let start = match (after, backward) {
            (Some(a), _) => keys::fqn_key(t, a),
            (None, false) => type_prefix.clone(),
            // Past every key of this type and prefix: the prefix followed by 0xFF bytes
            // (FQNs are UTF-8, which never contains 0xFF).
            (None, true) => {
                let mut k = type_prefix.clone();
                k.extend_from_slice(&[0xFF; 4]);
                k
            }
        };
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let mut err = None;
        self.kv.scan_from(cf::FQN_NODE, &start, backward, |k, v| {
            if !k.starts_with(&type_prefix) {
                return Ok(false);
            }
            if after.is_some() && k == start.as_slice() {
                return Ok(true);
            }
            let node = NodeId(keys::decode_u32(cf::FQN_NODE, v)?);
            if !include.admits(self.is_deleted(node)) {
                return Ok(true);
            }
            match std::str::from_utf8(&k[1..]) {
                Ok(f) => out.push((f.to_string(), node)),
                Err(e) => {
                    err = Some(corrupt(cf::FQN_NODE, e.to_string()));
                    return Ok(false);
                }
            }
            Ok(out.len() < limit)
        })?;
        match err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// How many entities of type `t` with an FQN starting with `prefix` `include` admits.
    /// Without a prefix this is counted in memory; with one, by a scan of the prefix.
    pub fn count(&self, t: EntityType, prefix: &str, include: Include) -> Result<usize> {
        if prefix.is_empty() {
            let code = t.code();
            return Ok(self
                .g
                .kind
                .iter()
                .zip(&self.g.flags)
                .filter(|(k, f)| **k == code && include.admits(**f & FLAG_DELETED != 0))
                .count());
        }
        let type_prefix = keys::fqn_key(t, prefix);
        let mut n = 0;
        self.kv
            .scan_from(cf::FQN_NODE, &type_prefix, false, |k, v| {
                if !k.starts_with(&type_prefix) {
                    return Ok(false);
                }
                let node = NodeId(keys::decode_u32(cf::FQN_NODE, v)?);
                if include.admits(self.is_deleted(node)) {
                    n += 1;
                }
                Ok(true)
            })?;
        Ok(n)
    }

    /// The entity record of a node.
    pub fn entity(&self, n: NodeId) -> Result<Entity> {
        Ok(self.entities(&[n])?.remove(0))
    }

    /// Entity records of many nodes at once (one batched storage read).
    pub fn entities(&self, nodes: &[NodeId]) -> Result<Vec<Entity>> {
        Ok(self
            .shared_entities(nodes)?
            .into_iter()
            .map(Arc::unwrap_or_clone)
            .collect())
    }

    /// The renderings kept under `keys` (see `cache.rs`): bytes a caller made from
    /// records read before, still current.
    pub fn renderings(
        &self,
        keys: impl Iterator<Item = crate::RenderKey>,
    ) -> Vec<Option<Arc<crate::Rendering>>> {
        self.g.cache.renderings(keys)
    }

    /// Keeps renderings made from records read in this view (so they are current until
    /// a write changes what they were made from, which drops them).
    pub fn keep_renderings(
        &self,
        made: impl IntoIterator<Item = (crate::RenderKey, Arc<crate::Rendering>)>,
    ) {
        self.g.cache.put_renderings(made);
    }

    /// Entity records of many nodes, shared with the record cache (no copy): the cached
    /// ones without a storage read, the others with one batched read (and kept).
    pub fn shared_entities(&self, nodes: &[NodeId]) -> Result<Vec<Arc<Entity>>> {
        let cache = &self.g.cache;
        let mut out = cache.entities(nodes.iter().map(|n| n.0));
        let missing: Vec<usize> = (0..nodes.len()).filter(|i| out[*i].is_none()).collect();
        if !missing.is_empty() {
            let keys: Vec<Vec<u8>> = missing
                .iter()
                .map(|i| keys::node_key(nodes[*i]).to_vec())
                .collect();
            let vals = self.kv.multi_get(cf::NODE_ENTITY, &keys)?;
            let mut read = Vec::with_capacity(missing.len());
            for (i, v) in missing.into_iter().zip(vals) {
                let n = nodes[i];
                let r = Record::decode(&v.ok_or(UserError::UnknownNode(n))?)?;
                let e = Arc::new(Entity {
                    node: n,
                    id: r.header.id,
                    entity_type: r.kind,
                    fqn: r.header.fqn,
                    name: r.header.name,
                    deleted: r.flags & FLAG_DELETED != 0,
                    columns: r
                        .header
                        .columns
                        .into_iter()
                        .map(|(n, c)| (n, ColumnId(c)))
                        .collect(),
                });
                out[i] = Some(e.clone());
                read.push(e);
            }
            cache.put_entities(read);
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// The opaque document stored with an entity.
    pub fn document(&self, n: NodeId) -> Result<serde_json::Value> {
        self.check_node(n)?;
        match self.kv.get(cf::NODE_DOC, &keys::node_key(n))? {
            Some(b) => serde_json::from_slice(&b).map_err(|e| corrupt(cf::NODE_DOC, e.to_string())),
            None => Ok(serde_json::Value::Null),
        }
    }

    /// The column with this FQN (searched over every entity type; tables first).
    pub fn column_by_fqn(&self, fqn: &str) -> Result<Option<ColumnId>> {
        for t in EntityType::ALL {
            if let Some(b) = self.kv.get(cf::FQN_COLUMN, &keys::fqn_key(*t, fqn))? {
                return Ok(Some(ColumnId(keys::decode_u32(cf::FQN_COLUMN, &b)?)));
            }
        }
        Ok(None)
    }

    /// The owner of a column and the column's name.
    pub fn column(&self, c: ColumnId) -> Result<(NodeId, String)> {
        let b = self
            .kv
            .get(cf::COLUMN_NODE, &keys::column_key(c))?
            .ok_or_else(|| Error::from(UserError::UnknownColumn(c.to_string())))?;
        let owner = keys::decode_u32(cf::COLUMN_NODE, &b)?;
        let name = String::from_utf8(b[4..].to_vec())
            .map_err(|e| corrupt(cf::COLUMN_NODE, e.to_string()))?;
        Ok((NodeId(owner), name))
    }

    /// The column's FQN (owner FQN, a dot, column name).
    pub fn column_fqn(&self, c: ColumnId) -> Result<String> {
        let (owner, name) = self.column(c)?;
        Ok(format!("{}.{name}", self.entity(owner)?.fqn))
    }

    /// Whether the edge exists.
    pub fn has_edge(&self, from: NodeId, to: NodeId) -> bool {
        self.g
            .list(Side::NodeOut, from.0)
            .binary_search(&to.0)
            .is_ok()
    }

    /// Direct neighbours of a node.
    pub fn neighbors(&self, n: NodeId, dir: Direction) -> Result<Vec<NodeId>> {
        self.check_node(n)?;
        let side = if dir == Direction::Downstream {
            Side::NodeOut
        } else {
            Side::NodeIn
        };
        Ok(self.g.list(side, n.0).iter().map(|x| NodeId(*x)).collect())
    }

    /// The edge with its details, or `None` if there is no such edge.
    pub fn edge(&self, from: NodeId, to: NodeId) -> Result<Option<Edge>> {
        Ok(self.edges(&[(from, to)])?.pop().flatten())
    }

    /// The stored details of those of `pairs` that are edges (their indexes, then their
    /// details): from the record cache, the others in one batched read (and kept).
    /// Unless `check`, every pair is taken for an edge (its details, if none are stored,
    /// are the defaults): callers that got the pairs from a traversal in this view skip
    /// the adjacency searches (a hub's list is long).
    fn stored_details(
        &self,
        pairs: &[(NodeId, NodeId)],
        check: bool,
    ) -> Result<(Vec<usize>, Vec<Arc<StoredDetails>>)> {
        let present: Vec<usize> = (0..pairs.len())
            .filter(|i| !check || self.has_edge(pairs[*i].0, pairs[*i].1))
            .collect();
        let cache = &self.g.cache;
        let mut details = cache.details(present.iter().map(|i| (pairs[*i].0.0, pairs[*i].1.0)));
        let missing: Vec<usize> = (0..present.len())
            .filter(|j| details[*j].is_none())
            .collect();
        if !missing.is_empty() {
            let keys: Vec<Vec<u8>> = missing
                .iter()
                .map(|j| {
                    let (a, b) = pairs[present[*j]];
                    keys::edge_key(a, b).to_vec()
                })
                .collect();
            let raw = self.kv.multi_get(cf::EDGE_DETAILS, &keys)?;
            let mut read = Vec::with_capacity(missing.len());
            for (j, b) in missing.into_iter().zip(raw) {
                let d = Arc::new(match b {
                    Some(b) => decode_details(&b)?,
                    None => StoredDetails::default(),
                });
                let (a, b) = pairs[present[j]];
                read.push(((a.0, b.0), d.clone()));
                details[j] = Some(d);
            }
            cache.put_details(read);
        }
        Ok((present, details.into_iter().flatten().collect()))
    }

    /// The pipeline each of `pairs` names, if it is an edge naming one that still exists
    /// (as [`ReadView::edges`] gives it, without the rest of the details). A pair that is
    /// not an edge names none.
    pub fn edge_pipelines(&self, pairs: &[(NodeId, NodeId)]) -> Result<Vec<Option<Uuid>>> {
        let (present, details) = self.stored_details(pairs, false)?;
        let mut exists = PipelinesSeen::default();
        let mut out = vec![None; pairs.len()];
        for (i, d) in present.into_iter().zip(details) {
            out[i] = exists.filter(self, d.pipeline)?;
        }
        Ok(out)
    }

    /// Many edges with their details at once: one batched read of the details, one of
    /// the entities owning the columns they map (column FQNs come from those records),
    /// and one lookup per distinct pipeline. `None` where there is no such edge.
    pub fn edges(&self, pairs: &[(NodeId, NodeId)]) -> Result<Vec<Option<Edge>>> {
        let (present, details) = self.stored_details(pairs, true)?;
        // Column id -> FQN for the columns the mappings name (not every column of their
        // tables), from the owners' entity records.
        let mut col_fqn: HashMap<u32, String> = details
            .iter()
            .flat_map(|d| d.cols.iter().flat_map(|m| m.from.iter().chain([&m.to])))
            .map(|c| (*c, String::new()))
            .collect();
        let mut owners: Vec<NodeId> = col_fqn
            .keys()
            .filter_map(|c| self.g.col_owner.get(*c as usize).copied())
            .filter(|o| *o != NO_OWNER)
            .map(NodeId)
            .collect();
        owners.sort_unstable();
        owners.dedup();
        for e in self.shared_entities(&owners)? {
            for (name, c) in &e.columns {
                if let Some(slot) = col_fqn.get_mut(&c.0) {
                    *slot = format!("{}.{name}", e.fqn);
                }
            }
        }
        col_fqn.retain(|_, fqn| !fqn.is_empty());
        let mut pipelines = PipelinesSeen::default();
        let mut out: Vec<Option<Edge>> = vec![None; pairs.len()];
        for (i, d) in present.into_iter().zip(details) {
            let (from, to) = pairs[i];
            let mut columns_lineage = Vec::with_capacity(d.cols.len());
            for m in &d.cols {
                let Some(to_column) = col_fqn.get(&m.to) else {
                    continue;
                };
                columns_lineage.push(ColumnMapping {
                    from_columns: m
                        .from
                        .iter()
                        .filter_map(|f| col_fqn.get(f).cloned())
                        .collect(),
                    to_column: to_column.clone(),
                    function: m.func.clone(),
                    transformation: m.tr.clone(),
                });
            }
            let pipeline = pipelines.filter(self, d.pipeline)?;
            out[i] = Some(Edge {
                from,
                to,
                sql_query: d.sql.clone(),
                columns_lineage,
                pipeline,
                description: d.desc.clone(),
                source: LineageSource::from_code(d.source).ok_or_else(|| {
                    corrupt(
                        cf::EDGE_DETAILS,
                        format!("unknown source code {}", d.source),
                    )
                })?,
                created_at: d.created_at,
                created_by: d.created_by.clone(),
                updated_at: d.updated_at,
                updated_by: d.updated_by.clone(),
            });
        }
        Ok(out)
    }

    fn node_view(&self, q: &Query) -> NodeView<'_> {
        let all = q.types == EntityTypeSet::ALL && (q.include_deleted || self.g.deleted == 0);
        NodeView {
            g: &self.g,
            all,
            types: q.types,
            include_deleted: q.include_deleted,
        }
    }

    /// Upstream and downstream lineage of a node.
    pub fn traverse(&self, root: NodeId, q: &Query) -> Result<Traversal<NodeId>> {
        self.check_node(root)?;
        let t = traverse::traverse(&self.node_view(q), root.0, &q.spec);
        Ok(Traversal {
            root,
            upstream: t.upstream.map(NodeId),
            downstream: t.downstream.map(NodeId),
        })
    }

    /// Upstream and downstream lineage of one column across tables.
    pub fn column_traverse(&self, root: ColumnId, q: &Query) -> Result<Traversal<ColumnId>> {
        if self
            .g
            .col_owner
            .get(root.0 as usize)
            .is_none_or(|o| *o == NO_OWNER)
        {
            return Err(UserError::UnknownColumn(root.to_string()).into());
        }
        let view = ColumnView {
            nodes: self.node_view(q),
        };
        let t = traverse::traverse(&view, root.0, &q.spec);
        Ok(Traversal {
            root,
            upstream: t.upstream.map(ColumnId),
            downstream: t.downstream.map(ColumnId),
        })
    }

    /// The owner node of a column, from memory.
    pub fn column_owner(&self, c: ColumnId) -> Option<NodeId> {
        self.g
            .col_owner
            .get(c.0 as usize)
            .filter(|o| **o != NO_OWNER)
            .map(|o| NodeId(*o))
    }

    /// Up to `limit` simple paths from `from` to `to` of at most `max_depth` edges.
    pub fn paths(
        &self,
        from: NodeId,
        to: NodeId,
        max_depth: u32,
        limit: usize,
        q: &Query,
    ) -> Result<Vec<Vec<NodeId>>> {
        self.check_node(from)?;
        self.check_node(to)?;
        let p = traverse::paths(&self.node_view(q), from.0, to.0, max_depth, limit);
        Ok(p.into_iter()
            .map(|p| p.into_iter().map(NodeId).collect())
            .collect())
    }
}

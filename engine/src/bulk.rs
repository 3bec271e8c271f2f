//! Bulk load: many nodes and edges in one go, written as SST files and ingested.
//!
//! Input is JSON lines (one [`BulkRecord`] per line) or two CSV files (nodes, edges).
//! Everything is parsed and validated before anything is written, so bad input leaves
//! the store as it was. The write ingests one SST file per column family; a marker key
//! brackets it, and a store that finds the marker at open repairs itself (see `repair`
//! in [`crate::store`]), so the two adjacency directions never disagree.
//!
//! Existing entities (same type and FQN) are reused as they are; an edge that already
//! exists gets the loaded details.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashMap;
use std::io::BufRead;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::backend::{Backend, Batch, Sink, Source};
use crate::error::{Result, bad_input};
use crate::graph::{Graph, Lists, Side};
use crate::ids::{EntityType, LineageSource, NodeId};
use crate::keys::{self, cf, meta};
use crate::mapvec::MapVec;
use crate::model::{EntityHeader, RejectedColumn, StoredDetails, StoredMapping};
use crate::spill::{Spill, SpillReader, Spilled};
use crate::store::Store;
use crate::txn::{Record, decode_details};
use crate::util::now_millis;

/// One line of a JSON-lines bulk file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum BulkRecord {
    /// An entity.
    Node(BulkNode),
    /// An edge between two nodes given earlier in the same input.
    Edge(BulkEdge),
}

/// An entity in a bulk file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkNode {
    /// What edges call this node; defaults to the FQN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Entity type.
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    /// Fully qualified name.
    pub fqn: String,
    /// Short name; defaults to the FQN's last part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// UUID; a new one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// Column names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// An edge in a bulk file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkEdge {
    /// Key of the upstream node.
    pub from: String,
    /// Key of the downstream node.
    pub to: String,
    /// Column mappings by column *name* on each side.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<BulkMapping>,
    /// Lineage source (default Manual).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<LineageSource>,
    /// SQL the lineage came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_query: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A column mapping in a bulk file, by column names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkMapping {
    /// Upstream column names.
    pub from: Vec<String>,
    /// Downstream column name.
    pub to: String,
    /// The transformation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

/// What a bulk load did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BulkReport {
    /// Entities created.
    pub nodes_created: usize,
    /// Node records that named an entity already in the store.
    pub nodes_existing: usize,
    /// Distinct edges written.
    pub edges: usize,
    /// Column edges written.
    pub column_edges: usize,
    /// Column references dropped (first 100), with the line they came from.
    pub rejected_columns: Vec<RejectedColumn>,
    /// How many column references were dropped in all.
    pub rejected_total: usize,
}

/// Reads JSON lines; blank lines are skipped. Errors name the line. Lines are read in
/// blocks of [`JSONL_BLOCK`] and parsed in parallel, in order.
pub fn read_jsonl<R: BufRead>(r: R) -> impl Iterator<Item = Result<(usize, BulkRecord)>> {
    let mut lines = r.lines().enumerate();
    let mut parsed = std::collections::VecDeque::new();
    let mut done = false;
    std::iter::from_fn(move || {
        loop {
            if let Some(rec) = parsed.pop_front() {
                return Some(rec);
            }
            if done {
                return None;
            }
            let block: Vec<(usize, std::io::Result<String>)> =
                lines.by_ref().take(JSONL_BLOCK).collect();
            done = block.len() < JSONL_BLOCK;
            let out: Vec<Option<Result<(usize, BulkRecord)>>> = block
                .into_par_iter()
                .map(|(i, line)| {
                    let n = i + 1;
                    match line {
                        Err(e) => Some(Err(bad_input(format!("line {n}: {e}")))),
                        Ok(l) if l.trim().is_empty() => None,
                        Ok(l) => Some(
                            serde_json::from_str(&l)
                                .map(|rec| (n, rec))
                                .map_err(|e| bad_input(format!("line {n}: {e}"))),
                        ),
                    }
                })
                .collect();
            parsed.extend(out.into_iter().flatten());
        }
    })
}

/// Lines parsed per parallel block by [`read_jsonl`].
pub const JSONL_BLOCK: usize = 1 << 16;

#[derive(Deserialize)]
struct CsvNode {
    key: Option<String>,
    #[serde(rename = "type")]
    entity_type: String,
    fqn: String,
    #[serde(default)]
    columns: Option<String>,
}

#[derive(Deserialize)]
struct CsvEdge {
    from: String,
    to: String,
    #[serde(default)]
    columns: Option<String>,
}

/// Reads a nodes CSV (`key,type,fqn,columns`, columns `;`-separated) and an edges CSV
/// (`from,to,columns`, columns as `from:to;from:to`, OpenMetadata's export form), both
/// with a header row. Errors name the file and record.
pub fn read_csv<'a, N: std::io::Read + 'a, E: std::io::Read + 'a>(
    nodes: N,
    edges: E,
) -> impl Iterator<Item = Result<(usize, BulkRecord)>> + 'a {
    let nodes = csv::Reader::from_reader(nodes)
        .into_deserialize::<CsvNode>()
        .enumerate()
        .map(|(i, r)| {
            let line = i + 2;
            let n = r.map_err(|e| bad_input(format!("nodes CSV record {line}: {e}")))?;
            let entity_type = n
                .entity_type
                .parse()
                .map_err(|e| bad_input(format!("nodes CSV record {line}: {e}")))?;
            let columns = split_list(n.columns.as_deref());
            Ok((
                line,
                BulkRecord::Node(BulkNode {
                    key: n.key.filter(|k| !k.is_empty()),
                    entity_type,
                    fqn: n.fqn,
                    name: None,
                    id: None,
                    columns,
                }),
            ))
        });
    let edges = csv::Reader::from_reader(edges)
        .into_deserialize::<CsvEdge>()
        .enumerate()
        .map(|(i, r)| {
            let line = i + 2;
            let e = r.map_err(|e| bad_input(format!("edges CSV record {line}: {e}")))?;
            let mut columns = Vec::new();
            for pair in split_list(e.columns.as_deref()) {
                let (f, t) = pair.split_once(':').ok_or_else(|| {
                    bad_input(format!(
                        "edges CSV record {line}: column pair {pair:?} is not from:to"
                    ))
                })?;
                columns.push(BulkMapping {
                    from: vec![f.to_string()],
                    to: t.to_string(),
                    function: None,
                });
            }
            Ok((
                line,
                BulkRecord::Edge(BulkEdge {
                    from: e.from,
                    to: e.to,
                    columns,
                    source: None,
                    sql_query: None,
                    description: None,
                }),
            ))
        });
    nodes.chain(edges)
}

fn split_list(s: Option<&str>) -> Vec<String> {
    s.unwrap_or("")
        .split(';')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// A node created by this load; its strings are in [`NewNodes`].
#[derive(Clone, Copy)]
struct NewNode {
    kind: EntityType,
    id: Uuid,
    /// Where its FQN starts in [`NewNodes::text`]; its explicit name (if any) and then
    /// its column names follow.
    text: u64,
    fqn_len: u32,
    /// Length of the explicit name, or [`DERIVED_NAME`]: the last part of the FQN.
    name_len: u32,
    first_column: u32,
    columns: u32,
    /// Its input line, for the error about a repeated FQN (`u32::MAX` from there on:
    /// eight bytes less per node at 100M nodes).
    line: u32,
}

/// A [`NewNode`] as [`NewNodes`] keeps it, its type aside: id (four words), text
/// (two), FQN length, name length, first column, columns, line.
type PackedNode = [u32; 11];

impl NewNode {
    fn pack(&self) -> PackedNode {
        let (id, text) = (self.id.as_u128(), self.text);
        let word = |x: u128, i: u32| (x >> (32 * i)) as u32;
        [
            word(id, 0),
            word(id, 1),
            word(id, 2),
            word(id, 3),
            text as u32,
            (text >> 32) as u32,
            self.fqn_len,
            self.name_len,
            self.first_column,
            self.columns,
            self.line,
        ]
    }

    fn unpack(kind: EntityType, p: &PackedNode) -> NewNode {
        let id = p[..4]
            .iter()
            .rev()
            .fold(0u128, |id, w| (id << 32) | u128::from(*w));
        NewNode {
            kind,
            id: Uuid::from_u128(id),
            text: u64::from(p[4]) | (u64::from(p[5]) << 32),
            fqn_len: p[6],
            name_len: p[7],
            first_column: p[8],
            columns: p[9],
            line: p[10],
        }
    }
}

/// [`NewNode::name_len`] of a node whose name is the last part of its FQN.
const DERIVED_NAME: u32 = u32::MAX;

/// The nodes a load creates, their strings back to back in one buffer rather than a
/// few allocations each. The arrays are memory maps ([`MapVec`]): never grown by
/// doubling and copying, and returned to the OS as soon as they are dropped (at 100M
/// nodes they hold about 10 GiB, which the next phases need).
struct NewNodes {
    /// Every node's strings, back to back.
    text: MapVec<u8>,
    /// The length of every new column's name, by column id minus `first_column`.
    col_lens: MapVec<u32>,
    /// The id of the first column created by this load.
    first_column: u32,
    nodes: MapVec<PackedNode>,
    kinds: Vec<EntityType>,
}

impl NewNodes {
    fn new(first_column: u32) -> Self {
        NewNodes {
            text: MapVec::new("bytes of names"),
            col_lens: MapVec::new("columns"),
            first_column,
            nodes: MapVec::new("nodes"),
            kinds: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Node `i` (0 for the first node of the load).
    fn node(&self, i: usize) -> NewNode {
        NewNode::unpack(self.kinds[i], &self.nodes[i])
    }

    fn iter(&self) -> impl Iterator<Item = NewNode> + '_ {
        self.kinds
            .iter()
            .zip(self.nodes.iter())
            .map(|(k, p)| NewNode::unpack(*k, p))
    }

    fn push(&mut self, n: &BulkNode, id: Uuid, first_column: u32, line: usize) -> Result<()> {
        let len = |s: &str| {
            u32::try_from(s.len())
                .ok()
                .filter(|l| *l != DERIVED_NAME)
                .ok_or_else(|| bad_input(format!("line {line}: a name of 4 GiB or more")))
        };
        let text = self.text.len() as u64;
        self.text.extend_from_slice(n.fqn.as_bytes())?;
        let name_len = match &n.name {
            Some(name) => {
                self.text.extend_from_slice(name.as_bytes())?;
                len(name)?
            }
            None => DERIVED_NAME,
        };
        for c in &n.columns {
            self.text.extend_from_slice(c.as_bytes())?;
            self.col_lens.push(len(c)?)?;
        }
        let node = NewNode {
            kind: n.entity_type,
            id,
            text,
            fqn_len: len(&n.fqn)?,
            name_len,
            first_column,
            columns: n.columns.len() as u32,
            line: u32::try_from(line).unwrap_or(u32::MAX),
        };
        self.nodes.push(node.pack())?;
        self.kinds.push(n.entity_type);
        Ok(())
    }

    /// `len` bytes of names, `from` bytes past where node `n`'s start.
    fn bytes(&self, n: &NewNode, from: usize, len: usize) -> &[u8] {
        let at = n.text as usize + from;
        &self.text[at..at + len]
    }

    fn fqn_bytes(&self, n: &NewNode) -> &[u8] {
        self.bytes(n, 0, n.fqn_len as usize)
    }

    fn fqn(&self, n: &NewNode) -> &str {
        whole_str(self.fqn_bytes(n))
    }

    fn name(&self, n: &NewNode) -> &str {
        if n.name_len == DERIVED_NAME {
            let fqn = self.fqn(n);
            return fqn.rsplit('.').next().unwrap_or(fqn);
        }
        whole_str(self.bytes(n, n.fqn_len as usize, n.name_len as usize))
    }

    /// Column names in column order, as bytes.
    fn column_bytes<'a>(&'a self, n: &NewNode) -> impl Iterator<Item = &'a [u8]> + Clone + 'a {
        let mut at = n.fqn_len as usize;
        if n.name_len != DERIVED_NAME {
            at += n.name_len as usize;
        }
        let n = *n;
        let lens = (n.first_column - self.first_column) as usize;
        (lens..lens + n.columns as usize).map(move |i| {
            let l = self.col_lens[i] as usize;
            let c = self.bytes(&n, at, l);
            at += l;
            c
        })
    }

    /// Column names in column order.
    fn columns<'a>(&'a self, n: &NewNode) -> impl Iterator<Item = &'a str> + Clone + 'a {
        self.column_bytes(n).map(whole_str)
    }
}

/// Bytes that [`NewNodes::push`] took from one `&str` as a whole.
fn whole_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("names are kept whole")
}

/// Progress callback: phase name and items done in it.
pub type Progress<'a> = &'a mut dyn FnMut(&'static str, usize);

impl Store {
    /// Loads nodes and edges in bulk (see the module docs). `progress` is called every
    /// 100,000 records while reading and once per later phase.
    ///
    /// Phases, each freeing what the next does not need: read and resolve
    /// ([`read_records`]), order the new entities and refuse a repeated FQN
    /// ([`fqn_order`]), keep one edge per pair ([`dedup_edges`]), work out the column
    /// edges added and removed ([`column_changes`]), ingest entities and details (first
    /// wave, [`ingest_entities`]), merge and ingest the adjacency lists (second wave,
    /// [`Adjacency`]), and only then change memory.
    pub fn bulk_load(
        &self,
        records: impl IntoIterator<Item = Result<(usize, BulkRecord)>, IntoIter: Send>,
        progress: Progress<'_>,
    ) -> Result<BulkReport> {
        let kv = self.backend();
        let mut g = self.graph_mut();
        // The load rewrites records and details in place: start the cache afresh.
        g.cache.clear();
        let base_nodes = g.kind.len() as u32;
        let base_cols = g.col_owner.len() as u32;
        let mut report = BulkReport::default();
        let Read {
            mut new_nodes,
            next_col,
            now,
            mut edges,
            details,
            count,
        } = read_records(kv, base_nodes, base_cols, records, progress, &mut report)?;
        progress("read", count);
        let details = details.finish()?;
        let by_fqn = fqn_order(&new_nodes)?;
        let next_node = base_nodes + new_nodes.len() as u32;
        report.nodes_created = new_nodes.len();
        let lost = dedup_edges(&mut edges);
        report.edges = edges.len();
        let (replaced, removed) = replaced_details(kv, &g, base_nodes, &edges)?;

        let mut marker = Batch::default();
        marker.put(cf::META, meta::BULK_LOAD_IN_PROGRESS, vec![1]);
        kv.write(marker)?;
        // Two waves of SST files, so that what the first needs is freed before the
        // adjacency lists are computed (the peak of a big load). Order matters for
        // repair: entities, then details, then out-lists, then in-lists.
        ingest_entities(
            kv,
            &FirstWave {
                base_nodes,
                new_nodes: &new_nodes,
                by_fqn: &by_fqn,
                edges: &edges,
                details: &details,
                replaced: &replaced,
                now,
            },
        )?;
        progress("entities", count);
        let new_columns: Vec<(u32, u32)> = new_nodes
            .iter()
            .map(|n| (n.first_column, n.columns))
            .collect();
        let new_kinds = std::mem::take(&mut new_nodes.kinds);
        drop((new_nodes, by_fqn));
        // The column edges only now, with the new entities freed (at 100M nodes they
        // are 2 GiB), and then the details' scratch files.
        let cols = column_changes(&details, &lost, removed)?;
        drop(details);
        report.column_edges = cols.added.len();

        // Final lists of every touched node and column, computed beside the current ones:
        // memory changes only once storage has them.
        let lists = Adjacency::merge(&g, edges, cols)?;
        progress("merge", report.edges);
        lists.ingest(kv, next_node, next_col)?;
        progress("ingest", count);

        // Committed: now memory.
        g.grow(next_node, next_col);
        for (i, (kind, (first, columns))) in new_kinds.into_iter().zip(new_columns).enumerate() {
            let node = base_nodes + i as u32;
            g.kind[node as usize] = kind.code();
            g.flags[node as usize] = 0;
            for c in first..first + columns {
                g.col_owner[c as usize] = node;
            }
        }
        lists.apply(&mut g);
        Ok(report)
    }
}

/// What the reading phase hands on.
struct Read {
    new_nodes: NewNodes,
    next_col: u32,
    now: i64,
    edges: MapVec<Edge>,
    details: DetailArena,
    count: usize,
}

/// Reads every record: nodes are indexed as they arrive, edges resolved in parallel
/// batches against the nodes before them. Records are produced (parsed) on their own
/// thread, in batches, while this one indexes and resolves.
fn read_records(
    kv: &Backend,
    base_nodes: u32,
    base_cols: u32,
    records: impl IntoIterator<Item = Result<(usize, BulkRecord)>, IntoIter: Send>,
    progress: Progress<'_>,
    report: &mut BulkReport,
) -> Result<Read> {
    let mut state = ReadState {
        kv,
        base_nodes,
        store_was_empty: base_nodes == 0,
        keymap: NodeKeys::default(),
        new_nodes: NewNodes::new(base_cols),
        existing: HashMap::new(),
        next_col: base_cols,
        now: now_millis(),
        uuids: crate::model::UuidSource::new(),
        resolved: Default::default(),
    };
    let mut edges: MapVec<Edge> = MapVec::new("edges");
    let mut details = DetailArena::new(kv.scratch_dir());
    let mut pending: Vec<(usize, BulkEdge)> = Vec::new();
    let mut count = 0usize;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Result<(usize, BulkRecord)>>>(8);
    let records = records.into_iter();
    std::thread::scope(|scope| -> Result<()> {
        scope.spawn(move || produce(records, tx));
        for rec in rx.into_iter().flatten() {
            let (line, rec) = rec?;
            count += 1;
            if count.is_multiple_of(100_000) {
                progress("read", count);
            }
            match rec {
                BulkRecord::Node(n) => {
                    // Edges resolve against the nodes that came before them.
                    state.resolve(&mut pending, &mut edges, &mut details, report)?;
                    state.add_node(line, n, report)?;
                }
                BulkRecord::Edge(e) => {
                    pending.push((line, e));
                    if pending.len() >= EDGE_BATCH {
                        state.resolve(&mut pending, &mut edges, &mut details, report)?;
                    }
                }
            }
        }
        Ok(())
    })?;
    state.resolve(&mut pending, &mut edges, &mut details, report)?;
    // What only the reading needed (the key map, the resolver's buffer, the existing
    // records) is freed here with the rest of the state, not at the end of the load.
    let ReadState {
        new_nodes,
        next_col,
        now,
        ..
    } = state;
    Ok(Read {
        new_nodes,
        next_col,
        now,
        edges,
        details,
        count,
    })
}

/// The new entities (their indexes) sorted by (type code, FQN): the `fqn_node` key
/// order, where a repeated FQN shows up as two neighbours and is refused.
fn fqn_order(new_nodes: &NewNodes) -> Result<Vec<u32>> {
    let key = |i: &u32| {
        let n = new_nodes.node(*i as usize);
        (n.kind.code(), new_nodes.fqn_bytes(&n))
    };
    let mut by_fqn: Vec<u32> = (0..new_nodes.len() as u32).collect();
    by_fqn.par_sort_unstable_by(|a, b| key(a).cmp(&key(b)));
    if let Some(w) = by_fqn.windows(2).find(|w| key(&w[0]) == key(&w[1])) {
        let (a, b) = (new_nodes.node(w[0] as usize), new_nodes.node(w[1] as usize));
        return Err(bad_input(format!(
            "lines {} and {}: {} {:?} appears twice",
            a.line.min(b.line),
            a.line.max(b.line),
            a.kind,
            new_nodes.fqn(&a)
        )));
    }
    Ok(by_fqn)
}

/// One edge per pair, the last record for a pair winning: `edges` sorted in place by
/// (from, to, [`Order`]) and deduplicated; the details entries that lost.
fn dedup_edges(edges: &mut MapVec<Edge>) -> HashSet<u32> {
    // Orders are unique among detailed records and equal only between plain records
    // that are interchangeable, so an unstable sort (in place, no buffer the size of
    // the edges) gives a stable sort's answer.
    edges.par_sort_unstable();
    let mut lost = HashSet::new();
    let mut kept = 0;
    for i in 1..edges.len() {
        let later = edges[i];
        if later[..2] == edges[kept][..2] {
            lost.extend(details_entry(edges[kept][2]));
        } else {
            kept += 1;
        }
        edges[kept] = later;
    }
    edges.truncate(if edges.is_empty() { 0 } else { kept + 1 });
    lost
}

/// How a load changes the column graph.
struct ColumnChanges {
    /// Column edges the loaded details add, sorted, no duplicates.
    added: MapVec<[u32; 2]>,
    /// Column edges of replaced details that the load does not add again.
    removed: Vec<(u32, u32)>,
}

/// Existing edges whose details a load replaces, and the column edges those details
/// had.
type Replaced = (HashSet<(u32, u32)>, Vec<(u32, u32)>);

/// See [`Replaced`].
fn replaced_details(kv: &Backend, g: &Graph, base_nodes: u32, edges: &[Edge]) -> Result<Replaced> {
    let mut removed: Vec<(u32, u32)> = Vec::new();
    let mut replaced: HashSet<(u32, u32)> = HashSet::new();
    for &[a, b, _] in edges {
        if a < base_nodes && g.list(Side::NodeOut, a).binary_search(&b).is_ok() {
            replaced.insert((a, b));
            if let Some(v) = kv.get(cf::EDGE_DETAILS, &keys::edge_key(NodeId(a), NodeId(b)))? {
                removed.extend(decode_details(&v)?.column_edges());
            }
        }
    }
    Ok((replaced, removed))
}

/// The column edges the loaded details add (entries that lost to a later record for
/// the same pair excepted), and those of the replaced details (`removed`) that they
/// do not add again.
fn column_changes(
    details: &Details,
    lost: &HashSet<u32>,
    mut removed: Vec<(u32, u32)>,
) -> Result<ColumnChanges> {
    let mut added: MapVec<[u32; 2]> = MapVec::new("column edges");
    details.cols.for_each_piece(COLUMN_EDGE_BYTES, |piece| {
        for rec in piece.chunks_exact(COLUMN_EDGE_BYTES) {
            let (entry, f, t) = decode_column_edge(rec);
            if lost.is_empty() || !lost.contains(&entry) {
                added.push([f, t])?;
            }
        }
        Ok(())
    })?;
    added.par_sort_unstable();
    added.dedup();
    let added_set: HashSet<(u32, u32)> = if removed.is_empty() {
        HashSet::new()
    } else {
        added.iter().map(|&[f, t]| (f, t)).collect()
    };
    removed.retain(|e| !added_set.contains(e));
    Ok(ColumnChanges { added, removed })
}

/// What the first wave of SST files is made from.
struct FirstWave<'a> {
    base_nodes: u32,
    new_nodes: &'a NewNodes,
    by_fqn: &'a [u32],
    edges: &'a [Edge],
    details: &'a Details,
    replaced: &'a HashSet<(u32, u32)>,
    now: i64,
}

/// The first wave: entity records and indexes, columns, edge details. Each column
/// family's entries are produced in key order straight into its SST writer (the
/// families in parallel): nothing is materialized a second time.
fn ingest_entities(kv: &Backend, w: &FirstWave<'_>) -> Result<()> {
    let FirstWave {
        base_nodes,
        new_nodes,
        by_fqn,
        edges,
        details,
        replaced,
        now,
    } = *w;
    let node_key = |i: usize| (base_nodes + i as u32).to_be_bytes();
    let mut uuids: Vec<u32> = (0..new_nodes.len() as u32).collect();
    uuids.par_sort_unstable_by_key(|i| new_nodes.node(*i as usize).id);
    // Columns in entity-FQN order, each entity's columns by name, give sorted column
    // FQN keys unless an entity's FQN plus a dot prefixes the next entity's FQN.
    let column_fqn_key =
        |n: &NewNode, c: &str| keys::fqn_key(n.kind, &format!("{}.{c}", new_nodes.fqn(n)));
    let fqn_column_in_order = by_fqn.windows(2).all(|w| {
        let (a, b) = (new_nodes.node(w[0] as usize), new_nodes.node(w[1] as usize));
        let last = new_nodes.columns(&a).max();
        let first = new_nodes.columns(&b).min();
        match (last, first) {
            (Some(l), Some(f)) => column_fqn_key(&a, l) < column_fqn_key(&b, f),
            _ => true,
        }
    });
    let default_details = serde_json::to_vec(&StoredDetails {
        created_at: now,
        updated_at: now,
        ..StoredDetails::default()
    })
    .expect("details serialize");
    let sources: Vec<(&'static str, Source<'_>)> = vec![
        (
            cf::NODE_ENTITY,
            Box::new(|sink: Sink<'_>| {
                for (i, n) in new_nodes.iter().enumerate() {
                    let columns = new_nodes.columns(&n).enumerate();
                    let header = EntityHeader {
                        id: n.id,
                        fqn: new_nodes.fqn(&n).to_string(),
                        name: new_nodes.name(&n).to_string(),
                        columns: columns
                            .map(|(j, c)| (c.to_string(), n.first_column + j as u32))
                            .collect(),
                    };
                    sink(
                        &node_key(i),
                        &Record {
                            kind: n.kind,
                            flags: 0,
                            header,
                        }
                        .encode(),
                    )?;
                }
                Ok(())
            }),
        ),
        (
            cf::UUID_NODE,
            Box::new(|sink: Sink<'_>| {
                uuids.iter().try_for_each(|i| {
                    let i = *i as usize;
                    sink(new_nodes.node(i).id.as_bytes(), &node_key(i))
                })
            }),
        ),
        (
            cf::FQN_NODE,
            Box::new(|sink: Sink<'_>| {
                by_fqn.iter().try_for_each(|&i| {
                    let n = new_nodes.node(i as usize);
                    sink(
                        &keys::fqn_key(n.kind, new_nodes.fqn(&n)),
                        &node_key(i as usize),
                    )
                })
            }),
        ),
        (
            cf::COLUMN_NODE,
            Box::new(|sink: Sink<'_>| {
                for (i, n) in new_nodes.iter().enumerate() {
                    for (j, c) in new_nodes.column_bytes(&n).enumerate() {
                        let mut v = node_key(i).to_vec();
                        v.extend_from_slice(c);
                        sink(&(n.first_column + j as u32).to_be_bytes(), &v)?;
                    }
                }
                Ok(())
            }),
        ),
        (
            cf::FQN_COLUMN,
            Box::new(|sink: Sink<'_>| {
                let entries = by_fqn.iter().flat_map(|&i| {
                    let n = new_nodes.node(i as usize);
                    sorted_columns(new_nodes, &n)
                        .into_iter()
                        .map(move |(j, c)| {
                            (
                                column_fqn_key(&n, c),
                                (n.first_column + j as u32).to_be_bytes(),
                            )
                        })
                });
                if fqn_column_in_order {
                    entries.into_iter().try_for_each(|(k, v)| sink(&k, &v))
                } else {
                    let mut all: Vec<_> = entries.collect();
                    all.sort_unstable();
                    all.iter().try_for_each(|(k, v)| sink(k, v))
                }
            }),
        ),
        (
            cf::EDGE_DETAILS,
            Box::new(|sink: Sink<'_>| {
                // Plain edges need no details entry, unless they replace stored details.
                let mut reader = details.bytes.reader();
                for &[a, b, order] in edges {
                    let value = match details_entry(order) {
                        Some(d) => details.get(&mut reader, d)?,
                        None if replaced.contains(&(a, b)) => &default_details,
                        None => continue,
                    };
                    sink(&keys::edge_key(NodeId(a), NodeId(b)), value)?;
                }
                Ok(())
            }),
        ),
    ];
    kv.ingest(sources)
}

/// The final adjacency lists of every node and column a load touches.
struct Adjacency {
    out: Changed,
    inn: Changed,
    col_out: Changed,
    col_in: Changed,
}

impl Adjacency {
    /// The new edges and column edges merged into the current lists (computed beside
    /// them; memory changes only once storage has them). The edges are turned around
    /// in place for the in-lists and freed as soon as the node lists are done.
    fn merge(g: &Graph, mut edges: MapVec<Edge>, cols: ColumnChanges) -> Result<Adjacency> {
        let out = merged(&g.out, &edges, &[])?;
        flip_in_place(&mut edges);
        let inn = merged(&g.inn, &edges, &[])?;
        drop(edges);
        let mut added = cols.added;
        let col_out = merged(&g.col_out, &added, &cols.removed)?;
        flip_in_place(&mut added);
        let col_in = merged(&g.col_in, &added, &flip(&cols.removed))?;
        Ok(Adjacency {
            out,
            inn,
            col_out,
            col_in,
        })
    }

    /// The second wave of SST files, then the id counters, and the marker cleared.
    fn ingest(&self, kv: &Backend, next_node: u32, next_col: u32) -> Result<()> {
        let lists = |lists: &Changed, sink: Sink<'_>| -> Result<()> {
            lists
                .iter()
                .try_for_each(|(i, l)| sink(&i.to_be_bytes(), &keys::encode_ids(l)))
        };
        let sources: Vec<(&'static str, Source<'_>)> = vec![
            (
                cf::NODE_OUT,
                Box::new(|sink: Sink<'_>| lists(&self.out, sink)),
            ),
            (
                cf::COLUMN_OUT,
                Box::new(|sink: Sink<'_>| lists(&self.col_out, sink)),
            ),
            (
                cf::NODE_IN,
                Box::new(|sink: Sink<'_>| lists(&self.inn, sink)),
            ),
            (
                cf::COLUMN_IN,
                Box::new(|sink: Sink<'_>| lists(&self.col_in, sink)),
            ),
        ];
        kv.ingest(sources)?;
        let mut done = Batch::default();
        done.put(cf::META, meta::NEXT_NODE, next_node.to_be_bytes().to_vec());
        done.put(cf::META, meta::NEXT_COLUMN, next_col.to_be_bytes().to_vec());
        done.delete(cf::META, meta::BULK_LOAD_IN_PROGRESS);
        kv.write(done)
    }

    /// Each side of the in-memory graph packed anew with its changed lists (and
    /// whatever single commits had put in its overlay). One side at a time, each
    /// side's changes freed once it is packed: at the peak only one new side exists
    /// beside the changes.
    fn apply(self, g: &mut Graph) {
        let (n, c) = (g.kind.len(), g.col_owner.len());
        let Adjacency {
            out,
            inn,
            col_out,
            col_in,
        } = self;
        g.out = g.out.rebuilt(n, out.iter(), out.targets.len());
        drop(out);
        g.inn = g.inn.rebuilt(n, inn.iter(), inn.targets.len());
        drop(inn);
        g.col_out = g.col_out.rebuilt(c, col_out.iter(), col_out.targets.len());
        drop(col_out);
        g.col_in = g.col_in.rebuilt(c, col_in.iter(), col_in.targets.len());
    }
}

/// Sends `records` in batches until they run out or the receiver hangs up.
fn produce(
    mut records: impl Iterator<Item = Result<(usize, BulkRecord)>>,
    tx: std::sync::mpsc::SyncSender<Vec<Result<(usize, BulkRecord)>>>,
) {
    const BATCH: usize = 8192;
    loop {
        let batch: Vec<_> = records.by_ref().take(BATCH).collect();
        let last = batch.len() < BATCH;
        if batch.is_empty() || tx.send(batch).is_err() || last {
            return;
        }
    }
}

/// An entity's columns with their positions, sorted by name.
fn sorted_columns<'a>(nodes: &'a NewNodes, n: &NewNode) -> Vec<(usize, &'a str)> {
    let mut cols: Vec<(usize, &str)> = nodes.columns(n).enumerate().collect();
    cols.sort_unstable_by_key(|c| c.1);
    cols
}

/// A resolved edge: from, to, details (`None` = defaults) encoded with the column edges
/// they imply, column references dropped.
type Resolved = (
    u32,
    u32,
    Option<(Vec<u8>, Vec<(u32, u32)>)>,
    Vec<RejectedColumn>,
);

/// Where an edge record came in the input and which details entry it has, in one
/// number: a plain edge read after `c` detailed ones is `2c`, the detailed edge whose
/// entry is `d` is `2d + 1`. Records of one pair sort in input order by it (plain ones
/// with the same number are interchangeable), and it needs no table to say whether
/// an edge has details.
type Order = u32;

/// A resolved edge record: from, to, [`Order`]. Sorting edges sorts by all three.
type Edge = [u32; 3];

/// The details entry an [`Order`] names, if any.
fn details_entry(order: Order) -> Option<u32> {
    (order & 1 == 1).then_some(order >> 1)
}

/// Bytes of one column edge in [`DetailArena::cols`]: entry, from column, to column.
const COLUMN_EDGE_BYTES: usize = 12;

fn decode_column_edge(rec: &[u8]) -> (u32, u32, u32) {
    let u = |i: usize| u32::from_le_bytes(rec[i..i + 4].try_into().expect("4 bytes"));
    (u(0), u(4), u(8))
}

/// The encoded details of a bulk load's edges and the column edges they imply, as they
/// are resolved: back to back in scratch bytes that move to disk once large (at 100M
/// nodes, over 100M edges carry column mappings: tens of gigabytes), not a boxed struct
/// per edge.
struct DetailArena {
    bytes: Spill,
    /// Where each entry starts in `bytes`; it ends where the next one starts.
    starts: MapVec<u64>,
    /// The column edges of every entry, [`COLUMN_EDGE_BYTES`] each.
    cols: Spill,
}

impl DetailArena {
    /// An arena whose bytes may move to files in `dir` (see [`Spill`]).
    fn new(dir: Option<std::path::PathBuf>) -> Self {
        DetailArena {
            bytes: Spill::new(dir.clone()),
            starts: MapVec::new("edges with details"),
            cols: Spill::new(dir),
        }
    }

    /// The [`Order`] of a plain edge read now.
    fn plain(&self) -> Order {
        // `push` keeps the entry count below 2^31.
        2 * self.starts.len() as u32
    }

    /// Appends an entry; the [`Order`] of its edge.
    fn push(&mut self, encoded: &[u8], cols: &[(u32, u32)]) -> Result<Order> {
        let entry = u32::try_from(self.starts.len())
            .ok()
            .filter(|e| *e < 1 << 31)
            .ok_or_else(|| bad_input("more than 2 billion edges with details in one load"))?;
        self.starts.push(self.bytes.len())?;
        self.bytes.append(encoded)?;
        for &(f, t) in cols {
            let mut rec = [0u8; COLUMN_EDGE_BYTES];
            for (i, v) in [entry, f, t].into_iter().enumerate() {
                rec[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
            }
            self.cols.append(&rec)?;
        }
        Ok(2 * entry + 1)
    }

    /// Done reading: the entries, to read back.
    fn finish(self) -> Result<Details> {
        Ok(Details {
            len: self.bytes.len(),
            bytes: self.bytes.finish()?,
            starts: self.starts,
            cols: self.cols.finish()?,
        })
    }
}

/// A [`DetailArena`] done with, read back.
struct Details {
    bytes: Spilled,
    len: u64,
    starts: MapVec<u64>,
    cols: Spilled,
}

impl Details {
    /// The encoded details of `entry`, through `reader` (one of `self.bytes`).
    fn get<'r>(&self, reader: &'r mut SpillReader<'_>, entry: u32) -> Result<&'r [u8]> {
        let i = entry as usize;
        let end = if i + 1 < self.starts.len() {
            self.starts[i + 1]
        } else {
            self.len
        };
        reader.get(self.starts[i], end)
    }
}

/// Edges are resolved in parallel batches of this many.
const EDGE_BATCH: usize = 1 << 20;

/// Node keys to node ids. Keys that are canonical decimal integers (row ids, generated
/// graphs) are stored as integers: small ones, up to a few times the number of integer
/// keys seen, index an array directly (one memory access per lookup), larger ones go to
/// an integer hash map; neither allocates per key or follows a pointer to compare a key
/// (on a big load every such pointer is a cache miss). Other keys go to a string map.
/// Where a key lives depends on its text and on the keys before it, and a lookup checks
/// every place, so "7" and "07" stay different keys.
#[derive(Default)]
struct NodeKeys {
    /// Node id by integer key; [`NO_NODE`] where none.
    dense: Vec<u32>,
    ints: FxHashMap<u64, u32>,
    int_count: u64,
    strings: FxHashMap<String, u32>,
}

/// An empty slot of [`NodeKeys::dense`].
const NO_NODE: u32 = u32::MAX;

impl NodeKeys {
    /// The key as an integer if it is a canonical decimal one (no sign, no leading zero).
    fn int(k: &str) -> Option<u64> {
        let b = k.as_bytes();
        let canonical = !b.is_empty()
            && b.len() <= 19
            && (b[0] != b'0' || b.len() == 1)
            && b.iter().all(u8::is_ascii_digit);
        canonical.then(|| k.parse().ok()).flatten()
    }

    fn get(&self, k: &str) -> Option<u32> {
        match Self::int(k) {
            Some(i) => match self.dense.get(i as usize) {
                Some(&id) if id != NO_NODE => Some(id),
                _ => self.ints.get(&i).copied(),
            },
            None => self.strings.get(k).copied(),
        }
    }

    /// Adds a key that [`NodeKeys::get`] does not find.
    fn insert(&mut self, k: String, id: u32) {
        let Some(i) = Self::int(&k) else {
            self.strings.insert(k, id);
            return;
        };
        self.int_count += 1;
        // Direct indexing only while the array stays within a few slots per integer key
        // (at most 8 after doubling: 32 bytes, about a hash entry and a half).
        if i < self.int_count * 4 + (1 << 16) {
            let i = i as usize;
            if self.dense.len() <= i {
                self.dense
                    .resize((i + 1).max(self.dense.len() * 2), NO_NODE);
            }
            self.dense[i] = id;
        } else {
            self.ints.insert(i, id);
        }
    }
}

/// What the reading phase of a bulk load has gathered.
struct ReadState<'a> {
    kv: &'a Backend,
    base_nodes: u32,
    store_was_empty: bool,
    keymap: NodeKeys,
    new_nodes: NewNodes,
    existing: HashMap<u32, Record>,
    next_col: u32,
    now: i64,
    uuids: crate::model::UuidSource,
    /// Reused output buffer of [`ReadState::resolve`].
    resolved: std::sync::Mutex<Vec<Result<Resolved>>>,
}

impl ReadState<'_> {
    fn add_node(&mut self, line: usize, mut n: BulkNode, report: &mut BulkReport) -> Result<()> {
        let key = n.key.take().unwrap_or_else(|| n.fqn.clone());
        if self.keymap.get(&key).is_some() {
            return Err(bad_input(format!(
                "line {line}: node key {key:?} appears twice"
            )));
        }
        if n.fqn.is_empty() {
            return Err(bad_input(format!("line {line}: empty fqn")));
        }
        let found = if self.store_was_empty {
            None
        } else {
            self.kv
                .get(cf::FQN_NODE, &keys::fqn_key(n.entity_type, &n.fqn))?
        };
        let node = match found {
            Some(b) => {
                let id = keys::decode_u32(cf::FQN_NODE, &b)?;
                let r = self.kv.get(cf::NODE_ENTITY, &keys::node_key(NodeId(id)))?;
                let r = r.ok_or_else(|| crate::error::corrupt(cf::FQN_NODE, "dangling"))?;
                self.existing.insert(id, Record::decode(&r)?);
                report.nodes_existing += 1;
                id
            }
            None => {
                for (i, c) in n.columns.iter().enumerate() {
                    if c.is_empty() || n.columns[..i].contains(c) {
                        return Err(bad_input(format!(
                            "line {line}: bad or repeated column {c:?}"
                        )));
                    }
                }
                let id = self.base_nodes + self.new_nodes.len() as u32;
                let first_column = self.next_col;
                self.next_col += n.columns.len() as u32;
                let uuid = n.id.unwrap_or_else(|| self.uuids.next());
                self.new_nodes.push(&n, uuid, first_column, line)?;
                id
            }
        };
        self.keymap.insert(key, node);
        Ok(())
    }

    /// Column id of `name` on `node`, if it has such a column.
    fn column(&self, node: u32, name: &str) -> Option<u32> {
        if node >= self.base_nodes {
            let n = self.new_nodes.node((node - self.base_nodes) as usize);
            self.new_nodes
                .column_bytes(&n)
                .position(|c| c == name.as_bytes())
                .map(|i| n.first_column + i as u32)
        } else {
            let r = &self.existing[&node];
            r.header
                .columns
                .iter()
                .find(|(c, _)| c == name)
                .map(|(_, id)| *id)
        }
    }

    /// Resolves a batch of edges (in parallel) against the nodes read so far.
    fn resolve(
        &self,
        pending: &mut Vec<(usize, BulkEdge)>,
        edges: &mut MapVec<Edge>,
        details: &mut DetailArena,
        report: &mut BulkReport,
    ) -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        // Each worker remembers its last upstream key: files usually group edges by
        // source, so this saves one hash lookup per edge.
        // The output buffer is kept from batch to batch (it is large; allocating it anew
        // each time costs page faults).
        let mut resolved =
            std::mem::take(&mut *self.resolved.lock().unwrap_or_else(|p| p.into_inner()));
        pending
            .par_drain(..)
            .map_init(|| None, |last, (line, e)| self.resolve_one(line, e, last))
            .collect_into_vec(&mut resolved);
        for r in resolved.drain(..) {
            let (a, b, d, rejected) = r?;
            for r in rejected {
                report.rejected_total += 1;
                if report.rejected_columns.len() < 100 {
                    report.rejected_columns.push(r);
                }
            }
            let order = match d {
                Some((encoded, cols)) => details.push(&encoded, &cols)?,
                None => details.plain(),
            };
            edges.push([a, b, order])?;
        }
        *self.resolved.lock().unwrap_or_else(|p| p.into_inner()) = resolved;
        Ok(())
    }

    fn resolve_one(
        &self,
        line: usize,
        e: BulkEdge,
        last: &mut Option<(String, u32)>,
    ) -> Result<Resolved> {
        let resolve = |k: &str| {
            self.keymap.get(k).ok_or_else(|| {
                bad_input(format!(
                    "line {line}: edge names unknown node key {k:?} (nodes must come before the edges that use them)"
                ))
            })
        };
        let a = match last {
            Some((key, id)) if *key == e.from => *id,
            _ => {
                let a = resolve(&e.from)?;
                *last = Some((e.from.clone(), a));
                a
            }
        };
        let b = resolve(&e.to)?;
        let mut rejected = Vec::new();
        let mut reject = |c: &str, side: &str, key: &str| {
            rejected.push(RejectedColumn {
                column: c.to_string(),
                reason: format!("line {line}: not a column of {side} node {key:?}"),
            })
        };
        let mut cols = Vec::new();
        for m in &e.columns {
            let to = self.column(b, &m.to);
            if to.is_none() {
                reject(&m.to, "downstream", &e.to);
            }
            let mut from = Vec::new();
            for f in &m.from {
                match self.column(a, f) {
                    Some(c) => from.push(c),
                    None => reject(f, "upstream", &e.from),
                }
            }
            if let (Some(to), false) = (to, from.is_empty()) {
                from.sort_unstable();
                from.dedup();
                cols.push(StoredMapping {
                    from,
                    to,
                    func: m.function.clone(),
                    tr: None,
                });
            }
        }
        let plain = cols.is_empty()
            && e.sql_query.is_none()
            && e.description.is_none()
            && e.source.is_none_or(|s| s == LineageSource::Manual);
        let details = (!plain).then(|| {
            let d = StoredDetails {
                sql: e.sql_query,
                cols,
                desc: e.description,
                source: e.source.unwrap_or_default().code(),
                created_at: self.now,
                updated_at: self.now,
                ..StoredDetails::default()
            };
            let encoded = serde_json::to_vec(&d).expect("details serialize");
            (encoded, d.column_edges().collect())
        });
        Ok((a, b, details, rejected))
    }
}

fn flip(pairs: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut f: Vec<(u32, u32)> = pairs.to_vec();
    flip_in_place(&mut f);
    f
}

/// An edge as a bulk load carries it: its (from, to) pair first.
trait Pair: Copy + Ord + Send {
    /// (from, to).
    fn pair(&self) -> (u32, u32);
    /// Turns it around.
    fn flip(&mut self);
}

impl Pair for (u32, u32) {
    fn pair(&self) -> (u32, u32) {
        *self
    }
    fn flip(&mut self) {
        (self.0, self.1) = (self.1, self.0);
    }
}

impl Pair for [u32; 2] {
    fn pair(&self) -> (u32, u32) {
        (self[0], self[1])
    }
    fn flip(&mut self) {
        self.swap(0, 1);
    }
}

impl Pair for Edge {
    fn pair(&self) -> (u32, u32) {
        (self[0], self[1])
    }
    fn flip(&mut self) {
        self.swap(0, 1);
    }
}

/// Every edge turned around and sorted again, in place (no second copy of a big load's
/// edges).
fn flip_in_place<T: Pair>(edges: &mut [T]) {
    edges.par_iter_mut().for_each(Pair::flip);
    edges.par_sort_unstable();
}

/// The final lists of the ids an edit touches, packed: list `i` belongs to `ids[i]` and
/// ends at `ends[i]` in `targets`.
struct Changed {
    ids: MapVec<u32>,
    ends: MapVec<u32>,
    targets: MapVec<u32>,
}

impl Changed {
    /// (id, final list), in id order.
    fn iter(&self) -> impl Iterator<Item = (u32, &[u32])> {
        self.ids.iter().enumerate().map(|(i, id)| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
            (*id, &self.targets[start..self.ends[i] as usize])
        })
    }
}

/// The final lists of the ids that `add` and `remove` touch (both sorted (id, neighbour)
/// pairs without duplicates), computed from the current `lists`.
fn merged<T: Pair>(lists: &Lists, add_all: &[T], remove: &[(u32, u32)]) -> Result<Changed> {
    let mut add = add_all.chunk_by(|x, y| x.pair().0 == y.pair().0).peekable();
    // Memory maps: grown by doubling, a big load's lists would be copied, and held
    // twice, on the way.
    let mut out = Changed {
        ids: MapVec::new("adjacency lists"),
        ends: MapVec::new("adjacency lists"),
        targets: MapVec::new("adjacency entries"),
    };
    let mut remove = remove.chunk_by(|x, y| x.0 == y.0).peekable();
    let mut list = Vec::new();
    loop {
        let id = match (add.peek(), remove.peek()) {
            (None, None) => break,
            (Some(a), None) => a[0].pair().0,
            (None, Some(r)) => r[0].0,
            (Some(a), Some(r)) => a[0].pair().0.min(r[0].0),
        };
        let adds = add.next_if(|a| a[0].pair().0 == id).unwrap_or(&[]);
        let removes = remove.next_if(|r| r[0].0 == id).unwrap_or(&[]);
        let base = lists.get(id);
        list.clear();
        list.extend_from_slice(base);
        list.extend(adds.iter().map(|p| p.pair().1));
        if !base.is_empty() {
            list.sort_unstable();
            list.dedup();
        }
        if !removes.is_empty() {
            list.retain(|x| removes.binary_search_by_key(x, |p| p.1).is_err());
        }
        out.ids.push(id)?;
        out.targets.extend_from_slice(&list)?;
        let end = u32::try_from(out.targets.len()).map_err(|_| {
            bad_input("a bulk load may change at most 4G adjacency entries per direction")
        })?;
        out.ends.push(end)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_strings_and_fields_read_back() {
        let mut nodes = NewNodes::new(0);
        let big = "x".repeat(100_000);
        for i in 0..7u32 {
            let n = BulkNode {
                key: None,
                entity_type: EntityType::ALL[i as usize % EntityType::ALL.len()],
                fqn: format!("db.t{i}"),
                name: (i % 2 == 0).then(|| format!("name{i}")),
                id: None,
                columns: vec![format!("a{i}"), big.clone(), format!("z{i}")],
            };
            let id = Uuid::from_u128(u128::MAX / 7 * u128::from(i));
            nodes.push(&n, id, i * 3, i as usize + 10).unwrap();
        }
        for (i, n) in nodes.iter().enumerate() {
            assert_eq!(n.id, Uuid::from_u128(u128::MAX / 7 * i as u128));
            assert_eq!(n.kind, EntityType::ALL[i % EntityType::ALL.len()]);
            assert_eq!(
                (n.first_column, n.columns, n.line),
                (i as u32 * 3, 3, i as u32 + 10)
            );
            let n = &n;
            assert_eq!(nodes.fqn(n), format!("db.t{i}"));
            let name = if i % 2 == 0 {
                format!("name{i}")
            } else {
                format!("t{i}")
            };
            assert_eq!(nodes.name(n), name);
            let cols: Vec<&str> = nodes.columns(n).collect();
            assert_eq!(
                cols,
                [format!("a{i}").as_str(), big.as_str(), &format!("z{i}")]
            );
        }
    }

    /// Details and their column edges read back the same from memory and from
    /// scratch files, whatever order the entries are asked for in.
    #[test]
    fn details_read_back_from_memory_and_from_scratch_files() {
        let dir = tempfile::tempdir().unwrap();
        for place in [None, Some(dir.path().to_path_buf())] {
            let mut arena = DetailArena::new(place.clone());
            arena.bytes = Spill::with_threshold(place.clone(), 100);
            arena.cols = Spill::with_threshold(place, 100);
            let mut orders = Vec::new();
            for i in 0..1000u32 {
                if i % 3 == 0 {
                    orders.push(arena.plain());
                } else {
                    let text = format!(
                        "{{\"entry\":{i},\"pad\":\"{}\"}}",
                        "p".repeat(i as usize % 50)
                    );
                    orders.push(
                        arena
                            .push(text.as_bytes(), &[(i, i + 1), (i, i + 2)])
                            .unwrap(),
                    );
                }
            }
            let details = arena.finish().unwrap();
            let mut reader = details.bytes.reader();
            let mut seen = 0;
            for (i, order) in orders.iter().enumerate().rev() {
                match details_entry(*order) {
                    Some(d) => {
                        let got = details.get(&mut reader, d).unwrap();
                        assert!(got.starts_with(format!("{{\"entry\":{i},").as_bytes()));
                        seen += 1;
                    }
                    None => assert_eq!(i % 3, 0),
                }
            }
            let mut cols = Vec::new();
            details
                .cols
                .for_each_piece(COLUMN_EDGE_BYTES, |p| {
                    cols.extend(p.chunks_exact(COLUMN_EDGE_BYTES).map(decode_column_edge));
                    Ok(())
                })
                .unwrap();
            assert_eq!(cols.len(), 2 * seen);
            assert_eq!(cols[0], (0, 1, 2), "entry 0 is the edge read second");
        }
    }

    /// Plain records sort before the detailed records read after them and after those
    /// read before them: the order of the input.
    #[test]
    fn orders_follow_the_input() {
        let mut arena = DetailArena::new(None);
        let p0 = arena.plain();
        let d0 = arena.push(b"{}", &[]).unwrap();
        let p1 = arena.plain();
        let p1b = arena.plain();
        let d1 = arena.push(b"{}", &[]).unwrap();
        assert!(p0 < d0 && d0 < p1 && p1 == p1b && p1 < d1);
        assert_eq!((details_entry(d0), details_entry(d1)), (Some(0), Some(1)));
        assert_eq!(details_entry(p1), None);
    }
}

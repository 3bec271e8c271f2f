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
use std::io::BufRead;

use rayon::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use crate::backend::Batch;
use crate::error::{Result, bad_input};
use crate::graph::{NO_OWNER, Side};
use crate::ids::{EntityType, LineageSource, NodeId};
use crate::keys::{self, cf, meta};
use crate::model::{EntityHeader, RejectedColumn, StoredDetails, StoredMapping, now_millis};
use crate::store::Store;
use crate::txn::{Record, decode_details};

/// One line of a JSON-lines bulk file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum BulkRecord {
    /// An entity.
    Node(BulkNode),
    /// An edge between two nodes given earlier in the same input.
    Edge(BulkEdge),
}

/// An entity in a bulk file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkNode {
    /// What edges call this node; defaults to the FQN.
    #[serde(default)]
    pub key: Option<String>,
    /// Entity type.
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    /// Fully qualified name.
    pub fqn: String,
    /// Short name; defaults to the FQN's last part.
    #[serde(default)]
    pub name: Option<String>,
    /// UUID; a new one when absent.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Column names.
    #[serde(default)]
    pub columns: Vec<String>,
}

/// An edge in a bulk file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkEdge {
    /// Key of the upstream node.
    pub from: String,
    /// Key of the downstream node.
    pub to: String,
    /// Column mappings by column *name* on each side.
    #[serde(default)]
    pub columns: Vec<BulkMapping>,
    /// Lineage source (default Manual).
    #[serde(default)]
    pub source: Option<LineageSource>,
    /// SQL the lineage came from.
    #[serde(default)]
    pub sql_query: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// A column mapping in a bulk file, by column names.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkMapping {
    /// Upstream column names.
    pub from: Vec<String>,
    /// Downstream column name.
    pub to: String,
    /// The transformation.
    #[serde(default)]
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

/// Reads JSON lines; blank lines are skipped. Errors name the line.
pub fn read_jsonl<R: BufRead>(r: R) -> impl Iterator<Item = Result<(usize, BulkRecord)>> {
    r.lines().enumerate().filter_map(|(i, line)| {
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
}

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

/// A node created by this load.
struct NewNode {
    kind: EntityType,
    id: Uuid,
    fqn: String,
    name: String,
    columns: Vec<String>,
    first_column: u32,
}

/// Progress callback: phase name and items done in it.
pub type Progress<'a> = &'a mut dyn FnMut(&'static str, usize);

impl Store {
    /// Loads nodes and edges in bulk (see the module docs). `progress` is called every
    /// 100,000 records while reading and once per later phase.
    pub fn bulk_load(
        &self,
        records: impl IntoIterator<Item = Result<(usize, BulkRecord)>>,
        progress: Progress<'_>,
    ) -> Result<BulkReport> {
        let kv = self.backend();
        let mut g = self.graph_mut();
        let base_nodes = g.kind.len() as u32;
        let base_cols = g.col_owner.len() as u32;
        let mut report = BulkReport::default();
        let mut keymap: HashMap<String, u32> = HashMap::new();
        let mut new_nodes: Vec<NewNode> = Vec::new();
        let mut new_fqns: HashSet<(EntityType, String)> = HashSet::new();
        let mut existing: HashMap<u32, Record> = HashMap::new();
        // (from, to, details); `None` = default details, which need no stored entry.
        let mut edges: Vec<(u32, u32, Option<Box<StoredDetails>>)> = Vec::new();
        let store_was_empty = base_nodes == 0;
        let mut next_col = base_cols;
        let now = now_millis();
        let mut count = 0usize;
        for rec in records {
            let (line, rec) = rec?;
            count += 1;
            if count.is_multiple_of(100_000) {
                progress("read", count);
            }
            match rec {
                BulkRecord::Node(n) => {
                    let key = n.key.clone().unwrap_or_else(|| n.fqn.clone());
                    if keymap.contains_key(&key) {
                        return Err(bad_input(format!(
                            "line {line}: node key {key:?} appears twice"
                        )));
                    }
                    if n.fqn.is_empty() {
                        return Err(bad_input(format!("line {line}: empty fqn")));
                    }
                    let found = if store_was_empty {
                        None
                    } else {
                        kv.get(cf::FQN_NODE, &keys::fqn_key(n.entity_type, &n.fqn))?
                    };
                    let node = match found {
                        Some(b) => {
                            let id = keys::decode_u32(cf::FQN_NODE, &b)?;
                            let r = kv.get(cf::NODE_ENTITY, &keys::node_key(NodeId(id)))?;
                            let r =
                                r.ok_or_else(|| crate::error::corrupt(cf::FQN_NODE, "dangling"))?;
                            existing.insert(id, Record::decode(&r)?);
                            report.nodes_existing += 1;
                            id
                        }
                        None => {
                            if !new_fqns.insert((n.entity_type, n.fqn.clone())) {
                                return Err(bad_input(format!(
                                    "line {line}: {} {:?} appears twice",
                                    n.entity_type, n.fqn
                                )));
                            }
                            let mut seen = HashSet::new();
                            if let Some(dup) =
                                n.columns.iter().find(|c| c.is_empty() || !seen.insert(*c))
                            {
                                return Err(bad_input(format!(
                                    "line {line}: bad or repeated column {dup:?}"
                                )));
                            }
                            let id = base_nodes + new_nodes.len() as u32;
                            let name = n.name.unwrap_or_else(|| {
                                n.fqn.rsplit('.').next().unwrap_or(&n.fqn).to_string()
                            });
                            new_nodes.push(NewNode {
                                kind: n.entity_type,
                                id: n.id.unwrap_or_else(Uuid::new_v4),
                                fqn: n.fqn,
                                name,
                                first_column: next_col,
                                columns: n.columns,
                            });
                            next_col += new_nodes.last().map_or(0, |x| x.columns.len() as u32);
                            id
                        }
                    };
                    keymap.insert(key, node);
                }
                BulkRecord::Edge(e) => {
                    let resolve = |k: &str| {
                        keymap.get(k).copied().ok_or_else(|| {
                            bad_input(format!(
                                "line {line}: edge names unknown node key {k:?} (nodes must come before the edges that use them)"
                            ))
                        })
                    };
                    let (a, b) = (resolve(&e.from)?, resolve(&e.to)?);
                    let col = |node: u32, name: &str| -> Option<u32> {
                        if node >= base_nodes {
                            let n = &new_nodes[(node - base_nodes) as usize];
                            n.columns
                                .iter()
                                .position(|c| c == name)
                                .map(|i| n.first_column + i as u32)
                        } else {
                            let r = &existing[&node];
                            r.header
                                .columns
                                .iter()
                                .find(|(c, _)| c == name)
                                .map(|(_, id)| *id)
                        }
                    };
                    let mut cols = Vec::new();
                    let reject = |report: &mut BulkReport, c: &str, side: &str, key: &str| {
                        report.rejected_total += 1;
                        if report.rejected_columns.len() < 100 {
                            report.rejected_columns.push(RejectedColumn {
                                column: c.to_string(),
                                reason: format!("line {line}: not a column of {side} node {key:?}"),
                            });
                        }
                    };
                    for m in &e.columns {
                        let to = col(b, &m.to);
                        if to.is_none() {
                            reject(&mut report, &m.to, "downstream", &e.to);
                        }
                        let mut from = Vec::new();
                        for f in &m.from {
                            match col(a, f) {
                                Some(c) => from.push(c),
                                None => reject(&mut report, f, "upstream", &e.from),
                            }
                        }
                        if let (Some(to), false) = (to, from.is_empty()) {
                            from.sort_unstable();
                            from.dedup();
                            cols.push(StoredMapping {
                                from,
                                to,
                                func: m.function.clone(),
                            });
                        }
                    }
                    let plain = cols.is_empty()
                        && e.sql_query.is_none()
                        && e.description.is_none()
                        && e.source.is_none_or(|s| s == LineageSource::Manual);
                    let details = (!plain).then(|| {
                        Box::new(StoredDetails {
                            sql: e.sql_query,
                            cols,
                            desc: e.description,
                            source: e.source.unwrap_or_default().code(),
                            created_at: now,
                            updated_at: now,
                            ..StoredDetails::default()
                        })
                    });
                    edges.push((a, b, details));
                }
            }
        }
        progress("read", count);
        let next_node = base_nodes + new_nodes.len() as u32;
        report.nodes_created = new_nodes.len();
        // One edge per pair: the last record for a pair wins.
        edges.par_sort_by_key(|e| (e.0, e.1));
        edges.dedup_by(|later, kept| {
            let same = (later.0, later.1) == (kept.0, kept.1);
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        report.edges = edges.len();

        // Adjacency: new edges merged into the current lists of the nodes they touch.
        let pairs: Vec<(u32, u32)> = edges.iter().map(|e| (e.0, e.1)).collect();
        let mut removed_cols: Vec<(u32, u32)> = Vec::new();
        let mut replaced: HashSet<(u32, u32)> = HashSet::new();
        for &(a, b) in &pairs {
            if a < base_nodes && g.list(Side::NodeOut, a).binary_search(&b).is_ok() {
                replaced.insert((a, b));
                if let Some(v) = kv.get(cf::EDGE_DETAILS, &keys::edge_key(NodeId(a), NodeId(b)))? {
                    removed_cols.extend(decode_details(&v)?.column_edges());
                }
            }
        }
        let mut added_cols: Vec<(u32, u32)> = edges
            .iter()
            .filter_map(|e| e.2.as_deref())
            .flat_map(StoredDetails::column_edges)
            .collect();
        added_cols.sort_unstable();
        added_cols.dedup();
        report.column_edges = added_cols.len();
        let added_set: HashSet<(u32, u32)> = if removed_cols.is_empty() {
            HashSet::new()
        } else {
            added_cols.iter().copied().collect()
        };
        removed_cols.retain(|e| !added_set.contains(e));
        progress("index", pairs.len());

        g.grow(next_node, next_col);
        let out_lists = merge_lists(&mut g.out, &pairs, &[]);
        let inn_lists = merge_lists(&mut g.inn, &flip(&pairs), &[]);
        let col_out_lists = merge_lists(&mut g.col_out, &added_cols, &removed_cols);
        let col_in_lists = merge_lists(&mut g.col_in, &flip(&added_cols), &flip(&removed_cols));

        // Key-value entries per column family, each sorted by key.
        let mut entity = Vec::with_capacity(new_nodes.len());
        let mut uuid_node = Vec::with_capacity(new_nodes.len());
        let mut fqn_node = Vec::with_capacity(new_nodes.len());
        let mut column_node = Vec::new();
        let mut fqn_column = Vec::new();
        for (i, n) in new_nodes.iter().enumerate() {
            let node = base_nodes + i as u32;
            let nk = node.to_be_bytes().to_vec();
            let columns: Vec<(String, u32)> = n
                .columns
                .iter()
                .enumerate()
                .map(|(j, c)| (c.clone(), n.first_column + j as u32))
                .collect();
            for (c, id) in &columns {
                let mut v = nk.clone();
                v.extend_from_slice(c.as_bytes());
                column_node.push((id.to_be_bytes().to_vec(), v));
                fqn_column.push((
                    keys::fqn_key(n.kind, &format!("{}.{c}", n.fqn)),
                    id.to_be_bytes().to_vec(),
                ));
                g.col_owner[*id as usize] = node;
            }
            let header = EntityHeader {
                id: n.id,
                fqn: n.fqn.clone(),
                name: n.name.clone(),
                columns,
            };
            entity.push((
                nk.clone(),
                Record {
                    kind: n.kind,
                    flags: 0,
                    header,
                }
                .encode(),
            ));
            uuid_node.push((n.id.as_bytes().to_vec(), nk.clone()));
            fqn_node.push((keys::fqn_key(n.kind, &n.fqn), nk));
            g.kind[node as usize] = n.kind.code();
            g.flags[node as usize] = 0;
        }
        uuid_node.par_sort_unstable();
        fqn_node.par_sort_unstable();
        fqn_column.par_sort_unstable();
        // Plain edges need no details entry, unless they replace stored details.
        let default_details = StoredDetails {
            created_at: now,
            updated_at: now,
            ..StoredDetails::default()
        };
        let details: Vec<(Vec<u8>, Vec<u8>)> = edges
            .par_iter()
            .filter(|(a, b, d)| d.is_some() || replaced.contains(&(*a, *b)))
            .map(|(a, b, d)| {
                let d = d.as_deref().unwrap_or(&default_details);
                (
                    keys::edge_key(NodeId(*a), NodeId(*b)).to_vec(),
                    serde_json::to_vec(d).expect("serializes"),
                )
            })
            .collect();
        let encode = |lists: &[Vec<u32>], ids: Vec<u32>| -> Vec<(Vec<u8>, Vec<u8>)> {
            ids.into_par_iter()
                .map(|i| {
                    (
                        i.to_be_bytes().to_vec(),
                        keys::encode_ids(&lists[i as usize]),
                    )
                })
                .collect()
        };
        let node_out = encode(&g.out, out_lists);
        let node_in = encode(&g.inn, inn_lists);
        let column_out = encode(&g.col_out, col_out_lists);
        let column_in = encode(&g.col_in, col_in_lists);
        progress("encode", entity.len() + details.len());

        let mut marker = Batch::default();
        marker.put(cf::META, meta::BULK_LOAD_IN_PROGRESS, vec![1]);
        kv.write(marker)?;
        // Order matters for repair: entities, then details, then out-lists, then in-lists.
        kv.ingest(&[
            (cf::NODE_ENTITY, &entity),
            (cf::UUID_NODE, &uuid_node),
            (cf::FQN_NODE, &fqn_node),
            (cf::COLUMN_NODE, &column_node),
            (cf::FQN_COLUMN, &fqn_column),
            (cf::EDGE_DETAILS, &details),
            (cf::NODE_OUT, &node_out),
            (cf::COLUMN_OUT, &column_out),
            (cf::NODE_IN, &node_in),
            (cf::COLUMN_IN, &column_in),
        ])?;
        let mut done = Batch::default();
        done.put(cf::META, meta::NEXT_NODE, next_node.to_be_bytes().to_vec());
        done.put(cf::META, meta::NEXT_COLUMN, next_col.to_be_bytes().to_vec());
        done.delete(cf::META, meta::BULK_LOAD_IN_PROGRESS);
        kv.write(done)?;
        debug_assert!(
            g.col_owner
                .iter()
                .skip(base_cols as usize)
                .all(|o| *o != NO_OWNER)
        );
        progress("ingest", count);
        Ok(report)
    }
}

fn flip(pairs: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut f: Vec<(u32, u32)> = pairs.iter().map(|(a, b)| (*b, *a)).collect();
    f.sort_unstable();
    f
}

/// Adds `add` and removes `remove` (both sorted (id, neighbour) pairs) in `lists`;
/// returns the ids whose lists changed.
fn merge_lists(lists: &mut [Vec<u32>], add: &[(u32, u32)], remove: &[(u32, u32)]) -> Vec<u32> {
    let mut touched = Vec::new();
    for chunk in add.chunk_by(|x, y| x.0 == y.0) {
        let id = chunk[0].0;
        let l = &mut lists[id as usize];
        if l.is_empty() {
            l.extend(chunk.iter().map(|p| p.1));
        } else {
            l.extend(chunk.iter().map(|p| p.1));
            l.sort_unstable();
            l.dedup();
        }
        touched.push(id);
    }
    for &(id, x) in remove {
        crate::graph::sorted_remove(&mut lists[id as usize], x);
        touched.push(id);
    }
    touched.sort_unstable();
    touched.dedup();
    touched
}

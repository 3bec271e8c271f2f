//! Model-based test: random edit sequences and traversals, checked against a plain
//! HashMap + BFS model, on the in-memory backend and on RocksDB (with reopen).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use headwaters_engine::{
    ColumnMapping, EdgeInput, EntityInput, EntityType, EntityTypeSet, Error, GraphSource, Query,
    Store, TraversalSpec, UserError,
};
use proptest::prelude::*;

const KEYS: u8 = 8;
const TYPES: [EntityType; 3] = [
    EntityType::Table,
    EntityType::Dashboard,
    EntityType::Pipeline,
];

/// Column mappings as generated: source column indexes, target column index.
type RawMaps = Vec<(Vec<usize>, usize)>;

#[derive(Clone, Debug)]
enum Op {
    Upsert {
        k: u8,
        ty: usize,
        ncols: usize,
    },
    PutEdge {
        a: u8,
        b: u8,
        maps: Vec<(Vec<usize>, usize)>,
    },
    RemoveEdge {
        a: u8,
        b: u8,
    },
    SoftDelete(u8),
    Restore(u8),
    HardDelete(u8),
    Traverse {
        k: u8,
        up: Option<u32>,
        down: Option<u32>,
        types: u8,
        deleted: bool,
        budget: Option<usize>,
    },
    ColumnTraverse {
        k: u8,
        col: usize,
        up: Option<u32>,
        down: Option<u32>,
    },
    Bulk {
        nodes: Vec<(u8, usize, usize)>,
        edges: Vec<(u8, u8, RawMaps)>,
    },
    /// Reopen the store, after a flush (which saves the graph's snapshot) or not.
    Reopen {
        flush: bool,
    },
}

fn depth() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![3 => (0u32..4).prop_map(Some), 1 => Just(None)]
}

fn maps() -> impl Strategy<Value = RawMaps> {
    prop::collection::vec((prop::collection::vec(0..5usize, 1..3), 0..5usize), 0..3)
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0..KEYS;
    prop_oneof![
        4 => (k.clone(), 0..3usize, 0..4usize).prop_map(|(k, ty, ncols)| Op::Upsert { k, ty, ncols }),
        8 => (k.clone(), k.clone(), maps())
            .prop_map(|(a, b, maps)| Op::PutEdge { a, b, maps }),
        2 => (k.clone(), k.clone()).prop_map(|(a, b)| Op::RemoveEdge { a, b }),
        1 => k.clone().prop_map(Op::SoftDelete),
        1 => k.clone().prop_map(Op::Restore),
        1 => k.clone().prop_map(Op::HardDelete),
        4 => (k.clone(), depth(), depth(), 1u8..8, any::<bool>(), prop::option::of(0usize..4))
            .prop_map(|(k, up, down, types, deleted, budget)| Op::Traverse { k, up, down, types, deleted, budget }),
        2 => (k.clone(), 0..4usize, depth(), depth()).prop_map(|(k, col, up, down)| Op::ColumnTraverse { k, col, up, down }),
        2 => any::<bool>().prop_map(|flush| Op::Reopen { flush }),
        2 => (
            prop::collection::vec((k.clone(), 0..3usize, 0..4usize), 0..5),
            prop::collection::vec((k.clone(), k.clone(), maps()), 0..6),
        )
            .prop_map(|(nodes, edges)| Op::Bulk { nodes, edges }),
    ]
}

/// A column mapping by column index: sources, target.
type Mapping = (BTreeSet<usize>, usize);
/// A BFS answer: (node, depth) pairs and the edges followed.
type Reached<N> = (BTreeSet<(N, u32)>, BTreeSet<(N, N)>);

#[derive(Clone, Debug)]
struct MEntity {
    ty: usize,
    deleted: bool,
    ncols: usize,
}

/// The reference: entities by key, edges with column mappings by column index.
#[derive(Default)]
struct Model {
    ents: HashMap<u8, MEntity>,
    edges: HashMap<(u8, u8), Vec<Mapping>>,
}

fn uuid(k: u8) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x1000 + k as u128)
}
fn fqn(k: u8) -> String {
    format!("svc.e{k}")
}
fn key_of(fqn: &str) -> u8 {
    fqn.strip_prefix("svc.e")
        .and_then(|s| s.parse().ok())
        .expect("fqn made by the test")
}

impl Model {
    fn admits(&self, k: u8, types: u8, deleted: bool) -> bool {
        self.ents
            .get(&k)
            .is_some_and(|e| types & (1 << e.ty) != 0 && (deleted || !e.deleted))
    }

    /// Plain BFS: (node, depth) set and the edges followed, in data-flow orientation.
    fn bfs<N: Copy + Eq + std::hash::Hash + Ord>(
        root: N,
        max: Option<u32>,
        next: impl Fn(N) -> Vec<N>,
        admits: impl Fn(N) -> bool,
        down: bool,
    ) -> Reached<N> {
        let mut seen = HashMap::from([(root, 0u32)]);
        let mut q = VecDeque::from([root]);
        let mut edges = BTreeSet::new();
        while let Some(u) = q.pop_front() {
            let d = seen[&u];
            if max.is_some_and(|m| d >= m) {
                continue;
            }
            for v in next(u) {
                if !admits(v) {
                    continue;
                }
                edges.insert(if down { (u, v) } else { (v, u) });
                if let std::collections::hash_map::Entry::Vacant(slot) = seen.entry(v) {
                    slot.insert(d + 1);
                    q.push_back(v);
                }
            }
        }
        seen.remove(&root);
        (seen.into_iter().collect(), edges)
    }

    fn neighbors(&self, k: u8, down: bool) -> Vec<u8> {
        self.edges
            .keys()
            .filter(|(a, b)| if down { *a == k } else { *b == k })
            .map(|(a, b)| if down { *b } else { *a })
            .collect()
    }

    fn column_edges(&self) -> HashSet<((u8, usize), (u8, usize))> {
        let mut s = HashSet::new();
        for ((a, b), maps) in &self.edges {
            for (from, to) in maps {
                for f in from {
                    s.insert(((*a, *f), (*b, *to)));
                }
            }
        }
        s
    }

    /// The mappings an edge a -> b keeps (valid columns only), and how many column
    /// references are refused.
    fn accept_mappings(&self, a: u8, b: u8, maps: RawMaps) -> (Vec<Mapping>, usize) {
        let (ca, cb) = (self.ents[&a].ncols, self.ents[&b].ncols);
        let mut rejects = 0;
        let mut kept = Vec::new();
        for (f, t) in maps {
            rejects += f.iter().filter(|c| **c >= ca).count() + usize::from(t >= cb);
            let from: BTreeSet<usize> = f.into_iter().filter(|c| *c < ca).collect();
            if t < cb && !from.is_empty() {
                kept.push((from, t));
            }
        }
        (kept, rejects)
    }

    fn drop_columns(&mut self, k: u8, ncols: usize) {
        for ((a, b), maps) in self.edges.iter_mut() {
            for (from, to) in maps.iter_mut() {
                if *a == k {
                    from.retain(|c| *c < ncols);
                }
                if *b == k && *to >= ncols {
                    from.clear();
                }
            }
            maps.retain(|(from, _)| !from.is_empty());
        }
    }
}

fn col_fqn(k: u8, c: usize) -> String {
    format!("{}.c{c}", fqn(k))
}

struct Harness {
    store: Store,
    dir: Option<tempfile::TempDir>,
}

impl Harness {
    fn node(&self, k: u8) -> Option<headwaters_engine::NodeId> {
        self.store
            .read()
            .node_by_fqn(TYPES[0], &fqn(k))
            .unwrap()
            .or_else(|| self.store.read().node_by_fqn(TYPES[1], &fqn(k)).unwrap())
            .or_else(|| self.store.read().node_by_fqn(TYPES[2], &fqn(k)).unwrap())
    }
}

fn run(ops: Vec<Op>, rocks: bool) -> Result<(), TestCaseError> {
    let dir = rocks.then(|| tempfile::tempdir().unwrap());
    let open = |d: &Option<tempfile::TempDir>| match d {
        Some(d) => Store::open(d.path()).unwrap(),
        None => Store::in_memory(),
    };
    let mut h = Harness {
        store: open(&dir),
        dir,
    };
    let mut m = Model::default();
    for op in ops {
        check_records(&h, &m)?;
        match op {
            Op::Upsert { k, ty, ncols } => {
                let r = h.store.upsert_entity(EntityInput {
                    id: uuid(k),
                    entity_type: TYPES[ty],
                    fqn: fqn(k),
                    name: format!("e{k}"),
                    columns: (0..ncols).map(|c| format!("c{c}")).collect(),
                    doc: serde_json::json!({"k": k}),
                });
                match m.ents.get_mut(&k) {
                    Some(e) if e.ty != ty => {
                        prop_assert!(
                            matches!(r, Err(Error::User(UserError::TypeChange { .. }))),
                            "{r:?}"
                        );
                    }
                    Some(e) => {
                        prop_assert!(matches!(r, Ok((_, false))), "{r:?}");
                        e.ncols = ncols;
                        m.drop_columns(k, ncols);
                    }
                    None => {
                        prop_assert!(matches!(r, Ok((_, true))), "{r:?}");
                        m.ents.insert(
                            k,
                            MEntity {
                                ty,
                                deleted: false,
                                ncols,
                            },
                        );
                    }
                }
            }
            Op::PutEdge { a, b, maps } => {
                let (na, nb) = (h.node(a), h.node(b));
                let (Some(na), Some(nb)) = (na, nb) else {
                    prop_assert!(!(m.ents.contains_key(&a) && m.ents.contains_key(&b)));
                    continue;
                };
                let input = EdgeInput {
                    columns_lineage: maps
                        .iter()
                        .map(|(f, t)| ColumnMapping {
                            from_columns: f.iter().map(|c| col_fqn(a, *c)).collect(),
                            to_column: col_fqn(b, *t),
                            function: None,
                            transformation: None,
                        })
                        .collect(),
                    ..EdgeInput::default()
                };
                let out = h.store.put_edge(na, nb, input).unwrap();
                prop_assert_eq!(out.created, !m.edges.contains_key(&(a, b)));
                let (kept, expected_rejects) = m.accept_mappings(a, b, maps);
                prop_assert_eq!(out.rejected_columns.len(), expected_rejects);
                m.edges.insert((a, b), kept);
            }
            Op::RemoveEdge { a, b } => {
                if let (Some(na), Some(nb)) = (h.node(a), h.node(b)) {
                    let removed = h.store.remove_edge(na, nb).unwrap();
                    prop_assert_eq!(removed, m.edges.remove(&(a, b)).is_some());
                }
            }
            Op::SoftDelete(k) | Op::Restore(k) => {
                let del = matches!(op, Op::SoftDelete(_));
                match h.node(k) {
                    Some(n) => {
                        h.store.set_deleted(n, del).unwrap();
                        m.ents.get_mut(&k).unwrap().deleted = del;
                    }
                    None => prop_assert!(!m.ents.contains_key(&k)),
                }
            }
            Op::HardDelete(k) => {
                if let Some(n) = h.node(k) {
                    h.store.hard_delete(n).unwrap();
                    m.ents.remove(&k);
                    m.edges.retain(|(a, b), _| *a != k && *b != k);
                    prop_assert!(h.store.read().entity(n).is_err());
                }
            }
            Op::Traverse {
                k,
                up,
                down,
                types,
                deleted,
                budget,
            } => {
                let Some(n) = h.node(k) else { continue };
                let set: EntityTypeSet = (0..3)
                    .filter(|i| types & (1 << i) != 0)
                    .map(|i| TYPES[i])
                    .collect();
                let q = Query {
                    spec: TraversalSpec {
                        upstream_depth: up,
                        downstream_depth: down,
                        node_budget: budget,
                        collect_edges: true,
                    },
                    types: set,
                    include_deleted: deleted,
                };
                let view = h.store.read();
                let t = view.traverse(n, &q).unwrap();
                for (reach, depth, is_down) in
                    [(&t.upstream, up, false), (&t.downstream, down, true)]
                {
                    let (want, want_edges) = if depth == Some(0) {
                        (BTreeSet::new(), BTreeSet::new())
                    } else {
                        Model::bfs(
                            k,
                            depth,
                            |x| m.neighbors(x, is_down),
                            |x| m.admits(x, types, deleted),
                            is_down,
                        )
                    };
                    let key = |n| key_of(&view.entity(n).unwrap().fqn);
                    let got: BTreeSet<(u8, u32)> = reach
                        .visits
                        .iter()
                        .map(|v| (key(v.node), v.depth))
                        .collect();
                    prop_assert_eq!(got.len(), reach.visits.len(), "a node reported twice");
                    match budget {
                        None => {
                            prop_assert!(!reach.truncated);
                            prop_assert_eq!(&got, &want);
                            let got_edges: BTreeSet<(u8, u8)> = reach
                                .edges
                                .iter()
                                .map(|(a, b)| (key(*a), key(*b)))
                                .collect();
                            prop_assert_eq!(got_edges, want_edges);
                        }
                        Some(b) => {
                            prop_assert_eq!(got.len(), want.len().min(b));
                            prop_assert_eq!(reach.truncated, want.len() > b);
                            prop_assert!(got.is_subset(&want));
                            // Level by level: a deeper node only once every shallower one is in.
                            let max_got = got.iter().map(|x| x.1).max().unwrap_or(0);
                            prop_assert!(
                                want.iter()
                                    .filter(|x| x.1 < max_got)
                                    .all(|x| got.contains(x))
                            );
                        }
                    }
                }
            }
            Op::ColumnTraverse { k, col, up, down } => {
                let view = h.store.read();
                let Some(c) = view.column_by_fqn(&col_fqn(k, col)).unwrap() else {
                    prop_assert!(m.ents.get(&k).is_none_or(|e| col >= e.ncols));
                    continue;
                };
                let t = view
                    .column_traverse(
                        c,
                        &Query {
                            spec: TraversalSpec {
                                upstream_depth: up,
                                downstream_depth: down,
                                node_budget: None,
                                collect_edges: false,
                            },
                            ..Query::depths(0, 0)
                        },
                    )
                    .unwrap();
                let cedges = m.column_edges();
                for (reach, depth, is_down) in
                    [(&t.upstream, up, false), (&t.downstream, down, true)]
                {
                    let want = if depth == Some(0) {
                        BTreeSet::new()
                    } else {
                        Model::bfs(
                            (k, col),
                            depth,
                            |x| {
                                cedges
                                    .iter()
                                    .filter(|(a, b)| if is_down { *a == x } else { *b == x })
                                    .map(|(a, b)| if is_down { *b } else { *a })
                                    .collect()
                            },
                            |x| m.admits(x.0, 0b111, false),
                            is_down,
                        )
                        .0
                    };
                    let got: BTreeSet<((u8, usize), u32)> = reach
                        .visits
                        .iter()
                        .map(|v| {
                            let f = view.column_fqn(v.node).unwrap();
                            let (t, c) = f.rsplit_once(".c").unwrap();
                            ((key_of(t), c.parse().unwrap()), v.depth)
                        })
                        .collect();
                    prop_assert_eq!(got, want);
                }
            }
            Op::Bulk { nodes, edges } => {
                // Keys are local to one load; a key that exists with another type would be
                // a second entity with the same FQN, which this model does not track.
                let mut listed: Vec<u8> = Vec::new();
                let mut text = String::new();
                for (k, ty, ncols) in nodes {
                    if listed.contains(&k) || m.ents.get(&k).is_some_and(|e| e.ty != ty) {
                        continue;
                    }
                    listed.push(k);
                    let cols: Vec<String> = (0..ncols).map(|c| format!("c{c}")).collect();
                    text += &serde_json::json!({"kind": "node", "key": format!("k{k}"), "type": TYPES[ty].as_str(),
                        "fqn": fqn(k), "id": uuid(k), "columns": cols}).to_string();
                    text.push('\n');
                    m.ents.entry(k).or_insert(MEntity {
                        ty,
                        deleted: false,
                        ncols,
                    });
                }
                let mut expected_rejects = 0;
                for (a, b, maps) in edges {
                    if !listed.contains(&a) || !listed.contains(&b) {
                        continue;
                    }
                    let cols: Vec<serde_json::Value> = maps
                        .iter()
                        .map(|(f, t)| serde_json::json!({"from": f.iter().map(|c| format!("c{c}")).collect::<Vec<_>>(), "to": format!("c{t}")}))
                        .collect();
                    text += &serde_json::json!({"kind": "edge", "from": format!("k{a}"), "to": format!("k{b}"), "columns": cols}).to_string();
                    text.push('\n');
                    let (kept, rejects) = m.accept_mappings(a, b, maps);
                    expected_rejects += rejects;
                    m.edges.insert((a, b), kept);
                }
                let r = h
                    .store
                    .bulk_load(
                        headwaters_engine::read_jsonl(text.as_bytes()),
                        &mut |_, _| {},
                    )
                    .unwrap();
                prop_assert_eq!(r.rejected_total, expected_rejects);
            }
            Op::Reopen { flush } => {
                if h.dir.is_some() {
                    h.store
                        .verify()
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    if flush {
                        h.store.flush().unwrap();
                    }
                    drop(std::mem::replace(&mut h.store, Store::in_memory()));
                    h.store = open(&h.dir);
                    // After a flush the graph comes from the snapshot it saved (and the
                    // checks below and after every later step hold for it).
                    if flush {
                        prop_assert_eq!(h.store.graph_source(), &GraphSource::Snapshot);
                    }
                    h.store
                        .verify()
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
            }
        }
    }
    h.store
        .verify()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let view = h.store.read();
    let stats = view.stats();
    prop_assert_eq!(stats.edges, m.edges.len());
    prop_assert_eq!(stats.nodes, m.ents.len());
    prop_assert_eq!(stats.column_edges, m.column_edges().len());
    drop(view);
    check_records(&h, &m)
}

/// Every entity's record and every edge of the model, with its column mappings, as the
/// store reads them back (through its record cache: run after every operation, this
/// checks that each write drops what it changed).
fn check_records(h: &Harness, m: &Model) -> Result<(), TestCaseError> {
    let view = h.store.read();
    for (k, e) in &m.ents {
        let n = h.node(*k).expect("entity present");
        let got = view.entity(n).unwrap();
        prop_assert_eq!(&got.fqn, &fqn(*k));
        prop_assert_eq!(got.deleted, e.deleted);
        prop_assert_eq!(got.columns.len(), e.ncols);
    }
    for ((a, b), maps) in &m.edges {
        let e = view
            .edge(h.node(*a).unwrap(), h.node(*b).unwrap())
            .unwrap()
            .expect("edge present");
        let got: BTreeSet<(BTreeSet<String>, String)> = e
            .columns_lineage
            .into_iter()
            .map(|c| (c.from_columns.into_iter().collect(), c.to_column))
            .collect();
        let want: BTreeSet<(BTreeSet<String>, String)> = maps
            .iter()
            .map(|(f, t)| (f.iter().map(|c| col_fqn(*a, *c)).collect(), col_fqn(*b, *t)))
            .collect();
        prop_assert_eq!(got, want);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn memory_store_matches_model(ops in prop::collection::vec(op(), 1..60)) {
        run(ops, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn rocksdb_store_matches_model_across_reopen(ops in prop::collection::vec(op(), 1..50)) {
        run(ops, true)?;
    }
}

//! The graph snapshot a flush saves: a reopen after a flush reads it and answers as a
//! rebuild would; writes after the flush, a damaged file or a cut-short file make the
//! open rebuild from RocksDB instead, with nothing lost.

mod common;

use std::path::{Path, PathBuf};

use headwaters_engine::{
    ColumnMapping, EdgeInput, EntityInput, EntityTypeSet, GraphSource, NodeId, Query, Store,
    TraversalSpec,
};

const SNAPSHOT: &str = "headwaters-graph.snapshot";

fn table(i: u32) -> EntityInput {
    common::table(0x5A_0000, i, &["a", "b"])
}

/// A chain t0 -> t1 -> ... with column lineage a -> a on every edge.
fn chain(store: &Store, n: u32) -> Vec<NodeId> {
    let nodes: Vec<NodeId> = (0..n)
        .map(|i| store.upsert_entity(table(i)).unwrap().0)
        .collect();
    for i in 1..n as usize {
        let input = EdgeInput {
            columns_lineage: vec![ColumnMapping {
                from_columns: vec![format!("svc.db.s.t{}.a", i - 1)],
                to_column: format!("svc.db.s.t{i}.a"),
                function: None,
                transformation: None,
            }],
            ..EdgeInput::default()
        };
        store.put_edge(nodes[i - 1], nodes[i], input).unwrap();
    }
    nodes
}

/// Nodes reached downstream (unbounded) from `root`.
fn downstream(store: &Store, root: NodeId) -> Vec<NodeId> {
    let q = Query {
        spec: TraversalSpec {
            upstream_depth: Some(0),
            downstream_depth: None,
            node_budget: None,
            collect_edges: false,
        },
        types: EntityTypeSet::ALL,
        include_deleted: false,
    };
    let t = store.read().traverse(root, &q).unwrap();
    let mut n: Vec<NodeId> = t.downstream.visits.iter().map(|v| v.node).collect();
    n.sort();
    n
}

fn reopen(dir: &Path, store: Store) -> Store {
    drop(store);
    let store = Store::open(dir).unwrap();
    store.verify().unwrap();
    store
}

fn snapshot_file(dir: &Path) -> PathBuf {
    dir.join(SNAPSHOT)
}

#[test]
fn reopen_after_flush_reads_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(matches!(store.graph_source(), GraphSource::Rebuilt(_)));
    let nodes = chain(&store, 6);
    store.flush().unwrap();
    assert!(snapshot_file(dir.path()).exists());
    let store = reopen(dir.path(), store);
    assert_eq!(store.graph_source(), &GraphSource::Snapshot);
    assert_eq!(downstream(&store, nodes[0]), nodes[1..].to_vec());
    let stats = store.read().stats();
    assert_eq!((stats.nodes, stats.edges, stats.column_edges), (6, 5, 5));
    // Writes on a graph read from the snapshot work as on a rebuilt one.
    store.set_deleted(nodes[3], true).unwrap();
    store
        .put_edge(nodes[5], nodes[0], EdgeInput::default())
        .unwrap();
    store.flush().unwrap();
    let store = reopen(dir.path(), store);
    assert_eq!(store.graph_source(), &GraphSource::Snapshot);
    // 4 -> 5 -> 0 -> 1 -> 2, and 3 is deleted.
    assert_eq!(
        downstream(&store, nodes[4]),
        vec![nodes[0], nodes[1], nodes[2], nodes[5]]
    );
}

#[test]
fn writes_after_the_flush_make_it_stale() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let nodes = chain(&store, 4);
    store.flush().unwrap();
    store
        .put_edge(nodes[3], nodes[0], EdgeInput::default())
        .unwrap();
    let store = reopen(dir.path(), store);
    match store.graph_source() {
        GraphSource::Rebuilt(why) => assert!(why.contains("stale"), "{why}"),
        other => panic!("expected a rebuild, got {other:?}"),
    }
    assert_eq!(
        downstream(&store, nodes[3]),
        vec![nodes[0], nodes[1], nodes[2]]
    );
}

#[test]
fn a_damaged_or_cut_snapshot_is_rebuilt_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let nodes = chain(&store, 5);
    store.flush().unwrap();
    drop(store);
    let file = snapshot_file(dir.path());
    let good = std::fs::read(&file).unwrap();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "one byte flipped in an adjacency list",
            {
                let mut b = good.clone();
                let at = b.len() - 12;
                b[at] ^= 1;
                b
            },
            "checksum",
        ),
        (
            "cut short",
            good[..good.len() / 2].to_vec(),
            "failed to fill",
        ),
        (
            "another format",
            {
                let mut b = good.clone();
                b[8] = b[8].wrapping_add(1);
                b
            },
            "another format",
        ),
    ];
    for (what, bytes, reason) in cases {
        std::fs::write(&file, bytes).unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.verify().unwrap();
        match store.graph_source() {
            GraphSource::Rebuilt(why) => assert!(why.contains(reason), "{what}: {why}"),
            other => panic!("{what}: expected a rebuild, got {other:?}"),
        }
        assert_eq!(downstream(&store, nodes[0]), nodes[1..].to_vec(), "{what}");
    }
}

//! Renderings kept in the record cache are dropped when what they were made from
//! changes: a node's with its record, an edge's with its details or either end's record.

mod common;

use std::sync::Arc;

use headwaters_engine::{EdgeInput, EntityInput, NodeId, RenderOf, Rendering, Store};

fn table(i: u32, columns: &[&str]) -> EntityInput {
    common::table(0x4E_0000, i, columns)
}

const KEYS: [RenderOf; 4] = [
    RenderOf::Node(NodeId(0)),
    RenderOf::Node(NodeId(1)),
    RenderOf::Edge(NodeId(0), NodeId(1)),
    RenderOf::Edge(NodeId(1), NodeId(2)),
];

/// Keeps a rendering under every key (tag 0), as a reader would.
fn keep_all(store: &Store) {
    let view = store.read();
    view.keep_renderings(KEYS.iter().map(|k| {
        (
            (*k, 0),
            Arc::new(Rendering(b"x".to_vec().into_boxed_slice())),
        )
    }));
}

/// Which keys still have their rendering.
fn kept(store: &Store) -> Vec<bool> {
    let view = store.read();
    view.renderings(KEYS.iter().map(|k| (*k, 0)))
        .iter()
        .map(Option::is_some)
        .collect()
}

#[test]
fn writes_drop_the_renderings_of_what_they_change() {
    let store = Store::open(tempfile::tempdir().unwrap().path()).unwrap();
    let n: Vec<NodeId> = (0..3)
        .map(|i| store.upsert_entity(table(i, &["a"])).unwrap().0)
        .collect();
    assert_eq!(n, vec![NodeId(0), NodeId(1), NodeId(2)]);
    store.put_edge(n[0], n[1], EdgeInput::default()).unwrap();
    store.put_edge(n[1], n[2], EdgeInput::default()).unwrap();
    keep_all(&store);
    assert_eq!(kept(&store), vec![true; 4]);
    // A read keeps them; a tag past the limit is not kept.
    store.read().keep_renderings([(
        (RenderOf::Node(n[2]), headwaters_engine::RENDER_TAGS),
        Arc::new(Rendering(Box::new([]))),
    )]);
    assert_eq!(kept(&store), vec![true; 4]);
    // An edge's details: that edge only.
    let described = EdgeInput {
        description: Some("d".into()),
        ..EdgeInput::default()
    };
    store.put_edge(n[1], n[2], described).unwrap();
    assert_eq!(kept(&store), vec![true, true, true, false]);
    // Node 0's record (a column added; no edge details change): node 0 and its edge.
    keep_all(&store);
    store.upsert_entity(table(0, &["a", "b"])).unwrap();
    assert_eq!(kept(&store), vec![false, true, false, true]);
    // Node 1 soft-deleted: node 1 and both its edges.
    keep_all(&store);
    store.set_deleted(n[1], true).unwrap();
    assert_eq!(kept(&store), vec![true, false, false, false]);
}

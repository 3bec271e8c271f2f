//! Criterion benches of the engine's hot paths on a 100k-node generated graph
//! (in-memory backend), so a regression in one of them shows on its own:
//! neighbour expansion (one level from a hub), frontier union (a level of thousands of
//! nodes, scanned in parallel and merged), bitmap decode (an adjacency list as stored),
//! and result assembly (the entity records and edge details of a lineage answer).

use criterion::{Criterion, criterion_group, criterion_main};
use headwaters_benches::harness::in_memory_store;
use headwaters_benches::{GenConfig, GenGraph};
use headwaters_engine::{NodeId, Query, TraversalSpec};
use roaring::RoaringBitmap;

fn count_only(up: u32, down: u32) -> Query {
    let q = Query::depths(up, down);
    Query {
        spec: TraversalSpec {
            collect_edges: false,
            ..q.spec
        },
        ..q
    }
}

fn hotpaths(c: &mut Criterion) {
    let g = GenGraph::generate(&GenConfig::new(100_000, 42));
    let store = in_memory_store(&g);
    let view = store.read();
    let hub = NodeId(g.hubs[0]);
    let mut group = c.benchmark_group("hotpaths");
    group.sample_size(30);

    let one = count_only(0, 1);
    let fanout = view
        .traverse(hub, &one)
        .expect("hub")
        .downstream
        .visits
        .len();
    group.bench_function(format!("neighbour_expansion_hub_{fanout}"), |b| {
        b.iter(|| view.traverse(hub, &one).expect("hub"))
    });

    let two = count_only(0, 2);
    let level2 = view
        .traverse(hub, &two)
        .expect("hub")
        .downstream
        .visits
        .len();
    group.bench_function(format!("frontier_union_hub_depth2_{level2}"), |b| {
        b.iter(|| view.traverse(hub, &two).expect("hub"))
    });

    let ids: Vec<u32> = view
        .neighbors(hub, headwaters_engine::Direction::Downstream)
        .expect("hub")
        .iter()
        .map(|n| n.0)
        .collect();
    let mut stored = Vec::new();
    RoaringBitmap::from_sorted_iter(ids.iter().copied())
        .expect("sorted")
        .serialize_into(&mut stored)
        .expect("serializes");
    group.bench_function(format!("bitmap_decode_{}_ids", ids.len()), |b| {
        b.iter(|| {
            let bm = RoaringBitmap::deserialize_from(&stored[..]).expect("decodes");
            bm.iter().collect::<Vec<u32>>()
        })
    });

    // A typical big answer: depth 3 both ways from a hub's parent, with edges.
    let parent = g
        .edges
        .iter()
        .find(|(_, t)| *t == hub.0)
        .map(|(f, _)| NodeId(*f))
        .expect("a hub has parents");
    let res = view.traverse(parent, &Query::depths(3, 3)).expect("parent");
    let nodes: Vec<NodeId> = res
        .upstream
        .visits
        .iter()
        .chain(&res.downstream.visits)
        .map(|v| v.node)
        .take(2000)
        .collect();
    let pairs: Vec<(NodeId, NodeId)> = res
        .upstream
        .edges
        .iter()
        .chain(&res.downstream.edges)
        .copied()
        .take(2000)
        .collect();
    group.bench_function(
        format!(
            "result_assembly_{}_entities_{}_edges",
            nodes.len(),
            pairs.len()
        ),
        |b| {
            b.iter(|| {
                let e = view.entities(&nodes).expect("entities");
                let d = view.edges(&pairs).expect("edges");
                (e.len(), d.len())
            })
        },
    );
    group.finish();
}

criterion_group!(benches, hotpaths);
criterion_main!(benches);

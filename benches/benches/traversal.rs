//! Criterion micro-benchmarks of traversal on a 100k-node generated graph (in-memory
//! backend, so no disk is involved): random depth-3 lineage and a hub's closure.
//! Scale runs with p50/p99 live in the `engine` bench.

use criterion::{Criterion, criterion_group, criterion_main};
use headwaters_benches::harness::in_memory_store;
use headwaters_benches::{GenConfig, GenGraph, Rng};
use headwaters_engine::{NodeId, Query, TraversalSpec};

fn traversal(c: &mut Criterion) {
    let g = GenGraph::generate(&GenConfig::new(100_000, 42));
    let store = in_memory_store(&g);
    let view = store.read();
    let mut rng = Rng::new(1);
    let roots: Vec<u32> = (0..1024).map(|_| rng.below(100_000) as u32).collect();
    let q3 = Query::depths(3, 3);
    let mut i = 0;
    c.bench_function("depth3_up_down_random_100k", |b| {
        b.iter(|| {
            i = (i + 1) % roots.len();
            view.traverse(NodeId(roots[i]), &q3).expect("known node")
        })
    });
    let hub = NodeId(g.hubs[0]);
    let closure = Query {
        spec: TraversalSpec {
            downstream_depth: None,
            ..TraversalSpec::depths(0, 0)
        },
        ..q3
    };
    let mut group = c.benchmark_group("hub");
    group.sample_size(20);
    group.bench_function("unbounded_downstream_biggest_hub_100k", |b| {
        b.iter(|| view.traverse(hub, &closure).expect("known node"))
    });
    group.finish();
}

criterion_group!(benches, traversal);
criterion_main!(benches);

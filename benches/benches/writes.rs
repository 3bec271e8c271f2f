//! Durable write throughput: `put_edge` from 1, 4 and 16 concurrent writers, each
//! acknowledged only once it is on disk (synced WAL).
//!
//! `cargo bench -p headwaters-benches --bench writes`

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use headwaters_benches::Rng;
use headwaters_engine::{
    ColumnMapping, EdgeInput, EntityInput, EntityType, LineageSource, NodeId, Store,
};

// The same allocator as the `headwaters` binary.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TABLES: u32 = 10_000;

fn main() -> Result<(), headwaters_engine::Error> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path())?;
    let mut nodes = Vec::new();
    for i in 0..TABLES {
        let (n, _) = store.upsert_entity(EntityInput {
            id: uuid::Uuid::from_u128(i as u128 + 1),
            entity_type: EntityType::Table,
            fqn: format!("svc.db.s.t{i}"),
            name: format!("t{i}"),
            columns: vec!["a".into(), "b".into()],
            doc: serde_json::Value::Null,
        })?;
        nodes.push(n);
    }
    println!("| concurrent writers | edges/s (durable) | p50 latency | p99 latency |");
    println!("|---|---|---|---|");
    for writers in [1usize, 4, 16] {
        let stop = AtomicBool::new(false);
        let done = AtomicU64::new(0);
        let run = Duration::from_secs(3);
        let lat: Vec<Vec<Duration>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..writers)
                .map(|w| {
                    let (store, nodes, stop, done) = (&store, &nodes, &stop, &done);
                    s.spawn(move || {
                        let mut rng = Rng::new(w as u64 * 7919 + writers as u64);
                        let mut lat = Vec::new();
                        while !stop.load(Ordering::Relaxed) {
                            let a = nodes[rng.below(TABLES as u64) as usize];
                            let b = nodes[rng.below(TABLES as u64) as usize];
                            let input = edge(a, b);
                            let t = Instant::now();
                            store.put_edge(a, b, input).expect("put edge");
                            lat.push(t.elapsed());
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        lat
                    })
                })
                .collect();
            std::thread::sleep(run);
            stop.store(true, Ordering::Relaxed);
            handles
                .into_iter()
                .map(|h| h.join().expect("writer"))
                .collect()
        });
        let mut all: Vec<Duration> = lat.into_iter().flatten().collect();
        all.sort_unstable();
        let at = |q: f64| all[((all.len() - 1) as f64 * q) as usize];
        println!(
            "| {writers} | {:.0} | {:.2} ms | {:.2} ms |",
            done.load(Ordering::Relaxed) as f64 / run.as_secs_f64(),
            at(0.5).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3
        );
    }
    Ok(())
}

fn edge(_a: NodeId, _b: NodeId) -> EdgeInput {
    EdgeInput {
        columns_lineage: Vec::<ColumnMapping>::new(),
        sql_query: Some("INSERT INTO b SELECT a FROM a".into()),
        source: LineageSource::QueryLineage,
        ..EdgeInput::default()
    }
}

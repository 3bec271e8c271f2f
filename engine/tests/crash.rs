//! Crash test: a child process writes edges from four threads (group commit) and bulk
//! loads, and is killed with SIGKILL
//! at random moments; after every kill the store reopens with every acknowledged write
//! present and both adjacency directions in agreement.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use headwaters_engine::{
    BulkEdge, BulkNode, BulkRecord, ColumnMapping, EdgeInput, EntityInput, EntityType, NodeId,
    Store,
};

const NODES: u32 = 40;
const CHILD_ENV: &str = "HW_CRASH_CHILD_DIR";

fn table(i: u32) -> EntityInput {
    common::table(0xC0DE_0000, i, &["a", "b"])
}

/// Runs in the child: writes until killed, printing an `ACK` line after each write returns.
fn child(dir: &str, round: u64) {
    let store = Store::open(dir).expect("child opens the store");
    let mut nodes = Vec::new();
    for i in 0..NODES {
        nodes.push(store.upsert_entity(table(i)).expect("upsert").0);
    }
    // Four writers at once, so acknowledgements go through group commit.
    std::thread::scope(|s| {
        for thread in 0..4u64 {
            let (store, nodes) = (&store, &nodes);
            s.spawn(move || writer(store, nodes, round, thread));
        }
    });
}

/// One writer thread of the child: edges, and (thread 0) a bulk load every 25 steps.
fn writer(store: &Store, nodes: &[NodeId], round: u64, thread: u64) {
    let out = std::io::stdout();
    let mut rng = (round * 4 + thread + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for step in 0..1_000_000u64 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if thread == 0 && step % 25 == 24 {
            let tag = format!("r{round}s{step}");
            let mut recs = Vec::new();
            for j in 0..50 {
                recs.push(Ok((
                    j + 1,
                    BulkRecord::Node(BulkNode {
                        key: Some(format!("{j}")),
                        entity_type: EntityType::Table,
                        fqn: format!("bulk.{tag}.n{j}"),
                        name: None,
                        id: None,
                        columns: vec!["x".into()],
                    }),
                )));
            }
            for j in 1..50 {
                recs.push(Ok((
                    100 + j,
                    BulkRecord::Edge(BulkEdge {
                        from: format!("{}", j - 1),
                        to: format!("{j}"),
                        columns: vec![headwaters_engine::BulkMapping {
                            from: vec!["x".into()],
                            to: "x".into(),
                            function: None,
                        }],
                        source: None,
                        sql_query: None,
                        description: None,
                    }),
                )));
            }
            store.bulk_load(recs, &mut |_, _| {}).expect("bulk load");
            let mut o = out.lock();
            writeln!(o, "ACK bulk {tag}").unwrap();
            o.flush().unwrap();
        } else {
            let a = (rng % NODES as u64) as usize;
            let b = ((rng >> 20) % NODES as u64) as usize;
            let cols = vec![ColumnMapping {
                from_columns: vec![format!("svc.db.s.t{a}.a")],
                to_column: format!("svc.db.s.t{b}.b"),
                function: Some(format!("step {step}")),
                transformation: None,
            }];
            let input = EdgeInput {
                columns_lineage: cols,
                sql_query: Some(format!("-- {round}/{step}")),
                ..EdgeInput::default()
            };
            store.put_edge(nodes[a], nodes[b], input).expect("put edge");
            let mut o = out.lock();
            writeln!(o, "ACK edge {a} {b}").unwrap();
            o.flush().unwrap();
        }
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let round = std::env::var("HW_CRASH_ROUND").unwrap().parse().unwrap();
        child(&dir, round);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut acked_edges: HashSet<(u32, u32)> = HashSet::new();
    let mut acked_bulks: Vec<String> = Vec::new();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    for round in 0..6u64 {
        let mut proc = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "acknowledged_writes_survive_sigkill",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .env("HW_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = proc.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter(|l| l.starts_with("ACK "))
                .collect::<Vec<_>>()
        });
        // Kill somewhere between 150 ms and 1.2 s in: during open, writes, or a bulk load.
        let wait = 150 + (seed.rotate_left(round as u32 * 7) % 1050);
        std::thread::sleep(Duration::from_millis(wait));
        proc.kill().unwrap(); // SIGKILL on Unix
        proc.wait().unwrap();
        let acks = reader.join().unwrap();
        for a in &acks {
            let parts: Vec<&str> = a.split(' ').collect();
            match parts[1] {
                "edge" => {
                    acked_edges.insert((parts[2].parse().unwrap(), parts[3].parse().unwrap()));
                }
                _ => acked_bulks.push(parts[2].to_string()),
            }
        }
        let store = Store::open(dir.path()).expect("reopens after SIGKILL");
        let stats = store
            .verify()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let view = store.read();
        let node = |i: u32| -> NodeId {
            view.node_by_fqn(EntityType::Table, &format!("svc.db.s.t{i}"))
                .unwrap()
                .unwrap()
        };
        for &(a, b) in &acked_edges {
            let e = view.edge(node(a), node(b)).unwrap();
            let e =
                e.unwrap_or_else(|| panic!("round {round}: acknowledged edge t{a} -> t{b} lost"));
            assert_eq!(e.columns_lineage.len(), 1, "column lineage of t{a} -> t{b}");
        }
        for tag in &acked_bulks {
            let last = view
                .node_by_fqn(EntityType::Table, &format!("bulk.{tag}.n49"))
                .unwrap();
            let first = view
                .node_by_fqn(EntityType::Table, &format!("bulk.{tag}.n0"))
                .unwrap();
            let (first, last) = (first.expect("bulk node"), last.expect("bulk node"));
            let down = view
                .traverse(first, &headwaters_engine::Query::depths(0, 100))
                .unwrap();
            assert!(
                down.downstream.visits.iter().any(|v| v.node == last),
                "bulk chain {tag} broken"
            );
        }
        eprintln!(
            "round {round}: killed after {wait} ms, {} acks, store {stats:?}",
            acks.len()
        );
    }
    assert!(
        !acked_edges.is_empty(),
        "the child never acknowledged a write"
    );
}

//! Engine benchmark at scale: bulk load, random depth-3 lineage, hub closures, column
//! lineage, reopen, RSS; with a plain CSR BFS on the same graph and roots as the lower
//! bound, and a check that both return the same result sizes.
//!
//! `cargo bench -p headwaters-benches --bench engine -- --nodes 1000000`

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use headwaters_benches::harness::{
    bench_args, dir_size, fmt_duration as fmt, random_roots, summarize,
};
use headwaters_benches::{Csr, GenConfig, GenGraph, rss_mib};
use headwaters_engine::{NodeId, Query, Store, TraversalSpec, read_csv};

// The same allocator as the `headwaters` binary.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Median wall time of five runs of `f`.
fn median_of_5<E>(mut f: impl FnMut() -> Result<(), E>) -> Result<Duration, E> {
    let mut times = Vec::with_capacity(5);
    for _ in 0..5 {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed());
    }
    times.sort_unstable();
    Ok(times[2])
}

fn main() -> Result<()> {
    let a = bench_args(1_000_000).map_err(anyhow::Error::msg)?;
    let config = GenConfig::new(a.nodes, a.seed);
    let t = Instant::now();
    let mut g = GenGraph::generate(&config);
    let edge_count = g.edges.len();
    println!(
        "generated {} nodes, {} edges, {} hubs in {:.2} s",
        a.nodes,
        edge_count,
        g.hubs.len(),
        t.elapsed().as_secs_f64()
    );

    let base = std::env::var("HW_BENCH_DIR")
        .unwrap_or_else(|_| std::env::temp_dir().display().to_string());
    let dir = tempfile::tempdir_in(&base)?;
    let store = Store::open(dir.path())?;
    // Each phase's end time and the process RSS then (MiB), printed as it ends too (a
    // big load runs for many minutes).
    let mut phases: Vec<(&str, Duration, f64)> = Vec::new();
    let t = std::cell::Cell::new(Instant::now());
    let mut on_phase = |phase: &'static str, _: usize| {
        let rss = rss_mib().map_or(0.0, |(_, rss)| rss);
        match phases.last_mut() {
            Some(last) if last.0 == phase => (last.1, last.2) = (t.get().elapsed(), rss),
            _ => {
                if let Some((p, at, rss)) = phases.last() {
                    eprintln!("  {p} done at {:.1} s, RSS {rss:.0} MiB", at.as_secs_f64());
                }
                phases.push((phase, t.get().elapsed(), rss));
            }
        }
    };
    let report = if a.load_csv {
        // The CSV pair on disk, the generator's edges dropped: the load holds only what it
        // builds (as `headwaters load --nodes-csv --edges-csv` would).
        let files = tempfile::tempdir_in(&base)?;
        let (nodes_csv, edges_csv) = (
            files.path().join("nodes.csv"),
            files.path().join("edges.csv"),
        );
        let w = Instant::now();
        g.write_csv(
            std::io::BufWriter::new(std::fs::File::create(&nodes_csv)?),
            std::io::BufWriter::new(std::fs::File::create(&edges_csv)?),
        )?;
        println!(
            "wrote the CSV pair ({} MiB) in {:.2} s",
            dir_size(files.path()) >> 20,
            w.elapsed().as_secs_f64()
        );
        // Types and hubs stay (FQNs and roots come from them); the edges go.
        g.edges = Vec::new();
        t.set(Instant::now());
        let open = |p: &std::path::Path| -> Result<_> {
            Ok(std::io::BufReader::with_capacity(
                1 << 20,
                std::fs::File::open(p)?,
            ))
        };
        let records = read_csv(open(&nodes_csv)?, open(&edges_csv)?);
        // Unlinked now, open still: the disk space comes back when the load has read
        // them (at 100M nodes, 16 GiB that the load's later phases can use).
        drop(files);
        let report = store.bulk_load(records, &mut on_phase)?;
        (report, t.get().elapsed())
    } else {
        let p = Instant::now();
        let produced = g.records().count();
        println!(
            "producing {produced} bulk records alone: {:.2} s",
            p.elapsed().as_secs_f64()
        );
        t.set(Instant::now());
        let report = store.bulk_load(g.records(), &mut on_phase)?;
        (report, t.get().elapsed())
    };
    let (report, load) = report;
    let mut prev = Duration::ZERO;
    let split: Vec<String> = phases
        .iter()
        .map(|(p, at, rss)| {
            let s = format!(
                "{p} {:.2} s (RSS {rss:.0} MiB at its end)",
                (*at - prev).as_secs_f64()
            );
            prev = *at;
            s
        })
        .collect();
    println!("bulk load phases: {}", split.join(", "));
    println!(
        "bulk load: {:.2} s ({} nodes, {} edges, {} column edges)",
        load.as_secs_f64(),
        report.nodes_created,
        report.edges,
        report.column_edges
    );
    ensure!(
        report.edges == edge_count,
        "loaded {} edges of {edge_count}",
        report.edges,
    );

    // The generator's edges are not needed again until the CSR baseline, which runs
    // with the store closed (at 100M nodes the store, the edges and two CSRs together
    // would not fit in 24 GiB).
    g.edges = Vec::new();
    let view = store.read();
    // Generated node i is NodeId(i): the store hands out ids in load order.
    let fqn_check = view.node_by_fqn(g.types[7], &g.fqn(7))?;
    ensure!(fqn_check == Some(NodeId(7)), "node ids follow load order");
    let roots = random_roots(&a);
    let q3 = Query::depths(3, 3);

    // Warm-up pass, then the measured pass.
    for r in &roots {
        view.traverse(NodeId(*r), &q3)?;
    }
    let (mut hw, mut hw_sizes) = (Vec::new(), Vec::new());
    for r in &roots {
        let t = Instant::now();
        let res = view.traverse(NodeId(*r), &q3)?;
        hw.push(t.elapsed());
        hw_sizes.push(res.upstream.visits.len() + res.downstream.visits.len());
    }
    let sizes: usize = hw_sizes.iter().sum();
    let hw3 = summarize(hw);
    let q3_count = Query {
        spec: TraversalSpec {
            collect_edges: false,
            ..q3.spec
        },
        ..q3
    };
    let mut hw_count = Vec::new();
    for r in &roots {
        let t = Instant::now();
        view.traverse(NodeId(*r), &q3_count)?;
        hw_count.push(t.elapsed());
    }
    let hw3c = summarize(hw_count);

    let unbounded = Query {
        spec: TraversalSpec {
            downstream_depth: None,
            ..TraversalSpec::depths(0, 0)
        },
        ..q3
    };
    let counting = Query {
        spec: TraversalSpec {
            collect_edges: false,
            ..unbounded.spec
        },
        ..unbounded
    };
    // (hub, downstream nodes, edges, with edges, nodes only)
    let mut hub_rows = Vec::new();
    for &h in g.hubs.iter().take(5) {
        view.traverse(NodeId(h), &unbounded)?;
        let with_edges = median_of_5(|| view.traverse(NodeId(h), &unbounded).map(drop))?;
        let nodes_only = median_of_5(|| view.traverse(NodeId(h), &counting).map(drop))?;
        let res = view.traverse(NodeId(h), &unbounded)?;
        let counted = view.traverse(NodeId(h), &counting)?;
        ensure!(
            res.downstream.visits.len() == counted.downstream.visits.len(),
            "hub {h}: with and without edges reach different nodes"
        );
        hub_rows.push((
            h,
            res.downstream.visits.len(),
            res.downstream.edges.len(),
            with_edges,
            nodes_only,
        ));
    }

    // Column lineage: depth 5 up and down from random columns of tables with lineage.
    let mut col_times = Vec::new();
    let mut col_sizes = 0;
    let qc = Query::depths(5, 5);
    let cols: Vec<_> = roots
        .iter()
        .filter_map(|r| {
            view.column_by_fqn(&format!("{}.c0", g.fqn(*r)))
                .ok()
                .flatten()
        })
        .collect();
    for c in &cols {
        let t = Instant::now();
        let res = view.column_traverse(*c, &qc)?;
        col_times.push(t.elapsed());
        col_sizes += res.upstream.visits.len() + res.downstream.visits.len();
    }
    let colq = summarize(col_times);
    drop(view);
    let (peak_loaded, rss_loaded) = rss_mib().unwrap_or((0.0, 0.0));

    let t = Instant::now();
    store.flush()?;
    let flush = t.elapsed();
    drop(store);
    let disk = dir_size(dir.path());

    // The CSR baseline on the same graph and roots, the store closed; every size must
    // match what the store answered.
    let g = GenGraph::generate(&config);
    let down_csr = Csr::new(a.nodes, &g.edges, false);
    let up_csr = Csr::new(a.nodes, &g.edges, true);
    drop(g);
    let mut seen = Vec::new();
    // A warm-up pass, as for the store.
    for r in &roots {
        up_csr.bfs_count(*r, Some(3), &mut seen);
        down_csr.bfs_count(*r, Some(3), &mut seen);
    }
    let mut csr = Vec::new();
    for (r, got) in roots.iter().zip(&hw_sizes) {
        let t = Instant::now();
        let n =
            up_csr.bfs_count(*r, Some(3), &mut seen) + down_csr.bfs_count(*r, Some(3), &mut seen);
        csr.push(t.elapsed());
        ensure!(
            *got == n,
            "root {r}: headwaters reached {got} nodes, CSR {n}"
        );
    }
    let csr3 = summarize(csr);
    let mut hub_csr = Vec::new();
    for (h, n, ..) in &hub_rows {
        let csr_t = median_of_5(|| {
            down_csr.bfs_count(*h, None, &mut seen);
            Ok::<(), headwaters_engine::Error>(())
        })?;
        let want = down_csr.bfs_count(*h, None, &mut seen);
        ensure!(
            *n == want,
            "hub {h}: headwaters reached {n} nodes, CSR {want}"
        );
        hub_csr.push(csr_t);
    }
    drop((down_csr, up_csr, seen));

    let t = Instant::now();
    let store = Store::open(dir.path())?;
    let first = store.read().traverse(NodeId(roots[0]), &q3)?;
    let reopen = t.elapsed();
    let first_size = first.upstream.visits.len() + first.downstream.visits.len();
    let (_, rss_reopened) = rss_mib().unwrap_or((0.0, 0.0));

    println!(
        "\n## {} nodes, {} edges (seed {})\n",
        a.nodes, edge_count, a.seed
    );
    println!("| query | Headwaters p50 | p99 | max | CSR BFS p50 | p99 | ratio p50 |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| depth-3 up+down, {} random roots (avg {:.0} nodes) | {} | {} | {} | {} | {} | {:.1}x |",
        a.queries,
        sizes as f64 / a.queries as f64,
        fmt(hw3.p50),
        fmt(hw3.p99),
        fmt(hw3.max),
        fmt(csr3.p50),
        fmt(csr3.p99),
        hw3.p50.as_secs_f64() / csr3.p50.as_secs_f64()
    );
    println!(
        "| same, nodes and depths only (no edges) | {} | {} | {} | {} | {} | {:.1}x |",
        fmt(hw3c.p50),
        fmt(hw3c.p99),
        fmt(hw3c.max),
        fmt(csr3.p50),
        fmt(csr3.p99),
        hw3c.p50.as_secs_f64() / csr3.p50.as_secs_f64()
    );
    println!(
        "| column lineage depth 5 up+down, {} columns (avg {:.1} columns) | {} | {} | {} | | | |",
        cols.len(),
        col_sizes as f64 / cols.len().max(1) as f64,
        fmt(colq.p50),
        fmt(colq.p99),
        fmt(colq.max)
    );
    println!(
        "\n| hub | downstream nodes | edges | Headwaters (nodes + edges), median of 5 | Headwaters (nodes only) | CSR BFS |"
    );
    println!("|---|---|---|---|---|---|");
    for ((h, n, e, we, no), c) in hub_rows.iter().zip(&hub_csr) {
        println!(
            "| {h} | {n} | {e} | {} | {} | {} |",
            fmt(*we),
            fmt(*no),
            fmt(*c)
        );
    }
    println!("\n| measure | value |");
    println!("|---|---|");
    println!(
        "| bulk load ({} nodes, {} edges) | {:.2} s |",
        a.nodes,
        edge_count,
        load.as_secs_f64()
    );
    println!(
        "| flush (memtables and the graph snapshot) | {:.2} s |",
        flush.as_secs_f64()
    );
    println!(
        "| reopen to first answer ({first_size} nodes) | {:.2} s |",
        reopen.as_secs_f64()
    );
    println!(
        "| on-disk size after flush | {:.0} MiB |",
        disk as f64 / (1 << 20) as f64
    );
    println!(
        "| RSS after load and queries (peak so far) | {rss_loaded:.0} MiB ({peak_loaded:.0} MiB) |"
    );
    println!("| RSS after reopen (generator dropped) | {rss_reopened:.0} MiB |");
    Ok(())
}

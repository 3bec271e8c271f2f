//! `headwaters`: the lineage service and its command-line tools.
//!
//! `serve` runs the OpenMetadata-compatible lineage service (see the library crate),
//! `token create` mints API tokens, `demo` builds a generated graph and answers
//! queries on it in-process, `gen` writes generated graphs, `load` bulk-loads JSON
//! lines or CSV, and `lineage` queries a store.

mod cli;

use cli::serve;

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use headwaters_engine::{
    BulkRecord, BulkReport, EntityType, NodeId, Query, ReadView, Store, read_csv, read_jsonl,
};
use headwaters_generator::{GenConfig, GenGraph};
use indicatif::{ProgressBar, ProgressStyle};

// mimalloc: far fewer page faults and less lock traffic than glibc's malloc on the
// allocation-heavy paths (bulk load builds millions of small keys).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "headwaters",
    version,
    about = "Headwaters: a graph-centric data-lineage engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the lineage service (OpenMetadata-compatible REST API).
    Serve(Box<serve::ServeArgs>),
    /// Import lineage from a tool's artifacts into a store (the server must not be
    /// running on it; use `POST /api/v1/dbt/import` then).
    Import {
        #[command(subcommand)]
        command: serve::ImportCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: serve::TokenCommand,
    },
    /// Generate a lineage-shaped graph, load it, and answer lineage queries on it.
    Demo {
        /// Where the store lives (reused if it already holds the demo graph).
        #[arg(long, env = "HEADWATERS_DATA_DIR", default_value = "./headwaters-data")]
        data_dir: PathBuf,
        /// Nodes in the generated graph.
        #[arg(long, default_value_t = 100_000)]
        nodes: u32,
    },
    /// Write a generated graph as JSON lines or as a CSV pair.
    Gen {
        /// Nodes to generate.
        #[arg(long, default_value_t = 100_000)]
        nodes: u32,
        /// PRNG seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Back edges that close cycles.
        #[arg(long, default_value_t = 0)]
        cycles: u32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GenFormat::Jsonl)]
        format: GenFormat,
        /// Output path: a file for jsonl, a directory (nodes.csv, edges.csv) for csv.
        #[arg(long)]
        out: PathBuf,
    },
    /// Bulk-load nodes and edges into a store.
    Load {
        /// Where the store lives.
        #[arg(long, env = "HEADWATERS_DATA_DIR", default_value = "./headwaters-data")]
        data_dir: PathBuf,
        /// A JSON-lines file of {"kind":"node",...} and {"kind":"edge",...} records.
        #[arg(long, conflicts_with_all = ["nodes_csv", "edges_csv"])]
        jsonl: Option<PathBuf>,
        /// Nodes CSV: key,type,fqn,columns.
        #[arg(long, requires = "edges_csv")]
        nodes_csv: Option<PathBuf>,
        /// Edges CSV: from,to,columns.
        #[arg(long, requires = "nodes_csv")]
        edges_csv: Option<PathBuf>,
    },
    /// Print the upstream and downstream lineage of an entity.
    Lineage {
        /// Where the store lives.
        #[arg(long, env = "HEADWATERS_DATA_DIR", default_value = "./headwaters-data")]
        data_dir: PathBuf,
        /// Entity type (table, dashboard, pipeline, ...).
        #[arg(long = "type", default_value = "table")]
        entity_type: String,
        /// Fully qualified name.
        fqn: String,
        /// Upstream depth.
        #[arg(long, default_value_t = 3)]
        up: u32,
        /// Downstream depth.
        #[arg(long, default_value_t = 3)]
        down: u32,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum GenFormat {
    Jsonl,
    Csv,
}

/// Allocator options for a long-running server (batch commands keep mimalloc's
/// defaults, which are faster for bulk loads):
/// - freed memory goes back to the system within 10 ms (purge delay; mimalloc's default
///   is 1 s), so a burst of large answers does not leave the process holding hundreds of
///   MiB. 0 (at once) cost a third of the throughput of depth-3 lineage answers at 1M
///   nodes: every answer's freed pages were returned one call at a time, each a TLB
///   flush on the other core, and faulted back in by the next answer;
/// - no transparent huge pages for the allocator's memory: a fault on a huge-page region
///   clears 2 MiB (12% of the server's time in `clear_page_erms` with purging at once).
///
/// Measured (BENCHMARKS.md, "Lineage answers from kept pieces"): depth 3 from 32
/// connections 7.8–8.1k req/s with delay 0, 9.2–9.3k with 10 ms; memory after the burst
/// +116 and +130 MiB.
///
/// mimalloc reads its options when the process starts, so `serve` starts itself again
/// with them set (same pid, same arguments) unless the first is set already.
fn server_allocator_options() {
    const OPTIONS: [(&str, &str); 2] =
        [("MIMALLOC_PURGE_DELAY", "10"), ("MIMALLOC_ALLOW_THP", "0")];
    #[cfg(unix)]
    if std::env::var_os(OPTIONS[0].0).is_none()
        && let Ok(exe) = std::env::current_exe()
    {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new(exe);
        cmd.args(std::env::args_os().skip(1));
        for (name, value) in OPTIONS {
            if std::env::var_os(name).is_none() {
                cmd.env(name, value);
            }
        }
        let err = cmd.exec();
        // exec only returns on failure: run on with the defaults.
        eprintln!(
            "note: could not restart with the server's allocator options ({err}); continuing"
        );
    }
}

fn main() {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve(_)) {
        server_allocator_options();
    }
    let result = match cli.command {
        Command::Serve(args) => serve::serve(*args),
        Command::Token { command } => serve::token(command),
        Command::Import { command } => serve::import(command),
        Command::Demo { data_dir, nodes } => demo(&data_dir, nodes),
        Command::Gen {
            nodes,
            seed,
            cycles,
            format,
            out,
        } => generate(nodes, seed, cycles, format, &out),
        Command::Load {
            data_dir,
            jsonl,
            nodes_csv,
            edges_csv,
        } => load(
            &data_dir,
            jsonl.as_deref(),
            nodes_csv.as_deref(),
            edges_csv.as_deref(),
        ),
        Command::Lineage {
            data_dir,
            entity_type,
            fqn,
            up,
            down,
        } => lineage(&data_dir, &entity_type, &fqn, up, down),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// The store of a data directory (the same one `serve` uses).
fn open(data_dir: &Path) -> Result<Store> {
    let path = data_dir.join(headwaters_server::STORE_DIR);
    Store::open(&path).with_context(|| format!("opening the store in {}", path.display()))
}

fn bulk(
    store: &Store,
    records: impl IntoIterator<Item = headwaters_engine::Result<(usize, BulkRecord)>, IntoIter: Send>,
) -> Result<BulkReport> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let report = store.bulk_load(records, &mut |phase, n| {
        bar.set_message(format!("{phase}: {n} records"))
    });
    bar.finish_and_clear();
    Ok(report?)
}

fn print_report(r: &BulkReport, secs: f64) {
    println!(
        "loaded {} new nodes ({} already present), {} edges, {} column edges in {secs:.2} s",
        r.nodes_created, r.nodes_existing, r.edges, r.column_edges
    );
    if r.rejected_total > 0 {
        println!(
            "{} column references were dropped; the first ones:",
            r.rejected_total
        );
        for c in r.rejected_columns.iter().take(10) {
            println!("  {}: {}", c.column, c.reason);
        }
    }
}

fn demo(data_dir: &Path, nodes: u32) -> Result<()> {
    let graph = GenGraph::generate(&GenConfig::new(nodes, 42));
    let store = open(data_dir)?;
    headwaters_server::cluster::refuse_offline_write(&store, "loading the demo")?;
    let existing = store.read().stats();
    if existing.nodes == 0 {
        println!(
            "generating and loading a lineage graph of {nodes} nodes, {} edges ...",
            graph.edges.len()
        );
        let t = Instant::now();
        let report = bulk(&store, graph.records())?;
        print_report(&report, t.elapsed().as_secs_f64());
    } else {
        println!(
            "store in {} already holds {} nodes; querying it",
            data_dir.display(),
            existing.nodes
        );
    }
    let view = store.read();
    let s = view.stats();
    println!(
        "graph: {} nodes, {} edges, {} columns, {} column edges",
        s.nodes, s.edges, s.columns, s.column_edges
    );
    let find = |i: u32| -> Result<NodeId> {
        view.node_by_fqn(graph.types[i as usize], &graph.fqn(i))?
            .with_context(|| {
                format!(
                    "demo node {} missing: was {} made from another graph?",
                    graph.fqn(i),
                    data_dir.display()
                )
            })
    };
    // A mart table that feeds dashboards: its lineage three hops each way.
    let feeds = |i: u32| {
        graph.edges.partition_point(|e| e.0 < i + 1) - graph.edges.partition_point(|e| e.0 < i)
    };
    let mart = (graph.layer_starts[3]..graph.layer_starts[4])
        .find(|i| graph.types[*i as usize] == EntityType::Table && feeds(*i) >= 2)
        .context("no mart table with downstream lineage")?;
    let root = find(mart)?;
    let t = Instant::now();
    let lineage = view.traverse(root, &Query::depths(3, 3))?;
    let took = t.elapsed();
    println!(
        "\nlineage of {} (depth 3 each way, {:.1} us):",
        graph.fqn(mart),
        took.as_secs_f64() * 1e6
    );
    print_reach(&view, "upstream", &lineage.upstream)?;
    print_reach(&view, "downstream", &lineage.downstream)?;
    if let Some(&hub) = graph.hubs.first() {
        let root = find(hub)?;
        let t = Instant::now();
        let all = view.traverse(root, &Query::depths(0, u32::MAX))?;
        println!(
            "\nimpact of hub {}: {} downstream nodes over {} levels, per level {:?} ({:.1} ms)",
            graph.fqn(hub),
            all.downstream.visits.len(),
            all.downstream.counts_per_depth().len(),
            all.downstream.counts_per_depth(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    // Column lineage: the first mart table whose first column has upstream column
    // lineage, traced upstream five hops.
    for table in (graph.layer_starts[3]..graph.layer_starts[4])
        .filter(|i| graph.types[*i as usize] == EntityType::Table)
    {
        let fqn = format!("{}.c0", graph.fqn(table));
        let Some(c) = view.column_by_fqn(&fqn)? else {
            continue;
        };
        let cols = view.column_traverse(c, &Query::depths(5, 0))?;
        if cols.upstream.visits.is_empty() {
            continue;
        }
        println!(
            "\ncolumn {fqn} comes from {} columns upstream:",
            cols.upstream.visits.len()
        );
        for v in cols.upstream.visits.iter().take(8) {
            println!("  depth {}: {}", v.depth, view.column_fqn(v.node)?);
        }
        break;
    }
    Ok(())
}

fn print_reach(
    view: &ReadView<'_>,
    label: &str,
    reach: &headwaters_engine::Reach<NodeId>,
) -> Result<()> {
    println!(
        "  {label}: {} nodes {:?} per depth, {} edges{}",
        reach.visits.len(),
        reach.counts_per_depth(),
        reach.edges.len(),
        if reach.truncated { " (truncated)" } else { "" }
    );
    let shown: Vec<NodeId> = reach.visits.iter().take(6).map(|v| v.node).collect();
    for (v, e) in reach.visits.iter().zip(view.entities(&shown)?) {
        println!(
            "    depth {} {:<10} {}",
            v.depth,
            e.entity_type.as_str(),
            e.fqn
        );
    }
    if reach.visits.len() > shown.len() {
        println!("    ... and {} more", reach.visits.len() - shown.len());
    }
    Ok(())
}

fn generate(nodes: u32, seed: u64, cycles: u32, format: GenFormat, out: &Path) -> Result<()> {
    let graph = GenGraph::generate(&GenConfig {
        cycles,
        ..GenConfig::new(nodes, seed)
    });
    match format {
        GenFormat::Jsonl => {
            let f = File::create(out).with_context(|| format!("creating {}", out.display()))?;
            graph.write_jsonl(BufWriter::new(f))?;
        }
        GenFormat::Csv => {
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            let n = BufWriter::new(File::create(out.join("nodes.csv"))?);
            let e = BufWriter::new(File::create(out.join("edges.csv"))?);
            graph.write_csv(n, e)?;
        }
    }
    println!(
        "wrote {} nodes and {} edges to {}",
        graph.node_count(),
        graph.edges.len(),
        out.display()
    );
    Ok(())
}

fn load(
    data_dir: &Path,
    jsonl: Option<&Path>,
    nodes: Option<&Path>,
    edges: Option<&Path>,
) -> Result<()> {
    let reader = |p: &Path| File::open(p).with_context(|| format!("opening {}", p.display()));
    let store = open(data_dir)?;
    headwaters_server::cluster::refuse_offline_write(&store, "a bulk load")?;
    let t = Instant::now();
    let report = match (jsonl, nodes, edges) {
        (Some(j), _, _) => bulk(&store, read_jsonl(BufReader::new(reader(j)?)))
            .with_context(|| format!("loading {}", j.display()))?,
        (None, Some(n), Some(e)) => bulk(
            &store,
            read_csv(BufReader::new(reader(n)?), BufReader::new(reader(e)?)),
        )
        .with_context(|| format!("loading {} and {}", n.display(), e.display()))?,
        _ => bail!("give --jsonl FILE, or --nodes-csv FILE with --edges-csv FILE"),
    };
    print_report(&report, t.elapsed().as_secs_f64());
    // Saves the graph's snapshot too, so the server's first open reads it rather than
    // rebuilding the graph from every record (13.7 s at 10M nodes; 1.5 s from it).
    let t = Instant::now();
    store.flush().context("flushing the store")?;
    println!(
        "flushed, graph snapshot saved in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn lineage(data_dir: &Path, entity_type: &str, fqn: &str, up: u32, down: u32) -> Result<()> {
    let t: EntityType = entity_type.parse()?;
    let store = open(data_dir)?;
    let view = store.read();
    let root = view
        .node_by_fqn(t, fqn)?
        .with_context(|| format!("no {t} named {fqn:?}"))?;
    let lineage = view.traverse(root, &Query::depths(up, down))?;
    println!("{t} {fqn}");
    print_reach(&view, "upstream", &lineage.upstream)?;
    print_reach(&view, "downstream", &lineage.downstream)?;
    Ok(())
}

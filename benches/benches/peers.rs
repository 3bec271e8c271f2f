//! Headwaters side by side with its peers, in one run, on one generated graph:
//! an in-memory CSR BFS (the practical lower bound), PostgreSQL (an edge table with
//! btree indexes and depth-bounded `WITH RECURSIVE`, rows fetched to the client: how
//! relational metadata stores answer lineage), and in Python DuckDB (the same
//! recursive CTEs) and networkx (a data engineer's script). Every engine must return
//! the same result sizes for every query; the run fails otherwise. Headwaters also
//! runs as a server (`headwaters serve` on loopback, asked over REST from Python), beside
//! the graph-database server peer, each with its client's round-trip floor.
//!
//! `cargo bench -p headwaters-benches --bench peers -- --nodes 100000 [--queries 300] [--seed 42] [--python no|igraph,kuzu,...]`
//!
//! PostgreSQL runs as its own cluster in a temporary directory on 127.0.0.1, started and
//! stopped here (as the `postgres` user when run as root, since initdb refuses root).
//! The Python peers run in a venv of their own (benches/peers/run.sh), one process per
//! engine so that each one's peak RSS is its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use headwaters_benches::harness::{
    BenchArgs, bench_args, dir_size, fmt_duration as us, random_roots, summarize,
};
use headwaters_benches::{Csr, GenConfig, GenGraph, Rng, reset_peak_rss, rss_mib};
use headwaters_engine::{ColumnId, NodeId, Query, Store, TraversalSpec};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A PostgreSQL cluster of our own.
struct Pg {
    bin: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    port: u16,
}

impl Pg {
    fn run(&self, tool: &str, args: &[&str]) -> Result<()> {
        let exe = self.bin.join(tool);
        let out = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .output()
        } else {
            Command::new(&exe).args(args).output()
        }
        .with_context(|| format!("running {}", exe.display()))?;
        ensure!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }

    fn start() -> Result<Pg> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|rd| {
                rd.flatten()
                    .map(|e| e.path().join("bin"))
                    .filter(|p| p.join("initdb").exists())
                    .max()
            })
            .context("PostgreSQL is not installed. Run: sudo apt-get install -y postgresql")?;
        let as_postgres = std::env::var("USER").map(|u| u == "root").unwrap_or(true)
            && Command::new("id")
                .arg("-u")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
                .unwrap_or(false);
        let base = std::env::temp_dir().join(format!("hw-peers-pg-{}", std::process::id()));
        std::fs::create_dir_all(&base)?;
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&base)
                .status()?;
            ensure!(ok.success(), "chown of {} failed", base.display());
        }
        let data = base.join("data");
        let port = 55_000 + (std::process::id() % 5000) as u16;
        let pg = Pg {
            bin,
            data,
            as_postgres,
            port,
        };
        pg.run(
            "initdb",
            &[
                "-D",
                pg.data.to_str().unwrap(),
                "-U",
                "bench",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        let opts = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c shared_buffers=1GB -c work_mem=64MB -c max_parallel_workers_per_gather=0",
            base.display()
        );
        pg.run(
            "pg_ctl",
            &[
                "-D",
                pg.data.to_str().unwrap(),
                "-o",
                &opts,
                "-w",
                "-l",
                base.join("log").to_str().unwrap(),
                "start",
            ],
        )?;
        Ok(pg)
    }

    fn connect(&self) -> Result<postgres::Client> {
        Ok(postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user=bench dbname=postgres",
                self.port
            ),
            postgres::NoTls,
        )?)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap_or_default(),
                "-m",
                "fast",
                "stop",
            ],
        );
        if let Some(base) = self.data.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

/// The processes of the cluster in `data`: the postmaster and its children.
fn cluster_pids(data: &Path) -> Vec<u32> {
    let Some(master) = std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()
        .and_then(|s| s.lines().next()?.trim().parse::<u32>().ok())
    else {
        return Vec::new();
    };
    let mut pids = vec![master];
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces.
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(master) {
            pids.push(pid);
        }
    }
    pids
}

/// Proportional set size of the cluster in `data`, in KiB (shared buffers counted once).
fn cluster_pss_kib(data: &Path) -> u64 {
    cluster_pids(data)
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// Samples the cluster's PSS every 100 ms until dropped; `peak()` is the largest seen.
struct PssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PssSampler {
    fn start(pg: &Pg) -> PssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p, data) = (stop.clone(), peak.clone(), pg.data.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(cluster_pss_kib(&data), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        PssSampler {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    fn peak_mib(&self) -> f64 {
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

impl Drop for PssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How far a query goes in one direction.
#[derive(Clone, Copy, Debug)]
enum Span {
    Skip,
    Depth(u32),
    All,
}

impl Span {
    /// Headwaters' depth bound (`None`: unbounded).
    fn bound(self) -> Option<u32> {
        match self {
            Span::Skip => Some(0),
            Span::Depth(d) => Some(d),
            Span::All => None,
        }
    }

    /// The Python peers' encoding: 0 skip, -1 unbounded.
    fn code(self) -> i64 {
        match self {
            Span::Skip => 0,
            Span::Depth(d) => d.into(),
            Span::All => -1,
        }
    }
}

/// Table lineage or column lineage.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Graph {
    Tables,
    Columns,
}

/// A query class: the same question asked from each root.
struct Class {
    key: &'static str,
    label: String,
    graph: Graph,
    up: Span,
    down: Span,
    roots: Vec<u32>,
    /// Runs per root; the root's time is their median.
    repeat: usize,
}

/// One engine's answers to one class: time and result size per root.
struct Measured {
    times: Vec<Duration>,
    sizes: Vec<usize>,
}

/// One engine's run: a `Measured` per class, in class order, and its footprint.
struct EngineRun {
    name: String,
    classes: Vec<Measured>,
    load: String,
    disk: String,
    memory: String,
}

/// Asks `query(index, root)` for every root of `class`, timing each call.
fn measure(class: &Class, mut query: impl FnMut(usize, u32) -> Result<usize>) -> Result<Measured> {
    let mut m = Measured {
        times: Vec::new(),
        sizes: Vec::new(),
    };
    for (i, &root) in class.roots.iter().enumerate() {
        let mut runs = Vec::with_capacity(class.repeat);
        let mut size = 0;
        for _ in 0..class.repeat {
            let t = Instant::now();
            size = query(i, root)?;
            runs.push(t.elapsed());
        }
        runs.sort_unstable();
        m.times.push(runs[runs.len() / 2]);
        m.sizes.push(size);
    }
    Ok(m)
}

/// Runs every class, after one untimed pass over the classes named in `warm`.
fn measure_all(
    classes: &[Class],
    mut query: impl FnMut(&Class, usize, u32) -> Result<usize>,
) -> Result<Vec<Measured>> {
    for c in classes.iter().filter(|c| WARM.contains(&c.key)) {
        for (i, &r) in c.roots.iter().enumerate() {
            query(c, i, r)?;
        }
    }
    classes
        .iter()
        .map(|c| measure(c, |i, r| query(c, i, r)))
        .collect()
}

/// Classes every engine runs once before timing (the rest reuse what they warmed).
const WARM: [&str; 2] = ["depth3", "columns"];

fn mib(bytes: f64) -> String {
    if bytes >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", bytes / (1024.0 * 1024.0 * 1024.0))
    } else {
        format!("{:.0} MiB", bytes / (1024.0 * 1024.0))
    }
}

/// Set to a store directory, this binary only opens that store, answers depth-3
/// queries from every 1000th node and prints its peak RSS: the memory a process
/// serving the store needs, measured apart from the generator and the bulk load.
const OPEN_ONLY: &str = "HW_PEERS_OPEN_ONLY";

fn open_only(dir: &Path) -> Result<()> {
    let store = Store::open(dir)?;
    let view = store.read();
    let nodes = view.stats().nodes as u32;
    for r in (0..nodes).step_by(1000) {
        view.traverse(NodeId(r), &Query::depths(3, 3))?;
    }
    let (peak, _) = rss_mib().context("no /proc/self/status")?;
    println!("{peak}");
    Ok(())
}

/// Peak RSS in MiB of a fresh process that opens the store in `dir` ([`OPEN_ONLY`]).
fn serving_rss_mib(dir: &Path) -> Result<f64> {
    let out = Command::new(std::env::current_exe()?)
        .env(OPEN_ONLY, dir)
        .output()?;
    ensure!(
        out.status.success(),
        "opening the store in a child process failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

fn main() -> Result<()> {
    if let Some(dir) = std::env::var_os(OPEN_ONLY) {
        return open_only(Path::new(&dir));
    }
    let a = bench_args(100_000).map_err(anyhow::Error::msg)?;
    let g = GenGraph::generate(&GenConfig::new(a.nodes, a.seed));
    let col_edges = g.column_edges();
    println!(
        "graph: {} nodes, {} edges, {} column edges, {} hubs (seed {})",
        a.nodes,
        g.edges.len(),
        col_edges.len(),
        g.hubs.len(),
        a.seed
    );
    let classes = classes(&a, &g, &col_edges);
    let mut runs = vec![headwaters(&g, &classes)?];

    // CSR over tables and over columns.
    let t = Instant::now();
    let csr = [
        Csr::new(a.nodes, &g.edges, true),
        Csr::new(a.nodes, &g.edges, false),
        Csr::new(g.column_count(), &col_edges, true),
        Csr::new(g.column_count(), &col_edges, false),
    ];
    let csr_load = t.elapsed();
    let mut seen = Vec::new();
    runs.push(EngineRun {
        name: "CSR (in-memory BFS)".into(),
        classes: measure_all(&classes, |c, _, r| {
            let (up, down) = match c.graph {
                Graph::Tables => (&csr[0], &csr[1]),
                Graph::Columns => (&csr[2], &csr[3]),
            };
            Ok(up.bfs_count(r, c.up.bound(), &mut seen)
                + down.bfs_count(r, c.down.bound(), &mut seen))
        })?,
        load: format!("{:.2} s (from memory)", csr_load.as_secs_f64()),
        disk: "-".into(),
        memory: format!(
            "{} (its arrays)",
            mib(csr.iter().map(Csr::heap_bytes).sum::<usize>() as f64)
        ),
    });
    drop(csr);

    runs.push(postgres(&g, &col_edges, &classes)?);
    // The references: the plain CSR and PostgreSQL must agree with Headwaters on every
    // query, or the run fails (Headwaters would be wrong).
    for run in &runs[1..] {
        let wrong = disagreements(&classes, &runs[0], run);
        ensure!(
            wrong.is_empty(),
            "{} disagrees with Headwaters: {}",
            run.name,
            wrong.join("; ")
        );
    }
    let mut wrong_answers = Vec::new();
    if a.python != 0 {
        let work = tempfile::tempdir()?;
        let over_http = headwaters_benches::harness::PYTHON_PEERS
            .iter()
            .position(|p| *p == "headwaters-http")
            .is_some_and(|i| a.python & (1 << i) != 0);
        write_python_inputs(work.path(), &g, &col_edges, &classes, over_http)?;
        for (i, engine) in headwaters_benches::harness::PYTHON_PEERS.iter().enumerate() {
            if a.python & (1 << i) == 0 {
                continue;
            }
            let run = python_peer(engine, work.path(), &classes)?;
            // A peer that answers differently is reported as that peer's wrong answer
            // (the CSR and PostgreSQL agreed with Headwaters on every query above).
            let wrong = disagreements(&classes, &runs[0], &run);
            if !wrong.is_empty() {
                wrong_answers.push(format!(
                    "{}: {} wrong answers: {}",
                    run.name,
                    wrong.len(),
                    wrong.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
                ));
            }
            runs.push(run);
        }
    }
    report(&classes, &runs);
    if !wrong_answers.is_empty() {
        println!("\nPeers that answered differently from Headwaters, the CSR and PostgreSQL:");
        for w in &wrong_answers {
            println!("- {w}");
        }
    }
    Ok(())
}

/// Queries where `other` returned another number of nodes than `hw`.
fn disagreements(classes: &[Class], hw: &EngineRun, other: &EngineRun) -> Vec<String> {
    let mut out = Vec::new();
    for (c, (h, o)) in classes.iter().zip(hw.classes.iter().zip(&other.classes)) {
        for (i, root) in c.roots.iter().enumerate() {
            if h.sizes[i] != o.sizes[i] {
                out.push(format!(
                    "{}, root {root}: {} nodes where Headwaters has {}",
                    c.key, o.sizes[i], h.sizes[i]
                ));
            }
        }
    }
    out
}

/// The query classes of the benchmarks issue, with their roots.
fn classes(a: &BenchArgs, g: &GenGraph, col_edges: &[(u32, u32)]) -> Vec<Class> {
    // Direct upstreams of hubs: depth 3 from them reaches the hub's big neighbourhood.
    let hubs: std::collections::HashSet<u32> = g.hubs.iter().copied().collect();
    let mut hub_parents: Vec<u32> = g
        .edges
        .iter()
        .filter(|(_, t)| hubs.contains(t))
        .map(|(f, _)| *f)
        .collect();
    hub_parents.sort_unstable();
    hub_parents.dedup();
    let mut rng = Rng::new(a.seed ^ 0xFEED);
    let hub_roots = (0..100.min(hub_parents.len()))
        .map(|_| hub_parents[rng.below(hub_parents.len() as u64) as usize])
        .collect();
    // Random columns among those with column lineage (most columns have none).
    let mut linked: Vec<u32> = col_edges.iter().flat_map(|(a, b)| [*a, *b]).collect();
    linked.sort_unstable();
    linked.dedup();
    let mut rng = Rng::new(a.seed ^ 0xC011);
    let col_roots = (0..a.queries.min(linked.len()))
        .map(|_| linked[rng.below(linked.len() as u64) as usize])
        .collect();
    vec![
        Class {
            key: "depth3",
            label: "depth 3 up + down, random roots".into(),
            graph: Graph::Tables,
            up: Span::Depth(3),
            down: Span::Depth(3),
            roots: random_roots(a),
            repeat: 1,
        },
        Class {
            key: "hub_upstreams",
            label: "depth 3 up + down, direct upstreams of hubs".into(),
            graph: Graph::Tables,
            up: Span::Depth(3),
            down: Span::Depth(3),
            roots: hub_roots,
            repeat: 1,
        },
        Class {
            key: "closures",
            label: "unbounded downstream, 5 biggest hubs (median of 3)".into(),
            graph: Graph::Tables,
            up: Span::Skip,
            down: Span::All,
            roots: g.hubs.iter().take(5).copied().collect(),
            repeat: 3,
        },
        Class {
            key: "columns",
            label: "column lineage depth 5 up + down, random columns".into(),
            graph: Graph::Columns,
            up: Span::Depth(5),
            down: Span::Depth(5),
            roots: col_roots,
            repeat: 1,
        },
    ]
}

/// Headwaters: bulk load into RocksDB, reopen, answer every class from the store.
fn headwaters(g: &GenGraph, classes: &[Class]) -> Result<EngineRun> {
    let (_, baseline) = rss_mib().unwrap_or_default();
    reset_peak_rss();
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    {
        let store = Store::open(dir.path())?;
        store.bulk_load(g.records(), &mut |_, _| {})?;
        store.flush()?;
    }
    let load = t.elapsed();
    let (load_peak, _) = rss_mib().unwrap_or_default();
    let serving = serving_rss_mib(dir.path())?;
    let t = Instant::now();
    let store = Store::open(dir.path())?;
    let reopen = t.elapsed();
    let disk = dir_size(dir.path());
    let view = store.read();
    // Column roots resolved by name before timing, as a caller holding an id would.
    let columns = classes
        .iter()
        .find(|c| c.graph == Graph::Columns)
        .map(|c| {
            c.roots
                .iter()
                .map(|&i| {
                    let (node, name) = g.column_of(i);
                    view.column_by_fqn(&format!("{}.{name}", g.fqn(node)))?
                        .with_context(|| format!("column {name} of node {node} is not stored"))
                })
                .collect::<Result<Vec<ColumnId>>>()
        })
        .transpose()?
        .unwrap_or_default();
    // Like for like: the peers return node sets, so Headwaters answers nodes with their
    // depths and no edge list.
    let query = |c: &Class| Query {
        spec: TraversalSpec {
            upstream_depth: c.up.bound(),
            downstream_depth: c.down.bound(),
            node_budget: None,
            collect_edges: false,
        },
        ..Query::depths(0, 0)
    };
    let measured = measure_all(classes, |c, i, r| {
        let q = query(c);
        Ok(match c.graph {
            Graph::Tables => {
                let res = view.traverse(NodeId(r), &q)?;
                res.upstream.visits.len() + res.downstream.visits.len()
            }
            Graph::Columns => {
                let res = view.column_traverse(columns[i], &q)?;
                res.upstream.visits.len() + res.downstream.visits.len()
            }
        })
    })?;
    Ok(EngineRun {
        name: "Headwaters".into(),
        classes: measured,
        load: format!(
            "{:.2} s (bulk load, durable); reopen {:.2} s",
            load.as_secs_f64(),
            reopen.as_secs_f64()
        ),
        disk: mib(disk as f64),
        memory: format!(
            "{} (peak RSS of a process that opens the store and queries it); bulk load peak +{} above the generator",
            mib(serving * 1048576.0),
            mib((load_peak - baseline) * 1048576.0)
        ),
    })
}

const PG_BOUNDED: &str = "WITH RECURSIVE r(n, d) AS (SELECT $1::int, 0 UNION SELECT e.{far}, r.d + 1 FROM r JOIN {table} e ON e.{near} = r.n WHERE r.d < $2) SELECT DISTINCT n FROM r WHERE n <> $1";
const PG_CLOSURE: &str = "WITH RECURSIVE r(n) AS (SELECT $1::int UNION SELECT e.{far} FROM r JOIN {table} e ON e.{near} = r.n) SELECT n FROM r WHERE n <> $1";

/// PostgreSQL: COPY both edge tables, index both directions, ANALYZE, then
/// depth-bounded recursive CTEs with every row fetched.
fn postgres(g: &GenGraph, col_edges: &[(u32, u32)], classes: &[Class]) -> Result<EngineRun> {
    let pg = Pg::start()?;
    let sampler = PssSampler::start(&pg);
    let mut db = pg.connect()?;
    let t = Instant::now();
    for (table, edges) in [("edges", &g.edges[..]), ("col_edges", col_edges)] {
        db.batch_execute(&format!(
            "CREATE TABLE {table} (src int NOT NULL, dst int NOT NULL)"
        ))?;
        use std::io::Write;
        let mut w = db.copy_in(&format!("COPY {table} (src, dst) FROM STDIN"))?;
        let mut buf = String::with_capacity(1 << 20);
        for (s, d) in edges {
            buf.push_str(&format!("{s}\t{d}\n"));
            if buf.len() > 1 << 20 {
                w.write_all(buf.as_bytes())?;
                buf.clear();
            }
        }
        w.write_all(buf.as_bytes())?;
        w.finish()?;
        db.batch_execute(&format!(
            "CREATE INDEX {table}_src_dst ON {table} (src, dst); CREATE INDEX {table}_dst_src ON {table} (dst, src); ANALYZE {table};"
        ))?;
    }
    let load = t.elapsed();
    let disk: i64 = db
        .query_one(
            "SELECT pg_total_relation_size('edges') + pg_total_relation_size('col_edges')",
            &[],
        )?
        .get(0);
    let mut statements = HashMap::new();
    for table in ["edges", "col_edges"] {
        for (dir, near, far) in [("up", "dst", "src"), ("down", "src", "dst")] {
            for (bounded, sql) in [(true, PG_BOUNDED), (false, PG_CLOSURE)] {
                let sql = sql
                    .replace("{table}", table)
                    .replace("{near}", near)
                    .replace("{far}", far);
                statements.insert((table, dir, bounded), db.prepare(&sql)?);
            }
        }
    }
    let measured = measure_all(classes, |c, _, r| {
        let table = match c.graph {
            Graph::Tables => "edges",
            Graph::Columns => "col_edges",
        };
        let mut n = 0;
        for (dir, span) in [("up", c.up), ("down", c.down)] {
            n += match span {
                Span::Skip => 0,
                Span::Depth(d) => db
                    .query(
                        &statements[&(table, dir, true)],
                        &[&(r as i32), &(d as i32)],
                    )?
                    .len(),
                Span::All => db
                    .query(&statements[&(table, dir, false)], &[&(r as i32)])?
                    .len(),
            };
        }
        Ok(n)
    })?;
    let peak = sampler.peak_mib();
    drop(sampler);
    drop(db);
    drop(pg);
    Ok(EngineRun {
        name: "PostgreSQL".into(),
        classes: measured,
        load: format!(
            "{:.2} s (COPY + 2 indexes + ANALYZE, per table)",
            load.as_secs_f64()
        ),
        disk: format!("{} (tables + indexes)", mib(disk as f64)),
        memory: format!(
            "{} (PSS of the cluster's processes, sampled every 100 ms; shared_buffers 1 GB)",
            mib(peak * 1048576.0)
        ),
    })
}

/// The CSVs and query list the Python peers read (each class's roots by id, by name
/// and with their entity type), and for Headwaters over HTTP (`with_jsonl`) the graph as `headwaters load`
/// reads it.
fn write_python_inputs(
    dir: &Path,
    g: &GenGraph,
    col_edges: &[(u32, u32)],
    classes: &[Class],
    with_jsonl: bool,
) -> Result<()> {
    use std::io::Write;
    if with_jsonl {
        let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("graph.jsonl"))?);
        g.write_jsonl(&mut w)?;
        w.flush()?;
    }
    let name = |c: &Class, r: u32| match c.graph {
        Graph::Tables => g.fqn(r),
        Graph::Columns => {
            let (node, column) = g.column_of(r);
            format!("{}.{column}", g.fqn(node))
        }
    };
    for (name, edges) in [("edges.csv", &g.edges[..]), ("columns.csv", col_edges)] {
        let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
        writeln!(w, "src,dst")?;
        for (s, d) in edges {
            writeln!(w, "{s},{d}")?;
        }
        w.flush()?;
    }
    let spec = serde_json::json!({
        "warm": WARM,
        "classes": classes.iter().map(|c| serde_json::json!({
            "name": c.key,
            "graph": match c.graph { Graph::Tables => "tables", Graph::Columns => "columns" },
            "up": c.up.code(),
            "down": c.down.code(),
            "roots": c.roots,
            "root_names": c.roots.iter().map(|r| name(c, *r)).collect::<Vec<_>>(),
            "root_types": c.roots.iter().map(|r| match c.graph {
                Graph::Tables => g.types[*r as usize].as_str(),
                Graph::Columns => "column",
            }).collect::<Vec<_>>(),
            "repeat": c.repeat,
        })).collect::<Vec<_>>(),
    });
    std::fs::write(dir.join("queries.json"), serde_json::to_vec(&spec)?)?;
    Ok(())
}

/// Runs one Python peer (benches/peers/run.sh) and reads its answers.
fn python_peer(engine: &str, dir: &Path, classes: &[Class]) -> Result<EngineRun> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/run.sh");
    eprintln!("running {engine} (Python)...");
    let status = Command::new("bash")
        .arg(&script)
        .arg(engine)
        .arg(dir)
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    if !status.success() {
        bail!(
            "{engine} failed ({status}); see its output above, or skip the Python peers with --python no"
        );
    }
    let out: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{engine}.json")))?)?;
    let field = |v: &serde_json::Value, k: &str| -> Result<serde_json::Value> {
        v.get(k)
            .cloned()
            .with_context(|| format!("{engine}.json has no {k}"))
    };
    let measured = classes
        .iter()
        .map(|c| {
            let m = field(&field(&out, "classes")?, c.key)?;
            let times: Vec<f64> = serde_json::from_value(field(&m, "times")?)?;
            let sizes: Vec<usize> = serde_json::from_value(field(&m, "sizes")?)?;
            ensure!(
                times.len() == c.roots.len() && sizes.len() == c.roots.len(),
                "{engine} answered {} of {} {} queries",
                sizes.len(),
                c.roots.len(),
                c.key
            );
            Ok(Measured {
                times: times.into_iter().map(Duration::from_secs_f64).collect(),
                sizes,
            })
        })
        .collect::<Result<_>>()?;
    let num = |k: &str| -> Result<f64> {
        field(&out, k)?
            .as_f64()
            .with_context(|| format!("{engine}.json: {k} is not a number"))
    };
    let disk = num("disk_bytes")?;
    let (label, how) = match engine {
        "duckdb" => ("DuckDB", "Python"),
        "networkx" => ("networkx", "Python"),
        "igraph" => ("igraph", "Python"),
        "rustworkx" => ("rustworkx", "Python"),
        "kuzu" => ("Kuzu", "Python, Cypher * SHORTEST"),
        "falkordb" => ("FalkorDB", "server on loopback, Cypher"),
        "headwaters-http" => ("Headwaters over HTTP", "server on loopback, REST"),
        other => (other, "Python"),
    };
    let floor = out
        .get("round_trip_floor_s")
        .and_then(serde_json::Value::as_f64)
        .map(|f| {
            let what = out
                .get("round_trip")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("trivial request");
            format!(
                "; a {what} round trip takes {}",
                us(Duration::from_secs_f64(f))
            )
        })
        .unwrap_or_default();
    Ok(EngineRun {
        name: format!(
            "{label} {} ({how})",
            field(&out, "version")?.as_str().unwrap_or("?")
        ),
        classes: measured,
        load: format!(
            "{:.2} s (from {}){floor}",
            num("load_s")?,
            out.get("load_from")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("CSV")
        ),
        disk: if disk > 0.0 { mib(disk) } else { "-".into() },
        memory: format!(
            "{} (peak RSS of its process{})",
            mib(num("peak_rss_kib")? * 1024.0),
            if matches!(engine, "falkordb" | "headwaters-http") {
                "es, client and server"
            } else {
                ""
            }
        ),
    })
}

fn report(classes: &[Class], runs: &[EngineRun]) {
    let hw = &runs[0];
    let mean = |m: &Measured| m.sizes.iter().sum::<usize>() / m.sizes.len().max(1);
    println!(
        "\nqueries (sizes as Headwaters, the CSR and PostgreSQL answered them), {} engines:",
        runs.len()
    );
    for (c, m) in classes.iter().zip(&hw.classes) {
        println!(
            "- {}: {} queries, {} nodes per answer on average, largest {}",
            c.label,
            c.roots.len(),
            mean(m),
            m.sizes.iter().max().unwrap_or(&0)
        );
    }
    println!("\n| query | engine | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    let p50 = |m: &Measured| summarize(m.times.clone()).p50;
    for (i, c) in classes.iter().enumerate() {
        for run in runs {
            let s = summarize(run.classes[i].times.clone());
            println!(
                "| {} | {} | {} | {} | {} |",
                c.label,
                run.name,
                us(s.p50),
                us(s.p99),
                us(s.max)
            );
        }
    }
    let ratio = |num: Duration, den: Duration| num.as_secs_f64() / den.as_secs_f64().max(1e-12);
    print!("\n| ratio of p50 |");
    for c in classes {
        print!(" {} |", c.key);
    }
    println!("\n|---|{}", "---|".repeat(classes.len()));
    for run in &runs[1..] {
        let csr = run.name.starts_with("CSR");
        if csr {
            print!("| Headwaters / {} |", run.name);
        } else {
            print!("| {} / Headwaters |", run.name);
        }
        for (h, o) in hw.classes.iter().zip(&run.classes) {
            if csr {
                print!(" {:.2}x |", ratio(p50(h), p50(o)));
            } else {
                print!(" {:.0}x |", ratio(p50(o), p50(h)));
            }
        }
        println!();
    }
    println!("\n| engine | load | on disk | memory |");
    println!("|---|---|---|---|");
    for run in runs {
        println!(
            "| {} | {} | {} | {} |",
            run.name, run.load, run.disk, run.memory
        );
    }
}

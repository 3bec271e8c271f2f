//! Headwaters side by side with its peers, in one run, on one generated graph:
//! an in-memory CSR BFS (the practical lower bound) and PostgreSQL (an edge table with
//! btree indexes and depth-bounded `WITH RECURSIVE`, rows fetched to the client: how
//! relational metadata stores answer lineage). Every engine must return the same result
//! sizes for every query; the run fails otherwise.
//!
//! `cargo bench -p headwaters-benches --bench peers -- --nodes 100000 [--queries 300] [--seed 42]`
//!
//! PostgreSQL runs as its own cluster in a temporary directory on 127.0.0.1, started and
//! stopped here (as the `postgres` user when run as root, since initdb refuses root).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use headwaters_benches::harness::{
    Summary as Stat, bench_args, dir_size, fmt_duration as us, random_roots, summarize as stat,
};
use headwaters_benches::{Csr, GenConfig, GenGraph, Rng};
use headwaters_engine::{NodeId, Query, Store, TraversalSpec};

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

const PG_DOWN: &str = "WITH RECURSIVE r(n, d) AS (SELECT $1::int, 0 UNION SELECT e.dst, r.d + 1 FROM r JOIN edges e ON e.src = r.n WHERE r.d < $2) SELECT DISTINCT n FROM r WHERE n <> $1";
const PG_UP: &str = "WITH RECURSIVE r(n, d) AS (SELECT $1::int, 0 UNION SELECT e.src, r.d + 1 FROM r JOIN edges e ON e.dst = r.n WHERE r.d < $2) SELECT DISTINCT n FROM r WHERE n <> $1";
const PG_CLOSURE: &str = "WITH RECURSIVE r(n) AS (SELECT $1::int UNION SELECT e.dst FROM r JOIN edges e ON e.src = r.n) SELECT n FROM r WHERE n <> $1";

fn main() -> Result<()> {
    let a = bench_args(100_000).map_err(anyhow::Error::msg)?;
    let g = GenGraph::generate(&GenConfig::new(a.nodes, a.seed));
    println!(
        "graph: {} nodes, {} edges, {} hubs (seed {})",
        a.nodes,
        g.edges.len(),
        g.hubs.len(),
        a.seed
    );

    // Headwaters: bulk load, reopen.
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    {
        let store = Store::open(dir.path())?;
        store.bulk_load(g.records(), &mut |_, _| {})?;
        store.flush()?;
    }
    let hw_load = t.elapsed();
    let t = Instant::now();
    let store = Store::open(dir.path())?;
    let hw_reopen = t.elapsed();
    let hw_disk = dir_size(dir.path());
    let view = store.read();

    // CSR.
    let t = Instant::now();
    let down = Csr::new(a.nodes, &g.edges, false);
    let up = Csr::new(a.nodes, &g.edges, true);
    let csr_load = t.elapsed();

    // PostgreSQL.
    let pg = Pg::start()?;
    let mut db = pg.connect()?;
    let t = Instant::now();
    db.batch_execute("CREATE TABLE edges (src int NOT NULL, dst int NOT NULL)")?;
    {
        use std::io::Write;
        let mut w = db.copy_in("COPY edges (src, dst) FROM STDIN")?;
        let mut buf = String::with_capacity(1 << 20);
        for (s, d) in &g.edges {
            buf.push_str(&format!("{s}\t{d}\n"));
            if buf.len() > 1 << 20 {
                w.write_all(buf.as_bytes())?;
                buf.clear();
            }
        }
        w.write_all(buf.as_bytes())?;
        w.finish()?;
    }
    db.batch_execute("CREATE INDEX edges_src_dst ON edges (src, dst); CREATE INDEX edges_dst_src ON edges (dst, src); ANALYZE edges;")?;
    let pg_load = t.elapsed();
    let pg_disk: i64 = db
        .query_one("SELECT pg_total_relation_size('edges')", &[])?
        .get(0);
    let down_stmt = db.prepare(PG_DOWN)?;
    let up_stmt = db.prepare(PG_UP)?;
    let closure_stmt = db.prepare(PG_CLOSURE)?;

    let roots = random_roots(&a);
    let q3 = Query::depths(3, 3);
    let mut seen = Vec::new();
    // Warm every engine once on the same roots.
    for r in &roots {
        view.traverse(NodeId(*r), &q3)?;
        db.query(&down_stmt, &[&(*r as i32), &3i32])?;
        db.query(&up_stmt, &[&(*r as i32), &3i32])?;
    }
    // Like for like: CSR counts nodes and PostgreSQL returns node ids, so Headwaters
    // answers the same question (nodes with depth, no edge list).
    let q3 = Query {
        spec: TraversalSpec {
            collect_edges: false,
            ..q3.spec
        },
        ..q3
    };
    // One pass per engine over the same roots (interleaving them would let each evict
    // the others' caches), then every size compared.
    let run = |roots: &[u32], db: &mut postgres::Client| -> Result<(Stat, Stat, Stat, usize)> {
        let mut seen = Vec::new();
        let (mut hw, mut csr, mut pgt) = (Vec::new(), Vec::new(), Vec::new());
        let (mut hs, mut cs, mut ps) = (Vec::new(), Vec::new(), Vec::new());
        for r in roots {
            let t = Instant::now();
            let res = view.traverse(NodeId(*r), &q3)?;
            hw.push(t.elapsed());
            hs.push(res.upstream.visits.len() + res.downstream.visits.len());
        }
        for r in roots {
            let t = Instant::now();
            cs.push(up.bfs_count(*r, Some(3), &mut seen) + down.bfs_count(*r, Some(3), &mut seen));
            csr.push(t.elapsed());
        }
        for r in roots {
            let t = Instant::now();
            ps.push(
                db.query(&up_stmt, &[&(*r as i32), &3i32])?.len()
                    + db.query(&down_stmt, &[&(*r as i32), &3i32])?.len(),
            );
            pgt.push(t.elapsed());
        }
        for (i, r) in roots.iter().enumerate() {
            ensure!(
                hs[i] == cs[i] && cs[i] == ps[i],
                "root {r}: headwaters {}, CSR {}, PostgreSQL {} nodes",
                hs[i],
                cs[i],
                ps[i]
            );
        }
        Ok((stat(hw), stat(csr), stat(pgt), hs.iter().sum()))
    };
    let (hw3, csr3, pg3, reached) = run(&roots, &mut db)?;
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
    let mut rng2 = Rng::new(a.seed ^ 0xFEED);
    let hub_roots: Vec<u32> = (0..100.min(hub_parents.len()))
        .map(|_| hub_parents[rng2.below(hub_parents.len() as u64) as usize])
        .collect();
    let (hwp, csrp, pgp, hub_reached) = run(&hub_roots, &mut db)?;

    // Unbounded downstream closure of the 5 biggest hubs (median of 3 runs each).
    let closure = Query {
        spec: TraversalSpec {
            downstream_depth: None,
            collect_edges: false,
            ..TraversalSpec::depths(0, 0)
        },
        ..q3
    };
    let (mut hwh, mut csrh, mut pgh) = (Vec::new(), Vec::new(), Vec::new());
    let mut hub_sizes = Vec::new();
    let med = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    for &h in g.hubs.iter().take(5) {
        let (mut a1, mut b1, mut c1) = (Vec::new(), Vec::new(), Vec::new());
        let mut sizes = (0, 0, 0);
        for _ in 0..3 {
            let t = Instant::now();
            sizes.0 = view.traverse(NodeId(h), &closure)?.downstream.visits.len();
            a1.push(t.elapsed());
            let t = Instant::now();
            sizes.1 = down.bfs_count(h, None, &mut seen);
            b1.push(t.elapsed());
            let t = Instant::now();
            sizes.2 = db.query(&closure_stmt, &[&(h as i32)])?.len();
            c1.push(t.elapsed());
        }
        ensure!(
            sizes.0 == sizes.1 && sizes.1 == sizes.2,
            "hub {h}: headwaters {}, CSR {}, PostgreSQL {}",
            sizes.0,
            sizes.1,
            sizes.2
        );
        hub_sizes.push(sizes.0);
        hwh.push(med(a1));
        csrh.push(med(b1));
        pgh.push(med(c1));
    }
    let (hwc, csrc, pgc) = (stat(hwh), stat(csrh), stat(pgh));
    drop(view);
    drop(db);
    drop(pg);

    let ratio = |x: Duration, y: Duration| y.as_secs_f64() / x.as_secs_f64().max(1e-12);
    println!(
        "\nall result sizes agree: {} depth-3 queries from random roots ({reached} nodes reached), {} from direct upstreams of hubs ({} nodes per query on average), hub closures of {hub_sizes:?} nodes\n",
        a.queries,
        hub_roots.len(),
        hub_reached / hub_roots.len().max(1)
    );
    println!("| query | engine | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    let engines = |h: Stat, c: Stat, p: Stat| {
        [
            ("Headwaters", h),
            ("CSR (in-memory BFS)", c),
            ("PostgreSQL", p),
        ]
    };
    for (name, rows) in [
        ("depth-3 up+down, random roots", engines(hw3, csr3, pg3)),
        (
            "depth-3 up+down, direct upstreams of hubs",
            engines(hwp, csrp, pgp),
        ),
        (
            "unbounded downstream, 5 biggest hubs",
            engines(hwc, csrc, pgc),
        ),
    ] {
        for (engine, s) in rows {
            println!(
                "| {name} | {engine} | {} | {} | {} |",
                us(s.p50),
                us(s.p99),
                us(s.max)
            );
        }
    }
    println!("\n| ratio (p50) | depth 3, random | depth 3, hub upstreams | hub closures |");
    println!("|---|---|---|---|");
    println!(
        "| PostgreSQL / Headwaters | {:.0}x | {:.0}x | {:.0}x |",
        ratio(hw3.p50, pg3.p50),
        ratio(hwp.p50, pgp.p50),
        ratio(hwc.p50, pgc.p50)
    );
    println!(
        "| Headwaters / CSR | {:.2}x | {:.2}x | {:.2}x |",
        ratio(csr3.p50, hw3.p50),
        ratio(csrp.p50, hwp.p50),
        ratio(csrc.p50, hwc.p50)
    );
    println!("\n| engine | load | on disk | reopen |");
    println!("|---|---|---|---|");
    println!(
        "| Headwaters | {:.2} s | {} MiB | {:.2} s |",
        hw_load.as_secs_f64(),
        hw_disk >> 20,
        hw_reopen.as_secs_f64()
    );
    println!(
        "| CSR | {:.2} s (build from memory) | - | - |",
        csr_load.as_secs_f64()
    );
    println!(
        "| PostgreSQL | {:.2} s (COPY + 2 indexes + ANALYZE) | {} MiB (edges + indexes) | - |",
        pg_load.as_secs_f64(),
        pg_disk >> 20
    );
    if let Some((peak, rss)) = headwaters_benches::rss_mib() {
        println!(
            "\nthis process (Headwaters + CSR + generator): RSS {rss:.0} MiB, peak {peak:.0} MiB"
        );
    }
    Ok(())
}

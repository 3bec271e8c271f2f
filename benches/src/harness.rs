//! What the bench binaries share: flags, percentiles, formatting, sizes on disk.

use std::path::Path;
use std::time::Duration;

/// The Python peers of the `peers` bench, in the order they run (`--python` picks).
pub const PYTHON_PEERS: [&str; 7] = [
    "duckdb",
    "networkx",
    "igraph",
    "rustworkx",
    "kuzu",
    "falkordb",
    "headwaters-http",
];

/// `--nodes N --queries N --seed S [--python yes|no|NAME,NAME...] [--load records|csv]`.
#[derive(Clone, Copy, Debug)]
pub struct BenchArgs {
    /// Graph size.
    pub nodes: u32,
    /// Random roots queried.
    pub queries: usize,
    /// Generator seed.
    pub seed: u64,
    /// Which of [`PYTHON_PEERS`] the `peers` bench runs (bit i: `PYTHON_PEERS[i]`).
    pub python: u32,
    /// The `engine` bench loads from CSV files it writes first (`--load csv`), the
    /// generator not resident meanwhile, as a user's `headwaters load` would; otherwise
    /// straight from the generator's records.
    pub load_csv: bool,
}

/// Parses the bench flags (cargo's own `--bench` is ignored).
pub fn bench_args(default_nodes: u32) -> Result<BenchArgs, String> {
    let mut a = BenchArgs {
        nodes: default_nodes,
        queries: 300,
        seed: 42,
        python: (1 << PYTHON_PEERS.len()) - 1,
        load_csv: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--bench" {
            continue;
        }
        let val = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {val}: {e}");
        match flag.as_str() {
            "--nodes" => a.nodes = val.parse().map_err(|e| bad(&e))?,
            "--queries" => a.queries = val.parse().map_err(|e| bad(&e))?,
            "--seed" => a.seed = val.parse().map_err(|e| bad(&e))?,
            "--load" => {
                a.load_csv = match val.as_str() {
                    "csv" => true,
                    "records" => false,
                    _ => return Err(bad(&"expected records or csv")),
                }
            }
            "--python" => {
                a.python =
                    match val.as_str() {
                        "yes" => (1 << PYTHON_PEERS.len()) - 1,
                        "no" => 0,
                        list => {
                            let mut m = 0;
                            for name in list.split(',') {
                                let i = PYTHON_PEERS.iter().position(|p| *p == name).ok_or_else(
                                    || {
                                        bad(&format!(
                                            "expected yes, no or some of {}",
                                            PYTHON_PEERS.join(",")
                                        ))
                                    },
                                )?;
                                m |= 1 << i;
                            }
                            m
                        }
                    }
            }
            other => {
                return Err(format!(
                    "unknown argument {other}; use --nodes N --queries N --seed S --python yes|no|NAME,NAME --load records|csv"
                ));
            }
        }
    }
    Ok(a)
}

/// Percentiles of a set of timings.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

/// p50, p99 and max of `times` (not empty).
pub fn summarize(mut times: Vec<Duration>) -> Summary {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    Summary {
        p50: at(0.5),
        p99: at(0.99),
        max: *times.last().expect("at least one sample"),
    }
}

/// `12.3 µs`, `4.56 ms`, `1.23 s`.
pub fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// Bytes under a directory.
pub fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The random roots every query-timing bench uses: `args.queries` node ids drawn with
/// a generator derived from the seed, so all engines and runs query the same nodes.
pub fn random_roots(args: &BenchArgs) -> Vec<u32> {
    let mut rng = crate::Rng::new(args.seed ^ 0xBEEF);
    (0..args.queries)
        .map(|_| rng.below(args.nodes as u64) as u32)
        .collect()
}

/// The graph bulk-loaded into an in-memory store (criterion benches: no disk involved).
pub fn in_memory_store(g: &crate::GenGraph) -> headwaters_engine::Store {
    let store = headwaters_engine::Store::in_memory();
    store
        .bulk_load(g.records(), &mut |_, _| {})
        .expect("a generated graph bulk-loads");
    store
}

//! Statements and texts per second at column level, one thread and all cores, over the
//! mixed conformance corpus, TPC-H and TPC-DS (with their schemas as the catalog) and
//! the dialect corpus (878 files of real dialect syntax, each with its dialect). Texts
//! per second compare with tools that count statements their own way
//! (`benches/sql_peers.py` prints the same column).
//!
//! `cargo bench -p headwaters-sqllineage --bench throughput`

use std::time::{Duration, Instant};

use headwaters_sqllineage::{DiagnosticKind, analyze};
use rayon::prelude::*;

#[path = "support/corpus.rs"]
mod corpus;

// The same allocator as the `headwaters-sql` binary.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Repeats `pass` until at least `min` has elapsed; statements per second and passes
/// per second.
fn rate(min: Duration, mut pass: impl FnMut() -> usize) -> (f64, f64) {
    pass();
    let t = Instant::now();
    let (mut n, mut passes) = (0, 0);
    while t.elapsed() < min {
        n += pass();
        passes += 1;
    }
    let secs = t.elapsed().as_secs_f64();
    (n as f64 / secs, passes as f64 / secs)
}

fn main() {
    let min = Duration::from_secs(2);
    println!(
        "| corpus | texts | statements | with column edges | parse failures | 1 thread stmt/s | 1 thread texts/s | {} threads stmt/s |",
        rayon::current_num_threads()
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, items) in [
        ("mixed (sqllineage cases)", corpus::mixed()),
        ("TPC-H", corpus::tpc("tpch")),
        ("TPC-DS", corpus::tpc("tpcds")),
        ("dialects (sqlfluff fixtures)", corpus::dialects()),
    ] {
        // `THROUGHPUT_CORPUS=TPC-H` runs only the corpora whose name starts with it (for
        // profiling one).
        if std::env::var("THROUGHPUT_CORPUS").is_ok_and(|only| !name.starts_with(&only)) {
            continue;
        }
        let results: Vec<_> = items.iter().map(|i| analyze(&i.sql, &i.opts)).collect();
        let statements: usize = results.iter().map(|l| l.statements.len()).sum();
        let with_edges = results
            .iter()
            .flat_map(|l| &l.statements)
            .filter(|s| !s.columns.is_empty())
            .count();
        let failed = results
            .iter()
            .flat_map(|l| &l.statements)
            .filter(|s| {
                s.diagnostics
                    .iter()
                    .any(|d| d.kind == DiagnosticKind::Parse)
            })
            .count();
        let (one, one_passes) = rate(min, || {
            items
                .iter()
                .map(|i| analyze(&i.sql, &i.opts).statements.len())
                .sum()
        });
        let (all, _) = rate(min, || {
            items
                .par_iter()
                .map(|i| analyze(&i.sql, &i.opts).statements.len())
                .sum()
        });
        let texts = one_passes * items.len() as f64;
        println!(
            "| {name} | {} | {statements} | {with_edges} | {failed} | {one:.0} | {texts:.0} | {all:.0} |",
            items.len()
        );
    }
}

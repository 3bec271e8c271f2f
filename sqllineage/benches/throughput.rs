//! Statements per second at column level, one thread and all cores, over the mixed
//! conformance corpus, TPC-H and TPC-DS (with their schemas as the catalog).
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

/// Repeats `pass` until at least `min` has elapsed; statements per second.
fn rate(min: Duration, mut pass: impl FnMut() -> usize) -> f64 {
    pass();
    let t = Instant::now();
    let mut n = 0;
    while t.elapsed() < min {
        n += pass();
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let min = Duration::from_secs(2);
    println!(
        "| corpus | statements | with column edges | parse failures | 1 thread stmt/s | {} threads stmt/s |",
        rayon::current_num_threads()
    );
    println!("|---|---|---|---|---|---|");
    for (name, items) in [
        ("mixed (sqllineage cases)", corpus::mixed()),
        ("TPC-H", corpus::tpc("tpch")),
        ("TPC-DS", corpus::tpc("tpcds")),
    ] {
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
        let one = rate(min, || {
            items
                .iter()
                .map(|i| analyze(&i.sql, &i.opts).statements.len())
                .sum()
        });
        let all = rate(min, || {
            items
                .par_iter()
                .map(|i| analyze(&i.sql, &i.opts).statements.len())
                .sum()
        });
        println!("| {name} | {statements} | {with_edges} | {failed} | {one:.0} | {all:.0} |");
    }
}

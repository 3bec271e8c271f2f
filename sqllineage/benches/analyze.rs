#![allow(missing_docs)] // criterion_main! generates an undocumented main
//! Criterion: column-level analysis of single TPC-H and TPC-DS queries and of the whole
//! mixed and dialect corpora.

use criterion::{Criterion, criterion_group, criterion_main};
use headwaters_sqllineage::analyze;

#[path = "support/corpus.rs"]
mod corpus;

// The same allocator as the `headwaters-sql` binary.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Analyzes every text of a corpus; the statements read.
fn whole(items: &[corpus::Item]) -> usize {
    items
        .iter()
        .map(|i| analyze(&i.sql, &i.opts).statements.len())
        .sum()
}

fn bench(c: &mut Criterion) {
    let tpch = corpus::tpc("tpch");
    let tpcds = corpus::tpc("tpcds");
    let mixed = corpus::mixed();
    let dialects = corpus::dialects();
    c.bench_function("tpch_q09_column_level", |b| {
        b.iter(|| analyze(&tpch[8].sql, &tpch[8].opts))
    });
    c.bench_function("tpcds_q64_column_level", |b| {
        b.iter(|| analyze(&tpcds[63].sql, &tpcds[63].opts))
    });
    let mut g = c.benchmark_group("corpus");
    g.sample_size(20);
    g.bench_function("mixed_262_cases", |b| b.iter(|| whole(&mixed)));
    g.sample_size(10);
    g.bench_function("dialects_878_files", |b| b.iter(|| whole(&dialects)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

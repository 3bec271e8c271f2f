//! Deterministic generator of lineage-shaped graphs, shared by the benchmarks, the
//! `headwaters gen` and `demo` commands and tests. It writes the engine's own
//! [`BulkRecord`] type, so what it generates is exactly what a bulk load reads.
//!
//! Shape (per node count N, seed S):
//! - layers raw -> staging -> intermediate -> marts -> dashboards, about 15/25/25/20/15%
//!   of nodes, ids in that order;
//! - every non-raw node draws a heavy-tailed number of parents (most 1-2, a few
//!   hundreds) among nodes with a lower id (so an edge goes to a later layer or to the
//!   same layer with a higher id: a DAG), chosen by preferential attachment so hubs
//!   emerge; dashboards are never parents;
//! - about 20 hub tables per 100k nodes in raw/staging, each with 1k-20k extra
//!   downstreams;
//! - optionally a few back edges that close cycles;
//! - typed entities (tables, pipelines, dashboards) with FQNs and a few columns, and
//!   column lineage on a share of edges.

use std::collections::HashSet;
use std::io::{self, Write};

use headwaters_engine::{BulkEdge, BulkMapping, BulkNode, BulkRecord, EntityType, SplitMix64};

/// Generator settings.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// Number of nodes.
    pub nodes: u32,
    /// PRNG seed; the same config always gives the same graph.
    pub seed: u64,
    /// Hub tables per 100,000 nodes.
    pub hubs_per_100k: u32,
    /// Extra downstreams per hub, drawn uniformly from this range.
    pub hub_fanout: (u32, u32),
    /// Back edges that close cycles.
    pub cycles: u32,
    /// Columns per node.
    pub columns: u32,
    /// Share of edges (per mille) that carry column lineage.
    pub column_edge_permille: u32,
}

impl GenConfig {
    /// The standard shape at `nodes` nodes.
    pub fn new(nodes: u32, seed: u64) -> Self {
        GenConfig {
            nodes,
            seed,
            hubs_per_100k: 20,
            hub_fanout: (1_000, 20_000),
            cycles: 0,
            columns: 3,
            column_edge_permille: 300,
        }
    }
}

/// Layer names, in order.
pub const LAYERS: [&str; 5] = ["raw", "staging", "intermediate", "marts", "dashboards"];
const LAYER_SHARE_PERCENT: [u32; 5] = [15, 25, 25, 20, 15];

/// A generated graph.
#[derive(Clone, Debug)]
pub struct GenGraph {
    /// The settings it came from.
    pub config: GenConfig,
    /// First node id of each layer, plus the node count at the end.
    pub layer_starts: [u32; 6],
    /// Entity type per node.
    pub types: Vec<EntityType>,
    /// Edges (from, to), sorted, no duplicates.
    pub edges: Vec<(u32, u32)>,
    /// The hub nodes, biggest extra fan-out first.
    pub hubs: Vec<u32>,
}

/// The generator's random source: SplitMix64 ([`SplitMix64`]) from a seed.
#[derive(Clone, Debug)]
pub struct Rng(SplitMix64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(SplitMix64::new(seed ^ 0x5DEE_CE66_D1CE_4E5B))
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in (0, 1].
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

impl GenGraph {
    /// Generates the graph.
    pub fn generate(config: &GenConfig) -> GenGraph {
        let n = config.nodes;
        let mut rng = Rng::new(config.seed);
        let mut layer_starts = [0u32; 6];
        let mut acc = 0u64;
        for (i, share) in LAYER_SHARE_PERCENT.iter().enumerate() {
            layer_starts[i] = (acc * n as u64 / 100) as u32;
            acc += *share as u64;
        }
        layer_starts[5] = n;
        let dashboards = layer_starts[4];
        let types: Vec<EntityType> = (0..n)
            .map(|i| {
                if i >= dashboards {
                    EntityType::Dashboard
                } else if i >= layer_starts[1] && i % 50 == 7 {
                    EntityType::Pipeline
                } else {
                    EntityType::Table
                }
            })
            .collect();
        // Preferential attachment: a node appears once when created and once more each
        // time it is picked, so picks favour nodes that already have many children.
        let mut urn: Vec<u32> = Vec::with_capacity(n as usize * 5);
        let mut edges: Vec<(u32, u32)> = Vec::with_capacity(n as usize * 6);
        let mut parents = HashSet::new();
        for c in 0..n {
            if c >= layer_starts[1] && !urn.is_empty() {
                // Pareto(alpha = 1.2), floored and capped at 400: mostly 1-2 parents, a few hundreds.
                let k = ((1.0 / rng.unit().powf(1.0 / 1.2)) as u64).clamp(1, 400);
                parents.clear();
                for _ in 0..k.min(urn.len() as u64) {
                    let p = urn[rng.below(urn.len() as u64) as usize];
                    if parents.insert(p) {
                        edges.push((p, c));
                        urn.push(p);
                    }
                }
            }
            if c < dashboards {
                urn.push(c);
            }
        }
        // Hubs: in raw/staging, each with 1k-20k extra downstreams in later layers.
        let hub_count = ((n as u64 * config.hubs_per_100k as u64) / 100_000).max(1) as u32;
        let mut hubs: Vec<(u32, u32)> = Vec::new();
        let hub_space = layer_starts[2].max(1);
        let mut used = HashSet::new();
        while hubs.len() < hub_count as usize && used.len() < hub_space as usize {
            let h = rng.below(hub_space as u64) as u32;
            if !used.insert(h) {
                continue;
            }
            let (lo, hi) = config.hub_fanout;
            let fan = lo + rng.below((hi - lo + 1) as u64) as u32;
            let later = n - (h + 1);
            let fan = fan.min(later);
            for _ in 0..fan {
                let c = h + 1 + rng.below(later as u64) as u32;
                edges.push((h, c));
            }
            hubs.push((fan, h));
        }
        hubs.sort_unstable_by(|a, b| b.cmp(a));
        for _ in 0..config.cycles {
            // A back edge from a later node to an earlier one closes a cycle.
            let a = rng.below(dashboards.max(1) as u64) as u32;
            let b = rng.below(dashboards.max(1) as u64) as u32;
            if a != b {
                edges.push((a.max(b), a.min(b)));
            }
        }
        edges.sort_unstable();
        edges.dedup();
        GenGraph {
            config: config.clone(),
            layer_starts,
            types,
            edges,
            hubs: hubs.into_iter().map(|h| h.1).collect(),
        }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> u32 {
        self.config.nodes
    }

    /// The layer of a node (index into [`LAYERS`]).
    pub fn layer(&self, node: u32) -> usize {
        (0..5)
            .rev()
            .find(|l| node >= self.layer_starts[*l])
            .unwrap_or(0)
    }

    /// The fully qualified name of a node.
    pub fn fqn(&self, node: u32) -> String {
        let layer = LAYERS[self.layer(node)];
        match self.types[node as usize] {
            EntityType::Dashboard => format!("bi.{layer}.d{node}"),
            EntityType::Pipeline => format!("airflow.{layer}.p{node}"),
            _ => format!("warehouse.{layer}.s{}.t{node}", node % 50),
        }
    }

    /// Column names of a node.
    pub fn columns(&self, node: u32) -> Vec<String> {
        match self.types[node as usize] {
            EntityType::Table => (0..self.config.columns).map(|c| format!("c{c}")).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether an edge carries column lineage (deterministic in the edge).
    pub fn has_column_lineage(&self, from: u32, to: u32) -> bool {
        let h = (from as u64)
            .wrapping_mul(0x9E37_79B9)
            .wrapping_add(to as u64)
            .wrapping_mul(0x85EB_CA6B);
        (h >> 7) % 1000 < self.config.column_edge_permille as u64
            && self.types[from as usize] == EntityType::Table
            && self.types[to as usize] == EntityType::Table
    }

    /// Columns that carry lineage on an edge with column lineage: column i maps to
    /// column i for the first two columns.
    fn lineage_columns(&self) -> u32 {
        self.config.columns.min(2)
    }

    /// Column mappings of an edge: column i to column i, for the first two columns.
    pub fn column_pairs(&self, from: u32, to: u32) -> Vec<(String, String)> {
        if !self.has_column_lineage(from, to) {
            return Vec::new();
        }
        (0..self.lineage_columns())
            .map(|c| (format!("c{c}"), format!("c{c}")))
            .collect()
    }

    /// The column-lineage graph as plain edges for peers: column `c` of node `n` is
    /// [`GenGraph::column_index`]`(n, c)`; the same mappings [`GenGraph::records`] loads.
    pub fn column_edges(&self) -> Vec<(u32, u32)> {
        self.edges
            .iter()
            .filter(|(a, b)| self.has_column_lineage(*a, *b))
            .flat_map(|&(a, b)| {
                (0..self.lineage_columns())
                    .map(move |c| (self.column_index(a, c), self.column_index(b, c)))
            })
            .collect()
    }

    /// Number of column indexes (`nodes * columns`).
    pub fn column_count(&self) -> u32 {
        self.config.nodes * self.config.columns
    }

    /// The dense index of column `c` (named `c{c}`) of `node`.
    pub fn column_index(&self, node: u32, c: u32) -> u32 {
        node * self.config.columns + c
    }

    /// The (node, column name) of a column index.
    pub fn column_of(&self, index: u32) -> (u32, String) {
        (
            index / self.config.columns,
            format!("c{}", index % self.config.columns),
        )
    }

    /// Bulk-load records: every node (key = its id), then every edge.
    pub fn records(
        &self,
    ) -> impl Iterator<Item = headwaters_engine::Result<(usize, BulkRecord)>> + '_ {
        let nodes = (0..self.node_count()).map(move |i| {
            Ok((
                i as usize + 1,
                BulkRecord::Node(BulkNode {
                    key: Some(i.to_string()),
                    entity_type: self.types[i as usize],
                    fqn: self.fqn(i),
                    name: None,
                    id: None,
                    columns: self.columns(i),
                }),
            ))
        });
        let base = self.node_count() as usize + 1;
        let edges = self.edges.iter().enumerate().map(move |(j, &(a, b))| {
            Ok((
                base + j,
                BulkRecord::Edge(BulkEdge {
                    from: a.to_string(),
                    to: b.to_string(),
                    columns: self
                        .column_pairs(a, b)
                        .into_iter()
                        .map(|(f, t)| BulkMapping {
                            from: vec![f],
                            to: t,
                            function: None,
                        })
                        .collect(),
                    source: None,
                    sql_query: None,
                    description: None,
                }),
            ))
        });
        nodes.chain(edges)
    }

    /// Writes the JSON-lines bulk file: one serialized [`BulkRecord`] per line.
    pub fn write_jsonl(&self, mut w: impl Write) -> io::Result<()> {
        for r in self.records() {
            let (_, record) = r.map_err(io::Error::other)?;
            serde_json::to_writer(&mut w, &record)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Writes the CSV pair: nodes (`key,type,fqn,columns`) and edges (`from,to,columns`);
    /// peers load the first two columns of the edges file.
    pub fn write_csv(&self, mut nodes: impl Write, mut edges: impl Write) -> io::Result<()> {
        writeln!(nodes, "key,type,fqn,columns")?;
        for i in 0..self.node_count() {
            writeln!(
                nodes,
                "{i},{},{},{}",
                self.types[i as usize],
                self.fqn(i),
                self.columns(i).join(";")
            )?;
        }
        writeln!(edges, "from,to,columns")?;
        for &(a, b) in &self.edges {
            let cols: Vec<String> = self
                .column_pairs(a, b)
                .into_iter()
                .map(|(f, t)| format!("{f}:{t}"))
                .collect();
            writeln!(edges, "{a},{b},{}", cols.join(";"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_dag_with_layers_and_hubs() {
        let c = GenConfig::new(20_000, 7);
        let g = GenGraph::generate(&c);
        let again = GenGraph::generate(&c);
        assert_eq!(g.edges, again.edges, "same seed, same graph");
        assert!(g.edges.iter().all(|(a, b)| a < b), "a DAG in id order");
        assert!(
            g.edges
                .iter()
                .all(|(a, _)| g.types[*a as usize] != EntityType::Dashboard)
        );
        let per_node = g.edges.len() as f64 / 20_000.0;
        assert!((3.0..9.0).contains(&per_node), "mean degree {per_node}");
        assert_eq!(g.hubs.len(), 4);
        let mut indeg = vec![0u32; 20_000];
        for (_, b) in &g.edges {
            indeg[*b as usize] += 1;
        }
        let mut with_parents: Vec<u32> = indeg.iter().copied().filter(|d| *d > 0).collect();
        with_parents.sort_unstable();
        let median = with_parents[with_parents.len() / 2];
        let max = *with_parents.last().unwrap();
        eprintln!(
            "in-degree: median {median}, p90 {}, max {max}",
            with_parents[with_parents.len() * 9 / 10]
        );
        assert!(
            median <= 4,
            "heavy tail: the typical node has few parents ({median})"
        );
        assert!(max >= 50, "heavy tail: some node has many parents ({max})");
        let cyclic = GenGraph::generate(&GenConfig { cycles: 5, ..c });
        assert!(cyclic.edges.iter().any(|(a, b)| a > b));
    }

    #[test]
    fn column_edges_are_the_loaded_mappings() {
        let g = GenGraph::generate(&GenConfig::new(5_000, 3));
        let mut from_records = Vec::new();
        for r in g.records() {
            if let (_, BulkRecord::Edge(e)) = r.unwrap() {
                let (a, b): (u32, u32) = (e.from.parse().unwrap(), e.to.parse().unwrap());
                for m in e.columns {
                    let col = |n: u32, name: &str| {
                        let c: u32 = name[1..].parse().unwrap();
                        assert_eq!(g.column_of(g.column_index(n, c)), (n, name.to_string()));
                        g.column_index(n, c)
                    };
                    from_records.push((col(a, &m.from[0]), col(b, &m.to)));
                }
            }
        }
        let mut edges = g.column_edges();
        assert!(edges.len() > 1_000, "{} column edges", edges.len());
        edges.sort_unstable();
        from_records.sort_unstable();
        assert_eq!(edges, from_records);
        assert!(
            edges
                .iter()
                .all(|(a, b)| *a < g.column_count() && *b < g.column_count())
        );
    }

    #[test]
    fn jsonl_reads_back_as_the_records() {
        let g = GenGraph::generate(&GenConfig::new(2_000, 5));
        let mut buf = Vec::new();
        g.write_jsonl(&mut buf).unwrap();
        let read: Vec<BulkRecord> = headwaters_engine::read_jsonl(&buf[..])
            .map(|r| r.unwrap().1)
            .collect();
        let made: Vec<BulkRecord> = g.records().map(|r| r.unwrap().1).collect();
        assert_eq!(read.len(), made.len());
        assert_eq!(read, made);
    }
}

//! Level-synchronous BFS over any [`Adjacency`], bounded by depth and a node budget.
//!
//! ```text
//!   depth 0      depth 1        depth 2
//!   [root] --> frontier{a,b} --> next{c,d,e} --> ...   (one direction at a time)
//!              visited = {root,a,b,...}   (a per-thread bitset, reset after use)
//! ```
//! Each level scans the out- (downstream) or in- (upstream) neighbours of the frontier,
//! skips nodes the view does not admit (filtered types, soft-deleted), and keeps the
//! unvisited ones as the next frontier. A node is reported once per direction, at its
//! shortest depth, so cycles terminate. Frontiers of [`PARALLEL_FRONTIER`] nodes or more
//! are scanned in parallel with rayon (read-only), then merged in frontier order. Cost: O(nodes + edges
//! reached), with no storage read per node.

use rayon::prelude::*;

/// Which way to walk: against the data flow (upstream) or with it (downstream).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Towards sources (follow in-edges).
    Upstream,
    /// Towards consumers (follow out-edges).
    Downstream,
}

/// The read side of a graph the traversal runs on. Ids are dense `u32`s.
pub trait Adjacency: Sync {
    /// One more than the largest id that may appear.
    fn id_bound(&self) -> u32;
    /// Neighbours of `n` in direction `dir` (sorted, no duplicates).
    fn neighbors(&self, n: u32, dir: Direction) -> &[u32];
    /// Whether the traversal may visit `n` (type filter, soft deletes).
    fn admits(&self, n: u32) -> bool;
}

/// How far to go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraversalSpec {
    /// Upstream depth bound; `None` is unbounded, `Some(0)` skips the direction.
    pub upstream_depth: Option<u32>,
    /// Downstream depth bound; `None` is unbounded, `Some(0)` skips the direction.
    pub downstream_depth: Option<u32>,
    /// At most this many nodes per direction (the root not counted); more sets `truncated`.
    pub node_budget: Option<usize>,
    /// Collect the edges followed (off for counting-only queries).
    pub collect_edges: bool,
}

impl TraversalSpec {
    /// `up` levels upstream and `down` levels downstream, edges collected, no budget.
    pub fn depths(up: u32, down: u32) -> Self {
        TraversalSpec {
            upstream_depth: Some(up),
            downstream_depth: Some(down),
            node_budget: None,
            collect_edges: true,
        }
    }
}

/// A node reached, at its shortest distance from the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Visit<Id> {
    /// The node.
    pub node: Id,
    /// Hops from the root (1 = direct neighbour).
    pub depth: u32,
}

/// What one direction reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach<Id> {
    /// Nodes in BFS order (by depth); the root is not included.
    pub visits: Vec<Visit<Id>>,
    /// Edges followed, as (from, to) in data-flow order, both ends in the result or root.
    pub edges: Vec<(Id, Id)>,
    /// The node budget stopped the walk before every reachable node was visited.
    pub truncated: bool,
}

impl<Id> Default for Reach<Id> {
    fn default() -> Self {
        Reach {
            visits: Vec::new(),
            edges: Vec::new(),
            truncated: false,
        }
    }
}

impl<Id> Reach<Id> {
    /// Converts the ids.
    pub fn map<J>(self, f: impl Fn(Id) -> J) -> Reach<J> {
        Reach {
            visits: self
                .visits
                .into_iter()
                .map(|v| Visit {
                    node: f(v.node),
                    depth: v.depth,
                })
                .collect(),
            edges: self.edges.into_iter().map(|(a, b)| (f(a), f(b))).collect(),
            truncated: self.truncated,
        }
    }

    /// Number of nodes reached at each depth; index 0 is depth 1.
    pub fn counts_per_depth(&self) -> Vec<usize> {
        let mut counts = Vec::new();
        for v in &self.visits {
            let d = v.depth as usize;
            if counts.len() < d {
                counts.resize(d, 0);
            }
            counts[d - 1] += 1;
        }
        counts
    }
}

/// Both directions from one root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traversal<Id> {
    /// The start node.
    pub root: Id,
    /// Upstream result.
    pub upstream: Reach<Id>,
    /// Downstream result.
    pub downstream: Reach<Id>,
}

impl<Id> Traversal<Id> {
    /// Whether either direction was cut by the budget.
    pub fn truncated(&self) -> bool {
        self.upstream.truncated || self.downstream.truncated
    }
}

/// What one parallel chunk of a level found: new nodes and edges followed.
type LevelPart = (Vec<u32>, Vec<(u32, u32)>);

/// Frontier size from which a level is scanned in parallel.
pub const PARALLEL_FRONTIER: usize = 4096;

/// Walks upstream and downstream from `root` as `spec` says.
pub fn traverse<A: Adjacency>(g: &A, root: u32, spec: &TraversalSpec) -> Traversal<u32> {
    let run = |depth: Option<u32>, dir| match depth {
        Some(0) => Reach::default(),
        _ => bfs(
            g,
            root,
            dir,
            depth,
            spec.node_budget.unwrap_or(usize::MAX),
            spec.collect_edges,
        ),
    };
    Traversal {
        root,
        upstream: run(spec.upstream_depth, Direction::Upstream),
        downstream: run(spec.downstream_depth, Direction::Downstream),
    }
}

/// One direction of [`traverse`].
pub fn bfs<A: Adjacency>(
    g: &A,
    root: u32,
    dir: Direction,
    max_depth: Option<u32>,
    budget: usize,
    collect_edges: bool,
) -> Reach<u32> {
    let mut visited = DenseSet::scratch(g.id_bound());
    visited.insert(root);
    let walk = Walk {
        dir,
        max_depth,
        budget,
        collect_edges,
    };
    let out = bfs_with(g, root, walk, &mut visited);
    // Leave the scratch set all clear for the next query: only the bits set are reset.
    visited.remove(root);
    for v in &out.visits {
        visited.remove(v.node);
    }
    visited.give_back();
    out
}

/// The bounds of one direction's walk.
#[derive(Clone, Copy)]
struct Walk {
    dir: Direction,
    max_depth: Option<u32>,
    budget: usize,
    collect_edges: bool,
}

fn bfs_with<A: Adjacency>(g: &A, root: u32, walk: Walk, visited: &mut DenseSet) -> Reach<u32> {
    let Walk {
        dir,
        max_depth,
        budget,
        collect_edges,
    } = walk;
    let orient = |u: u32, v: u32| match dir {
        Direction::Downstream => (u, v),
        Direction::Upstream => (v, u),
    };
    let mut out = Reach::default();
    let mut frontier = vec![root];
    let mut next = Vec::new();
    let mut depth = 0u32;
    while !frontier.is_empty() && max_depth.is_none_or(|m| depth < m) {
        depth += 1;
        next.clear();
        let room = budget - out.visits.len();
        if frontier.len() >= PARALLEL_FRONTIER {
            let dense = &mut *visited;
            // Phase 1, parallel and read-only: per chunk of the frontier, the admitted
            // neighbours not visited before this level, and the edges followed.
            let shared: &DenseSet = dense;
            let parts: Vec<LevelPart> = frontier
                .par_chunks(1024)
                .map(|chunk| {
                    let (mut found, mut es) = (Vec::new(), Vec::new());
                    for &u in chunk {
                        for &v in g.neighbors(u, dir) {
                            if !g.admits(v) {
                                continue;
                            }
                            if !shared.contains(v) {
                                found.push(v);
                            }
                            if collect_edges {
                                es.push(orient(u, v));
                            }
                        }
                    }
                    (found, es)
                })
                .collect();
            // Phase 2, sequential in chunk order: claim the new nodes. The order is the
            // one a sequential scan gives, so answers do not depend on thread timing.
            let level_edges_from = out.edges.len();
            'merge: for (found, es) in parts {
                for v in found {
                    if dense.contains(v) {
                        continue;
                    }
                    if next.len() == room {
                        out.truncated = true;
                        break 'merge;
                    }
                    dense.insert(v);
                    next.push(v);
                }
                out.edges.extend(es);
            }
            if out.truncated {
                // Drop the edges of this level that lead to nodes left out.
                let far = |e: &(u32, u32)| {
                    if dir == Direction::Downstream {
                        e.1
                    } else {
                        e.0
                    }
                };
                let level: Vec<(u32, u32)> = out.edges.drain(level_edges_from..).collect();
                out.edges
                    .extend(level.into_iter().filter(|e| dense.contains(far(e))));
            }
        } else {
            'scan: for &u in &frontier {
                for &v in g.neighbors(u, dir) {
                    if !g.admits(v) {
                        continue;
                    }
                    if !visited.contains(v) {
                        if next.len() == room {
                            out.truncated = true;
                            break 'scan;
                        }
                        visited.insert(v);
                        next.push(v);
                    }
                    if collect_edges {
                        out.edges.push(orient(u, v));
                    }
                }
            }
        }
        out.visits
            .extend(next.iter().map(|&node| Visit { node, depth }));
        if out.truncated {
            break;
        }
        std::mem::swap(&mut frontier, &mut next);
    }
    out
}

/// A bitset over ids, for the visited set.
struct DenseSet(Vec<u64>);

thread_local! {
    /// One all-clear bitset per thread, reused across queries so that a small query
    /// neither allocates nor zeroes a bitset the size of the graph.
    static SCRATCH: std::cell::Cell<Vec<u64>> = const { std::cell::Cell::new(Vec::new()) };
}

impl DenseSet {
    /// This thread's scratch set (all clear), sized for ids below `bound`. A nested call
    /// on the same thread (rayon work stealing) finds it taken and allocates its own.
    fn scratch(bound: u32) -> Self {
        let mut words = SCRATCH.take();
        let need = (bound as usize).div_ceil(64);
        if words.len() < need {
            words.resize(need, 0);
        }
        DenseSet(words)
    }

    /// Returns the set (which the caller cleared) for the next query on this thread.
    fn give_back(self) {
        SCRATCH.set(self.0);
    }

    fn contains(&self, n: u32) -> bool {
        self.0[(n / 64) as usize] & (1 << (n % 64)) != 0
    }

    fn insert(&mut self, n: u32) {
        self.0[(n / 64) as usize] |= 1 << (n % 64);
    }

    fn remove(&mut self, n: u32) {
        self.0[(n / 64) as usize] &= !(1 << (n % 64));
    }
}

/// Simple paths from `from` to `to` of at most `max_depth` edges, at most `limit` of them,
/// found with petgraph on the subgraph where both walks meet.
pub fn paths<A: Adjacency>(
    g: &A,
    from: u32,
    to: u32,
    max_depth: u32,
    limit: usize,
) -> Vec<Vec<u32>> {
    if from == to {
        return vec![vec![from]];
    }
    let down = bfs(
        g,
        from,
        Direction::Downstream,
        Some(max_depth),
        usize::MAX,
        true,
    );
    let up = bfs(
        g,
        to,
        Direction::Upstream,
        Some(max_depth),
        usize::MAX,
        false,
    );
    let depth_of = |r: &Reach<u32>| {
        r.visits
            .iter()
            .map(|v| (v.node, v.depth))
            .collect::<rustc_hash::FxHashMap<_, _>>()
    };
    let (dd, ud) = (depth_of(&down), depth_of(&up));
    if !dd.contains_key(&to) {
        return Vec::new();
    }
    // A node lies on a short enough path iff its distances from both ends fit the bound.
    let on_path = |n: u32| {
        let a = if n == from {
            Some(0)
        } else {
            dd.get(&n).copied()
        };
        let b = if n == to {
            Some(0)
        } else {
            ud.get(&n).copied()
        };
        matches!((a, b), (Some(a), Some(b)) if a + b <= max_depth)
    };
    let mut sub = petgraph::graphmap::DiGraphMap::<u32, ()>::new();
    for &(a, b) in &down.edges {
        if on_path(a) && on_path(b) {
            sub.add_edge(a, b, ());
        }
    }
    petgraph::algo::all_simple_paths::<Vec<u32>, _, std::hash::RandomState>(
        &sub,
        from,
        to,
        0,
        Some(max_depth.saturating_sub(1) as usize),
    )
    .take(limit)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny adjacency-list graph for unit tests.
    struct Lists {
        out: Vec<Vec<u32>>,
        inn: Vec<Vec<u32>>,
        hidden: Vec<u32>,
    }

    impl Lists {
        fn new(n: u32, edges: &[(u32, u32)]) -> Self {
            let mut out = vec![Vec::new(); n as usize];
            let mut inn = vec![Vec::new(); n as usize];
            for &(a, b) in edges {
                out[a as usize].push(b);
                inn[b as usize].push(a);
            }
            for l in out.iter_mut().chain(inn.iter_mut()) {
                l.sort_unstable();
                l.dedup();
            }
            Lists {
                out,
                inn,
                hidden: Vec::new(),
            }
        }
    }

    impl Adjacency for Lists {
        fn id_bound(&self) -> u32 {
            self.out.len() as u32
        }
        fn neighbors(&self, n: u32, dir: Direction) -> &[u32] {
            match dir {
                Direction::Downstream => &self.out[n as usize],
                Direction::Upstream => &self.inn[n as usize],
            }
        }
        fn admits(&self, n: u32) -> bool {
            !self.hidden.contains(&n)
        }
    }

    #[test]
    fn depth_bounds_cycles_and_filters() {
        // 0 -> 1 -> 2 -> 3 -> 1 (cycle), 4 -> 0
        let mut g = Lists::new(5, &[(0, 1), (1, 2), (2, 3), (3, 1), (4, 0)]);
        let t = traverse(&g, 0, &TraversalSpec::depths(5, 2));
        assert_eq!(
            t.downstream.visits,
            vec![Visit { node: 1, depth: 1 }, Visit { node: 2, depth: 2 }]
        );
        assert_eq!(t.upstream.visits, vec![Visit { node: 4, depth: 1 }]);
        assert_eq!(t.upstream.edges, vec![(4, 0)]);
        let all = traverse(
            &g,
            0,
            &TraversalSpec {
                downstream_depth: None,
                ..TraversalSpec::depths(0, 0)
            },
        );
        assert_eq!(all.downstream.visits.len(), 3);
        assert!(all.downstream.edges.contains(&(3, 1)));
        g.hidden = vec![2];
        let t = traverse(
            &g,
            0,
            &TraversalSpec {
                downstream_depth: None,
                ..TraversalSpec::depths(0, 0)
            },
        );
        assert_eq!(t.downstream.visits, vec![Visit { node: 1, depth: 1 }]);
    }

    #[test]
    fn budget_truncates_both_paths() {
        // a star of 10_000 leaves below a chain: exercises the parallel level too.
        let n = 10_003u32;
        let mut edges = vec![(0, 1), (1, 2)];
        edges.extend((3..n).map(|i| (2, i)));
        let g = Lists::new(n, &edges);
        let spec = TraversalSpec {
            node_budget: Some(1),
            ..TraversalSpec::depths(0, 9)
        };
        let t = traverse(&g, 0, &spec);
        assert!(t.downstream.truncated);
        assert_eq!(t.downstream.visits.len(), 1);
        let full = traverse(&g, 0, &TraversalSpec::depths(0, 9));
        assert_eq!(full.downstream.visits.len(), (n - 1) as usize);
        assert!(!full.downstream.truncated);
        let spec = TraversalSpec {
            node_budget: Some(5000),
            ..TraversalSpec::depths(0, 9)
        };
        let t = traverse(&g, 0, &spec);
        assert!(t.downstream.truncated);
        assert_eq!(t.downstream.visits.len(), 5000);
        let kept: rustc_hash::FxHashSet<u32> = t
            .downstream
            .visits
            .iter()
            .map(|v| v.node)
            .chain([0])
            .collect();
        assert!(
            t.downstream
                .edges
                .iter()
                .all(|(a, b)| kept.contains(a) && kept.contains(b))
        );
    }

    #[test]
    fn paths_between_nodes() {
        // 0 -> 1 -> 3, 0 -> 2 -> 3, 3 -> 4, 0 -> 4
        let g = Lists::new(5, &[(0, 1), (1, 3), (0, 2), (2, 3), (3, 4), (0, 4)]);
        let mut p = paths(&g, 0, 4, 3, 10);
        p.sort();
        assert_eq!(p, vec![vec![0, 1, 3, 4], vec![0, 2, 3, 4], vec![0, 4]]);
        assert_eq!(paths(&g, 0, 4, 1, 10), vec![vec![0, 4]]);
        assert!(paths(&g, 4, 0, 5, 10).is_empty());
    }
}

//! Benchmark support: a plain CSR BFS (the lower bound peers are measured against),
//! memory readings, and the harness shared by the benches. The graphs come from
//! `headwaters-generator`.

pub mod harness;

pub use headwaters_generator::{GenConfig, GenGraph, LAYERS, Rng};

/// A plain compressed-sparse-row graph and BFS: the practical lower bound peers are
/// compared against.
pub struct Csr {
    offsets: Vec<u32>,
    targets: Vec<u32>,
}

impl Csr {
    /// Builds the CSR of `edges` over `n` nodes; `reverse` flips every edge.
    pub fn new(n: u32, edges: &[(u32, u32)], reverse: bool) -> Self {
        let mut offsets = vec![0u32; n as usize + 1];
        for &(a, b) in edges {
            let src = if reverse { b } else { a };
            offsets[src as usize + 1] += 1;
        }
        for i in 0..n as usize {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; edges.len()];
        for &(a, b) in edges {
            let (src, dst) = if reverse { (b, a) } else { (a, b) };
            targets[fill[src as usize] as usize] = dst;
            fill[src as usize] += 1;
        }
        Csr { offsets, targets }
    }

    /// Bytes of its two arrays.
    pub fn heap_bytes(&self) -> usize {
        (self.offsets.len() + self.targets.len()) * std::mem::size_of::<u32>()
    }

    /// Nodes reached from `root` within `depth` hops (`None`: unbounded), root excluded.
    /// `seen` is scratch space reused across calls (left all false on return).
    pub fn bfs_count(&self, root: u32, depth: Option<u32>, seen: &mut Vec<bool>) -> usize {
        seen.resize(self.offsets.len() - 1, false);
        seen[root as usize] = true;
        let mut frontier = vec![root];
        let mut reached = Vec::new();
        let mut count = 0;
        let mut d = 0;
        while !frontier.is_empty() && depth.is_none_or(|m| d < m) {
            d += 1;
            let mut next = Vec::new();
            for &u in &frontier {
                let (s, e) = (
                    self.offsets[u as usize] as usize,
                    self.offsets[u as usize + 1] as usize,
                );
                for &v in &self.targets[s..e] {
                    if !seen[v as usize] {
                        seen[v as usize] = true;
                        next.push(v);
                    }
                }
            }
            count += next.len();
            reached.extend_from_slice(&next);
            frontier = next;
        }
        for n in reached.into_iter().chain([root]) {
            seen[n as usize] = false;
        }
        count
    }
}

/// Resets this process's peak resident set size (`VmHWM`) to its current RSS, so a
/// later [`rss_mib`] reports the peak of what ran in between (Linux; no-op elsewhere).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak and current resident set size of this process in MiB, from /proc (Linux).
pub fn rss_mib() -> Option<(f64, f64)> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = s.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_counts() {
        let csr = Csr::new(4, &[(0, 1), (1, 2), (2, 3), (0, 3)], false);
        let mut seen = Vec::new();
        assert_eq!(csr.bfs_count(0, Some(1), &mut seen), 2);
        assert_eq!(csr.bfs_count(0, None, &mut seen), 3);
        let up = Csr::new(4, &[(0, 1), (1, 2), (2, 3), (0, 3)], true);
        assert_eq!(up.bfs_count(3, None, &mut seen), 3);
    }
}

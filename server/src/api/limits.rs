//! Rate limiting per token and per client IP: fixed one-minute windows.
//!
//! Each key (`token:<subject>` or `ip:<address>`) counts requests in the current
//! window; over the limit the request gets 429. Answers carry `X-RateLimit-Limit`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the window ends).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

/// The state of one key after counting a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The limit per window.
    pub limit: u32,
    /// Requests left in this window.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u64,
    /// Whether this request is allowed.
    pub allowed: bool,
}

/// Counters per key.
pub struct RateLimiter {
    limit: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// A limiter allowing `limit` requests per minute per key (0: unlimited).
    pub fn new(limit: u32) -> Self {
        RateLimiter {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key`; `None` when unlimited.
    pub fn check(&self, key: &str, now: Instant) -> Option<Verdict> {
        if self.limit == 0 {
            return None;
        }
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if w.len() > 100_000 {
            w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = w.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        let allowed = entry.1 < self.limit;
        if allowed {
            entry.1 += 1;
        }
        let reset = WINDOW.saturating_sub(now.duration_since(entry.0));
        Some(Verdict {
            limit: self.limit,
            remaining: self.limit - entry.1,
            reset_secs: reset.as_secs().max(1),
            allowed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_and_resets() {
        let l = RateLimiter::new(2);
        let t0 = Instant::now();
        assert!(l.check("a", t0).unwrap().allowed);
        let v = l.check("a", t0).unwrap();
        assert!(v.allowed && v.remaining == 0);
        assert!(!l.check("a", t0).unwrap().allowed);
        assert!(l.check("b", t0).unwrap().allowed);
        assert!(l.check("a", t0 + WINDOW).unwrap().allowed);
        assert!(RateLimiter::new(0).check("a", t0).is_none());
    }
}

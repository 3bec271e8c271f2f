//! Ready-to-send lineage answers for the roots asked about again and again (a UI's
//! favourite tables, CI impact checks): the serialized OpenMetadata-shaped answer,
//! kept while the store has not changed.
//!
//! Every entry belongs to one store version ([`headwaters_engine::Store::version`],
//! read before the answer was computed); any write moves the version on, and the first
//! answer stored after that drops every older entry. So an answer from the cache is
//! the answer a fresh traversal would give at that version, byte for byte. The cache
//! holds at most its capacity in answer bytes; when full, new answers are not kept
//! until the next write empties it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use headwaters_engine::EntityType;

use crate::domain::Key;
use crate::domain::lineage::LineageOpts;

/// What identifies one answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    /// The root's type.
    pub ty: EntityType,
    /// The root.
    pub key: Key,
    /// Depths and filters.
    pub opts: LineageOpts,
    /// The base URL the answer's `href`s start with.
    pub base: String,
    /// Whether column mappings carry their transformation.
    pub transformations: bool,
}

/// See the module documentation.
pub struct AnswerCache {
    capacity: usize,
    state: Mutex<State>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct State {
    version: u64,
    bytes: usize,
    answers: HashMap<AnswerKey, Bytes>,
}

impl AnswerCache {
    /// A cache of at most `capacity` bytes of answers (0: nothing is kept).
    pub fn new(capacity: usize) -> AnswerCache {
        AnswerCache {
            capacity,
            state: Mutex::new(State::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The answer for `key` computed at store version `version`, if kept.
    pub fn get(&self, version: u64, key: &AnswerKey) -> Option<Bytes> {
        if self.capacity == 0 {
            return None;
        }
        let found = {
            let s = self.state();
            (s.version == version)
                .then(|| s.answers.get(key).cloned())
                .flatten()
        };
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `answer`, computed from a view opened after reading store version
    /// `version`. Answers of an older version than the cache's are dropped; a newer
    /// version empties the cache first.
    pub fn put(&self, version: u64, key: AnswerKey, answer: Bytes) {
        if self.capacity == 0 || answer.len() > self.capacity {
            return;
        }
        let mut s = self.state();
        if version < s.version {
            return;
        }
        if version > s.version {
            s.answers.clear();
            s.bytes = 0;
            s.version = version;
        }
        if s.bytes + answer.len() > self.capacity {
            return;
        }
        s.bytes += answer.len();
        if let Some(old) = s.answers.insert(key, answer) {
            s.bytes -= old.len();
        }
    }

    /// (hits, misses, bytes held) so far, for `/metrics`.
    pub fn stats(&self) -> (u64, u64, usize) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
            self.state().bytes,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fqn: &str) -> AnswerKey {
        AnswerKey {
            ty: EntityType::Table,
            key: Key::Fqn(fqn.into()),
            opts: LineageOpts {
                up: 3,
                down: 3,
                include_deleted: false,
                types: headwaters_engine::EntityTypeSet::ALL,
            },
            base: "http://localhost".into(),
            transformations: false,
        }
    }

    #[test]
    fn answers_live_for_one_version_and_within_the_capacity() {
        let c = AnswerCache::new(10);
        c.put(1, key("a"), Bytes::from_static(b"aaaa"));
        assert_eq!(c.get(1, &key("a")).as_deref(), Some(&b"aaaa"[..]));
        assert_eq!(c.get(2, &key("a")), None, "a write makes it stale");
        assert_eq!(c.get(1, &key("b")), None);
        // Full: not kept.
        c.put(1, key("b"), Bytes::from_static(b"bbbbbbb"));
        assert_eq!(c.get(1, &key("b")), None);
        // An answer computed before a write the cache already saw is not kept.
        c.put(2, key("c"), Bytes::from_static(b"cc"));
        c.put(1, key("a"), Bytes::from_static(b"aaaa"));
        assert_eq!(c.get(2, &key("a")), None);
        assert_eq!(c.get(2, &key("c")).as_deref(), Some(&b"cc"[..]));
        assert_eq!(
            c.stats().2,
            2,
            "the newer version emptied the older answers"
        );
        let (hits, misses, _) = c.stats();
        assert_eq!((hits, misses), (2, 4));
        // Off.
        let off = AnswerCache::new(0);
        off.put(1, key("a"), Bytes::from_static(b"a"));
        assert_eq!(off.get(1, &key("a")), None);
    }
}

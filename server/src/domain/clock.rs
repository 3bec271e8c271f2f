//! Time and randomness for domain operations: the real clock and the operating
//! system's randomness, unless the caller fixed them for the operation it runs.
//!
//! A cluster node runs each replicated command inside [`with_fixed`] with the time and
//! seed the receiving node chose, so every node stamps the same `updatedAt`, draws the
//! same new entity ids and seals secrets with the same nonces: the same command on the
//! same state gives the same bytes everywhere.

use std::cell::RefCell;

use sha2::{Digest, Sha256};
use uuid::Uuid;

struct Fixed {
    now: i64,
    seed: [u8; 32],
    drawn: u64,
}

thread_local! {
    static FIXED: RefCell<Option<Fixed>> = const { RefCell::new(None) };
}

/// Runs `f` with the clock fixed at `now` (ms since the epoch) and randomness drawn
/// from `seed` (SHA-256 in counter mode: unpredictable without the seed, the same
/// sequence for the same seed).
pub fn with_fixed<T>(now: i64, seed: [u8; 32], f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            FIXED.with(|c| *c.borrow_mut() = None);
        }
    }
    FIXED.with(|c| {
        *c.borrow_mut() = Some(Fixed {
            now,
            seed,
            drawn: 0,
        })
    });
    let _reset = Reset;
    f()
}

/// Milliseconds since the Unix epoch: the fixed time inside [`with_fixed`], else now.
pub fn now_millis() -> i64 {
    FIXED
        .with(|c| c.borrow().as_ref().map(|f| f.now))
        .unwrap_or_else(headwaters_engine::now_millis)
}

/// Fills `out` with random bytes: from the fixed seed inside [`with_fixed`], else from
/// the operating system.
pub fn fill_random(out: &mut [u8]) -> Result<(), getrandom::Error> {
    let done = FIXED.with(|c| {
        let mut c = c.borrow_mut();
        let Some(f) = c.as_mut() else {
            return false;
        };
        for chunk in out.chunks_mut(32) {
            let mut h = Sha256::new();
            h.update(f.seed);
            h.update(f.drawn.to_be_bytes());
            f.drawn += 1;
            chunk.copy_from_slice(&h.finalize()[..chunk.len()]);
        }
        true
    });
    if done { Ok(()) } else { getrandom::fill(out) }
}

/// A new random (version 4) UUID, drawn as [`fill_random`] draws.
pub fn new_uuid() -> Uuid {
    let mut b = [0u8; 16];
    match fill_random(&mut b) {
        Ok(()) => uuid::Builder::from_random_bytes(b).into_uuid(),
        Err(_) => Uuid::new_v4(),
    }
}

/// A fresh 32-byte seed from the operating system, for a command about to be fixed.
pub fn fresh_seed() -> [u8; 32] {
    let mut s = [0u8; 32];
    if getrandom::fill(&mut s).is_err() {
        s[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        s[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_draws_repeat_for_the_same_seed_and_differ_otherwise() {
        let draw = |seed| with_fixed(7, seed, || (now_millis(), new_uuid(), new_uuid()));
        let a = draw([1; 32]);
        assert_eq!(a, draw([1; 32]));
        assert_ne!(a.1, a.2);
        assert_eq!(a.0, 7);
        assert_ne!(a.1, draw([2; 32]).1);
        // Outside, the real clock and the OS.
        assert!(now_millis() > 1_600_000_000_000);
        assert_ne!(new_uuid(), new_uuid());
    }
}

//! What a replica of a replicated store needs from the engine (the server's cluster
//! mode): the log position applied so far, recorded atomically with what it applied,
//! a digest to compare replicas, and checkpoints to start new replicas from.
//!
//! A replica applies commands of a replicated log in order. Each command may make
//! several writes; around them [`Store::begin_command`] and [`Store::end_command`]
//! record its sequence. A process that stops between the two leaves
//! [`ReplicaState::applying`] set: the store then holds part of a command and must be
//! replaced (from a checkpoint, or rebuilt from the log), never continued.

use std::path::Path;
use std::sync::atomic::Ordering;

use sha2::{Digest as _, Sha256};

use crate::backend::Backend;
use crate::error::{Result, corrupt};
use crate::keys::{cf, meta};
use crate::store::{Store, lock_poisoned};

/// Where a replica stands in the replicated log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplicaState {
    /// Sequence of the last command applied in full (0: none).
    pub applied: u64,
    /// A command whose application did not finish (the process stopped inside it).
    pub applying: Option<u64>,
}

/// A digest of a store's whole content at one applied sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    /// The applied sequence the digest was taken at.
    pub applied: u64,
    /// SHA-256 over every column family's keys and values (hex), excluding the
    /// replication bookkeeping itself.
    pub sha256: String,
    /// Entries hashed.
    pub entries: u64,
}

thread_local! {
    /// Set on the thread applying a command, between begin and end.
    static IN_COMMAND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A replica's store changes only through its log: a write from anywhere else would
/// make this node differ from the others, so it is refused (a bug, not bad input).
pub(crate) fn check_write_allowed(s: &Store) -> Result<()> {
    if s.replica.load(Ordering::Relaxed) && !IN_COMMAND.with(|c| c.get()) {
        return Err(crate::error::Error::Internal(
            crate::error::InternalError::NotThroughLog(
                "a write outside the replicated log on a cluster node".into(),
            ),
        ));
    }
    Ok(())
}

fn read_u64(kv: &Backend, key: &[u8]) -> Result<Option<u64>> {
    match kv.get(cf::META, key)? {
        None => Ok(None),
        Some(b) => {
            let a: [u8; 8] = b
                .as_slice()
                .try_into()
                .map_err(|_| corrupt(cf::META, "a log sequence is not 8 bytes"))?;
            Ok(Some(u64::from_be_bytes(a)))
        }
    }
}

impl Store {
    /// Whether each write waits for its WAL fsync before it returns (the default). A
    /// replica turns this off: its log is the durable copy, and a replica that loses
    /// its last writes in a machine crash applies them again from the log.
    pub fn set_durable(&self, durable: bool) {
        self.durable.store(durable, Ordering::Relaxed);
    }

    /// Makes this store a replica: from now on it takes writes only between
    /// [`Store::begin_command`] and [`Store::end_command`] on the applying thread.
    pub fn set_replica(&self, replica: bool) {
        self.replica.store(replica, Ordering::Relaxed);
    }

    /// The replicated-log position of this store.
    pub fn replica_state(&self) -> Result<ReplicaState> {
        Ok(ReplicaState {
            applied: read_u64(&self.kv, meta::APPLIED_SEQ)?.unwrap_or(0),
            applying: read_u64(&self.kv, meta::APPLYING_SEQ)?,
        })
    }

    /// Marks the start of command `seq`: every write until [`Store::end_command`]
    /// belongs to it.
    pub fn begin_command(&self, seq: u64) -> Result<()> {
        IN_COMMAND.with(|c| c.set(true));
        self.write(|t| {
            t.put(cf::META, meta::APPLYING_SEQ, seq.to_be_bytes().to_vec());
            Ok(())
        })
    }

    /// Marks command `seq` as applied in full.
    pub fn end_command(&self, seq: u64) -> Result<()> {
        let r = self.write(|t| {
            t.put(cf::META, meta::APPLIED_SEQ, seq.to_be_bytes().to_vec());
            t.delete(cf::META, meta::APPLYING_SEQ);
            Ok(())
        });
        IN_COMMAND.with(|c| c.set(false));
        r
    }

    /// A digest of the whole store, taken while writes wait: two replicas at the same
    /// applied sequence have the same digest exactly when they hold the same bytes.
    pub fn digest(&self) -> Result<Digest> {
        let _g = self.graph.read().unwrap_or_else(lock_poisoned);
        let applied = read_u64(&self.kv, meta::APPLIED_SEQ)?.unwrap_or(0);
        let mut h = Sha256::new();
        let mut entries = 0u64;
        for family in cf::ALL {
            h.update((family.len() as u32).to_be_bytes());
            h.update(family.as_bytes());
            self.kv.scan(family, |k, v| {
                if *family == cf::META && (k == meta::APPLIED_SEQ || k == meta::APPLYING_SEQ) {
                    return Ok(());
                }
                h.update((k.len() as u32).to_be_bytes());
                h.update(k);
                h.update((v.len() as u32).to_be_bytes());
                h.update(v);
                entries += 1;
                Ok(())
            })?;
        }
        let sha256 = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Digest {
            applied,
            sha256,
            entries,
        })
    }

    /// Writes a consistent copy of the store into `dir` (which must not exist) while
    /// writes wait, and returns the applied sequence it holds. On RocksDB this is a
    /// checkpoint: hard links to the immutable files plus the flushed memtables.
    pub fn checkpoint(&self, dir: &Path) -> Result<u64> {
        let _g = self.graph.read().unwrap_or_else(lock_poisoned);
        let applied = read_u64(&self.kv, meta::APPLIED_SEQ)?.unwrap_or(0);
        self.kv.checkpoint(dir)?;
        Ok(applied)
    }
}

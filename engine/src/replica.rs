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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaState {
    /// Sequence of the last command applied in full (0: none).
    pub applied: u64,
    /// A command whose application did not finish (the process stopped inside it).
    pub applying: Option<u64>,
    /// Commands applied in all (equals `applied` when each was applied exactly once).
    pub applied_count: u64,
    /// SHA-256 chained over every log entry applied (hex; empty before the first).
    pub log_hash: String,
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
    /// Per column family: name, entries, SHA-256 of its entries alone (to find where
    /// two stores differ).
    pub families: Vec<(String, u64, String)>,
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
            applied_count: read_u64(&self.kv, meta::APPLIED_COUNT)?.unwrap_or(0),
            log_hash: self
                .kv
                .get(cf::META, meta::LOG_HASH)?
                .map(|h| h.iter().map(|b| format!("{b:02x}")).collect())
                .unwrap_or_default(),
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

    /// Marks command `seq`, whose log entry is `entry`, as applied in full.
    pub fn end_command(&self, seq: u64, entry: &[u8]) -> Result<()> {
        let count = read_u64(&self.kv, meta::APPLIED_COUNT)?.unwrap_or(0) + 1;
        let mut h = Sha256::new();
        h.update(self.kv.get(cf::META, meta::LOG_HASH)?.unwrap_or_default());
        h.update(seq.to_be_bytes());
        h.update(entry);
        let chained = h.finalize().to_vec();
        let r = self.write(|t| {
            t.put(cf::META, meta::LOG_HASH, chained);
            t.put(cf::META, meta::APPLIED_SEQ, seq.to_be_bytes().to_vec());
            t.put(cf::META, meta::APPLIED_COUNT, count.to_be_bytes().to_vec());
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
        let hex = |h: Sha256| h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let mut h = Sha256::new();
        let mut entries = 0u64;
        let mut families = Vec::new();
        for family in cf::ALL {
            h.update((family.len() as u32).to_be_bytes());
            h.update(family.as_bytes());
            let mut fh = Sha256::new();
            let mut n = 0u64;
            self.kv.scan(family, |k, v| {
                if *family == cf::META
                    && [
                        meta::APPLIED_SEQ,
                        meta::APPLYING_SEQ,
                        meta::APPLIED_COUNT,
                        meta::LOG_HASH,
                    ]
                    .contains(&k)
                {
                    return Ok(());
                }
                for part in [k, v] {
                    h.update((part.len() as u32).to_be_bytes());
                    h.update(part);
                    fh.update((part.len() as u32).to_be_bytes());
                    fh.update(part);
                }
                n += 1;
                Ok(())
            })?;
            entries += n;
            families.push((family.to_string(), n, hex(fh)));
        }
        Ok(Digest {
            applied,
            sha256: hex(h),
            entries,
            families,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EntityInput, EntityType};

    fn table(name: &str) -> EntityInput {
        EntityInput {
            id: uuid::Uuid::new_v4(),
            entity_type: EntityType::Table,
            fqn: format!("s.d.x.{name}"),
            name: name.into(),
            columns: vec!["a".into()],
            doc: serde_json::Value::Null,
        }
    }

    #[test]
    fn a_replica_records_commands_refuses_other_writes_and_shows_an_interrupted_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let s = Store::open(dir.path()).expect("open");
            s.set_replica(true);
            s.set_durable(false);
            assert!(
                s.upsert_entity(table("outside")).is_err(),
                "a replica refuses a write outside a command"
            );
            s.begin_command(1).expect("begin");
            s.upsert_entity(table("a")).expect("inside a command");
            s.end_command(1, b"one").expect("end");
            let d1 = s.digest().expect("digest");
            assert_eq!(d1.applied, 1);
            s.begin_command(2).expect("begin");
            s.upsert_entity(table("b")).expect("write");
            // The process stops here: no end_command(2).
            assert_ne!(s.digest().expect("digest").sha256, d1.sha256);
        }
        let s = Store::open(dir.path()).expect("reopen");
        let st = s.replica_state().expect("state");
        assert_eq!(st.log_hash.len(), 64, "a chained hash after one command");
        assert_eq!(
            st,
            ReplicaState {
                applied: 1,
                applying: Some(2),
                applied_count: 1,
                log_hash: st.log_hash.clone(),
            }
        );
    }

    #[test]
    fn stores_with_the_same_commands_have_the_same_digest() {
        let run = |names: &[&str]| {
            let s = Store::in_memory();
            s.set_replica(true);
            for (i, n) in names.iter().enumerate() {
                s.begin_command(i as u64 + 1).expect("begin");
                let mut t = table(n);
                t.id = uuid::Uuid::from_u128(i as u128 + 1);
                s.upsert_entity(t).expect("write");
                s.end_command(i as u64 + 1, n.as_bytes()).expect("end");
            }
            s.digest().expect("digest")
        };
        assert_eq!(run(&["a", "b"]), run(&["a", "b"]));
        assert_ne!(run(&["a", "b"]).sha256, run(&["b", "a"]).sha256);
    }
}

//! The key-value layer under the store: RocksDB, or an in-memory map for tests.
//!
//! Both take the same write batches and bulk ingests, so the store's logic is written
//! once and the model-based tests run it against either.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use rocksdb::{
    BlockBasedOptions, ColumnFamilyDescriptor, DB, IngestExternalFileOptions, Options,
    SstFileWriter, WriteBatch, WriteOptions,
};

use crate::error::Result;
use crate::keys::cf;

/// Pending writes: last write to a key wins; `None` deletes. Reads inside a transaction
/// see them first.
#[derive(Default)]
pub(crate) struct Batch {
    ops: BTreeMap<(&'static str, Vec<u8>), Option<Vec<u8>>>,
}

impl Batch {
    pub(crate) fn put(&mut self, cf: &'static str, key: &[u8], value: Vec<u8>) {
        self.ops.insert((cf, key.to_vec()), Some(value));
    }

    pub(crate) fn delete(&mut self, cf: &'static str, key: &[u8]) {
        self.ops.insert((cf, key.to_vec()), None);
    }

    /// `Some(None)` if deleted in this batch, `Some(Some(v))` if written, `None` if untouched.
    pub(crate) fn staged(&self, cf: &'static str, key: &[u8]) -> Option<Option<&[u8]>> {
        self.ops.get(&(cf, key.to_vec())).map(|v| v.as_deref())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Where the bytes live.
pub(crate) enum Backend {
    /// Durable storage.
    Rocks { db: DB, path: PathBuf },
    /// Volatile maps, one per column family (tests and benchmarks).
    Memory(MemMaps),
}

/// The in-memory backend's maps, one per column family.
pub(crate) type MemMaps = Mutex<MemInner>;
/// Column family name -> ordered key-value map.
pub(crate) type MemInner = HashMap<&'static str, BTreeMap<Vec<u8>, Vec<u8>>>;
/// Receives one key-value entry of a bulk write.
pub(crate) type Sink<'s> = &'s mut dyn FnMut(&[u8], &[u8]) -> Result<()>;
/// Produces a column family's entries, in key order, into a [`Sink`].
pub(crate) type Source<'a> = Box<dyn Fn(Sink<'_>) -> Result<()> + Send + Sync + 'a>;

/// Keys per SST file a bulk ingest writes, at most: 32M keys, whose filter hashes
/// (8 bytes a key, held until the file is finished) take 256 MiB.
const SST_KEYS: usize = 1 << 25;

/// Bytes of decompressed blocks kept in memory, shared by every column family of every
/// store in the process (without it, each column family has a default cache of its
/// own, and the sum grows with the number of families).
pub(crate) const BLOCK_CACHE_BYTES: usize = 64 << 20;

fn block_cache() -> &'static rocksdb::Cache {
    static CACHE: std::sync::OnceLock<rocksdb::Cache> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES))
}

/// Options shared by every column family (and the SST files bulk loads write).
fn cf_options() -> Options {
    let mut o = Options::default();
    o.set_compression_type(rocksdb::DBCompressionType::Lz4);
    o.set_write_buffer_size(64 << 20);
    let mut t = BlockBasedOptions::default();
    t.set_bloom_filter(10.0, false);
    t.set_block_cache(block_cache());
    o.set_block_based_table_factory(&t);
    o
}

impl Backend {
    pub(crate) fn open_rocks(path: &Path) -> Result<Self> {
        let mut opts = cf_options();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(2);
        opts.set_keep_log_file_num(4);
        let cfs = cf::ALL
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(*name, cf_options()));
        let db = DB::open_cf_descriptors(&opts, path, cfs)?;
        Ok(Backend::Rocks {
            db,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn memory() -> Self {
        Backend::Memory(Mutex::new(
            cf::ALL.iter().map(|c| (*c, BTreeMap::new())).collect(),
        ))
    }

    fn handle<'a>(db: &'a DB, name: &str) -> &'a rocksdb::ColumnFamily {
        db.cf_handle(name)
            .expect("every column family is opened with the database")
    }

    fn mem(m: &MemMaps) -> std::sync::MutexGuard<'_, MemInner> {
        // A panic while holding the lock cannot leave a map half-written (each op is one call).
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self {
            Backend::Rocks { db, .. } => Ok(db.get_cf(Self::handle(db, cf), key)?),
            Backend::Memory(m) => Ok(Self::mem(m)[cf].get(key).cloned()),
        }
    }

    /// Reads many keys of one column family at once.
    pub(crate) fn multi_get(
        &self,
        cf: &'static str,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        match self {
            Backend::Rocks { db, .. } => {
                let h = Self::handle(db, cf);
                db.batched_multi_get_cf(h, keys, false)
                    .into_iter()
                    .map(|r| Ok(r?.map(|p| p.to_vec())))
                    .collect()
            }
            Backend::Memory(m) => {
                let m = Self::mem(m);
                Ok(keys.iter().map(|k| m[cf].get(k).cloned()).collect())
            }
        }
    }

    /// Applies the batch atomically; on RocksDB with a synced WAL, so it survives a crash
    /// once this returns.
    pub(crate) fn write(&self, batch: Batch) -> Result<()> {
        self.write_opts(batch, true).map(drop)
    }

    /// Applies the batch atomically without waiting for the disk; returns the sequence
    /// number to pass to [`Backend::sync_to`] before acknowledging the write.
    pub(crate) fn write_unsynced(&self, batch: Batch) -> Result<u64> {
        self.write_opts(batch, false)
    }

    /// Makes every write up to sequence `seq` durable. Group commit: one WAL fsync
    /// covers every write that reached the WAL before it started, so concurrent writers
    /// waiting here mostly find their write already synced by someone else.
    pub(crate) fn sync_to(&self, seq: u64, synced: &Mutex<u64>) -> Result<()> {
        let Backend::Rocks { db, .. } = self else {
            return Ok(());
        };
        let mut done = synced.lock().unwrap_or_else(|p| p.into_inner());
        if *done >= seq {
            return Ok(());
        }
        let upto = db.latest_sequence_number();
        db.flush_wal(true)?;
        *done = upto;
        Ok(())
    }

    fn write_opts(&self, batch: Batch, sync: bool) -> Result<u64> {
        if batch.is_empty() {
            return Ok(0);
        }
        match self {
            Backend::Rocks { db, .. } => {
                let mut wb = WriteBatch::default();
                for ((cf, k), v) in batch.ops {
                    let h = Self::handle(db, cf);
                    match v {
                        Some(v) => wb.put_cf(h, k, v),
                        None => wb.delete_cf(h, k),
                    }
                }
                let mut wo = WriteOptions::default();
                wo.set_sync(sync);
                db.write_opt(wb, &wo)?;
                return Ok(db.latest_sequence_number());
            }
            Backend::Memory(m) => {
                let mut m = Self::mem(m);
                for ((cf, k), v) in batch.ops {
                    let map = m.get_mut(cf).expect("known column family");
                    match v {
                        Some(v) => map.insert(k, v),
                        None => map.remove(&k),
                    };
                }
            }
        }
        Ok(0)
    }

    /// A consistent copy of the database in `dir` (RocksDB checkpoint); the in-memory
    /// backend has nothing on disk to copy.
    pub(crate) fn checkpoint(&self, dir: &Path) -> Result<()> {
        match self {
            Backend::Rocks { db, .. } => {
                rocksdb::checkpoint::Checkpoint::new(db)?.create_checkpoint(dir)?;
                Ok(())
            }
            Backend::Memory(_) => Err(crate::error::bad_input(
                "an in-memory store cannot be checkpointed",
            )),
        }
    }

    /// Calls `f` on every entry of a column family, in key order.
    pub(crate) fn scan(
        &self,
        cf: &'static str,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<()>,
    ) -> Result<()> {
        match self {
            Backend::Rocks { db, .. } => {
                let mut it = db.raw_iterator_cf(Self::handle(db, cf));
                it.seek_to_first();
                while it.valid() {
                    f(it.key().unwrap_or_default(), it.value().unwrap_or_default())?;
                    it.next();
                }
                it.status()?;
            }
            Backend::Memory(m) => {
                let snapshot: Vec<(Vec<u8>, Vec<u8>)> = Self::mem(m)[cf]
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for (k, v) in &snapshot {
                    f(k, v)?;
                }
            }
        }
        Ok(())
    }

    /// Walks a column family in key order from `start` (inclusive), forward or backward
    /// (backward starts at the last key `<= start`), while `f` returns `true`.
    pub(crate) fn scan_from(
        &self,
        cf: &'static str,
        start: &[u8],
        backward: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<bool>,
    ) -> Result<()> {
        match self {
            Backend::Rocks { db, .. } => {
                let mut it = db.raw_iterator_cf(Self::handle(db, cf));
                if backward {
                    it.seek_for_prev(start);
                } else {
                    it.seek(start);
                }
                while it.valid() {
                    if !f(it.key().unwrap_or_default(), it.value().unwrap_or_default())? {
                        break;
                    }
                    if backward {
                        it.prev();
                    } else {
                        it.next();
                    }
                }
                it.status()?;
            }
            Backend::Memory(m) => {
                use std::ops::Bound;
                let m = Self::mem(m);
                let map = &m[cf];
                let entries: Box<dyn Iterator<Item = (&Vec<u8>, &Vec<u8>)>> = if backward {
                    Box::new(
                        map.range::<[u8], _>((Bound::Unbounded, Bound::Included(start)))
                            .rev(),
                    )
                } else {
                    Box::new(map.range::<[u8], _>((Bound::Included(start), Bound::Unbounded)))
                };
                for (k, v) in entries {
                    if !f(k, v)? {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes each column family's entries, as its [`Source`] produces them (in key
    /// order, unique), bypassing the memtable: SST files (several per column family
    /// past [`SST_KEYS`] keys) written in parallel, then
    /// ingested into RocksDB one column family at a time in the order given. Not atomic
    /// across column families: the caller brackets a bulk load with a marker and
    /// repairs at open if it is left.
    pub(crate) fn ingest(&self, families: Vec<(&'static str, Source<'_>)>) -> Result<()> {
        self.ingest_in_files_of(families, SST_KEYS)
    }

    /// [`Self::ingest`] with files of at most `keys_per_file` keys.
    fn ingest_in_files_of(
        &self,
        families: Vec<(&'static str, Source<'_>)>,
        keys_per_file: usize,
    ) -> Result<()> {
        match self {
            Backend::Rocks { db, path } => {
                // Ingestion hard-links each file into the database. A file left here by an
                // interrupted load may be such a link: never write into it (that would
                // rewrite a live SST), only unlink it, and use fresh names.
                let dir = path.join("bulk-ingest");
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                std::fs::create_dir_all(&dir)?;
                let files: Vec<Vec<PathBuf>> = families
                    .par_iter()
                    .map(|(cf, source)| -> Result<Vec<PathBuf>> {
                        // Files of at most `keys_per_file` keys each: a writer holds
                        // its filter's key hashes (8 bytes a key) until it finishes.
                        let opts = cf_options();
                        let mut files = Vec::new();
                        let mut writer: Option<SstFileWriter<'_>> = None;
                        let mut written = 0usize;
                        source(&mut |k, v| {
                            let mut w = match writer.take() {
                                Some(w) => w,
                                None => {
                                    let file = dir.join(format!("{cf}-{}.sst", files.len()));
                                    let w = SstFileWriter::create(&opts);
                                    w.open(&file)?;
                                    files.push(file);
                                    w
                                }
                            };
                            w.put(k, v)?;
                            written += 1;
                            if written.is_multiple_of(keys_per_file) {
                                w.finish()?;
                            } else {
                                writer = Some(w);
                            }
                            Ok(())
                        })?;
                        if let Some(mut w) = writer.take() {
                            w.finish()?;
                        }
                        Ok(files)
                    })
                    .collect::<Result<_>>()?;
                for ((cf, _), files) in families.iter().zip(files) {
                    if !files.is_empty() {
                        let mut io = IngestExternalFileOptions::default();
                        io.set_move_files(true);
                        let paths: Vec<&PathBuf> = files.iter().collect();
                        db.ingest_external_file_cf_opts(Self::handle(db, cf), &io, paths)?;
                        for f in &files {
                            let _ = std::fs::remove_file(f);
                        }
                    }
                }
            }
            Backend::Memory(m) => {
                for (cf, source) in &families {
                    let mut entries = Vec::new();
                    source(&mut |k, v| {
                        entries.push((k.to_vec(), v.to_vec()));
                        Ok(())
                    })?;
                    Self::mem(m)
                        .get_mut(cf)
                        .expect("known column family")
                        .extend(entries);
                }
            }
        }
        Ok(())
    }

    /// Where a bulk load may keep scratch files: the database's directory (`None` for
    /// the in-memory backend, whose loads keep everything in memory).
    pub(crate) fn scratch_dir(&self) -> Option<PathBuf> {
        match self {
            Backend::Rocks { path, .. } => Some(path.clone()),
            Backend::Memory(_) => None,
        }
    }

    /// The database's directory and latest sequence number (what a graph snapshot is
    /// stamped with); `None` for the in-memory backend, which has no snapshot.
    pub(crate) fn snapshot_place(&self) -> Option<(&Path, u64)> {
        match self {
            Backend::Rocks { db, path } => Some((path, db.latest_sequence_number())),
            Backend::Memory(_) => None,
        }
    }

    /// Flushes memtables to SST files (clean shutdown; makes reopen cheap).
    pub(crate) fn flush(&self) -> Result<()> {
        if let Backend::Rocks { db, .. } = self {
            let handles: Vec<_> = cf::ALL.iter().map(|c| Self::handle(db, c)).collect();
            db.flush_cfs_opt(&handles, &rocksdb::FlushOptions::default())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column family written as several files reads back whole and in order.
    #[test]
    fn ingest_splits_big_families_into_files() {
        let dir = tempfile::tempdir().unwrap();
        let kv = Backend::open_rocks(dir.path()).unwrap();
        let key = |i: u32| i.to_be_bytes();
        let sources: Vec<(&'static str, Source<'_>)> = vec![
            (
                cf::NODE_OUT,
                Box::new(|sink: Sink<'_>| (0..1000u32).try_for_each(|i| sink(&key(i), b"v"))),
            ),
            (cf::NODE_IN, Box::new(|_: Sink<'_>| Ok(()))),
        ];
        kv.ingest_in_files_of(sources, 300).unwrap();
        for i in [0, 299, 300, 599, 600, 999] {
            assert_eq!(
                kv.get(cf::NODE_OUT, &key(i)).unwrap().as_deref(),
                Some(&b"v"[..])
            );
        }
        assert_eq!(kv.get(cf::NODE_OUT, &key(1000)).unwrap(), None);
        assert_eq!(kv.get(cf::NODE_IN, &key(0)).unwrap(), None);
        if let Backend::Rocks { db, .. } = &kv {
            let files = db.live_files().unwrap();
            let out = files
                .iter()
                .filter(|f| f.column_family_name == cf::NODE_OUT);
            assert_eq!(out.count(), 4, "1000 keys in files of 300");
        }
        let left = std::fs::read_dir(dir.path().join("bulk-ingest"))
            .unwrap()
            .count();
        assert_eq!(left, 0, "the written files moved into the database");
    }
}

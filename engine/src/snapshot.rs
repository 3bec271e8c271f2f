//! The in-memory graph saved next to the database, so that opening a store reads a few
//! arrays instead of rebuilding them from every adjacency list, entity record and column
//! record (13.7 s at 10M nodes before this file existed).
//!
//! [`Store::flush`](crate::Store::flush) writes it while no write can run, together with
//! the RocksDB sequence number it matches. Opening uses it only when that number, the
//! id counters, the format version and the checksum all match; otherwise it rebuilds
//! from RocksDB (the source of truth) as before, and the next flush writes a new one. A
//! write after the flush moves the sequence number, so a process that stops without
//! flushing leaves a snapshot that is never read.
//!
//! Layout (native byte order, checked by a marker): magic, format version, byte-order
//! marker, sequence number, node and column counters; then sections, each a `u64` byte
//! length and the bytes of one array (kinds, flags, column owners, then offsets and
//! targets of the four adjacency sides); then a CRC-32 of everything before it. Written
//! to a temporary file, synced, and renamed over the old one.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::cache::RecordCache;
use crate::graph::{Graph, Lists};
use crate::keys::FLAG_DELETED;

/// The snapshot's file name, inside the RocksDB directory.
pub(crate) const FILE: &str = "headwaters-graph.snapshot";
const MAGIC: &[u8; 8] = b"HWGRAPH\0";
/// Bumped whenever the layout or the meaning of an array changes.
const FORMAT: u32 = 1;
const BYTE_ORDER: u32 = 0x0102_0304;

/// What a snapshot must match to be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// RocksDB's latest sequence number when it was written.
    pub(crate) sequence: u64,
    /// The node id counter.
    pub(crate) next_node: u32,
    /// The column id counter.
    pub(crate) next_column: u32,
}

/// Writes `g` as the snapshot of `dir` matching `stamp`. Lists that do not fit the packed
/// form (past 4G entries on one side) are not saved: the next open rebuilds.
pub(crate) fn save(dir: &Path, g: &Graph, stamp: Stamp) -> std::io::Result<()> {
    let sides = [&g.out, &g.inn, &g.col_out, &g.col_in].map(Lists::packed);
    if sides.iter().any(Option::is_none) {
        let _ = std::fs::remove_file(dir.join(FILE));
        return Ok(());
    }
    let tmp = dir.join(format!("{FILE}.tmp"));
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, File::create(&tmp)?),
        crc: crc32fast::Hasher::new(),
    };
    w.put(MAGIC)?;
    w.put(&FORMAT.to_ne_bytes())?;
    w.put(&BYTE_ORDER.to_ne_bytes())?;
    w.put(&stamp.sequence.to_ne_bytes())?;
    w.put(&stamp.next_node.to_ne_bytes())?;
    w.put(&stamp.next_column.to_ne_bytes())?;
    w.section(&g.kind)?;
    w.section(&g.flags)?;
    w.section(bytemuck::cast_slice(&g.col_owner))?;
    for side in sides.iter().flatten() {
        w.section(bytemuck::cast_slice(&side.offsets))?;
        w.section(bytemuck::cast_slice(&side.targets))?;
    }
    let crc = w.crc.clone().finalize();
    w.out.write_all(&crc.to_ne_bytes())?;
    let file = w.out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&tmp, dir.join(FILE))?;
    // The rename is durable once the directory is.
    File::open(dir)?.sync_all()
}

/// The graph saved in `dir` if there is one matching `stamp` and intact; `Err` says why
/// not (missing, stale, another format, damaged), for the log.
pub(crate) fn load(dir: &Path, stamp: Stamp) -> Result<Graph, String> {
    let path: PathBuf = dir.join(FILE);
    let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut r = Reader {
        input: BufReader::with_capacity(1 << 20, file),
        crc: crc32fast::Hasher::new(),
    };
    let io = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut magic = [0u8; 8];
    r.get(&mut magic).map_err(io)?;
    let format = r.u32().map_err(io)?;
    let order = r.u32().map_err(io)?;
    if &magic != MAGIC || format != FORMAT || order != BYTE_ORDER {
        return Err(format!("{}: another format", path.display()));
    }
    let found = Stamp {
        sequence: r.u64().map_err(io)?,
        next_node: r.u32().map_err(io)?,
        next_column: r.u32().map_err(io)?,
    };
    if found != stamp {
        return Err(format!(
            "{} is stale (written at sequence {}, the database is at {})",
            path.display(),
            found.sequence,
            stamp.sequence
        ));
    }
    let (nodes, columns) = (stamp.next_node as usize, stamp.next_column as usize);
    let kind: Vec<u8> = r.section(nodes).map_err(io)?;
    let flags: Vec<u8> = r.section(nodes).map_err(io)?;
    let col_owner: Vec<u32> = r.section(columns).map_err(io)?;
    let mut side = |ids: usize| -> Result<Lists, String> {
        let offsets: Vec<u32> = r.section(ids + 1).map_err(io)?;
        let entries = offsets.last().copied().unwrap_or(0) as usize;
        let targets: Vec<u32> = r.section(entries).map_err(io)?;
        Lists::from_packed(offsets, targets, ids as u32)
            .ok_or_else(|| format!("{}: an adjacency list is out of range", path.display()))
    };
    let out = side(nodes)?;
    let inn = side(nodes)?;
    let col_out = side(columns)?;
    let col_in = side(columns)?;
    let computed = r.crc.clone().finalize();
    let mut stored = [0u8; 4];
    r.input.read_exact(&mut stored).map_err(io)?;
    if u32::from_ne_bytes(stored) != computed {
        return Err(format!("{}: checksum mismatch", path.display()));
    }
    let deleted = flags.iter().filter(|f| **f & FLAG_DELETED != 0).count();
    Ok(Graph {
        kind,
        flags,
        out,
        inn,
        col_owner,
        col_out,
        col_in,
        deleted,
        cache: RecordCache::default(),
    })
}

struct Writer {
    out: BufWriter<File>,
    crc: crc32fast::Hasher,
}

impl Writer {
    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.crc.update(b);
        self.out.write_all(b)
    }

    fn section(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.put(&(b.len() as u64).to_ne_bytes())?;
        self.put(b)
    }
}

struct Reader {
    input: BufReader<File>,
    crc: crc32fast::Hasher,
}

impl Reader {
    fn get(&mut self, b: &mut [u8]) -> std::io::Result<()> {
        self.input.read_exact(b)?;
        self.crc.update(b);
        Ok(())
    }

    fn u32(&mut self) -> std::io::Result<u32> {
        let mut b = [0u8; 4];
        self.get(&mut b)?;
        Ok(u32::from_ne_bytes(b))
    }

    fn u64(&mut self) -> std::io::Result<u64> {
        let mut b = [0u8; 8];
        self.get(&mut b)?;
        Ok(u64::from_ne_bytes(b))
    }

    /// One section of exactly `len` values, read straight into its vector.
    fn section<T: bytemuck::Pod>(&mut self, len: usize) -> std::io::Result<Vec<T>> {
        let bytes = self.u64()?;
        if bytes != (len * size_of::<T>()) as u64 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a section of {bytes} bytes where {len} values were expected"),
            ));
        }
        let mut v = vec![T::zeroed(); len];
        self.get(bytemuck::cast_slice_mut(&mut v))?;
        Ok(v)
    }
}

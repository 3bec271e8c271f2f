//! Append-only scratch bytes for bulk loads: in memory while small, moved to an
//! unnamed file in the store's directory once they pass [`SPILL_AFTER`] bytes (the
//! details of a 100M-node load are tens of gigabytes; the page cache, not the
//! process, holds them then). The file has no name, so it is gone when the load ends,
//! however it ends.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use crate::error::Result;

/// Bytes kept in memory before a [`Spill`] with a directory moves to a file.
pub(crate) const SPILL_AFTER: usize = 64 << 20;

/// Bytes read from the file at a time when reading in order.
const READ_BLOCK: usize = 1 << 20;

/// Scratch bytes being written.
pub(crate) struct Spill {
    dir: Option<PathBuf>,
    /// Bytes kept in memory before moving to a file.
    after: usize,
    at: Place,
    len: u64,
}

enum Place {
    Memory(Vec<u8>),
    File(BufWriter<File>),
}

impl Spill {
    /// Scratch bytes that move to an unnamed file in `dir` once large; `None` keeps
    /// them in memory (the in-memory backend).
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        Self::with_threshold(dir, SPILL_AFTER)
    }

    /// As [`Spill::new`], moving to a file past `after` bytes.
    pub(crate) fn with_threshold(dir: Option<PathBuf>, after: usize) -> Self {
        Spill {
            dir,
            after,
            at: Place::Memory(Vec::new()),
            len: 0,
        }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Appends `bytes`.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<()> {
        if let (Place::Memory(v), Some(dir)) = (&mut self.at, &self.dir)
            && v.len() + bytes.len() > self.after
        {
            let mut w = BufWriter::with_capacity(READ_BLOCK, tempfile::tempfile_in(dir)?);
            w.write_all(v)?;
            self.at = Place::File(w);
        }
        match &mut self.at {
            Place::Memory(v) => v.extend_from_slice(bytes),
            Place::File(w) => w.write_all(bytes)?,
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Done writing: the bytes, to read back.
    pub(crate) fn finish(self) -> Result<Spilled> {
        Ok(match self.at {
            Place::Memory(v) => Spilled::Memory(v),
            Place::File(w) => Spilled::File(w.into_inner().map_err(|e| e.into_error())?),
        })
    }
}

/// Scratch bytes written, to read back.
pub(crate) enum Spilled {
    Memory(Vec<u8>),
    File(File),
}

impl Spilled {
    /// A reader for ranges of the bytes (one per thread).
    pub(crate) fn reader(&self) -> SpillReader<'_> {
        SpillReader {
            from: self,
            window: Vec::new(),
            start: 0,
        }
    }

    /// Calls `f` on the bytes in order, in pieces whose lengths are multiples of
    /// `unit` (a record never straddles two pieces).
    pub(crate) fn for_each_piece(
        &self,
        unit: usize,
        mut f: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        match self {
            Spilled::Memory(v) => f(v),
            Spilled::File(file) => {
                let mut buf = vec![0u8; READ_BLOCK / unit * unit];
                let mut at = 0u64;
                loop {
                    // Positioned reads: the write side left the file offset at the end.
                    let mut filled = 0;
                    while filled < buf.len() {
                        let n = file.read_at(&mut buf[filled..], at + filled as u64)?;
                        if n == 0 {
                            break;
                        }
                        filled += n;
                    }
                    if filled == 0 {
                        return Ok(());
                    }
                    at += filled as u64;
                    f(&buf[..filled - filled % unit])?;
                    if filled < buf.len() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// Reads ranges of [`Spilled`] bytes; ranges asked for in increasing order are read
/// from the file a block at a time, others one by one.
pub(crate) struct SpillReader<'a> {
    from: &'a Spilled,
    window: Vec<u8>,
    /// Where `window` starts in the bytes.
    start: u64,
}

impl SpillReader<'_> {
    /// The bytes `start..end`.
    pub(crate) fn get(&mut self, start: u64, end: u64) -> Result<&[u8]> {
        let file = match self.from {
            Spilled::Memory(v) => return Ok(&v[start as usize..end as usize]),
            Spilled::File(f) => f,
        };
        let window_end = self.start + self.window.len() as u64;
        if start < self.start || end > window_end {
            let len = (end - start) as usize;
            // Going on from the window (reading in order): a whole block ahead.
            let ahead = start >= self.start && start <= window_end + READ_BLOCK as u64;
            let want = if ahead { len.max(READ_BLOCK) } else { len };
            self.window.resize(want, 0);
            let mut filled = 0;
            while filled < want {
                let n = file.read_at(&mut self.window[filled..], start + filled as u64)?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled < len {
                return Err(crate::error::corrupt(
                    "bulk scratch file",
                    "shorter than what was written",
                ));
            }
            self.window.truncate(filled);
            self.start = start;
        }
        let at = (start - self.start) as usize;
        Ok(&self.window[at..at + (end - start) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of varied lengths: through memory and through a file (a tiny threshold),
    /// read back in order, out of order, and in whole records.
    #[test]
    fn bytes_read_back_as_written_from_memory_and_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<u8>> = (0..5000u32)
            .map(|i| (0..(i % 97) * 12).map(|j| (i ^ j) as u8).collect())
            .collect();
        for place in [None, Some(dir.path().to_path_buf())] {
            let mut spill = Spill::with_threshold(place.clone(), 1000);
            let mut starts = Vec::new();
            for r in &records {
                starts.push(spill.len());
                spill.append(r).unwrap();
            }
            let total = spill.len();
            let spilled = spill.finish().unwrap();
            assert_eq!(
                matches!(spilled, Spilled::File(_)),
                place.is_some(),
                "a directory and more than the threshold: a file"
            );
            let end = |i: usize| starts.get(i + 1).copied().unwrap_or(total);
            let mut reader = spilled.reader();
            for (i, r) in records.iter().enumerate() {
                assert_eq!(reader.get(starts[i], end(i)).unwrap(), &r[..], "record {i}");
            }
            for i in (0..records.len()).rev().step_by(7) {
                assert_eq!(reader.get(starts[i], end(i)).unwrap(), &records[i][..]);
            }
            let mut all = Vec::new();
            spilled
                .for_each_piece(12, |p| {
                    assert_eq!(p.len() % 12, 0, "pieces are whole records");
                    all.extend_from_slice(p);
                    Ok(())
                })
                .unwrap();
            assert_eq!(all, records.concat());
        }
    }
}

//! A growable array of plain values that never moves: one anonymous memory map
//! reserved for the most values it may hold (address space only, `MAP_NORESERVE`: a
//! page costs memory once written), returned to the OS as a whole when dropped.
//!
//! A bulk load's big arrays are the use (the edge list: 6 GiB at 550M edges; the new
//! entities, their strings, the merged lists): a `Vec` that grows by doubling, or a
//! list gathered in pieces and then copied into one array, holds it twice at its peak,
//! and the allocator does not give freed memory back to the OS at once (mimalloc
//! purges lazily: a 100M-node load reached 23.5 GiB of 24 that way). A map is
//! unmapped when dropped, so what a phase frees is free for the next.

use std::marker::PhantomData;

use bytemuck::Pod;
use memmap2::{MmapMut, MmapOptions};

use crate::error::{Result, bad_input};

/// See the module docs.
pub(crate) struct MapVec<T> {
    /// `None` until the first push (an empty list maps nothing).
    map: Option<MmapMut>,
    len: usize,
    max: usize,
    /// What the values are, for the error when the room is full.
    what: &'static str,
    _values: PhantomData<T>,
}

/// The most bytes a [`MapVec`] asks to reserve; less is taken where the system refuses
/// that much address space (a 64-bit process has 128 TiB of it).
const MAX_BYTES: usize = 1 << 40;

/// Below this many values, a refused reservation is an error rather than tried smaller.
const MIN_VALUES: usize = 1 << 20;

impl<T: Pod> MapVec<T> {
    /// An empty list of `what` (named in the error when it is full).
    pub(crate) fn new(what: &'static str) -> Self {
        MapVec {
            map: None,
            len: 0,
            max: 0,
            what,
            _values: PhantomData,
        }
    }

    /// Appends `x`; an error once the reserved room is full.
    pub(crate) fn push(&mut self, x: T) -> Result<()> {
        self.extend_from_slice(std::slice::from_ref(&x))
    }

    /// Appends `xs`; an error once the reserved room is full.
    pub(crate) fn extend_from_slice(&mut self, xs: &[T]) -> Result<()> {
        if self.map.is_none() {
            self.reserve()?;
        }
        if self.max - self.len < xs.len() {
            return Err(bad_input(format!(
                "more than {} {} in one load (the address space this system grants)",
                self.max, self.what
            )));
        }
        let size = std::mem::size_of::<T>();
        let at = self.len * size;
        if let Some(map) = &mut self.map {
            map[at..at + std::mem::size_of_val(xs)].copy_from_slice(bytemuck::cast_slice(xs));
        }
        self.len += xs.len();
        Ok(())
    }

    fn reserve(&mut self) -> Result<()> {
        let size = std::mem::size_of::<T>().max(1);
        let mut values = MAX_BYTES / size;
        loop {
            match MmapOptions::new()
                .len(values * size)
                .no_reserve_swap()
                .map_anon()
            {
                Ok(map) => {
                    self.map = Some(map);
                    self.max = values;
                    return Ok(());
                }
                Err(e) if values <= MIN_VALUES => return Err(e.into()),
                Err(_) => values /= 2,
            }
        }
    }

    /// Keeps the first `len` values.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Drops consecutive repeated values, in place.
    pub(crate) fn dedup(&mut self)
    where
        T: PartialEq,
    {
        let v = self.as_mut_slice();
        let mut kept = 0;
        for i in 1..v.len() {
            if v[i] != v[kept] {
                kept += 1;
                v[kept] = v[i];
            }
        }
        let len = if v.is_empty() { 0 } else { kept + 1 };
        self.truncate(len);
    }

    /// The values.
    pub(crate) fn as_slice(&self) -> &[T] {
        match &self.map {
            Some(map) => bytemuck::cast_slice(&map[..self.len * std::mem::size_of::<T>()]),
            None => &[],
        }
    }

    /// The values, to change in place.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        let bytes = self.len * std::mem::size_of::<T>();
        match &mut self.map {
            Some(map) => bytemuck::cast_slice_mut(&mut map[..bytes]),
            None => &mut [],
        }
    }
}

impl<T: Pod> std::ops::Deref for MapVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Pod> std::ops::DerefMut for MapVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_read_back_and_change_in_place() {
        let mut v: MapVec<[u32; 3]> = MapVec::new("edges");
        assert!(v.is_empty());
        for i in 0..100_000u32 {
            v.push([i % 7, i, i.wrapping_mul(31)]).unwrap();
        }
        assert_eq!(v.len(), 100_000);
        assert_eq!(v[12_345], [12_345 % 7, 12_345, 12_345u32.wrapping_mul(31)]);
        v.sort_unstable();
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
        v.truncate(10);
        assert_eq!(v.len(), 10);
        assert!(v.iter().all(|e| e[0] == 0));
        v.extend_from_slice(&[[7, 8, 9], [10, 11, 12], [10, 11, 12]])
            .unwrap();
        v.dedup();
        assert_eq!(
            &v[9..],
            [[0, 63, 63u32.wrapping_mul(31)], [7, 8, 9], [10, 11, 12]]
        );
    }

    #[test]
    fn bytes_get_room_past_four_gigabytes() {
        let mut v: MapVec<u8> = MapVec::new("bytes");
        v.extend_from_slice(b"abc").unwrap();
        assert!(v.max > u32::MAX as usize, "room for {} bytes", v.max);
        assert_eq!(&v[..], b"abc");
    }
}

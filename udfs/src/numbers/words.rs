//! Zeroed arrays of 64-bit words for the number memos, on huge pages where Linux gives them.
//!
//! A memo of the 10M-row store's 2.1M destinations is a 128 MB table read at random. With
//! 4 KiB pages nearly every look-up misses the TLB as well as the cache (the table spans 32K
//! pages; the TLB holds a few thousand); on 2 MiB pages it spans 64, which the TLB holds. Linux
//! backs an anonymous mapping with transparent huge pages when the mapping is advised
//! `MADV_HUGEPAGE` (the `madvise` mode, Debian's default): a table of at least
//! [`HUGE_PAGE`] bytes is such a mapping, its start aligned to a huge page. A small table, a
//! system without the advice or a mapping that fails is an ordinary zeroed `Vec`, with the
//! same answers.

use memmap2::{MmapMut, MmapOptions};

/// Bytes of a huge page on x86-64 and most arm64 Linux systems: a table from this size on is
/// mapped and advised.
const HUGE_PAGE: usize = 2 << 20;

/// A fixed-length array of words, all 0 when made.
pub(super) struct Words {
    storage: Storage,
}

enum Storage {
    /// `len` words from byte `start` of an anonymous mapping (zero-filled by the kernel).
    Mapped {
        map: MmapMut,
        start: usize,
        len: usize,
    },
    Heap(Vec<u64>),
}

impl Words {
    /// `len` words, all 0.
    pub(super) fn zeroed(len: usize) -> Self {
        let storage = match len.checked_mul(8) {
            Some(bytes) if bytes >= HUGE_PAGE => mapped(len, bytes),
            _ => None,
        }
        .unwrap_or_else(|| Storage::Heap(vec![0; len]));
        Words { storage }
    }

    /// The words.
    pub(super) fn as_slice(&self) -> &[u64] {
        match &self.storage {
            Storage::Mapped { map, start, len } => {
                bytemuck::cast_slice(&map[*start..*start + *len * 8])
            }
            Storage::Heap(words) => words,
        }
    }

    /// The words, to change.
    pub(super) fn as_mut_slice(&mut self) -> &mut [u64] {
        match &mut self.storage {
            Storage::Mapped { map, start, len } => {
                bytemuck::cast_slice_mut(&mut map[*start..*start + *len * 8])
            }
            Storage::Heap(words) => words,
        }
    }

    /// Whether the words are in a mapping advised to use huge pages.
    #[cfg(test)]
    pub(super) fn is_mapped(&self) -> bool {
        matches!(self.storage, Storage::Mapped { .. })
    }
}

/// A mapping of `bytes` (`len` words) from a huge-page boundary, advised to use huge pages;
/// `None` when the system refuses the mapping or the advice.
fn mapped(len: usize, bytes: usize) -> Option<Storage> {
    // One huge page more than asked, so that the words can start on a boundary: the kernel
    // backs only whole, aligned 2 MiB ranges with huge pages.
    let map = MmapOptions::new()
        .len(bytes.checked_add(HUGE_PAGE)?)
        .map_anon()
        .ok()?;
    advise_huge_pages(&map)?;
    let address = map.as_ptr() as usize;
    let start = address.next_multiple_of(HUGE_PAGE) - address;
    Some(Storage::Mapped { map, start, len })
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(map: &MmapMut) -> Option<()> {
    map.advise(memmap2::Advice::HugePage).ok()
}

/// Elsewhere the mapping would bring nothing over a `Vec`.
#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_: &MmapMut) -> Option<()> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_arrays_start_zeroed_and_keep_what_is_written() {
        for len in [0, 1, 4096, HUGE_PAGE / 8, 3 * HUGE_PAGE / 8 + 5] {
            let mut words = Words::zeroed(len);
            assert_eq!(words.as_slice().len(), len);
            assert!(words.as_slice().iter().all(|&w| w == 0), "{len}");
            for (i, w) in words.as_mut_slice().iter_mut().enumerate() {
                *w = i as u64 * 3 + 1;
            }
            let kept = words.as_slice();
            assert!(kept.iter().enumerate().all(|(i, &w)| w == i as u64 * 3 + 1));
            if cfg!(target_os = "linux") {
                assert_eq!(words.is_mapped(), len * 8 >= HUGE_PAGE, "{len}");
            }
        }
    }

    #[test]
    fn mapped_words_start_on_a_huge_page() {
        let words = Words::zeroed(HUGE_PAGE / 8);
        if words.is_mapped() {
            assert_eq!(words.as_slice().as_ptr() as usize % HUGE_PAGE, 0);
        }
    }
}

//! Process-wide memos of the number functions' answers.
//!
//! Reading a number through libphonenumber costs tens of microseconds, and a CDR store
//! repeats numbers across batches and queries (frequent callers, DIDs, the destinations
//! a server rates again for every report). The answers depend only on the number as
//! written and the default country, so they are kept for the life of the process, keyed by
//! that text. Each memo holds at most [`CAPACITY`] answers and is emptied when full
//! (no recency bookkeeping on the hot path): about 30 MB per memo at its fullest.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use dashmap::DashMap;
use phonenumber::country::Id;

/// Most answers a memo holds before it is emptied.
pub(super) const CAPACITY: usize = 1 << 18;

/// A bounded, concurrent map from a key text to an answer (see the module documentation).
pub(super) struct Memo<V> {
    map: DashMap<Box<str>, V, KeyHasher>,
    len: AtomicUsize,
}

impl<V: Clone> Memo<V> {
    fn new() -> Self {
        Self {
            map: DashMap::with_hasher(KeyHasher::default()),
            len: AtomicUsize::new(0),
        }
    }

    /// The answer for `key`, computed by `compute` and kept if not known yet.
    pub(super) fn get_or(&self, key: &str, compute: impl FnOnce() -> V) -> V {
        if let Some(known) = self.map.get(key) {
            return known.clone();
        }
        let value = compute();
        if self.len.fetch_add(1, Ordering::Relaxed) >= CAPACITY {
            self.map.clear();
            self.len.store(1, Ordering::Relaxed);
        }
        self.map.insert(key.into(), value.clone());
        value
    }
}

/// Hashes the memos' keys: foldhash, seeded per process. The keys are short (a country and a
/// number), and SipHash, the standard map's hasher, cost as much as a fast reading of the
/// number itself; the seed keeps the bucket of a key unpredictable from outside the process.
type KeyHasher = foldhash::fast::RandomState;

/// `e164(number, default_country)` by `{country}{number}` (see [`e164_key`]).
pub(super) static E164: LazyLock<Memo<Option<Arc<str>>>> = LazyLock::new(Memo::new);

/// The region of a number read without a default country, by the number as written.
pub(super) static REGIONS: LazyLock<Memo<Option<Id>>> = LazyLock::new(Memo::new);

/// Writes the [`E164`] key of `number` in `country` into `key`: the country's two letters
/// (`--` without one), then the number as written.
pub(super) fn e164_key(key: &mut String, number: &str, country: Option<Id>) {
    key.clear();
    match country {
        Some(country) => key.push_str(country.as_ref()),
        None => key.push_str("--"),
    }
    key.push_str(number);
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn a_full_memo_starts_over_and_still_answers() {
        let memo: Memo<usize> = Memo::new();
        for i in 0..CAPACITY + 10 {
            assert_eq!(memo.get_or(&i.to_string(), || i), i);
        }
        assert!(memo.map.len() <= CAPACITY);
        // Known answers are not recomputed.
        let last = (CAPACITY + 9).to_string();
        assert_eq!(memo.get_or(&last, || unreachable!()), CAPACITY + 9);
    }

    #[test]
    fn key_hashes_spread() {
        let hasher = KeyHasher::default();
        let mut low = std::collections::HashSet::new();
        let mut high = std::collections::HashSet::new();
        for i in 0..4096 {
            let h = hasher.hash_one(format!("NL06{i:08}"));
            low.insert(h & 0xfff);
            high.insert(h >> 52);
        }
        // 4096 keys over 4096 buckets: a fair hash fills about 63 % of them.
        assert!(
            low.len() > 2400 && high.len() > 2400,
            "{} {}",
            low.len(),
            high.len()
        );
        assert_ne!(hasher.hash_one("ab"), hasher.hash_one("ab\0"));
    }

    #[test]
    fn keys_separate_countries() {
        let mut key = String::new();
        e164_key(&mut key, "0612345678", Some(Id::NL));
        assert_eq!(key, "NL0612345678");
        e164_key(&mut key, "0612345678", None);
        assert_eq!(key, "--0612345678");
    }
}

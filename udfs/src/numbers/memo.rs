//! Process-wide memos of the number functions' answers.
//!
//! Reading a number through libphonenumber costs around a microsecond, and a CDR store
//! repeats numbers across batches and queries (frequent callers, DIDs, the destinations a
//! server rates again for every report). The answers depend only on the dial string (see
//! [`crate::phone::dial_string`]) and the default country, so they are kept for the life of
//! the process.
//!
//! A memo is keyed and valued by plain integers: a dial string of up to [`MAX_KEY_DIGITS`]
//! digits is packed with its `+` and country into a `u64` ([`key`]); longer ones (never an
//! E.164 number) are not remembered. Every thread reads the same memo, locked once per batch:
//! a batch's keys are looked up under one read lock ([`Memo::get_many`]), and the answers it
//! had to compute are kept under one write lock. A number is read once per process, not once
//! per worker thread (memos per thread each held every number a query met, and a run whose
//! partitions landed on a thread that had not met them yet took three times as long). A
//! concurrent map keyed by the number's text and locked per row (DashMap) took a quarter of a
//! warm server's rating query in its shard locks, key comparisons and reference counts.
//!
//! A memo is an open-addressing table of `(key, answer)` word pairs, probed linearly and kept
//! at most half full, so a look-up usually reads one cache line. At the 10M-row store's 2.1M
//! distinct destinations the table is far larger than the caches, and each look-up waits on
//! memory: [`Memo::get_many`] looks up a batch's keys in a loop that does nothing else, which
//! lets the processor wait on many of them at once (a look-up per row between the row's other
//! work, in a hashbrown map, cost ~300 ns and a third of the rating query). Each memo holds at
//! most [`CAPACITY`] answers and is emptied when full (no recency bookkeeping on the hot path).
//! Tables of 2 MiB and more are on huge pages where Linux gives them ([`Words`]).
//!
//! Three kinds: [`E164`] answers, the [`REGIONS`] of numbers, and answers [`DERIVED`] from an
//! `e164` answer (the rate deck's trie node of a rated destination). A server that rates the
//! 10M-row store holds the first and the last, 128 MB each.

use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::sync::{LazyLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use phonenumber::country::Id;

use super::words::Words;

/// Longest dial string (digits, without its `+`) a [`key`] holds: 15 digits are below
/// 2^50, which leaves room in a `u64` for the length, the `+` and the country.
pub(super) const MAX_KEY_DIGITS: usize = 15;

/// Most answers a memo holds before it is emptied: 2^23, in a table at most half full of
/// 16-byte slots, up to 256 MB. The 10M-row store has 2.1M distinct destinations to rate; a
/// memo that cannot hold a query's numbers is emptied before any is met again.
pub(super) const CAPACITY: usize = 1 << 23;

/// The slots of a new memo; it doubles as it fills, up to twice [`CAPACITY`].
const INITIAL_SLOTS: usize = 1 << 12;

/// A slot's key when it holds nothing, and the key of a row without one: no [`key`] is 0
/// (its length bits are never 0).
pub(super) const EMPTY: u64 = 0;

/// A memo's answer as one word (a slot is a key word and an answer word).
pub(super) trait Word: Copy {
    /// The answer as a word.
    fn to_word(self) -> u64;
    /// The answer [`Word::to_word`] made `word`.
    fn from_word(word: u64) -> Self;
}

impl Word for u64 {
    fn to_word(self) -> u64 {
        self
    }
    fn from_word(word: u64) -> Self {
        word
    }
}

/// A region as its position among phonenumber's country Ids plus one; 0 for none.
impl Word for Option<Id> {
    fn to_word(self) -> u64 {
        self.map_or(0, |id| id as u64 + 1)
    }
    fn from_word(word: u64) -> Self {
        static IDS: LazyLock<Vec<Option<Id>>> = LazyLock::new(|| {
            // Every Id is two capital letters: each pair tried once, placed at its position.
            let mut ids = vec![None; 256];
            let letters = b'A'..=b'Z';
            for code in letters
                .clone()
                .flat_map(|a| letters.clone().map(move |b| [a, b]))
            {
                let id = std::str::from_utf8(&code)
                    .ok()
                    .and_then(|c| c.parse::<Id>().ok());
                if let Some(id) = id {
                    ids[id as usize] = Some(id);
                }
            }
            ids
        });
        let position = usize::try_from(word.checked_sub(1)?).ok()?;
        IDS.get(position).copied().flatten()
    }
}

/// A bounded map from a packed key to a packed answer (see the module documentation).
pub(super) struct Memo<V> {
    /// Slot `i` is words `2i` (its key) and `2i + 1` (its answer); a power of two of slots,
    /// at most half holding a key.
    words: Words,
    len: usize,
    /// Seeded per memo, so a key's slot is unpredictable from outside the process.
    hasher: foldhash::fast::RandomState,
    answers: PhantomData<V>,
}

impl<V: Word> Memo<V> {
    fn new() -> Self {
        Self::with_slots(INITIAL_SLOTS)
    }

    fn with_slots(slots: usize) -> Self {
        Self {
            words: Words::zeroed(2 * slots),
            len: 0,
            hasher: foldhash::fast::RandomState::default(),
            answers: PhantomData,
        }
    }

    /// The answer kept for `key` (not [`EMPTY`]).
    #[cfg(test)]
    fn get(&self, key: u64) -> Option<V> {
        probe(self.words.as_slice(), &self.hasher, key).map(V::from_word)
    }

    /// The answer kept for each key, into `found` (cleared first); [`EMPTY`] keys are not
    /// looked up and find nothing. The loop does only the look-ups, so the processor can
    /// wait on many slots' memory at once.
    pub(super) fn get_many(&self, keys: &[u64], found: &mut Vec<Option<V>>) {
        let words = self.words.as_slice();
        found.clear();
        found.extend(keys.iter().map(|&key| {
            if key == EMPTY {
                None
            } else {
                probe(words, &self.hasher, key).map(V::from_word)
            }
        }));
    }

    /// Keeps `answer` for `key` (not [`EMPTY`]), emptying a full memo first.
    pub(super) fn insert(&mut self, key: u64, answer: V) {
        let slots = self.words.as_slice().len() / 2;
        if self.len >= CAPACITY {
            // A new mapping rather than zeroing this one: the kernel zeroes pages as they
            // are touched again.
            self.words = Words::zeroed(2 * slots);
            self.len = 0;
        } else if 2 * (self.len + 1) > slots {
            self.grow();
        }
        let words = self.words.as_mut_slice();
        let mask = words.len() / 2 - 1;
        let mut i = home(&self.hasher, key, mask);
        loop {
            match words[2 * i] {
                EMPTY => {
                    words[2 * i] = key;
                    words[2 * i + 1] = answer.to_word();
                    self.len += 1;
                    return;
                }
                k if k == key => {
                    words[2 * i + 1] = answer.to_word();
                    return;
                }
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Twice the slots, every key moved to its place in them.
    fn grow(&mut self) {
        let bigger = Self::with_slots(self.words.as_slice().len());
        let old = std::mem::replace(self, bigger);
        for slot in old.words.as_slice().chunks_exact(2) {
            if slot[0] != EMPTY {
                self.insert(slot[0], V::from_word(slot[1]));
            }
        }
    }

    /// Keeps each `(key, answer)`, as [`Memo::insert`] does.
    pub(super) fn extend(&mut self, answers: impl IntoIterator<Item = (u64, V)>) {
        for (key, answer) in answers {
            self.insert(key, answer);
        }
    }

    /// Number of slots.
    #[cfg(test)]
    fn slots(&self) -> usize {
        self.words.as_slice().len() / 2
    }
}

/// Where the probe for `key` starts in a table of `mask + 1` slots.
fn home(hasher: &foldhash::fast::RandomState, key: u64, mask: usize) -> usize {
    hasher.hash_one(key) as usize & mask
}

/// The answer word kept for `key` in the slots `words` (see [`Memo`]).
fn probe(words: &[u64], hasher: &foldhash::fast::RandomState, key: u64) -> Option<u64> {
    let mask = words.len() / 2 - 1;
    let mut i = home(hasher, key, mask);
    loop {
        let k = *words.get(2 * i)?;
        if k == key {
            return words.get(2 * i + 1).copied();
        }
        if k == EMPTY {
            return None;
        }
        i = (i + 1) & mask;
    }
}

/// A memo every thread reads: [`read()`] it for a batch's look-ups, [`write()`] a batch's new
/// answers into it.
pub(super) type Shared<V> = LazyLock<RwLock<Memo<V>>>;

/// `e164(number, default_country)` by [`key`], as [`pack_e164`] writes it.
pub(super) static E164: Shared<u64> = LazyLock::new(|| RwLock::new(Memo::new()));

/// The region of a number read without a default country, by [`key`].
pub(super) static REGIONS: Shared<Option<Id>> = LazyLock::new(|| RwLock::new(Memo::new()));

/// A 32-bit answer derived from a number's `e164` answer, under the 32-bit stamp of what it
/// was derived against (stamp in the high half), by [`key`]: see [`super::derived_each`].
pub(super) static DERIVED: Shared<u64> = LazyLock::new(|| RwLock::new(Memo::new()));

/// `memo` locked for look-ups. A panic while it was written leaves at worst an answer half
/// kept, which its key's next look-up finds or misses: still a memo.
pub(super) fn read<V>(memo: &Shared<V>) -> RwLockReadGuard<'_, Memo<V>> {
    memo.read().unwrap_or_else(PoisonError::into_inner)
}

/// `memo` locked to keep new answers (see [`read()`]).
pub(super) fn write<V>(memo: &Shared<V>) -> RwLockWriteGuard<'_, Memo<V>> {
    memo.write().unwrap_or_else(PoisonError::into_inner)
}

/// The memo key of a dial string (`+` and digits, or digits) read in `country`: the digits'
/// value, their count, whether a `+` leads and the country, packed into a `u64`; `None` when
/// the dial string has more than [`MAX_KEY_DIGITS`] digits or is not a dial string.
pub(super) fn key(dial: &str, country: Option<Id>) -> Option<u64> {
    dial_key(dial).map(|key| with_country(key, country))
}

/// [`key`] without its country (see [`with_country`]). `Some` only for a dial string: a
/// caller holding any text learns from it that the text is one.
pub(super) fn dial_key(dial: &str) -> Option<u64> {
    let (plus, digits) = match dial.strip_prefix('+') {
        Some(digits) => (1, digits),
        None => (0, dial),
    };
    if digits.is_empty() || digits.len() > MAX_KEY_DIGITS {
        return None;
    }
    let value = digits_value(digits.as_bytes())?;
    Some(value | (digits.len() as u64) << 50 | plus << 54)
}

/// `'0'` in every byte of a word.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// The value of 1 to 15 ASCII digits ([`MAX_KEY_DIGITS`]), `None` when a byte is not a
/// digit.
///
/// Eight digits at a time ([`eight_digits`]) instead of one multiply-add after another, which
/// every memo look-up of a number waited on. From eight digits on, the words are loaded from
/// the text as they are (the first eight, shifted to hold only the digits before the last
/// eight); building a word in a buffer instead stalled each read of it on the bytes just
/// stored.
fn digits_value(digits: &[u8]) -> Option<u64> {
    let n = digits.len();
    let (Some(first), Some(last)) = (digits.first_chunk::<8>(), digits.last_chunk::<8>()) else {
        // Fewer than eight: each digit placed after `'0'`s.
        let word = digits
            .iter()
            .enumerate()
            .fold(ZEROS >> (8 * n), |word, (i, &b)| {
                word | u64::from(b) << (8 * (8 - n + i))
            });
        return eight_digits(word);
    };
    let low = eight_digits(u64::from_le_bytes(*last))?;
    match n - 8 {
        0 => Some(low),
        high => {
            let word = u64::from_le_bytes(*first) << (8 * (8 - high)) | ZEROS >> (8 * high);
            Some(eight_digits(word)? * 100_000_000 + low)
        }
    }
}

/// The value of eight ASCII digits in a little-endian word (the first digit in the lowest
/// byte), `None` when a byte is not a digit: the digits checked and combined all at once
/// (pairs, then fours, then the eight: Lemire's SWAR parse).
fn eight_digits(word: u64) -> Option<u64> {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    // A byte is a digit when its high nibble is 3 and stays 3 with 6 added (0x30..=0x39);
    // only a byte that fails the first test can carry into the next.
    if word & HIGH_NIBBLES != ZEROS
        || word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES != ZEROS
    {
        return None;
    }
    // Each step joins a lane with the next one up.
    let word = word - ZEROS;
    let word = (word * 10 + (word >> 8)) & 0x00FF_00FF_00FF_00FF;
    let word = (word * 100 + (word >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((word * 10_000 + (word >> 32)) & 0xFFFF_FFFF)
}

/// A [`dial_key`] made the [`key`] of its dial string read in `country`.
pub(super) fn with_country(dial_key: u64, country: Option<Id>) -> u64 {
    // 0 for no country, else the position of its Id (245 of them) plus one: 8 bits.
    let country = country.map_or(0, |c| c as u64 + 1);
    dial_key | country << 55
}

/// The [`pack_e164`] value of a NULL answer.
pub(super) const NULL: u64 = 0;

/// The [`pack_e164`] value of an answer that does not fit: it is computed again each time.
pub(super) const UNPACKED: u64 = u64::MAX;

/// An `e164` answer as a memo value: [`NULL`], the digits after the `+` (at most
/// [`MAX_KEY_DIGITS`]) and their count packed as by [`key`], or [`UNPACKED`].
pub(super) fn pack_e164(answer: Option<&str>) -> u64 {
    let Some(answer) = answer else {
        return NULL;
    };
    match key(answer, None) {
        Some(packed) if packed >> 54 & 1 == 1 => packed & ((1 << 54) - 1),
        _ => UNPACKED,
    }
}

/// Whether the `e164` answer `packed` (by [`pack_e164`]) is the dial string of `key` itself:
/// a `+` and the same digits.
pub(super) fn is_dial_itself(key: u64, packed: u64) -> bool {
    key >> 54 & 1 == 1 && key & ((1 << 54) - 1) == packed
}

/// The `e164` answer packed by [`pack_e164`] (a value other than [`NULL`] and [`UNPACKED`]):
/// `+` and the digits, with their leading zeros, written into `buf`.
pub(super) fn unpack_e164(packed: u64, buf: &mut [u8; MAX_KEY_DIGITS + 1]) -> &str {
    let len = ((packed >> 50) as usize).min(MAX_KEY_DIGITS);
    let mut value = packed & ((1 << 50) - 1);
    buf[0] = b'+';
    for d in buf[1..=len].iter_mut().rev() {
        *d = b'0' + (value % 10) as u8;
        value /= 10;
    }
    // ASCII by construction.
    std::str::from_utf8(&buf[..=len]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memo_starts_over_and_still_answers() {
        let mut memo: Memo<u64> = Memo::new();
        let n = CAPACITY as u64 + 10;
        memo.extend((1..=n).map(|i| (i, i * 2)));
        assert!(memo.len <= CAPACITY);
        assert_eq!(memo.len, 10, "emptied once full, then kept the rest");
        assert!(
            memo.slots() <= 2 * CAPACITY,
            "never more than twice the answers"
        );
        assert_eq!(memo.get(n), Some(n * 2));
        assert_eq!(memo.get(1), None, "emptied");
    }

    #[test]
    fn answers_survive_growth_and_batches_find_what_single_look_ups_find() {
        let mut memo: Memo<u64> = Memo::new();
        // Keys that share their low bits, as the packed keys of one length do.
        let keys: Vec<u64> = (1..=3 * INITIAL_SLOTS as u64)
            .map(|i| i << 20 | 7)
            .collect();
        for &k in &keys {
            memo.insert(k, k + 1);
        }
        assert!(memo.slots() > INITIAL_SLOTS, "grew");
        assert!(2 * memo.len <= memo.slots(), "at most half full");
        memo.insert(keys[0], 42);
        assert_eq!(memo.get(keys[0]), Some(42), "a second insert replaces");
        assert_eq!(memo.len, keys.len());
        let asked = [keys[1], EMPTY, 5, keys[keys.len() - 1]];
        let mut found = vec![Some(0)];
        memo.get_many(&asked, &mut found);
        assert_eq!(
            found,
            vec![
                Some(keys[1] + 1),
                None,
                None,
                Some(keys[keys.len() - 1] + 1)
            ]
        );
        for (&key, got) in asked.iter().zip(&found) {
            assert_eq!(*got, if key == EMPTY { None } else { memo.get(key) });
        }
    }

    #[test]
    fn regions_are_words_and_back() {
        for code in ["NL", "US", "GB", "AC", "ZW", "XK"] {
            let id = crate::phone::country(code);
            assert!(id.is_some(), "{code}");
            assert_eq!(Option::<Id>::from_word(id.to_word()), id, "{code}");
        }
        assert_eq!(Option::<Id>::from_word(None::<Id>.to_word()), None);
        assert_eq!(Option::<Id>::from_word(1 << 40), None);
        let mut memo: Memo<Option<Id>> = Memo::new();
        memo.insert(7, Some(Id::NL));
        memo.insert(8, None);
        assert_eq!(
            (memo.get(7), memo.get(8), memo.get(9)),
            (Some(Some(Id::NL)), Some(None), None)
        );
    }

    #[test]
    fn keys_separate_plus_leading_zeros_and_countries() {
        let keys = [
            key("0612345678", Some(Id::NL)),
            key("612345678", Some(Id::NL)),
            key("00612345678", Some(Id::NL)),
            key("+0612345678", Some(Id::NL)),
            key("0612345678", Some(Id::AC)),
            key("0612345678", Some(Id::ZW)),
            key("0612345678", None),
            key("0", None),
            key("00", None),
            key("+0", None),
        ];
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        assert!(keys.iter().all(Option::is_some));
        assert_eq!(
            key("999999999999999", Some(Id::ZW)).map(|k| k >> 63),
            Some(0)
        );
    }

    #[test]
    fn digits_are_read_eight_at_a_time_as_one_at_a_time() {
        let one_at_a_time = |digits: &str| {
            digits.bytes().try_fold(0u64, |value, b| {
                b.is_ascii_digit().then(|| value * 10 + u64::from(b - b'0'))
            })
        };
        let mut cases: Vec<String> = vec![
            "0".into(),
            "9".into(),
            "00000000".into(),
            "99999999".into(),
            "123456789012345".into(),
            "999999999999999".into(),
            "000000000000001".into(),
            "31612345678".into(),
        ];
        // Every byte value at every position of strings of every length.
        for len in 1..=MAX_KEY_DIGITS {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut bytes = vec![b'5'; len];
                    bytes[at] = b;
                    cases.extend(String::from_utf8(bytes).ok());
                }
            }
        }
        for case in &cases {
            assert_eq!(
                digits_value(case.as_bytes()),
                one_at_a_time(case),
                "{case:?}"
            );
        }
    }

    #[test]
    fn only_dial_strings_that_fit_have_keys() {
        assert!(key("123456789012345", None).is_some());
        assert!(key("+123456789012345", None).is_some());
        assert_eq!(key("1234567890123456", None), None);
        assert_eq!(key("", None), None);
        assert_eq!(key("+", None), None);
        assert_eq!(key("12a", None), None);
        assert_eq!(key("++1", None), None);
    }

    #[test]
    fn e164_answers_pack_and_unpack() {
        for answer in [
            "+31612345678",
            "+1",
            "+390612345678",
            "+800000000001",
            "+999999999999999",
        ] {
            let packed = pack_e164(Some(answer));
            assert_ne!(packed, NULL);
            assert_ne!(packed, UNPACKED);
            let mut buf = [0; MAX_KEY_DIGITS + 1];
            assert_eq!(unpack_e164(packed, &mut buf), answer);
            let itself = key(answer, Some(Id::NL)).unwrap_or(EMPTY);
            assert!(is_dial_itself(itself, packed), "{answer}");
            let national = key(&answer[1..], Some(Id::NL)).unwrap_or(EMPTY);
            assert!(!is_dial_itself(national, packed), "{answer} without +");
        }
        let other = key("+31612345679", None).unwrap_or(EMPTY);
        assert!(!is_dial_itself(other, pack_e164(Some("+31612345678"))));
        assert_eq!(pack_e164(None), NULL);
        // Not remembered: too long, or not `+` and digits.
        assert_eq!(pack_e164(Some("+1234567890123456")), UNPACKED);
        assert_eq!(pack_e164(Some("31612345678")), UNPACKED);
    }
}

//! libphonenumber's metadata (the `phonenumber` crate's default database) with a regular
//! expression cache large enough to hold every pattern of it.
//!
//! `phonenumber` keeps the metadata's patterns as source text and compiles them on use into
//! one process-wide LRU cache of 100 compiled expressions. That is far too small: validating a
//! single `+1` number tries the patterns of the 25 regions sharing that country code, so a
//! batch of numbers from a dozen countries evicts the expressions the next number needs, and
//! nearly every parse or validation recompiles several. Profiled on 30,000 generated
//! destinations, `e164` spent most of its time in `regex_automata`'s compiler, about 0.4 ms
//! per number. [`database`] widens the cache, once, to the number of distinct patterns in the
//! metadata, so each pattern is compiled at most once per process; numbers only ever compile
//! the patterns of the countries they touch.
//!
//! Compiling is most of a fresh process's first pass, and the library compiles every pattern
//! with Unicode classes (`\d` is every script's digits), which makes large automata. Every
//! pattern of the metadata is ASCII and the library only ever matches them against ASCII digit
//! strings (national numbers after its normalisation), where an ASCII-only compile of the same
//! source matches exactly the same spans and groups. [`prepare`] compiles, once per country
//! calling code and on first use, the patterns the library matches when it reads or validates
//! a number of that code, ASCII-only, into the library's cache, which is keyed by the source
//! text alone: the library then finds them there instead of compiling its own. A pattern that
//! does not compile ASCII-only (one that could match a non-ASCII character) is left to the
//! library's own compile.

use std::collections::HashSet;
use std::sync::{LazyLock, OnceLock, PoisonError};

use phonenumber::Type;
use phonenumber::metadata::{DATABASE, Database, Metadata};

/// Patterns `phonenumber` compiles into the same cache outside its metadata (its parser's
/// own helpers), on top of the metadata's.
const SPARE_PATTERNS: usize = 64;

/// Every descriptor kind of [`phonenumber::metadata::Descriptors::get`]; `Unknown` is the
/// general descriptor. (`FixedLineOrMobile` reads the fixed-line descriptor.)
const KINDS: [Type; 16] = [
    Type::Unknown,
    Type::FixedLine,
    Type::Mobile,
    Type::TollFree,
    Type::PremiumRate,
    Type::SharedCost,
    Type::PersonalNumber,
    Type::Voip,
    Type::Pager,
    Type::Uan,
    Type::Emergency,
    Type::Voicemail,
    Type::ShortCode,
    Type::StandardRate,
    Type::Carrier,
    Type::NoInternational,
];

/// The sources of every regular expression of one region's metadata.
fn patterns(meta: &Metadata) -> impl Iterator<Item = &str> {
    let formats = meta
        .formats()
        .iter()
        .chain(meta.international_formats())
        .flat_map(|f| std::iter::once(f.pattern()).chain(f.leading_digits()))
        .map(|re| re.as_str());
    reading_patterns(meta).chain(formats)
}

/// The sources of the regular expressions the library matches to read or validate a number
/// of one region: its descriptors, international and national prefixes and leading digits
/// (not its formats, which only formatting other than E.164 uses).
fn reading_patterns(meta: &Metadata) -> impl Iterator<Item = &str> {
    let descriptors = KINDS
        .iter()
        .filter_map(|&kind| meta.descriptors().get(kind))
        .map(|d| d.national_number().as_str());
    let single = [
        meta.international_prefix(),
        meta.national_prefix_for_parsing(),
        meta.leading_digits(),
    ]
    .into_iter()
    .flatten()
    .map(|re| re.as_str());
    descriptors.chain(single)
}

/// Every region's metadata, by country calling code. (`Database::iter` holds one of the
/// non-geographic codes only: they share the region identifier `001`.)
pub(crate) fn all_metadata(database: &Database) -> impl Iterator<Item = &Metadata> {
    (0..CODES)
        .filter_map(|code| database.by_code(&u16::try_from(code).ok()?))
        .flatten()
}

/// Number of distinct regular expressions in `database`'s metadata.
pub(crate) fn pattern_count(database: &Database) -> usize {
    all_metadata(database)
        .flat_map(patterns)
        .collect::<HashSet<_>>()
        .len()
}

static WIDENED: LazyLock<&'static Database> = LazyLock::new(|| {
    let database: &'static Database = &DATABASE;
    // Each pattern twice: as the library compiles it, and anchored for [`matcher`].
    let wanted = 2 * pattern_count(database) + SPARE_PATTERNS;
    let cache = database.cache();
    let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.capacity() < wanted {
        cache.set_capacity(wanted);
    }
    database
});

/// The `phonenumber` crate's default database, with its regular expression cache widened
/// (see the module documentation). Call it before the first parse or validation: the
/// crate's own functions use the same database and cache.
pub(crate) fn database() -> &'static Database {
    *WIDENED
}

/// Number of possible country calling codes (at most three digits).
pub(crate) const CODES: usize = 1000;

/// Whether each country calling code has metadata, by code.
static KNOWN_CODES: LazyLock<Vec<bool>> = LazyLock::new(|| {
    let mut known = vec![false; CODES];
    for meta in all_metadata(database()) {
        if let Some(slot) = known.get_mut(usize::from(meta.country_code())) {
            *slot = true;
        }
    }
    known
});

/// Whether the metadata has country calling code `code` (`Database::by_code` without its
/// allocation).
pub(crate) fn is_known_code(code: u16) -> bool {
    KNOWN_CODES.get(usize::from(code)).copied().unwrap_or(false)
}

/// Most digits of a country calling code (the library's `MAX_LENGTH_FOR_COUNTRY_CODE`).
const MAX_CODE_DIGITS: usize = 3;

/// The country calling code `digits` start with and its number of digits, as the library
/// extracts it after a `+`: none if the first digit is `0`, else the shortest of the first
/// one to three digits that the metadata has.
pub(crate) fn leading_code(digits: &str) -> Option<(u16, usize)> {
    if digits.starts_with('0') {
        return None;
    }
    (1..=MAX_CODE_DIGITS).find_map(|len| {
        let code: u16 = digits.get(..len)?.parse().ok()?;
        is_known_code(code).then_some((code, len))
    })
}

/// Codes whose patterns [`prepare`] has compiled.
static PREPARED: [OnceLock<()>; CODES] = [const { OnceLock::new() }; CODES];

/// Compiles the patterns the library matches to read or validate numbers of country calling
/// code `code` (every region of it) ASCII-only into the library's cache, once per process and
/// code; see the module documentation. Patterns already there are left as they are.
pub(crate) fn prepare(code: u16) {
    let Some(once) = PREPARED.get(usize::from(code)) else {
        return;
    };
    once.get_or_init(|| {
        let database = database();
        let sources: HashSet<&str> = database
            .by_code(&code)
            .unwrap_or_default()
            .into_iter()
            .flat_map(reading_patterns)
            .collect();
        let cache = database.cache();
        for source in sources {
            // One pattern per lock: other threads reading numbers wait for one compile only.
            let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
            // An error leaves the pattern to the library's own (Unicode) compile.
            let _ = cache.configure(source, |b| b.ignore_whitespace(true).unicode(false));
        }
    });
}

/// The leftmost match of a pattern in a digit string, when it starts at the first digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LeadingMatch {
    /// Where the match ends (0 for an empty match).
    pub(crate) end: usize,
    /// Whether the pattern's last capture group (the whole match when it has none) took part
    /// (only reported by [`Matcher::leading`]).
    pub(crate) last_group: bool,
}

/// What a [`Matcher`] is asked of a digit string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    /// Whether a match starts at 0.
    Starts,
    /// Where it ends.
    End,
    /// Where it ends, and whether its last group took part.
    Groups,
}

/// One of the metadata's patterns, compiled anchored at the first digit (see [`matcher`]),
/// matched without the library cache's lock.
pub(crate) struct Matcher(Box<MatchFn>);

/// A compiled pattern's leading match in a digit string, as far as asked.
type MatchFn = dyn Fn(&str, Ask) -> Option<LeadingMatch> + Send + Sync;

impl Matcher {
    /// The leftmost match in `digits` (as the library's `find` and `captures` report it), if
    /// it starts at 0.
    pub(crate) fn leading(&self, digits: &str) -> Option<LeadingMatch> {
        (self.0)(digits, Ask::Groups)
    }

    /// Where the leftmost match in `digits` ends, if it starts at 0 (the library's
    /// `find(…)` filtered on `start() == 0`), without looking at its groups.
    pub(crate) fn leading_end(&self, digits: &str) -> Option<usize> {
        (self.0)(digits, Ask::End).map(|m| m.end)
    }

    /// Whether the leftmost match in `digits` starts at 0 (the library's
    /// `find(…).map(|m| m.start() == 0)`).
    pub(crate) fn starts(&self, digits: &str) -> bool {
        (self.0)(digits, Ask::Starts).is_some()
    }
}

/// A [`Matcher`] of the pattern `source`, `None` if it does not compile.
///
/// The library asks of a pattern whether its leftmost match starts at the first digit, and
/// where that match ends. The matcher compiles `^(?:source)` instead (same flags: whitespace
/// ignored; ASCII-only if it compiles so, see the module documentation), which finds exactly
/// that match: if some match starts at 0, the leftmost match starts there, and among the
/// matches starting at one position both searches prefer the same one (leftmost-first, the
/// pattern's own priorities; the group added is not capturing, so group numbers stay). A
/// failing digit string is then rejected at its first digits instead of being searched to
/// its end from every position. The compiled expression is kept in the library's cache (under
/// its anchored source, which the library never asks for; [`database`] leaves room for it).
pub(crate) fn matcher(source: &str) -> Option<Matcher> {
    // The newline ends a `#` comment the source might end in (whitespace is ignored).
    let anchored = format!("^(?:{source}\n)");
    let cache = database().cache();
    let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if cache
        .configure(&anchored, |b| b.ignore_whitespace(true).unicode(false))
        .is_err()
    {
        cache
            .configure(&anchored, |b| b.ignore_whitespace(true))
            .ok()?;
    }
    // Present now: `configure` returns the cached expression without compiling.
    let regex = cache
        .configure(&anchored, |b| b.ignore_whitespace(true))
        .ok()?
        .clone();
    Some(Matcher(Box::new(move |digits: &str, ask: Ask| match ask {
        Ask::Starts => regex.is_match(digits).then_some(LeadingMatch {
            end: 0,
            last_group: false,
        }),
        Ask::End => regex.find(digits).map(|m| LeadingMatch {
            end: m.end(),
            last_group: false,
        }),
        Ask::Groups => {
            let captures = regex.captures(digits)?;
            Some(LeadingMatch {
                end: captures.get(0)?.end(),
                last_group: captures.get(captures.len() - 1).is_some(),
            })
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_is_ascii() {
        let database = database();
        for meta in all_metadata(database) {
            for source in patterns(meta) {
                assert!(source.is_ascii(), "{}: {source}", meta.id());
            }
        }
    }

    #[test]
    fn leading_codes_as_the_library_extracts_them() {
        assert_eq!(leading_code("12125550143"), Some((1, 1)));
        assert_eq!(leading_code("441162888442"), Some((44, 2)));
        assert_eq!(leading_code("380441234567"), Some((380, 3)));
        assert_eq!(leading_code("0031612345678"), None);
        assert_eq!(leading_code("99912345"), None);
        assert_eq!(leading_code("8"), None);
        // Non-geographic codes, which share the region `001`.
        assert_eq!(leading_code("80012345678"), Some((800, 3)));
        assert_eq!(leading_code("882130000000"), Some((882, 3)));
        assert_eq!(leading_code("979123456789"), Some((979, 3)));
    }

    #[test]
    fn the_cache_holds_every_pattern() {
        let patterns = pattern_count(database());
        // The metadata has thousands of patterns; the crate's default holds 100.
        assert!(patterns > 1_000, "{patterns}");
        let capacity = database()
            .cache()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .capacity();
        assert!(capacity >= patterns, "{capacity} < {patterns}");
    }
}

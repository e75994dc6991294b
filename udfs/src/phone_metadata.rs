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

use std::collections::HashSet;
use std::sync::{LazyLock, PoisonError};

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
    let descriptors = KINDS
        .iter()
        .filter_map(|&kind| meta.descriptors().get(kind))
        .map(|d| d.national_number().as_str());
    let formats = meta
        .formats()
        .iter()
        .chain(meta.international_formats())
        .flat_map(|f| std::iter::once(f.pattern()).chain(f.leading_digits()))
        .map(|re| re.as_str());
    let single = [
        meta.international_prefix(),
        meta.national_prefix_for_parsing(),
        meta.leading_digits(),
    ]
    .into_iter()
    .flatten()
    .map(|re| re.as_str());
    descriptors.chain(formats).chain(single)
}

/// Number of distinct regular expressions in `database`'s metadata.
pub(crate) fn pattern_count(database: &Database) -> usize {
    database
        .iter()
        .flat_map(patterns)
        .collect::<HashSet<_>>()
        .len()
}

static WIDENED: LazyLock<&'static Database> = LazyLock::new(|| {
    let database: &'static Database = &DATABASE;
    let wanted = pattern_count(database) + SPARE_PATTERNS;
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

#[cfg(test)]
mod tests {
    use super::*;

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

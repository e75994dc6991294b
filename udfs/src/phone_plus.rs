//! Dial strings of `+` and digits read without libphonenumber's parser, where the answer is
//! provably the library's.
//!
//! Half of the destinations a CDR store rates are written `+` and digits. [`crate::phone`]
//! reads such a string as `phonenumber::parse(None, dial)`, kept if its length is possible for
//! its country code or it is valid. For a string that is `+` followed only by ASCII digits `D`,
//! that parse (phonenumber 0.3.10, `parser/mod.rs`, `parser/helper.rs`) does exactly this:
//!
//! 1. The RFC 3966 grammar fails (its `+` prefix swallows every digit and leaves no number);
//!    the natural grammar keeps `+D` whole: no extension pattern matches digits alone.
//! 2. Fewer than 3 digits is no number (`is_viable`, then `TooShortNsn`); a `0` first is an
//!    invalid country code; the country code is the first of `D[..1]`, `D[..2]`, `D[..3]` the
//!    metadata has, else an invalid country code. `N` is the rest.
//! 3. The parser picks one region of the code and may rewrite `N`: it strips a match of the
//!    region's national prefix for parsing that starts at `N`'s first digit (or rewrites `N`
//!    by the region's transform rule), then the region's national prefix if `N` starts with
//!    it (`+44 0 20…` becomes `+44 20…`), and keeps the result unless it is too short.
//! 4. `N` must have 2 to 17 digits, not all zeros, and its value after the leading zeros
//!    (kept as a count: Italy's `+39 06…`) must be below 2^56.
//!
//! [`read`] decides without the library when step 3 provably changes nothing, whichever
//! region the parser would pick: no region of the code has a non-empty national prefix that
//! `N` starts with, and no region's national prefix for parsing matches at `N`'s first digit,
//! except emptily and without a transform that could insert digits. The number is then
//! `+D` itself, which is its E.164 form, and it is kept if its length is one some region of
//! the code lists for a number type (the same test as `phone::is_possible`); it is dropped
//! if no region's general descriptor lists its length while every one lists some (then the
//! library's `is_valid` fails on length alone, as `phone::is_valid` relies on). Anything else
//! is left to the library.

use std::sync::OnceLock;

use phonenumber::metadata::Metadata;

use crate::phone_metadata::{self, CODES, Matcher, database};

/// What the library would make of a `+digits` dial string, as far as [`read`] can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plus {
    /// A number whose E.164 form is the dial string itself.
    Itself,
    /// Not a phone number.
    NotANumber,
    /// Not decided here: ask the library.
    Library,
}

/// Fewest digits after the `+` the library reads as a number.
const MIN_DIGITS: usize = 3;
/// Fewest and most digits of a national number (`MIN_LENGTH_FOR_NSN`, `MAX_LENGTH_FOR_NSN`).
const NATIONAL_DIGITS: std::ops::RangeInclusive<usize> = 2..=17;
/// `NationalNumber` keeps the value after the leading zeros in 56 bits.
const MAX_NATIONAL_VALUE: u64 = 1 << 56;

/// Reads `dial`, `+` and digits, as `phonenumber::parse(None, dial)` followed by
/// `phone::read`'s filter would (see the module documentation).
pub(crate) fn read(dial: &str) -> Plus {
    let Some(digits) = dial.strip_prefix('+') else {
        return Plus::Library;
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Plus::Library;
    }
    if digits.len() < MIN_DIGITS {
        return Plus::NotANumber;
    }
    let Some((code, len)) = phone_metadata::leading_code(digits) else {
        return Plus::NotANumber;
    };
    match (rules(code), digits.get(len..)) {
        (Some(rules), Some(national)) => rules.read(national),
        _ => Plus::Library,
    }
}

/// Whether some region of country calling code `code` lists `length` for a number type
/// (`phone::is_possible` by code and length); `None` for a code [`read`] leaves to the
/// library.
pub(crate) fn is_possible_length(code: u16, length: usize) -> Option<bool> {
    rules(code).map(|r| has(r.possible, length))
}

/// What [`read`] needs to know of the regions of one country calling code.
struct Rules {
    /// Lengths (bit per length) some region lists for some number type.
    possible: u64,
    /// Lengths some region's general descriptor lists.
    general: u64,
    /// Whether some region's general descriptor lists no length (the library does not rule
    /// numbers out by length then).
    general_unlisted: bool,
    /// The regions' non-empty national prefixes.
    national_prefixes: Vec<String>,
    /// The regions' national prefixes for parsing, with whether the region has a transform
    /// rule.
    parsing_prefixes: Vec<(Matcher, bool)>,
}

impl Rules {
    fn of(metas: &[&Metadata]) -> Option<Rules> {
        let mut rules = Rules {
            possible: 0,
            general: 0,
            general_unlisted: false,
            national_prefixes: Vec::new(),
            parsing_prefixes: Vec::new(),
        };
        let mut parsing_sources: Vec<(&str, bool)> = Vec::new();
        for meta in metas {
            let d = meta.descriptors();
            let general = d.general().possible_length();
            rules.general |= mask(general.iter().copied());
            rules.general_unlisted |= general.is_empty();
            rules.possible |= mask(crate::phone::possible_lengths(meta));
            if let Some(prefix) = meta.national_prefix().filter(|p| !p.is_empty())
                && !rules.national_prefixes.iter().any(|p| p == prefix)
            {
                rules.national_prefixes.push(prefix.to_owned());
            }
            if let Some(parsing) = meta.national_prefix_for_parsing() {
                let entry = (
                    parsing.as_str(),
                    meta.national_prefix_transform_rule().is_some(),
                );
                if !parsing_sources.contains(&entry) {
                    parsing_sources.push(entry);
                }
            }
        }
        for (source, transform) in parsing_sources {
            rules
                .parsing_prefixes
                .push((phone_metadata::matcher(source)?, transform));
        }
        Some(rules)
    }

    /// Reads national number `national` (the digits after the country code).
    fn read(&self, national: &str) -> Plus {
        if self.may_rewrite(national) {
            return Plus::Library;
        }
        if !NATIONAL_DIGITS.contains(&national.len()) {
            return Plus::NotANumber;
        }
        let significant = national.trim_start_matches('0');
        match significant.parse::<u64>() {
            Ok(value) if value < MAX_NATIONAL_VALUE => {}
            // All zeros (nothing left to parse) or too large: the library's parse fails.
            _ => return Plus::NotANumber,
        }
        let length = national.len();
        if has(self.possible, length) {
            Plus::Itself
        } else if !self.general_unlisted && !has(self.general, length) {
            Plus::NotANumber
        } else {
            Plus::Library
        }
    }

    /// Whether the parser could strip or rewrite the start of `national` for some region.
    fn may_rewrite(&self, national: &str) -> bool {
        self.national_prefixes
            .iter()
            .any(|p| national.starts_with(p.as_str()))
            || self.parsing_prefixes.iter().any(|(parsing, transform)| {
                // The groups (a slower search) only matter for an empty match and a transform.
                match parsing.leading_end(national) {
                    None => false,
                    Some(end) => {
                        end > 0
                            || (*transform
                                && parsing.leading(national).is_some_and(|m| m.last_group))
                    }
                }
            })
    }
}

/// Bit `l` set for each length `l` below 64 (numbers have at most 17 digits).
fn mask(lengths: impl IntoIterator<Item = u16>) -> u64 {
    lengths
        .into_iter()
        .filter_map(|l| 1u64.checked_shl(u32::from(l)))
        .fold(0, |m, bit| m | bit)
}

fn has(mask: u64, length: usize) -> bool {
    u32::try_from(length)
        .ok()
        .and_then(|l| 1u64.checked_shl(l))
        .is_some_and(|bit| mask & bit != 0)
}

/// [`Rules`] by country calling code, made on first use; `None` when a pattern does not
/// compile (such codes are left to the library).
static RULES: [OnceLock<Option<Rules>>; CODES] = [const { OnceLock::new() }; CODES];

fn rules(code: u16) -> Option<&'static Rules> {
    RULES
        .get(usize::from(code))?
        .get_or_init(|| Rules::of(&database().by_code(&code)?))
        .as_ref()
}

#[cfg(test)]
pub(crate) mod tests;

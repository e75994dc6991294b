//! libphonenumber's validation and region choice, on its own metadata and patterns, without
//! its regular expression cache on the way.
//!
//! Each pattern the library matches goes through its process-wide cache: a mutex, a SipHash
//! of the pattern's source text (hundreds of characters for some descriptors) and an LRU
//! update, for every match. Validating one number tries up to eleven descriptors of each
//! region it considers, so that bookkeeping costs more than the matching itself, and the mutex
//! is shared by every thread. This module holds, per country calling code and made on first
//! use, the same patterns compiled anchored at the first digit (which finds the same leading
//! match, see [`phone_metadata::matcher`]) and follows the library's code step by step
//! (phonenumber 0.3.10, `validator.rs`: `is_valid_with`, `source_for`, `number_type`;
//! `phone_number.rs`: `Country::id`), so every answer is the library's:
//!
//! - A descriptor matches a national number when it lists no lengths or the number's length,
//!   and its pattern's leftmost match starts at the first digit.
//! - A number has a type in a region when the general descriptor matches and one of premium
//!   rate, toll free, shared cost, VoIP, personal number, pager, UAN, voicemail, fixed line or
//!   mobile does.
//! - The region of a number of a code with one region is that region (the first metadata of
//!   the code for the non-geographic `001`); with several, the first region (main region
//!   first) whose leading digits match at the first digit, or, for a region without leading
//!   digits, in which the number has a type; else none.
//! - A number is valid when it has a type in its region.
//!
//! A code whose regions' identifiers the library could not resolve the way it does for the
//! others is left to the library (none is today).

use std::sync::OnceLock;

use phonenumber::PhoneNumber;
use phonenumber::country::Id;
use phonenumber::metadata::{Descriptor, Metadata};

use crate::phone_metadata::{self, CODES, Matcher, database};

/// A descriptor: its possible lengths and national number pattern.
pub(crate) struct Pattern {
    lengths: Vec<u16>,
    matcher: Matcher,
}

impl Pattern {
    /// The lengths and compiled pattern of `descriptor`; `None` if the pattern does not
    /// compile.
    pub(crate) fn of(descriptor: &Descriptor) -> Option<Pattern> {
        Some(Pattern {
            lengths: descriptor.possible_length().to_vec(),
            matcher: phone_metadata::matcher(descriptor.national_number().as_str())?,
        })
    }

    /// The library's `Descriptor::is_match`.
    pub(crate) fn is_match(&self, national: &str) -> bool {
        let listed = self.lengths.is_empty()
            || u16::try_from(national.len()).is_ok_and(|l| self.lengths.contains(&l));
        listed && self.matcher.starts(national)
    }
}

/// One region of a country calling code.
struct Region {
    /// Its identifier as the library reads it (`None` for `001` or an unknown one).
    id: Option<Id>,
    leading_digits: Option<Matcher>,
    general: Pattern,
    /// Premium rate, toll free, shared cost, VoIP, personal number, pager, UAN, voicemail,
    /// fixed line, mobile: those it has.
    types: Vec<Pattern>,
}

impl Region {
    fn of(meta: &Metadata) -> Option<Region> {
        let d = meta.descriptors();
        let types = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .map(Pattern::of)
        .collect::<Option<Vec<_>>>()?;
        let leading_digits = match meta.leading_digits() {
            Some(re) => Some(phone_metadata::matcher(re.as_str())?),
            None => None,
        };
        Some(Region {
            id: meta.id().parse().ok(),
            leading_digits,
            general: Pattern::of(d.general())?,
            types,
        })
    }

    /// The library's `number_type(meta, national) != Type::Unknown`.
    fn has_type(&self, national: &str) -> bool {
        self.general.is_match(national) && self.types.iter().any(|t| t.is_match(national))
    }
}

/// The regions of one country calling code, in the library's order.
struct Regions(Vec<Region>);

impl Regions {
    /// The regions of `code`, if the library resolves each of them to its own metadata.
    fn of(code: u16) -> Option<Regions> {
        let database = database();
        let metas = database.by_code(&code)?;
        let ids = database.region(&code)?;
        if ids.len() != metas.len() {
            return None;
        }
        let single_non_geographic = ids.len() == 1 && ids.first() == Some(&"001");
        for (id, meta) in ids.iter().zip(&metas) {
            // The library's `Left(id)` → `by_id(id.as_ref())` must land on this metadata.
            let resolved = id
                .parse::<Id>()
                .ok()
                .and_then(|id| database.by_id(id.as_ref()))
                .is_some_and(|m| std::ptr::eq(m, *meta));
            if !resolved && !single_non_geographic {
                return None;
            }
        }
        metas
            .into_iter()
            .map(Region::of)
            .collect::<Option<Vec<_>>>()
            .map(Regions)
    }

    /// The library's `source_for(code, national)`, as the region it resolves to.
    fn source(&self, national: &str) -> Option<&Region> {
        if let [only] = self.0.as_slice() {
            return Some(only);
        }
        self.0.iter().find(|r| match &r.leading_digits {
            Some(leading) => leading.starts(national),
            None => r.has_type(national),
        })
    }
}

/// [`Regions`] by country calling code, made on first use; `None` for codes left to the
/// library.
static REGIONS: [OnceLock<Option<Regions>>; CODES] = [const { OnceLock::new() }; CODES];

fn regions(code: u16) -> Option<&'static Regions> {
    REGIONS
        .get(usize::from(code))?
        .get_or_init(|| Regions::of(code))
        .as_ref()
}

/// `number.is_valid()`, the library's answer.
pub(crate) fn is_valid(number: &PhoneNumber) -> bool {
    // The library validates the national number with its leading zeros.
    let national = number.national().to_string();
    is_valid_national(number.code().value(), &national).unwrap_or_else(|| number.is_valid())
}

/// The library's `is_valid` of the number of country calling code `code` and national
/// number `national` (its digits with the leading zeros the library keeps, as
/// `number.national().to_string()` writes them); `None` for a code left to the library.
pub(crate) fn is_valid_national(code: u16, national: &str) -> Option<bool> {
    let regions = regions(code)?;
    Some(
        regions
            .source(national)
            .is_some_and(|r| r.has_type(national)),
    )
}

/// `number.country().id()`, the library's answer: the region of the number (by its national
/// number without leading zeros), `None` for a non-geographic code or no region.
pub(crate) fn region_id(number: &PhoneNumber) -> Option<Id> {
    let Some(regions) = regions(number.code().value()) else {
        return number.country().id();
    };
    let national = number.national().value().to_string();
    regions.source(&national)?.id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone;

    /// Every country code of the metadata with national numbers of lengths 1 to 17 starting
    /// with each digit, and a few real numbers: validity and region are the library's.
    #[test]
    fn validity_and_region_are_the_librarys() {
        let mut codes: Vec<u16> = phone_metadata::all_metadata(database())
            .map(|m| m.country_code())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let mut x: u64 = 7;
        let mut checked = 0;
        let mut valid = 0;
        for code in codes {
            for first in 0..10u64 {
                for len in 1..=15 {
                    let mut dial = format!("+{code}{first}");
                    for _ in 1..len {
                        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        dial.push(char::from(b'0' + u8::try_from((x >> 33) % 10).unwrap()));
                    }
                    let Ok(number) = phonenumber::parse(None, &dial) else {
                        continue;
                    };
                    assert_eq!(is_valid(&number), number.is_valid(), "{dial}");
                    assert_eq!(region_id(&number), number.country().id(), "{dial}");
                    checked += 1;
                    valid += usize::from(number.is_valid());
                }
            }
        }
        assert!(
            checked > 10_000 && valid > 100,
            "{checked} numbers, {valid} valid"
        );
        for raw in [
            "+12125550143",
            "+16846331234",
            "+12684641234",
            "+441481712345",
            "+447700900123",
            "+31612345678",
            "+390612345678",
            "+79123456789",
            "+77012345678",
            "+80012345678",
            "+5999123456",
            "+262262123456",
            "+262269612345",
        ] {
            let number = phonenumber::parse(None, phone::dial_string(raw).unwrap()).unwrap();
            assert_eq!(is_valid(&number), number.is_valid(), "{raw}");
            assert_eq!(region_id(&number), number.country().id(), "{raw}");
        }
    }
}

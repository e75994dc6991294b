//! Digit strings read in a default country (the national reading of [`crate::phone`]) without
//! libphonenumber's parser, step by step as the parser does it, so the answer is the library's.
//!
//! `phone::e164` reads a dial string of digits `D` (no `+`) in default region `R` first as
//! `phonenumber::parse(Some(R), D)`. For ASCII digits that parse (phonenumber 0.3.10,
//! `parser/mod.rs`, `parser/helper.rs`, `validator.rs`) does exactly this, with `R`'s
//! metadata throughout (also when the digits turn out to carry another country's code):
//!
//! 1. The RFC 3966 grammar takes `D` whole as the national part (no `+`, no parameters); fewer
//!    than 2 digits is no number (`is_viable`).
//! 2. International prefix: if the leftmost match of `R`'s international prefix pattern
//!    starts at `D`'s first digit and the digit after it is not `0`, it is stripped and the
//!    country code is read from the rest: fewer than 3 digits left is no number; the code is
//!    the first of the rest's first one to three digits that the metadata has, else no
//!    number. Otherwise the code is `R`'s, and `D` loses `R`'s code when it starts with it and
//!    either `R`'s general descriptor does not match `D` or the general descriptor's length
//!    test (`validator::length`) does not call `D` possible.
//! 3. National prefix (`helper::national_number`, then `parse_with`): with a national prefix
//!    for parsing whose leftmost match starts at the first digit, the match is stripped (the
//!    library's "keep if stripping makes a viable number unviable" test compares the number
//!    with itself, so it never keeps it), unless `R` has a transform rule and the pattern's
//!    last group took part: then the digits are rewritten by the rule (left to the library
//!    here). Without such a pattern the national prefix is stripped if the number starts with
//!    it. Then the national prefix is stripped once more if the result starts with it. The
//!    result replaces the number unless the length test calls it too short.
//! 4. The national number must have 2 to 17 digits, not all zeros, and its value after the
//!    leading zeros must be below 2^56.
//!
//! [`read`] gives the country code and national number of step 4 (what `code()` and
//! `national().to_string()` of the library's answer are), or that there is none; it leaves
//! to the library only a transform rule that applies, a default region without metadata, and
//! patterns that do not compile.

use std::sync::OnceLock;

use phonenumber::country::Id;
use phonenumber::metadata::Metadata;

use crate::phone_metadata::{self, Matcher, database};
use crate::phone_valid::Pattern;

/// What `phonenumber::parse(Some(region), digits)` gives, as far as [`read`] can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum National {
    /// The parse fails.
    NoNumber,
    /// The parsed number: its country calling code and national number (digits, with the
    /// leading zeros the library keeps).
    Number {
        /// The country calling code.
        code: u16,
        /// The national number as `national().to_string()` writes it.
        national: String,
    },
    /// Not decided here: ask the library.
    Library,
}

/// Fewest digits the parser takes as a number (`MIN_LENGTH_FOR_NSN`, `is_viable`).
const MIN_DIGITS: usize = 2;
/// Fewest and most digits of a national number (`MIN_LENGTH_FOR_NSN`, `MAX_LENGTH_FOR_NSN`).
const NATIONAL_DIGITS: std::ops::RangeInclusive<usize> = 2..=17;
/// Most digits left after an international prefix that are still too few (the parser's
/// `len() <= MIN_LENGTH_FOR_NSN`).
const MAX_TOO_SHORT_AFTER_IDD: usize = 2;
/// `NationalNumber` keeps the value after the leading zeros in 56 bits.
const MAX_NATIONAL_VALUE: u64 = 1 << 56;

/// The library's `validator::length(meta, number, Type::Unknown)`, as far as the parser
/// looks at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    /// `IsPossible` or `IsPossibleLocalOnly`.
    Possible,
    /// `TooShort`.
    TooShort,
    /// `InvalidLength` or `TooLong`.
    Other,
}

/// What the parser uses of one default region's metadata.
struct Rules {
    /// The region's country calling code, and as text.
    code: u16,
    code_text: String,
    /// International (IDD) prefix pattern.
    idd: Option<Matcher>,
    /// National prefix (trunk prefix), possibly empty.
    national_prefix: Option<String>,
    /// National prefix for parsing, and whether a transform rule exists.
    parsing: Option<(Matcher, bool)>,
    /// The general descriptor.
    general: Pattern,
    /// The general descriptor's possible lengths (in the metadata's order) and local-only
    /// lengths.
    general_lengths: Vec<u16>,
    local_lengths: Vec<u16>,
}

impl Rules {
    fn of(meta: &Metadata) -> Option<Rules> {
        let general = meta.descriptors().general();
        let idd = match meta.international_prefix() {
            Some(re) => Some(phone_metadata::matcher(re.as_str())?),
            None => None,
        };
        let parsing = match meta.national_prefix_for_parsing() {
            Some(re) => Some((
                phone_metadata::matcher(re.as_str())?,
                meta.national_prefix_transform_rule().is_some(),
            )),
            None => None,
        };
        Some(Rules {
            code: meta.country_code(),
            code_text: meta.country_code().to_string(),
            idd,
            national_prefix: meta.national_prefix().map(str::to_owned),
            parsing,
            general: Pattern::of(general)?,
            general_lengths: general.possible_length().to_vec(),
            local_lengths: general.possible_local_length().to_vec(),
        })
    }

    /// `validator::length(meta, number, Type::Unknown)` for a national number of `len` digits.
    fn length(&self, len: usize) -> Length {
        let Ok(len) = u16::try_from(len) else {
            return Length::Other;
        };
        let (Some(&minimum), Some(&maximum)) =
            (self.general_lengths.first(), self.general_lengths.last())
        else {
            return Length::Other;
        };
        if self.local_lengths.contains(&len) || len == minimum {
            Length::Possible
        } else if len < minimum {
            Length::TooShort
        } else if len > maximum {
            Length::Other
        } else if self.general_lengths.contains(&len) {
            Length::Possible
        } else {
            Length::Other
        }
    }

    /// Whether `digits` start with the national prefix (an empty one included).
    fn starts_with_national_prefix(&self, digits: &str) -> Option<usize> {
        let prefix = self.national_prefix.as_deref()?;
        digits.starts_with(prefix).then_some(prefix.len())
    }

    /// Steps 1 to 4 of the module documentation.
    fn read(&self, digits: &str) -> National {
        if digits.len() < MIN_DIGITS {
            return National::NoNumber;
        }
        let after_idd = self
            .idd
            .as_ref()
            .and_then(|idd| idd.leading_end(digits))
            .and_then(|end| digits.get(end..))
            .filter(|rest| !rest.starts_with('0'));
        let (code, number) = match after_idd {
            Some(rest) => {
                if rest.len() <= MAX_TOO_SHORT_AFTER_IDD {
                    return National::NoNumber;
                }
                let Some((code, len)) = phone_metadata::leading_code(rest) else {
                    return National::NoNumber;
                };
                (code, &rest[len..])
            }
            None => {
                let own_code = digits.starts_with(self.code_text.as_str())
                    && (!self.general.is_match(digits)
                        || self.length(digits.len()) != Length::Possible);
                let number = if own_code {
                    &digits[self.code_text.len()..]
                } else {
                    digits
                };
                (self.code, number)
            }
        };
        let Some(potential) = self.strip_national_prefix(number) else {
            return National::Library;
        };
        let national = if self.length(potential.len()) == Length::TooShort {
            number
        } else {
            potential
        };
        if !NATIONAL_DIGITS.contains(&national.len()) {
            return National::NoNumber;
        }
        match national.trim_start_matches('0').parse::<u64>() {
            Ok(value) if value < MAX_NATIONAL_VALUE => National::Number {
                code,
                national: national.to_owned(),
            },
            // All zeros (nothing left to parse) or too large: the library's parse fails.
            _ => National::NoNumber,
        }
    }

    /// Step 3: `number` after `helper::national_number` and the national prefix strip that
    /// follows it; `None` when a transform rule would rewrite it.
    fn strip_national_prefix<'a>(&self, number: &'a str) -> Option<&'a str> {
        let mut potential = number;
        match &self.parsing {
            None => {
                if let Some(len) = self.starts_with_national_prefix(potential) {
                    potential = &potential[len..];
                }
            }
            // Without a transform rule the groups do not matter (they only name a carrier).
            Some((parsing, false)) => {
                if let Some(end) = parsing.leading_end(potential) {
                    potential = potential.get(end..)?;
                }
            }
            Some((parsing, true)) => {
                if let Some(found) = parsing.leading(potential) {
                    if found.last_group {
                        return None;
                    }
                    potential = potential.get(found.end..)?;
                }
            }
        }
        if let Some(len) = self.starts_with_national_prefix(potential) {
            potential = &potential[len..];
        }
        Some(potential)
    }

    /// Whether `dial` starts with the national prefix or the international prefix
    /// (`phone::dialled_nationally`).
    fn dialled_nationally(&self, dial: &str) -> bool {
        self.starts_with_national_prefix(dial).is_some()
            || self
                .idd
                .as_ref()
                .is_some_and(|idd| idd.leading_end(dial).is_some())
    }
}

/// Number of slots of [`RULES`]: one per pair of capital letters.
const SLOTS: usize = 26 * 26;

/// [`Rules`] by region (see [`slot`]), made on first use; `None` for a region left to the
/// library.
static RULES: [OnceLock<Option<Rules>>; SLOTS] = [const { OnceLock::new() }; SLOTS];

/// The slot of a region identifier of two capital letters.
fn slot(region: Id) -> Option<usize> {
    match region.as_ref().as_bytes() {
        &[a @ b'A'..=b'Z', b @ b'A'..=b'Z'] => {
            Some(usize::from(a - b'A') * 26 + usize::from(b - b'A'))
        }
        _ => None,
    }
}

fn rules(region: Id) -> Option<&'static Rules> {
    RULES
        .get(slot(region)?)?
        .get_or_init(|| Rules::of(database().by_id(region.as_ref())?))
        .as_ref()
}

/// Reads `dial`, ASCII digits without `+`, as `phonenumber::parse(Some(region), dial)` does
/// (see the module documentation).
pub(crate) fn read(dial: &str, region: Id) -> National {
    if !dial.bytes().all(|b| b.is_ascii_digit()) {
        return National::Library;
    }
    match rules(region) {
        Some(rules) => rules.read(dial),
        None => National::Library,
    }
}

/// Whether `dial` starts with `region`'s national prefix or international prefix; `None`
/// for a region [`read`] leaves to the library.
pub(crate) fn dialled_nationally(dial: &str, region: Id) -> Option<bool> {
    rules(region).map(|r| r.dialled_nationally(dial))
}

#[cfg(test)]
mod tests;

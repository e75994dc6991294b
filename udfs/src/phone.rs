//! Reading phone numbers as CDRs write them, on top of the `phonenumber` crate (Google's
//! libphonenumber metadata) and `keshvar` (ISO 3166 country data with CLDR names).
//!
//! CDR sources write the same number in many ways: a carrier as E.164 digits without `+`
//! (`12125550143`), a PBX in national format (`0612345678`) or as a SIP URI
//! (`sip:0612345678@pbx`), a contact center with `+` and spaces (`+31 20 123 4567`).
//! [`dial_string`] reduces all of them to what was dialled (`+` and digits), and [`read`]
//! turns that into a number, by these rules:
//!
//! 1. With a leading `+`: the international number, if its length fits its country code
//!    (libphonenumber's "possible"; unallocated ranges of real countries are kept).
//! 2. Without `+`, two readings are considered: (a) as dialled in the default country
//!    (national format with or without its trunk prefix, or after that country's
//!    international access code such as `00` or `011`) and (b) as an international number
//!    whose `+` was left out (carrier style; a leading `00` is taken as the `+`).
//!    The first *valid* reading wins, (a) before (b): `0612345678` in NL is `+31612345678`,
//!    `12125550143` in NL is `+12125550143`, and `2125550143` in US is `+12125550143`.
//! 3. If neither is valid, (b) is taken if it is *possible* (a carrier's `44123456789` is
//!    `+44123456789`), then (a) if it is possible and the number starts with the country's
//!    trunk prefix or international access code (`0…` in NL).
//! 4. Anything else is not a phone number: extensions (`201`), short codes (`112`,
//!    `116000`), names (`sip:alice@pbx`), `*`/`#` feature codes.
//!
//! Without a default country only reading (b) exists, which is how [`crate::numbers`]
//! reads numbers for `number_country` and `cdr_type`.
//!
//! Every answer is the library's, but not always by way of its parser and validator: a
//! reading of `+` and digits that the parser would keep as written is decided by the private
//! `phone_plus` module from the metadata's lengths and prefixes, and validity and regions are
//! computed by `phone_valid` on the library's patterns without its cache's bookkeeping. Both
//! modules say why their answers are the library's; their tests compare them with it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use phonenumber::PhoneNumber;
use phonenumber::country::Id;
use phonenumber::metadata::Metadata;

use crate::phone_metadata::{self, database};
use crate::phone_national::{self, National};
use crate::phone_plus::{self, Plus};
use crate::phone_valid;

/// What was dialled: `+` (optional) and digits, from a number as a CDR writes it.
///
/// Takes the user part of a `sip:`, `sips:` or `tel:` URI (also inside `Name <…>`), drops
/// URI parameters, a parenthesised trunk prefix `(0)` and visual separators (space, `-`,
/// `.`, `(`, `)`, `/`). `None` when
/// anything else remains (letters, `*`, `#`, a `+` that does not lead) or no digit does.
pub fn dial_string(raw: &str) -> Option<String> {
    if is_plain_dial(raw) {
        return Some(raw.to_owned());
    }
    let mut s = raw.trim();
    if let (Some(open), Some(close)) = (s.find('<'), s.rfind('>'))
        && open < close
    {
        s = &s[open + 1..close];
    }
    if let Some(user) = uri_user(s) {
        s = user;
    }
    let mut out = String::with_capacity(s.len());
    // `i` counts the characters read, as if every `(0)` had been removed first: `+31 (0)20 …`
    // (the trunk prefix in parentheses is not dialled internationally), and a `+` is only
    // read as the first of them.
    let (mut chars, mut i) = (s.char_indices(), 0);
    while let Some((at, c)) = chars.next() {
        if s[at..].starts_with("(0)") {
            chars.nth(1);
            continue;
        }
        match c {
            '0'..='9' => out.push(c),
            '+' if i == 0 => out.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' | '\t' | '\u{a0}' => {}
            _ => return None,
        }
        i += 1;
    }
    out.bytes().any(|b| b.is_ascii_digit()).then_some(out)
}

/// [`dial_string`] of `raw`, borrowed from it when no character needs dropping: `raw` is a
/// dial string already, or a bare `sip:`, `sips:` or `tel:` URI whose user part is one
/// (`sip:498963999729@pbx.example.net`, an eighth of the generated destinations).
pub fn dial(raw: &str) -> Option<Cow<'_, str>> {
    if is_plain_dial(raw) {
        return Some(Cow::Borrowed(raw));
    }
    // Without a `<`, `dial_string` reads the URI from the start, as this does.
    if !raw.contains('<')
        && let Some(user) = uri_user(raw).filter(|user| is_plain_dial(user))
    {
        return Some(Cow::Borrowed(user));
    }
    dial_string(raw).map(Cow::Owned)
}

/// The user part of `uri` if it starts with a `sip:`, `sips:` or `tel:` scheme (any case):
/// up to its host (`@`) or parameters (`;`, `?`).
fn uri_user(uri: &str) -> Option<&str> {
    let rest = ["sips:", "sip:", "tel:"].iter().find_map(|scheme| {
        let head = uri.as_bytes().get(..scheme.len())?;
        // An ASCII scheme matched: the rest starts on a character boundary.
        head.eq_ignore_ascii_case(scheme.as_bytes())
            .then(|| uri.get(scheme.len()..))
            .flatten()
    })?;
    rest.split(['@', ';', '?']).next()
}

/// Whether `raw` is already a dial string (see [`dial_string`]): ASCII digits, at least one,
/// after an optional leading `+`, and nothing else.
pub fn is_plain_dial(raw: &str) -> bool {
    let digits = raw.strip_prefix('+').unwrap_or(raw).as_bytes();
    !digits.is_empty() && all_digits(digits)
}

/// Whether every byte is an ASCII digit, eight at a time: a byte is one when its high nibble
/// is 3 and stays 3 with 6 added (no carry can cross bytes once every high nibble is 3).
fn all_digits(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    const SIXES: u64 = 0x0606_0606_0606_0606;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        if word & HIGH != THREES || word.wrapping_add(SIXES) & HIGH != THREES {
            return false;
        }
    }
    chunks.remainder().iter().all(u8::is_ascii_digit)
}

/// Loads libphonenumber's metadata, which the number functions otherwise load on their first
/// use (about 0.1 s, once per process): a server calls it as it starts.
pub fn load_metadata() {
    database();
}

/// The country of an ISO 3166 alpha-2 code (any case), as libphonenumber knows it.
pub fn country(alpha2: &str) -> Option<Id> {
    alpha2.trim().to_ascii_uppercase().parse().ok()
}

/// Reads a dial string (see [`dial_string`]) by the rules of this module.
pub fn read(dial: &str, default_country: Option<Id>) -> Option<PhoneNumber> {
    // Widens the library's regex cache before its first use, and compiles the patterns of
    // the country codes this reading will likely touch (see `phone_metadata`).
    database();
    prepare_codes(dial, default_country);
    if dial.starts_with('+') {
        // `is_possible` (lengths only) first: the same answer as `is_valid || is_possible`,
        // without the library's pattern matching for the numbers of a possible length.
        return phonenumber::parse(None, dial)
            .ok()
            .filter(|n| is_possible(n) || is_valid(n));
    }
    let national = default_country.and_then(|c| phonenumber::parse(Some(c), dial).ok());
    let international = match dial.strip_prefix("00") {
        Some(rest) => phonenumber::parse(None, format!("+{rest}")),
        None => phonenumber::parse(None, format!("+{dial}")),
    }
    .ok();
    let valid = |n: &Option<PhoneNumber>| n.as_ref().filter(|n| is_valid(n)).cloned();
    valid(&national)
        .or_else(|| valid(&international))
        .or_else(|| international.filter(is_possible))
        .or_else(|| {
            let c = default_country?;
            national.filter(|n| dialled_nationally(dial, c) && is_possible(n))
        })
}

/// `dial` read by [`read`] and written in E.164 (`+` and digits).
///
/// The international reading (`+` and the digits, a leading `00` taken as the `+`) is tried
/// by the private `phone_plus::read` first, which gives the library's answer without its
/// parser for most numbers. Written with `+`, or without a default country, that reading is the whole
/// answer; otherwise it decides only after the national reading is found invalid (rule 2 of
/// the module documentation). The national reading is the private `phone_national::read`'s,
/// the library's parse step by step, and the library's own parse where that module leaves it.
pub fn e164(dial: &str, default_country: Option<Id>) -> Option<String> {
    if dial.starts_with('+') {
        return international_e164(Cow::Borrowed(dial), dial, None);
    }
    let plus = format!("+{}", dial.strip_prefix("00").unwrap_or(dial));
    let Some(country) = default_country else {
        return international_e164(Cow::Owned(plus), dial, None);
    };
    let fallback = match phone_national::read(dial, country) {
        National::NoNumber => None,
        National::Number { code, national } => {
            let (Some(valid), Some(dialled)) = (
                phone_valid::is_valid_national(code, &national),
                phone_national::dialled_nationally(dial, country),
            ) else {
                return library_e164(dial, plus, country);
            };
            let e164 = format!("+{code}{national}");
            if valid {
                return Some(e164);
            }
            (dialled && possible_length(code, national.len())).then_some(e164)
        }
        National::Library => return library_e164(dial, plus, country),
    };
    international_e164(Cow::Owned(plus), dial, Some((country, fallback)))
}

/// [`e164`] of `dial` in `country` with the national reading by the library's parser.
fn library_e164(dial: &str, plus: String, country: Id) -> Option<String> {
    database();
    prepare_codes(dial, Some(country));
    let national = phonenumber::parse(Some(country), dial).ok();
    if let Some(valid) = national.as_ref().filter(|n| is_valid(n)) {
        return Some(e164_text(valid));
    }
    let fallback = national
        .filter(|n| dialled_nationally(dial, country) && is_possible(n))
        .map(|n| e164_text(&n));
    international_e164(Cow::Owned(plus), dial, Some((country, fallback)))
}

/// [`e164`] once the national reading, if any, is known to be invalid: the international
/// reading `plus` of `dial` if [`phone_plus::read`] decides it, else [`read`]'s answer. With
/// `national`, a country's possible national reading in E.164 (or none) stands in for a
/// reading that is not a number.
fn international_e164(
    plus: Cow<'_, str>,
    dial: &str,
    national: Option<(Id, Option<String>)>,
) -> Option<String> {
    match phone_plus::read(&plus) {
        Plus::Itself => Some(plus.into_owned()),
        Plus::NotANumber => national.and_then(|(_, n)| n),
        Plus::Library => read(dial, national.map(|(c, _)| c)).map(|n| e164_text(&n)),
    }
}

/// A number read by the library in E.164: what its `format().mode(Mode::E164)` writes (`+`,
/// the country code, the national number with its leading zeros), without the format
/// selection that formatter runs first for the other modes.
fn e164_text(number: &PhoneNumber) -> String {
    format!("+{}{}", number.code().value(), number.national())
}

/// Compiles ([`phone_metadata::prepare`]) the patterns of the country codes a reading of
/// `dial` touches: the default country's, and those `dial`'s digits start with (also after
/// a `00`). Only speed depends on it: a pattern not prepared is compiled by the library.
fn prepare_codes(dial: &str, default_country: Option<Id>) {
    if let Some(meta) = default_country.and_then(|c| database().by_id(c.as_ref())) {
        phone_metadata::prepare(meta.country_code());
    }
    let digits = dial.trim_start_matches('+');
    for digits in [Some(digits), digits.strip_prefix("00")]
        .into_iter()
        .flatten()
    {
        if let Some((code, _)) = phone_metadata::leading_code(digits) {
            phone_metadata::prepare(code);
        }
    }
}

/// Whether `dial` starts with `country`'s trunk prefix or international access code.
fn dialled_nationally(dial: &str, country: Id) -> bool {
    database().by_id(country.as_ref()).is_some_and(|m| {
        m.national_prefix().is_some_and(|p| dial.starts_with(p))
            || m.international_prefix()
                .and_then(|re| re.find(dial))
                .is_some_and(|m| m.start() == 0)
    })
}

/// Whether the national number's length is one that some number type of its country code
/// has (libphonenumber's "possible number", by length only).
fn is_possible(number: &PhoneNumber) -> bool {
    national_length(number).is_some_and(|len| possible_length(number.code().value(), len.into()))
}

/// Whether some number type of a region of country calling code `code` lists `length`.
fn possible_length(code: u16, length: usize) -> bool {
    if let Some(possible) = phone_plus::is_possible_length(code, length) {
        return possible;
    }
    database().by_code(&code).is_some_and(|metas| {
        metas
            .iter()
            .any(|m| possible_lengths(m).any(|l| usize::from(l) == length))
    })
}

/// libphonenumber's `is_valid` (as [`phone_valid`] computes it), skipped when the length
/// alone rules it out.
///
/// The library validates a number against one region of its country code, and its first
/// test is that region's general descriptor, which fails whenever the descriptor lists
/// possible lengths and the national number's length is not among them. So a number whose
/// length no region of its country code lists (while every one lists some) is invalid
/// without a pattern being matched; any other number is left to the library. The answer is
/// always the library's.
fn is_valid(number: &PhoneNumber) -> bool {
    let Some(len) = national_length(number) else {
        return phone_valid::is_valid(number);
    };
    let ruled_out = database()
        .by_code(&number.code().value())
        .is_some_and(|metas| {
            metas.iter().all(|m| {
                let lengths = m.descriptors().general().possible_length();
                !lengths.is_empty() && !lengths.contains(&len)
            })
        });
    !ruled_out && phone_valid::is_valid(number)
}

/// Number of digits of the national number as the library validates it (leading zeros
/// included).
fn national_length(number: &PhoneNumber) -> Option<u16> {
    let national = number.national();
    let digits = national.value().checked_ilog10().map_or(1, |l| l + 1);
    u16::try_from(u32::from(national.zeros()) + digits).ok()
}

/// The possible lengths of every number type (fixed line, mobile, …) of one region.
pub(crate) fn possible_lengths(meta: &Metadata) -> impl Iterator<Item = u16> + '_ {
    let d = meta.descriptors();
    [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
    .flat_map(|desc| desc.possible_length().iter().copied())
}

/// The region (ISO 3166 alpha-2, as libphonenumber's region id) of a number: the region
/// whose numbering plan it is valid in, else the main region of its country code (`+1` →
/// US, `+44` → GB); `None` for non-geographic codes such as `+800`.
pub fn region(number: &PhoneNumber) -> Option<Id> {
    phone_valid::region_id(number).or_else(|| {
        let regions = database().region(&number.code().value())?;
        regions.first()?.parse().ok()
    })
}

/// Regions libphonenumber has that ISO 3166-1 lacks, with their English names.
const NON_ISO_REGIONS: &[(&str, &str)] = &[
    ("AC", "Ascension Island"),
    ("TA", "Tristan da Cunha"),
    ("XK", "Kosovo"),
];

static COUNTRY_NAMES: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    let mut names: HashMap<String, &'static str> = keshvar::CountryIterator::new()
        .map(|c| {
            let name = c.translations().get("en").copied();
            (
                c.alpha2().to_string(),
                name.unwrap_or_else(|| c.iso_short_name()),
            )
        })
        .collect();
    for (code, name) in NON_ISO_REGIONS {
        names.entry((*code).to_owned()).or_insert(name);
    }
    names
});

/// English (CLDR) name of a region: `United States`, `United Kingdom`, `Netherlands`.
pub fn country_name(region: Id) -> Option<&'static str> {
    COUNTRY_NAMES.get(region.as_ref()).copied()
}

/// The European Economic Area as `cdr_type` applies it: the 27 EU members, Iceland,
/// Liechtenstein and Norway, plus the EU territories that libphonenumber gives their own
/// region (Åland under Finland; the French outermost regions Guadeloupe, French Guiana,
/// Martinique, Réunion, Mayotte and Saint-Martin). Not the UK, Switzerland, the Faroes,
/// Greenland, Gibraltar, Svalbard, the Channel Islands or the Isle of Man.
pub const EEA: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", // EU 27
    "IS", "LI", "NO", // EFTA members of the EEA
    "AX", "GF", "GP", "MF", "MQ", "RE", "YT", // EU territories with their own region
];

/// Whether `region` is in the [`EEA`].
pub fn is_eea(region: Id) -> bool {
    EEA.contains(&region.as_ref())
}

/// `Local` for a call within one region, `Origin based` between two EEA regions, else
/// `International`.
pub fn cdr_type(source: Id, destination: Id) -> &'static str {
    if source == destination {
        "Local"
    } else if is_eea(source) && is_eea(destination) {
        "Origin based"
    } else {
        "International"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(raw: &str, default: Option<&str>) -> Option<String> {
        e164(&dial_string(raw)?, default.and_then(country))
    }

    #[test]
    fn dial_strings() {
        assert_eq!(
            dial_string(" +31 (0)20-123.4567 ").as_deref(),
            Some("+31201234567")
        );
        // Every `(0)` goes, left to right, before the `+` is placed: as `replace("(0)", "")`.
        for (raw, dial) in [
            ("(0)+31 20", Some("+3120")),
            ("((0)0)", Some("0")),
            ("+31(0)(0)6", Some("+316")),
            ("(0)", None),
            ("1+2", None),
            ("0 (0)\u{a0}6", Some("06")),
        ] {
            assert_eq!(dial_string(raw).as_deref(), dial, "{raw}");
        }
        assert_eq!(
            dial_string("sip:4412345678@host").as_deref(),
            Some("4412345678")
        );
        assert_eq!(
            dial_string("SIP:+4412345678@host;user=phone").as_deref(),
            Some("+4412345678")
        );
        assert_eq!(
            dial_string("\"Desk\" <sips:201@pbx>").as_deref(),
            Some("201")
        );
        assert_eq!(
            dial_string("tel:+1-212-555-0143;ext=7").as_deref(),
            Some("+12125550143")
        );
        assert_eq!(dial_string("sip:alice@pbx"), None);
        assert_eq!(dial_string("*97"), None);
        assert_eq!(dial_string("12+3"), None);
        assert_eq!(dial_string("+"), None);
        assert_eq!(dial_string(""), None);
        // Multi-byte text where a scheme would end is no URI (and no panic).
        assert_eq!(dial_string("ééé"), None);
        assert_eq!(dial_string("té1"), None);
    }

    #[test]
    fn dial_borrows_what_needs_no_copy_and_agrees_with_dial_string() {
        for raw in [
            "31201234567",
            "+31201234567",
            "sip:498963999729@pbx.example.net",
            "SIPS:+4412345678;user=phone",
            "tel:0612345678",
            "sip:112@10.0.0.1",
        ] {
            assert!(matches!(dial(raw), Some(Cow::Borrowed(_))), "{raw}");
        }
        for raw in [
            "31201234567",
            "+31201234567",
            "0123456789012345678901",
            "0123456789a",
            "01234567+",
            "/12345678",
            ":12345678",
            "sip:498963999729@pbx.example.net",
            "sip:123@host<sip:456@pbx>",
            " sip:123@host",
            "sip:123 ",
            "sip:1-2@host",
            "sip:@host",
            "sip:alice@pbx",
            "tel:+",
            "\"Desk\" <sips:201@pbx>",
            " +31 (0)20-123.4567 ",
            "ééé",
            "+",
            "",
        ] {
            assert_eq!(dial(raw).map(Cow::into_owned), dial_string(raw), "{raw}");
        }
    }

    #[test]
    fn plain_dials_are_digits_after_an_optional_plus() {
        for yes in ["1", "+1", "0123456789", "+0123456789012345678", "99999999"] {
            assert!(is_plain_dial(yes), "{yes}");
        }
        // Every byte next to a digit's range, at every place of an eight-byte word (a `+`
        // only after the first).
        for place in 0..9 {
            for odd in [b'/', b':', b' ', b'+', 0x80, 0xF9, 0x2A, 0x3A, 0x3F] {
                if place == 0 && odd == b'+' {
                    continue;
                }
                let mut bytes = b"123456789".to_vec();
                bytes[place] = odd;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                assert!(!is_plain_dial(&text), "{text:?}");
            }
        }
        assert!(!is_plain_dial(""));
        assert!(!is_plain_dial("+"));
    }

    #[test]
    fn readings() {
        assert_eq!(e("0612345678", Some("NL")).as_deref(), Some("+31612345678"));
        assert_eq!(e("612345678", Some("nl")).as_deref(), Some("+31612345678"));
        assert_eq!(
            e("0031612345678", Some("NL")).as_deref(),
            Some("+31612345678")
        );
        assert_eq!(
            e("01131612345678", Some("US")).as_deref(),
            Some("+31612345678")
        );
        assert_eq!(e("0031612345678", None).as_deref(), Some("+31612345678"));
        assert_eq!(
            e("12125550143", Some("NL")).as_deref(),
            Some("+12125550143")
        );
        assert_eq!(e("2125550143", Some("US")).as_deref(), Some("+12125550143"));
        assert_eq!(
            e("447700900123", Some("NL")).as_deref(),
            Some("+447700900123")
        );
        assert_eq!(e("44123456789", None).as_deref(), Some("+44123456789"));
        assert_eq!(
            e("+31 20 123 4567", Some("US")).as_deref(),
            Some("+31201234567")
        );
        assert_eq!(
            e("0612345678", None),
            None,
            "national format needs a country"
        );
        for short in ["201", "2001", "12345", "112", "911", "116000"] {
            assert_eq!(e(short, Some("NL")), None, "{short}");
        }
        assert_eq!(e("+201", None), None);
        assert_eq!(e("+999123456", None), None);
    }

    #[test]
    fn regions_and_names() {
        let r = |raw: &str| region(&read(&dial_string(raw).unwrap(), None).unwrap());
        assert_eq!(r("+12125550143"), Some(Id::US));
        assert_eq!(r("+16846331234"), Some(Id::AS));
        assert_eq!(r("+44123456789"), Some(Id::GB), "invalid +44: main region");
        assert_eq!(r("+80012345678"), None);
        assert_eq!(country_name(Id::US), Some("United States"));
        assert_eq!(country_name(Id::GB), Some("United Kingdom"));
        assert_eq!(country_name(Id::NL), Some("Netherlands"));
        assert_eq!(country_name(Id::XK), Some("Kosovo"));
    }

    #[test]
    fn eea_agrees_with_keshvar() {
        let members: Vec<String> = keshvar::CountryIterator::new()
            .filter(|c| c.eea_member())
            .map(|c| c.alpha2().to_string())
            .collect();
        assert_eq!(members.len(), 30);
        assert!(
            members.iter().all(|m| EEA.contains(&m.as_str())),
            "{members:?}"
        );
        assert!(!is_eea(Id::GB) && !is_eea(Id::CH) && !is_eea(Id::SJ) && !is_eea(Id::FO));
        for code in EEA {
            assert!(
                country(code).is_some(),
                "{code} is not a libphonenumber region"
            );
        }
    }

    #[test]
    fn cdr_types() {
        assert_eq!(cdr_type(Id::US, Id::US), "Local");
        assert_eq!(cdr_type(Id::US, Id::GB), "International");
        assert_eq!(cdr_type(Id::NL, Id::DE), "Origin based");
        assert_eq!(cdr_type(Id::GB, Id::FR), "International");
        assert_eq!(cdr_type(Id::NL, Id::CH), "International");
    }
}

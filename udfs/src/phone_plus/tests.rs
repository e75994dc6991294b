//! The fast reading against the library's: hand-picked edges, every country code with
//! generated national numbers, and (ignored, ad hoc) every number of a file.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use phonenumber::Mode;
use phonenumber::country::Id;

use super::*;
use crate::{phone, phone_metadata};

/// `e164` as it was before the fast reading: the library's parse, `phone::read`'s rules and
/// the library's own E.164 formatting.
pub(crate) fn library_e164(dial: &str, default: Option<Id>) -> Option<String> {
    phone::read(dial, default).map(|n| n.format().mode(Mode::E164).to_string())
}

/// The dial string the fast reading sees for `dial` read with `default`, if any.
fn international(dial: &str, default: Option<Id>) -> Option<String> {
    if dial.starts_with('+') {
        Some(dial.to_owned())
    } else if default.is_none() {
        Some(format!("+{}", dial.strip_prefix("00").unwrap_or(dial)))
    } else {
        None
    }
}

/// Asserts that `phone::e164` gives the library's answer for `raw` in each default country.
fn assert_same(raw: &str) {
    let Some(dial) = phone::dial_string(raw) else {
        return;
    };
    for default in [None, Some(Id::NL), Some(Id::US), Some(Id::GB)] {
        assert_eq!(
            phone::e164(&dial, default),
            library_e164(&dial, default),
            "{raw:?} in {default:?} (fast reading: {:?})",
            international(&dial, default).map(|d| read(&d))
        );
    }
}

/// Numbers whose reading needs thought: trunk prefixes after the country code, Italian
/// leading zeros, NANP numbers with a leading 1, lengths at and past the limits,
/// non-geographic codes, codes shared by several regions, national prefixes for parsing
/// with transform rules (Argentina, Brazil, Mexico).
const EDGES: &[&str] = &[
    "+441162888442",
    "+440201234567",
    "+44 (0)20 1234 5678",
    "+4402012345678",
    "+44 20 1234 5678",
    "+39061234567",
    "+390612345678",
    "+39 3123456789",
    "+3906",
    "+39000",
    "+112125550143",
    "+12125550143",
    "+1212555014",
    "+121255501433",
    "+1 684 633 1234",
    "+1 268 464 1234",
    "+11",
    "+10000000000",
    "+80012345678",
    "+8001234567",
    "+80012345678901",
    "+882130000000",
    "+88213000000",
    "+883510012345",
    "+979123456789",
    "+870773111632",
    "+80812345678",
    "+74951234567",
    "+77012345678",
    "+78123456789",
    "+784951234567",
    "+7 940 123 45 67",
    "+59991234567",
    "+5997123456",
    "+599 9 123 4567",
    "+31012345678",
    "+3161234567",
    "+31612345678",
    "+31612345678901",
    "+310612345678",
    "+0044201234567",
    "+00",
    "+1",
    "+12",
    "+123",
    "+999123456",
    "+4400",
    "+44000",
    "+54 9 11 1234 5678",
    "+54 11 1234 5678",
    "+540111234 5678",
    "+52 1 55 1234 5678",
    "+52 55 1234 5678",
    "+55 11 91234 5678",
    "+55 0 11 91234 5678",
    "+61 4 1234 5678",
    "+61 0 4 1234 5678",
    "+64 3 331 6005",
    "+49 30 123456",
    "+49 0 30 123456",
    "+4930123456789012345",
    "+3312345678901234567",
    "+331234567890123456",
    "+33 0 1 23 45 67 89",
    "+262 262 12 34 56",
    "+262 269 12 34 56",
    "+590 590 12 34 56",
    "+47 79 12 34 56",
    "+358 18 12345",
    "+358 0 9 1234567",
    "+290 8 1234",
    "+212 5 2212 3456",
    "+86 10 1234 5678",
    "+86 0 10 1234 5678",
    "+91 11 2345 6789",
    "+380 44 123 4567",
    "+380 0 44 123 4567",
    "+41 44 123 45 67",
    "+32 2 123 45 67",
    "+34 91 123 45 67",
    "+57 1 234 5678",
    "+57 03 1 234 5678",
    "+225 01 23 45 67 89",
    "+36 06 1 234 5678",
    "+43 0 1 234567",
    "+7 8 495 123 4567",
    "+98 0 21 1234 5678",
    "12125550143",
    "0031612345678",
    "0612345678",
    "00",
    "0044",
    "4930123456",
    "441162888442",
];

#[test]
fn edges_read_as_the_library_does() {
    for raw in EDGES {
        assert_same(raw);
    }
}

#[test]
fn decisions_on_edges() {
    let fast = |raw: &str| read(&phone::dial_string(raw).unwrap());
    // Digits kept as they are: E.164 is the dial string.
    assert_eq!(fast("+441162888442"), Plus::Itself);
    assert_eq!(fast("+39061234567"), Plus::Itself, "Italian leading zero");
    assert_eq!(fast("+12125550143"), Plus::Itself);
    assert_eq!(fast("+80012345678"), Plus::Itself, "non-geographic +800");
    // The parser may strip a trunk prefix after the country code: the library decides.
    assert_eq!(fast("+440201234567"), Plus::Library);
    assert_eq!(
        fast("+112125550143"),
        Plus::Library,
        "NANP national prefix 1"
    );
    assert_eq!(fast("+31012345678"), Plus::Library);
    // No number at all.
    assert_eq!(fast("+0044201234567"), Plus::NotANumber);
    assert_eq!(fast("+12"), Plus::NotANumber);
    assert_eq!(fast("+999123456"), Plus::NotANumber, "no country code 999");
    assert_eq!(
        fast("+4930123456789012345678"),
        Plus::NotANumber,
        "too long"
    );
}

/// A small deterministic generator (SplitMix64) for the generated numbers.
pub(crate) struct Digits(pub(crate) u64);

impl Digits {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    pub(crate) fn digit(&mut self) -> char {
        char::from(b'0' + u8::try_from(self.next() % 10).unwrap())
    }
}

/// Every country code of the metadata with national numbers of every length from 1 to 18,
/// starting with each digit: the fast reading agrees with the library on all of them.
#[test]
fn every_country_code_reads_as_the_library_does() {
    let mut codes: Vec<u16> = phone_metadata::all_metadata(database())
        .map(|m| m.country_code())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert!(codes.len() > 200, "{}", codes.len());
    let mut digits = Digits(42);
    let mut decided = 0;
    let mut total = 0;
    for code in codes {
        for first in '0'..='9' {
            for len in 1..=18 {
                let mut dial = format!("+{code}{first}");
                while dial.len() < len + 1 + code.to_string().len() {
                    dial.push(digits.digit());
                }
                let expected = library_e164(&dial, None);
                let got = phone::e164(&dial, None);
                assert_eq!(got, expected, "{dial} ({:?})", read(&dial));
                total += 1;
                decided += usize::from(read(&dial) != Plus::Library);
            }
        }
    }
    // Random digits are mostly of lengths no type lists but that only patterns rule out:
    // those go to the library; the rest are decided here.
    assert!(decided * 5 > total, "{decided} of {total}");
}

/// Ad hoc check: every line of the file named by `CDRLAKE_NUMBERS` (numbers as stored, e.g.
/// the distinct sources and destinations of a generated store) read with and without the
/// fast readings, without a default country, in NL and in US; prints the counts. Run with
/// `CDRLAKE_NUMBERS=file cargo test --workspace --lib -- --ignored --nocapture differential`.
#[test]
#[ignore = "needs a file of numbers (CDRLAKE_NUMBERS)"]
fn differential_on_a_file() {
    let path = std::env::var("CDRLAKE_NUMBERS").expect("CDRLAKE_NUMBERS names a file");
    let text = std::fs::read_to_string(&path).expect("readable numbers file");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let (mut fast_time, mut library_time) = (Duration::ZERO, Duration::ZERO);
    let lines: Vec<&str> = text.lines().collect();
    for raw in &lines {
        let Some(dial) = phone::dial_string(raw) else {
            *counts.entry("no dial string".into()).or_default() += 1;
            continue;
        };
        for default in [None, Some(Id::NL), Some(Id::US)] {
            let started = Instant::now();
            let expected = library_e164(&dial, default);
            library_time += started.elapsed();
            let started = Instant::now();
            let got = phone::e164(&dial, default);
            fast_time += started.elapsed();
            let how = match (international(&dial, default).map(|d| read(&d)), default) {
                (Some(decision), _) => format!("{decision:?}"),
                (None, Some(country)) => match crate::phone_national::read(&dial, country) {
                    crate::phone_national::National::Library => "national reading (library)",
                    _ => "national reading (without the parser)",
                }
                .to_owned(),
                (None, None) => "no reading".to_owned(),
            };
            let country =
                default.map_or_else(|| "no default".to_owned(), |c| c.as_ref().to_owned());
            let key = format!("{country} / {how}");
            *counts.entry(key).or_default() += 1;
            if got != expected {
                mismatches.push(format!("{raw:?} {default:?}: {got:?} != {expected:?}"));
            }
        }
    }
    println!("{} numbers from {path}", lines.len());
    for (key, n) in &counts {
        println!("{n:>9}  {key}");
    }
    println!("library: {library_time:?}, with the fast reading: {fast_time:?} (warm cache)");
    println!("{} mismatches", mismatches.len());
    for m in mismatches.iter().take(20) {
        println!("  {m}");
    }
    assert!(mismatches.is_empty());
}

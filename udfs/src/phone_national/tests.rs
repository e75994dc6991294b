//! The national reading against the library's parser and `e164` against the library path:
//! every region as default with generated digit strings of every shape the parser
//! distinguishes (trunk prefix, international prefixes, the region's own code, bare).

use phonenumber::country::Id;

use super::*;
use crate::phone;
use crate::phone_plus::tests::{Digits, library_e164};

/// `count` more generated digits on `dial`.
fn push(digits: &mut Digits, dial: &mut String, count: usize) {
    for _ in 0..count {
        dial.push(digits.digit());
    }
}

/// Every region of the metadata that has an identifier of its own.
fn regions() -> Vec<Id> {
    let mut ids: Vec<Id> = phone_metadata::all_metadata(database())
        .filter_map(|m| m.id().parse().ok())
        .collect();
    ids.sort_by_key(|id| id.as_ref().to_owned());
    ids.dedup();
    ids
}

/// The leading digits the parser treats differently in `region`: none, the trunk prefix
/// (also twice), the region's country code (also after its trunk prefix), common
/// international prefixes (also followed by the region's code and by `0`).
fn prefixes(region: Id) -> Vec<String> {
    let meta = database().by_id(region.as_ref()).unwrap();
    let code = meta.country_code().to_string();
    let mut out = vec![
        String::new(),
        code.clone(),
        "00".into(),
        "000".into(),
        "011".into(),
        "0011".into(),
        "810".into(),
        "1".into(),
        "8".into(),
        "0".into(),
        format!("00{code}"),
        format!("011{code}"),
        format!("0{code}"),
    ];
    if let Some(p) = meta.national_prefix() {
        out.push(p.to_owned());
        out.push(format!("{p}{p}"));
        out.push(format!("{p}{code}"));
    }
    out.sort();
    out.dedup();
    out
}

/// The generated dial strings of `region`: each prefix, then a first digit and random digits
/// up to every total length from 1 to 18.
fn dials(region: Id, digits: &mut Digits) -> Vec<String> {
    let mut out = Vec::new();
    for prefix in prefixes(region) {
        for first in '0'..='9' {
            for len in 1..=18 {
                let mut dial = format!("{prefix}{first}");
                if dial.len() < len {
                    let more = len - dial.len();
                    push(digits, &mut dial, more);
                }
                out.push(dial);
            }
        }
    }
    out
}

/// [`read`] is `phonenumber::parse(Some(region), dial)` on every region and every generated
/// dial string; hardly any is left to the library.
#[test]
fn reads_as_the_parser_does_in_every_region() {
    let mut digits = Digits(7);
    let (mut total, mut left) = (0usize, 0usize);
    let ids = regions();
    assert!(ids.len() > 200, "{}", ids.len());
    for region in ids {
        for dial in dials(region, &mut digits) {
            let parsed = phonenumber::parse(Some(region), &dial).ok();
            let expected = parsed.map(|n| (n.code().value(), n.national().to_string()));
            total += 1;
            match read(&dial, region) {
                National::Library => left += 1,
                National::NoNumber => assert_eq!(expected, None, "{dial} in {region:?}"),
                National::Number { code, national } => {
                    assert_eq!(expected, Some((code, national)), "{dial} in {region:?}");
                }
            }
        }
    }
    // Only regions with a transform rule (AR, BR, MX, …) leave readings to the library.
    assert!(left * 50 < total, "{left} of {total} left to the library");
}

/// `e164` in every region of the generated national and international dial strings of a
/// few regions, and of no-`+` international numbers of every country code: the library's.
#[test]
fn e164_in_every_region_is_the_librarys() {
    let mut digits = Digits(11);
    let sample = [
        Id::NL,
        Id::US,
        Id::GB,
        Id::DE,
        Id::IT,
        Id::AR,
        Id::BR,
        Id::RU,
    ];
    let mut dialled: Vec<String> = Vec::new();
    for region in sample {
        dialled.extend(dials(region, &mut digits));
    }
    for region in regions() {
        let own = dials(region, &mut digits);
        for dial in own.iter().chain(&dialled).step_by(7) {
            assert_eq!(
                phone::e164(dial, Some(region)),
                library_e164(dial, Some(region)),
                "{dial} in {region:?} ({:?})",
                read(dial, region)
            );
        }
    }
}

/// No-`+` numbers of every country code, first digit and length, in a few default regions.
#[test]
fn international_without_plus_is_the_librarys() {
    let mut codes: Vec<u16> = phone_metadata::all_metadata(database())
        .map(|m| m.country_code())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let mut digits = Digits(3);
    for code in codes {
        for first in '0'..='9' {
            for len in 1..=15 {
                let mut dial = format!("{code}{first}");
                push(&mut digits, &mut dial, len - 1);
                for region in [Id::NL, Id::US, Id::GB, Id::DE, Id::AU] {
                    for dial in [dial.clone(), format!("00{dial}")] {
                        assert_eq!(
                            phone::e164(&dial, Some(region)),
                            library_e164(&dial, Some(region)),
                            "{dial} in {region:?} ({:?})",
                            read(&dial, region)
                        );
                    }
                }
            }
        }
    }
}

/// The readings that decide a branch, as the parser gives them.
#[test]
fn decisions() {
    let number = |code: u16, national: &str| National::Number {
        code,
        national: national.into(),
    };
    // NL: trunk prefix stripped; the own code kept when the rest is not a number then.
    assert_eq!(read("0612345678", Id::NL), number(31, "612345678"));
    assert_eq!(read("612345678", Id::NL), number(31, "612345678"));
    assert_eq!(read("31612345678", Id::NL), number(31, "612345678"));
    // International prefix, then another country's code; NL's trunk prefix rule applies.
    assert_eq!(read("0044201234567", Id::NL), number(44, "201234567"));
    assert_eq!(read("00440201234567", Id::NL), number(44, "201234567"));
    // An IDD followed by 0 is not one.
    assert_eq!(read("000123456", Id::NL), number(31, "0123456"));
    // Too short after the IDD, unknown code after it, one digit.
    assert_eq!(read("0044", Id::NL), National::NoNumber);
    assert_eq!(read("00999123456", Id::NL), National::NoNumber);
    assert_eq!(read("1", Id::NL), National::NoNumber);
    // Carrier style international numbers read nationally first.
    assert_eq!(read("441234567890", Id::NL), number(31, "441234567890"));
    // US: trunk prefix 1 stripped, 011 the IDD.
    assert_eq!(read("12125550143", Id::US), number(1, "2125550143"));
    assert_eq!(read("01131612345678", Id::US), number(31, "612345678"));
    // AR's transform rule is left to the library.
    assert_eq!(read("0111512345678", Id::AR), National::Library);
}

//! `is_excluded_number(tenant, number)`: numbers whose calls are never charged: emergency
//! short codes, the harmonised European services of social value `116xxx`, and the tenant's
//! own `excluded_numbers` prefixes. `is_service_number(tenant, number)`: the first two only,
//! the calls the hosted-PBX list hides (SPEC 4 `call_data_records`), which shows an `0800`
//! call that a tenant merely chose not to charge. Both read numbers through one code path
//! ([`dialled`], [`Screen`]) and differ only in the tenant's own entries.
//!
//! The test is on the number *as dialled* (see [`phone::dial_string`]: URI user part,
//! separators removed), never on its E.164 normalisation, because a short code only exists
//! as a short code: `112` and `116000` are excluded, while Leicester's `0116 …` and
//! `+44 116 …`, `+1 911 …` or `00112…` are ordinary long numbers that merely contain the
//! digits. A number with a leading `+` is therefore never a short code. The tenant's
//! entries are prefixes, or whole-number patterns with `?` and `*` (see [`matches_entry`]).
//!
//! Emergency codes are the common set [`EMERGENCY_NUMBERS`] plus the national ones of the
//! tenant's `default_country` from [`NATIONAL_EMERGENCY_NUMBERS`] (libphonenumber's
//! short-number metadata is not part of the `phonenumber` crate).

use std::borrow::Cow;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::args::{Arg, Kind, Rows, arg, settings_udf};
use crate::text_ids::TextIds;
use crate::{Settings, TenantSettings, phone};

/// Emergency short codes excluded for every tenant.
pub const EMERGENCY_NUMBERS: &[&str] = &["112", "911", "999", "000", "110", "118", "119"];

/// National emergency and urgent-service short codes beyond [`EMERGENCY_NUMBERS`], by ISO
/// 3166 alpha-2 country of the tenant (after the Microsoft Teams emergency-number reference
/// and national regulators' lists).
pub const NATIONAL_EMERGENCY_NUMBERS: &[(&str, &[&str])] = &[
    (
        "AT",
        &["122", "128", "133", "140", "141", "142", "144", "147"],
    ),
    ("AU", &["106"]),
    ("BE", &["100", "101", "1733"]),
    ("BR", &["190", "192", "193"]),
    ("CA", &["988"]),
    ("CH", &["117", "143", "144", "145", "147", "1414"]),
    ("CN", &["120", "122"]),
    ("DK", &["114", "1813"]),
    ("ES", &["061", "062", "080", "085", "091", "092"]),
    ("FR", &["15", "17", "18", "114", "115", "191", "196"]),
    ("GB", &["101", "105", "111"]),
    ("GR", &["100", "166", "199"]),
    ("IN", &["100", "101", "102", "108"]),
    ("IT", &["113", "115", "1530"]),
    ("NO", &["113"]),
    ("NZ", &["111"]),
    ("PL", &["997", "998"]),
    ("PT", &["117"]),
    ("RU", &["101", "102", "103", "104"]),
    ("SE", &["1177", "11414"]),
    ("US", &["988"]),
    ("ZA", &["10111", "10177"]),
];

/// Most characters of a short code of [`EMERGENCY_NUMBERS`], [`NATIONAL_EMERGENCY_NUMBERS`]
/// and the `116xxx` services: longer dial strings are no short code.
const MAX_SHORT_CODE_LEN: usize = 6;

/// Whether `dial` (a dial string) is an emergency code of `country` or a `116xxx` service.
pub fn is_short_code_excluded(dial: &str, country: &str) -> bool {
    is_short_code(dial, national_codes(country))
}

/// The national emergency codes of `country` (ISO 3166 alpha-2, any case), besides
/// [`EMERGENCY_NUMBERS`].
fn national_codes(country: &str) -> &'static [&'static str] {
    NATIONAL_EMERGENCY_NUMBERS
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(country))
        .map_or(&[], |(_, codes)| codes)
}

/// Whether `dial` is an emergency code (common or in `national`) or a `116xxx` service.
fn is_short_code(dial: &str, national: &[&str]) -> bool {
    if dial.len() > MAX_SHORT_CODE_LEN {
        return false;
    }
    let is_116 =
        dial.len() == 6 && dial.starts_with("116") && dial.bytes().all(|b| b.is_ascii_digit());
    is_116 || EMERGENCY_NUMBERS.contains(&dial) || national.contains(&dial)
}

/// Whether `dial` matches one entry of a tenant's `excluded_numbers`. Separators in the
/// entry are ignored. An entry without wildcards is a prefix (`0800` excludes
/// `0800 1234567`); an entry with wildcards is matched against the whole dialled number,
/// `?` standing for one character and `*` for any run (`0900*`, `+3190???????`, `*999`).
pub fn matches_entry(dial: &str, entry: &str) -> bool {
    Entry::new(entry).is_some_and(|entry| entry.matches(dial))
}

/// One entry of a tenant's `excluded_numbers`, its separators removed (see
/// [`matches_entry`]); an entry of separators only matches nothing and has none.
enum Entry {
    Prefix(Vec<u8>),
    Pattern(Vec<u8>),
}

impl Entry {
    fn new(entry: &str) -> Option<Self> {
        let kept: Vec<u8> = entry
            .bytes()
            .filter(|b| !matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'\t'))
            .collect();
        if kept.iter().any(|b| matches!(b, b'*' | b'?')) {
            Some(Self::Pattern(kept))
        } else {
            (!kept.is_empty()).then_some(Self::Prefix(kept))
        }
    }

    fn matches(&self, dial: &str) -> bool {
        match self {
            Self::Prefix(prefix) => dial.as_bytes().starts_with(prefix),
            Self::Pattern(pattern) => wildcard(dial.as_bytes(), pattern),
        }
    }
}

/// Glob match of all of `text` against `pattern` (`?` one byte, `*` any run), linear time
/// with single-star backtracking.
fn wildcard(text: &[u8], pattern: &[u8]) -> bool {
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// `number` as the exclusion rules read it: its dial string, or the trimmed text when it has
/// none; borrowed from `number` when it can be (see [`phone::dial`]).
pub fn dialled(number: &str) -> Cow<'_, str> {
    phone::dial(number).unwrap_or_else(|| Cow::Owned(number.trim().to_owned()))
}

/// A tenant's exclusion rules made ready to test numbers: its country's emergency codes
/// found and its `excluded_numbers` entries read once, not for every row.
pub struct Screen {
    national: &'static [&'static str],
    entries: Vec<Entry>,
}

impl Screen {
    /// The rules of a tenant with `settings`.
    pub fn new(settings: &TenantSettings) -> Self {
        Self {
            national: national_codes(&settings.default_country),
            entries: settings
                .excluded_numbers
                .iter()
                .filter_map(|entry| Entry::new(entry))
                .collect(),
        }
    }

    /// The rules of each of `tenants` (a batch's distinct tenants, [`TextIds::values`]), in
    /// their order: rows of several tenants interleave, so each is made ready once a batch.
    pub(crate) fn for_tenants(settings: &Settings, tenants: &[&str]) -> Vec<Self> {
        tenants
            .iter()
            .map(|t| Self::new(settings.for_tenant(t)))
            .collect()
    }

    /// Whether `number` is an emergency code of the tenant's `default_country` or a `116xxx`
    /// service, as dialled (see [`dialled`]); the tenant's `excluded_numbers` play no part.
    pub fn is_service(&self, number: &str) -> bool {
        is_short_code(&dialled(number), self.national)
    }

    /// Whether `number` is excluded: a service number (see [`Self::is_service`]) or one
    /// matching an entry of the tenant's `excluded_numbers`.
    pub fn is_excluded(&self, number: &str) -> bool {
        let dial = dialled(number);
        is_short_code(&dial, self.national) || self.entries.iter().any(|e| e.matches(&dial))
    }
}

/// Whether `number` is an emergency or `116xxx` service number for a tenant with
/// `settings` (see [`Screen::is_service`]).
pub fn is_service(settings: &TenantSettings, number: &str) -> bool {
    Screen::new(settings).is_service(number)
}

/// Whether `number` is excluded for a tenant with `settings` (see [`Screen::is_excluded`]).
pub fn is_excluded(settings: &TenantSettings, number: &str) -> bool {
    Screen::new(settings).is_excluded(number)
}

/// Evaluates `test(screen, number)` for every row of `(tenant, number)`: a NULL number gives
/// NULL, a NULL tenant the default settings.
fn eval_numbers(
    all: &Settings,
    rows: &Rows,
    test: impl Fn(&Screen, &str) -> bool,
) -> Result<ArrayRef> {
    let (tenants, numbers) = (rows.texts(0)?, rows.texts(1)?);
    let tenant_ids = TextIds::of(&tenants, rows.len());
    let screens = Screen::for_tenants(all, &tenant_ids.values);
    let default = Screen::new(&all.default);
    let values = BooleanBuffer::collect_bool(rows.len(), |r| {
        numbers.get(r).is_some_and(|number| {
            let screen = screens.get(tenant_ids.ids[r] as usize);
            test(screen.unwrap_or(&default), number)
        })
    });
    Ok(Arc::new(BooleanArray::new(values, rows.nulls_of(&[1])?)))
}

settings_udf! {
#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Whether calls to a number are excluded from charging: the number as dialled is an emergency short code (112, 911, 999, 000, 110, 118, 119 and the tenant country's others), a harmonised European service 116 + three digits, or matches one of the tenant's excluded_numbers (a prefix; an entry with ? or * is a whole-number pattern). Judged on the dialled digits: 0116... and +44116... are not excluded. A NULL tenant uses the default settings; a NULL number gives NULL.",
    syntax_example = "is_excluded_number(tenant, number)",
    sql_example = r#"```sql
> select is_excluded_number('acme', '112'), is_excluded_number('acme', '116000'), is_excluded_number('acme', '01161234567');
true | true | false
```"#,
    argument(
        name = "tenant",
        description = "Tenant whose settings (excluded_numbers, default_country) apply."
    ),
    argument(name = "number", description = "Number as dialled (cdrs.destination).")
)]
/// `is_excluded_number(tenant, number)` → `BOOLEAN`; see [`is_excluded`].
    IsExcludedNumber, name: "is_excluded_number", args: ARGS, required: 2, returns: DataType::Boolean,
    strict: false, eval: |settings, rows| eval_numbers(settings, rows, Screen::is_excluded)
}

const ARGS: &[Arg] = &[arg("tenant", Kind::Text), arg("number", Kind::Text)];

settings_udf! {
#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Whether a number is an emergency or harmonised service number, the calls the hosted-PBX list (call_data_records) never shows: the number as dialled is an emergency short code (112, 911, 999, 000, 110, 118, 119 and the tenant country's others) or a harmonised European service 116 + three digits. is_excluded_number without the tenant's excluded_numbers: an 0800 number a tenant does not charge is no service number. Judged on the dialled digits: 0116... and +44116... are not service numbers. A NULL tenant uses the default settings; a NULL number gives NULL.",
    syntax_example = "is_service_number(tenant, number)",
    sql_example = r#"```sql
> select is_service_number('acme', '112'), is_service_number('acme', '116000'), is_service_number('acme', '08001234567');
true | true | false
```"#,
    argument(
        name = "tenant",
        description = "Tenant whose default_country applies (its national emergency codes)."
    ),
    argument(name = "number", description = "Number as dialled (cdrs.destination).")
)]
/// `is_service_number(tenant, number)` → `BOOLEAN`; see [`is_service`].
    IsServiceNumber, name: "is_service_number", args: ARGS, required: 2, returns: DataType::Boolean,
    strict: false, eval: |settings, rows| eval_numbers(settings, rows, Screen::is_service)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(country: &str, excluded: &[&str]) -> TenantSettings {
        TenantSettings {
            default_country: country.into(),
            excluded_numbers: excluded.iter().map(|s| (*s).to_owned()).collect(),
            ..TenantSettings::default()
        }
    }

    #[test]
    fn short_codes_are_judged_as_dialled() {
        let nl = tenant("NL", &[]);
        for yes in [
            "112",
            "911",
            "000",
            "116000",
            "116111",
            "116 123",
            "sip:112@pbx",
        ] {
            assert!(is_excluded(&nl, yes), "{yes}");
        }
        for no in [
            "0116123456",
            "01161234567",
            "+441161234567",
            "+44116",
            "+112",
            "00112",
            "1160000",
            "11600",
            "116abc",
            "1",
            "",
        ] {
            assert!(!is_excluded(&nl, no), "{no}");
        }
    }

    #[test]
    fn national_codes_follow_the_tenant_country() {
        assert!(is_excluded(&tenant("AT", &[]), "144"));
        assert!(!is_excluded(&tenant("NL", &[]), "144"));
        assert!(is_excluded(&tenant("fr", &[]), "15"));
        assert!(is_excluded(&tenant("GB", &[]), "111"));
        assert!(!is_excluded(&tenant("US", &[]), "111"));
    }

    #[test]
    fn tenant_prefixes() {
        let acme = tenant("NL", &["0800", "0900", " ", "+31 900"]);
        assert!(is_excluded(&acme, "0800-1234567"));
        assert!(is_excluded(&acme, "09001234567"));
        assert!(is_excluded(&acme, "+31900123456"));
        assert!(!is_excluded(&acme, "0612345678"));
    }

    #[test]
    fn service_numbers_ignore_tenant_entries() {
        let acme = tenant("NL", &["0800", "*999", "112"]);
        for yes in ["112", "116000", "116 111", "sip:911@pbx", "999"] {
            assert!(is_service(&acme, yes), "{yes}");
            assert!(is_excluded(&acme, yes), "{yes}");
        }
        for entry_only in ["08001234567", "0031999", "1123"] {
            assert!(!is_service(&acme, entry_only), "{entry_only}");
            assert!(is_excluded(&acme, entry_only), "{entry_only}");
        }
        for neither in ["01161234567", "+441161234567", "0612345678", ""] {
            assert!(!is_service(&acme, neither), "{neither}");
            assert!(!is_excluded(&acme, neither), "{neither}");
        }
        assert!(is_service(&tenant("AT", &[]), "144"));
        assert!(!is_service(&tenant("NL", &[]), "144"));
    }

    #[test]
    fn tenant_patterns() {
        assert!(matches_entry("09001234567", "0900*"));
        assert!(matches_entry("+31900123456", "+3190???????"));
        assert!(!matches_entry("+319001234567", "+3190???????"));
        assert!(matches_entry("0031999", "*999"));
        assert!(!matches_entry("0031998", "*999"));
        assert!(matches_entry("0800123", "08*2*"));
        assert!(!matches_entry("0800", "08*2*"));
        assert!(!matches_entry("0800", ""));
        assert!(matches_entry("0800123", "08-00"));
    }

    #[test]
    fn tables_are_well_formed() {
        let longest = EMERGENCY_NUMBERS
            .iter()
            .chain(
                NATIONAL_EMERGENCY_NUMBERS
                    .iter()
                    .flat_map(|(_, c)| c.iter()),
            )
            .map(|c| c.len())
            .chain([6])
            .max();
        assert_eq!(longest, Some(MAX_SHORT_CODE_LEN));
        for (country, codes) in NATIONAL_EMERGENCY_NUMBERS {
            assert!(phone::country(country).is_some(), "{country}");
            for code in *codes {
                assert!(
                    !EMERGENCY_NUMBERS.contains(code),
                    "{country} {code} is common"
                );
            }
        }
        assert!(
            NATIONAL_EMERGENCY_NUMBERS
                .windows(2)
                .all(|w| w[0].0 < w[1].0)
        );
    }
}

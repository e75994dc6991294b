//! Number functions: `e164`, `number_country`, `cdr_type`.
//!
//! All three read numbers by the rules of [`crate::phone`]. `e164` takes the country of
//! numbers written without a country code as an argument (a tenant's `default_country`);
//! `number_country` and `cdr_type` have none, so they read a number without `+` as an
//! international number whose `+` was left out, the way carriers export them
//! (`44123456789` is in the United Kingdom). To classify PBX numbers in national format,
//! normalise them first: `cdr_type(e164(source, 'NL'), e164(destination, 'NL'))`.

mod memo;
mod words;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray, StringViewBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion_macros::user_doc;
use phonenumber::country::Id;

use crate::args::{Arg, Kind, Rows, Texts, arg, impl_udf};
use crate::phone;
use crate::text_ids::TextIds;

/// A batch's answers not in the memo when it started, by key ([`memo::EMPTY`] never in it).
type Fresh<V> = HashMap<u64, V, foldhash::fast::RandomState>;

/// The regions of `numbers` as the number functions without a default country read them,
/// remembered by the process (see [`memo`]); `None` for a NULL number or one without a region.
fn regions_of<'a>(numbers: impl Iterator<Item = Option<&'a str>>) -> Vec<Option<Id>> {
    let dials: Vec<Option<Cow<'a, str>>> = numbers.map(|n| n.and_then(phone::dial)).collect();
    let keys: Vec<u64> = dials
        .iter()
        .map(|dial| {
            dial.as_deref()
                .and_then(|d| memo::key(d, None))
                .unwrap_or(memo::EMPTY)
        })
        .collect();
    let mut found = Vec::with_capacity(keys.len());
    memo::read(&memo::REGIONS).get_many(&keys, &mut found);
    let mut fresh = Fresh::default();
    let regions = dials
        .iter()
        .zip(keys)
        .zip(found)
        .map(|((dial, key), known)| {
            let dial = dial.as_deref()?;
            if let Some(region) = known.or_else(|| fresh.get(&key).copied()) {
                return region;
            }
            let region = phone::read(dial, None).and_then(|n| phone::region(&n));
            if key != memo::EMPTY {
                fresh.insert(key, region);
            }
            region
        })
        .collect();
    if !fresh.is_empty() {
        memo::write(&memo::REGIONS).extend(fresh);
    }
    regions
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "The number in E.164 (+ and digits), or NULL when it cannot be a phone number (extensions, short codes, names). Accepts SIP/tel URIs (the user part is read), separators, national format in default_country, and carrier-style international digits without +: without +, the first valid reading wins, national (in default_country) before international; failing that, an international reading of possible length. A NULL default_country reads numbers without + as international only.",
    syntax_example = "e164(number [, default_country])",
    sql_example = r#"```sql
> select e164('0612345678', 'NL'), e164('12125550143', 'NL'), e164('sip:+31201234567@pbx'), e164('201', 'NL');
+31612345678 | +12125550143 | +31201234567 | NULL
```"#,
    argument(
        name = "number",
        description = "Number as stored: digits, +digits, national format, or a SIP/tel URI."
    ),
    argument(
        name = "default_country",
        description = "ISO 3166 alpha-2 country of numbers written without a country code (e.g. the tenant's default_country); optional."
    )
)]
/// `e164(number [, default_country])` → `TEXT`; see [`phone`] for the reading rules.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct E164;

const E164_ARGS: &[Arg] = &[
    arg("number", Kind::Text),
    arg("default_country", Kind::Text),
];

// Utf8View, the layout Parquet text is read in: a number of up to 12 bytes (`+31612345678`)
// is held in its view, and `coalesce(e164(destination), destination)` needs no cast.
impl_udf!(E164, name: "e164", args: E164_ARGS, required: 1,
    returns: DataType::Utf8View, strict: false);

impl E164 {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let numbers = rows.texts(0)?;
        let countries = if rows.arity() > 1 {
            Some(Countries::of(&rows.texts(1)?, rows.len()))
        } else {
            None
        };
        let country = |r: usize| countries.as_ref().map_or(Ok(None), |c| c.get(r));
        let mut out = StringViewBuilder::with_capacity(rows.len());
        e164_each(&numbers, 0..rows.len(), country, |_, answer| {
            out.append_option(answer);
        })?;
        Ok(Arc::new(out.finish()))
    }
}

/// `e164` of `numbers` at `rows` (each once, in order), reading a number without a country
/// code in `country(row)`: `emit(row, answer)` gets each row's answer, `None` for a NULL
/// number or one that cannot be a phone number.
///
/// In two passes: every row's dial string and memo key, the keys looked up together
/// ([`memo::Memo::get_many`]); then the answers, computed and kept for the keys not found.
/// An answer that is the dial string itself (a valid `+digits` number, half of what a CDR
/// store rates) is handed over as the dial string, without unpacking.
pub(crate) fn e164_each(
    numbers: &Texts<'_>,
    rows: impl Iterator<Item = usize> + Clone,
    country: impl Fn(usize) -> Result<Option<Id>>,
    mut emit: impl FnMut(usize, Option<&str>),
) -> Result<()> {
    let capacity = rows.size_hint().0;
    let mut dials = Vec::with_capacity(capacity);
    let mut keys = Vec::with_capacity(capacity);
    for r in rows.clone() {
        let (dial, key) = match numbers.get(r) {
            None => (None, None),
            // A number that is a dial string with a key (most are): one scan reads both.
            Some(number) => match memo::dial_key(number) {
                Some(key) => (
                    Some(Cow::Borrowed(number)),
                    Some(memo::with_country(key, country(r)?)),
                ),
                None => {
                    let dial = phone::dial(number);
                    let key = match &dial {
                        Some(dial) => memo::key(dial, country(r)?),
                        None => None,
                    };
                    (dial, key)
                }
            },
        };
        keys.push(key.unwrap_or(memo::EMPTY));
        dials.push(dial);
    }
    let mut found = Vec::with_capacity(capacity);
    memo::read(&memo::E164).get_many(&keys, &mut found);
    let mut buf = [0; memo::MAX_KEY_DIGITS + 1];
    // Answers read here, by key: found again for a number the batch repeats, and kept in
    // the memo once the batch is done (one write lock).
    let mut fresh = Fresh::default();
    for (r, ((&key, known), dial)) in rows.zip(keys.iter().zip(&found).zip(&dials)) {
        let Some(dial) = dial else {
            emit(r, None);
            continue;
        };
        let packed = match known.or_else(|| fresh.get(&key).copied()) {
            Some(packed) => packed,
            None => {
                // Not known: read the number, and keep the answer if it has a key.
                let answer = phone::e164(dial, country(r)?);
                let packed = memo::pack_e164(answer.as_deref());
                if key != memo::EMPTY {
                    fresh.insert(key, packed);
                }
                if packed == memo::UNPACKED {
                    emit(r, answer.as_deref());
                    continue;
                }
                packed
            }
        };
        match packed {
            memo::NULL => emit(r, None),
            // Rare (an answer longer than any E.164 number): computed every time.
            memo::UNPACKED => emit(r, phone::e164(dial, country(r)?).as_deref()),
            packed if memo::is_dial_itself(key, packed) => emit(r, Some(dial)),
            packed => emit(r, Some(memo::unpack_e164(packed, &mut buf))),
        }
    }
    if !fresh.is_empty() {
        memo::write(&memo::E164).extend(fresh);
    }
    Ok(())
}

/// For `rows` of `numbers`: a 32-bit answer `derive(row, e164 answer)` computes from each
/// row's [`e164_each`] answer, handed to `emit(row, answer)`, each row once in no particular
/// order. `derive` must depend only on the row's number and that answer, and on what `stamp`
/// stands for (the rate deck a trie node is found in): answers are remembered by the
/// number's key and `stamp`, and a remembered answer under another stamp is derived again.
///
/// Only numbers that are dial strings themselves (`+` and digits, or digits) are remembered:
/// two numbers written differently share a key when their dial strings are the same, and a
/// `derive` that looks at the number could answer them differently. A row whose answer is
/// remembered costs its key and one memo look-up: no `e164` answer is read or unpacked.
pub(crate) fn derived_each(
    numbers: &Texts<'_>,
    rows: &[usize],
    country: impl Fn(usize) -> Result<Option<Id>>,
    stamp: u32,
    mut derive: impl FnMut(usize, Option<&str>) -> u32,
    mut emit: impl FnMut(usize, u32),
) -> Result<()> {
    let mut keys = Vec::with_capacity(rows.len());
    for &r in rows {
        keys.push(match numbers.get(r).and_then(memo::dial_key) {
            Some(key) => memo::with_country(key, country(r)?),
            None => memo::EMPTY,
        });
    }
    let mut found = Vec::with_capacity(rows.len());
    memo::read(&memo::DERIVED).get_many(&keys, &mut found);
    // Positions in `rows` of the rows whose answer is not remembered under this stamp.
    let mut missed = Vec::new();
    for (i, (&r, known)) in rows.iter().zip(&found).enumerate() {
        match *known {
            Some(word) if word >> 32 == u64::from(stamp) => emit(r, word as u32),
            _ => missed.push(i),
        }
    }
    if missed.is_empty() {
        return Ok(());
    }
    let mut answers = Vec::with_capacity(missed.len());
    e164_each(
        numbers,
        missed.iter().map(|&i| rows[i]),
        &country,
        |r, e164| {
            let answer = derive(r, e164);
            emit(r, answer);
            answers.push(answer);
        },
    )?;
    let fresh = missed
        .iter()
        .zip(&answers)
        .filter(|&(&i, _)| keys[i] != memo::EMPTY);
    memo::write(&memo::DERIVED)
        .extend(fresh.map(|(&i, &answer)| (keys[i], u64::from(stamp) << 32 | u64::from(answer))));
    Ok(())
}

/// The default countries of a batch's rows, each distinct code parsed once.
pub(crate) struct Countries {
    /// Per row, the index of its code in `parsed` ([`NULL_ID`](crate::text_ids::NULL_ID) for
    /// NULL).
    ids: Vec<u32>,
    /// Per distinct code: the country, or the code when it is not one.
    parsed: Vec<Result<Id, String>>,
}

impl Countries {
    fn of(codes: &Texts<'_>, rows: usize) -> Self {
        let TextIds { ids, values } = TextIds::of(codes, rows);
        Self::numbered(ids, values)
    }

    /// The countries of rows numbered `ids` (indexes into `codes`, or
    /// [`NULL_ID`](crate::text_ids::NULL_ID) for none).
    pub(crate) fn numbered<'c>(ids: Vec<u32>, codes: impl IntoIterator<Item = &'c str>) -> Self {
        let parsed = codes
            .into_iter()
            .map(|code| phone::country(code).ok_or_else(|| code.to_owned()))
            .collect();
        Countries { ids, parsed }
    }

    /// Row `r`'s country; an error when its code is not an ISO 3166 alpha-2 code.
    pub(crate) fn get(&self, r: usize) -> Result<Option<Id>> {
        match self.ids.get(r).and_then(|&id| self.parsed.get(id as usize)) {
            None => Ok(None),
            Some(Ok(id)) => Ok(Some(*id)),
            Some(Err(code)) => {
                exec_err!("e164: '{code}' is not an ISO 3166 alpha-2 country code")
            }
        }
    }
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "English name of the country of an E.164 number (United States, United Kingdom, Netherlands, ...); digits without + are read as international. NULL when the number has no known country.",
    syntax_example = "number_country(number)",
    sql_example = r#"```sql
> select number_country('+31201234567'), number_country('12125550143');
Netherlands | United States
```"#,
    argument(name = "number", description = "E.164 number, with or without +.")
)]
/// `number_country(number)` → `TEXT`: [`phone::country_name`] of the number's region.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct NumberCountry;

const COUNTRY_ARGS: &[Arg] = &[arg("number", Kind::Text)];

impl_udf!(NumberCountry, name: "number_country", args: COUNTRY_ARGS, required: 1,
    returns: DataType::Utf8, strict: true);

impl NumberCountry {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let numbers = rows.texts(0)?;
        let regions = regions_of((0..rows.len()).map(|r| numbers.get(r)));
        let out: StringArray = regions
            .into_iter()
            .map(|region| region.and_then(phone::country_name))
            .collect();
        Ok(Arc::new(out))
    }
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "The carrier's CDR type of a call: Local when both numbers are in the same country, else Origin based when both are in the EEA (EU 27, Iceland, Liechtenstein, Norway; not the UK or Switzerland), else International. Numbers without + are read as international; NULL when either country is unknown.",
    syntax_example = "cdr_type(source, destination)",
    sql_example = r#"```sql
> select cdr_type('12125550143', '12025550199'), cdr_type('+31201234567', '+4930123456');
Local | Origin based
```"#,
    argument(
        name = "source",
        description = "Calling number (CLI) in E.164, with or without +."
    ),
    argument(
        name = "destination",
        description = "Called number in E.164, with or without +."
    )
)]
/// `cdr_type(source, destination)` → `TEXT`; see [`phone::cdr_type`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct CdrType;

const CDR_TYPE_ARGS: &[Arg] = &[arg("source", Kind::Text), arg("destination", Kind::Text)];

impl_udf!(CdrType, name: "cdr_type", args: CDR_TYPE_ARGS, required: 2,
    returns: DataType::Utf8, strict: true);

impl CdrType {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let (sources, destinations) = (rows.texts(0)?, rows.texts(1)?);
        let sources = regions_of((0..rows.len()).map(|r| sources.get(r)));
        let destinations = regions_of((0..rows.len()).map(|r| destinations.get(r)));
        let out: StringArray = sources
            .into_iter()
            .zip(destinations)
            .map(|(source, destination)| Some(phone::cdr_type(source?, destination?)))
            .collect();
        Ok(Arc::new(out))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::StringViewArray;
    use datafusion::logical_expr::ColumnarValue;

    use super::*;

    /// `derived_each` over `numbers` read in NL, deriving the answer's length (0 for none)
    /// plus `bump`; the answers in row order and the rows derived (not remembered).
    fn derive_lengths(numbers: &[Option<&str>], stamp: u32, bump: u32) -> (Vec<u32>, Vec<usize>) {
        let array = ColumnarValue::Array(Arc::new(StringViewArray::from(numbers.to_vec())));
        let rows = Rows::new(&[array], numbers.len()).unwrap();
        let texts = rows.texts(0).unwrap();
        let all: Vec<usize> = (0..numbers.len()).collect();
        let (mut answers, mut derived) = (vec![u32::MAX; numbers.len()], Vec::new());
        derived_each(
            &texts,
            &all,
            |_| Ok(Some(Id::NL)),
            stamp,
            |r, e164| {
                derived.push(r);
                e164.map_or(0, |e| e.len() as u32) + bump
            },
            |r, answer| answers[r] = answer,
        )
        .unwrap();
        derived.sort_unstable();
        (answers, derived)
    }

    #[test]
    fn threads_reading_one_memo_at_once_get_the_library_s_answers() {
        let numbers: Vec<String> = (0..3000)
            .map(|i| format!("06{:08}", 23_000_000 + i * 7))
            .collect();
        let expected: Vec<Option<String>> = numbers
            .iter()
            .map(|n| phone::e164(n, Some(Id::NL)))
            .collect();
        assert!(expected.iter().all(Option::is_some));
        let n = numbers.len();
        // Twice: first each thread reads some numbers another is reading, then all are kept.
        for _ in 0..2 {
            std::thread::scope(|scope| {
                for t in 0..4 {
                    let (numbers, expected) = (&numbers, &expected);
                    scope.spawn(move || {
                        let order: Vec<usize> = (0..n).map(|i| (i + t * n / 4) % n).collect();
                        let texts: Vec<Option<&str>> =
                            order.iter().map(|&i| Some(numbers[i].as_str())).collect();
                        let array = ColumnarValue::Array(Arc::new(StringViewArray::from(texts)));
                        let rows = Rows::new(&[array], n).unwrap();
                        let mut got = vec![None; n];
                        let country = |_| Ok(Some(Id::NL));
                        e164_each(&rows.texts(0).unwrap(), 0..n, country, |r, answer| {
                            got[order[r]] = answer.map(str::to_owned);
                        })
                        .unwrap();
                        assert_eq!(&got, expected);
                    });
                }
            });
        }
    }

    #[test]
    fn a_number_a_cold_batch_repeats_gets_one_answer_each_time() {
        // Numbers no other test reads: none is in the memo when the batch starts.
        let numbers = [
            "0612399931",
            "2031",
            "0612399931",
            "+31612399932",
            "2031",
            "+31612399932",
            "0612399931",
        ];
        let array = ColumnarValue::Array(Arc::new(StringViewArray::from(numbers.to_vec())));
        let rows = Rows::new(&[array], numbers.len()).unwrap();
        let mut got = Vec::new();
        let country = |_| Ok(Some(Id::NL));
        e164_each(
            &rows.texts(0).unwrap(),
            0..numbers.len(),
            country,
            |_, answer| {
                got.push(answer.map(str::to_owned));
            },
        )
        .unwrap();
        let expected: Vec<Option<String>> = numbers
            .iter()
            .map(|n| phone::e164(n, Some(Id::NL)))
            .collect();
        assert_eq!(got, expected);
        assert_eq!(got[0].as_deref(), Some("+31612399931"));
        assert_eq!(got[1], None);
        let regions = regions_of(numbers.iter().map(|&n| Some(n)));
        assert_eq!(regions[3], Some(Id::NL));
        assert_eq!(regions[3], regions[5]);
        assert_eq!(regions[0], regions[6]);
    }

    #[test]
    fn derived_answers_are_remembered_per_stamp_and_only_for_dial_strings() {
        // A stamp no deck of the test process has, and numbers no other test reads (the
        // memo is the process's).
        let stamp = u32::MAX - 7;
        let numbers = [
            Some("+31612399917"),
            Some("0612399917"),
            Some("06 12399917"),
            Some("sip:0612399917@pbx"),
            Some("2017"),
            None,
        ];
        let (answers, derived) = derive_lengths(&numbers, stamp, 0);
        assert_eq!(answers, [12, 12, 12, 12, 0, 0]);
        assert_eq!(derived, [0, 1, 2, 3, 4, 5], "nothing remembered yet");
        // Dial strings are remembered: a `derive` that would answer otherwise is not asked.
        let (answers, derived) = derive_lengths(&numbers, stamp, 100);
        assert_eq!(answers, [12, 12, 112, 112, 0, 100]);
        assert_eq!(
            derived,
            [2, 3, 5],
            "separators, URIs and NULL are derived each time"
        );
        // Under another stamp every row is derived again, and remembered under it.
        let (answers, derived) = derive_lengths(&numbers, stamp + 1, 100);
        assert_eq!(answers, [112, 112, 112, 112, 100, 100]);
        assert_eq!(derived, [0, 1, 2, 3, 4, 5]);
    }
}

//! The `rate_lookup(tenant, destination, at)` function over a [`RateBook`].

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, Decimal128Array, Int32Array, StringViewArray, StructArray, UInt32Array,
};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::logical_expr::{Signature, Volatility};
use datafusion_macros::user_doc;

use super::deck::TenantId;
use super::{Rate, RateBook, RateDeck};
use crate::args::{Arg, Kind, Rows, Texts, arg, impl_udf};
use crate::billing::{CHARGE_PRECISION, CHARGE_SCALE};
use crate::text_ids::TextIds;

/// The digits a destination is rated on: the number without a leading `+` and without the
/// separators people write (space, `-`, `.`, `/`, parentheses). `None` when anything else is
/// left (a SIP URI, letters) or no digit is: such a destination has no rate.
///
/// The digits are taken as written: a national number (`0612345678`) is not turned into
/// E.164 here; pass `e164(destination, country)` to rate it by country code.
pub fn dialled_digits(destination: &str) -> Option<Cow<'_, str>> {
    let trimmed = destination.trim();
    let number = trimmed.strip_prefix('+').unwrap_or(trimmed);
    if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Cow::Borrowed(number));
    }
    let mut digits = String::with_capacity(number.len());
    for c in number.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '/' | '(' | ')' => {}
            _ => return None,
        }
    }
    (!digits.is_empty()).then_some(Cow::Owned(digits))
}

/// The fields of `rate_lookup`'s result, in order: `prefix`, `rate_per_min`, `min_s`,
/// `increment_s`, `connect_fee`, `currency`.
pub fn rate_type() -> DataType {
    DataType::Struct(rate_fields())
}

fn rate_fields() -> Fields {
    let money = DataType::Decimal128(CHARGE_PRECISION, CHARGE_SCALE);
    Fields::from(vec![
        Field::new("prefix", DataType::Utf8View, true),
        Field::new("rate_per_min", money.clone(), true),
        Field::new("min_s", DataType::Int32, true),
        Field::new("increment_s", DataType::Int32, true),
        Field::new("connect_fee", money, true),
        Field::new("currency", DataType::Utf8View, true),
    ])
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "The rate of a call from the rate deck (table rates): a struct (prefix, rate_per_min, min_s, increment_s, connect_fee, currency) of the row of the tenant or of '*' whose prefix is the longest prefix of the destination's digits and whose valid_from is the newest not after at. A longer prefix wins whoever's it is; at one prefix the newest valid_from wins, and at the same valid_from the tenant's own row beats '*'. The destination's digits are taken as written, without '+' and separators (space - . / parentheses); anything else (a SIP URI) has no rate, so rate national numbers through e164(destination, country). NULL when no rate applies or an argument is NULL. The deck is re-read when the rates table changes, checked once per query. The composition rate_lookup(tenant, coalesce(e164(destination, default_country(tenant)), destination), at) is planned as one pass (rate_lookup_in_country in EXPLAIN).",
    syntax_example = "rate_lookup(tenant, destination, at)",
    sql_example = r#"```sql
> select get_field(rate_lookup('acme', '+44 7700 900123', TIMESTAMP '2026-11-02T10:00:00Z'), 'rate_per_min');
0.120000
```"#,
    argument(name = "tenant", description = "Tenant of the call (cdrs.tenant)."),
    argument(
        name = "destination",
        description = "Number called, E.164 with or without '+' (cdrs.destination, or e164(destination, country))."
    ),
    argument(
        name = "at",
        description = "When the call started (cdrs.start_time); a timestamp without zone is UTC."
    )
)]
/// `rate_lookup(tenant, destination, at)` → `STRUCT`; see [`super::RateDeck::lookup`].
#[derive(Debug, Default)]
pub struct RateLookup {
    pub(super) book: Arc<RateBook>,
}

impl RateLookup {
    /// The function reading rates from `book`.
    pub fn new(book: Arc<RateBook>) -> Self {
        RateLookup { book }
    }

    /// Each row's rate as a position in the deck, then the result's fields gathered by those
    /// positions ([`rates_at`]).
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let deck = self.book.deck();
        let (tenants, destinations) = (rows.texts(0)?, rows.texts(1)?);
        let instants = rows.instants(2)?;
        let batch_tenants = BatchTenants::of(&deck, &tenants, rows.len());
        let positions: UInt32Array = (0..rows.len())
            .map(|r| {
                let tenant = batch_tenants.in_deck(r)?;
                let (destination, at) = (destinations.get(r)?, instants.get(r)?);
                let digits = dialled_digits(destination)?;
                deck.position(tenant, &digits, at)
                    .and_then(|p| u32::try_from(p).ok())
            })
            .collect();
        rates_at(&deck, &positions)
    }
}

/// `rate_lookup`'s result for rates given by their deck positions: each field gathered from
/// the deck's columns ([`RateDeck::columns`](super::RateDeck::columns)); NULL where the
/// position is.
pub(super) fn rates_at(deck: &RateDeck, positions: &UInt32Array) -> Result<ArrayRef> {
    // A NULL position gathers NULL in every field too: `get_field` reads a field without
    // looking at the struct's own validity.
    let columns = deck
        .columns()
        .iter()
        .map(|column| take(column.as_ref(), positions, None))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(StructArray::try_new(
        rate_fields(),
        columns,
        positions.nulls().cloned(),
    )?))
}

/// A batch's tenants, numbered ([`TextIds`]), each distinct one looked up in the deck once.
pub(super) struct BatchTenants<'a> {
    /// The tenant of each row, by number.
    pub(super) ids: TextIds<'a>,
    /// Per number: the tenant's id in the deck, `None` when it has no rates of its own.
    in_deck: Vec<Option<TenantId>>,
}

impl<'a> BatchTenants<'a> {
    /// The first `rows` rows of `tenants`, looked up in `deck`.
    pub(super) fn of(deck: &RateDeck, tenants: &Texts<'a>, rows: usize) -> Self {
        let ids = TextIds::of(tenants, rows);
        let in_deck = ids.values.iter().map(|t| deck.tenant(t)).collect();
        BatchTenants { ids, in_deck }
    }

    /// Row `r`'s tenant as the deck knows it; `None` when the tenant is NULL.
    pub(super) fn in_deck(&self, r: usize) -> Option<Option<TenantId>> {
        // A NULL tenant's number (`NULL_ID`) is past the end.
        self.in_deck.get(*self.ids.ids.get(r)? as usize).copied()
    }
}

/// The columns of `rate_lookup`'s result for every rate of a deck, in the deck's order.
pub(super) fn rate_columns(rates: &[Rate]) -> Vec<ArrayRef> {
    let money = |values: Vec<i128>| -> ArrayRef {
        let money = DataType::Decimal128(CHARGE_PRECISION, CHARGE_SCALE);
        Arc::new(Decimal128Array::from(values).with_data_type(money))
    };
    vec![
        Arc::new(StringViewArray::from_iter_values(
            rates.iter().map(|r| &r.prefix),
        )),
        money(rates.iter().map(|r| r.rate_per_min).collect()),
        Arc::new(Int32Array::from_iter_values(rates.iter().map(|r| r.min_s))),
        Arc::new(Int32Array::from_iter_values(
            rates.iter().map(|r| r.increment_s),
        )),
        money(rates.iter().map(|r| r.connect_fee).collect()),
        Arc::new(StringViewArray::from_iter_values(
            rates.iter().map(|r| &r.currency),
        )),
    ]
}

// Two `rate_lookup`s are the same function when they read the same book.
super::same_when_sharing!(RateLookup: book);

pub(super) const LOOKUP_ARGS: &[Arg] = &[
    arg("tenant", Kind::Text),
    arg("destination", Kind::Text),
    arg("at", Kind::Instant),
];

/// Volatile: the result depends on the rates table, which may change between queries, so the
/// planner must neither fold a call with literal arguments into a constant nor cache it.
pub(super) fn volatile_signature() -> &'static Signature {
    static SIGNATURE: LazyLock<Signature> =
        LazyLock::new(|| Signature::user_defined(Volatility::Volatile));
    &SIGNATURE
}

impl_udf!(RateLookup, name: "rate_lookup", args: LOOKUP_ARGS, required: 3,
    returns: rate_type(), strict: true, signature: volatile_signature(),
    simplify: super::in_country::fuse);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_as_dialled() {
        assert_eq!(
            dialled_digits("+44 7700 900-123").as_deref(),
            Some("447700900123")
        );
        assert_eq!(
            dialled_digits("12125550143").as_deref(),
            Some("12125550143")
        );
        assert_eq!(
            dialled_digits("(020) 123.45/67").as_deref(),
            Some("0201234567")
        );
        assert_eq!(dialled_digits("sip:201@pbx.example"), None);
        assert_eq!(dialled_digits("+"), None);
        assert_eq!(dialled_digits(""), None);
        assert_eq!(dialled_digits("++44"), None);
    }
}

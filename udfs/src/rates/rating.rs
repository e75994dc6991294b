//! The `rate_call(tenant, destination, at, duration_s)` function: a call's rating in one
//! pass, as `call_reports` needs it.
//!
//! It answers what the composition of the public functions answers,
//!
//! ```sql
//! rate_lookup(tenant, coalesce(e164(destination, default_country(tenant)), destination), at) AS r,
//! billable_seconds(duration_s, r['min_s'], r['increment_s']) AS billed_s,
//! call_charge(billed_s, r['rate_per_min'], r['connect_fee']) AS charge
//! ```
//!
//! on every call whose destination is not excluded (`is_excluded_number`: an emergency short
//! code, a `116xxx` service or one of the tenant's `excluded_numbers`), which is never charged
//! and so has no rating. It works only on the rows that have a call to rate. Composed, each
//! function is a projection of its own over the whole batch: a report over 10M calls of which
//! 3M are unrated passes NULL through five functions for the other 7M, builds a text column of
//! default countries and a struct of six rate fields for every row, and evaluates the
//! `coalesce` as a `CASE`; those NULL rows cost more than the rating itself
//! (`benches/RESULTS.md`). Here the rows with a tenant, a destination and a time are gathered
//! once, screened with each batch tenant's [`Screen`], read through [`derived_each`] (the
//! reading of `e164`; the trie node its digits lead to is remembered per number), looked up in
//! the deck and priced, and every other row is NULL at the cost of its share of a null mask.
//! Screening here rather than in the view costs only the calls to rate: `call_reports`
//! screened every outbound call in a `CASE` first, ~9 % of a month report's CPU time.

use std::borrow::Cow;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Decimal128Array, Int32Array, StructArray, UInt32Array,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion_macros::user_doc;

use super::lookup::{BatchTenants, dialled_digits, volatile_signature};
use super::{RateBook, RateDeck};
use crate::Settings;
use crate::args::{Arg, Kind, Rows, arg, impl_udf};
use crate::billing::{CHARGE_PRECISION, CHARGE_SCALE, ChargeScales, billable};
use crate::excluded::Screen;
use crate::numbers::{Countries, derived_each};

/// Position of the currency among the deck's columns ([`super::RateDeck::columns`]).
const CURRENCY_COLUMN: usize = 5;

/// The fields of `rate_call`'s result, in order: `billed_s`, `charge`, `currency`.
fn rating_fields() -> Fields {
    Fields::from(vec![
        Field::new("billed_s", DataType::Int32, true),
        Field::new(
            "charge",
            DataType::Decimal128(CHARGE_PRECISION, CHARGE_SCALE),
            true,
        ),
        Field::new("currency", DataType::Utf8View, true),
    ])
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "The rating of a call from the rate deck: a struct (billed_s, charge, currency) equal to billable_seconds(duration_s, r.min_s, r.increment_s), call_charge of those seconds at r.rate_per_min and r.connect_fee, and r.currency, where r = rate_lookup(tenant, coalesce(e164(destination, default_country(tenant)), destination), at). NULL when tenant, destination or at is NULL, when the destination is excluded for the tenant (is_excluded_number: such calls are never charged) or when no rate applies; billed_s and charge are NULL when duration_s is NULL. The call_reports view rates unrated calls with it: it reads only the rows to rate, where the composition evaluates each function over every row.",
    syntax_example = "rate_call(tenant, destination, at, duration_s)",
    sql_example = r#"```sql
> select rate_call('acme', '+44 7700 900123', TIMESTAMP '2026-11-02T10:00:00Z', 32);
{billed_s: 60, charge: 0.120000, currency: EUR}
```"#,
    argument(name = "tenant", description = "Tenant of the call (cdrs.tenant)."),
    argument(
        name = "destination",
        description = "Number called as stored (cdrs.destination): read in E.164 in the tenant's default_country, else rated by its digits as dialled."
    ),
    argument(
        name = "at",
        description = "When the call started (cdrs.start_time); a timestamp without zone is UTC."
    ),
    argument(
        name = "duration_s",
        description = "Talk time in seconds (cdrs.duration_s)."
    )
)]
/// `rate_call(tenant, destination, at, duration_s)` → `STRUCT`; see the module documentation.
#[derive(Debug, Default)]
pub struct RateCall {
    settings: Arc<Settings>,
    book: Arc<RateBook>,
}

impl RateCall {
    /// The function reading default countries from `settings` and rates from `book`.
    pub fn new(settings: Arc<Settings>, book: Arc<RateBook>) -> Self {
        RateCall { settings, book }
    }

    /// The deck position of each row's rate, then billable seconds and charge of the rated
    /// rows with a duration, then the currency gathered from the deck by position.
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let deck = self.book.deck();
        let durations = rows.ints(3)?;
        let n = rows.len();
        let (positions, to_rate) = read_positions(&deck, &self.settings, rows, Screening::On)?;
        let scales = ChargeScales::new(CHARGE_SCALE, CHARGE_SCALE)?;
        let mut billed = vec![0; n];
        let mut charges = vec![0; n];
        let mut priced = vec![false; n];
        for &r in &to_rate {
            let (Some(position), Some(duration)) = (positions[r], durations.get(r)) else {
                continue;
            };
            let Some(rate) = deck.rate(position as usize) else {
                continue;
            };
            let seconds = billable(duration, i64::from(rate.min_s), i64::from(rate.increment_s))?;
            billed[r] = seconds;
            charges[r] = scales.charge(i64::from(seconds), rate.rate_per_min, rate.connect_fee)?;
            priced[r] = true;
        }
        let priced = NullBuffer::from(priced);
        let positions = UInt32Array::from(positions);
        let currency = take(deck.columns()[CURRENCY_COLUMN].as_ref(), &positions, None)?;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::new(billed.into(), Some(priced.clone()))),
            Arc::new(
                Decimal128Array::new(charges.into(), Some(priced))
                    .with_precision_and_scale(CHARGE_PRECISION, CHARGE_SCALE)?,
            ),
            currency,
        ];
        Ok(Arc::new(StructArray::try_new(
            rating_fields(),
            columns,
            positions.nulls().cloned(),
        )?))
    }
}

/// Whether [`read_positions`] leaves out destinations excluded for their tenant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Screening {
    /// Excluded destinations (`is_excluded_number`) get no rate: `rate_call`.
    On,
    /// Every destination is looked up: `rate_lookup`.
    Off,
}

/// The deck position of each row's rate, rows `(tenant, destination, at, …)`: the destination
/// read in E.164 in the tenant's default country, else by its digits as dialled — what
/// `rate_lookup(tenant, coalesce(e164(destination, default_country(tenant)), destination), at)`
/// looks up. `None` where an argument is NULL, where no rate applies, and with
/// [`Screening::On`] where the destination is excluded; also returns the rows looked up (every
/// row with the three arguments, less the excluded), in order.
pub(super) fn read_positions(
    deck: &RateDeck,
    settings: &Settings,
    rows: &Rows,
    screening: Screening,
) -> Result<(Vec<Option<u32>>, Vec<usize>)> {
    let (tenants, destinations) = (rows.texts(0)?, rows.texts(1)?);
    let instants = rows.instants(2)?;
    let n = rows.len();
    let batch_tenants = BatchTenants::of(deck, &tenants, n);
    let countries = Countries::numbered(
        batch_tenants.ids.ids.clone(),
        batch_tenants
            .ids
            .values
            .iter()
            .map(|t| settings.for_tenant(t).default_country.as_str()),
    );
    let mut positions: Vec<Option<u32>> = vec![None; n];
    let mut to_rate = rows.valid_rows(&[0, 1, 2])?;
    if screening == Screening::On {
        // Excluded numbers are never charged: screened before they cost a memo look-up.
        let screens = Screen::for_tenants(settings, &batch_tenants.ids.values);
        to_rate.retain(|&r| {
            let screen = screens.get(batch_tenants.ids.ids[r] as usize);
            // Never NULL here: `valid_rows` kept only rows with a destination.
            let destination = destinations.get(r).unwrap_or_default();
            !screen.is_some_and(|screen| screen.is_excluded(destination))
        });
    }
    derived_each(
        &destinations,
        &to_rate,
        |r| countries.get(r),
        deck.stamp(),
        // The trie node the number's digits lead to depends on the number alone: remembered.
        |r, answer| {
            // An answer is `+` and digits, which is all `dialled_digits` would keep of it.
            let digits = match answer {
                Some(e164) => e164
                    .strip_prefix('+')
                    .map(Cow::Borrowed)
                    .or_else(|| dialled_digits(e164)),
                None => destinations.get(r).and_then(dialled_digits),
            };
            digits.map_or(0, |digits| deck.deepest_rated(&digits))
        },
        |r, node| {
            let (Some(tenant), Some(at)) = (batch_tenants.in_deck(r), instants.get(r)) else {
                return;
            };
            positions[r] = deck
                .position_from(node, tenant, at)
                .and_then(|p| u32::try_from(p).ok());
        },
    )?;
    Ok((positions, to_rate))
}

// Two `rate_call`s are the same function when they read the same settings and book.
super::same_when_sharing!(RateCall: settings, book);

const RATE_CALL_ARGS: &[Arg] = &[
    arg("tenant", Kind::Text),
    arg("destination", Kind::Text),
    arg("at", Kind::Instant),
    arg("duration_s", Kind::Int),
];

impl_udf!(RateCall, name: "rate_call", args: RATE_CALL_ARGS, required: 4,
    returns: DataType::Struct(rating_fields()), strict: false,
    signature: volatile_signature());

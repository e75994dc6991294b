//! `rate_lookup` of a number read in its tenant's country, in one pass.
//!
//! SPEC's way to rate a call whose destination may be written nationally composes three
//! functions: `rate_lookup(tenant, coalesce(e164(destination, default_country(tenant)),
//! destination), at)`. Evaluated as written, `e164` builds a text column of every answer,
//! `coalesce` (a `CASE` after DataFusion's simplification) another, and `rate_lookup` reads
//! the digits back out of it. [`fuse`], `rate_lookup`'s planning-time simplification,
//! recognises that composition and plans [`RateLookupInCountry`] instead: the same positions
//! `rate_call` computes ([`read_positions`], without its exclusion screen), the same
//! answers, no intermediate columns. Any other argument is left as written.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, UInt32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::expr::{Case, ScalarFunction};
use datafusion::logical_expr::simplify::ExprSimplifyResult;
use datafusion::logical_expr::{Expr, ScalarUDF};
use datafusion_macros::user_doc;

use super::RateBook;
use super::lookup::{LOOKUP_ARGS, RateLookup, rate_type, rates_at, volatile_signature};
use super::rating::{Screening, read_positions};
use crate::Settings;
use crate::args::{Rows, impl_udf};
use crate::numbers::E164;
use crate::tenant::DefaultCountry;

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "rate_lookup(tenant, coalesce(e164(destination, default_country(tenant)), destination), at) in one pass: the planner's form of that composition (see EXPLAIN), not called by name.",
    syntax_example = "rate_lookup_in_country(tenant, destination, at)",
    argument(name = "tenant", description = "Tenant of the call (cdrs.tenant)."),
    argument(
        name = "destination",
        description = "Number called as stored (cdrs.destination)."
    ),
    argument(name = "at", description = "When the call started (cdrs.start_time).")
)]
/// `rate_lookup` of `destination` read by `e164` in the tenant's `default_country`, else by
/// its digits as dialled; see the module documentation.
#[derive(Debug)]
pub struct RateLookupInCountry {
    settings: Arc<Settings>,
    book: Arc<RateBook>,
}

impl RateLookupInCountry {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let deck = self.book.deck();
        let (positions, _) = read_positions(&deck, &self.settings, rows, Screening::Off)?;
        rates_at(&deck, &UInt32Array::from(positions))
    }
}

super::same_when_sharing!(RateLookupInCountry: settings, book);

impl_udf!(RateLookupInCountry, name: "rate_lookup_in_country", args: LOOKUP_ARGS, required: 3,
    returns: rate_type(), strict: true, signature: volatile_signature());

/// `rate_lookup`'s simplification: its arguments `tenant, coalesce(e164(destination,
/// default_country(tenant)), destination), at` become [`RateLookupInCountry`]`(tenant,
/// destination, at)` over the same book and the settings `default_country` reads; any other
/// arguments stay as they are.
pub(super) fn fuse(lookup: &RateLookup, args: Vec<Expr>) -> ExprSimplifyResult {
    let read = match args.as_slice() {
        [tenant, number, _] => read_in_country(number, tenant),
        _ => None,
    };
    let Some((destination, settings)) = read else {
        return ExprSimplifyResult::Original(args);
    };
    let fused = RateLookupInCountry {
        settings: Arc::clone(settings),
        book: Arc::clone(&lookup.book),
    };
    let args = vec![args[0].clone(), destination.clone(), args[2].clone()];
    ExprSimplifyResult::Simplified(Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(fused)),
        args,
    )))
}

/// When `number` is `coalesce(e164(d, default_country(tenant)), d)` — or the `CASE WHEN e164(…)
/// IS NOT NULL THEN e164(…) ELSE d END` DataFusion simplifies it to — the `d` given to `e164`
/// and the settings `default_country` reads.
fn read_in_country<'a>(number: &'a Expr, tenant: &Expr) -> Option<(&'a Expr, &'a Arc<Settings>)> {
    let (e164, fallback) = match number {
        Expr::ScalarFunction(f) if f.name() == "coalesce" => match f.args.as_slice() {
            [e164, fallback] => (e164, fallback),
            _ => return None,
        },
        Expr::Case(Case {
            expr: None,
            when_then_expr,
            else_expr: Some(fallback),
        }) => match when_then_expr.as_slice() {
            [(when, then)] if matches!(when.as_ref(), Expr::IsNotNull(e) if e == then) => {
                (then.as_ref(), fallback.as_ref())
            }
            _ => return None,
        },
        _ => return None,
    };
    let Expr::ScalarFunction(e164) = e164 else {
        return None;
    };
    let [destination, country] = e164.args.as_slice() else {
        return None;
    };
    if !e164.func.inner().is::<E164>() || !same_text(destination, fallback) {
        return None;
    }
    let Expr::ScalarFunction(country) = country else {
        return None;
    };
    let settings = country
        .func
        .inner()
        .downcast_ref::<DefaultCountry>()?
        .settings();
    match country.args.as_slice() {
        [of] if same_text(of, tenant) => Some((destination, settings)),
        _ => None,
    }
}

/// Whether `a` and `b` are the same text, up to casts between text types (type coercion
/// may cast one operand of `coalesce` to the other's string type).
fn same_text(a: &Expr, b: &Expr) -> bool {
    fn uncast(e: &Expr) -> &Expr {
        match e {
            Expr::Cast(c) if is_text(c.field.data_type()) => uncast(&c.expr),
            _ => e,
        }
    }
    uncast(a) == uncast(b)
}

fn is_text(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

#[cfg(test)]
mod tests {
    use datafusion::common::Result;
    use datafusion::prelude::SessionContext;

    use crate::register_all;

    /// The optimized plan of `SELECT rate_lookup(tenant, <number>, at)` over a table of calls.
    async fn plan_of(number: &str) -> Result<String> {
        let ctx = SessionContext::new();
        register_all(&ctx, Default::default());
        ctx.sql(
            "CREATE TABLE calls (tenant TEXT, other TEXT, destination TEXT, at TIMESTAMP) \
             AS VALUES ('acme', 'us', '0612345678', TIMESTAMP '2026-11-02T10:00:00')",
        )
        .await?
        .collect()
        .await?;
        let sql = format!("SELECT rate_lookup(tenant, {number}, at) AS r FROM calls");
        let plan = ctx.sql(&sql).await?.into_optimized_plan()?;
        Ok(plan.display_indent().to_string())
    }

    /// The composition SPEC documents, and DataFusion's own spelling of its `coalesce`, are
    /// planned as one function; spellings that read another number or country are not.
    #[tokio::test]
    async fn only_the_composition_is_fused() -> Result<()> {
        for fused in [
            "coalesce(e164(destination, default_country(tenant)), destination)",
            "CASE WHEN e164(destination, default_country(tenant)) IS NOT NULL \
             THEN e164(destination, default_country(tenant)) ELSE destination END",
        ] {
            let plan = plan_of(fused).await?;
            let call = "rate_lookup_in_country(calls.tenant, calls.destination, CAST(calls.at";
            assert!(plan.contains(call), "{fused}: {plan}");
            assert!(!plan.contains("e164"), "{fused}: {plan}");
        }
        for kept in [
            "destination",
            "e164(destination, default_country(tenant))",
            "coalesce(e164(destination, default_country(other)), destination)",
            "coalesce(e164(destination, default_country(tenant)), other)",
            "coalesce(e164(destination, 'NL'), destination)",
            "coalesce(e164(destination, default_country(tenant)), destination || '')",
            "coalesce(e164(destination, default_country(tenant)), other, destination)",
        ] {
            let plan = plan_of(kept).await?;
            assert!(!plan.contains("rate_lookup_in_country"), "{kept}: {plan}");
            assert!(plan.contains("rate_lookup("), "{kept}: {plan}");
        }
        Ok(())
    }
}

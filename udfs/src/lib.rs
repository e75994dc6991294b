//! cdrlake-udfs: the CDR domain as DataFusion functions, usable without the server.
//!
//! Every function of the product specification's section 3 is one struct implementing
//! DataFusion's [`ScalarUDFImpl`](datafusion::logical_expr::ScalarUDFImpl), vectorised over
//! Arrow arrays, documented with `#[user_doc]` (which is what `\df` and `pg_proc` show):
//!
//! | family | functions | module |
//! |---|---|---|
//! | billing | `billable_seconds`, `call_charge` | [`billing`] |
//! | rating | `rate_lookup` (over the `rates` table, refreshed per query) | [`rates`] |
//! | labels | `sip_reason`, `hangup_reason` | [`sip`], [`hangup`] |
//! | status | `call_status`, `target_status` (call-log target logic) | [`status`], [`target`] |
//! | call reports | `billing_result` | [`report`] |
//! | numbers | `e164`, `number_country`, `cdr_type` | [`numbers`] (reading rules in [`phone`]) |
//! | exclusion | `is_excluded_number`, `is_service_number` | [`excluded`] |
//! | tenant settings | `tenant_timezone`, `target_call_s`, `sales_cycle_days`, `refund_destination`, `default_country` | [`tenant`] |
//! | tenant calendar | `tenant_local_time`, `sales_cycle` | [`tenant`] (calendar rules in [`time`]) |
//! | runs (window) | `run_start`, `run_count` | [`runs`] |
//! | unordered groups (window) | `first_in_group`, `first_flag_position` | [`group_first`] |
//!
//! [`register_all`] also adds two optimizer rules: [`first_row::FirstRowPerGroup`], which
//! computes `row_number() OVER (PARTITION BY a, b, … ORDER BY …) = 1` with `first_in_group`,
//! and [`group_window::GroupWindowRule`], which evaluates `first_in_group` and
//! `first_flag_position` by hashing instead of after a sort.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use datafusion::prelude::SessionContext;
//! # async fn demo() -> datafusion::error::Result<()> {
//! let ctx = SessionContext::new();
//! cdrlake_udfs::register_all(&ctx, Arc::new(cdrlake_udfs::Settings::default()));
//! ctx.sql("SELECT billable_seconds(32, 60, 60), sip_reason(486)").await?.show().await?;
//! # Ok(()) }
//! ```
//!
//! Conventions shared by all functions: a NULL argument gives a NULL result unless the
//! function's documentation says otherwise; literals and columns of any integer type, any
//! string layout and any decimal precision are accepted (the private `args` module holds the
//! coercion table); code → label maps are `const` tables exported beside each function, so
//! views and tests can enumerate them.
//!
//! Functions that depend on per-tenant configuration (the exclusion and tenant families) read
//! it from the [`Settings`] given to [`register_all`]; the server builds them from its
//! configuration file (`[tenants.NAME]`, SPEC 2.5). A tenant that is not configured by name
//! has the defaults. Time zones are IANA names read through `chrono-tz`, daylight saving time
//! included.

// Module docs link the private modules they are built from: the docs are for the people who
// work on the functions (`cargo doc --document-private-items`, where those links resolve).
#![allow(rustdoc::private_intra_doc_links)]

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::ScalarUDF;
use datafusion::optimizer::OptimizerRule;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::prelude::SessionContext;

mod args;
pub mod billing;
pub mod excluded;
pub mod first_row;
pub mod group_first;
pub mod group_window;
pub mod hangup;
pub mod numbers;
pub mod phone;
mod phone_metadata;
mod phone_national;
mod phone_plus;
mod phone_valid;
pub mod rates;
pub mod report;
pub mod runs;
pub mod sip;
pub mod status;
pub mod target;
pub mod tenant;
mod text_ids;
pub mod time;

/// Per-tenant settings (SPEC 2.5), with the defaults of `[tenants."*"]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSettings {
    /// IANA time zone of the tenant's calendar (sales cycles, local report times).
    pub timezone: String,
    /// Talk time in seconds from which an answered call counts as `Proper`.
    pub target_call_s: u32,
    /// Length of a sales cycle in calendar days.
    pub sales_cycle_days: u32,
    /// Destination credited by refunds.
    pub refund_destination: String,
    /// Dialled-number prefixes whose calls are not charged.
    pub excluded_numbers: Vec<String>,
    /// Days of CDRs kept; 0 keeps everything.
    pub retention_days: u32,
    /// ISO 3166 alpha-2 country of numbers written without a country code.
    pub default_country: String,
}

impl Default for TenantSettings {
    /// `Europe/Amsterdam`, target 30 s, 1-day cycle, refunds to `REF0`, nothing excluded,
    /// kept forever, country `NL`.
    fn default() -> Self {
        Self {
            timezone: "Europe/Amsterdam".to_owned(),
            target_call_s: 30,
            sales_cycle_days: 1,
            refund_destination: "REF0".to_owned(),
            excluded_numbers: Vec::new(),
            retention_days: 0,
            default_country: "NL".to_owned(),
        }
    }
}

/// Settings of every tenant: the defaults plus the tenants configured by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Settings {
    /// Settings of a tenant that is not configured by name (`[tenants."*"]`).
    pub default: TenantSettings,
    /// Settings of the tenants configured by name.
    pub tenants: BTreeMap<String, TenantSettings>,
}

impl Settings {
    /// The settings of `tenant`, or the defaults when it is not configured.
    pub fn for_tenant(&self, tenant: &str) -> &TenantSettings {
        self.tenants.get(tenant).unwrap_or(&self.default)
    }
}

/// Every cdrlake function, ready to register in a session or a function registry;
/// `rate_lookup` reads an empty deck (see [`functions_with_rates`]).
pub fn functions(settings: Arc<Settings>) -> Vec<Arc<ScalarUDF>> {
    functions_with_rates(settings, Arc::default())
}

/// Every cdrlake function, `rate_lookup` reading the deck of `rates`.
pub fn functions_with_rates(
    settings: Arc<Settings>,
    rates: Arc<rates::RateBook>,
) -> Vec<Arc<ScalarUDF>> {
    macro_rules! udfs {
        ($($udf:expr),* $(,)?) => { vec![$(Arc::new(ScalarUDF::new_from_impl($udf))),*] };
    }
    udfs![
        billing::BillableSeconds,
        billing::CallCharge,
        rates::RateLookup::new(Arc::clone(&rates)),
        rates::RateCall::new(Arc::clone(&settings), rates),
        sip::SipReason,
        hangup::HangupReason,
        status::CallStatus,
        target::TargetStatus,
        report::BillingResult,
        report::CallAmount,
        excluded::IsExcludedNumber::new(Arc::clone(&settings)),
        excluded::IsServiceNumber::new(Arc::clone(&settings)),
        numbers::E164,
        numbers::NumberCountry,
        numbers::CdrType,
        tenant::TenantLocalTime::new(Arc::clone(&settings)),
        tenant::SalesCycle::new(Arc::clone(&settings)),
        tenant::TenantTimezone::new(Arc::clone(&settings)),
        tenant::TargetCallS::new(Arc::clone(&settings)),
        tenant::SalesCycleDays::new(Arc::clone(&settings)),
        tenant::RefundDestination::new(Arc::clone(&settings)),
        tenant::DefaultCountry::new(settings),
    ]
}

/// Registers every cdrlake function in `ctx`, replacing functions of the same name;
/// `rate_lookup` reads the session's `rates` table (see [`rates::SessionTable`]) whenever a
/// query calls it.
pub fn register_all(ctx: &SessionContext, settings: Arc<Settings>) {
    let source = Arc::new(rates::SessionTable::default());
    register_all_with_rates(ctx, settings, source);
}

/// [`register_all`] with the rate deck fed by `source`, refreshed once per query that calls
/// `rate_lookup` ([`rates::install`]). Also adds the optimizer rules
/// [`first_row::FirstRowPerGroup`] and [`group_window::GroupWindowRule`] (once, however often
/// this is called).
pub fn register_all_with_rates(
    ctx: &SessionContext,
    settings: Arc<Settings>,
    source: Arc<dyn rates::RateSource>,
) {
    let book = Arc::new(rates::RateBook::with_source(source));
    for udf in functions_with_rates(settings, Arc::clone(&book)) {
        ctx.register_udf(udf.as_ref().clone());
    }
    for udwf in runs::window_functions()
        .into_iter()
        .chain(group_first::window_functions())
    {
        ctx.register_udwf(udwf);
    }
    let rule = Arc::new(first_row::FirstRowPerGroup);
    ctx.remove_optimizer_rule(rule.name());
    ctx.add_optimizer_rule(rule);
    install_physical_rule(ctx, Arc::new(group_window::GroupWindowRule));
    rates::install(ctx, book);
}

/// Puts `rule` first among `ctx`'s physical optimizer rules (replacing one of the same name):
/// before DataFusion's own, which plan the sorts and repartitions operators ask for.
fn install_physical_rule(ctx: &SessionContext, rule: Arc<dyn PhysicalOptimizerRule + Send + Sync>) {
    let state = ctx.state();
    let mut rules = vec![Arc::clone(&rule)];
    rules.extend(
        state
            .physical_optimizers()
            .iter()
            .filter(|r| r.name() != rule.name())
            .cloned(),
    );
    let state = SessionStateBuilder::new_from_existing(state)
        .with_physical_optimizer_rules(rules)
        .build();
    *ctx.state_ref().write() = state;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_tenants_get_the_defaults() {
        let mut settings = Settings::default();
        let acme = TenantSettings {
            default_country: "US".into(),
            ..TenantSettings::default()
        };
        settings.tenants.insert("acme".into(), acme.clone());
        assert_eq!(settings.for_tenant("acme"), &acme);
        assert_eq!(settings.for_tenant("other").default_country, "NL");
    }

    #[test]
    fn function_names_are_unique_and_documented() {
        let fs = functions(Arc::default());
        let mut names: Vec<&str> = fs.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), fs.len());
        for f in &fs {
            assert!(
                f.documentation().is_some(),
                "{} has no documentation",
                f.name()
            );
        }
    }
}

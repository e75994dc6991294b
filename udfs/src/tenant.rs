//! Tenant functions: the settings of SPEC 2.5 (`tenant_timezone`, `target_call_s`,
//! `sales_cycle_days`, `refund_destination`, `default_country`) and the tenant's calendar (`tenant_local_time`,
//! `sales_cycle`; the rules are in [`crate::time`]).
//!
//! Every function reads the [`Settings`] given to [`crate::register_all`]: a tenant that is not
//! configured by name has the defaults of `[tenants."*"]`, and a NULL tenant gives NULL. What
//! a function derives from a tenant's settings (a parsed time zone) is worked out once per
//! tenant and batch; a configured time zone that is no IANA name, or a `sales_cycle_days` of
//! 0, is an error of the first call that needs it, not a silent default.
//!
//! Views use them for the tenant-local parts of SPEC 4: `call_data_records.date_time` is
//! `tenant_local_time(tenant, start_time)`, and the call-log target logic partitions by
//! `sales_cycle(tenant, start_time)` and compares talk time with `target_call_s(tenant)`.

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion_macros::user_doc;

use crate::args::{Arg, Kind, Rows, Texts, arg, impl_udf, settings_udf};
use crate::text_ids::{NULL_ID, TextIds};
use crate::time::{self, ZoneClock};
use crate::{Settings, TenantSettings};

/// Per-batch memo of what a function derives from a tenant's settings: the batch's tenants are
/// numbered once ([`TextIds`]) and each tenant's value is derived on the first row that needs
/// it.
struct PerTenant<'s, 'r, V> {
    settings: &'s Settings,
    tenants: TextIds<'r>,
    derived: Vec<Option<V>>,
}

impl<'s, 'r, V> PerTenant<'s, 'r, V> {
    /// The memo for the first `rows` rows of `tenants`.
    fn new(settings: &'s Settings, tenants: &Texts<'r>, rows: usize) -> Self {
        let tenants = TextIds::of(tenants, rows);
        let derived = std::iter::repeat_with(|| None)
            .take(tenants.values.len())
            .collect();
        Self {
            settings,
            tenants,
            derived,
        }
    }

    /// `derive(tenant, its settings)` for the tenant of row `row`, computed once per tenant;
    /// `None` for a NULL tenant.
    #[inline]
    fn get(
        &mut self,
        row: usize,
        derive: impl FnOnce(&str, &'s TenantSettings) -> Result<V>,
    ) -> Result<Option<&mut V>> {
        let id = self.tenants.ids[row];
        if id == NULL_ID {
            return Ok(None);
        }
        let id = id as usize;
        let slot = &mut self.derived[id];
        if slot.is_none() {
            let tenant = self.tenants.values[id];
            *slot = Some(derive(tenant, self.settings.for_tenant(tenant))?);
        }
        Ok(slot.as_mut())
    }
}

/// The tenant's parsed time zone.
fn tenant_zone(tenant: &str, settings: &TenantSettings) -> Result<Tz> {
    match time::zone(&settings.timezone) {
        Some(tz) => Ok(tz),
        None => exec_err!(
            "tenant '{tenant}': timezone '{}' is not an IANA time zone name",
            settings.timezone
        ),
    }
}

/// A clock of the tenant's time zone.
fn tenant_clock(tenant: &str, settings: &TenantSettings) -> Result<ZoneClock> {
    Ok(ZoneClock::new(tenant_zone(tenant, settings)?))
}

/// A clock of the tenant's time zone and its sales-cycle length.
fn tenant_calendar(tenant: &str, settings: &TenantSettings) -> Result<(ZoneClock, NonZeroU32)> {
    let Some(days) = NonZeroU32::new(settings.sales_cycle_days) else {
        return exec_err!("tenant '{tenant}': sales_cycle_days must be at least 1");
    };
    Ok((tenant_clock(tenant, settings)?, days))
}

/// A setting as `INT`.
fn int_setting(tenant: &str, name: &str, value: u32) -> Result<i32> {
    match i32::try_from(value) {
        Ok(value) => Ok(value),
        Err(_) => exec_err!("tenant '{tenant}': {name} = {value} does not fit an INT"),
    }
}

/// Evaluates `value(tenant, settings)` for the tenant of every row (argument 0), NULL for a
/// NULL tenant.
fn per_row<'s, A, T: Copy>(
    settings: &'s Settings,
    rows: &Rows,
    value: impl Fn(&str, &'s TenantSettings) -> Result<T>,
) -> Result<ArrayRef>
where
    A: FromIterator<Option<T>> + Array + 'static,
{
    let mut memo = PerTenant::new(settings, &rows.texts(0)?, rows.len());
    let out = (0..rows.len())
        .map(|r| Ok(memo.get(r, &value)?.copied()))
        .collect::<Result<A>>()?;
    Ok(Arc::new(out))
}

const TENANT_ARGS: &[Arg] = &[arg("tenant", Kind::Text)];

/// Declared arguments of the calendar functions.
const INSTANT_ARGS: &[Arg] = &[arg("tenant", Kind::Text), arg("ts", Kind::Instant)];

/// The error of an instant chrono cannot place on a calendar.
fn out_of_range<T>(function: &str, micros: i64) -> Result<T> {
    exec_err!("{function}: {micros} microseconds since 1970 is outside the supported dates")
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Wall-clock time of the instant ts in the tenant's time zone (setting timezone, an IANA name; default Europe/Amsterdam), daylight saving time included, as a timestamp without time zone: the hosted-PBX list's local Date/Time. In the repeated hour of a fall-back night two instants show the same local time; the skipped hour of a spring-forward night never shows. A timestamp without time zone, or text without an offset, is read as UTC. NULL tenant or ts gives NULL.",
    syntax_example = "tenant_local_time(tenant, ts)",
    sql_example = r#"```sql
> select tenant_local_time('acme', TIMESTAMP '2026-11-01T23:30:00Z'), tenant_local_time('acme', TIMESTAMP '2026-07-01T10:00:00Z');
2026-11-02T00:30:00 | 2026-07-01T12:00:00
```"#,
    argument(name = "tenant", description = "Tenant whose timezone applies."),
    argument(
        name = "ts",
        description = "The instant (timestamptz, e.g. cdrs.start_time)."
    )
)]
/// `tenant_local_time(tenant, ts)` → `TIMESTAMP` (without time zone); see
/// [`time::local_micros`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct TenantLocalTime {
    settings: Arc<Settings>,
}

impl TenantLocalTime {
    /// The function reading tenant settings from `settings`.
    pub fn new(settings: Arc<Settings>) -> Self {
        Self { settings }
    }

    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let instants = rows.instants(1)?;
        let mut clocks = PerTenant::new(&self.settings, &rows.texts(0)?, rows.len());
        let out = (0..rows.len())
            .map(|r| {
                let Some(ts) = instants.get(r) else {
                    return Ok(None);
                };
                let Some(clock) = clocks.get(r, tenant_clock)? else {
                    return Ok(None);
                };
                match clock.local_micros(ts) {
                    Some(local) => Ok(Some(local)),
                    None => out_of_range("tenant_local_time", ts),
                }
            })
            .collect::<Result<TimestampMicrosecondArray>>()?;
        Ok(Arc::new(out))
    }
}

impl_udf!(TenantLocalTime, name: "tenant_local_time", args: INSTANT_ARGS, required: 2,
    returns: DataType::Timestamp(TimeUnit::Microsecond, None), strict: true);

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Number of the tenant's sales cycle that the instant ts falls in: floor(d / sales_cycle_days), d being the days from 1970-01-01 to the calendar date of ts in the tenant's time zone. A sales cycle is a run of sales_cycle_days calendar days counted from 1970-01-01 (cycle 0; earlier dates have negative cycles) and begins at local midnight; with the default one-day cycle the number is the local date's day number. Partition the call-log target logic by it: PARTITION BY tenant, source, sales_cycle(tenant, start_time). NULL tenant or ts gives NULL.",
    syntax_example = "sales_cycle(tenant, ts)",
    sql_example = r#"```sql
> select sales_cycle('acme', TIMESTAMP '2026-11-01T22:59:59Z'), sales_cycle('acme', TIMESTAMP '2026-11-01T23:00:00Z');
20758 | 20759
```"#,
    argument(
        name = "tenant",
        description = "Tenant whose timezone and sales_cycle_days apply."
    ),
    argument(
        name = "ts",
        description = "The instant (timestamptz, e.g. cdrs.start_time)."
    )
)]
/// `sales_cycle(tenant, ts)` → `BIGINT`; see [`time::sales_cycle`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct SalesCycle {
    settings: Arc<Settings>,
}

impl SalesCycle {
    /// The function reading tenant settings from `settings`.
    pub fn new(settings: Arc<Settings>) -> Self {
        Self { settings }
    }

    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let instants = rows.instants(1)?;
        let mut calendars = PerTenant::new(&self.settings, &rows.texts(0)?, rows.len());
        let out = (0..rows.len())
            .map(|r| {
                let Some(ts) = instants.get(r) else {
                    return Ok(None);
                };
                let Some((clock, days)) = calendars.get(r, tenant_calendar)? else {
                    return Ok(None);
                };
                match clock.sales_cycle(*days, ts) {
                    Some(cycle) => Ok(Some(cycle)),
                    None => out_of_range("sales_cycle", ts),
                }
            })
            .collect::<Result<Int64Array>>()?;
        Ok(Arc::new(out))
    }
}

impl_udf!(SalesCycle, name: "sales_cycle", args: INSTANT_ARGS, required: 2,
    returns: DataType::Int64, strict: true);

/// Declares a function that returns one setting of the row's tenant (NULL for a NULL tenant).
macro_rules! setting_udf {
    ($(#[$meta:meta])* $ty:ident, name: $name:literal, array: $array:ty, returns: $ret:expr,
     value: $value:expr $(,)?) => {
        settings_udf! {
            $(#[$meta])*
            $ty, name: $name, args: TENANT_ARGS, required: 1, returns: $ret, strict: true,
            eval: |settings, rows| per_row::<$array, _>(settings, rows, $value)
        }
    };
}

setting_udf! {
#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "The tenant's time zone (setting timezone: an IANA name, default Europe/Amsterdam). NULL tenant gives NULL.",
    syntax_example = "tenant_timezone(tenant)",
    sql_example = r#"```sql
> select tenant_timezone('acme');
Europe/Amsterdam
```"#,
    argument(name = "tenant", description = "Tenant name (cdrs.tenant).")
)]
/// `tenant_timezone(tenant)` → `TEXT`.
    TenantTimezone, name: "tenant_timezone", array: StringArray, returns: DataType::Utf8,
    value: |_, s| Ok(s.timezone.as_str())
}

setting_udf! {
#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "The tenant's target call length in seconds (setting target_call_s, default 30): an answered call of at least this talk time is Proper in the call log. NULL tenant gives NULL.",
    syntax_example = "target_call_s(tenant)",
    sql_example = r#"```sql
> select target_call_s('acme');
30
```"#,
    argument(name = "tenant", description = "Tenant name (cdrs.tenant).")
)]
/// `target_call_s(tenant)` → `INT`.
    TargetCallS, name: "target_call_s", array: Int32Array, returns: DataType::Int32,
    value: |t, s| int_setting(t, "target_call_s", s.target_call_s)
}

setting_udf! {
#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "The length of the tenant's sales cycle in calendar days (setting sales_cycle_days, default 1); see sales_cycle. NULL tenant gives NULL.",
    syntax_example = "sales_cycle_days(tenant)",
    sql_example = r#"```sql
> select sales_cycle_days('acme');
1
```"#,
    argument(name = "tenant", description = "Tenant name (cdrs.tenant).")
)]
/// `sales_cycle_days(tenant)` → `INT`.
    SalesCycleDays, name: "sales_cycle_days", array: Int32Array, returns: DataType::Int32,
    value: |t, s| int_setting(t, "sales_cycle_days", s.sales_cycle_days)
}

setting_udf! {
#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "The destination the tenant's refund records carry (setting refund_destination, default REF0): call_reports.called_number of a refund row. NULL tenant gives NULL.",
    syntax_example = "refund_destination(tenant)",
    sql_example = r#"```sql
> select refund_destination('acme');
REF0
```"#,
    argument(name = "tenant", description = "Tenant name (cdrs.tenant).")
)]
/// `refund_destination(tenant)` → `TEXT`.
    RefundDestination, name: "refund_destination", array: StringArray, returns: DataType::Utf8,
    value: |_, s| Ok(s.refund_destination.as_str())
}

setting_udf! {
#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "The tenant's country for numbers written without a country code (setting default_country: ISO 3166 alpha-2, default NL), as e164 takes it: e164(destination, default_country(tenant)). NULL tenant gives NULL.",
    syntax_example = "default_country(tenant)",
    sql_example = r#"```sql
> select default_country('acme');
NL
```"#,
    argument(name = "tenant", description = "Tenant name (cdrs.tenant).")
)]
/// `default_country(tenant)` → `TEXT`.
    DefaultCountry, name: "default_country", array: StringArray, returns: DataType::Utf8,
    value: |_, s| Ok(s.default_country.as_str())
}

impl DefaultCountry {
    /// The settings it reads the countries from.
    pub(crate) fn settings(&self) -> &Arc<Settings> {
        &self.settings
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Int64Type, TimestampMicrosecondType};
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::ColumnarValue;

    use super::*;

    fn settings() -> Settings {
        let mut settings = Settings::default();
        let us = TenantSettings {
            timezone: "America/New_York".into(),
            sales_cycle_days: 7,
            ..TenantSettings::default()
        };
        let broken = TenantSettings {
            timezone: "Europe/Atlantis".into(),
            sales_cycle_days: 0,
            ..TenantSettings::default()
        };
        settings.tenants.insert("us".into(), us);
        settings.tenants.insert("broken".into(), broken);
        settings
    }

    #[test]
    fn memo_derives_once_per_tenant() {
        let settings = settings();
        let tenants = ["us", "us", "other", "us", "other"];
        let args = [ColumnarValue::Array(Arc::new(StringArray::from(
            tenants
                .iter()
                .map(|t| Some(*t))
                .chain([None])
                .collect::<Vec<_>>(),
        )))];
        let rows = Rows::new(&args, 6).unwrap();
        let mut memo = PerTenant::new(&settings, &rows.texts(0).unwrap(), 6);
        let mut calls = 0;
        for (r, tenant) in tenants.iter().enumerate() {
            let days = memo
                .get(r, |_, s| {
                    calls += 1;
                    Ok(s.sales_cycle_days)
                })
                .unwrap();
            assert_eq!(days.copied(), Some(if *tenant == "us" { 7 } else { 1 }));
        }
        assert!(memo.get(5, |_, _| Ok(0)).unwrap().is_none());
        assert_eq!(calls, 2);
    }

    #[test]
    fn bad_settings_are_errors() {
        let settings = settings();
        let broken = settings.for_tenant("broken");
        let err = tenant_zone("broken", broken).unwrap_err();
        assert!(
            err.to_string().contains("'Europe/Atlantis' is not an IANA"),
            "{err}"
        );
        let err = tenant_calendar("broken", broken).unwrap_err();
        assert!(
            err.to_string()
                .contains("sales_cycle_days must be at least 1"),
            "{err}"
        );
        assert!(int_setting("t", "target_call_s", u32::MAX).is_err());
    }

    #[test]
    fn columns_of_tenants_and_scalar_instants() {
        let settings = Arc::new(settings());
        let tenants = ColumnarValue::Array(Arc::new(StringArray::from(vec![
            Some("us"),
            None,
            Some("acme"),
        ])));
        // 2026-11-05T05:00:00Z: Thursday 00:00 in New York, 06:00 in Amsterdam.
        let ts = ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(
            Some(1_793_854_800_000_000),
            Some(Arc::from("UTC")),
        ));
        let args = [tenants, ts];
        let rows = Rows::new(&args, 3).unwrap();

        let local = TenantLocalTime::new(Arc::clone(&settings))
            .eval(&rows)
            .unwrap();
        let local = local.as_primitive::<TimestampMicrosecondType>();
        let hour = 3_600_000_000;
        assert_eq!(local.value(0), 1_793_854_800_000_000 - 5 * hour);
        assert!(local.is_null(1));
        assert_eq!(local.value(2), 1_793_854_800_000_000 + hour);

        let cycles = SalesCycle::new(settings).eval(&rows).unwrap();
        let cycles: Vec<_> = cycles.as_primitive::<Int64Type>().iter().collect();
        assert_eq!(cycles, vec![Some(2_966), None, Some(20_762)]);
    }
}

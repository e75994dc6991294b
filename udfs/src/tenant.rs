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

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion_macros::user_doc;

use crate::args::{Arg, Kind, Rows, arg, impl_udf, settings_udf};
use crate::time;
use crate::{Settings, TenantSettings};

/// Per-batch memo of what a function derives from a tenant's settings. Rows usually arrive
/// grouped by tenant, so the previous row's tenant is tried before the map.
struct PerTenant<'s, 'r, V> {
    settings: &'s Settings,
    last: Option<(&'r str, V)>,
    seen: HashMap<&'r str, V>,
}

impl<'s, 'r, V: Copy> PerTenant<'s, 'r, V> {
    fn new(settings: &'s Settings) -> Self {
        Self {
            settings,
            last: None,
            seen: HashMap::new(),
        }
    }

    /// `derive(tenant, its settings)`, computed once per tenant.
    fn get(
        &mut self,
        tenant: &'r str,
        derive: impl FnOnce(&str, &'s TenantSettings) -> Result<V>,
    ) -> Result<V> {
        if let Some((previous, value)) = self.last
            && previous == tenant
        {
            return Ok(value);
        }
        let value = match self.seen.get(tenant) {
            Some(value) => *value,
            None => {
                let value = derive(tenant, self.settings.for_tenant(tenant))?;
                self.seen.insert(tenant, value);
                value
            }
        };
        self.last = Some((tenant, value));
        Ok(value)
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

/// The tenant's parsed time zone and sales-cycle length.
fn tenant_calendar(tenant: &str, settings: &TenantSettings) -> Result<(Tz, NonZeroU32)> {
    let Some(days) = NonZeroU32::new(settings.sales_cycle_days) else {
        return exec_err!("tenant '{tenant}': sales_cycle_days must be at least 1");
    };
    Ok((tenant_zone(tenant, settings)?, days))
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
    let tenants = rows.texts(0)?;
    let mut memo = PerTenant::new(settings);
    let out = (0..rows.len())
        .map(|r| tenants.get(r).map(|t| memo.get(t, &value)).transpose())
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
        let (tenants, instants) = (rows.texts(0)?, rows.instants(1)?);
        let mut zones = PerTenant::new(&self.settings);
        let out = (0..rows.len())
            .map(|r| {
                let (Some(tenant), Some(ts)) = (tenants.get(r), instants.get(r)) else {
                    return Ok(None);
                };
                let tz = zones.get(tenant, tenant_zone)?;
                match time::local_micros(tz, ts) {
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
        let (tenants, instants) = (rows.texts(0)?, rows.instants(1)?);
        let mut calendars = PerTenant::new(&self.settings);
        let out = (0..rows.len())
            .map(|r| {
                let (Some(tenant), Some(ts)) = (tenants.get(r), instants.get(r)) else {
                    return Ok(None);
                };
                let (tz, days) = calendars.get(tenant, tenant_calendar)?;
                match time::sales_cycle(tz, days, ts) {
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
        let mut memo = PerTenant::new(&settings);
        let mut calls = 0;
        for tenant in ["us", "us", "other", "us", "other"] {
            let days = memo
                .get(tenant, |_, s| {
                    calls += 1;
                    Ok(s.sales_cycle_days)
                })
                .unwrap();
            assert_eq!(days, if tenant == "us" { 7 } else { 1 });
        }
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

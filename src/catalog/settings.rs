//! The `settings` table: per-tenant settings of SPEC 2.5 as the configuration file gives them
//! (`[tenants.NAME]`, defaults under `[tenants."*"]`), one row per configured tenant plus the
//! `*` row, every field resolved. Views join it to pick each call's tenant's time zone,
//! target call length and sales cycle.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use cdrlake_udfs::{Settings, TenantSettings};
use datafusion::datasource::MemTable;

use crate::error::Result;

/// Name of the tenant row holding the defaults.
pub const ALL_TENANTS: &str = "*";

/// The `settings` table for `settings`.
pub fn settings_table(settings: &Settings) -> Result<MemTable> {
    let rows: Vec<(&str, &TenantSettings)> = std::iter::once((ALL_TENANTS, &settings.default))
        .chain(settings.tenants.iter().map(|(k, v)| (k.as_str(), v)))
        .collect();
    let text = |f: fn(&TenantSettings) -> &str| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|(_, s)| Some(f(s)))
                .collect::<StringArray>(),
        )
    };
    let int = |f: fn(&TenantSettings) -> u32| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|(_, s)| Some(f(s) as i32))
                .collect::<Int32Array>(),
        )
    };
    let mut excluded = ListBuilder::new(StringBuilder::new());
    for (_, s) in &rows {
        for prefix in &s.excluded_numbers {
            excluded.values().append_value(prefix);
        }
        excluded.append(true);
    }
    let tenants: ArrayRef = Arc::new(rows.iter().map(|(t, _)| Some(*t)).collect::<StringArray>());
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("tenant", tenants),
        ("timezone", text(|s| &s.timezone)),
        ("target_call_s", int(|s| s.target_call_s)),
        ("sales_cycle_days", int(|s| s.sales_cycle_days)),
        ("refund_destination", text(|s| &s.refund_destination)),
        ("excluded_numbers", Arc::new(excluded.finish())),
        ("retention_days", int(|s| s.retention_days)),
        ("default_country", text(|s| &s.default_country)),
    ];
    let schema = Schema::new(
        columns
            .iter()
            .map(|(name, array)| {
                let list_item = matches!(array.data_type(), DataType::List(_));
                Field::new(*name, array.data_type().clone(), list_item)
            })
            .collect::<Vec<_>>(),
    );
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )?;
    Ok(MemTable::try_new(batch.schema(), vec![vec![batch]])?)
}

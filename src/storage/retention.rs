//! Retention (SPEC 2.5 `retention_days`): calls of a tenant whose `call_date` is more than
//! its retention days before today are removed, with the refunds and billing events of
//! those calls. A partition holding only expired rows is dropped whole (a metadata-only
//! commit); in a partition shared with tenants that keep their rows longer, only the
//! expired tenants' rows are deleted. Followers go first: a run cut short leaves calls whose
//! refunds are gone, never refunds of calls that are gone, and the next run completes it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Int64Type};
use chrono::NaiveDate;
use datafusion::logical_expr::{Expr, col, lit};
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use deltalake::delta_datafusion::create_session;

use cdrlake_udfs::Settings;

use super::Store;
use crate::error::{Error, Result};
use crate::ingest::days_since_epoch;

/// Tables whose rows follow their call (`tenant`, `call_id`) out of the store.
pub const FOLLOWERS: [&str; 2] = ["refunds", "billing_events"];

/// What one retention run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Calls removed, per tenant.
    pub calls: BTreeMap<String, u64>,
    /// Partitions (`call_date` values) dropped whole.
    pub partitions_dropped: Vec<NaiveDate>,
    /// Rows removed from each follower table.
    pub followers: BTreeMap<String, u64>,
}

/// Calls per (tenant, call_date) as stored.
struct Census {
    rows: Vec<(String, i32, u64)>,
}

impl Store {
    /// Removes calls older than their tenant's retention as of `today` (UTC), and what
    /// follows them. The caller holds the writer lock.
    pub async fn apply_retention(
        &self,
        settings: &Settings,
        today: NaiveDate,
    ) -> Result<RetentionReport> {
        let ctx = create_session().into_inner();
        let cdrs = self.table("cdrs").await?;
        cdrs.update_datafusion_session(&ctx.state())
            .map_err(Error::delta("cdrs"))?;
        ctx.register_table("cdrs", cdrs.table_provider().await?)?;
        let census = Census::take(&ctx).await?;
        let today = days_since_epoch(today);
        let cutoff = |tenant: &str| -> Option<i32> {
            let days = settings.for_tenant(tenant).retention_days;
            (days > 0).then(|| today - days as i32)
        };
        let expired = |tenant: &str, date: i32| cutoff(tenant).is_some_and(|c| date < c);

        let mut report = RetentionReport::default();
        let mut dates: BTreeMap<i32, bool> = BTreeMap::new();
        let mut tenants: BTreeSet<&str> = BTreeSet::new();
        for (tenant, date, n) in &census.rows {
            let gone = expired(tenant, *date);
            *dates.entry(*date).or_insert(true) &= gone;
            if gone {
                *report.calls.entry(tenant.clone()).or_default() += n;
                tenants.insert(tenant);
            }
        }
        if tenants.is_empty() {
            return Ok(report);
        }
        // (tenant = t AND call_date < cutoff(t)) OR …
        let rows_predicate = tenants
            .iter()
            .filter_map(|t| {
                let c = cutoff(t)?;
                Some(
                    col("tenant")
                        .eq(lit(*t))
                        .and(col("call_date").lt(date_lit(c))),
                )
            })
            .reduce(Expr::or)
            .ok_or_else(|| Error::InvalidArgument("retention: no expired tenant".into()))?;

        let keys = ctx
            .table("cdrs")
            .await?
            .filter(rows_predicate.clone())?
            .select_columns(&["tenant", "call_id"])?;
        for follower in FOLLOWERS {
            let removed = self.remove_followers(follower, keys.clone(), &ctx).await?;
            report.followers.insert(follower.to_string(), removed);
        }

        let whole: Vec<i32> = dates.iter().filter(|(_, g)| **g).map(|(d, _)| *d).collect();
        if !whole.is_empty() {
            let predicate =
                col("call_date").in_list(whole.iter().map(|d| date_lit(*d)).collect(), false);
            self.delete_where("cdrs", predicate).await?;
            report.partitions_dropped = whole.iter().filter_map(|d| date_of(*d)).collect();
        }
        if dates.values().any(|g| !*g) {
            self.delete_where("cdrs", rows_predicate).await?;
        }
        Ok(report)
    }

    /// Deletes the rows of `table` whose (tenant, call_id) is among `keys`; returns how many.
    async fn remove_followers(
        &self,
        table: &str,
        keys: datafusion::prelude::DataFrame,
        ctx: &SessionContext,
    ) -> Result<u64> {
        let delta = self.table(table).await?;
        if delta
            .snapshot()
            .map_or(true, |s| s.log_data().num_files() == 0)
        {
            return Ok(0);
        }
        let (delta, metrics) = delta
            .merge(
                keys,
                col("t.tenant")
                    .eq(col("s.tenant"))
                    .and(col("t.call_id").eq(col("s.call_id"))),
            )
            .with_source_alias("s")
            .with_target_alias("t")
            .with_session_state(Arc::new(ctx.state()))
            .when_matched_delete(|d| d)
            .map_err(Error::delta(table))?
            .await
            .map_err(Error::delta(table))?;
        self.sync_commit(table, delta.version())?;
        Ok(metrics.num_target_rows_deleted as u64)
    }

    /// One Delta delete of the rows of `table` matching `predicate`.
    async fn delete_where(&self, table: &str, predicate: Expr) -> Result<()> {
        let (delta, metrics) = self
            .table(table)
            .await?
            .delete()
            .with_predicate(predicate)
            .await
            .map_err(Error::delta(table))?;
        tracing::info!(table, rows = ?metrics.num_deleted_rows, files = metrics.num_removed_files, "retention delete");
        self.sync_commit(table, delta.version())
    }
}

impl Census {
    async fn take(ctx: &SessionContext) -> Result<Census> {
        let batches = ctx
            .sql("SELECT CAST(tenant AS VARCHAR) AS tenant, call_date, count(*) AS n FROM cdrs GROUP BY 1, 2")
            .await?
            .collect()
            .await?;
        let mut rows = Vec::new();
        for batch in batches {
            let tenant = arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
            let tenant = tenant.as_string::<i32>();
            let date = batch.column(1).as_primitive::<Date32Type>();
            let n = batch.column(2).as_primitive::<Int64Type>();
            for i in 0..batch.num_rows() {
                if date.is_null(i) {
                    continue;
                }
                rows.push((
                    tenant.value(i).to_string(),
                    date.value(i),
                    n.value(i) as u64,
                ));
            }
        }
        Ok(Census { rows })
    }
}

fn date_lit(days: i32) -> Expr {
    Expr::Literal(ScalarValue::Date32(Some(days)), None)
}

fn date_of(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(days.into()))
}

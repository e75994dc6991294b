//! Computing and storing the rows of the materialized views.

use std::collections::BTreeMap;

use cdrlake_udfs::Settings;
use datafusion::prelude::SessionContext;

use super::{MATERIALIZED, Spec, fingerprint};
use crate::error::Result;
use crate::query::quote::quote_ident as quote;
use crate::schema::{self, TableDef};
use crate::storage::{Materialization, Store};

/// What a refresh did to one view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// The stored rows were current already.
    Current(Materialization),
    /// The rows were computed and stored.
    Stored(Materialization),
    /// A source table changed while the view was being planned; the next refresh tries
    /// again.
    SourceMoved,
}

/// A materialized view as a refresh finds it.
struct Found {
    name: String,
    sql: &'static str,
    spec: &'static Spec,
    fingerprint: String,
    /// The versions of its tables now.
    versions: BTreeMap<String, u64>,
    /// The record of its stored rows, if they are current.
    current: Option<Materialization>,
}

/// Every materialized view, with its tables' versions now and its record if current.
async fn found(store: &Store, settings: &Settings) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for (name, sql) in super::super::views::definitions()? {
        let Some(spec) = super::spec(&name) else {
            continue;
        };
        let fingerprint = fingerprint(&name, sql, settings);
        let versions = versions(store, spec).await?;
        let current = store
            .materialization(&name)
            .await?
            .filter(|r| r.sources == versions && r.fingerprint == fingerprint);
        found.push(Found {
            name,
            sql,
            spec,
            fingerprint,
            versions,
            current,
        });
    }
    Ok(found)
}

/// Brings the stored rows of every materialized view up to date with its source tables and
/// `settings`, computing each view in `ctx` (a session over `store` with the functions of
/// `settings`). Needs no writer lock: a commit to a source meanwhile only makes the rows it
/// stores stale, which readers see (they then compute the view).
pub async fn refresh(
    ctx: &SessionContext,
    store: &Store,
    settings: &Settings,
) -> Result<Vec<(String, Refreshed)>> {
    let mut outcomes = Vec::new();
    for view in found(store, settings).await? {
        if let Some(record) = view.current {
            outcomes.push((view.name, Refreshed::Current(record)));
            continue;
        }
        // Each scan reads its table's newest version when planned, and the rate deck is read
        // then too: unchanged before and after planning, those versions are the ones found.
        let cdrs = schema::table("cdrs")?;
        let rows = if view.spec.adds_columns_to_cdrs {
            rows_added_to(ctx, view.sql, cdrs).await?
        } else {
            view.sql.to_string()
        };
        let frame = ctx.sql(&rows).await?;
        let layout = layout(cdrs, frame.schema().fields().iter().map(|f| f.name()));
        let plan = frame.create_physical_plan().await?;
        if versions(store, view.spec).await? != view.versions {
            outcomes.push((view.name, Refreshed::SourceMoved));
            continue;
        }
        let record = store
            .materialize(
                &view.name,
                plan,
                ctx.task_ctx(),
                &layout,
                view.versions,
                view.fingerprint,
            )
            .await?;
        tracing::info!(view = %view.name, rows = record.rows, sources = ?record.sources, "materialized");
        outcomes.push((view.name, Refreshed::Stored(record)));
    }
    Ok(outcomes)
}

/// Whether the stored rows of some materialized view are missing or stale: a refresh would
/// compute them.
pub async fn stale(store: &Store, settings: &Settings) -> Result<bool> {
    Ok(found(store, settings)
        .await?
        .iter()
        .any(|v| v.current.is_none()))
}

/// The versions of every table a materialized view reads.
pub async fn source_versions(store: &Store) -> Result<BTreeMap<String, u64>> {
    let mut all = BTreeMap::new();
    for spec in MATERIALIZED {
        all.extend(versions(store, spec).await?);
    }
    Ok(all)
}

/// The current version of each source table of `spec`.
async fn versions(store: &Store, spec: &Spec) -> Result<BTreeMap<String, u64>> {
    let mut versions = BTreeMap::new();
    for table in spec.sources {
        if let Some(v) = store.table(table).await?.version() {
            versions.insert((*table).to_string(), v);
        }
    }
    Ok(versions)
}

/// How stored rows of `columns` are laid out: as `cdrs` is (partitioned by day, sorted by
/// tenant and start), without the partition or sort columns the rows lack.
fn layout<'a>(cdrs: &TableDef, columns: impl Iterator<Item = &'a String>) -> TableDef {
    let columns: Vec<&String> = columns.collect();
    let has = |c: &String| columns.contains(&c);
    let mut layout = cdrs.clone();
    if !layout.partition_by.iter().all(has) {
        layout.partition_by.clear();
    }
    layout.sort_by.retain(has);
    layout
}

/// The query that computes the rows of the view `sql`, which keeps every row and column of
/// `cdrs` (`layout`) and adds columns ([`Spec::adds_columns_to_cdrs`]): the added ones
/// computed over `cdrs`'s unique key alone (the grouping's input narrow), then joined to the
/// table's rows by that key (the added columns are the hash join's build side). The view
/// itself would carry every column through its grouping, which holds all its rows until the
/// end (~8 GB at 10M calls where this peaks near 2).
async fn rows_added_to(ctx: &SessionContext, sql: &str, layout: &TableDef) -> Result<String> {
    let view = ctx.sql(sql).await?;
    let stored: Vec<&str> = layout.columns.iter().map(|c| c.name.as_str()).collect();
    let mut select = Vec::new();
    let mut added = Vec::new();
    for field in view.schema().fields() {
        let name = field.name().as_str();
        if stored.contains(&name) {
            select.push(format!("t.{}", quote(name)));
        } else {
            select.push(format!("v.{}", quote(name)));
            added.push(quote(name));
        }
    }
    let key: Vec<String> = layout
        .unique_key
        .iter()
        .map(|c| quote(c).into_owned())
        .collect();
    let on: Vec<String> = key.iter().map(|k| format!("t.{k} = v.{k}")).collect();
    Ok(format!(
        "SELECT {} FROM (SELECT {}, {} FROM ({}) AS w) AS v JOIN {} AS t ON {}",
        select.join(", "),
        key.join(", "),
        added.join(", "),
        sql.trim().trim_end_matches(';'),
        quote(&layout.name),
        on.join(" AND ")
    ))
}

/// Deletes the files of the materialized tables replaced more than `grace` ago; returns how
/// many were deleted. The caller holds the writer lock.
pub async fn vacuum(store: &Store, grace: chrono::Duration) -> Result<usize> {
    let mut deleted = 0;
    for spec in MATERIALIZED {
        if store.materialization(spec.view).await?.is_some() {
            deleted += store
                .vacuum(&Store::materialized_table_name(spec.view), grace)
                .await?;
        }
    }
    Ok(deleted)
}

/// One line on what a refresh did to `view`, for people.
pub fn describe(view: &str, refreshed: &Refreshed) -> String {
    match refreshed {
        Refreshed::Current(m) => format!(
            "{view}: stored rows current ({} rows of {})",
            m.rows,
            sources(m)
        ),
        Refreshed::Stored(m) => {
            format!(
                "{view}: stored {} rows computed from {}",
                m.rows,
                sources(m)
            )
        }
        Refreshed::SourceMoved => {
            format!("{view}: its tables changed while computing; stored rows left as they were")
        }
    }
}

/// `cdrs version 3, rates version 1`.
fn sources(m: &Materialization) -> String {
    m.sources
        .iter()
        .map(|(t, v)| format!("{t} version {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

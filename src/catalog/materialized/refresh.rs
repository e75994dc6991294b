//! Computing and storing the rows of the materialized views.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::DataType;
use cdrlake_udfs::Settings;
use datafusion::prelude::{DataFrame, SessionContext};

use super::{MATERIALIZED, Spec, append, fingerprint, passes};
use crate::error::Result;
use crate::query::quote::quote_ident as quote;
use crate::schema::{self, TableDef};
use crate::storage::{Materialization, Store, Write, row_count};

/// What a refresh did to one view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// The stored rows were current already.
    Current(Materialization),
    /// The rows were computed and stored.
    Stored(Materialization),
    /// The rows of calls appended since were computed and added to the stored rows.
    Appended(Materialization),
    /// A source table, or the stored rows, changed while the view was being computed; the
    /// next refresh tries again.
    SourceMoved,
    /// The stored rows are stale and cannot be completed by appending: left for a refresh
    /// of [`Scope::All`].
    Left,
    /// Computing or storing the rows failed (the error); the stored rows are as they were.
    Failed(String),
}

/// What a refresh does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Brings every view's stored rows up to date: stale rows are completed with the rows of
    /// appended calls where they can be ([`super::Appendable`]), else computed whole; current
    /// rows that appends completed are written anew whole (in as few files as a first write).
    All,
    /// Only completes stale rows with the rows of appended calls; leaves the others.
    Appends,
}

/// A materialized view as a refresh finds it.
struct Found {
    name: String,
    sql: &'static str,
    spec: &'static Spec,
    fingerprint: String,
    /// The versions of its tables now.
    versions: BTreeMap<String, u64>,
    /// The record of its stored rows, current or not.
    record: Option<Materialization>,
}

impl Found {
    /// The record, if its rows are current.
    fn current(&self) -> Option<&Materialization> {
        self.record
            .as_ref()
            .filter(|r| r.sources == self.versions && r.fingerprint == self.fingerprint)
    }

    /// Whether a refresh of `scope` would write its rows.
    fn wanted(&self, scope: Scope) -> bool {
        match (scope, self.current()) {
            (Scope::All, None) => true,
            (Scope::All, Some(record)) => record.appends > 0,
            (Scope::Appends, None) => self.spec.appendable.is_some(),
            (Scope::Appends, Some(_)) => false,
        }
    }
}

/// Every materialized view, with its tables' versions now and its record.
async fn found(store: &Store, settings: &Settings) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for (name, sql) in super::super::views::definitions()? {
        let Some(spec) = super::spec(&name) else {
            continue;
        };
        let fingerprint = fingerprint(&name, sql, settings);
        let versions = versions(store, spec).await?;
        let record = store.materialization(&name).await?;
        found.push(Found {
            name,
            sql,
            spec,
            fingerprint,
            versions,
            record,
        });
    }
    Ok(found)
}

/// Brings the stored rows of the materialized views of `scope` up to date with their source
/// tables and `settings`, computing each view in `ctx` (a session over `store` with the
/// functions of `settings`). Needs no writer lock: a commit to a source meanwhile only makes
/// the rows it stores stale, which readers see (they then compute the view). A view that
/// fails is [`Refreshed::Failed`], and the others are still refreshed; `Err` only when the
/// views cannot be listed.
pub async fn refresh(
    ctx: &SessionContext,
    store: &Store,
    settings: &Settings,
    scope: Scope,
) -> Result<Vec<(String, Refreshed)>> {
    let mut outcomes = Vec::new();
    for view in found(store, settings).await? {
        // One view's failure (its memory limit, a storage error) leaves the others to refresh.
        let outcome = match refresh_one(ctx, store, &view, scope).await {
            Ok(outcome) => outcome,
            Err(e) => Refreshed::Failed(e.to_string()),
        };
        outcomes.push((view.name, outcome));
    }
    Ok(outcomes)
}

/// [`refresh`] of one view.
async fn refresh_one(
    ctx: &SessionContext,
    store: &Store,
    view: &Found,
    scope: Scope,
) -> Result<Refreshed> {
    if !view.wanted(scope) {
        return Ok(match view.current() {
            Some(record) => Refreshed::Current(record.clone()),
            None => Refreshed::Left,
        });
    }
    if view.current().is_none() {
        // An append that fails (its callers' history past the memory limit, say) leaves the
        // rows to be computed whole, which can take passes.
        let appended = append(ctx, store, view).await.unwrap_or_else(|e| {
            tracing::info!(view = %view.name, "appending failed, computing whole: {e}");
            None
        });
        match (appended, scope) {
            // The stored rows or a source moved meanwhile: a whole refresh still may.
            (Some(Refreshed::SourceMoved), Scope::All) => {}
            (Some(outcome), _) => return Ok(outcome),
            (None, Scope::Appends) => return Ok(Refreshed::Left),
            (None, Scope::All) => {}
        }
    }
    // Each scan reads its table's newest version when planned, and the rate deck is read
    // then too: unchanged before and after planning, those versions are the ones found.
    let frames = whole(ctx, store, view).await?;
    store_rows(store, view, frames, Write::Replace).await
}

/// The rows of `view` computed whole: in one pass, or for a view that adds columns to
/// `cdrs` in as many passes over parts of the callers as its memory limit needs
/// ([`passes()`](super::passes())).
async fn whole(ctx: &SessionContext, store: &Store, view: &Found) -> Result<Vec<DataFrame>> {
    if !view.spec.adds_columns_to_cdrs {
        return Ok(vec![ctx.sql(view.sql).await?]);
    }
    let rows = rows_added_to(ctx, view.sql, schema::table(append::CALLS)?).await?;
    let calls = row_count(&store.table(append::CALLS).await?);
    let parts = passes::passes(calls, ctx.runtime_env().memory_pool.memory_limit());
    if parts == 1 {
        return Ok(vec![ctx.sql(&rows).await?]);
    }
    tracing::info!(view = %view.name, calls, parts, "computed in parts of the callers");
    let mut frames = Vec::new();
    for part in 0..parts {
        let calls = passes::part_of_calls(ctx, part, parts).await?;
        frames.push(append::over(ctx.sql(&rows).await?, calls)?);
    }
    Ok(frames)
}

/// The rows of the calls appended to `cdrs` since `view`'s stored rows, added to them; `None`
/// when appends cannot complete them ([`append::new_rows`]).
async fn append(ctx: &SessionContext, store: &Store, view: &Found) -> Result<Option<Refreshed>> {
    let (Some(appendable), Some(stored)) = (view.spec.appendable, &view.record) else {
        return Ok(None);
    };
    let others_unchanged = stored.sources.len() == view.versions.len()
        && view
            .versions
            .iter()
            .all(|(table, v)| table == append::CALLS || stored.sources.get(table) == Some(v));
    let Some(&to) = view.versions.get(append::CALLS) else {
        return Ok(None);
    };
    if stored.fingerprint != view.fingerprint || !others_unchanged {
        return Ok(None);
    }
    let Some(rows) = append::new_rows(ctx, store, view.sql, &appendable, stored, to).await? else {
        return Ok(None);
    };
    let onto = stored.clone();
    Ok(Some(
        store_rows(store, view, vec![rows], Write::Append { onto }).await?,
    ))
}

/// Writes the rows of `frames` (one after the other, of one session) for `view` as `write`
/// says, unless a source table moved while they were planned.
async fn store_rows(
    store: &Store,
    view: &Found,
    frames: Vec<DataFrame>,
    write: Write,
) -> Result<Refreshed> {
    let Some(first) = frames.first() else {
        // Never: every view is computed in one pass at least.
        return Ok(Refreshed::Left);
    };
    let layout = layout(
        schema::table(append::CALLS)?,
        first.schema().fields().iter().map(|f| f.name()),
    );
    let task = Arc::new(first.task_ctx());
    let mut plans = Vec::with_capacity(frames.len());
    for frame in frames {
        plans.push(frame.create_physical_plan().await?);
    }
    if versions(store, view.spec).await? != view.versions {
        tracing::debug!(view = %view.name, "source tables moved while planning");
        return Ok(Refreshed::SourceMoved);
    }
    let appending = write != Write::Replace;
    let record = store
        .materialize(
            &view.name,
            plans,
            task,
            &layout,
            view.versions.clone(),
            view.fingerprint.clone(),
            write,
        )
        .await?;
    let Some(record) = record else {
        return Ok(Refreshed::SourceMoved);
    };
    tracing::info!(view = %view.name, rows = record.rows, appending, sources = ?record.sources, "materialized");
    Ok(if appending {
        Refreshed::Appended(record)
    } else {
        Refreshed::Stored(record)
    })
}

/// Whether a refresh of `scope` would write the stored rows of some materialized view.
pub async fn stale(store: &Store, settings: &Settings, scope: Scope) -> Result<bool> {
    Ok(found(store, settings)
        .await?
        .iter()
        .any(|v| v.wanted(scope)))
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
    let schema = view.schema();
    let stored: Vec<&str> = layout.columns.iter().map(|c| c.name.as_str()).collect();
    // Text views are built side as compact text: a view array keeps every buffer its values
    // came from (each batch of call statuses a 1 MiB buffer after a repartition's coalescing),
    // and the build side counted ~340 bytes a call instead of ~100 (benches/RESULTS.md).
    let compact = |name: &str, of: &str| {
        let quoted = quote(name);
        let is_view = schema
            .field_with_unqualified_name(name)
            .is_ok_and(|f| f.data_type() == &DataType::Utf8View);
        if is_view {
            format!("arrow_cast({of}{quoted}, 'Utf8')")
        } else {
            format!("{of}{quoted}")
        }
    };
    let mut select = Vec::new();
    let mut added = Vec::new();
    for field in schema.fields() {
        let name = field.name().as_str();
        if stored.contains(&name) {
            select.push(format!("t.{}", quote(name)));
        } else {
            select.push(format!("v.{}", quote(name)));
            added.push(format!("{} AS {}", compact(name, ""), quote(name)));
        }
    }
    let mut key = Vec::new();
    let mut on = Vec::new();
    for name in &layout.unique_key {
        key.push(format!("{} AS {}", compact(name, ""), quote(name)));
        on.push(format!("{} = v.{}", compact(name, "t."), quote(name)));
    }
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
        Refreshed::Appended(m) => format!(
            "{view}: stored {} rows, the new calls' added, computed from {}",
            m.rows,
            sources(m)
        ),
        Refreshed::SourceMoved => {
            format!("{view}: its tables changed while computing; stored rows left as they were")
        }
        Refreshed::Left => format!("{view}: stored rows stale, left for a whole refresh"),
        Refreshed::Failed(error) => format!("{view}: not refreshed: {error}"),
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

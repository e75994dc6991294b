//! Computing and storing the rows of the materialized views.

use std::collections::BTreeMap;
use std::sync::Arc;

use cdrlake_udfs::Settings;
use datafusion::prelude::{DataFrame, SessionContext};

use super::{MATERIALIZED, Spec, append, fingerprint};
use crate::error::Result;
use crate::query::quote::quote_ident as quote;
use crate::schema::{self, TableDef};
use crate::storage::{Materialization, Store, Write};

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
/// the rows it stores stale, which readers see (they then compute the view).
pub async fn refresh(
    ctx: &SessionContext,
    store: &Store,
    settings: &Settings,
    scope: Scope,
) -> Result<Vec<(String, Refreshed)>> {
    let mut outcomes = Vec::new();
    for view in found(store, settings).await? {
        if !view.wanted(scope) {
            let outcome = match view.current() {
                Some(record) => Refreshed::Current(record.clone()),
                None => Refreshed::Left,
            };
            outcomes.push((view.name, outcome));
            continue;
        }
        if view.current().is_none() {
            match (append(ctx, store, &view).await?, scope) {
                // The stored rows or a source moved meanwhile: a whole refresh still may.
                (Some(Refreshed::SourceMoved), Scope::All) => {}
                (Some(outcome), _) => {
                    outcomes.push((view.name, outcome));
                    continue;
                }
                (None, Scope::Appends) => {
                    outcomes.push((view.name, Refreshed::Left));
                    continue;
                }
                (None, Scope::All) => {}
            }
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
        let outcome = store_rows(store, &view, frame, Write::Replace).await?;
        outcomes.push((view.name, outcome));
    }
    Ok(outcomes)
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
        store_rows(store, view, rows, Write::Append { onto }).await?,
    ))
}

/// Writes the rows of `frame` for `view` as `write` says, unless a source table moved while
/// they were planned.
async fn store_rows(
    store: &Store,
    view: &Found,
    frame: DataFrame,
    write: Write,
) -> Result<Refreshed> {
    let layout = layout(
        schema::table("cdrs")?,
        frame.schema().fields().iter().map(|f| f.name()),
    );
    let task = frame.task_ctx();
    let plan = frame.create_physical_plan().await?;
    if versions(store, view.spec).await? != view.versions {
        tracing::debug!(view = %view.name, "source tables moved while planning");
        return Ok(Refreshed::SourceMoved);
    }
    let appending = write != Write::Replace;
    let record = store
        .materialize(
            &view.name,
            plan,
            Arc::new(task),
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
        Refreshed::Appended(m) => format!(
            "{view}: stored {} rows, the new calls' added, computed from {}",
            m.rows,
            sources(m)
        ),
        Refreshed::SourceMoved => {
            format!("{view}: its tables changed while computing; stored rows left as they were")
        }
        Refreshed::Left => format!("{view}: stored rows stale, left for a whole refresh"),
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

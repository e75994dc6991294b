//! Materialized views: views whose rows are also stored, computed by [`refresh()`] (at the
//! server's start, after each round of its maintenance, and by `cdrlake compact`; completed
//! with appended calls' rows in between, [`Scope::Appends`]), and read
//! from storage whenever they are current ([`MaterializedView`]). `call_log` is one: its
//! target-call logic groups every answered call by caller and sales cycle, which costs more
//! than reading the table; `call_reports` is another: it rates unrated calls and joins the
//! refunds and billing events (benches/RESULTS.md). Their stored rows cost a scan.
//!
//! The stored rows are current when they were computed from the versions of the tables a
//! query would read now ([`Spec::sources`]) and under the same fingerprint (the view's text,
//! the tenant settings and the release). Otherwise — new calls, refunds or rates since, a
//! settings change, `cdrlake.as_of` time travel — the view is computed as before, so a query
//! never sees stale rows: the stored rows speed a query up, never change its answer.

use cdrlake_udfs::Settings;
use sha2::{Digest, Sha256};

mod append;
mod passes;
mod refresh;
mod relabeled;
mod view;

pub use passes::passes;
pub use refresh::{Refreshed, Scope, describe, refresh, source_versions, stale, vacuum};
pub use view::MaterializedView;

/// A materialized view.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The view's name.
    pub view: &'static str,
    /// Every stored table the view's rows depend on: the tables it scans, and `rates`, which
    /// its functions read.
    pub sources: &'static [&'static str],
    /// Whether the view keeps every row and column of `cdrs` unchanged and adds columns: its
    /// added columns are then computed over `cdrs`'s key alone and joined to the rows (see
    /// [`refresh()`]), which keeps a grouping over every row narrow.
    pub adds_columns_to_cdrs: bool,
    /// Whether calls appended to `cdrs` can be added to the stored rows without computing
    /// the view again, and how ([`Appendable`]).
    pub appendable: Option<Appendable>,
}

/// How stored rows are completed when the only change since they were computed is calls
/// appended to `cdrs` (nothing removed from it, every other source unchanged): the view
/// computed over the new calls (with `cdrs` read as the files added, and as much of the stored
/// calls as the rows of the new calls depend on) gives the rows to add (module `append`).
#[derive(Debug, Clone, Copy)]
pub enum Appendable {
    /// A call's rows depend on that call alone among the calls.
    PerCall {
        /// The rows that depend on their own call: with `cdrs` read as the new calls,
        /// exactly the view's rows that are new.
        rows: &'static str,
        /// A query that returns a row when, with `cdrs` read as the new calls, some stored
        /// row would change: the view is then computed whole.
        unless: &'static str,
    },
    /// A call's rows depend on its caller's (`tenant`, `source`) earlier calls: computed over
    /// the new calls and their callers' stored calls, the new calls' rows kept; only when no
    /// caller has a stored call later than a new one (by `start_time`, then `call_id`), which
    /// would change that stored call's rows.
    PerCaller,
}

/// The materialized views.
pub const MATERIALIZED: &[Spec] = &[
    Spec {
        view: "call_log",
        sources: &["cdrs"],
        adds_columns_to_cdrs: true,
        // A call's status and uniqueness depend on its caller's earlier calls (the first
        // call, the cycle's target call).
        appendable: Some(Appendable::PerCaller),
    },
    Spec {
        view: "call_reports",
        sources: &["cdrs", "refunds", "billing_events", "rates"],
        adds_columns_to_cdrs: false,
        // A call's charge row depends on that call, its refunds and billing events and the
        // rates; a refund's row also on its call, so a refund of a new call (stored before
        // it) changes a stored row.
        appendable: Some(Appendable::PerCall {
            rows: "record_type = 'charge'",
            unless: "SELECT 1 FROM refunds AS r JOIN cdrs AS c \
                     ON r.tenant = c.tenant AND r.call_id = c.call_id LIMIT 1",
        }),
    },
];

/// The spec of `view`, if it is materialized.
pub fn spec(view: &str) -> Option<&'static Spec> {
    MATERIALIZED.iter().find(|s| s.view == view)
}

/// What the stored rows of `view` (text `sql`) depend on besides its source tables.
pub fn fingerprint(view: &str, sql: &str, settings: &Settings) -> String {
    let mut hash = Sha256::new();
    for part in [
        env!("CARGO_PKG_VERSION"),
        view,
        sql,
        &format!("{settings:?}"),
    ] {
        hash.update(part.len().to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

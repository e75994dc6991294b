//! Materialized views: views whose rows are also stored, computed by [`refresh`] (at the
//! server's start, after each round of its maintenance, and by `cdrlake compact`), and read
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

mod refresh;
mod relabeled;
mod view;

pub use refresh::{Refreshed, describe, refresh, source_versions, stale, vacuum};
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
    /// [`refresh`]), which keeps a grouping over every row narrow.
    pub adds_columns_to_cdrs: bool,
}

/// The materialized views.
pub const MATERIALIZED: &[Spec] = &[
    Spec {
        view: "call_log",
        sources: &["cdrs"],
        adds_columns_to_cdrs: true,
    },
    Spec {
        view: "call_reports",
        sources: &["cdrs", "refunds", "billing_events", "rates"],
        adds_columns_to_cdrs: false,
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

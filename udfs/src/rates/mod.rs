//! Rating of unrated calls: `rate_lookup(tenant, destination, at)` over the `rates` table
//! (SPEC 2.4 and 3).
//!
//! The pieces, and who feeds whom:
//!
//! - [`RateDeck`] ([`deck`]) is the immutable in-memory deck: a trie of destination prefixes
//!   whose nodes hold each tenant's rates in `valid_from` order, with the longest-prefix
//!   look-up, and the rates as Arrow columns for `rate_lookup`'s result.
//! - A [`RateSource`] produces a new deck when the rates changed. [`SessionTable`] (in this
//!   crate) reads the session's `rates` table at every query that calls `rate_lookup`; the
//!   server's source checks the Delta version of `rates` and reads it only when the version
//!   moved.
//! - A [`RateBook`] holds the current deck and its source; the [`RateLookup`] function reads
//!   the book's deck once per batch, and so does [`RateCall`] ([`rating`]), which rates a
//!   call in one pass (reading its destination in E.164, then its seconds and charge).
//! - [`RefreshPlanner`] ([`refresh`]) wraps the session's query planner: before planning a
//!   statement that calls `rate_lookup` it asks the book to refresh, which is an async
//!   version check per query, never per row.
//!
//! [`install`] registers `rate_lookup` over a book and the planner in a session;
//! [`crate::register_all`] does it with a [`SessionTable`] source.

/// `PartialEq`, `Eq` and `Hash` for a function struct whose identity is the shared state it
/// reads: two are equal when each of the `Arc` fields named points to the same value.
macro_rules! same_when_sharing {
    ($ty:ty: $($field:ident),+) => {
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                $(std::sync::Arc::ptr_eq(&self.$field, &other.$field))&&+
            }
        }

        impl Eq for $ty {}

        impl std::hash::Hash for $ty {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                $(std::ptr::hash(std::sync::Arc::as_ptr(&self.$field), state);)+
            }
        }
    };
}
use same_when_sharing;

mod deck;
mod in_country;
mod lookup;
mod rating;
mod refresh;

use std::fmt::Debug;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::{DataFusionError, Result, plan_datafusion_err};
use datafusion::physical_plan::collect;

pub use deck::{ALL_TENANTS, Rate, RateDeck, RateDeckError};
pub use lookup::{RateLookup, dialled_digits, rate_type};
pub use rating::RateCall;
pub use refresh::{RefreshPlanner, install};

/// Where a [`RateBook`] gets its deck from.
#[async_trait]
pub trait RateSource: Debug + Send + Sync {
    /// A new deck when the rates changed since this source last returned one (always on the
    /// first call), `None` when they did not. `session` is the session planning the query
    /// that needs the deck.
    async fn changed(&self, session: &dyn Session) -> Result<Option<RateDeck>>;
}

/// The current rate deck of a session and the source that refreshes it.
#[derive(Debug, Default)]
pub struct RateBook {
    deck: RwLock<Arc<RateDeck>>,
    source: Option<Arc<dyn RateSource>>,
}

impl RateBook {
    /// A book that always holds `deck`.
    pub fn fixed(deck: RateDeck) -> Self {
        RateBook {
            deck: RwLock::new(Arc::new(deck)),
            source: None,
        }
    }

    /// A book fed by `source`, empty until its first refresh.
    pub fn with_source(source: Arc<dyn RateSource>) -> Self {
        RateBook {
            deck: RwLock::default(),
            source: Some(source),
        }
    }

    /// The current deck.
    pub fn deck(&self) -> Arc<RateDeck> {
        Arc::clone(&self.deck.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Asks the source for a newer deck and keeps it. A query already running keeps reading
    /// the deck it started with only batch by batch: each batch reads the book's deck anew.
    pub async fn refresh(&self, session: &dyn Session) -> Result<()> {
        let Some(source) = &self.source else {
            return Ok(());
        };
        if let Some(deck) = source.changed(session).await? {
            *self.deck.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(deck);
        }
        Ok(())
    }
}

/// A [`RateSource`] that reads a table of the session's default schema (by default `rates`)
/// in full at every refresh: for sessions without a store (tests, embedding). The server
/// uses a source that checks the table's Delta version first.
#[derive(Debug, Clone)]
pub struct SessionTable {
    table: String,
}

impl Default for SessionTable {
    /// The session's `rates` table.
    fn default() -> Self {
        SessionTable {
            table: "rates".to_owned(),
        }
    }
}

impl SessionTable {
    /// A source reading the session's table `table`.
    pub fn new(table: impl Into<String>) -> Self {
        SessionTable {
            table: table.into(),
        }
    }
}

#[async_trait]
impl RateSource for SessionTable {
    async fn changed(&self, session: &dyn Session) -> Result<Option<RateDeck>> {
        let options = &session.config().options().catalog;
        let schema = session
            .catalog_list()
            .catalog(&options.default_catalog)
            .and_then(|c| c.schema(&options.default_schema));
        let provider = match schema {
            Some(schema) => schema.table(&self.table).await?,
            None => None,
        };
        let Some(provider) = provider else {
            // No rate deck at all: every call is unrated.
            return Ok(Some(RateDeck::default()));
        };
        let plan = provider.scan(session, None, &[], None).await?;
        let batches = collect(plan, session.task_ctx()).await?;
        deck_of(&batches, &self.table).map(Some)
    }
}

/// [`RateDeck::from_batches`] with the error as a DataFusion error naming `table`.
pub fn deck_of(batches: &[datafusion::arrow::array::RecordBatch], table: &str) -> Result<RateDeck> {
    RateDeck::from_batches(batches).map_err(|e| match e {
        RateDeckError::MissingColumn { .. } => plan_datafusion_err!("table {table}: {e}"),
        other => DataFusionError::External(Box::new(other)),
    })
}

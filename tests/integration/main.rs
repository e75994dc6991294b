//! Integration tests: the real `cdrlake` binary on real files.

mod compact;
mod crash;
mod export;
mod history;
mod ingest;
mod inproc;
mod layout;
mod lock;
mod lookup;
mod materialized;
mod materialized_append;
mod materialized_whole;
mod proven;
mod rates;
mod refunds;
mod retention;
mod server;
mod support;
mod views_slt;

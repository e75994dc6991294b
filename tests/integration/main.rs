//! Integration tests: the real `cdrlake` binary on real files.

mod anomalies;
mod compact;
mod crash;
mod export;
mod history;
mod ingest;
mod inproc;
mod layout;
mod rates;
mod refunds;
mod reports;
mod retention;
mod server;
mod support;
mod views;
mod views_slt;

//! Integration tests: the real `cdrlake` binary on real files.

mod anomalies;
mod crash;
mod ingest;
mod inproc;
mod layout;
mod rates;
mod refunds;
mod reports;
mod support;
mod views;

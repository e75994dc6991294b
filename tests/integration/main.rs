//! Integration tests: the real `cdrlake` binary on real files.

mod crash;
mod ingest;
mod layout;
mod rates;
mod support;
mod views;

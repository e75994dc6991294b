//! Integration tests: the real `cdrlake` binary on real files.

mod compact;
mod crash;
mod ingest;
mod layout;
mod support;
mod views;

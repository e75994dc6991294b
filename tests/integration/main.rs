//! Integration tests: the real `cdrlake` binary on real files.

mod crash;
mod ingest;
mod layout;
mod server;
mod support;
mod views;

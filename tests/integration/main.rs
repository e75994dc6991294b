//! Integration tests: the real `cdrlake` binary on real files.

mod compact;
mod crash;
mod export;
mod history;
mod ingest;
mod layout;
mod retention;
mod server;
mod support;
mod views;

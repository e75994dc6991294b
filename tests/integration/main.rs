//! Integration tests: the real `cdrlake` binary on real files.

mod support;

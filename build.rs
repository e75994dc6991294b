//! Rebuilds the crate when a file under `schemas/` changes. `include_dir!` embeds that
//! directory (`src/schema.rs`), but on stable Rust cargo is not told the macro reads it: an
//! edited view or table schema would otherwise leave a stale copy in the binary and the tests.

fn main() {
    println!("cargo:rerun-if-changed=schemas");
}

//! Helpers shared by the integration tests: running the real binary, generating input,
//! reading query results back as CSV.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_cdrlake");

/// The binary to run: `CDRLAKE_TEST_BIN` when set (a copy taken right after the build, since
/// worktrees sharing one target directory overwrite each other's `cdrlake`), else [`BIN`].
/// The package's directory: where `cargo test` runs this from (a build reused from another
/// clone of the repository holds that clone's compile-time path), else the compile-time one.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

pub fn bin() -> String {
    std::env::var("CDRLAKE_TEST_BIN").unwrap_or_else(|_| BIN.to_string())
}

/// The marker file of a store.
pub const MARKER: &str = "cdrlake.json";

/// A scratch directory with a store path and an input directory.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file in the scratch directory.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("write input");
        path
    }

    /// Runs `cdrlake --data STORE ARGS...`.
    pub fn run(&self, args: &[&str]) -> Output {
        cdrlake(&self.store(), args)
    }

    /// Runs the command and insists it succeeds; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "cdrlake {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs the command and insists it fails; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "cdrlake {args:?} should have failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// Query result rows (header excluded) as strings.
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let out = self.ok(&["query", "--csv", sql]);
        let mut reader = csv::Reader::from_reader(out.as_bytes());
        reader
            .records()
            .map(|r| r.expect("csv row").iter().map(str::to_string).collect())
            .collect()
    }

    /// The single value a query returns.
    pub fn value(&self, sql: &str) -> String {
        let rows = self.rows(sql);
        assert_eq!(rows.len(), 1, "{sql} returned {rows:?}");
        rows[0][0].clone()
    }

    /// Generates data with `cdrlake generate` into `gen/`.
    pub fn generate(&self, rows: u64, extra: &[&str]) -> PathBuf {
        let out = self.path("gen");
        let rows = rows.to_string();
        let mut args = vec!["generate", "--rows", &rows, "--days", "3", "--out"];
        let out_str = out.to_str().expect("utf-8 path").to_string();
        args.push(&out_str);
        args.extend_from_slice(extra);
        self.ok(&args);
        out
    }
}

/// Runs the binary against a store.
pub fn cdrlake(store: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--data")
        .arg(store)
        .args(args)
        .env_remove("CDRLAKE_CONFIG")
        .output()
        .expect("run cdrlake")
}

/// Reads a CSV file into (header, rows).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).expect("open csv");
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Exact money in micro-units, parsed independently of the engine.
pub fn micros(text: &str) -> i128 {
    if text.is_empty() {
        return 0;
    }
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac = format!("{frac:0<6}");
    let sign = if int.starts_with('-') { -1 } else { 1 };
    let int: i128 = int.trim_start_matches('-').parse().unwrap_or(0);
    sign * (int * 1_000_000 + frac[..6].parse::<i128>().expect("fraction"))
}

/// Parses `stored N, duplicates D, rejected R` from an ingest summary line for `file`.
pub fn summary(stdout: &str, file: &str) -> (u64, u64, u64) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(file) && l.contains(" → "))
        .unwrap_or_else(|| panic!("no summary for {file} in:\n{stdout}"));
    let num = |key: &str| -> u64 {
        let rest = &line[line.find(key).expect(key) + key.len()..];
        rest.trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .expect("count")
    };
    (num("stored"), num("duplicates"), num("rejected"))
}

/// The CSV `text` split by `keep(value of column)`: (kept, others), each with the header.
/// Generated fields hold no quoted commas.
pub fn split_csv(text: &str, column: &str, keep: impl Fn(&str) -> bool) -> (String, String) {
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let at = header.split(',').position(|c| c == column).expect("column");
    let (mut kept, mut others) = (vec![header], vec![header]);
    for line in lines {
        let value = line.split(',').nth(at).unwrap_or("");
        if keep(value) {
            kept.push(line);
        } else {
            others.push(line);
        }
    }
    (kept.join("\n") + "\n", others.join("\n") + "\n")
}

/// The values of `column` in the CSV `text`.
pub fn csv_column(text: &str, column: &str) -> Vec<String> {
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let at = header.split(',').position(|c| c == column).expect("column");
    lines
        .map(|l| l.split(',').nth(at).unwrap_or("").to_string())
        .collect()
}

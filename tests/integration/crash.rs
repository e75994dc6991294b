//! Crash safety: `cdrlake ingest` SIGKILLed at random moments, again and again. After every
//! kill, every batch the command reported as committed is stored exactly once, no batch is
//! partly visible, and the tables open and query cleanly. A final run completes the file.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use crate::support::{Scratch, bin, read_csv};

const ROWS: u64 = 12_000;
const BATCH: u64 = 500;
const KILLS: usize = 24;
/// Rounds at most: on a busy machine a run can finish before its kill, so rounds go on (past
/// `KILLS`) until half of `KILLS` kills have hit a running ingest.
const MAX_ROUNDS: usize = 3 * KILLS;

#[test]
fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let s = Scratch::new();
    let gen_dir = s.generate(ROWS, &["--seed", "5", "--format", "canonical"]);
    let csv = gen_dir.join("cdrs.csv");
    let (header, rows) = read_csv(&csv);
    let id = header.iter().position(|h| h == "call_id").expect("call_id");
    // Batch of each call id: data rows are lines 2.., BATCH per batch (no quoted newlines).
    let batch_of: HashMap<String, u64> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r[id].clone(), i as u64 / BATCH))
        .collect();

    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.map(|d| d.as_nanos() as u64).unwrap_or(0) ^ u64::from(std::process::id())
        });
    println!("crash test seed {seed} (rerun with CRASH_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    // How long an uninterrupted run takes here, to spread the kills across it.
    let probe = s.path("probe");
    let started = Instant::now();
    let out = crate::support::cdrlake(
        &probe,
        &[
            "ingest",
            "--batch-rows",
            &BATCH.to_string(),
            csv.to_str().expect("path"),
        ],
    );
    assert!(out.status.success());
    let full_run = started.elapsed();

    let mut committed: BTreeMap<u64, u64> = BTreeMap::new();
    let mut killed_mid_run = 0;
    for round in 0..MAX_ROUNDS {
        if round >= KILLS && killed_mid_run >= KILLS / 2 {
            break;
        }
        let delay = Duration::from_millis(rng.random_range(0..=full_run.as_millis() as u64));
        let (reported, finished) = run_and_kill(&s, &csv, delay);
        killed_mid_run += usize::from(!finished);
        for (first_line, stored) in reported {
            if stored > 0 {
                committed.insert((first_line - 2) / BATCH, stored);
            }
        }
        check_store(&s, &batch_of, &committed, round);
    }
    assert!(
        killed_mid_run >= KILLS / 2,
        "only {killed_mid_run} of {MAX_ROUNDS} kills hit a running ingest"
    );

    // A last uninterrupted run stores the rest; everything is there exactly once.
    s.ok(&[
        "ingest",
        "--batch-rows",
        &BATCH.to_string(),
        csv.to_str().expect("path"),
    ]);
    let total = s.rows("SELECT count(*), count(DISTINCT call_id) FROM cdrs");
    assert_eq!(total, [[ROWS.to_string(), ROWS.to_string()]]);
}

/// Starts an ingest, kills it after `delay`; returns the (first line, stored) of each batch it
/// reported committed, and whether it finished before the kill.
fn run_and_kill(s: &Scratch, csv: &std::path::Path, delay: Duration) -> (Vec<(u64, u64)>, bool) {
    let mut child = Command::new(bin())
        .arg("--data")
        .arg(s.store())
        .args(["ingest", "--batch-rows", &BATCH.to_string()])
        .arg(csv)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ingest");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(delay);
    let finished = child.try_wait().expect("poll").is_some();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let _ = reader.join();
    let reported = rx
        .try_iter()
        .filter_map(|line| parse_committed(&line))
        .collect();
    (reported, finished)
}

/// `FILE: batch N committed: lines A-B: stored S, ...` → (A, S).
fn parse_committed(line: &str) -> Option<(u64, u64)> {
    let rest = &line[line.find(" committed: lines ")? + " committed: lines ".len()..];
    let first: u64 = rest.split('-').next()?.parse().ok()?;
    let stored = &rest[rest.find("stored ")? + "stored ".len()..];
    let stored: u64 = stored.split(',').next()?.parse().ok()?;
    Some((first, stored))
}

fn check_store(
    s: &Scratch,
    batch_of: &HashMap<String, u64>,
    committed: &BTreeMap<u64, u64>,
    round: usize,
) {
    if !s.store().join(crate::support::MARKER).exists() {
        assert!(
            committed.is_empty(),
            "round {round}: commits reported but no store"
        );
        return;
    }
    let ids = s.rows("SELECT call_id FROM cdrs");
    let mut per_batch: BTreeMap<u64, u64> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for row in &ids {
        assert!(
            seen.insert(row[0].clone()),
            "round {round}: {} stored twice",
            row[0]
        );
        let batch = batch_of
            .get(&row[0])
            .expect("stored id comes from the input");
        *per_batch.entry(*batch).or_default() += 1;
    }
    for (batch, n) in &per_batch {
        assert_eq!(
            *n, BATCH,
            "round {round}: batch {batch} is partly visible ({n} rows)"
        );
    }
    for (batch, stored) in committed {
        assert_eq!(
            per_batch.get(batch),
            Some(stored),
            "round {round}: committed batch {batch} lost"
        );
    }
    // The other tables open and query too.
    for table in ["refunds", "billing_events", "rates", "ingest_rejects"] {
        assert_eq!(s.value(&format!("SELECT count(*) FROM {table}")), "0");
    }
}

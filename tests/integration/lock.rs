//! The writer lock: a writer waits for the lock held by another process (saying whom it waits
//! for), gives up after `--lock-timeout` naming the holder, and appends racing without any
//! lock still store each call once. The object-store lock is tested against real S3 and Azure
//! Blob servers by tests/object_store/.

use std::path::Path;
use std::time::Duration;

use cdrlake::ingest::{self, Formats, IngestOptions};
use cdrlake::storage::{Location, Store, WriterLock};

use crate::support::{Scratch, summary};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn location(store: &Path) -> Location {
    Location::parse(store.to_str().expect("utf-8 path")).expect("location")
}

/// Lines `first..=last` (1-based, header excluded) of `file`, with its header, as `name`.
fn lines(s: &Scratch, file: &Path, first: usize, last: usize, name: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(file).expect("read input");
    let all: Vec<&str> = text.lines().collect();
    let mut out = vec![all[0]];
    out.extend_from_slice(&all[first..=last]);
    s.write(name, out.join("\n") + "\n")
}

#[test]
fn ingest_waits_for_the_writer_lock_held_by_another_process() {
    let s = Scratch::new();
    let input = s.generate(200, &[]).join("cdrs.csv");
    let rt = runtime();
    let (_store, lock) = rt
        .block_on(Store::open_for_writing(location(&s.store())))
        .expect("take the lock");
    let name = input.to_str().expect("path").to_string();
    let writer = std::thread::spawn({
        let (store, name) = (s.store(), name.clone());
        move || crate::support::cdrlake(&store, &["ingest", &name])
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!writer.is_finished(), "ingest did not wait for the lock");
    drop(lock);
    let out = writer.join().expect("ingest thread");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("waiting for the writer lock held by")
            && stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(summary(&stdout, &name).0, 200, "{stdout}");
}

#[test]
fn ingest_gives_up_after_the_lock_timeout_naming_the_holder() {
    let s = Scratch::new();
    let input = s.generate(50, &[]).join("cdrs.csv");
    let rt = runtime();
    let _held = rt
        .block_on(Store::open_for_writing(location(&s.store())))
        .expect("take the lock");
    let started = std::time::Instant::now();
    let stderr = s.fails(&[
        "--lock-timeout",
        "1",
        "ingest",
        input.to_str().expect("path"),
    ]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "gave up at once"
    );
    assert!(
        stderr.contains("locked by another writer")
            && stderr.contains(&format!("pid {}", std::process::id()))
            && stderr.contains("--lock-timeout"),
        "{stderr}"
    );
}

#[test]
// `open_input` returns the library's `Result`, whose error type is the library's to size.
#[allow(clippy::result_large_err)]
fn appends_racing_without_the_lock_store_each_call_once() {
    let s = Scratch::new();
    let input = s.generate(600, &[]).join("cdrs.csv");
    // Create the store, then let the lock go: the two writers below take none.
    drop(
        runtime()
            .block_on(Store::open_for_writing(location(&s.store())))
            .expect("store"),
    );
    let start = std::sync::Arc::new(std::sync::Barrier::new(2));
    // Two writers in threads of their own, each on its own runtime, as two processes would be.
    // Both load the same calls in the same order, so that they deduplicate the same rows at
    // the same time.
    let writers: Vec<_> = [(1, 600, "a.csv"), (1, 600, "b.csv")]
        .into_iter()
        .map(|(first, last, name)| {
            let path = lines(&s, &input, first, last, name);
            let (store, start) = (location(&s.store()), start.clone());
            std::thread::spawn(move || {
                runtime().block_on(async move {
                    let store = Store::open(store).await.expect("open");
                    let formats = Formats::load(None::<&Path>).expect("formats");
                    let opts = IngestOptions {
                        batch_rows: 20,
                        ..IngestOptions::default()
                    };
                    let name = path.display().to_string();
                    start.wait();
                    let open = move || ingest::open_input(&path);
                    ingest::ingest(&store, &formats, &name, open, &opts, |_| {})
                        .await
                        .expect("ingest")
                        .stored
                })
            })
        })
        .collect();
    let stored: u64 = writers.into_iter().map(|w| w.join().expect("writer")).sum();
    assert_eq!(stored, 600);
    assert_eq!(
        s.rows("SELECT count(*), count(DISTINCT call_id) FROM cdrs"),
        [["600", "600"]]
    );
}

#[test]
fn a_second_lock_in_the_same_process_waits_too() {
    let s = Scratch::new();
    let rt = runtime();
    rt.block_on(async {
        let loc = location(&s.store()).with_lock_wait(Duration::from_millis(300));
        let (store, _held) = Store::open_for_writing(loc).await.expect("store");
        let refused = WriterLock::acquire(&store).await.expect_err("second lock");
        assert!(
            refused.to_string().contains("gave up after waiting"),
            "{refused}"
        );
    });
}

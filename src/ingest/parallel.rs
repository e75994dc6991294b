//! Decoding on several threads while the caller commits: one thread reads the CSV into
//! chunks of raw records (CSV parsing proper is the cheap part), a few threads turn chunks into
//! typed rows (the expensive part), and one thread puts the decoded chunks back into input
//! order and into batches, which it hands to the caller one batch ahead of its commits.
//!
//! Every channel is bounded, so memory stays bounded by the batch size plus a few chunks. A
//! format that derives call ids counts repeats across a whole batch ([`super::rows::CallIds`]),
//! so its chunks are decoded by one thread, in order. When the caller stops listening (a
//! failed commit), every thread stops at its next hand-over.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use super::assemble::BatchAssembler;
use super::decode::{CHUNK_ROWS, Decoded, Decoder};
use super::rows::{CallIds, DecodedChunk, RawChunk, RowContext, decode_chunk};
use crate::error::{Error, Result};

/// A decoded batch and the input position after it.
pub type DecodedBatch = Result<(Decoded, u64)>;

/// Most decoding threads, however many cores there are.
const MAX_WORKERS: usize = 4;

type Numbered<T> = (u64, Result<T>);

/// Starts decoding `decoder`'s input (called `name`) in batches of `batch_rows` records.
pub fn spawn<R: Read + Send + 'static>(
    name: &str,
    decoder: Decoder<R>,
    batch_rows: usize,
) -> Result<tokio::sync::mpsc::Receiver<DecodedBatch>> {
    let ctx = decoder.context();
    let workers = if ctx.recipe.is_some() {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_WORKERS)
    };
    let (raw_tx, raw_rx) = sync_channel::<Numbered<RawChunk>>(workers * 2);
    let (spent_tx, spent_rx) = sync_channel::<RawChunk>(workers * 4);
    let (chunk_tx, chunk_rx) = sync_channel::<Numbered<DecodedChunk>>(workers * 2);
    let (batch_tx, batch_rx) = tokio::sync::mpsc::channel(1);
    let raw_rx = Arc::new(Mutex::new(raw_rx));
    let stopped = |message: String| Error::DecodeStopped {
        file: name.to_string(),
        message,
    };
    let start = |thread: &str, f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name(thread.into())
            .spawn(f)
            .map(drop)
            .map_err(|e| stopped(format!("cannot start thread {thread}: {e}")))
    };
    // The assembler first: should a later thread fail to start, the channels of the ones
    // started close and they end.
    let table = ctx.table;
    let early = stopped("a decoding thread ended before the end of the input".into());
    start(
        "ingest-batch",
        Box::new(move || assemble(BatchAssembler::new(table), &chunk_rx, &batch_tx, early)),
    )?;
    for _ in 0..workers {
        let (ctx, raw_rx) = (ctx.clone(), raw_rx.clone());
        let (chunk_tx, spent_tx) = (chunk_tx.clone(), spent_tx.clone());
        start(
            "ingest-decode",
            Box::new(move || decode(&ctx, &raw_rx, &chunk_tx, &spent_tx)),
        )?;
    }
    drop(chunk_tx);
    start(
        "ingest-read",
        Box::new(move || read(decoder, batch_rows, &raw_tx, &spent_rx)),
    )?;
    Ok(batch_rx)
}

/// Reads chunks that never straddle a batch, numbered in input order.
fn read<R: Read>(
    mut decoder: Decoder<R>,
    batch_rows: usize,
    raw_tx: &SyncSender<Numbered<RawChunk>>,
    spent_rx: &Receiver<RawChunk>,
) {
    let mut left = batch_rows;
    for seq in 0.. {
        let mut chunk = spent_rx.try_recv().unwrap_or_default();
        let want = left.min(CHUNK_ROWS);
        if let Err(e) = decoder.read_chunk(&mut chunk, want) {
            let _ = raw_tx.send((seq, Err(e)));
            return;
        }
        chunk.starts_batch = left == batch_rows;
        left -= chunk.len;
        chunk.last = decoder.at_end() && chunk.len < want;
        chunk.ends_batch = left == 0 || chunk.last;
        if chunk.ends_batch {
            left = batch_rows;
        }
        let last = chunk.last;
        if raw_tx.send((seq, Ok(chunk))).is_err() || last {
            return;
        }
    }
}

/// Decodes chunks until the reader is done or the assembler stops listening.
fn decode(
    ctx: &RowContext,
    raw_rx: &Mutex<Receiver<Numbered<RawChunk>>>,
    chunk_tx: &SyncSender<Numbered<DecodedChunk>>,
    spent_tx: &SyncSender<RawChunk>,
) {
    let mut ids = CallIds::default();
    loop {
        let next = match raw_rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((seq, raw)) = next else {
            return;
        };
        let decoded = raw.and_then(|chunk| {
            if chunk.starts_batch {
                ids = CallIds::default();
            }
            let decoded = decode_chunk(ctx, &chunk, &mut ids);
            let _ = spent_tx.try_send(chunk);
            decoded
        });
        if chunk_tx.send((seq, decoded)).is_err() {
            return;
        }
    }
}

/// Puts chunks back into input order and batches, and hands each batch on; hands on `early`
/// if the chunks stop before the input's last one (a decoding thread panicked).
fn assemble(
    mut assembler: BatchAssembler,
    chunk_rx: &Receiver<Numbered<DecodedChunk>>,
    batch_tx: &tokio::sync::mpsc::Sender<DecodedBatch>,
    early: Error,
) {
    let mut waiting = BTreeMap::new();
    let (mut next, mut done) = (0, false);
    for (seq, chunk) in chunk_rx {
        waiting.insert(seq, chunk);
        while let Some(chunk) = waiting.remove(&next) {
            next += 1;
            let item = chunk.and_then(|chunk| {
                let (ends, position) = (chunk.ends_batch, chunk.position);
                done = chunk.last;
                assembler.add(chunk);
                if !ends {
                    return Ok(None);
                }
                Ok(assembler.finish()?.map(|d| (d, position)))
            });
            let failed = item.is_err();
            let sent = match item.transpose() {
                None => true,
                Some(item) => batch_tx.blocking_send(item).is_ok(),
            };
            if failed || !sent || done {
                return;
            }
        }
    }
    let _ = batch_tx.blocking_send(Err(early));
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::ingest::Formats;

    const CANONICAL: &str =
        "call_id,tenant,direction,start_time,end_time,duration_s,source,destination\n";
    const INBOUND: &str = "Date/Time Start (UTC),Date/Time Connect (UTC),Date/Time End (UTC),Source,DID,Destination,Duration (secs),Disconnect Initiator,Disconnect Code,Disconnect Response,Toll-free Amount (USD),Termination Amount (USD),Metered Channels Amount (USD)\n";

    /// Canonical rows over several chunks: repeats of keys from earlier chunks, bad rows,
    /// quoted fields with newlines (so lines and records differ), a short row.
    fn canonical(rows: usize) -> Vec<u8> {
        let mut out = String::from(CANONICAL);
        for i in 0..rows {
            let id = if i % 7 == 3 { i - i.min(5000) } else { i };
            let (id, dur) = match i {
                _ if i % 13 == 5 => (format!("\"q-{id}\nsecond line\""), 1),
                _ if i % 11 == 4 => (format!("c-{id}"), -1),
                _ => (format!("c-{id}"), 2),
            };
            let tenant = ["acme", "beta"][i % 2];
            let m = i % 60;
            if i % 997 == 10 {
                out += &format!("{id},{tenant},inbound\n");
                continue;
            }
            out += &format!(
                "{id},{tenant},inbound,2026-11-0{d} 10:{m:02}:00,2026-11-0{d}T10:{m:02}:{dur:02}Z,{dur},+3120{i},201\n",
                d = 1 + i % 9,
                dur = dur.max(0)
            );
        }
        out.into_bytes()
    }

    /// Carrier rows without call ids, many of them identical (derived ids count repeats).
    fn inbound(rows: usize) -> Vec<u8> {
        let mut out = String::from(INBOUND);
        for i in 0..rows {
            let n = i % 4000;
            out += &format!(
                "2026-11-01 00:{:02}:17,,2026-11-01 00:{:02}:29,1917805{n},31209935367,sip:31209935367@pbx.example.net,0,Origination,487,Request Terminated,0,0,0\n",
                n % 60,
                n % 60
            );
        }
        out.into_bytes()
    }

    fn decoder(input: &[u8]) -> Decoder<Cursor<Vec<u8>>> {
        let formats = Formats::load(None).unwrap();
        Decoder::new("t.csv", Cursor::new(input.to_vec()), &formats, None, None).unwrap()
    }

    /// The threads produce exactly the batches, rejects, duplicates, lines and positions of
    /// decoding on one thread, for batch sizes smaller than, equal to and larger than a chunk.
    #[test]
    fn threads_decode_as_one_thread_does() {
        let inputs = [canonical(3 * CHUNK_ROWS + 123), inbound(2 * CHUNK_ROWS + 7)];
        for input in &inputs {
            for batch_rows in [1000, CHUNK_ROWS, CHUNK_ROWS + 1, 10_000, 100_000] {
                let mut one = decoder(input);
                let mut expected = Vec::new();
                while let Some(d) = one.next_batch(batch_rows).unwrap() {
                    expected.push((d, one.position()));
                }
                let mut rx = spawn("t.csv", decoder(input), batch_rows).unwrap();
                let mut got = Vec::new();
                while let Some(item) = rx.blocking_recv() {
                    got.push(item.unwrap());
                }
                assert_eq!(got.len(), expected.len(), "batch_rows {batch_rows}");
                let (mut rejects, mut duplicates) = (0, 0);
                for ((g, gp), (e, ep)) in got.iter().zip(&expected) {
                    assert_eq!(g.batch, e.batch, "batch_rows {batch_rows}");
                    assert_eq!(g.rejects, e.rejects);
                    assert_eq!((g.duplicates, g.lines, gp), (e.duplicates, e.lines, ep));
                    rejects += e.rejects.len();
                    duplicates += e.duplicates;
                }
                // The canonical input does exercise rejects and duplicates (the carrier's
                // identical rows get distinct derived ids instead).
                if input.starts_with(b"call_id") {
                    assert!(rejects > 0 && duplicates > 0, "batch_rows {batch_rows}");
                }
            }
        }
    }

    /// Batches end at `batch_rows` records and carry the lines where their records start.
    #[test]
    fn batches_count_records_and_lines() {
        let input = canonical(2 * CHUNK_ROWS);
        let mut rx = spawn("t.csv", decoder(&input), CHUNK_ROWS).unwrap();
        let (first, _) = rx.blocking_recv().unwrap().unwrap();
        let (second, position) = rx.blocking_recv().unwrap().unwrap();
        assert!(rx.blocking_recv().is_none());
        assert_eq!(first.lines.0, 2);
        // Quoted newlines make a record span two lines.
        assert!(second.lines.1 > 2 * CHUNK_ROWS as u64 + 1);
        assert!(second.lines.0 > first.lines.1);
        assert_eq!(position, input.len() as u64);
    }
}

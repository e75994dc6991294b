//! What follows a cruise call in the PMS: refunds (full, partial, split in two, and custom
//! refunds of a cabin) and billing events (`sent`, `ok`, `failure`, `retry_sent`).
//!
//! Each file draws from its own random stream, so that the calls and either file come out the
//! same whichever files are written.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::GenerateError;
use super::calls::Call;
use super::fields::Direction;
use super::numbers::pick_weighted;
use super::out::{CsvOut, MICROS, push_padded};

/// Header of `refunds.csv`.
pub(crate) const REFUNDS_HEADER: [&str; 9] = [
    "refund_id",
    "tenant",
    "call_id",
    "cabin",
    "amount",
    "destination",
    "reason",
    "created_at",
    "created_by",
];
/// Header of `billing_events.csv`.
pub(crate) const EVENTS_HEADER: [&str; 5] = ["tenant", "call_id", "at", "result", "detail"];

const REFUND_REASONS: [&str; 5] = [
    "Call dropped",
    "Wrong number dialled",
    "Poor line quality",
    "Guest complaint",
    "Billed twice",
];
const CUSTOM_REASONS: [&str; 3] = ["Goodwill credit", "Cabin phone fault", "Package deal"];
const FAILURES: [&str; 4] = [
    "PMS timeout",
    "Folio closed",
    "Guest not checked in",
    "Posting rejected",
];

/// Writes the refunds and billing events that follow the cruise calls.
pub(crate) struct Followups {
    refunds: Option<Refunds>,
    events: Option<Events>,
}

impl Followups {
    /// Follow-ups written to the given files (either may be absent), with random streams
    /// derived from `seed` and refund ids tagged with the run tag `tag`.
    pub(crate) fn new(
        refunds: Option<CsvOut>,
        events: Option<CsvOut>,
        seed: u64,
        tag: &str,
    ) -> Self {
        Followups {
            refunds: refunds.map(|out| Refunds {
                out,
                rng: stream(seed, super::STREAM_REFUNDS),
                seq: 0,
                tag: tag.to_owned(),
                id: Vec::with_capacity(24),
            }),
            events: events.map(|out| Events {
                out,
                rng: stream(seed, super::STREAM_EVENTS),
            }),
        }
    }

    /// Records the follow-ups of one cruise call.
    pub(crate) fn after_cruise_call(
        &mut self,
        call: &Call,
        tenant: &str,
        call_id: &str,
    ) -> Result<(), GenerateError> {
        if let Some(refunds) = self.refunds.as_mut() {
            refunds.after_call(call, tenant, call_id)?;
        }
        if let Some(events) = self.events.as_mut() {
            events.after_call(call, tenant, call_id)?;
        }
        Ok(())
    }

    /// Hands back the refunds and billing-events files, to be finished by the caller.
    pub(crate) fn into_files(self) -> (Option<CsvOut>, Option<CsvOut>) {
        (self.refunds.map(|r| r.out), self.events.map(|e| e.out))
    }
}

fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// One refund row.
struct Refund<'a> {
    tenant: &'a str,
    call_id: &'a str,
    cabin: &'a str,
    amount: i64,
    reason: &'a str,
    at: i64,
}

struct Refunds {
    out: CsvOut,
    rng: ChaCha8Rng,
    seq: u64,
    tag: String,
    id: Vec<u8>,
}

impl Refunds {
    /// About 2 % of calls with a positive stored charge are refunded: half in full, 30 % in
    /// part, 20 % in two parts that add up to the charge. One cruise call in 2,000 also brings
    /// a custom refund of its cabin.
    fn after_call(
        &mut self,
        call: &Call,
        tenant: &str,
        call_id: &str,
    ) -> Result<(), GenerateError> {
        let rng = &mut self.rng;
        if let Some(charge) = call.charge.filter(|&c| c > 0)
            && rng.random_range(0..1000) < 20
        {
            let at = call.end + rng.random_range(60..=172_800);
            let reason = REFUND_REASONS[rng.random_range(0..REFUND_REASONS.len())];
            let kind = rng.random_range(0..10);
            let first = if kind < 5 || charge < 2 {
                charge
            } else {
                (charge * rng.random_range(10..=90) / 100).clamp(1, charge - 1)
            };
            let mut refund = Refund {
                tenant,
                call_id,
                cabin: &call.cabin,
                amount: first,
                reason,
                at,
            };
            let split = kind >= 8 && first < charge;
            let later = if split {
                rng.random_range(600..=86_400)
            } else {
                0
            };
            self.write(&refund)?;
            if split {
                refund.amount = charge - first;
                refund.at += later;
                self.write(&refund)?;
            }
        }
        let rng = &mut self.rng;
        if !call.cabin.is_empty() && rng.random_range(0..2000) == 0 {
            let at = call.end + rng.random_range(3600..=86_400);
            let amount = rng.random_range(1..=50) * MICROS / 2;
            let reason = CUSTOM_REASONS[rng.random_range(0..CUSTOM_REASONS.len())];
            self.write(&Refund {
                tenant,
                call_id: "",
                cabin: &call.cabin,
                amount,
                reason,
                at,
            })?;
        }
        Ok(())
    }

    fn write(&mut self, r: &Refund<'_>) -> Result<(), GenerateError> {
        self.seq += 1;
        self.id.clear();
        self.id.extend_from_slice(b"RF-");
        self.id.extend_from_slice(self.tag.as_bytes());
        self.id.push(b'-');
        push_padded(&mut self.id, self.seq, 8);
        let out = &mut self.out;
        out.text(std::str::from_utf8(&self.id).unwrap_or_default());
        out.text(r.tenant);
        out.text(r.call_id);
        out.text(r.cabin);
        out.money(r.amount);
        out.text("REF0");
        out.text(r.reason);
        out.ts(r.at);
        out.text("billing");
        out.end_row()
    }
}

struct Events {
    out: CsvOut,
    rng: ChaCha8Rng,
}

impl Events {
    /// A connected, billable outbound call is sent to the PMS; 82 % are then confirmed, 6 %
    /// fail, 6 % fail and are retried successfully, 3 % fail with the retry still open, 3 %
    /// stay open.
    fn after_call(
        &mut self,
        call: &Call,
        tenant: &str,
        call_id: &str,
    ) -> Result<(), GenerateError> {
        if call.direction != Direction::Outbound || !call.connected() || call.excluded {
            return Ok(());
        }
        let mut at = call.end + self.rng.random_range(1..=30);
        self.write(tenant, call_id, at, "sent", "")?;
        let plan = pick_weighted(&mut self.rng, &[(0u8, 82), (1, 6), (2, 6), (3, 3), (4, 3)]);
        if plan == 0 {
            at += self.rng.random_range(1..=10);
            return self.write(tenant, call_id, at, "ok", "");
        }
        if plan == 4 {
            return Ok(());
        }
        at += self.rng.random_range(1..=60);
        let detail = FAILURES[self.rng.random_range(0..FAILURES.len())];
        self.write(tenant, call_id, at, "failure", detail)?;
        if plan >= 2 {
            at += self.rng.random_range(60..=3600);
            self.write(tenant, call_id, at, "retry_sent", "retry 1")?;
            if plan == 2 {
                at += self.rng.random_range(1..=10);
                self.write(tenant, call_id, at, "ok", "")?;
            }
        }
        Ok(())
    }

    fn write(
        &mut self,
        tenant: &str,
        call_id: &str,
        at: i64,
        result: &str,
        detail: &str,
    ) -> Result<(), GenerateError> {
        self.out.text(tenant);
        self.out.text(call_id);
        self.out.ts(at);
        self.out.text(result);
        self.out.text(detail);
        self.out.end_row()
    }
}

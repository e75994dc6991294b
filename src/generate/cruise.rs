//! Cruise-ship calls (hospitality PMS): outbound calls from cabins, billed to the cabin's
//! account and mostly left for the rate deck to price (some rated by the PMS itself, 60/60),
//! cabin-to-cabin and service-extension calls, a few inbound calls to cabins, and the odd
//! emergency call (excluded from billing).

use rand::Rng;

use super::billing::{billable_seconds, charge_micros};
use super::calls::{Call, Talk, talk_secs};
use super::fields::{CallType, Cause};
use super::numbers::{EMERGENCY, Style, pick_weighted, push_random};
use super::tenants::{CRUISE_DEST, Gen, Tenant, push_u64_str};

impl Tenant {
    /// Fills `call` with one cruise-ship call starting at `start`.
    pub(super) fn cruise(&self, g: &mut Gen<'_>, call: &mut Call, start: i64) {
        const CABINS: u32 = 8 * 150;
        let rng = &mut g.rng;
        let ct = pick_weighted(
            rng,
            &[
                (CallType::Outbound, 60),
                (CallType::Internal, 30),
                (CallType::Inbound, 10),
            ],
        );
        call.reset(start, ct);
        let cabin = rng.random_range(0..CABINS);
        push_cabin(&mut call.cabin, cabin);
        match ct {
            CallType::Outbound => {
                call.source.push_str(&call.cabin);
                call.extension.push_str(&call.cabin);
                call.billing_account.push_str("ACC-");
                push_pad4(&mut call.billing_account, cabin / 2 + 1);
                call.trunk
                    .push_str(["VSAT 1", "VSAT 2", "GSM Port"][rng.random_range(0..3)]);
                if rng.random_range(0..1000) < 5 {
                    call.destination
                        .push_str(EMERGENCY[rng.random_range(0..EMERGENCY.len())]);
                    call.excluded = true;
                    let talk = talk_secs(rng, Cause::Normal, Talk::Short);
                    call.settle(rng, Cause::Normal, talk);
                    return;
                }
                let style = if rng.random_range(0..10) == 0 {
                    Style::Plus
                } else {
                    Style::Digits
                };
                push_random(rng, &mut call.destination, &CRUISE_DEST, 50, style);
                let cause = pick_weighted(rng, &[(Cause::Normal, 75), (Cause::Unanswered, 25)]);
                let talk = talk_secs(rng, cause, Talk::Conversation);
                call.settle(rng, cause, talk);
                if rng.random_range(0..100) < 20
                    && let Some(rate) = g.deck.cruise_rate(self.ordinal, &call.destination, start)
                {
                    let billed = billable_seconds(call.duration_s, 60, 60);
                    call.billed_s = Some(billed);
                    call.rate = Some(rate.rate);
                    call.charge = Some(charge_micros(billed, rate.rate, 0));
                    call.currency = rate.currency;
                }
            }
            CallType::Internal => {
                call.source.push_str(&call.cabin);
                call.extension.push_str(&call.cabin);
                call.billing_account.push_str("ACC-");
                push_pad4(&mut call.billing_account, cabin / 2 + 1);
                if rng.random_range(0..4) == 0 {
                    call.destination
                        .push_str(["100", "200", "300", "400"][rng.random_range(0..4)]);
                } else {
                    let other = (cabin + rng.random_range(1..CABINS)) % CABINS;
                    push_cabin(&mut call.destination, other);
                }
                let cause = pick_weighted(
                    rng,
                    &[
                        (Cause::Normal, 80),
                        (Cause::Unanswered, 15),
                        (Cause::Voicemail, 5),
                    ],
                );
                let talk = talk_secs(rng, cause, Talk::Conversation);
                call.settle(rng, cause, talk);
            }
            _ => {
                self.pool.push_caller(rng, &mut call.source);
                call.destination.push_str(&call.cabin);
                call.extension.push_str(&call.cabin);
                let cause = pick_weighted(
                    rng,
                    &[
                        (Cause::Normal, 70),
                        (Cause::Unanswered, 22),
                        (Cause::Voicemail, 8),
                    ],
                );
                let talk = talk_secs(rng, cause, Talk::Conversation);
                call.settle(rng, cause, talk);
            }
        }
    }
}

/// Appends a 4-digit cabin number (deck 2–9, room 001–150), e.g. `5123`.
fn push_cabin(buf: &mut String, index: u32) {
    let deck = 2 + index / 150;
    let room = 1 + index % 150;
    push_u64_str(buf, u64::from(deck * 1000 + room));
}

fn push_pad4(buf: &mut String, v: u32) {
    let v = v % 10_000;
    for d in [1000, 100, 10, 1] {
        buf.push(char::from(b'0' + (v / d % 10) as u8));
    }
}

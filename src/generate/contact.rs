//! Contact-center calls: call types inbound, outbound, predictive outbound, conference and
//! callback; agents and skill groups; every hang-up cause of SPEC 2.6; recordings of normal
//! calls.
//!
//! The first seventeen contact-center calls of a stream show each cause once, in SPEC order,
//! so that every file of a realistic size (with a contact tenant and at least a few hundred
//! rows) contains every cause; later calls draw causes by weight.

use rand::Rng;

use super::calls::{Call, Talk, talk_secs};
use super::fields::{CallType, Cause};
use super::numbers::{GB, Network, Style, pick_weighted, push_identity};
use super::tenants::{Gen, Tenant, push_u64_str};

const AGENTS: u64 = 40;
const SKILL_GROUPS: [&str; 3] = ["sales", "support", "billing"];

const INBOUND_CAUSES: [(Cause, u32); 14] = [
    (Cause::Normal, 62),
    (Cause::AbandonedInIvr, 6),
    (Cause::AbandonedInQueue, 6),
    (Cause::AbandonedWhileRinging, 4),
    (Cause::QueueTimeout, 3),
    (Cause::TransferredToExternalLine, 3),
    (Cause::Voicemail, 3),
    (Cause::QueueOverflow, 2),
    (Cause::TransferToAgentFailed, 2),
    (Cause::IvrError, 1),
    (Cause::NavigationAbandoned, 3),
    (Cause::WrongExtension, 2),
    (Cause::NoExtension, 2),
    (Cause::RoutingFailed, 1),
];
const OUTBOUND_CAUSES: [(Cause, u32); 3] = [
    (Cause::Normal, 65),
    (Cause::Unanswered, 33),
    (Cause::ForbiddenDestination, 2),
];
const CALLBACK_CAUSES: [(Cause, u32); 2] = [(Cause::Normal, 72), (Cause::CallbackNoAnswer, 28)];

impl Tenant {
    /// Fills `call` with one contact-center call starting at `start`.
    pub(super) fn contact(&self, g: &mut Gen<'_>, call: &mut Call, start: i64) {
        let rng = &mut g.rng;
        let (ct, cause) = if let Some(&cause) = Cause::ALL.get(g.forced) {
            g.forced += 1;
            let ct = match cause {
                Cause::Unanswered | Cause::ForbiddenDestination => CallType::Outbound,
                Cause::CallbackNoAnswer => CallType::Callback,
                _ => CallType::Inbound,
            };
            (ct, cause)
        } else {
            let ct = pick_weighted(
                rng,
                &[
                    (CallType::Inbound, 50),
                    (CallType::Outbound, 20),
                    (CallType::PredictiveOutbound, 15),
                    (CallType::Conference, 5),
                    (CallType::Callback, 10),
                ],
            );
            let causes: &[(Cause, u32)] = match ct {
                CallType::Inbound => &INBOUND_CAUSES,
                CallType::Callback => &CALLBACK_CAUSES,
                _ => &OUTBOUND_CAUSES,
            };
            (ct, pick_weighted(rng, causes))
        };
        call.reset(start, ct);
        let hotline = rng.random_range(0..3);
        let skill = SKILL_GROUPS[rng.random_range(0..SKILL_GROUPS.len())];
        let (with_agent, with_skill) = if ct == CallType::Inbound {
            self.pool.push_caller(rng, &mut call.source);
            push_identity(
                &mut call.destination,
                self.salt,
                hotline,
                &[GB],
                Network::Fixed,
                Style::Plus,
            );
            use Cause::*;
            (
                matches!(cause, Normal | AbandonedWhileRinging),
                matches!(
                    cause,
                    Normal
                        | AbandonedInQueue
                        | AbandonedWhileRinging
                        | QueueTimeout
                        | QueueOverflow
                        | TransferToAgentFailed
                ),
            )
        } else {
            push_identity(
                &mut call.source,
                self.salt,
                hotline,
                &[GB],
                Network::Fixed,
                Style::Plus,
            );
            self.pool.push_caller(rng, &mut call.destination);
            (true, true)
        };
        if with_agent {
            call.agent.push_str("agent");
            let n = 1 + rng.random_range(0..AGENTS);
            if n < 10 {
                call.agent.push('0');
            }
            push_u64_str(&mut call.agent, n);
        }
        if with_skill {
            call.skill_group = skill;
        }
        let talk = talk_secs(rng, cause, Talk::Conversation);
        call.settle(rng, cause, talk);
        call.recording = cause == Cause::Normal && call.connected();
    }
}

//! One call: the reusable [`Call`] record, the rules that keep its fields consistent (timing,
//! SIP code, disconnect initiator and hang-up cause agree with whether it connected), talk
//! times, and the canonical `cdrs.csv` row.

use rand::Rng;

use super::GenerateError;
use super::fields::{CallType, Cause, CdrType, Connects, Direction, Initiator};
use super::numbers::pick_weighted;
use super::out::CsvOut;

/// One call, reused from row to row so that generating does not allocate. Empty strings and
/// `None` are nulls.
#[derive(Debug)]
pub(crate) struct Call {
    /// Direction.
    pub direction: Direction,
    /// Call type (consistent with the direction).
    pub call_type: CallType,
    /// Start, Unix seconds.
    pub start: i64,
    /// Answer time, when connected.
    pub connect: Option<i64>,
    /// End, Unix seconds.
    pub end: i64,
    /// Connected seconds (0 when not connected).
    pub duration_s: u32,
    /// Billing duration, when the source rated the call.
    pub billed_s: Option<u32>,
    /// A number.
    pub source: String,
    /// B number or SIP URI.
    pub destination: String,
    /// DID dialled (carrier inbound).
    pub did: String,
    /// Caller ID sent on (carrier outbound).
    pub cli: String,
    /// Extension that made or took the call.
    pub extension: String,
    /// Contact-center agent.
    pub agent: String,
    /// Contact-center skill group.
    pub skill_group: &'static str,
    /// Cabin of the cruise guest.
    pub cabin: String,
    /// Account paying for the call.
    pub billing_account: String,
    /// Trunk name.
    pub trunk: String,
    /// Final SIP response code.
    pub sip_code: u16,
    /// Side that ended the call.
    pub initiator: Initiator,
    /// Hang-up cause.
    pub cause: Cause,
    /// Rate per minute (micro-units), when rated by the source.
    pub rate: Option<i64>,
    /// Charge (micro-units), when rated by the source.
    pub charge: Option<i64>,
    /// Currency of rate and charge (empty: none).
    pub currency: &'static str,
    /// Carrier inbound toll-free amount (micro-units).
    pub toll_free: Option<i64>,
    /// Carrier inbound termination amount (micro-units).
    pub termination: Option<i64>,
    /// Carrier inbound metered-channels amount (micro-units).
    pub metered: Option<i64>,
    /// Carrier CDR type.
    pub cdr_type: Option<CdrType>,
    /// Carrier destination country name.
    pub country: &'static str,
    /// Carrier destination network name.
    pub network: &'static str,
    /// Web session bound to the call (call tracking).
    pub session_id: String,
    /// Whether a recording exists (`recording_url` is derived from the call id).
    pub recording: bool,
    /// Destination is an emergency or `116xxx` number: never rated or billed.
    pub excluded: bool,
}

impl Call {
    /// An empty call.
    pub(crate) fn new() -> Self {
        Call {
            direction: Direction::Inbound,
            call_type: CallType::Inbound,
            start: 0,
            connect: None,
            end: 0,
            duration_s: 0,
            billed_s: None,
            source: String::with_capacity(32),
            destination: String::with_capacity(48),
            did: String::with_capacity(16),
            cli: String::with_capacity(16),
            extension: String::with_capacity(8),
            agent: String::with_capacity(8),
            skill_group: "",
            cabin: String::with_capacity(8),
            billing_account: String::with_capacity(12),
            trunk: String::with_capacity(20),
            sip_code: 200,
            initiator: Initiator::Origination,
            cause: Cause::Normal,
            rate: None,
            charge: None,
            currency: "",
            toll_free: None,
            termination: None,
            metered: None,
            cdr_type: None,
            country: "",
            network: "",
            session_id: String::with_capacity(20),
            recording: false,
            excluded: false,
        }
    }

    /// Clears every field and sets the start time and call type.
    pub(crate) fn reset(&mut self, start: i64, call_type: CallType) {
        for s in [
            &mut self.source,
            &mut self.destination,
            &mut self.did,
            &mut self.cli,
            &mut self.extension,
            &mut self.agent,
            &mut self.cabin,
            &mut self.billing_account,
            &mut self.trunk,
            &mut self.session_id,
        ] {
            s.clear();
        }
        self.call_type = call_type;
        self.direction = call_type.direction();
        self.start = start;
        self.connect = None;
        self.end = start;
        self.duration_s = 0;
        self.billed_s = None;
        self.skill_group = "";
        self.sip_code = 200;
        self.initiator = Initiator::Origination;
        self.cause = Cause::Normal;
        self.rate = None;
        self.charge = None;
        self.currency = "";
        self.toll_free = None;
        self.termination = None;
        self.metered = None;
        self.cdr_type = None;
        self.country = "";
        self.network = "";
        self.recording = false;
        self.excluded = false;
    }

    /// Whether the call connected.
    pub(crate) fn connected(&self) -> bool {
        self.connect.is_some()
    }

    /// Sets the outcome: cause, whether it connected (per [`Cause::connects`]), timing, SIP
    /// code and initiator. `talk_s` is the connected time used if the call connects.
    pub(crate) fn settle<R: Rng + ?Sized>(&mut self, rng: &mut R, cause: Cause, talk_s: u32) {
        let connected = match cause.connects() {
            Connects::Always => true,
            Connects::Never => false,
            Connects::Sometimes(p) => rng.random_range(0..100) < p,
        };
        self.cause = cause;
        if connected {
            let ring: i64 = if cause == Cause::Normal {
                rng.random_range(2..=25)
            } else {
                rng.random_range(0..=3)
            };
            let connect = self.start + ring;
            self.connect = Some(connect);
            self.duration_s = talk_s;
            self.end = connect + i64::from(talk_s);
            self.sip_code = 200;
            self.initiator = connected_initiator(rng, cause);
        } else {
            let code = pick_weighted(rng, cause.failure_codes());
            let wait: i64 = match code {
                487 | 480 | 408 => rng.random_range(5..=60),
                486 | 603 => rng.random_range(1..=15),
                _ => rng.random_range(0..=3),
            };
            self.connect = None;
            self.duration_s = 0;
            self.end = self.start + wait;
            self.sip_code = code;
            self.initiator = match code {
                487 => Initiator::Origination,
                408 | 503 | 403 => Initiator::System,
                _ => Initiator::Destination,
            };
        }
    }
}

fn connected_initiator<R: Rng + ?Sized>(rng: &mut R, cause: Cause) -> Initiator {
    use Cause::*;
    match cause {
        Normal | TransferredToExternalLine => {
            if rng.random_bool(0.5) {
                Initiator::Origination
            } else {
                Initiator::Destination
            }
        }
        AbandonedInIvr
        | AbandonedInQueue
        | AbandonedWhileRinging
        | NavigationAbandoned
        | Voicemail => Initiator::Origination,
        _ => Initiator::System,
    }
}

/// Talk-time profiles, in whole seconds; integer-only so output is the same on every
/// platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Talk {
    /// Ordinary conversation: mostly 30 s – 5 min, a tail up to an hour.
    Conversation,
    /// Call tracking: spread around the 30 s target (many 5–29 s, some exactly 30, many more).
    Tracking,
    /// Short service calls (emergency, hotlines): 20 s – 3 min.
    Short,
}

/// Draws a connected duration for `cause` under profile `talk`.
pub(crate) fn talk_secs<R: Rng + ?Sized>(rng: &mut R, cause: Cause, talk: Talk) -> u32 {
    use Cause::*;
    match cause {
        Normal | TransferredToExternalLine => match talk {
            Talk::Conversation => match rng.random_range(0..100) {
                0..10 => rng.random_range(1..=29),
                10..65 => rng.random_range(30..=300),
                65..95 => rng.random_range(301..=1200),
                _ => rng.random_range(1201..=3600),
            },
            Talk::Tracking => match rng.random_range(0..100) {
                0..5 => rng.random_range(1..=4),
                5..45 => rng.random_range(5..=29),
                45..49 => 30,
                49..85 => rng.random_range(31..=180),
                _ => rng.random_range(181..=900),
            },
            Talk::Short => rng.random_range(20..=180),
        },
        QueueTimeout => rng.random_range(120..=600),
        AbandonedInQueue => rng.random_range(15..=300),
        Voicemail => rng.random_range(8..=90),
        _ => rng.random_range(3..=60),
    }
}

/// Header of `cdrs.csv`.
pub(crate) const CANONICAL_HEADER: [&str; 33] = [
    "call_id",
    "tenant",
    "direction",
    "call_type",
    "start_time",
    "connect_time",
    "end_time",
    "duration_s",
    "billed_s",
    "source",
    "destination",
    "did",
    "cli",
    "extension",
    "agent",
    "skill_group",
    "cabin",
    "billing_account",
    "trunk",
    "sip_code",
    "disconnect_initiator",
    "hangup_cause",
    "rate_per_min",
    "charge",
    "currency",
    "toll_free_amount",
    "termination_amount",
    "metered_channels_amount",
    "cdr_type",
    "country",
    "network",
    "session_id",
    "recording_url",
];

/// Writes one canonical row.
pub(crate) fn write_canonical(
    out: &mut CsvOut,
    call: &Call,
    tenant: &str,
    call_id: &str,
) -> Result<(), GenerateError> {
    out.text(call_id);
    out.text(tenant);
    out.text(call.direction.as_str());
    out.text(call.call_type.as_str());
    out.ts(call.start);
    out.opt_ts(call.connect);
    out.ts(call.end);
    out.uint(u64::from(call.duration_s));
    out.opt_uint(call.billed_s.map(u64::from));
    for s in [
        &call.source,
        &call.destination,
        &call.did,
        &call.cli,
        &call.extension,
        &call.agent,
    ] {
        out.text(s);
    }
    out.text(call.skill_group);
    for s in [&call.cabin, &call.billing_account, &call.trunk] {
        out.text(s);
    }
    out.uint(u64::from(call.sip_code));
    out.text(call.initiator.as_str());
    out.text(call.cause.as_str());
    out.opt_money(call.rate);
    out.opt_money(call.charge);
    out.text(call.currency);
    out.opt_money(call.toll_free);
    out.opt_money(call.termination);
    out.opt_money(call.metered);
    out.text(call.cdr_type.map_or("", CdrType::as_str));
    out.text(call.country);
    out.text(call.network);
    out.text(&call.session_id);
    if call.recording {
        out.raw("https://rec.example.com/");
        out.raw(call_id);
        out.raw(".mp3");
    }
    out.sep();
    out.end_row()
}

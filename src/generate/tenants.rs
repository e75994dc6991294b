//! The five tenant kinds, one per seed page, and their call mixes: a cruise line's cabin
//! phones ([`super::cruise`]), a hosted PBX, a call-tracking project, a contact center
//! ([`super::contact`]) and a SIP carrier's customer ([`super::carrier`]).
//!
//! Tenant `i` has kind `i % 5`; rows are spread over tenants at random, weighted by kind.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::billing::Deck;
use super::calls::{Call, Talk, talk_secs};
use super::fields::{CallType, Cause};
use super::numbers::{
    BE, CH, CN, CallerPool, DE, ES, FR, GB, IN, IT, NL, Network, SERVICES_116, Style, UA, US, mix2,
    pick_weighted, push_identity, push_random,
};

/// Kind of a tenant, following the five seed pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Cruise-ship telephony with a hospitality PMS (Callisto).
    Cruise,
    /// Hosted PBX with PSTN call data records.
    Pbx,
    /// Call tracking (Ringostat).
    Tracking,
    /// Cloud contact center.
    Contact,
    /// SIP carrier customer (DIDWW).
    Carrier,
}

impl Kind {
    /// Kinds in tenant order: tenant `i` has kind `ORDER[i % 5]`.
    pub(crate) const ORDER: [Kind; 5] = [
        Kind::Cruise,
        Kind::Pbx,
        Kind::Tracking,
        Kind::Contact,
        Kind::Carrier,
    ];

    /// Base name of tenants of this kind.
    pub(crate) fn base_name(self) -> &'static str {
        match self {
            Kind::Cruise => "cruise",
            Kind::Pbx => "pbx",
            Kind::Tracking => "tracking",
            Kind::Contact => "contact",
            Kind::Carrier => "carrier",
        }
    }

    /// Relative call volume of a tenant of this kind.
    pub(crate) fn weight(self) -> u32 {
        match self {
            Kind::Cruise | Kind::Pbx | Kind::Tracking => 2,
            Kind::Contact | Kind::Carrier => 3,
        }
    }
}

/// State shared by the generators of one output stream.
pub(crate) struct Gen<'a> {
    /// The stream's random numbers.
    pub rng: ChaCha8Rng,
    /// The rate deck, for the calls a cruise PMS rates itself.
    pub deck: &'a Deck,
    /// Index into [`Cause::ALL`] of the next cause the contact centers must show.
    pub forced: usize,
}

/// All tenants of a run, with the weights rows are spread by.
pub(crate) struct Tenants {
    /// Tenants in index order.
    pub list: Vec<Tenant>,
    cumulative: Vec<u64>,
}

impl Tenants {
    /// `count` tenants of a run seeded with `seed` producing `rows_per_day` rows a day.
    pub(crate) fn new(count: u32, seed: u64, rows_per_day: f64) -> Self {
        let kind = |i: u32| Kind::ORDER[(i % 5) as usize];
        let total: u64 = (0..count).map(|i| u64::from(kind(i).weight())).sum();
        let mut cumulative = Vec::with_capacity(count as usize);
        let mut acc = 0;
        let list = (0..count)
            .map(|i| {
                let w = kind(i).weight();
                acc += u64::from(w);
                cumulative.push(acc);
                Tenant::new(i, seed, rows_per_day * f64::from(w) / total.max(1) as f64)
            })
            .collect();
        Tenants { list, cumulative }
    }

    /// Draws the tenant of the next row, in proportion to the tenants' weights.
    pub(crate) fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> &Tenant {
        let total = self.cumulative.last().copied().unwrap_or(0);
        let x = rng.random_range(0..total.max(1));
        let i = self.cumulative.partition_point(|&c| c <= x);
        &self.list[i.min(self.list.len().saturating_sub(1))]
    }
}

/// One tenant: name, kind and the derived identities of its numbers.
pub(crate) struct Tenant {
    /// Tenant name (`cruise`, `pbx-2`, …).
    pub name: String,
    /// Kind of the tenant.
    pub kind: Kind,
    /// 0-based position among the tenants of the same kind.
    pub ordinal: u32,
    /// Hash salt of the tenant's numbers.
    pub salt: u64,
    /// Callers (or called customers) with their repeat pattern.
    pub pool: CallerPool,
}

const TRACKING_CALLERS: [(usize, u32); 3] = [(UA, 90), (DE, 5), (GB, 5)];
const PBX_CALLERS: [(usize, u32); 5] = [(NL, 88), (DE, 4), (BE, 4), (GB, 2), (US, 2)];
const CONTACT_CALLERS: [(usize, u32); 4] = [(GB, 50), (DE, 20), (FR, 15), (NL, 15)];
/// Countries of callers from outside (carrier customers, cruise guests' families).
pub(crate) const CARRIER_CALLERS: [(usize, u32); 4] = [(US, 50), (GB, 25), (DE, 15), (NL, 10)];
/// Destinations dialled from cruise cabins (and abroad by call-tracking managers).
pub(crate) const CRUISE_DEST: [(usize, u32); 12] = [
    (US, 30),
    (GB, 15),
    (DE, 12),
    (NL, 8),
    (FR, 6),
    (ES, 6),
    (IT, 6),
    (CH, 3),
    (BE, 3),
    (UA, 2),
    (IN, 4),
    (CN, 5),
];
const PBX_DEST: [(usize, u32); 6] = [(NL, 85), (DE, 4), (BE, 4), (GB, 3), (FR, 2), (US, 2)];

impl Tenant {
    /// Tenant number `index` (0-based) of a run seeded with `seed`, expecting about
    /// `calls_per_day` calls a day.
    pub(crate) fn new(index: u32, seed: u64, calls_per_day: f64) -> Self {
        let kind = Kind::ORDER[(index % 5) as usize];
        let ordinal = index / 5;
        let name = if ordinal == 0 {
            kind.base_name().to_owned()
        } else {
            format!("{}-{}", kind.base_name(), ordinal + 1)
        };
        let salt = mix2(seed, u64::from(index));
        let v = calls_per_day;
        let pool = match kind {
            Kind::Tracking => CallerPool::new(v, 12.0, salt, &TRACKING_CALLERS, 75, Style::Digits),
            Kind::Pbx => CallerPool::new(v, 6.0, salt, &PBX_CALLERS, 55, Style::Dutch),
            Kind::Contact => CallerPool::new(v, 5.0, salt, &CONTACT_CALLERS, 60, Style::Plus),
            Kind::Cruise => CallerPool::new(v, 3.0, salt, &CARRIER_CALLERS, 60, Style::Digits),
            Kind::Carrier => CallerPool::new(v, 8.0, salt, &CARRIER_CALLERS, 40, Style::Digits),
        };
        Tenant {
            name,
            kind,
            ordinal,
            salt,
            pool,
        }
    }

    /// Fills `call` with one call of this tenant starting at `start` (Unix seconds).
    pub(crate) fn generate(&self, g: &mut Gen<'_>, call: &mut Call, start: i64) {
        match self.kind {
            Kind::Cruise => self.cruise(g, call, start),
            Kind::Pbx => self.pbx(g, call, start),
            Kind::Tracking => self.tracking(g, call, start),
            Kind::Contact => self.contact(g, call, start),
            Kind::Carrier => self.carrier(g, call, start, None),
        }
    }

    fn pbx(&self, g: &mut Gen<'_>, call: &mut Call, start: i64) {
        const EXTENSIONS: u64 = 60;
        let rng = &mut g.rng;
        let ct = pick_weighted(
            rng,
            &[
                (CallType::Inbound, 45),
                (CallType::Outbound, 40),
                (CallType::Internal, 15),
            ],
        );
        call.reset(start, ct);
        let ext = 201 + rng.random_range(0..EXTENSIONS);
        match ct {
            CallType::Inbound => {
                self.pool.push_caller(rng, &mut call.source);
                let k = rng.random_range(0..3);
                push_identity(
                    &mut call.destination,
                    self.salt,
                    k,
                    &[NL],
                    Network::Fixed,
                    Style::Dutch,
                );
                if rng.random_range(0..100) < 15 {
                    call.extension.push('0');
                } else {
                    push_u64_str(&mut call.extension, ext);
                }
                let cause = pick_weighted(
                    rng,
                    &[
                        (Cause::Normal, 72),
                        (Cause::Unanswered, 18),
                        (Cause::Voicemail, 7),
                        (Cause::TransferredToExternalLine, 3),
                    ],
                );
                let talk = talk_secs(rng, cause, Talk::Conversation);
                call.settle(rng, cause, talk);
            }
            CallType::Outbound => {
                push_identity(
                    &mut call.source,
                    self.salt,
                    0,
                    &[NL],
                    Network::Fixed,
                    Style::Dutch,
                );
                push_u64_str(&mut call.extension, ext);
                let special = rng.random_range(0..1000);
                if special < 20 {
                    let number = if special < 8 {
                        "112"
                    } else {
                        SERVICES_116[rng.random_range(0..SERVICES_116.len())]
                    };
                    call.destination.push_str(number);
                    call.excluded = true;
                    let talk = talk_secs(rng, Cause::Normal, Talk::Short);
                    call.settle(rng, Cause::Normal, talk);
                    return;
                }
                push_random(rng, &mut call.destination, &PBX_DEST, 50, Style::Dutch);
                let cause = pick_weighted(rng, &[(Cause::Normal, 75), (Cause::Unanswered, 25)]);
                let talk = talk_secs(rng, cause, Talk::Conversation);
                call.settle(rng, cause, talk);
            }
            _ => {
                push_u64_str(&mut call.source, ext);
                push_u64_str(&mut call.extension, ext);
                let other = 201 + (ext - 201 + rng.random_range(1..EXTENSIONS)) % EXTENSIONS;
                push_u64_str(&mut call.destination, other);
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
        }
    }

    fn tracking(&self, g: &mut Gen<'_>, call: &mut Call, start: i64) {
        let rng = &mut g.rng;
        let ct = pick_weighted(
            rng,
            &[
                (CallType::Inbound, 85),
                (CallType::Callback, 10),
                (CallType::Outbound, 5),
            ],
        );
        call.reset(start, ct);
        let k = rng.random_range(0..8);
        let own = if ct == CallType::Inbound {
            &mut call.destination
        } else {
            &mut call.source
        };
        push_identity(own, self.salt, k, &[UA], Network::Fixed, Style::Digits);
        let causes: &[(Cause, u32)] = match ct {
            CallType::Inbound => {
                self.pool.push_caller(rng, &mut call.source);
                &[
                    (Cause::Normal, 70),
                    (Cause::Unanswered, 12),
                    (Cause::Voicemail, 5),
                    (Cause::WrongExtension, 3),
                    (Cause::NoExtension, 3),
                    (Cause::RoutingFailed, 7),
                ]
            }
            CallType::Callback => {
                self.pool.push_caller(rng, &mut call.destination);
                &[
                    (Cause::Normal, 70),
                    (Cause::CallbackNoAnswer, 25),
                    (Cause::ForbiddenDestination, 5),
                ]
            }
            _ => {
                if rng.random_range(0..10) == 0 {
                    push_random(rng, &mut call.destination, &CRUISE_DEST, 50, Style::Digits);
                } else {
                    self.pool.push_caller(rng, &mut call.destination);
                }
                &[
                    (Cause::Normal, 65),
                    (Cause::Unanswered, 25),
                    (Cause::ForbiddenDestination, 10),
                ]
            }
        };
        let cause = pick_weighted(rng, causes);
        let talk = talk_secs(rng, cause, Talk::Tracking);
        call.settle(rng, cause, talk);
        if call.connected() && cause == Cause::Normal {
            push_u64_str(&mut call.extension, 101 + rng.random_range(0..20));
        }
        if ct != CallType::Outbound && rng.random_range(0..100) < 60 {
            call.session_id.push_str("s-");
            push_hex(&mut call.session_id, rng.random::<u64>(), 16);
        }
    }
}

/// Appends the decimal digits of `v` to a `String`.
pub(crate) fn push_u64_str(buf: &mut String, v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut v = v;
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend(tmp[i..].iter().map(|&b| char::from(b)));
}

/// Appends `width` lowercase hex digits of `v`.
pub(crate) fn push_hex(buf: &mut String, v: u64, width: u32) {
    for i in (0..width).rev() {
        let nibble = ((v >> (4 * i)) & 0xF) as u8;
        buf.push(char::from(if nibble < 10 {
            b'0' + nibble
        } else {
            b'a' + nibble - 10
        }));
    }
}

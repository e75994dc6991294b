//! The enumerated values of a CDR's fields, in their storage spelling: direction, call
//! type, disconnect initiator, hang-up cause (SPEC 2.6), carrier CDR type, and the SIP reason
//! phrases the carrier's exports print.
/// Direction of a call (`cdrs.direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// From the PSTN.
    Inbound,
    /// To the PSTN.
    Outbound,
    /// Extension to extension.
    Internal,
}

impl Direction {
    /// Storage spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Internal => "internal",
        }
    }
}

/// Call type (`cdrs.call_type`). `inbound` goes with direction inbound, `internal` with
/// internal, the others with outbound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallType {
    /// Received call.
    Inbound,
    /// Manually placed call.
    Outbound,
    /// Call placed by a predictive dialler.
    PredictiveOutbound,
    /// Leg that adds a third party to a conference.
    Conference,
    /// Call back to a customer who asked for it.
    Callback,
    /// Extension to extension.
    Internal,
}

impl CallType {
    /// Storage spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CallType::Inbound => "inbound",
            CallType::Outbound => "outbound",
            CallType::PredictiveOutbound => "predictive_outbound",
            CallType::Conference => "conference",
            CallType::Callback => "callback",
            CallType::Internal => "internal",
        }
    }

    /// The direction this call type implies.
    pub(crate) fn direction(self) -> Direction {
        match self {
            CallType::Inbound => Direction::Inbound,
            CallType::Internal => Direction::Internal,
            _ => Direction::Outbound,
        }
    }
}

/// Side that ended the call (`cdrs.disconnect_initiator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Initiator {
    /// The calling side.
    Origination,
    /// The called side.
    Destination,
    /// The platform (timeouts, routing, IVR).
    System,
}

impl Initiator {
    /// Storage spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Initiator::Origination => "origination",
            Initiator::Destination => "destination",
            Initiator::System => "system",
        }
    }
}

/// Hang-up causes of SPEC 2.6, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Normal: connected, ended by either side.
    Normal,
    /// Unanswered: never connected (busy, rejected, no answer).
    Unanswered,
    /// Abandoned in IVR.
    AbandonedInIvr,
    /// Abandoned in queue.
    AbandonedInQueue,
    /// Abandoned while ringing.
    AbandonedWhileRinging,
    /// Queue timeout.
    QueueTimeout,
    /// Transferred to external line.
    TransferredToExternalLine,
    /// Voicemail.
    Voicemail,
    /// Queue overflow.
    QueueOverflow,
    /// Transfer to agent failed.
    TransferToAgentFailed,
    /// IVR error.
    IvrError,
    /// Intelligent Navigation: Abandonment.
    NavigationAbandoned,
    /// Wrong extension.
    WrongExtension,
    /// No extension.
    NoExtension,
    /// Call forwarding scheme did not work.
    RoutingFailed,
    /// Forbidden destination.
    ForbiddenDestination,
    /// No answer from a customer (Callback).
    CallbackNoAnswer,
}

/// Whether a cause goes with a connected call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connects {
    /// Always connected (a person, an IVR, a queue or a voicemail box answered).
    Always,
    /// Never connected.
    Never,
    /// Connected with the given probability in percent.
    Sometimes(u32),
}

impl Cause {
    /// Every cause, in SPEC 2.6 order.
    pub(crate) const ALL: [Cause; 17] = [
        Cause::Normal,
        Cause::Unanswered,
        Cause::AbandonedInIvr,
        Cause::AbandonedInQueue,
        Cause::AbandonedWhileRinging,
        Cause::QueueTimeout,
        Cause::TransferredToExternalLine,
        Cause::Voicemail,
        Cause::QueueOverflow,
        Cause::TransferToAgentFailed,
        Cause::IvrError,
        Cause::NavigationAbandoned,
        Cause::WrongExtension,
        Cause::NoExtension,
        Cause::RoutingFailed,
        Cause::ForbiddenDestination,
        Cause::CallbackNoAnswer,
    ];

    /// Storage spelling.
    pub(crate) fn as_str(self) -> &'static str {
        const NAMES: [&str; 17] = [
            "normal",
            "unanswered",
            "abandoned_in_ivr",
            "abandoned_in_queue",
            "abandoned_while_ringing",
            "queue_timeout",
            "transferred_to_external_line",
            "voicemail",
            "queue_overflow",
            "transfer_to_agent_failed",
            "ivr_error",
            "navigation_abandoned",
            "wrong_extension",
            "no_extension",
            "routing_failed",
            "forbidden_destination",
            "callback_no_answer",
        ];
        NAMES[self as usize]
    }

    /// Whether calls with this cause are connected.
    pub(crate) fn connects(self) -> Connects {
        use Cause::*;
        match self {
            Normal
            | AbandonedInIvr
            | AbandonedInQueue
            | QueueTimeout
            | TransferredToExternalLine
            | Voicemail
            | NavigationAbandoned
            | WrongExtension
            | NoExtension => Connects::Always,
            Unanswered | RoutingFailed | ForbiddenDestination | CallbackNoAnswer => Connects::Never,
            AbandonedWhileRinging => Connects::Sometimes(70),
            QueueOverflow => Connects::Sometimes(50),
            TransferToAgentFailed => Connects::Sometimes(60),
            IvrError => Connects::Sometimes(50),
        }
    }

    /// SIP final responses of a call with this cause that did not connect.
    pub(crate) fn failure_codes(self) -> &'static [(u16, u32)] {
        use Cause::*;
        match self {
            AbandonedWhileRinging => &[(487, 1)],
            QueueOverflow => &[(503, 2), (486, 1)],
            TransferToAgentFailed => &[(480, 1), (503, 1)],
            IvrError => &[(503, 1)],
            RoutingFailed => &[(404, 2), (480, 1), (503, 1)],
            ForbiddenDestination => &[(403, 1)],
            CallbackNoAnswer => &[(480, 3), (408, 2), (487, 2), (486, 1)],
            _ => &[
                (487, 30),
                (486, 25),
                (480, 20),
                (408, 10),
                (603, 8),
                (404, 4),
                (503, 3),
            ],
        }
    }
}

/// Destination classification the carrier reports (`cdrs.cdr_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CdrType {
    /// Different countries, not both in the EEA.
    International,
    /// Same country.
    Local,
    /// Both in the EEA.
    OriginBased,
}

impl CdrType {
    /// Storage spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CdrType::International => "international",
            CdrType::Local => "local",
            CdrType::OriginBased => "origin_based",
        }
    }

    /// The carrier's label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            CdrType::International => "International",
            CdrType::Local => "Local",
            CdrType::OriginBased => "Origin based",
        }
    }
}

/// RFC 3261 reason phrases of the SIP codes the generator uses.
pub(crate) const SIP_REASONS: [(u16, &str); 9] = [
    (200, "OK"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (408, "Request Timeout"),
    (480, "Temporarily Unavailable"),
    (486, "Busy Here"),
    (487, "Request Terminated"),
    (503, "Service Unavailable"),
    (603, "Decline"),
];

/// Reason phrase of a SIP code (empty for a code the generator never emits).
pub(crate) fn sip_reason(code: u16) -> &'static str {
    SIP_REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("", |(_, r)| r)
}

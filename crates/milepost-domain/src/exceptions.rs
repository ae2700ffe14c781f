//! Exception rules (DESIGN §4): pure functions over one shipment's projected timeline, its order,
//! the lane's learned rhythm and the current time. They answer which problems exist *now*, each
//! with a stable cause key, so the caller can open an exception once per cause and close it by
//! itself when its cause is no longer reported. They also say when the answer could next change
//! without any new event (the next due check), so a sweeper only looks at shipments that are due.

use crate::event::EventSource;
use crate::milestone::Milestone;
use crate::order::normalize_postal_code;
use crate::return_to_sender::{back_at_sender_since, decision_of};
use crate::shipment::Direction;
use crate::timeline::TimelineEntry;
use chrono::{DateTime, Duration, Utc};
use std::fmt;

/// The kinds of exception of DESIGN §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExceptionKind {
    Stalled,
    DeliveryFailed,
    AddressIssue,
    HandoffMismatch,
    MissingScan,
    Late,
    ReturnInMotion,
    CarrierException,
    NotFound,
    /// An outbound parcel is back with the sender and waits for staff to decide: reship, refund
    /// or cancel (the decision task of issue 7).
    ReturnedToSender,
}

impl ExceptionKind {
    pub const ALL: [ExceptionKind; 10] = [
        ExceptionKind::Stalled,
        ExceptionKind::DeliveryFailed,
        ExceptionKind::AddressIssue,
        ExceptionKind::HandoffMismatch,
        ExceptionKind::MissingScan,
        ExceptionKind::Late,
        ExceptionKind::ReturnInMotion,
        ExceptionKind::CarrierException,
        ExceptionKind::NotFound,
        ExceptionKind::ReturnedToSender,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::Stalled => "stalled",
            ExceptionKind::DeliveryFailed => "delivery_failed",
            ExceptionKind::AddressIssue => "address_issue",
            ExceptionKind::HandoffMismatch => "handoff_mismatch",
            ExceptionKind::MissingScan => "missing_scan",
            ExceptionKind::Late => "late",
            ExceptionKind::ReturnInMotion => "return_in_motion",
            ExceptionKind::CarrierException => "carrier_exception",
            ExceptionKind::NotFound => "not_found",
            ExceptionKind::ReturnedToSender => "returned_to_sender",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        ExceptionKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Default severity: what blocks delivery is high, what needs a look is medium.
    pub fn severity(self) -> Severity {
        match self {
            ExceptionKind::DeliveryFailed | ExceptionKind::AddressIssue | ExceptionKind::CarrierException => {
                Severity::High
            }
            ExceptionKind::Stalled
            | ExceptionKind::HandoffMismatch
            | ExceptionKind::Late
            | ExceptionKind::NotFound
            | ExceptionKind::ReturnedToSender => Severity::Medium,
            ExceptionKind::MissingScan | ExceptionKind::ReturnInMotion => Severity::Low,
        }
    }

    /// How long the team has to act once the exception opens.
    pub fn time_to_act(self) -> Duration {
        match self.severity() {
            Severity::High => Duration::hours(4),
            Severity::Medium => Duration::hours(24),
            Severity::Low => Duration::hours(72),
        }
    }
}

impl fmt::Display for ExceptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// The lifecycle of an exception: open → acknowledged → resolved (by staff or by itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionState {
    Open,
    Acknowledged,
    Resolved,
}

impl ExceptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionState::Open => "open",
            ExceptionState::Acknowledged => "acknowledged",
            ExceptionState::Resolved => "resolved",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [ExceptionState::Open, ExceptionState::Acknowledged, ExceptionState::Resolved]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// Staff actions: acknowledging an open exception, assigning or resolving one not yet
    /// resolved. Returns the state after the action, or `None` when the action is not allowed.
    pub fn after(self, action: StaffAction) -> Option<ExceptionState> {
        match (self, action) {
            (ExceptionState::Resolved, _) => None,
            (ExceptionState::Open, StaffAction::Acknowledge) => Some(ExceptionState::Acknowledged),
            (ExceptionState::Acknowledged, StaffAction::Acknowledge) => None,
            (state, StaffAction::Assign) => Some(state),
            (_, StaffAction::Resolve) => Some(ExceptionState::Resolved),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffAction {
    Acknowledge,
    Assign,
    Resolve,
}

/// Thresholds for the time-based rules; lanes without enough history use the fallbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    /// A stall with no learned rhythm: this long without a status-bearing event.
    pub stall_fallback: Duration,
    /// Lanes need at least this many samples before their rhythm replaces the fallback.
    pub min_lane_samples: u32,
    /// How long after "shipped" is claimed the carrier may take to show possession.
    pub handoff_grace: Duration,
    /// How long after registration a tracking number may stay unknown to the carrier.
    pub not_found_grace: Duration,
    /// How long after the carrier's first scan the warehouse's own pack scan may still arrive
    /// (scan stations upload in batches) before `missing_scan` opens.
    pub missing_scan_grace: Duration,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            stall_fallback: Duration::hours(72),
            min_lane_samples: 20,
            handoff_grace: Duration::hours(24),
            not_found_grace: Duration::hours(48),
            missing_scan_grace: Duration::hours(2),
        }
    }
}

/// The learned gap (p90) after a status at which a parcel on this lane counts as stalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageRhythm {
    pub median: Duration,
    pub p90: Duration,
    pub samples: u32,
}

/// What the rules need to know of one shipment.
#[derive(Debug, Clone)]
pub struct ShipmentFacts<'a> {
    pub tracking_number: &'a str,
    pub direction: Direction,
    pub registered_at: DateTime<Utc>,
    pub timeline: &'a [TimelineEntry],
    pub status: Option<Milestone>,
    pub promised_by: Option<DateTime<Utc>>,
    pub ship_to_postal_code: Option<&'a str>,
}

/// One problem that exists now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionCause {
    pub kind: ExceptionKind,
    /// Stable identity of the cause: the same problem always has the same key, a new
    /// occurrence (a new stall after a new scan, another failed attempt) gets a new one.
    pub cause_key: String,
    pub severity: Severity,
    /// When the problem started (for `late`, the promise; for a stall, when it became one).
    pub since: DateTime<Utc>,
    pub detail: String,
}

/// The rules' answer for one shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub causes: Vec<ExceptionCause>,
    /// The earliest time at which, without any new event, a rule could open a new cause.
    pub next_check_at: Option<DateTime<Utc>>,
}

fn authoritative(timeline: &[TimelineEntry]) -> impl DoubleEndedIterator<Item = &TimelineEntry> {
    timeline.iter().filter(|e| !e.advisory && e.event.milestone.is_some())
}

fn mentions_address(entry: &TimelineEntry) -> bool {
    let text =
        format!("{} {}", entry.event.code.as_deref().unwrap_or(""), entry.event.description.as_deref().unwrap_or(""))
            .to_lowercase();
    text.contains("address")
}

/// Evaluates every rule of DESIGN §4 for one shipment at `now`. `rhythm` gives the learned
/// gap after a status on this lane, when the lane has one.
pub fn evaluate_shipment(
    facts: &ShipmentFacts<'_>,
    rhythm: &dyn Fn(Milestone) -> Option<StageRhythm>,
    settings: &RuleSettings,
    now: DateTime<Utc>,
) -> Evaluation {
    let tn = facts.tracking_number;
    let mut causes = Vec::new();
    let mut next_check: Option<DateTime<Utc>> = None;
    let mut due = |at: DateTime<Utc>| {
        if at > now {
            next_check = Some(next_check.map_or(at, |n: DateTime<Utc>| n.min(at)));
        }
    };
    let status = facts.status;
    let terminal = status.is_some_and(Milestone::is_terminal);
    let carrier_events: Vec<&TimelineEntry> = facts
        .timeline
        .iter()
        .filter(|e| matches!(e.event.source, EventSource::Carrier | EventSource::Driver))
        .collect();
    let possession_at = authoritative(facts.timeline)
        .find(|e| e.event.milestone.is_some_and(Milestone::is_carrier_possession))
        .map(|e| e.event.occurred_at_utc());
    let mut add = |kind: ExceptionKind, cause_key: String, since: DateTime<Utc>, detail: String| {
        causes.push(ExceptionCause { kind, cause_key, severity: kind.severity(), since, detail });
    };

    // not_found: the carrier never reported on this number after the grace period.
    if carrier_events.is_empty() && status != Some(Milestone::Cancelled) {
        let at = facts.registered_at + settings.not_found_grace;
        if now >= at {
            add(
                ExceptionKind::NotFound,
                format!("not_found:{tn}"),
                at,
                "the carrier has no record of this tracking number".into(),
            );
        } else {
            due(at);
        }
    }

    // handoff_mismatch: channel or warehouse says shipped, the carrier never took possession.
    if possession_at.is_none() {
        let claim = facts.timeline.iter().find(|e| {
            e.advisory
                && matches!(e.event.source, EventSource::Channel | EventSource::Warehouse)
                && e.event.milestone.is_some_and(Milestone::is_carrier_possession)
        });
        if let Some(claim) = claim {
            let at = claim.event.occurred_at_utc() + settings.handoff_grace;
            if now >= at {
                add(
                    ExceptionKind::HandoffMismatch,
                    format!("handoff_mismatch:{tn}"),
                    at,
                    format!("{} says shipped, but the carrier has not scanned the parcel", claim.event.source),
                );
            } else {
                due(at);
            }
        }
    }

    // missing_scan: the carrier has the parcel but the warehouse never scanned it packed or
    // picked, once the warehouse's late uploads have had their grace period.
    if let Some(possession) = possession_at.filter(|_| facts.direction == Direction::Outbound) {
        let warehouse_scanned = authoritative(facts.timeline)
            .any(|e| matches!(e.event.milestone, Some(Milestone::Packed) | Some(Milestone::Picked)));
        let packed = authoritative(facts.timeline).any(|e| e.event.milestone == Some(Milestone::Packed));
        let at = possession + settings.missing_scan_grace;
        if (!warehouse_scanned || !packed) && now < at {
            due(at);
        } else if !warehouse_scanned || !packed {
            let missing = if warehouse_scanned { "packed" } else { "picked and packed" };
            add(
                ExceptionKind::MissingScan,
                format!("missing_scan:{tn}"),
                at,
                format!("the carrier has the parcel but the warehouse never scanned it {missing}"),
            );
        }
    }

    // delivery_failed: one cause per attempt, until the parcel is delivered.
    if status != Some(Milestone::Delivered) {
        for attempt in authoritative(facts.timeline).filter(|e| e.event.milestone == Some(Milestone::DeliveryAttempted))
        {
            let at = attempt.event.occurred_at_utc();
            add(
                ExceptionKind::DeliveryFailed,
                format!("delivery_failed:{tn}:{}", at.timestamp()),
                at,
                attempt.event.description.clone().unwrap_or_else(|| "the carrier could not deliver".into()),
            );
        }
    }

    // address_issue: the carrier reports an address problem, or delivered somewhere else.
    if status != Some(Milestone::Delivered) {
        if let Some(e) = authoritative(facts.timeline).rev().find(|e| {
            matches!(e.event.milestone, Some(Milestone::Exception) | Some(Milestone::DeliveryAttempted))
                && mentions_address(e)
        }) {
            add(
                ExceptionKind::AddressIssue,
                format!("address_issue:{tn}"),
                e.event.occurred_at_utc(),
                e.event.description.clone().unwrap_or_else(|| "the carrier reports an address problem".into()),
            );
        }
    } else if let (Some(ship_to), Some(delivered)) = (
        facts.ship_to_postal_code,
        authoritative(facts.timeline).rev().find(|e| e.event.milestone == Some(Milestone::Delivered)),
    ) {
        let delivered_postal = delivered.event.location.as_ref().and_then(|l| l.postal_code.as_deref());
        if let Some(postal) = delivered_postal {
            let (a, b) = (normalize_postal_code(postal), normalize_postal_code(ship_to));
            // US ZIP+4 and the like: compare on the shorter of the two.
            let n = a.len().min(b.len());
            if n > 0 && a[..n] != b[..n] {
                add(
                    ExceptionKind::AddressIssue,
                    format!("address_issue:{tn}:delivered_elsewhere"),
                    delivered.event.occurred_at_utc(),
                    format!("delivered in {postal}, but the order ships to {ship_to}"),
                );
            }
        }
    }

    // carrier_exception: the carrier's current word is an exception (damage, held, customs…).
    if status == Some(Milestone::Exception)
        && let Some(e) = authoritative(facts.timeline).rev().find(|e| e.event.milestone == Some(Milestone::Exception))
    {
        let at = e.event.occurred_at_utc();
        add(
            ExceptionKind::CarrierException,
            format!("carrier_exception:{tn}:{}", at.timestamp()),
            at,
            e.event.description.clone().unwrap_or_else(|| "the carrier reported an exception".into()),
        );
    }

    // return_in_motion: a return parcel moves, or an outbound one is on its way back (until it
    // is back: then the decision below takes over).
    let back_since = back_at_sender_since(facts.direction, facts.timeline);
    let returning = facts.direction == Direction::Return && possession_at.is_some() && !terminal;
    if returning || (status == Some(Milestone::ReturningToSender) && back_since.is_none()) {
        add(
            ExceptionKind::ReturnInMotion,
            format!("return_in_motion:{tn}"),
            possession_at.unwrap_or(now),
            if returning {
                "a return parcel is on its way back".into()
            } else {
                "the carrier is returning the parcel to the sender".into()
            },
        );
    }

    // returned_to_sender: an outbound parcel is back with the sender and nobody has decided yet
    // whether to reship, refund or cancel; the recorded decision closes it.
    if let Some(since) = back_since
        && decision_of(facts.timeline).is_none()
    {
        add(
            ExceptionKind::ReturnedToSender,
            format!("returned_to_sender:{tn}"),
            since,
            "the parcel is back with the sender: decide reship, refund or cancel".into(),
        );
    }

    // late: the promise has passed and the parcel is not delivered.
    if let Some(promised) = facts.promised_by
        && facts.direction == Direction::Outbound
        && !terminal
        && back_since.is_none()
    {
        if now >= promised {
            add(ExceptionKind::Late, format!("late:{tn}"), promised, "the promised delivery date has passed".into());
        } else {
            due(promised);
        }
    }

    // stalled: no status-bearing event for longer than the lane's rhythm after this status.
    if let (Some(current), Some(_)) = (status, possession_at)
        && !terminal
        && back_since.is_none()
    {
        let last = authoritative(facts.timeline)
            .filter(|e| e.event.source == EventSource::Carrier || e.event.source == EventSource::Driver)
            .map(|e| e.event.occurred_at_utc())
            .max();
        if let Some(last) = last {
            let threshold = rhythm(current)
                .filter(|r| r.samples >= settings.min_lane_samples)
                .map(|r| r.p90)
                .unwrap_or(settings.stall_fallback);
            let at = last + threshold;
            if now >= at {
                add(
                    ExceptionKind::Stalled,
                    format!("stalled:{tn}:{}", last.timestamp()),
                    at,
                    format!(
                        "no carrier scan since {} ({} expected within {} h)",
                        last.format("%Y-%m-%d %H:%M UTC"),
                        current,
                        threshold.num_hours()
                    ),
                );
            } else {
                due(at);
            }
        }
    }

    Evaluation { causes, next_check_at: next_check }
}

/// Learns a stage's rhythm from observed gaps (seconds): median and p90 by nearest rank.
pub fn learn_rhythm(mut gaps_seconds: Vec<i64>) -> Option<StageRhythm> {
    if gaps_seconds.is_empty() {
        return None;
    }
    gaps_seconds.sort_unstable();
    let rank = |p: f64| {
        let idx = ((p * gaps_seconds.len() as f64).ceil() as usize).clamp(1, gaps_seconds.len()) - 1;
        Duration::seconds(gaps_seconds[idx])
    };
    Some(StageRhythm { median: rank(0.5), p90: rank(0.9), samples: gaps_seconds.len() as u32 })
}

/// The gaps between consecutive status-bearing carrier events of one delivered shipment, each
/// attributed to the status it followed: the raw material of `learn_rhythm`.
pub fn stage_gaps(timeline: &[TimelineEntry]) -> Vec<(Milestone, i64)> {
    let events: Vec<&TimelineEntry> = authoritative(timeline)
        .filter(|e| matches!(e.event.source, EventSource::Carrier | EventSource::Driver))
        .filter(|e| e.event.milestone.is_some_and(Milestone::is_carrier_possession))
        .collect();
    events
        .windows(2)
        .filter_map(|w| {
            let stage = w[0].event.milestone?;
            let gap = (w[1].event.occurred_at_utc() - w[0].event.occurred_at_utc()).num_seconds();
            (gap >= 0).then_some((stage, gap))
        })
        .collect()
}

/// A lane: carrier, service level, origin region and destination region. Parcels on one lane
/// share a rhythm; the key is a plain string so it can be stored and shown.
pub fn lane_key(
    carrier: Option<&str>,
    service: Option<&str>,
    origin: (Option<&str>, Option<&str>),
    destination: (Option<&str>, Option<&str>),
) -> String {
    // A region is the country plus the first three characters of the postal code (a US
    // sectional center, a UK postcode area, …), or the named region when there is no code.
    let region = |(country, area): (Option<&str>, Option<&str>)| {
        let area: String = area
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(3)
            .collect::<String>()
            .to_ascii_uppercase();
        format!("{}-{}", country.unwrap_or("??").to_ascii_uppercase(), if area.is_empty() { "?" } else { &area })
    };
    format!(
        "{}|{}|{}|{}",
        carrier.unwrap_or("unknown").to_ascii_lowercase(),
        service.unwrap_or("any").to_ascii_lowercase(),
        region(origin),
        region(destination)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_actions_follow_the_exception_lifecycle() {
        use ExceptionState::*;
        assert_eq!(Open.after(StaffAction::Acknowledge), Some(Acknowledged));
        assert_eq!(Acknowledged.after(StaffAction::Acknowledge), None);
        assert_eq!(Acknowledged.after(StaffAction::Assign), Some(Acknowledged));
        assert_eq!(Open.after(StaffAction::Resolve), Some(Resolved));
        assert_eq!(Resolved.after(StaffAction::Assign), None);
        assert_eq!(Resolved.after(StaffAction::Resolve), None);
    }

    #[test]
    fn lanes_group_by_carrier_service_and_regions() {
        let a = lane_key(Some("UPS"), Some("Ground"), (Some("US"), Some("89502")), (Some("US"), Some("78701-1234")));
        assert_eq!(a, "ups|ground|US-895|US-787");
        let b = lane_key(Some("ups"), Some("ground"), (Some("us"), Some("895 11")), (Some("US"), Some("78799")));
        assert_eq!(a, b);
        assert_eq!(lane_key(None, None, (None, None), (None, None)), "unknown|any|??-?|??-?");
    }

    #[test]
    fn kinds_round_trip_and_carry_a_severity() {
        for kind in ExceptionKind::ALL {
            assert_eq!(ExceptionKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ExceptionKind::DeliveryFailed.severity(), Severity::High);
        assert_eq!(ExceptionKind::parse("teleported"), None);
    }
}

//! Failed delivery and return to sender (issue 7, part 5): when the carrier brings an outbound
//! parcel back, staff decide what happens to the order: send the items again (`reship`), give the
//! customer their money back (`refund`) or cancel what was not delivered (`cancel`). The decision
//! is asked for once the parcel is back with the sender: the carrier says `returned_to_sender`, or
//! the warehouse scans the parcel in (`receive` or `return_receive`) after the carrier started
//! returning it. A decision is recorded as a staff event on the parcel's own timeline (code
//! `rts_decision_<decision>`), so the timeline shows it in its place and the exception rules can
//! see, from the events alone, that the question was answered.

use crate::event::EventSource;
use crate::milestone::Milestone;
use crate::shipment::Direction;
use crate::timeline::TimelineEntry;
use chrono::{DateTime, Utc};
use std::fmt;

/// What staff decide for a parcel that came back to the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenderDecision {
    /// Send the same items again in a new outbound parcel of the same order.
    Reship,
    /// Release a refund to the customer (merchant webhook and customer message).
    Refund,
    /// Cancel the order's lines that were not delivered.
    Cancel,
}

/// The prefix of the event code a decision is recorded under.
const DECISION_CODE_PREFIX: &str = "rts_decision_";

impl SenderDecision {
    pub const ALL: [SenderDecision; 3] = [SenderDecision::Reship, SenderDecision::Refund, SenderDecision::Cancel];

    pub fn as_str(self) -> &'static str {
        match self {
            SenderDecision::Reship => "reship",
            SenderDecision::Refund => "refund",
            SenderDecision::Cancel => "cancel",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        SenderDecision::ALL.into_iter().find(|d| d.as_str() == raw)
    }

    /// The code of the staff event that records this decision on the parcel's timeline.
    pub fn event_code(self) -> String {
        format!("{DECISION_CODE_PREFIX}{}", self.as_str())
    }

    /// The decision a timeline entry records, if it is a staff decision event.
    pub fn recorded_by(entry: &TimelineEntry) -> Option<SenderDecision> {
        if entry.event.source != EventSource::Staff {
            return None;
        }
        entry.event.code.as_deref()?.strip_prefix(DECISION_CODE_PREFIX).and_then(SenderDecision::parse)
    }
}

impl fmt::Display for SenderDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a warehouse event is the parcel being scanned in at the warehouse.
fn is_warehouse_receipt(entry: &TimelineEntry) -> bool {
    entry.event.source == EventSource::Warehouse
        && matches!(entry.event.code.as_deref(), Some("receive") | Some("return_receive"))
}

/// When the carrier first said it is taking the parcel back (authoritative events only).
pub fn returning_since(timeline: &[TimelineEntry]) -> Option<DateTime<Utc>> {
    timeline
        .iter()
        .filter(|e| !e.advisory)
        .find(|e| matches!(e.event.milestone, Some(Milestone::ReturningToSender) | Some(Milestone::ReturnedToSender)))
        .map(|e| e.event.occurred_at_utc())
}

/// When an outbound parcel was back with the sender: the carrier's `returned_to_sender`, or a
/// warehouse receipt scan after the carrier started returning it (whichever came first).
/// `None` for return parcels and for parcels that are not back.
pub fn back_at_sender_since(direction: Direction, timeline: &[TimelineEntry]) -> Option<DateTime<Utc>> {
    if direction != Direction::Outbound {
        return None;
    }
    let returning = returning_since(timeline)?;
    timeline
        .iter()
        .filter(|e| {
            (!e.advisory && e.event.milestone == Some(Milestone::ReturnedToSender))
                || (is_warehouse_receipt(e) && e.event.occurred_at_utc() >= returning)
        })
        .map(|e| e.event.occurred_at_utc())
        .min()
}

/// The decision already recorded on a parcel's timeline, with its time.
pub fn decision_of(timeline: &[TimelineEntry]) -> Option<(SenderDecision, DateTime<Utc>)> {
    timeline.iter().find_map(|e| SenderDecision::recorded_by(e).map(|d| (d, e.event.occurred_at_utc())))
}

/// Why a decision cannot be taken now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionRefused {
    /// Return parcels travel with their return (RMA), not with this decision.
    NotOutbound,
    /// The parcel is not back with the sender (yet).
    NotBack { status: Option<Milestone> },
    /// Someone decided already; a parcel gets one decision.
    AlreadyDecided { decision: SenderDecision, at: DateTime<Utc> },
}

impl fmt::Display for DecisionRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecisionRefused::NotOutbound => {
                f.write_str("a return parcel is not decided here: move its return through its transitions")
            }
            DecisionRefused::NotBack { status } => write!(
                f,
                "the parcel is not back with the sender (status `{}`): decide once the carrier reports \
                 `returned_to_sender` or the warehouse scans it in",
                status.map_or("pending", Milestone::as_str)
            ),
            DecisionRefused::AlreadyDecided { decision, at } => {
                write!(f, "the parcel was already decided: `{decision}` at {}", at.format("%Y-%m-%dT%H:%M:%SZ"))
            }
        }
    }
}

impl std::error::Error for DecisionRefused {}

/// Checks that a parcel waits for a decision: outbound, back with the sender, not decided yet.
pub fn check_decision(
    direction: Direction,
    status: Option<Milestone>,
    timeline: &[TimelineEntry],
) -> Result<(), DecisionRefused> {
    if direction != Direction::Outbound {
        return Err(DecisionRefused::NotOutbound);
    }
    if let Some((decision, at)) = decision_of(timeline) {
        return Err(DecisionRefused::AlreadyDecided { decision, at });
    }
    if back_at_sender_since(direction, timeline).is_none() {
        return Err(DecisionRefused::NotBack { status });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::TrackingEvent;

    fn entry(source: EventSource, milestone: Option<Milestone>, code: &str, at: &str) -> TimelineEntry {
        TimelineEntry {
            event: TrackingEvent {
                source,
                source_event_id: Some(format!("{code}{at}")),
                milestone,
                code: Some(code.into()),
                description: None,
                occurred_at: DateTime::parse_from_rfc3339(at).unwrap(),
                received_at: DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&Utc),
                location: None,
            },
            advisory: false,
        }
    }

    fn carrier(milestone: Milestone, at: &str) -> TimelineEntry {
        entry(EventSource::Carrier, Some(milestone), milestone.as_str(), at)
    }

    #[test]
    fn decisions_round_trip_through_their_names_and_event_codes() {
        for d in SenderDecision::ALL {
            assert_eq!(SenderDecision::parse(d.as_str()), Some(d));
            let recorded = entry(EventSource::Staff, None, &d.event_code(), "2026-11-05T10:00:00Z");
            assert_eq!(SenderDecision::recorded_by(&recorded), Some(d));
        }
        assert_eq!(SenderDecision::parse("burn"), None);
        let forged = entry(EventSource::Carrier, None, "rts_decision_refund", "2026-11-05T10:00:00Z");
        assert_eq!(SenderDecision::recorded_by(&forged), None);
    }

    #[test]
    fn a_parcel_is_back_when_the_carrier_says_returned_or_the_warehouse_scans_it_in_after_it_turned_back() {
        let out = carrier(Milestone::InTransit, "2026-11-01T10:00:00Z");
        let returning = carrier(Milestone::ReturningToSender, "2026-11-03T10:00:00Z");
        let early_receive = entry(EventSource::Warehouse, None, "receive", "2026-11-01T09:00:00Z");
        let receive = entry(EventSource::Warehouse, None, "receive", "2026-11-05T10:00:00Z");
        let returned = carrier(Milestone::ReturnedToSender, "2026-11-06T10:00:00Z");

        assert_eq!(back_at_sender_since(Direction::Outbound, &[early_receive.clone(), out.clone()]), None);
        assert_eq!(back_at_sender_since(Direction::Outbound, &[out.clone(), returning.clone()]), None);
        let scanned = [early_receive, out.clone(), returning.clone(), receive.clone()];
        assert_eq!(back_at_sender_since(Direction::Outbound, &scanned), Some(receive.event.occurred_at_utc()));
        let both = [out.clone(), returning.clone(), receive.clone(), returned.clone()];
        assert_eq!(back_at_sender_since(Direction::Outbound, &both), Some(receive.event.occurred_at_utc()));
        assert_eq!(
            back_at_sender_since(Direction::Outbound, &[out.clone(), returned.clone()]),
            Some(returned.event.occurred_at_utc())
        );
        assert_eq!(back_at_sender_since(Direction::Return, &[out, returned]), None);
    }

    #[test]
    fn a_decision_is_refused_before_the_parcel_is_back_and_after_one_was_taken() {
        let out = carrier(Milestone::InTransit, "2026-11-01T10:00:00Z");
        let returned = carrier(Milestone::ReturnedToSender, "2026-11-06T10:00:00Z");
        let in_transit = [out.clone()];
        let refused = check_decision(Direction::Outbound, Some(Milestone::InTransit), &in_transit).unwrap_err();
        assert_eq!(refused, DecisionRefused::NotBack { status: Some(Milestone::InTransit) });
        assert!(refused.to_string().contains("status `in_transit`"));

        let back = [out.clone(), returned.clone()];
        assert!(check_decision(Direction::Outbound, Some(Milestone::ReturnedToSender), &back).is_ok());
        assert_eq!(
            check_decision(Direction::Return, Some(Milestone::ReturnedToSender), &back),
            Err(DecisionRefused::NotOutbound)
        );

        let decided = entry(EventSource::Staff, None, "rts_decision_reship", "2026-11-06T12:00:00Z");
        let done = [out, returned, decided];
        let again = check_decision(Direction::Outbound, Some(Milestone::ReturnedToSender), &done).unwrap_err();
        assert!(matches!(again, DecisionRefused::AlreadyDecided { decision: SenderDecision::Reship, .. }));
        assert!(again.to_string().contains("already decided: `reship` at 2026-11-06T12:00:00Z"), "{again}");
    }
}

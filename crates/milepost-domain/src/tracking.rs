//! What a customer may see of an order, as pure functions: which timeline entries reach the
//! tracking page (status-bearing, authoritative, not internal), how each reads (translation ids,
//! so the web crate can put them in any language), and the one notice that explains a delay or
//! problem with what happens next. Nothing here knows HTML or a language; rule 1 holds here too:
//! a created label reads "preparing shipment", never "shipped".

use crate::event::{EventSource, TrackingEvent};
use crate::milestone::Milestone;
use crate::rollup::OrderStatus;
use chrono::{DateTime, FixedOffset, Utc};

impl Milestone {
    /// The translation id of the customer wording (see `customer_wording` for the English).
    pub fn customer_wording_id(self) -> &'static str {
        match self {
            Milestone::Placed => "milestone.placed",
            Milestone::Confirmed => "milestone.confirmed",
            Milestone::Picked | Milestone::Packed | Milestone::LabelCreated => "milestone.preparing_shipment",
            Milestone::HandedToCarrier => "milestone.shipped",
            Milestone::InTransit => "milestone.in_transit",
            Milestone::OutForDelivery => "milestone.out_for_delivery",
            Milestone::DeliveryAttempted => "milestone.delivery_attempted",
            Milestone::AvailableForPickup => "milestone.available_for_pickup",
            Milestone::Delivered => "milestone.delivered",
            Milestone::Exception => "milestone.exception",
            Milestone::ReturningToSender => "milestone.returning_to_sender",
            Milestone::ReturnedToSender => "milestone.returned_to_sender",
            Milestone::Cancelled => "milestone.cancelled",
        }
    }
}

/// The translation id of an order status in plain words.
pub fn order_status_id(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Placed => "status.placed",
        OrderStatus::Confirmed => "status.confirmed",
        OrderStatus::InFulfillment => "status.in_fulfillment",
        OrderStatus::PartiallyShipped => "status.partially_shipped",
        OrderStatus::Shipped => "status.shipped",
        OrderStatus::PartiallyDelivered => "status.partially_delivered",
        OrderStatus::Delivered => "status.delivered",
        OrderStatus::Cancelled => "status.cancelled",
        OrderStatus::ReturningToSender => "status.returning_to_sender",
        OrderStatus::ReturnedToSender => "status.returned_to_sender",
    }
}

/// One step of the customer's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerStep {
    pub wording_id: &'static str,
    pub milestone: Milestone,
    pub at: DateTime<FixedOffset>,
    /// The city of the scan, when the carrier gave one.
    pub city: Option<String>,
}

/// Sources whose events are internal bookkeeping, never shown to customers.
fn is_internal(source: EventSource) -> bool {
    matches!(source, EventSource::Staff | EventSource::System)
}

/// The customer's timeline from projected entries `(event, advisory)` in `occurred_at` order:
/// advisory claims, internal events and entries without a milestone (unmapped or informational
/// codes) are left out, and consecutive steps that read the same (picked, packed, label) are
/// shown once, at the first.
pub fn customer_steps<'a>(entries: impl IntoIterator<Item = (&'a TrackingEvent, bool)>) -> Vec<CustomerStep> {
    let mut steps: Vec<CustomerStep> = Vec::new();
    for (event, advisory) in entries {
        let Some(milestone) = event.milestone else { continue };
        if advisory || is_internal(event.source) {
            continue;
        }
        let wording_id = milestone.customer_wording_id();
        if steps.last().is_some_and(|s| s.wording_id == wording_id) {
            continue;
        }
        steps.push(CustomerStep {
            wording_id,
            milestone,
            at: event.occurred_at,
            city: event.location.as_ref().and_then(|l| l.city.clone()),
        });
    }
    steps
}

/// A message that explains a problem and what happens next; its text has the translation ids
/// `<id>.title`, `<id>.next` and `<id>.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerNotice {
    /// The carrier reported a problem (damage, weather, held, address).
    CarrierProblem,
    /// A delivery was attempted and failed.
    DeliveryAttempted,
    /// The parcel waits at a pickup point.
    ReadyForPickup,
    /// The parcel is going back to the sender.
    ReturningToSender,
    /// The order is past its promised date and not delivered: it has not arrived by then.
    Late,
    /// The promised date has not passed, but the parcel is now expected after it (its ETA
    /// ends past the promise, or the ETA model flagged it delayed).
    ExpectedLate,
    Cancelled,
}

impl CustomerNotice {
    pub fn id(self) -> &'static str {
        match self {
            CustomerNotice::CarrierProblem => "notice.carrier_problem",
            CustomerNotice::DeliveryAttempted => "notice.delivery_attempted",
            CustomerNotice::ReadyForPickup => "notice.ready_for_pickup",
            CustomerNotice::ReturningToSender => "notice.returning_to_sender",
            CustomerNotice::Late => "notice.late",
            CustomerNotice::ExpectedLate => "notice.expected_late",
            CustomerNotice::Cancelled => "notice.cancelled",
        }
    }
}

/// What the notice logic needs of one outbound shipment.
#[derive(Debug, Clone, Copy)]
pub struct ShipmentView {
    pub status: Option<Milestone>,
    pub delayed: bool,
    /// The latest end of the ETA window, if any.
    pub eta_latest: Option<DateTime<FixedOffset>>,
}

/// The most pressing notice for the order, if any: a problem a customer can act on first, then
/// lateness against the promise: the promise passed without delivery (`Late`, "it has not
/// arrived by the date we promised"), else an ETA past the promise or a shipment flagged delayed
/// (`ExpectedLate`, "we expect it to arrive after the date we promised").
pub fn customer_notice(
    status: OrderStatus,
    promised_by: Option<DateTime<FixedOffset>>,
    shipments: &[ShipmentView],
    now: DateTime<Utc>,
) -> Option<CustomerNotice> {
    if status == OrderStatus::Cancelled {
        return Some(CustomerNotice::Cancelled);
    }
    let has = |m: Milestone| shipments.iter().any(|s| s.status == Some(m));
    if has(Milestone::DeliveryAttempted) {
        return Some(CustomerNotice::DeliveryAttempted);
    }
    if has(Milestone::Exception) {
        return Some(CustomerNotice::CarrierProblem);
    }
    if has(Milestone::ReturningToSender) || has(Milestone::ReturnedToSender) {
        return Some(CustomerNotice::ReturningToSender);
    }
    if has(Milestone::AvailableForPickup) {
        return Some(CustomerNotice::ReadyForPickup);
    }
    if status == OrderStatus::Delivered {
        return None;
    }
    let unfinished = |s: &&ShipmentView| s.status != Some(Milestone::Delivered);
    let flagged = shipments.iter().filter(unfinished).any(|s| s.delayed);
    let (past_promise, eta_past_promise) = match promised_by {
        Some(p) => (now > p, shipments.iter().filter(unfinished).any(|s| s.eta_latest.is_some_and(|e| e > p))),
        None => (false, false),
    };
    if past_promise {
        Some(CustomerNotice::Late)
    } else {
        (flagged || eta_past_promise).then_some(CustomerNotice::ExpectedLate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Location;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn event(source: EventSource, milestone: Option<Milestone>, time: &str) -> TrackingEvent {
        TrackingEvent {
            source,
            source_event_id: None,
            milestone,
            code: Some("XX".into()),
            description: Some("raw".into()),
            occurred_at: at(time),
            received_at: at(time).with_timezone(&Utc),
            location: Some(Location { city: Some("Reno".into()), ..Default::default() }),
        }
    }

    #[test]
    fn rule_1_a_label_reads_preparing_shipment_on_the_customer_timeline() {
        let events = [
            event(EventSource::Warehouse, Some(Milestone::Packed), "2026-11-01T10:00:00Z"),
            event(EventSource::Carrier, Some(Milestone::LabelCreated), "2026-11-01T11:00:00Z"),
        ];
        let steps = customer_steps(events.iter().map(|e| (e, false)));
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].wording_id, "milestone.preparing_shipment");
        for m in Milestone::ALL {
            if m.customer_wording_id() == "milestone.shipped" {
                assert!(m.is_carrier_possession());
            }
        }
    }

    #[test]
    fn advisory_internal_and_unmapped_entries_never_reach_the_customer() {
        let events = [
            event(EventSource::Channel, Some(Milestone::HandedToCarrier), "2026-11-01T10:00:00Z"),
            event(EventSource::Staff, Some(Milestone::Exception), "2026-11-01T11:00:00Z"),
            event(EventSource::Carrier, None, "2026-11-01T12:00:00Z"),
            event(EventSource::Carrier, Some(Milestone::InTransit), "2026-11-01T13:00:00Z"),
        ];
        let flags = [true, false, false, false];
        let steps = customer_steps(events.iter().zip(flags));
        assert_eq!(steps.iter().map(|s| s.wording_id).collect::<Vec<_>>(), ["milestone.in_transit"]);
        assert_eq!(steps[0].city.as_deref(), Some("Reno"));
    }

    #[test]
    fn notices_put_what_a_customer_can_act_on_before_lateness() {
        let now = "2026-11-10T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let promise = Some(at("2026-11-06T00:00:00Z"));
        let view = |status, delayed| ShipmentView { status: Some(status), delayed, eta_latest: None };
        let shipped = OrderStatus::Shipped;
        assert_eq!(
            customer_notice(shipped, promise, &[view(Milestone::DeliveryAttempted, false)], now),
            Some(CustomerNotice::DeliveryAttempted)
        );
        assert_eq!(
            customer_notice(shipped, promise, &[view(Milestone::InTransit, false)], now),
            Some(CustomerNotice::Late)
        );
        assert_eq!(customer_notice(shipped, None, &[view(Milestone::InTransit, false)], now), None);
        assert_eq!(
            customer_notice(shipped, None, &[view(Milestone::InTransit, true)], now),
            Some(CustomerNotice::ExpectedLate)
        );
        assert_eq!(customer_notice(OrderStatus::Delivered, promise, &[view(Milestone::Delivered, false)], now), None);
        assert_eq!(customer_notice(OrderStatus::Cancelled, promise, &[], now), Some(CustomerNotice::Cancelled));
    }

    #[test]
    fn a_promise_that_passed_is_late_and_an_eta_past_a_promise_still_ahead_is_expected_late() {
        let now = "2026-11-04T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let promise = Some(at("2026-11-06T00:00:00Z"));
        let moving = |eta: Option<&str>, delayed| ShipmentView {
            status: Some(Milestone::InTransit),
            delayed,
            eta_latest: eta.map(at),
        };
        let shipped = OrderStatus::Shipped;
        // Two days before the promise, the ETA ends after it: expected late, not late.
        let after = [moving(Some("2026-11-08T00:00:00Z"), true)];
        assert_eq!(customer_notice(shipped, promise, &after, now), Some(CustomerNotice::ExpectedLate));
        assert_eq!(
            customer_notice(shipped, promise, &[moving(Some("2026-11-08T00:00:00Z"), false)], now),
            Some(CustomerNotice::ExpectedLate)
        );
        // An ETA within the promise says nothing.
        assert_eq!(customer_notice(shipped, promise, &[moving(Some("2026-11-05T00:00:00Z"), false)], now), None);
        // Once the promise has passed it is late, whatever the ETA says.
        let later = "2026-11-07T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(customer_notice(shipped, promise, &after, later), Some(CustomerNotice::Late));
        assert_eq!(customer_notice(shipped, promise, &[moving(None, false)], later), Some(CustomerNotice::Late));
        assert_ne!(CustomerNotice::Late.id(), CustomerNotice::ExpectedLate.id());
    }
}

//! The normalized milestone vocabulary of DESIGN §3 and the facts each milestone carries for the
//! status rules: where it sits on the forward path, whether it is terminal, whether it means the
//! carrier holds the parcel, and how a customer should read it. Raw carrier codes are mapped onto
//! these in the ingest crate; everything after ingest speaks only milestones.

use std::fmt;
use std::str::FromStr;

/// One normalized step in an order's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Milestone {
    Placed,
    Confirmed,
    Picked,
    Packed,
    LabelCreated,
    HandedToCarrier,
    InTransit,
    OutForDelivery,
    DeliveryAttempted,
    AvailableForPickup,
    Delivered,
    Exception,
    ReturningToSender,
    ReturnedToSender,
    Cancelled,
}

/// Which part of the record a milestone is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneScope {
    /// About the order as a whole (`placed`, `confirmed`); not a shipment status.
    Order,
    /// About a parcel (warehouse and carrier steps).
    Shipment,
    /// Either: `cancelled` can cancel an order or void a shipment.
    Both,
}

impl Milestone {
    pub const ALL: [Milestone; 15] = [
        Milestone::Placed,
        Milestone::Confirmed,
        Milestone::Picked,
        Milestone::Packed,
        Milestone::LabelCreated,
        Milestone::HandedToCarrier,
        Milestone::InTransit,
        Milestone::OutForDelivery,
        Milestone::DeliveryAttempted,
        Milestone::AvailableForPickup,
        Milestone::Delivered,
        Milestone::Exception,
        Milestone::ReturningToSender,
        Milestone::ReturnedToSender,
        Milestone::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::Placed => "placed",
            Milestone::Confirmed => "confirmed",
            Milestone::Picked => "picked",
            Milestone::Packed => "packed",
            Milestone::LabelCreated => "label_created",
            Milestone::HandedToCarrier => "handed_to_carrier",
            Milestone::InTransit => "in_transit",
            Milestone::OutForDelivery => "out_for_delivery",
            Milestone::DeliveryAttempted => "delivery_attempted",
            Milestone::AvailableForPickup => "available_for_pickup",
            Milestone::Delivered => "delivered",
            Milestone::Exception => "exception",
            Milestone::ReturningToSender => "returning_to_sender",
            Milestone::ReturnedToSender => "returned_to_sender",
            Milestone::Cancelled => "cancelled",
        }
    }

    /// Position used to break ties between events that happened at the same instant: the later
    /// stage wins, so a carrier batch stamped with one time still ends on its furthest step.
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn scope(self) -> MilestoneScope {
        match self {
            Milestone::Placed | Milestone::Confirmed => MilestoneScope::Order,
            Milestone::Cancelled => MilestoneScope::Both,
            _ => MilestoneScope::Shipment,
        }
    }

    /// Rule 3: terminal milestones hold unless a newer event starts a return flow.
    pub fn is_terminal(self) -> bool {
        matches!(self, Milestone::Delivered | Milestone::ReturnedToSender | Milestone::Cancelled)
    }

    /// Whether this event can move a shipment out of a terminal state (rule 3).
    pub fn starts_return_flow(self) -> bool {
        matches!(self, Milestone::ReturningToSender)
    }

    /// Rule 1: only these mean the carrier physically has the parcel. `label_created` does not.
    pub fn is_carrier_possession(self) -> bool {
        matches!(
            self,
            Milestone::HandedToCarrier
                | Milestone::InTransit
                | Milestone::OutForDelivery
                | Milestone::DeliveryAttempted
                | Milestone::AvailableForPickup
                | Milestone::Delivered
                | Milestone::ReturningToSender
                | Milestone::ReturnedToSender
        )
    }

    /// Steps that happen before the carrier has the parcel (warehouse work and the label).
    /// Once a shipment has been in carrier possession these no longer move its status.
    pub fn is_pre_carrier(self) -> bool {
        matches!(self, Milestone::Picked | Milestone::Packed | Milestone::LabelCreated)
    }

    /// Plain customer wording. Rule 1: a created label reads "Preparing shipment", never
    /// "Shipped"; "Shipped" starts with the first carrier possession.
    pub fn customer_wording(self) -> &'static str {
        match self {
            Milestone::Placed => "Order placed",
            Milestone::Confirmed => "Order confirmed",
            Milestone::Picked | Milestone::Packed | Milestone::LabelCreated => "Preparing shipment",
            Milestone::HandedToCarrier => "Shipped",
            Milestone::InTransit => "On its way",
            Milestone::OutForDelivery => "Out for delivery",
            Milestone::DeliveryAttempted => "Delivery attempted",
            Milestone::AvailableForPickup => "Ready for pickup",
            Milestone::Delivered => "Delivered",
            Milestone::Exception => "Delayed: the carrier reported a problem",
            Milestone::ReturningToSender => "Returning to sender",
            Milestone::ReturnedToSender => "Returned to sender",
            Milestone::Cancelled => "Cancelled",
        }
    }
}

impl fmt::Display for Milestone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Refusal to parse a milestone name; lists what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown milestone `{0}`")]
pub struct UnknownMilestone(pub String);

impl FromStr for Milestone {
    type Err = UnknownMilestone;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Milestone::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| UnknownMilestone(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_milestone_round_trips_through_its_name() {
        for m in Milestone::ALL {
            assert_eq!(m.as_str().parse::<Milestone>().unwrap(), m);
        }
        assert!("shipped".parse::<Milestone>().is_err());
    }

    #[test]
    fn rule_1_a_created_label_is_not_carrier_possession_and_never_reads_shipped() {
        assert!(!Milestone::LabelCreated.is_carrier_possession());
        assert_eq!(Milestone::LabelCreated.customer_wording(), "Preparing shipment");
        assert_eq!(Milestone::HandedToCarrier.customer_wording(), "Shipped");
        for m in Milestone::ALL {
            if m.customer_wording() == "Shipped" {
                assert!(m.is_carrier_possession(), "{m} reads shipped without possession");
            }
        }
    }

    #[test]
    fn ranks_follow_the_forward_path() {
        assert!(Milestone::LabelCreated.rank() < Milestone::HandedToCarrier.rank());
        assert!(Milestone::OutForDelivery.rank() < Milestone::Delivered.rank());
    }
}

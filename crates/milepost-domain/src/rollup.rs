//! Rule 7: an order's status rolls up from its outbound shipments and the items not yet in any
//! shipment, per order and per line item (by SKU). A split order with one parcel delivered and
//! one on its way is `partially_delivered`; an order whose only parcel has a label but no carrier
//! scan is still `in_fulfillment`, never `shipped` (rule 1).

use crate::milestone::Milestone;
use crate::order::LineItem;
use crate::shipment::{Direction, ShipmentItem, ShipmentStatus};
use std::collections::BTreeMap;
use std::fmt;

/// The rolled-up status of an order or of one of its SKUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Placed,
    Confirmed,
    InFulfillment,
    PartiallyShipped,
    Shipped,
    PartiallyDelivered,
    Delivered,
    Cancelled,
    /// Nothing delivered or on its way: a parcel is on its way back to the sender.
    ReturningToSender,
    /// Nothing delivered or on its way: a parcel came back to the sender (staff decide next).
    ReturnedToSender,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 10] = [
        OrderStatus::Placed,
        OrderStatus::Confirmed,
        OrderStatus::InFulfillment,
        OrderStatus::PartiallyShipped,
        OrderStatus::Shipped,
        OrderStatus::PartiallyDelivered,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::ReturningToSender,
        OrderStatus::ReturnedToSender,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::InFulfillment => "in_fulfillment",
            OrderStatus::PartiallyShipped => "partially_shipped",
            OrderStatus::Shipped => "shipped",
            OrderStatus::PartiallyDelivered => "partially_delivered",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::ReturningToSender => "returning_to_sender",
            OrderStatus::ReturnedToSender => "returned_to_sender",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the roll-up needs to know of one shipment.
#[derive(Debug, Clone)]
pub struct RolledShipment<'a> {
    pub direction: Direction,
    pub items: &'a [ShipmentItem],
    pub status: ShipmentStatus,
    pub had_carrier_possession: bool,
}

impl RolledShipment<'_> {
    /// On its way back to the sender, or back: its items no longer travel to the customer.
    fn is_back_to_sender(&self) -> bool {
        matches!(self.status, Some(Milestone::ReturningToSender) | Some(Milestone::ReturnedToSender))
    }
    fn counts_as_shipped(&self) -> bool {
        self.had_carrier_possession && self.status != Some(Milestone::Cancelled) && !self.is_back_to_sender()
    }
    fn counts_as_delivered(&self) -> bool {
        self.status == Some(Milestone::Delivered)
    }
    fn is_in_fulfillment(&self) -> bool {
        self.status != Some(Milestone::Cancelled) && !self.is_back_to_sender()
    }
}

/// Progress of one SKU of the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemProgress {
    pub sku: String,
    pub ordered: u32,
    pub shipped: u32,
    pub delivered: u32,
    pub status: OrderStatus,
}

/// The order's rolled-up status and per-SKU progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRollUp {
    pub status: OrderStatus,
    pub items: Vec<ItemProgress>,
}

fn status_from_counts(ordered: u32, shipped: u32, delivered: u32, fallback: OrderStatus) -> OrderStatus {
    if ordered > 0 && delivered >= ordered {
        OrderStatus::Delivered
    } else if delivered > 0 {
        OrderStatus::PartiallyDelivered
    } else if ordered > 0 && shipped >= ordered {
        OrderStatus::Shipped
    } else if shipped > 0 {
        OrderStatus::PartiallyShipped
    } else {
        fallback
    }
}

/// Rolls an order up from its line items, its shipments and its own order-level status
/// (`placed`, `confirmed` or `cancelled`, projected from channel events).
pub fn roll_up_order(
    items: &[LineItem],
    shipments: &[RolledShipment<'_>],
    order_milestone: Option<Milestone>,
) -> OrderRollUp {
    let mut ordered: BTreeMap<&str, u32> = BTreeMap::new();
    for item in items {
        *ordered.entry(item.sku.as_str()).or_default() += item.quantity;
    }
    let outbound: Vec<&RolledShipment<'_>> = shipments.iter().filter(|s| s.direction == Direction::Outbound).collect();

    // What an order (or SKU) reads before anything of it has shipped (or after what shipped
    // came back to the sender: `back` is the furthest return-to-sender status of its parcels).
    let before_shipping = |in_a_parcel: bool, back: Option<Milestone>| match order_milestone {
        Some(Milestone::Cancelled) => OrderStatus::Cancelled,
        _ if in_a_parcel => OrderStatus::InFulfillment,
        _ if back == Some(Milestone::ReturnedToSender) => OrderStatus::ReturnedToSender,
        _ if back == Some(Milestone::ReturningToSender) => OrderStatus::ReturningToSender,
        Some(Milestone::Confirmed) => OrderStatus::Confirmed,
        _ => OrderStatus::Placed,
    };
    let carries = |s: &RolledShipment<'_>, sku: Option<&str>| {
        s.items.iter().any(|i| i.quantity > 0 && sku.is_none_or(|sku| i.sku == sku))
    };
    let sku_in_a_parcel = |sku: Option<&str>| outbound.iter().any(|s| s.is_in_fulfillment() && carries(s, sku));
    let sku_back = |sku: Option<&str>| {
        outbound.iter().filter(|s| s.is_back_to_sender() && carries(s, sku)).filter_map(|s| s.status).max()
    };

    let mut progress = Vec::with_capacity(ordered.len());
    let (mut total_ordered, mut total_shipped, mut total_delivered) = (0u32, 0u32, 0u32);
    for (sku, quantity) in &ordered {
        let carried = |keep: &dyn Fn(&RolledShipment<'_>) -> bool| -> u32 {
            let sum: u32 = outbound
                .iter()
                .filter(|s| keep(s))
                .flat_map(|s| s.items.iter())
                .filter(|i| i.sku == *sku)
                .map(|i| i.quantity)
                .sum();
            sum.min(*quantity)
        };
        let shipped = carried(&|s| s.counts_as_shipped());
        let delivered = carried(&|s| s.counts_as_delivered());
        total_ordered += quantity;
        total_shipped += shipped;
        total_delivered += delivered;
        progress.push(ItemProgress {
            sku: sku.to_string(),
            ordered: *quantity,
            shipped,
            delivered,
            status: status_from_counts(
                *quantity,
                shipped,
                delivered,
                before_shipping(sku_in_a_parcel(Some(sku)), sku_back(Some(sku))),
            ),
        });
    }

    OrderRollUp {
        status: status_from_counts(
            total_ordered,
            total_shipped,
            total_delivered,
            before_shipping(sku_in_a_parcel(None), sku_back(None)),
        ),
        items: progress,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Money;

    fn line(sku: &str, quantity: u32) -> LineItem {
        LineItem { sku: sku.into(), description: None, quantity, unit_price: Money::ZERO }
    }
    fn item(sku: &str, quantity: u32) -> ShipmentItem {
        ShipmentItem { sku: sku.into(), quantity }
    }
    fn parcel(items: &[ShipmentItem], status: Milestone) -> RolledShipment<'_> {
        RolledShipment {
            direction: Direction::Outbound,
            items,
            status: Some(status),
            had_carrier_possession: status.is_carrier_possession(),
        }
    }

    #[test]
    fn rule_7_an_order_without_shipments_follows_its_channel_status() {
        let items = [line("A", 1)];
        assert_eq!(roll_up_order(&items, &[], None).status, OrderStatus::Placed);
        assert_eq!(roll_up_order(&items, &[], Some(Milestone::Confirmed)).status, OrderStatus::Confirmed);
        assert_eq!(roll_up_order(&items, &[], Some(Milestone::Cancelled)).status, OrderStatus::Cancelled);
    }

    #[test]
    fn rule_7_a_label_only_parcel_keeps_the_order_in_fulfillment_not_shipped() {
        let items = [line("A", 1)];
        let a = [item("A", 1)];
        let rolled = roll_up_order(&items, &[parcel(&a, Milestone::LabelCreated)], Some(Milestone::Confirmed));
        assert_eq!(rolled.status, OrderStatus::InFulfillment);
    }

    #[test]
    fn rule_7_split_shipments_roll_up_to_partial_states() {
        let items = [line("A", 2), line("B", 1)];
        let first = [item("A", 2)];
        let second = [item("B", 1)];
        let rolled = roll_up_order(&items, &[parcel(&first, Milestone::InTransit)], None);
        assert_eq!(rolled.status, OrderStatus::PartiallyShipped);
        assert_eq!(rolled.items[0].status, OrderStatus::Shipped);
        assert_eq!(rolled.items[1].status, OrderStatus::Placed);

        let both = [parcel(&first, Milestone::Delivered), parcel(&second, Milestone::InTransit)];
        let rolled = roll_up_order(&items, &both, None);
        assert_eq!(rolled.status, OrderStatus::PartiallyDelivered);
        assert_eq!(rolled.items[1].status, OrderStatus::Shipped);

        let done = [parcel(&first, Milestone::Delivered), parcel(&second, Milestone::Delivered)];
        assert_eq!(roll_up_order(&items, &done, None).status, OrderStatus::Delivered);

        let shipped = [parcel(&first, Milestone::OutForDelivery), parcel(&second, Milestone::Exception)];
        let mut shipped = shipped.to_vec();
        shipped[1].had_carrier_possession = true;
        assert_eq!(roll_up_order(&items, &shipped, None).status, OrderStatus::Shipped);
    }

    #[test]
    fn rule_7_return_shipments_and_voided_labels_do_not_count_as_shipped() {
        let items = [line("A", 1)];
        let a = [item("A", 1)];
        let mut back = parcel(&a, Milestone::InTransit);
        back.direction = Direction::Return;
        assert_eq!(roll_up_order(&items, &[back], None).status, OrderStatus::Placed);
        let voided = RolledShipment { status: Some(Milestone::Cancelled), ..parcel(&a, Milestone::Cancelled) };
        assert_eq!(roll_up_order(&items, &[voided], Some(Milestone::Confirmed)).status, OrderStatus::Confirmed);
    }

    #[test]
    fn rule_7_a_parcel_back_to_the_sender_no_longer_counts_as_shipped_and_the_order_says_so() {
        let items = [line("A", 1), line("B", 1)];
        let a = [item("A", 1)];
        let b = [item("B", 1)];
        let returning = parcel(&a, Milestone::ReturningToSender);
        let rolled = roll_up_order(&items, std::slice::from_ref(&returning), Some(Milestone::Confirmed));
        assert_eq!(rolled.status, OrderStatus::ReturningToSender);
        assert_eq!((rolled.items[0].shipped, rolled.items[0].status), (0, OrderStatus::ReturningToSender));
        assert_eq!(rolled.items[1].status, OrderStatus::Confirmed);

        let returned = parcel(&a, Milestone::ReturnedToSender);
        assert_eq!(roll_up_order(&items, std::slice::from_ref(&returned), None).status, OrderStatus::ReturnedToSender);
        // A reshipped parcel carries the order again; the one that came back stays in the record.
        let reship = parcel(&a, Milestone::LabelCreated);
        assert_eq!(roll_up_order(&items, &[returned.clone(), reship], None).status, OrderStatus::InFulfillment);
        // Another parcel delivered: the order is partly delivered whatever came back.
        let delivered = parcel(&b, Milestone::Delivered);
        assert_eq!(roll_up_order(&items, &[returned.clone(), delivered], None).status, OrderStatus::PartiallyDelivered);
        // Cancelled by staff after it came back: nothing is on its way, the order is cancelled.
        assert_eq!(roll_up_order(&items, &[returned], Some(Milestone::Cancelled)).status, OrderStatus::Cancelled);
    }
}

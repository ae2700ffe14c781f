//! Shipments: the parcels an order travels in. A split order has several, each carrying part of
//! the line-item quantities; returns travel as shipments with direction `return`.

use crate::milestone::Milestone;
use crate::money::Money;
use crate::order::Order;
use crate::text::TextError;
use std::collections::BTreeMap;
use std::fmt;

/// A shipment's current status: `None` until its first status-bearing event ("pending").
pub type ShipmentStatus = Option<Milestone>;

/// The wire name of a shipment status.
pub fn shipment_status_name(status: ShipmentStatus) -> &'static str {
    status.map(Milestone::as_str).unwrap_or("pending")
}

/// A carrier tracking number, normalized: upper case, without spaces or dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackingNumber(String);

impl TrackingNumber {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let value: String =
            raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_ascii_uppercase();
        if value.is_empty() {
            return Err(TextError::Empty);
        }
        if value.len() < 4 || value.len() > 40 || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(TextError::Invalid("must be 4 to 40 letters and digits".into()));
        }
        Ok(TrackingNumber(value))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Outbound,
    Return,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Return => "return",
        }
    }
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        match raw {
            "outbound" => Ok(Direction::Outbound),
            "return" => Ok(Direction::Return),
            _ => Err(TextError::Invalid("must be outbound or return".into())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentItem {
    pub sku: String,
    pub quantity: u32,
}

/// A shipment as registered (status and timeline are projected from its events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub tracking_number: TrackingNumber,
    pub direction: Direction,
    pub origin_location_id: Option<String>,
    pub origin_postal_code: Option<String>,
    pub origin_country: Option<String>,
    pub items: Vec<ShipmentItem>,
    pub label_cost: Option<Money>,
    pub handling_cost: Option<Money>,
}

/// Why a shipment's items do not fit the order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentItemsError {
    #[error("sku `{0}` is not on the order")]
    UnknownSku(String),
    #[error("sku `{sku}`: {requested} requested but only {remaining} not yet in another shipment")]
    TooMany { sku: String, requested: u32, remaining: u32 },
    #[error("every item of the order is already in a shipment")]
    NothingLeft,
    #[error("quantity must be at least 1")]
    ZeroQuantity,
}

/// Checks the items of a new outbound shipment against the order and the shipments it already
/// has, or, when no items are given, assigns everything not yet in a shipment (the common
/// single-parcel case). Returns the items the shipment carries.
pub fn assign_shipment_items(
    order: &Order,
    existing: &[&[ShipmentItem]],
    requested: &[ShipmentItem],
) -> Result<Vec<ShipmentItem>, ShipmentItemsError> {
    let mut remaining: BTreeMap<&str, u32> = BTreeMap::new();
    for item in &order.items {
        *remaining.entry(item.sku.as_str()).or_default() += item.quantity;
    }
    for items in existing {
        for item in *items {
            if let Some(left) = remaining.get_mut(item.sku.as_str()) {
                *left = left.saturating_sub(item.quantity);
            }
        }
    }
    if requested.is_empty() {
        let all: Vec<ShipmentItem> = remaining
            .into_iter()
            .filter(|(_, q)| *q > 0)
            .map(|(sku, quantity)| ShipmentItem { sku: sku.to_string(), quantity })
            .collect();
        return if all.is_empty() { Err(ShipmentItemsError::NothingLeft) } else { Ok(all) };
    }
    let mut merged: BTreeMap<&str, u32> = BTreeMap::new();
    for item in requested {
        if item.quantity == 0 {
            return Err(ShipmentItemsError::ZeroQuantity);
        }
        *merged.entry(item.sku.as_str()).or_default() += item.quantity;
    }
    for (sku, requested) in &merged {
        let Some(left) = remaining.get(sku) else {
            return Err(ShipmentItemsError::UnknownSku(sku.to_string()));
        };
        if requested > left {
            return Err(ShipmentItemsError::TooMany { sku: sku.to_string(), requested: *requested, remaining: *left });
        }
    }
    Ok(merged.into_iter().map(|(sku, quantity)| ShipmentItem { sku: sku.to_string(), quantity }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{Address, Channel, Customer, LineItem, OrderNumber};

    fn order() -> Order {
        Order {
            charged: None,
            order_number: OrderNumber::parse("1").unwrap(),
            channel: Channel::api(),
            placed_at: chrono::DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z").unwrap(),
            promised_by: None,
            currency: "USD".into(),
            customer: Customer::default(),
            ship_to: Address::default(),
            items: vec![
                LineItem { sku: "MUG".into(), description: None, quantity: 2, unit_price: Money::ZERO },
                LineItem { sku: "TEE".into(), description: None, quantity: 1, unit_price: Money::ZERO },
            ],
        }
    }

    fn item(sku: &str, quantity: u32) -> ShipmentItem {
        ShipmentItem { sku: sku.into(), quantity }
    }

    #[test]
    fn tracking_numbers_are_normalized() {
        assert_eq!(TrackingNumber::parse("1z 999-aa1").unwrap().as_str(), "1Z999AA1");
        assert!(TrackingNumber::parse("x").is_err());
        assert!(TrackingNumber::parse("abc$def").is_err());
    }

    #[test]
    fn a_shipment_without_items_takes_everything_not_yet_shipped() {
        let order = order();
        let first = [item("MUG", 1)];
        let rest = assign_shipment_items(&order, &[&first], &[]).unwrap();
        assert_eq!(rest, vec![item("MUG", 1), item("TEE", 1)]);
        let all = [item("MUG", 2), item("TEE", 1)];
        assert_eq!(assign_shipment_items(&order, &[&all], &[]), Err(ShipmentItemsError::NothingLeft));
    }

    #[test]
    fn split_shipments_cannot_carry_more_than_was_ordered() {
        let order = order();
        let first = [item("MUG", 1)];
        let err = assign_shipment_items(&order, &[&first], &[item("MUG", 2)]).unwrap_err();
        assert_eq!(err, ShipmentItemsError::TooMany { sku: "MUG".into(), requested: 2, remaining: 1 });
        assert_eq!(
            assign_shipment_items(&order, &[], &[item("SOCK", 1)]),
            Err(ShipmentItemsError::UnknownSku("SOCK".into()))
        );
        assert_eq!(assign_shipment_items(&order, &[], &[item("MUG", 0)]), Err(ShipmentItemsError::ZeroQuantity));
    }
}

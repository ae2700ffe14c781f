//! Wire types of API v1 (DESIGN §6.1): the JSON field names integrators code against, with the
//! conversion into domain values (collecting every bad field, not just the first) and out of
//! store records. Writes reject unknown fields.

use crate::error::FieldError;
use chrono::{DateTime, FixedOffset, Utc};
use milepost_app::records::{ExceptionRecord, OrderRecord, OrderSummary, ShipmentRecord, StoredEntry, tracking_url};
use milepost_domain::order::{Channel, parse_country, parse_currency, parse_email, parse_promised_by};
use milepost_domain::shipment::shipment_status_name;
use milepost_domain::text::{TextError, parse_free_text, parse_identifier};
use milepost_domain::{
    Address, Customer, Direction, LineItem, Location, Money, Order, OrderNumber, Shipment, ShipmentItem, TrackingNumber,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Collects field errors while converting a wire value.
#[derive(Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn check<T>(&mut self, field: &str, result: Result<T, TextError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(FieldError::new(field, e.to_string()));
                None
            }
        }
    }
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }
    pub fn optional_text(&mut self, field: &str, value: &Option<String>, max: usize) -> Option<String> {
        value.as_deref().and_then(|v| self.check(field, parse_free_text(v, max))).filter(|v| !v.is_empty())
    }
}

pub fn parse_time(errors: &mut Errors, field: &str, raw: &str) -> Option<DateTime<FixedOffset>> {
    match DateTime::parse_from_rfc3339(raw.trim()) {
        Ok(t) => Some(t),
        Err(_) => {
            errors.push(field, "must be an RFC 3339 time with offset, such as 2026-11-02T14:05:00-05:00");
            None
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerWire {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub postal_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressWire {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderItemIn {
    pub sku: String,
    pub description: Option<String>,
    pub quantity: u32,
    /// Decimal string, e.g. "19.99".
    pub unit_price: String,
}

/// `POST /api/v1/orders` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderIn {
    pub order_number: String,
    pub channel: Option<String>,
    /// RFC 3339 with offset.
    pub placed_at: String,
    /// RFC 3339 time or a date (YYYY-MM-DD, end of that day).
    pub promised_by: Option<String>,
    pub currency: String,
    pub customer: Option<CustomerWire>,
    pub ship_to: Option<AddressWire>,
    pub items: Vec<OrderItemIn>,
}

impl OrderIn {
    pub fn into_domain(self) -> Result<Order, Vec<FieldError>> {
        let mut e = Errors::default();
        let order_number = e.check("order_number", OrderNumber::parse(&self.order_number));
        let channel = match &self.channel {
            Some(c) => e.check("channel", Channel::parse(c)),
            None => Some(Channel::api()),
        };
        let placed_at = parse_time(&mut e, "placed_at", &self.placed_at);
        let promised_by = match (&self.promised_by, &placed_at) {
            (Some(p), Some(placed)) => e.check("promised_by", parse_promised_by(p, placed)),
            _ => None,
        };
        let currency = e.check("currency", parse_currency(&self.currency));
        let c = self.customer.unwrap_or_default();
        let customer = Customer {
            name: e.optional_text("customer.name", &c.name, 200),
            email: c.email.as_deref().and_then(|v| e.check("customer.email", parse_email(v))),
            phone: e.optional_text("customer.phone", &c.phone, 40),
            postal_code: e.optional_text("customer.postal_code", &c.postal_code, 20),
        };
        let a = self.ship_to.unwrap_or_default();
        let ship_to = Address {
            line1: e.optional_text("ship_to.line1", &a.line1, 200),
            line2: e.optional_text("ship_to.line2", &a.line2, 200),
            city: e.optional_text("ship_to.city", &a.city, 100),
            region: e.optional_text("ship_to.region", &a.region, 100),
            postal_code: e.optional_text("ship_to.postal_code", &a.postal_code, 20),
            country: a.country.as_deref().and_then(|v| e.check("ship_to.country", parse_country(v))),
        };
        if self.items.is_empty() {
            e.push("items", "an order needs at least one item");
        }
        if self.items.len() > 1000 {
            e.push("items", "at most 1000 items per order");
        }
        let mut items = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            let sku = e.check(&format!("items[{i}].sku"), parse_identifier(&item.sku, 100));
            let description = e.optional_text(&format!("items[{i}].description"), &item.description, 500);
            if item.quantity == 0 || item.quantity > 1_000_000 {
                e.push(&format!("items[{i}].quantity"), "must be between 1 and 1000000");
            }
            let price = Money::parse(&item.unit_price).map_err(|m| TextError::Invalid(m.to_string())).and_then(|p| {
                if p.ten_thousandths() < 0 { Err(TextError::Invalid("must not be negative".into())) } else { Ok(p) }
            });
            let unit_price = e.check(&format!("items[{i}].unit_price"), price);
            if let (Some(sku), Some(unit_price)) = (sku, unit_price) {
                items.push(LineItem { sku, description, quantity: item.quantity, unit_price });
            }
        }
        match (order_number, channel, placed_at, currency) {
            (Some(order_number), Some(channel), Some(placed_at), Some(currency)) if e.0.is_empty() => Ok(Order {
                charged: None,
                order_number,
                channel,
                placed_at,
                promised_by,
                currency,
                customer,
                ship_to,
                items,
            }),
            _ => Err(e.0),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OriginWire {
    pub location_id: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentItemWire {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostsWire {
    pub label: Option<String>,
    pub handling: Option<String>,
}

/// `POST /api/v1/orders/{order_number}/shipments` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentIn {
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub tracking_number: String,
    pub direction: Option<String>,
    pub origin: Option<OriginWire>,
    /// Items this parcel carries; omitted means everything not yet in a shipment.
    #[serde(default)]
    pub items: Vec<ShipmentItemWire>,
    pub costs: Option<CostsWire>,
}

fn parse_money(e: &mut Errors, field: &str, raw: &Option<String>) -> Option<Money> {
    raw.as_deref().and_then(|v| e.check(field, Money::parse(v).map_err(|m| TextError::Invalid(m.to_string()))))
}

/// A carrier key: lower case letters, digits, `-` and `_`.
pub fn parse_carrier(raw: &str) -> Result<String, TextError> {
    let value = parse_identifier(raw, 40)?.to_ascii_lowercase();
    if value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(value)
    } else {
        Err(TextError::Invalid("must be a carrier key such as ups, fedex, usps or dhl".into()))
    }
}

impl ShipmentIn {
    pub fn into_domain(self) -> Result<Shipment, Vec<FieldError>> {
        let mut e = Errors::default();
        let tracking_number = e.check("tracking_number", TrackingNumber::parse(&self.tracking_number));
        let carrier = self.carrier.as_deref().and_then(|c| e.check("carrier", parse_carrier(c)));
        let service = e.optional_text("service", &self.service, 60);
        let direction = match self.direction.as_deref() {
            None => Some(Direction::Outbound),
            Some(d) => e.check("direction", Direction::parse(d)),
        };
        let origin = self.origin.unwrap_or_default();
        let origin_country = origin.country.as_deref().and_then(|c| e.check("origin.country", parse_country(c)));
        let origin_location_id = e.optional_text("origin.location_id", &origin.location_id, 60);
        let origin_postal_code = e.optional_text("origin.postal_code", &origin.postal_code, 20);
        let costs = self.costs.unwrap_or_default();
        let label_cost = parse_money(&mut e, "costs.label", &costs.label);
        let handling_cost = parse_money(&mut e, "costs.handling", &costs.handling);
        let mut items = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            let sku = e.check(&format!("items[{i}].sku"), parse_identifier(&item.sku, 100));
            if item.quantity == 0 {
                e.push(&format!("items[{i}].quantity"), "must be at least 1");
            }
            if let Some(sku) = sku {
                items.push(ShipmentItem { sku, quantity: item.quantity });
            }
        }
        match (tracking_number, direction) {
            (Some(tracking_number), Some(direction)) if e.0.is_empty() => Ok(Shipment {
                carrier,
                service,
                tracking_number,
                direction,
                origin_location_id,
                origin_postal_code,
                origin_country,
                items,
                label_cost,
                handling_cost,
            }),
            _ => Err(e.0),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LocationWire {
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

impl LocationWire {
    pub fn into_domain(self, e: &mut Errors, field: &str) -> Option<Location> {
        let location = Location {
            city: e.optional_text(&format!("{field}.city"), &self.city, 100),
            region: e.optional_text(&format!("{field}.region"), &self.region, 100),
            postal_code: e
                .optional_text(&format!("{field}.postal_code"), &self.postal_code, 20)
                .map(|p| p.to_ascii_uppercase()),
            country: self.country.as_deref().and_then(|c| e.check(&format!("{field}.country"), parse_country(c))),
        };
        (!location.is_empty()).then_some(location)
    }

    fn from_domain(l: &Location) -> Self {
        LocationWire {
            city: l.city.clone(),
            region: l.region.clone(),
            postal_code: l.postal_code.clone(),
            country: l.country.clone(),
        }
    }
}

/// One event of `POST /api/v1/events`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    pub source: String,
    pub source_event_id: Option<String>,
    pub tracking_number: Option<String>,
    pub order_number: Option<String>,
    /// Tracking number or id of one of the order's shipments.
    pub shipment: Option<String>,
    pub carrier: Option<String>,
    /// Optional when `code` maps through the carrier's table.
    pub milestone: Option<String>,
    pub code: Option<String>,
    pub description: Option<String>,
    pub occurred_at: String,
    pub location: Option<LocationWire>,
}

/// `POST /api/v1/events` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatchIn {
    /// 1 to 1000 events; each is checked on its own.
    #[schema(value_type = Vec<EventIn>)]
    pub events: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventResult {
    pub index: usize,
    /// `accepted`, `duplicate` or `rejected`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventBatchOut {
    pub results: Vec<EventResult>,
}

// ---------- read side ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntryOut {
    /// Normalized milestone, `unmapped` for a raw code nobody has mapped yet, or null for a
    /// known code that carries no status.
    pub milestone: Option<String>,
    pub code: Option<String>,
    pub description: Option<String>,
    pub source: String,
    pub source_event_id: Option<String>,
    pub occurred_at: String,
    pub received_at: String,
    pub location: Option<LocationWire>,
    /// True when the source is not the source of truth for this milestone: shown, never moves status.
    pub advisory: bool,
    /// How many times the same fact arrived again.
    pub duplicates: u32,
}

impl TimelineEntryOut {
    pub fn from_entry(entry: &StoredEntry) -> Self {
        let e = &entry.event;
        TimelineEntryOut {
            milestone: match (e.milestone, entry.unmapped) {
                (Some(m), _) => Some(m.as_str().to_string()),
                (None, true) => Some("unmapped".to_string()),
                (None, false) => None,
            },
            code: e.code.clone(),
            description: e.description.clone(),
            source: e.source.as_str().to_string(),
            source_event_id: e.source_event_id.clone(),
            occurred_at: e.occurred_at.to_rfc3339(),
            received_at: e.received_at.to_rfc3339(),
            location: e.location.as_ref().map(LocationWire::from_domain),
            advisory: entry.advisory,
            duplicates: entry.duplicate_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EtaOut {
    pub earliest: String,
    pub latest: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentOut {
    pub id: String,
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    pub direction: String,
    pub origin: OriginWire,
    pub items: Vec<ShipmentItemWire>,
    pub costs: CostsWire,
    /// Current milestone, or `pending` before the first status-bearing event.
    pub status: String,
    /// First carrier possession; absent while only a label exists.
    pub shipped_at: Option<String>,
    pub delayed: bool,
    /// Milepost's own delivery window, learned from the lane's history.
    pub eta: Option<EtaOut>,
    /// The carrier's own estimated delivery day (`YYYY-MM-DD`), one input of `eta`.
    pub carrier_eta: Option<String>,
    pub timeline: Vec<TimelineEntryOut>,
}

impl ShipmentOut {
    pub fn from_record(r: &ShipmentRecord) -> Self {
        let s = &r.shipment;
        ShipmentOut {
            id: r.id.to_string(),
            carrier: s.carrier.clone(),
            service: s.service.clone(),
            tracking_number: s.tracking_number.to_string(),
            tracking_url: s.carrier.as_deref().and_then(|c| tracking_url(c, s.tracking_number.as_str())),
            direction: s.direction.as_str().to_string(),
            origin: OriginWire {
                location_id: s.origin_location_id.clone(),
                postal_code: s.origin_postal_code.clone(),
                country: s.origin_country.clone(),
            },
            items: s.items.iter().map(|i| ShipmentItemWire { sku: i.sku.clone(), quantity: i.quantity }).collect(),
            costs: CostsWire {
                label: s.label_cost.map(|m| m.to_string()),
                handling: s.handling_cost.map(|m| m.to_string()),
            },
            status: shipment_status_name(r.status).to_string(),
            shipped_at: r.first_carrier_possession_at.map(|t: DateTime<Utc>| t.to_rfc3339()),
            delayed: r.delayed,
            eta: r.eta.as_ref().map(|e| EtaOut { earliest: e.earliest.to_rfc3339(), latest: e.latest.to_rfc3339() }),
            carrier_eta: r.carrier_eta.map(|day| day.to_string()),
            timeline: r.timeline.iter().map(TimelineEntryOut::from_entry).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderItemOut {
    pub sku: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub unit_price: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemProgressOut {
    pub sku: String,
    pub ordered: u32,
    pub shipped: u32,
    pub delivered: u32,
    pub status: String,
}

/// One exception (DESIGN §6.1), with who worked it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionOut {
    pub id: String,
    pub kind: String,
    pub severity: String,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    pub order_number: String,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    /// What the rule saw, in a sentence.
    pub detail: Option<String>,
    pub opened_at: String,
    pub due_at: Option<String>,
    pub closed_at: Option<String>,
    pub owner: Option<String>,
    pub note: Option<String>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
    pub assigned_by: Option<String>,
    pub resolved_by: Option<String>,
}

impl ExceptionOut {
    pub fn from_record(r: &ExceptionRecord) -> Self {
        ExceptionOut {
            id: r.id.to_string(),
            kind: r.kind.clone(),
            severity: r.severity.clone(),
            state: r.state.clone(),
            order_number: r.order_number.clone(),
            tracking_number: r.tracking_number.clone(),
            carrier: r.carrier.clone(),
            detail: r.detail.clone(),
            opened_at: r.opened_at.clone(),
            due_at: r.due_at.clone(),
            closed_at: r.closed_at.clone(),
            owner: r.owner.clone(),
            note: r.note.clone(),
            acknowledged_by: r.acknowledged_by.clone(),
            acknowledged_at: r.acknowledged_at.clone(),
            assigned_by: r.assigned_by.clone(),
            resolved_by: r.resolved_by.clone(),
        }
    }
}

/// `GET /api/v1/orders/{order_number}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderOut {
    pub order_number: String,
    pub channel: String,
    pub placed_at: String,
    pub promised_by: Option<String>,
    pub currency: String,
    /// Sum of the lines, decimal string.
    pub value: String,
    pub customer: CustomerWire,
    pub ship_to: AddressWire,
    pub items: Vec<OrderItemOut>,
    /// Roll-up: placed, confirmed, in_fulfillment, partially_shipped, shipped, partially_delivered, delivered, cancelled,
    /// returning_to_sender, returned_to_sender.
    pub status: String,
    /// Per-SKU roll-up.
    pub item_status: Vec<ItemProgressOut>,
    pub shipments: Vec<ShipmentOut>,
    /// Events about the order itself (placed, confirmed, cancelled, claims without a parcel).
    pub timeline: Vec<TimelineEntryOut>,
    pub exceptions: Vec<ExceptionOut>,
    pub returns: Vec<ReturnOut>,
    /// Claims against carriers, oldest first (as in `GET /api/v1/orders/{order_number}/claims`).
    pub claims: Vec<super::claims::ClaimOut>,
    #[schema(value_type = Vec<Object>)]
    pub notifications: Vec<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
}

impl OrderOut {
    pub fn from_record(r: &OrderRecord) -> Self {
        let o = &r.order;
        OrderOut {
            order_number: o.order_number.to_string(),
            channel: o.channel.as_str().to_string(),
            placed_at: o.placed_at.to_rfc3339(),
            promised_by: o.promised_by.map(|p| p.to_rfc3339()),
            currency: o.currency.clone(),
            value: o.value().to_string(),
            customer: CustomerWire {
                name: o.customer.name.clone(),
                email: o.customer.email.clone(),
                phone: o.customer.phone.clone(),
                postal_code: o.customer.postal_code.clone(),
            },
            ship_to: AddressWire {
                line1: o.ship_to.line1.clone(),
                line2: o.ship_to.line2.clone(),
                city: o.ship_to.city.clone(),
                region: o.ship_to.region.clone(),
                postal_code: o.ship_to.postal_code.clone(),
                country: o.ship_to.country.clone(),
            },
            items: o
                .items
                .iter()
                .map(|i| OrderItemOut {
                    sku: i.sku.clone(),
                    description: i.description.clone(),
                    quantity: i.quantity,
                    unit_price: i.unit_price.to_string(),
                })
                .collect(),
            status: r.status.as_str().to_string(),
            item_status: r
                .items
                .iter()
                .map(|p| ItemProgressOut {
                    sku: p.sku.clone(),
                    ordered: p.ordered,
                    shipped: p.shipped,
                    delivered: p.delivered,
                    status: p.status.as_str().to_string(),
                })
                .collect(),
            shipments: r.shipments.iter().map(ShipmentOut::from_record).collect(),
            timeline: r.timeline.iter().map(TimelineEntryOut::from_entry).collect(),
            exceptions: r.exceptions.iter().map(ExceptionOut::from_record).collect(),
            returns: r.returns.iter().map(ReturnOut::from_record).collect(),
            claims: Vec::new(),
            notifications: Vec::new(),
            created_at: r.created_at.to_rfc3339(),
            updated_at: r.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummaryOut {
    pub order_number: String,
    pub channel: String,
    pub status: String,
    pub placed_at: String,
    pub promised_by: Option<String>,
    pub customer_name: Option<String>,
    pub shipments: u32,
    pub open_exceptions: u32,
}

impl OrderSummaryOut {
    pub fn from_summary(s: &OrderSummary) -> Self {
        OrderSummaryOut {
            order_number: s.order_number.to_string(),
            channel: s.channel.clone(),
            status: s.status.as_str().to_string(),
            placed_at: s.placed_at.to_rfc3339(),
            promised_by: s.promised_by.map(|p| p.to_rfc3339()),
            customer_name: s.customer_name.clone(),
            shipments: s.shipments,
            open_exceptions: s.open_exceptions,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderListOut {
    pub orders: Vec<OrderSummaryOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderWriteOut {
    pub order_number: String,
    /// `created` or `updated`.
    pub result: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnItemOut {
    pub sku: String,
    pub quantity: u32,
    /// wrong_item, missing_item, damaged, defective, not_as_described, no_longer_needed, other.
    pub reason: String,
}

/// The inspection and disposition of some units of one returned SKU.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectedItemOut {
    pub sku: String,
    pub quantity: u32,
    /// as_new, opened, damaged, missing_parts.
    pub result: String,
    /// restock, refurbish, scrap, return_to_vendor.
    pub disposition: String,
}

/// One state change of a return.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnStepOut {
    pub from: Option<String>,
    pub to: String,
    /// `customer`, `system` or the staff caller.
    pub actor: String,
    pub note: Option<String>,
    pub at: String,
}

/// A return request (RMA) of the order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnOut {
    pub id: String,
    /// Present when the return is read on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// requested, approved, rejected, pickup_scheduled, in_return_transit, received, …
    pub state: String,
    pub items: Vec<ReturnItemOut>,
    pub note: Option<String>,
    pub created_at: String,
    /// The states the return may move to next.
    pub allowed: Vec<String>,
    /// Every state change after the request, oldest first.
    pub history: Vec<ReturnStepOut>,
    /// The return parcel, once one is linked.
    pub return_tracking_number: Option<String>,
    /// What the warehouse found and decided per item, once inspected.
    pub inspection: Vec<InspectedItemOut>,
}

impl ReturnOut {
    pub fn from_record(r: &milepost_app::records::ReturnRecord) -> Self {
        ReturnOut {
            id: r.id.to_string(),
            order_number: None,
            state: r.state.as_str().to_string(),
            items: r
                .items
                .iter()
                .map(|i| ReturnItemOut {
                    sku: i.sku.clone(),
                    quantity: i.quantity,
                    reason: i.reason.as_str().to_string(),
                })
                .collect(),
            note: r.note.clone(),
            created_at: r.created_at.to_rfc3339(),
            allowed: r.state.allowed_next().iter().map(|s| s.as_str().to_string()).collect(),
            history: r
                .history
                .iter()
                .map(|step| ReturnStepOut {
                    from: step.from.map(|s| s.as_str().to_string()),
                    to: step.to.as_str().to_string(),
                    actor: step.actor.clone(),
                    note: step.note.clone(),
                    at: step.at.to_rfc3339(),
                })
                .collect(),
            return_tracking_number: r.return_tracking_number.clone(),
            inspection: r
                .inspection
                .iter()
                .map(|i| InspectedItemOut {
                    sku: i.sku.clone(),
                    quantity: i.quantity,
                    result: i.result.as_str().to_string(),
                    disposition: i.disposition.as_str().to_string(),
                })
                .collect(),
        }
    }

    /// A return read on its own, naming its order.
    pub fn of_order(r: &milepost_app::records::ReturnOfOrder) -> Self {
        ReturnOut { order_number: Some(r.order_number.to_string()), ..ReturnOut::from_record(&r.record) }
    }
}

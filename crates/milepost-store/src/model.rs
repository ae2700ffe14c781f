//! Records the store reads and writes. These are domain values plus the identities and
//! bookkeeping that only storage knows (row ids, received times, duplicate counts).

use chrono::{DateTime, FixedOffset, Utc};
use milepost_domain::rollup::ItemProgress;
use milepost_domain::{
    AccountName, Milestone, Order, OrderNumber, OrderStatus, ReturnItem, ReturnState, Role, Shipment, ShipmentItem,
    TrackingEvent, TrackingNumber,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountId(pub i64);

/// Who is calling: the account a key belongs to and the key's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: AccountId,
    pub account_name: AccountName,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created,
    Updated,
}

/// A shipment to register: what the caller sent, with items still to be checked against the
/// order (empty means "everything not yet in a shipment").
#[derive(Debug, Clone)]
pub struct NewShipment {
    pub shipment: Shipment,
}

/// What an incoming event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTarget {
    /// A parcel by tracking number; kept even before the shipment is registered.
    Tracking(TrackingNumber),
    /// An order, optionally one of its shipments (by tracking number or shipment id).
    Order { order_number: OrderNumber, shipment: Option<String> },
}

/// How the event's milestone was obtained, kept for the unmapped-code queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingState {
    /// The sender named the milestone itself.
    Given,
    /// Mapped from the raw code by a table.
    Mapped,
    /// A known code that carries no status.
    Informational,
    /// No mapping yet (rule 6).
    Unmapped,
}

impl MappingState {
    pub fn as_str(self) -> &'static str {
        match self {
            MappingState::Given => "given",
            MappingState::Mapped => "mapped",
            MappingState::Informational => "informational",
            MappingState::Unmapped => "unmapped",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub target: EventTarget,
    pub carrier: Option<String>,
    pub mapping: MappingState,
    pub event: TrackingEvent,
    pub raw: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    Accepted,
    Duplicate,
    Rejected { field: String, reason: String },
}

/// One entry of a stored timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub event: TrackingEvent,
    pub advisory: bool,
    pub unmapped: bool,
    pub duplicate_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eta {
    pub earliest: DateTime<FixedOffset>,
    pub latest: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRecord {
    pub id: i64,
    pub shipment: Shipment,
    pub status: Option<Milestone>,
    pub delayed: bool,
    pub eta: Option<Eta>,
    pub first_carrier_possession_at: Option<DateTime<Utc>>,
    pub timeline: Vec<StoredEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRecord {
    pub id: i64,
    pub kind: String,
    pub severity: String,
    pub state: String,
    pub tracking_number: Option<String>,
    pub opened_at: String,
    pub due_at: Option<String>,
    pub closed_at: Option<String>,
    pub owner: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub order: Order,
    pub status: OrderStatus,
    pub items: Vec<ItemProgress>,
    pub shipments: Vec<ShipmentRecord>,
    /// Events about the order itself (placed, confirmed, cancelled, claims without a parcel).
    pub timeline: Vec<StoredEntry>,
    pub exceptions: Vec<ExceptionRecord>,
    /// Return requests, oldest first.
    pub returns: Vec<ReturnRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Filters for the order search.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    /// Only orders with an open exception of this kind (`any` for any kind).
    pub exception: Option<String>,
    /// Free text: order number, tracking number, customer e-mail or name.
    pub text: Option<String>,
    /// Opaque cursor from a previous page.
    pub cursor: Option<i64>,
    pub limit: u32,
}

/// A short row of the order search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    pub order_number: OrderNumber,
    pub channel: String,
    pub status: OrderStatus,
    pub placed_at: DateTime<FixedOffset>,
    pub promised_by: Option<DateTime<FixedOffset>>,
    pub customer_name: Option<String>,
    pub shipments: u32,
    pub open_exceptions: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub orders: Vec<OrderSummary>,
    pub next_cursor: Option<i64>,
}

/// Re-exported so callers need not depend on the domain crate for these names.
pub type Items = Vec<ShipmentItem>;

/// A return request to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReturn {
    pub items: Vec<ReturnItem>,
    pub note: Option<String>,
    /// Who started it: `customer` (the tracking page) or `staff` (the API).
    pub source: String,
}

/// A stored return request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRecord {
    pub id: i64,
    pub state: ReturnState,
    pub items: Vec<ReturnItem>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What the tracking page's lookup compares: the order's contact details as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderProof {
    pub email: Option<String>,
    pub ship_to_postal_code: Option<String>,
    pub customer_postal_code: Option<String>,
}

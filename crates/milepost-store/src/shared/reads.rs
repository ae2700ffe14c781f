//! Read queries, for both engines: the caller behind a key, one order with everything
//! attached, and the order search with keyset paging. Timelines are re-projected on read from
//! the stored events, so advisory flags and order always follow the current rules.

use super::rows::{from_micros, parse_time, parse_utc, row};
use super::storage_error;
use super::writes::shipment_events;
use crate::db::{Connection, OptionalExtension, params};
use crate::{
    AccountId, Eta, ExceptionRecord, OrderPage, OrderQuery, OrderRecord, OrderSummary, Principal, ShipmentRecord,
    StoreError, StoreResult,
};
use milepost_domain::order::Channel;
use milepost_domain::rollup::{RolledShipment, roll_up_order};
use milepost_domain::timeline::ProjectionScope;
use milepost_domain::{
    AccountName, Address, Customer, Direction, LineItem, Milestone, Money, Order, OrderNumber, OrderStatus, Role,
    Shipment, ShipmentItem, SourceOfTruth, TrackingNumber,
};

pub fn principal_for_key(conn: &Connection, hash: &str) -> StoreResult<Option<Principal>> {
    let row: Option<(i64, String, String, String)> = row(
        conn,
        "SELECT a.id, a.name, k.role, k.key_prefix FROM api_keys k JOIN accounts a ON a.id = k.account_id
             WHERE k.key_hash = ?1 AND k.revoked_at IS NULL",
        [hash],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .optional()
    .map_err(storage_error)?;
    row.map(|(id, name, role, prefix)| {
        Ok(Principal {
            account_id: AccountId(id),
            account_name: AccountName::parse(&name).map_err(|e| StoreError::Unexpected(e.to_string()))?,
            role: role.parse::<Role>().map_err(StoreError::Unexpected)?,
            actor: format!("key:{prefix}"),
        })
    })
    .transpose()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(format!("stored {what} is invalid: {e}"))
}

pub fn order_items(conn: &Connection, order_id: i64) -> StoreResult<Vec<LineItem>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT sku, description, quantity, unit_price_e4 FROM order_items WHERE order_id = ?1 ORDER BY line_no",
        )
        .map_err(storage_error)?;
    let rows = stmt
        .query_map([order_id], |r| {
            Ok(LineItem {
                sku: r.get(0)?,
                description: r.get(1)?,
                quantity: r.get(2)?,
                unit_price: Money::from_ten_thousandths(r.get(3)?),
            })
        })
        .map_err(storage_error)?;
    rows.collect::<Result<_, _>>().map_err(storage_error)
}

/// The `orders` columns `order_from_row` reads, in order, for `concat!`.
macro_rules! order_columns {
    () => {
        "order_number, channel, placed_at, promised_by, currency, customer_name, customer_email, customer_phone,
         customer_postal_code, ship_to_line1, ship_to_line2, ship_to_city, ship_to_region, ship_to_postal_code,
         ship_to_country, charged_e4"
    };
}

/// An order's own fields as stored (its items come from their own table).
struct OrderRow {
    number: String,
    channel: String,
    placed_at: String,
    promised_by: Option<String>,
    currency: String,
    customer: Customer,
    ship_to: Address,
    charged_e4: Option<i64>,
}

/// Reads the `order_columns!()` starting at column `at`.
fn order_from_row(r: &crate::db::Row<'_>, at: usize) -> crate::db::Result<OrderRow> {
    Ok(OrderRow {
        number: r.get(at)?,
        channel: r.get(at + 1)?,
        placed_at: r.get(at + 2)?,
        promised_by: r.get(at + 3)?,
        currency: r.get(at + 4)?,
        customer: Customer {
            name: r.get(at + 5)?,
            email: r.get(at + 6)?,
            phone: r.get(at + 7)?,
            postal_code: r.get(at + 8)?,
        },
        ship_to: Address {
            line1: r.get(at + 9)?,
            line2: r.get(at + 10)?,
            city: r.get(at + 11)?,
            region: r.get(at + 12)?,
            postal_code: r.get(at + 13)?,
            country: r.get(at + 14)?,
        },
        charged_e4: r.get(at + 15)?,
    })
}

impl OrderRow {
    fn into_order(self, items: Vec<LineItem>) -> StoreResult<Order> {
        Ok(Order {
            charged: self.charged_e4.map(Money::from_ten_thousandths),
            order_number: OrderNumber::parse(&self.number).map_err(|e| corrupt("order number", e))?,
            channel: Channel::parse(&self.channel).map_err(|e| corrupt("channel", e))?,
            placed_at: parse_time(&self.placed_at)?,
            promised_by: self.promised_by.as_deref().map(parse_time).transpose()?,
            currency: self.currency,
            customer: self.customer,
            ship_to: self.ship_to,
            items,
        })
    }
}

/// Loads an order's own fields and items.
pub fn load_order(conn: &Connection, order_id: i64) -> StoreResult<Order> {
    let items = order_items(conn, order_id)?;
    let found = row(conn, concat!("SELECT ", order_columns!(), " FROM orders WHERE id = ?1"), [order_id], |r| {
        order_from_row(r, 0)
    })
    .map_err(storage_error)?;
    found.into_order(items)
}

fn items_of_shipment(conn: &Connection, shipment_id: i64) -> StoreResult<Vec<ShipmentItem>> {
    let mut stmt = conn
        .prepare_cached("SELECT sku, quantity FROM shipment_items WHERE shipment_id = ?1 ORDER BY sku")
        .map_err(storage_error)?;
    let rows = stmt
        .query_map([shipment_id], |r| Ok(ShipmentItem { sku: r.get(0)?, quantity: r.get(1)? }))
        .map_err(storage_error)?;
    rows.collect::<Result<_, _>>().map_err(storage_error)
}

/// Item lists of an order's shipments in one direction.
pub fn shipment_items_of_order(
    conn: &Connection,
    order_id: i64,
    direction: Direction,
) -> StoreResult<Vec<Vec<ShipmentItem>>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id FROM shipments WHERE order_id = ?1 AND direction = ?2
                 AND status NOT IN ('cancelled', 'returning_to_sender', 'returned_to_sender')",
        )
        .map_err(storage_error)?;
    let ids: Vec<i64> = stmt
        .query_map(params![order_id, direction.as_str()], |r| r.get(0))
        .map_err(storage_error)?
        .collect::<Result<_, _>>()
        .map_err(storage_error)?;
    ids.into_iter().map(|id| items_of_shipment(conn, id)).collect()
}

/// What the order roll-up needs of each shipment.
pub struct Parcel {
    pub direction: Direction,
    pub items: Vec<ShipmentItem>,
    pub status: Option<Milestone>,
    pub had_carrier_possession: bool,
}

fn parse_status(text: &str) -> StoreResult<Option<Milestone>> {
    if text == "pending" {
        Ok(None)
    } else {
        text.parse::<Milestone>().map(Some).map_err(|e| corrupt("shipment status", e))
    }
}

pub fn parcels_of_order(conn: &Connection, order_id: i64) -> StoreResult<Vec<Parcel>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, direction, status, first_possession_us IS NOT NULL FROM shipments WHERE order_id = ?1 ORDER BY id")
        .map_err(storage_error)?;
    let rows: Vec<(i64, String, String, bool)> = stmt
        .query_map([order_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map_err(storage_error)?
        .collect::<Result<_, _>>()
        .map_err(storage_error)?;
    rows.into_iter()
        .map(|(id, direction, status, had)| {
            Ok(Parcel {
                direction: Direction::parse(&direction).map_err(|e| corrupt("direction", e))?,
                items: items_of_shipment(conn, id)?,
                status: parse_status(&status)?,
                had_carrier_possession: had,
            })
        })
        .collect()
}

fn money(e4: Option<i64>) -> Option<Money> {
    e4.map(Money::from_ten_thousandths)
}

/// The `shipments` columns `shipment_from_row` reads, in order, for `concat!`.
macro_rules! shipment_columns {
    () => {
        "id, tracking_number, carrier, service, direction, origin_location_id, origin_postal_code, origin_country,
         label_cost_e4, handling_cost_e4, status, delayed, eta_earliest, eta_latest, first_possession_us, carrier_eta"
    };
}

/// A shipment's own fields as stored (its items and events come from their own tables).
struct ShipmentRow {
    id: i64,
    tracking_number: String,
    carrier: Option<String>,
    service: Option<String>,
    direction: String,
    origin_location_id: Option<String>,
    origin_postal_code: Option<String>,
    origin_country: Option<String>,
    label_cost_e4: Option<i64>,
    handling_cost_e4: Option<i64>,
    status: String,
    delayed: bool,
    eta_earliest: Option<String>,
    eta_latest: Option<String>,
    first_possession_us: Option<i64>,
    carrier_eta: Option<String>,
}

fn shipment_from_row(r: &crate::db::Row<'_>) -> crate::db::Result<ShipmentRow> {
    Ok(ShipmentRow {
        id: r.get(0)?,
        tracking_number: r.get(1)?,
        carrier: r.get(2)?,
        service: r.get(3)?,
        direction: r.get(4)?,
        origin_location_id: r.get(5)?,
        origin_postal_code: r.get(6)?,
        origin_country: r.get(7)?,
        label_cost_e4: r.get(8)?,
        handling_cost_e4: r.get(9)?,
        status: r.get(10)?,
        delayed: r.get(11)?,
        eta_earliest: r.get(12)?,
        eta_latest: r.get(13)?,
        first_possession_us: r.get(14)?,
        carrier_eta: r.get(15)?,
    })
}

/// A stored shipment with its items and its timeline re-projected from its events.
fn shipment_record(conn: &Connection, truth: &SourceOfTruth, found: ShipmentRow) -> StoreResult<ShipmentRecord> {
    let eta = match (found.eta_earliest, found.eta_latest) {
        (Some(e), Some(l)) => Some(Eta { earliest: parse_time(&e)?, latest: parse_time(&l)? }),
        _ => None,
    };
    Ok(ShipmentRecord {
        id: found.id,
        shipment: Shipment {
            carrier: found.carrier,
            service: found.service,
            tracking_number: TrackingNumber::parse(&found.tracking_number)
                .map_err(|e| corrupt("tracking number", e))?,
            direction: Direction::parse(&found.direction).map_err(|e| corrupt("direction", e))?,
            origin_location_id: found.origin_location_id,
            origin_postal_code: found.origin_postal_code,
            origin_country: found.origin_country,
            items: items_of_shipment(conn, found.id)?,
            label_cost: money(found.label_cost_e4),
            handling_cost: money(found.handling_cost_e4),
        },
        status: parse_status(&found.status)?,
        delayed: found.delayed,
        eta,
        carrier_eta: found.carrier_eta.and_then(|day| day.parse().ok()),
        first_carrier_possession_at: found.first_possession_us.map(from_micros),
        timeline: crate::shared::stored_entries(shipment_events(conn, found.id)?, truth, ProjectionScope::Shipment).0,
    })
}

pub fn shipment_by_id(conn: &Connection, truth: &SourceOfTruth, shipment_id: i64) -> StoreResult<ShipmentRecord> {
    let found =
        row(conn, concat!("SELECT ", shipment_columns!(), " FROM shipments WHERE id = ?1"), [shipment_id], |r| {
            shipment_from_row(r)
        })
        .map_err(storage_error)?;
    shipment_record(conn, truth, found)
}

pub fn order(
    conn: &Connection,
    truth: &SourceOfTruth,
    account: AccountId,
    number: &OrderNumber,
) -> StoreResult<Option<OrderRecord>> {
    // One read of the order's row and one of its shipments' rows: each statement of an order
    // read costs a statement-cache lookup, a b-tree descent and a reset.
    let found = row(
        conn,
        concat!(
            "SELECT id, status, created_at, updated_at, ",
            order_columns!(),
            " FROM orders WHERE account_id = ?1 AND order_number = ?2"
        ),
        params![account.0, number.as_str()],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                order_from_row(r, 4)?,
            ))
        },
    )
    .optional()
    .map_err(storage_error)?;
    let Some((order_id, status, created_at, updated_at, order_row)) = found else { return Ok(None) };
    let order = order_row.into_order(order_items(conn, order_id)?)?;
    let rows: Vec<ShipmentRow> = {
        let mut stmt = conn
            .prepare_cached(concat!("SELECT ", shipment_columns!(), " FROM shipments WHERE order_id = ?1 ORDER BY id"))
            .map_err(storage_error)?;
        let rows = stmt.query_map([order_id], shipment_from_row).map_err(storage_error)?;
        rows.collect::<Result<_, _>>().map_err(storage_error)?
    };
    let shipments =
        rows.into_iter().map(|found| shipment_record(conn, truth, found)).collect::<StoreResult<Vec<_>>>()?;

    let own_events = super::writes::order_own_events(conn, order_id)?;
    let (timeline, own_status) = crate::shared::stored_entries(own_events, truth, ProjectionScope::Order);
    let rolled: Vec<RolledShipment<'_>> = shipments
        .iter()
        .map(|s| RolledShipment {
            direction: s.shipment.direction,
            items: &s.shipment.items,
            status: s.status,
            had_carrier_possession: s.first_carrier_possession_at.is_some(),
        })
        .collect();
    let roll_up = roll_up_order(&order.items, &rolled, own_status);
    Ok(Some(OrderRecord {
        order,
        status: OrderStatus::parse(&status).unwrap_or(roll_up.status),
        items: roll_up.items,
        shipments,
        timeline,
        exceptions: exceptions_of_order(conn, order_id)?,
        returns: super::tracking::returns_of_order(conn, order_id)?,
        created_at: parse_utc(&created_at)?,
        updated_at: parse_utc(&updated_at)?,
    }))
}

fn exceptions_of_order(conn: &Connection, order_id: i64) -> StoreResult<Vec<ExceptionRecord>> {
    // Sorted here: `ORDER BY e.id` made SQLite build a temporary b-tree for every order read
    // (the order index holds the state before the id), and an order has a handful at most.
    let mut exceptions = super::rules::exception_rows(conn, "e.order_id = ?1", crate::db::params![order_id])?;
    exceptions.sort_unstable_by_key(|e| e.id);
    Ok(exceptions)
}

/// id, number, channel, status, placed_at, promised_by, customer name, shipments, open exceptions.
type SummaryRow = (i64, String, String, String, String, Option<String>, Option<String>, u32, u32);

pub fn search_orders(conn: &Connection, account: AccountId, query: &OrderQuery) -> StoreResult<OrderPage> {
    let limit = query.limit.clamp(1, 200) as i64;
    let text = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let exception_kind = query.exception.as_deref();
    // PostgreSQL must be told the type of a parameter that is only compared with NULL.
    let sql = format!(
        "SELECT o.id, o.order_number, o.channel, o.status, o.placed_at, o.promised_by, o.customer_name,
                    (SELECT COUNT(*) FROM shipments s WHERE s.order_id = o.id),
                    (SELECT COUNT(*) FROM exceptions x WHERE x.order_id = o.id AND x.state <> 'resolved')
             FROM orders o
             WHERE o.account_id = ?1
               AND ({cursor} IS NULL OR o.id < ?2)
               AND ({status} IS NULL OR o.status = ?3)
               AND ({kind} IS NULL OR EXISTS (SELECT 1 FROM exceptions x WHERE x.order_id = o.id AND x.state <> 'resolved'
                                          AND (?4 = 'any' OR x.kind = ?4)))
               AND ({text} IS NULL
                    OR o.order_number = ?5 OR o.order_number {like} ?5 || '%' ESCAPE '\\'
                    OR o.customer_email = lower(?5)
                    OR replace(upper(o.customer_postal_code), ' ', '') = replace(upper(?5), ' ', '')
                    OR replace(upper(o.ship_to_postal_code), ' ', '') = replace(upper(?5), ' ', '')
                    OR o.customer_name {like} '%' || ?5 || '%' ESCAPE '\\'
                    OR EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id AND s.tracking_number = upper(?5)))
             ORDER BY o.id DESC
             LIMIT ?6",
        cursor = conn.typed_param(2, "BIGINT"),
        status = conn.typed_param(3, "TEXT"),
        kind = conn.typed_param(4, "TEXT"),
        text = conn.typed_param(5, "TEXT"),
        like = conn.like_ci(),
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(storage_error)?;
    let escaped = text.map(|t| t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let rows: Vec<SummaryRow> = stmt
        .query_map(
            params![account.0, query.cursor, query.status.map(OrderStatus::as_str), exception_kind, escaped, limit + 1],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
        )
        .map_err(storage_error)?
        .collect::<Result<_, _>>()
        .map_err(storage_error)?;
    let more = rows.len() as i64 > limit;
    let mut orders = Vec::new();
    let mut last_id = None;
    for (id, number, channel, status, placed_at, promised_by, name, shipments, open) in
        rows.into_iter().take(limit as usize)
    {
        last_id = Some(id);
        orders.push(OrderSummary {
            order_number: OrderNumber::parse(&number).map_err(|e| corrupt("order number", e))?,
            channel,
            status: OrderStatus::parse(&status).ok_or_else(|| corrupt("order status", &status))?,
            placed_at: parse_time(&placed_at)?,
            promised_by: promised_by.as_deref().map(parse_time).transpose()?,
            customer_name: name,
            shipments,
            open_exceptions: open,
        });
    }
    Ok(OrderPage { orders, next_cursor: if more { last_id } else { None } })
}

//! Write transactions, for both engines. Every function here runs inside the write transaction
//! its engine opened (a savepoint of SQLite's group commit, or one serializable PostgreSQL
//! transaction), and recomputes the statuses its writes move
//! (shipment projection, then order roll-up) before returning, so status is never stale.

use super::outbox;
use super::reads;
use super::rows::{event_columns, event_from_row, exec, row};
use super::rules;
use super::storage_error;
use crate::db::{Connection, OptionalExtension, Param, params, params_from_iter};
use crate::{AccountId, EventOutcome, EventTarget, NewEvent, ShipmentRecord, StoreError, StoreResult, UpsertOutcome};
use milepost_domain::exceptions::RuleSettings;
use milepost_domain::milestone::MilestoneScope;
use milepost_domain::notify::{NotificationPolicy, ParcelView};
use milepost_domain::rollup::{RolledShipment, roll_up_order};
use milepost_domain::shipment::{assign_shipment_items, shipment_status_name};
use milepost_domain::timeline::{ProjectionScope, TimelineProjection, project_timeline};
use milepost_domain::{
    AccountName, Direction, EventSource, LineItem, Location, Milestone, Money, Order, OrderNumber, Role, Shipment,
    ShipmentItem, SourceOfTruth, TrackingEvent,
};
use std::collections::{BTreeSet, HashMap, HashSet};

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339()
}

pub fn ensure_account(conn: &Connection, name: &AccountName) -> StoreResult<AccountId> {
    exec(
        conn,
        "INSERT INTO accounts (name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
        params![name.as_str(), now_text()],
    )
    .map_err(storage_error)?;
    row(conn, "SELECT id FROM accounts WHERE name = ?1", [name.as_str()], |r| r.get(0))
        .map(AccountId)
        .map_err(storage_error)
}

pub fn insert_api_key(conn: &Connection, account: AccountId, role: Role, hash: &str, prefix: &str) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO api_keys (account_id, role, key_hash, key_prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![account.0, role.as_str(), hash, prefix, now_text()],
    )
    .map_err(storage_error)?;
    Ok(())
}

fn order_id(conn: &Connection, account: AccountId, number: &OrderNumber) -> StoreResult<Option<i64>> {
    row(
        conn,
        "SELECT id FROM orders WHERE account_id = ?1 AND order_number = ?2",
        params![account.0, number.as_str()],
        |r| r.get(0),
    )
    .optional()
    .map_err(storage_error)
}

pub fn upsert_order(
    conn: &Connection,
    truth: &SourceOfTruth,
    account: AccountId,
    order: &Order,
) -> StoreResult<UpsertOutcome> {
    let now = now_text();
    let existing = order_id(conn, account, &order.order_number)?;
    let c = &order.customer;
    let a = &order.ship_to;
    let promised = order.promised_by.map(|p| p.to_rfc3339());
    // One statement for both cases: a new order is inserted, a known one has every field
    // replaced (status and created_at stay; the roll-up below recomputes the status).
    let id: i64 = row(
        conn,
        "INSERT INTO orders (account_id, order_number, channel, placed_at, placed_at_us, promised_by, currency,
            value_e4, customer_name, customer_email, customer_phone, customer_postal_code, ship_to_line1,
            ship_to_line2, ship_to_city, ship_to_region, ship_to_postal_code, ship_to_country, charged_e4, status,
            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?20, 'placed', ?19, ?19)
         ON CONFLICT (account_id, order_number) DO UPDATE SET
            channel = excluded.channel, placed_at = excluded.placed_at, placed_at_us = excluded.placed_at_us,
            promised_by = excluded.promised_by, currency = excluded.currency, value_e4 = excluded.value_e4,
            customer_name = excluded.customer_name, customer_email = excluded.customer_email,
            customer_phone = excluded.customer_phone, customer_postal_code = excluded.customer_postal_code,
            ship_to_line1 = excluded.ship_to_line1, ship_to_line2 = excluded.ship_to_line2,
            ship_to_city = excluded.ship_to_city, ship_to_region = excluded.ship_to_region,
            ship_to_postal_code = excluded.ship_to_postal_code, ship_to_country = excluded.ship_to_country,
            charged_e4 = excluded.charged_e4, updated_at = excluded.updated_at
         RETURNING id",
        params![
            account.0,
            order.order_number.as_str(),
            order.channel.as_str(),
            order.placed_at.to_rfc3339(),
            order.placed_at.timestamp_micros(),
            promised,
            order.currency,
            order.value().ten_thousandths(),
            c.name,
            c.email,
            c.phone,
            c.postal_code,
            a.line1,
            a.line2,
            a.city,
            a.region,
            a.postal_code,
            a.country,
            now,
            order.charged.map(Money::ten_thousandths)
        ],
        |r| r.get(0),
    )
    .map_err(storage_error)?;
    let outcome = if existing.is_some() {
        exec(conn, "DELETE FROM order_items WHERE order_id = ?1", [id]).map_err(storage_error)?;
        // The promise or address may have changed: the parcels' rules are due again.
        rules::mark_due(conn, "order_id", id)?;
        UpsertOutcome::Updated
    } else {
        UpsertOutcome::Created
    };
    for (line_no, item) in order.items.iter().enumerate() {
        exec(conn,
            "INSERT INTO order_items (order_id, line_no, sku, description, quantity, unit_price_e4) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, line_no as i64, item.sku, item.description, item.quantity, item.unit_price.ten_thousandths()],
        )
        .map_err(storage_error)?;
    }
    // The order's own record starts with `placed`, from the channel, at the time it was placed.
    let placed = TrackingEvent {
        source: EventSource::Channel,
        source_event_id: Some(format!("order:{}:placed", order.order_number)),
        milestone: Some(Milestone::Placed),
        code: None,
        description: Some(format!("Order placed via {}", order.channel.as_str())),
        occurred_at: order.placed_at,
        received_at: chrono::Utc::now(),
        location: None,
    };
    let placement =
        Placement { scope: format!("o:{id}"), order_id: Some(id), shipment_id: None, tracking_number: None };
    let placed = NewEvent {
        carrier_estimate: None,
        target: EventTarget::Order { order_number: order.order_number.clone(), shipment: None },
        carrier: None,
        mapping: crate::MappingState::Given,
        event: placed,
        raw: None,
    };
    insert_placed_events(conn, &[EventRow::new(account, &placement, &placed)])?;
    recompute_order(conn, truth, id)?;
    Ok(outcome)
}

pub fn add_shipment(
    conn: &Connection,
    truth: &SourceOfTruth,
    policy: &NotificationPolicy,
    account: AccountId,
    order_number: &OrderNumber,
    shipment: &Shipment,
) -> StoreResult<ShipmentRecord> {
    let order_id =
        order_id(conn, account, order_number)?.ok_or_else(|| StoreError::NotFound(format!("order {order_number}")))?;
    let existing: Option<(i64, i64)> = row(
        conn,
        "SELECT id, order_id FROM shipments WHERE account_id = ?1 AND tracking_number = ?2",
        params![account.0, shipment.tracking_number.as_str()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .map_err(storage_error)?;
    if let Some((shipment_id, owner)) = existing {
        if owner != order_id {
            return Err(StoreError::Conflict(format!(
                "tracking number {} is already registered on another order",
                shipment.tracking_number
            )));
        }
        // Registering the same parcel again is idempotent: answer with what is stored.
        return reads::shipment_by_id(conn, truth, shipment_id);
    }

    let order = reads::load_order(conn, order_id)?;
    let items = match shipment.direction {
        Direction::Outbound => {
            let others = reads::shipment_items_of_order(conn, order_id, Direction::Outbound)?;
            let other_refs: Vec<&[ShipmentItem]> = others.iter().map(Vec::as_slice).collect();
            assign_shipment_items(&order, &other_refs, &shipment.items)
                .map_err(|e| StoreError::Invalid { field: "items".into(), message: e.to_string() })?
        }
        Direction::Return => {
            for item in &shipment.items {
                if order.ordered_quantity(&item.sku) < item.quantity {
                    return Err(StoreError::Invalid {
                        field: "items".into(),
                        message: format!("sku `{}`: more returned than ordered", item.sku),
                    });
                }
            }
            shipment.items.clone()
        }
    };

    let shipment_id: i64 = row(
        conn,
        "INSERT INTO shipments (account_id, order_id, tracking_number, carrier, service, direction, origin_location_id,
            origin_postal_code, origin_country, label_cost_e4, handling_cost_e4, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', ?12) RETURNING id",
        params![
            account.0,
            order_id,
            shipment.tracking_number.as_str(),
            shipment.carrier,
            shipment.service,
            shipment.direction.as_str(),
            shipment.origin_location_id,
            shipment.origin_postal_code,
            shipment.origin_country,
            shipment.label_cost.map(Money::ten_thousandths),
            shipment.handling_cost.map(Money::ten_thousandths),
            now_text()
        ],
        |r| r.get(0),
    )
    .map_err(storage_error)?;
    for item in &items {
        exec(
            conn,
            "INSERT INTO shipment_items (shipment_id, sku, quantity) VALUES (?1, ?2, ?3)",
            params![shipment_id, item.sku, item.quantity],
        )
        .map_err(storage_error)?;
    }
    // Events that arrived before the parcel was registered attach now.
    exec(conn,
        "UPDATE events SET shipment_id = ?1, order_id = ?2 WHERE account_id = ?3 AND scope = ?4 AND shipment_id IS NULL",
        params![shipment_id, order_id, account.0, format!("t:{}", shipment.tracking_number)],
    )
    .map_err(storage_error)?;
    let projection = recompute_shipment(conn, truth, shipment_id)?;
    recompute_order(conn, truth, order_id)?;
    rules::mark_due(conn, "id", shipment_id)?;
    // Events that waited for this parcel may already mean something to the customer.
    let now: Option<String> =
        row(conn, "SELECT MAX(received_at) FROM events WHERE shipment_id = ?1", [shipment_id], |r| r.get(0))
            .map_err(storage_error)?;
    let events_waited = now.is_some();
    let now = now.as_deref().map(super::rows::parse_utc).transpose()?.unwrap_or_else(chrono::Utc::now);
    outbox::on_parcel_change(conn, policy, shipment_id, ParcelView::default(), now)?;
    // Milepost's first window, when events that waited for the parcel say what time it is (the
    // store has no clock of its own; otherwise the parcel's first event publishes it).
    if events_waited {
        super::eta::on_parcel_change(conn, shipment_id, &projection, now)?;
    }
    reads::shipment_by_id(conn, truth, shipment_id)
}

/// Where an event goes: its duplicate scope and the rows it attaches to.
struct Placement {
    scope: String,
    order_id: Option<i64>,
    shipment_id: Option<i64>,
    tracking_number: Option<String>,
}

/// Parcels already looked up in this batch, by tracking number: a carrier batch carries many
/// events per parcel, and no parcel is registered in the middle of a batch.
type ParcelCache = HashMap<String, Option<(i64, i64)>>;

fn place_event(
    conn: &Connection,
    account: AccountId,
    new: &NewEvent,
    parcels: &mut ParcelCache,
) -> StoreResult<Result<Placement, EventOutcome>> {
    match &new.target {
        EventTarget::Tracking(tn) => {
            let found: Option<(i64, i64)> = match parcels.get(tn.as_str()) {
                Some(found) => *found,
                None => {
                    let found = row(
                        conn,
                        "SELECT id, order_id FROM shipments WHERE account_id = ?1 AND tracking_number = ?2",
                        params![account.0, tn.as_str()],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(storage_error)?;
                    parcels.insert(tn.as_str().to_string(), found);
                    found
                }
            };
            Ok(Ok(Placement {
                scope: format!("t:{tn}"),
                order_id: found.map(|f| f.1),
                shipment_id: found.map(|f| f.0),
                tracking_number: Some(tn.as_str().to_string()),
            }))
        }
        EventTarget::Order { order_number, shipment } => {
            let Some(order_id) = order_id(conn, account, order_number)? else {
                return Ok(Err(EventOutcome::Rejected {
                    field: "order_number".into(),
                    reason: format!("unknown order {order_number}"),
                }));
            };
            let parcel: Option<(i64, String)> = match shipment {
                Some(wanted) => {
                    let found = row(
                        conn,
                        "SELECT id, tracking_number FROM shipments
                             WHERE order_id = ?1 AND (tracking_number = upper(?2) OR CAST(id AS TEXT) = ?2)",
                        params![order_id, wanted],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(storage_error)?;
                    if found.is_none() {
                        return Ok(Err(EventOutcome::Rejected {
                            field: "shipment".into(),
                            reason: format!("order {order_number} has no shipment {wanted}"),
                        }));
                    }
                    found
                }
                // A parcel step reported by order number alone belongs to the order's parcel
                // when it has exactly one; otherwise it stays on the order's own record.
                None if new.event.milestone.is_some_and(|m| m.scope() == MilestoneScope::Shipment) => {
                    let mut stmt = conn
                        .prepare("SELECT id, tracking_number FROM shipments WHERE order_id = ?1 AND direction = 'outbound' LIMIT 2")
                        .map_err(storage_error)?;
                    let parcels: Vec<(i64, String)> = stmt
                        .query_map([order_id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(storage_error)?
                        .collect::<Result<_, _>>()
                        .map_err(storage_error)?;
                    if parcels.len() == 1 { parcels.into_iter().next() } else { None }
                }
                None => None,
            };
            Ok(Ok(match parcel {
                Some((id, tn)) => Placement {
                    scope: format!("t:{tn}"),
                    order_id: Some(order_id),
                    shipment_id: Some(id),
                    tracking_number: Some(tn),
                },
                None => Placement {
                    scope: format!("o:{order_id}"),
                    order_id: Some(order_id),
                    shipment_id: None,
                    tracking_number: None,
                },
            }))
        }
    }
}

/// One placed event as its row is stored.
struct EventRow<'a> {
    account: i64,
    placement: &'a Placement,
    new: &'a NewEvent,
    source: &'static str,
    milestone: Option<&'static str>,
    mapping: &'static str,
    occurred_at: String,
    occurred_at_us: i64,
    received_at: String,
    location: Location,
    fact_key: String,
}

/// The event columns in the order `EventRow::params` gives them.
const EVENT_INSERT_COLUMNS: &str = "account_id, scope, order_id, shipment_id, tracking_number, source, \
    source_event_id, carrier, code, description, milestone, mapping, occurred_at, occurred_at_us, received_at, city, \
    region, postal_code, country, fact_key, raw";
const EVENT_INSERT_WIDTH: usize = 21;
/// Rows per multi-row INSERT on PostgreSQL, which takes at most 65,535 parameters in one
/// statement.
const EVENTS_PER_INSERT: usize = 1000;

impl<'a> EventRow<'a> {
    fn new(account: AccountId, placement: &'a Placement, new: &'a NewEvent) -> Self {
        let event = &new.event;
        EventRow {
            account: account.0,
            placement,
            new,
            source: event.source.as_str(),
            milestone: event.milestone.map(Milestone::as_str),
            mapping: new.mapping.as_str(),
            occurred_at: event.occurred_at.to_rfc3339(),
            occurred_at_us: event.occurred_at_utc().timestamp_micros(),
            received_at: event.received_at.to_rfc3339(),
            location: event.location.clone().unwrap_or_default(),
            fact_key: event.fact_key(),
        }
    }

    fn params(&self) -> [&dyn Param; EVENT_INSERT_WIDTH] {
        let (placement, event) = (self.placement, &self.new.event);
        [
            &self.account,
            &placement.scope,
            &placement.order_id,
            &placement.shipment_id,
            &placement.tracking_number,
            &self.source,
            &event.source_event_id,
            &self.new.carrier,
            &event.code,
            &event.description,
            &self.milestone,
            &self.mapping,
            &self.occurred_at,
            &self.occurred_at_us,
            &self.received_at,
            &self.location.city,
            &self.location.region,
            &self.location.postal_code,
            &self.location.country,
            &self.fact_key,
            &self.new.raw,
        ]
    }
}

/// Stores a batch's placed events unless they are duplicates (rule 4) and says, per event in
/// order, whether it was new; a duplicate only bumps the stored event's counter. SQLite inserts
/// them one by one through one cached statement (no round trips to save); PostgreSQL with
/// multi-row INSERTs, one round trip per thousand events instead of one per event.
fn insert_placed_events(conn: &Connection, rows: &[EventRow<'_>]) -> StoreResult<Vec<bool>> {
    let mut inserted = Vec::with_capacity(rows.len());
    if conn.dialect() == crate::sql::Dialect::Sqlite {
        let sql = format!(
            "INSERT INTO events ({EVENT_INSERT_COLUMNS}) VALUES ({}) ON CONFLICT DO NOTHING",
            (1..=EVENT_INSERT_WIDTH).map(|c| format!("?{c}")).collect::<Vec<_>>().join(", ")
        );
        for event in rows {
            let new = exec(conn, &sql, &event.params()[..]).map_err(storage_error)? == 1;
            if !new {
                count_duplicate(conn, event)?;
            }
            inserted.push(new);
        }
        return Ok(inserted);
    }
    let mut stored: HashSet<(String, String)> = HashSet::new();
    for chunk in rows.chunks(EVENTS_PER_INSERT) {
        let slots: Vec<String> = (0..chunk.len())
            .map(|r| {
                let first = r * EVENT_INSERT_WIDTH;
                let slots: Vec<String> = (1..=EVENT_INSERT_WIDTH).map(|c| format!("?{}", first + c)).collect();
                format!("({})", slots.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO events ({EVENT_INSERT_COLUMNS}) VALUES {} ON CONFLICT DO NOTHING RETURNING scope, fact_key",
            slots.join(", ")
        );
        let values = params_from_iter(chunk.iter().flat_map(|event| event.params().map(crate::sql::ToValue::to_value)));
        let mut stmt = conn.prepare(&sql).map_err(storage_error)?;
        for row in stmt.query_map(values, |r| Ok((r.get(0)?, r.get(1)?))).map_err(storage_error)? {
            stored.insert(row.map_err(storage_error)?);
        }
    }
    for event in rows {
        // The first event of the batch with a stored (scope, fact) is the one that was stored.
        let new = stored.remove(&(event.placement.scope.clone(), event.fact_key.clone()));
        if !new {
            count_duplicate(conn, event)?;
        }
        inserted.push(new);
    }
    Ok(inserted)
}

/// Counts one more sighting of a stored fact that a unique index refused to store again: the
/// same sender's event id, or the same fact in this scope. The new event is the common case,
/// so the duplicate is looked up only after the insert.
fn count_duplicate(conn: &Connection, event: &EventRow<'_>) -> StoreResult<()> {
    let by_source_id = match &event.new.event.source_event_id {
        Some(id) => row(
            conn,
            "SELECT id FROM events WHERE account_id = ?1 AND source = ?2 AND source_event_id = ?3",
            params![event.account, event.source, id],
            |r| r.get(0),
        )
        .optional()
        .map_err(storage_error)?,
        None => None,
    };
    let existing: i64 = match by_source_id {
        Some(id) => id,
        None => row(
            conn,
            "SELECT id FROM events WHERE account_id = ?1 AND scope = ?2 AND fact_key = ?3",
            params![event.account, event.placement.scope, event.fact_key],
            |r| r.get(0),
        )
        .map_err(storage_error)?,
    };
    exec(conn, "UPDATE events SET duplicate_count = duplicate_count + 1 WHERE id = ?1", [existing])
        .map_err(storage_error)?;
    Ok(())
}

pub fn append_events(
    conn: &Connection,
    truth: &SourceOfTruth,
    settings: &RuleSettings,
    policy: &NotificationPolicy,
    account: AccountId,
    events: &[NewEvent],
) -> StoreResult<Vec<EventOutcome>> {
    // The batch was received at one moment by the caller's clock: the rules run at that time.
    let now = events.iter().map(|e| e.event.received_at).max().unwrap_or_else(chrono::Utc::now);
    let mut outcomes = Vec::with_capacity(events.len());
    let mut dirty_shipments = BTreeSet::new();
    let mut dirty_orders = BTreeSet::new();
    let mut estimates = std::collections::BTreeMap::new();
    let mut parcels = ParcelCache::new();
    // Every event is placed first (no parcel is registered in the middle of a batch), then the
    // placed ones are stored together.
    let mut placements = Vec::with_capacity(events.len());
    for new in events {
        placements.push(place_event(conn, account, new, &mut parcels)?);
    }
    let rows: Vec<EventRow<'_>> = placements
        .iter()
        .zip(events)
        .filter_map(|(placement, new)| placement.as_ref().ok().map(|p| EventRow::new(account, p, new)))
        .collect();
    let mut inserted = insert_placed_events(conn, &rows)?.into_iter();
    for (placement, new) in placements.iter().zip(events) {
        let placement = match placement {
            Ok(p) => p,
            Err(rejected) => {
                outcomes.push(rejected.clone());
                continue;
            }
        };
        let inserted = inserted.next().unwrap_or(false);
        if inserted {
            if let Some(id) = placement.shipment_id {
                dirty_shipments.insert(id);
                if let Some(day) = new.carrier_estimate {
                    // Carriers repeat the estimate on every scan: keep the newest per parcel and
                    // write it once after the batch.
                    let given_at = new.event.occurred_at;
                    estimates
                        .entry(id)
                        .and_modify(|kept: &mut (chrono::NaiveDate, chrono::DateTime<chrono::FixedOffset>)| {
                            if given_at >= kept.1 {
                                *kept = (day, given_at);
                            }
                        })
                        .or_insert((day, given_at));
                }
            }
            if let Some(id) = placement.order_id {
                dirty_orders.insert(id);
                if placement.shipment_id.is_none() {
                    // An order-level change (say, a cancellation) can change what its parcels owe.
                    rules::mark_due(conn, "order_id", id)?;
                }
            }
            outcomes.push(EventOutcome::Accepted);
        } else {
            outcomes.push(EventOutcome::Duplicate);
        }
    }
    // The outbox rows are decided from each parcel's status before and after the whole batch,
    // after the exception rules ran, so internal alerts are queued before customer notices.
    for (id, (day, given_at)) in estimates {
        super::eta::record_carrier_estimate(conn, id, day, given_at)?;
    }
    for id in dirty_shipments {
        let before = outbox::parcel_view(conn, id)?;
        let projection = recompute_shipment(conn, truth, id)?;
        rules::evaluate(conn, settings, policy, id, &projection, now)?;
        super::returns::on_return_parcel(conn, policy, id, &projection, now)?;
        super::eta::on_parcel_change(conn, id, &projection, now)?;
        outbox::on_parcel_change(conn, policy, id, before, now)?;
        outbox::after_rules(conn, policy, id, now)?;
    }
    for id in dirty_orders {
        let own_status = recompute_order(conn, truth, id)?;
        outbox::on_order_change(conn, policy, id, own_status, now)?;
    }
    Ok(outcomes)
}

/// One shipment's stored events, each with whether its code is unmapped and its duplicates.
pub(crate) fn shipment_events(conn: &Connection, shipment_id: i64) -> StoreResult<Vec<(TrackingEvent, bool, u32)>> {
    events_where(conn, concat!("SELECT ", event_columns!(), " FROM events WHERE shipment_id = ?1"), shipment_id)
}

/// The events of an order itself (placed, confirmed, cancelled), not of its parcels.
pub(crate) fn order_own_events(conn: &Connection, order_id: i64) -> StoreResult<Vec<(TrackingEvent, bool, u32)>> {
    let sql = concat!("SELECT ", event_columns!(), " FROM events WHERE order_id = ?1 AND shipment_id IS NULL");
    events_where(conn, sql, order_id)
}

fn events_where(conn: &Connection, sql: &str, id: i64) -> StoreResult<Vec<(TrackingEvent, bool, u32)>> {
    let mut stmt = conn.prepare_cached(sql).map_err(storage_error)?;
    let rows = stmt.query_map([id], event_from_row).map_err(storage_error)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(storage_error)
}

/// Re-projects one shipment from its stored events and saves its status.
pub(crate) fn recompute_shipment(
    conn: &Connection,
    truth: &SourceOfTruth,
    shipment_id: i64,
) -> StoreResult<TimelineProjection> {
    let events: Vec<TrackingEvent> = shipment_events(conn, shipment_id)?.into_iter().map(|e| e.0).collect();
    let projection = project_timeline(&events, truth, ProjectionScope::Shipment);
    exec(
        conn,
        "UPDATE shipments SET status = ?2, status_since_us = ?3, first_possession_us = ?4 WHERE id = ?1",
        params![
            shipment_id,
            shipment_status_name(projection.status),
            projection.status_since.map(|t| t.timestamp_micros()),
            projection.first_carrier_possession_at.map(|t| t.timestamp_micros())
        ],
    )
    .map_err(storage_error)?;
    Ok(projection)
}

/// Rolls one order up from its items, shipments and own events and saves its status; returns
/// the status of the order's own events (placed, confirmed, cancelled).
pub(crate) fn recompute_order(
    conn: &Connection,
    truth: &SourceOfTruth,
    order_id: i64,
) -> StoreResult<Option<Milestone>> {
    let items: Vec<LineItem> = reads::order_items(conn, order_id)?;
    let parcels = reads::parcels_of_order(conn, order_id)?;
    let order_events: Vec<TrackingEvent> = order_own_events(conn, order_id)?.into_iter().map(|e| e.0).collect();
    let own = project_timeline(&order_events, truth, ProjectionScope::Order);
    let rolled: Vec<RolledShipment<'_>> = parcels
        .iter()
        .map(|p| RolledShipment {
            direction: p.direction,
            items: &p.items,
            status: p.status,
            had_carrier_possession: p.had_carrier_possession,
        })
        .collect();
    let roll_up = roll_up_order(&items, &rolled, own.status);
    exec(
        conn,
        "UPDATE orders SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![order_id, roll_up.status.as_str(), now_text()],
    )
    .map_err(storage_error)?;
    Ok(own.status)
}

//! Facts for the KPI figures: per order placed in a period, its promise, channel, when it
//! shipped and arrived, each parcel's carrier, cost and failed attempts, its exceptions and its
//! return reasons. The formulas live in `milepost_domain::kpi`.

use super::rows::{from_micros, parse_time, parse_utc};
use super::storage_error;
use crate::db::{Connection, params};
use crate::{AccountId, StoreResult};
use chrono::{DateTime, Utc};
use milepost_domain::Money;
use milepost_domain::kpi::{ExceptionKpiFacts, OrderKpiFacts, ShipmentKpiFacts};

pub fn kpi_facts(
    conn: &Connection,
    account: AccountId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<OrderKpiFacts>> {
    let orders: Vec<(i64, String, Option<String>, String, String)> = {
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, placed_at, promised_by, channel, status FROM orders
                 WHERE account_id = ?1 AND placed_at_us >= ?2 AND placed_at_us < ?3 ORDER BY placed_at_us",
            )
            .map_err(storage_error)?;
        let rows = stmt
            .query_map(params![account.0, from.timestamp_micros(), to.timestamp_micros()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(storage_error)?;
        rows.collect::<Result<_, _>>().map_err(storage_error)?
    };
    let mut parcels_stmt = conn
        .prepare_cached(
            "SELECT s.carrier, s.service, s.origin_location_id, COALESCE(s.label_cost_e4, 0) + COALESCE(s.handling_cost_e4, 0),
                    s.status, s.status_since_us, s.first_possession_us,
                    (SELECT COUNT(*) FROM events e WHERE e.shipment_id = s.id AND e.milestone = 'delivery_attempted'),
                    s.eta_possession_earliest, s.eta_possession_latest
             FROM shipments s WHERE s.order_id = ?1 AND s.direction = 'outbound' ORDER BY s.id",
        )
        .map_err(storage_error)?;
    let mut exceptions_stmt = conn
        .prepare_cached("SELECT kind, opened_at, closed_at FROM exceptions WHERE order_id = ?1 ORDER BY id")
        .map_err(storage_error)?;
    // Reasons of returns that still hold their items (a rejected return does not count).
    let mut reasons_stmt = conn
        .prepare_cached(
            "SELECT i.reason FROM return_items i JOIN returns r ON r.id = i.return_id
             WHERE r.order_id = ?1 AND r.state <> 'rejected' ORDER BY r.id, i.line_no",
        )
        .map_err(storage_error)?;
    // Customer messages sent about the order (DESIGN §7 "customer messages per order").
    let mut messages_stmt = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM notifications WHERE order_id = ?1 AND audience = 'customer' AND state = 'sent'",
        )
        .map_err(storage_error)?;
    let mut facts = Vec::with_capacity(orders.len());
    for (id, placed_at, promised_by, channel, status) in orders {
        type ParcelRow = (
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            String,
            Option<i64>,
            Option<i64>,
            u32,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<ParcelRow> = parcels_stmt
            .query_map([id], |r| r.tuple())
            .map_err(storage_error)?
            .collect::<Result<_, _>>()
            .map_err(storage_error)?;
        let mut shipped_at: Option<DateTime<Utc>> = None;
        let mut shipments = Vec::with_capacity(rows.len());
        for (carrier, service, warehouse, cost, parcel_status, since, possession, attempts, eta_from, eta_to) in rows {
            let possession = possession.map(from_micros);
            shipped_at = match (shipped_at, possession) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            shipments.push(ShipmentKpiFacts {
                carrier,
                service,
                warehouse,
                cost: Money::from_ten_thousandths(cost),
                delivered_at: (parcel_status == "delivered").then(|| since.map(from_micros)).flatten(),
                failed_attempts: attempts,
                eta_at_possession: match (eta_from, eta_to) {
                    (Some(from), Some(to)) => Some((parse_utc(&from)?, parse_utc(&to)?)),
                    _ => None,
                },
            });
        }
        let delivered_at =
            (status == "delivered").then(|| shipments.iter().filter_map(|s| s.delivered_at).max()).flatten();
        let exceptions: Vec<(String, String, Option<String>)> = exceptions_stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(storage_error)?
            .collect::<Result<_, _>>()
            .map_err(storage_error)?;
        facts.push(OrderKpiFacts {
            placed_at: parse_utc(&placed_at)?,
            promised_by: promised_by.as_deref().map(parse_time).transpose()?.map(|t| t.with_timezone(&Utc)),
            channel,
            shipped_at,
            delivered_at,
            shipments,
            exceptions: exceptions
                .into_iter()
                .map(|(kind, opened, closed)| {
                    Ok(ExceptionKpiFacts {
                        kind,
                        opened_at: parse_utc(&opened)?,
                        resolved_at: closed.as_deref().map(parse_utc).transpose()?,
                    })
                })
                .collect::<StoreResult<_>>()?,
            return_reasons: reasons_stmt
                .query_map([id], |r| r.get(0))
                .map_err(storage_error)?
                .collect::<Result<_, _>>()
                .map_err(storage_error)?,
            customer_messages: row_count(messages_stmt.query_row([id], |r| r.get::<_, i64>(0)).map_err(storage_error)?),
        });
    }
    Ok(facts)
}

fn row_count(count: i64) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

//! Reads of the dashboard's data cleanup page: parcels that went quiet (no event for days while
//! not delivered) and facts that senders keep resending, by source and station, which point at
//! a scanner or an integration that needs attention.

use crate::db::Connection;
use crate::sql::values;
use crate::{AccountId, StoreResult};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Parcels of the account not in a final state whose newest event happened before
/// `stale_before` (or that never had one), oldest first.
pub fn stale_shipments(
    conn: &Connection,
    account: AccountId,
    stale_before: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<crate::StaleShipment>> {
    conn.query(
        "SELECT o.order_number, s.tracking_number, s.carrier, s.status,
                (SELECT MAX(e.occurred_at_us) FROM events e WHERE e.shipment_id = s.id) AS last_us
         FROM shipments s JOIN orders o ON o.id = s.order_id
         WHERE s.account_id = ?1 AND s.status NOT IN ('delivered', 'returned_to_sender', 'cancelled')
           AND COALESCE((SELECT MAX(e.occurred_at_us) FROM events e WHERE e.shipment_id = s.id), 0) < ?2
         ORDER BY last_us ASC, s.id ASC LIMIT ?3",
        values![account.0, stale_before.timestamp_micros(), limit],
    )?
    .into_iter()
    .map(|r| {
        Ok(crate::StaleShipment {
            order_number: r.get(0)?,
            tracking_number: r.get(1)?,
            carrier: r.get(2)?,
            status: r.get(3)?,
            last_event_at: r.get::<Option<i64>>(4)?.and_then(DateTime::from_timestamp_micros),
        })
    })
    .collect()
}

/// Resent facts grouped by source and station (a scan's station from its raw payload, else the
/// event's city), most resent first. The station is read from the payload here rather than in
/// SQL because the engines disagree on JSON (PostgreSQL 15 cannot test whether a text column
/// holds valid JSON without failing the whole query); only resent events are read, a small set.
pub fn duplicate_scans(conn: &Connection, account: AccountId) -> StoreResult<Vec<crate::DuplicateScans>> {
    let rows = conn.query(
        "SELECT source, raw, city, duplicate_count FROM events WHERE account_id = ?1 AND duplicate_count > 0",
        values![account.0],
    )?;
    let mut groups: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for r in rows {
        let raw: Option<String> = r.get(1)?;
        let city: Option<String> = r.get(2)?;
        let station = raw
            .and_then(|raw| serde_json::from_str::<serde_json::Value>(&raw).ok())
            .and_then(|json| match json.get("station")? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .or(city)
            .unwrap_or_default();
        let group = groups.entry((r.get(0)?, station)).or_default();
        group.0 += 1;
        group.1 += r.get::<i64>(3)?.max(0) as u64;
    }
    let mut scans: Vec<crate::DuplicateScans> = groups
        .into_iter()
        .map(|((source, station), (events, duplicates))| crate::DuplicateScans { source, station, events, duplicates })
        .collect();
    scans.sort_by(|a, b| {
        b.duplicates.cmp(&a.duplicates).then_with(|| a.source.cmp(&b.source)).then_with(|| a.station.cmp(&b.station))
    });
    scans.truncate(100);
    Ok(scans)
}

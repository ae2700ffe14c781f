//! Reads of the dashboard's data cleanup page: parcels that went quiet (no event for days while
//! not delivered) and facts that senders keep resending, by source and station, which point at
//! a scanner or an integration that needs attention.

use super::compat::{Connection, params};
use super::storage_error;
use crate::{AccountId, StoreResult};
use chrono::{DateTime, Utc};

/// Parcels of the account not in a final state whose newest event happened before
/// `stale_before` (or that never had one), oldest first.
pub fn stale_shipments(
    conn: &Connection,
    account: AccountId,
    stale_before: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<crate::StaleShipment>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT o.order_number, s.tracking_number, s.carrier, s.status,
                    (SELECT MAX(e.occurred_at_us) FROM events e WHERE e.shipment_id = s.id) AS last_us
             FROM shipments s JOIN orders o ON o.id = s.order_id
             WHERE s.account_id = $1 AND s.status NOT IN ('delivered', 'returned_to_sender', 'cancelled')
               AND COALESCE((SELECT MAX(e.occurred_at_us) FROM events e WHERE e.shipment_id = s.id), 0) < $2
             ORDER BY last_us ASC, s.id ASC LIMIT $3",
        )
        .map_err(storage_error)?;
    let rows = stmt
        .query_map(params![account.0, stale_before.timestamp_micros(), limit], |r| {
            let last: Option<i64> = r.get(4)?;
            Ok(crate::StaleShipment {
                order_number: r.get(0)?,
                tracking_number: r.get(1)?,
                carrier: r.get(2)?,
                status: r.get(3)?,
                last_event_at: last.and_then(DateTime::from_timestamp_micros),
            })
        })
        .map_err(storage_error)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(storage_error)
}

/// Resent facts grouped by source and station (a scan's station, else the event's city). The
/// station is read from the raw payload here rather than in SQL, because PostgreSQL 15 cannot
/// test whether a text column holds valid JSON without failing the whole query; only resent
/// events are read, which is a small set.
pub fn duplicate_scans(conn: &Connection, account: AccountId) -> StoreResult<Vec<crate::DuplicateScans>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT source, raw, city, duplicate_count FROM events WHERE account_id = $1 AND duplicate_count > 0",
        )
        .map_err(storage_error)?;
    let rows = stmt
        .query_map([account.0], |r| {
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
            Ok((r.get::<_, String>(0)?, station, r.get::<_, i64>(3)?))
        })
        .map_err(storage_error)?;
    let mut groups: std::collections::BTreeMap<(String, String), (u64, u64)> = Default::default();
    for row in rows {
        let (source, station, duplicates) = row.map_err(storage_error)?;
        let group = groups.entry((source, station)).or_default();
        group.0 += 1;
        group.1 += duplicates.max(0) as u64;
    }
    let mut scans: Vec<crate::DuplicateScans> = groups
        .into_iter()
        .map(|((source, station), (events, duplicates))| crate::DuplicateScans { source, station, events, duplicates })
        .collect();
    // Most resent first, then by source and station, as the SQLite query orders them.
    scans.sort_by(|a, b| {
        b.duplicates.cmp(&a.duplicates).then_with(|| a.source.cmp(&b.source)).then_with(|| a.station.cmp(&b.station))
    });
    scans.truncate(100);
    Ok(scans)
}

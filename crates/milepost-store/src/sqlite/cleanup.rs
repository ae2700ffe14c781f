//! Reads of the dashboard's data cleanup page: parcels that went quiet (no event for days while
//! not delivered) and facts that senders keep resending, by source and station, which point at
//! a scanner or an integration that needs attention.

use super::storage_error;
use crate::{AccountId, StoreResult};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

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
             WHERE s.account_id = ?1 AND s.status NOT IN ('delivered', 'returned_to_sender', 'cancelled')
               AND COALESCE((SELECT MAX(e.occurred_at_us) FROM events e WHERE e.shipment_id = s.id), 0) < ?2
             ORDER BY last_us ASC, s.id ASC LIMIT ?3",
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

/// Resent facts grouped by source and station (a scan's station, else the event's city).
pub fn duplicate_scans(conn: &Connection, account: AccountId) -> StoreResult<Vec<crate::DuplicateScans>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT source,
                    COALESCE(CASE WHEN json_valid(raw) THEN json_extract(raw, '$.station') END, city, '') AS station,
                    COUNT(*), SUM(duplicate_count)
             FROM events WHERE account_id = ?1 AND duplicate_count > 0
             GROUP BY 1, 2 ORDER BY 4 DESC, 1, 2 LIMIT 100",
        )
        .map_err(storage_error)?;
    let rows = stmt
        .query_map([account.0], |r| {
            let station: rusqlite::types::Value = r.get(1)?;
            let station = match station {
                rusqlite::types::Value::Text(t) => t,
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Real(f) => f.to_string(),
                _ => String::new(),
            };
            Ok(crate::DuplicateScans {
                source: r.get(0)?,
                station,
                events: r.get::<_, i64>(2)?.max(0) as u64,
                duplicates: r.get::<_, i64>(3)?.max(0) as u64,
            })
        })
        .map_err(storage_error)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(storage_error)
}

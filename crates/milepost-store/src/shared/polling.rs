//! Which parcels the carrier pollers should ask about now, and when to ask next.

use super::{from_micros, parse_utc};
use crate::db::Connection;
use crate::sql::{Value, values};
use crate::{AccountId, PollTarget, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use milepost_domain::{AccountName, Milestone};

const TARGET_SELECT: &str = "SELECT s.id, s.account_id, a.name, s.tracking_number, s.status, s.created_at,
        (SELECT MAX(e.occurred_at_us) FROM events e WHERE e.shipment_id = s.id AND e.source = 'carrier')
     FROM shipments s JOIN accounts a ON a.id = s.account_id WHERE ";

/// Parcels of `carrier` due for a poll: never polled, or due by `now`, and not terminal.
pub fn due_polls(conn: &Connection, carrier: &str, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<PollTarget>> {
    targets(
        conn,
        "s.carrier = ?1 AND (s.next_poll_us IS NULL OR s.next_poll_us <= ?2)
           AND s.status NOT IN ('delivered', 'returned_to_sender', 'cancelled')
         ORDER BY COALESCE(s.next_poll_us, 0), s.id LIMIT ?3",
        values![carrier, now.timestamp_micros(), limit],
    )
}

/// One parcel as the poller sees it, due or not.
pub fn poll_target(conn: &Connection, shipment_id: i64) -> StoreResult<Option<PollTarget>> {
    Ok(targets(conn, "s.id = ?1", values![shipment_id])?.pop())
}

fn targets(conn: &Connection, filter: &str, params: &[Value]) -> StoreResult<Vec<PollTarget>> {
    conn.query(&format!("{TARGET_SELECT}{filter}"), params)?
        .into_iter()
        .map(|r| {
            let name: String = r.get(2)?;
            let status: String = r.get(4)?;
            let created_at: String = r.get(5)?;
            Ok(PollTarget {
                shipment_id: r.get(0)?,
                account_id: AccountId(r.get(1)?),
                account_name: AccountName::parse(&name).map_err(|e| StoreError::Unexpected(e.to_string()))?,
                tracking_number: r.get(3)?,
                status: if status == "pending" { None } else { status.parse::<Milestone>().ok() },
                registered_at: parse_utc(&created_at)?,
                last_carrier_event_at: r.get::<Option<i64>>(6)?.map(from_micros),
            })
        })
        .collect()
}

/// Records when a parcel is next due (`None`: not again).
pub fn set_next_poll(conn: &Connection, shipment_id: i64, at: Option<DateTime<Utc>>) -> StoreResult<()> {
    // "Not again" is stored as the far future so the parcel drops out of the due index.
    let us = at.map(|t| t.timestamp_micros()).unwrap_or(i64::MAX);
    conn.execute("UPDATE shipments SET next_poll_us = ?2 WHERE id = ?1", values![shipment_id, us])?;
    Ok(())
}

//! Storage for ingest from the real world: integrations (webhook senders and their shared
//! secrets), each account's own carrier-code mappings with the re-normalization of stored events
//! they trigger (rule 6), the unmapped-code queue, barcode and EPC resolution, all-or-nothing
//! order imports and store platforms' order ids. Kept apart from `writes.rs`/`reads.rs` so the
//! core event path stays small; it reuses their recompute functions so status rules stay in one
//! place.

use super::rows::{EVENT_COLUMNS, event_from_row, parse_utc};
use super::storage_error;
use super::writes::{append_events, recompute_order, recompute_shipment, upsert_order};
use crate::db::{Connection, OptionalExtension, params};
use crate::{
    AccountId, CodeOverride, IntegrationRecord, NewEvent, Reference, Renormalized, StoreError, StoreResult,
    UnmappedCode, UpsertOutcome,
};
use milepost_domain::{AccountName, Milestone, Order, OrderNumber, SourceOfTruth, TrackingNumber};
use std::collections::BTreeSet;

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339()
}

pub fn insert_integration(
    conn: &Connection,
    account: AccountId,
    id: &str,
    kind: &str,
    secret: &str,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO integrations (id, account_id, kind, secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, account.0, kind, secret, now_text()],
    )
    .map_err(storage_error)?;
    Ok(())
}

pub fn integration(conn: &Connection, id: &str) -> StoreResult<Option<IntegrationRecord>> {
    let row: Option<(String, i64, String, String, String)> = conn
        .query_row(
            "SELECT i.id, a.id, a.name, i.kind, i.secret FROM integrations i JOIN accounts a ON a.id = i.account_id
             WHERE i.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .map_err(storage_error)?;
    row.map(|(id, account_id, name, kind, secret)| {
        Ok(IntegrationRecord {
            id,
            account_id: AccountId(account_id),
            account_name: AccountName::parse(&name).map_err(|e| StoreError::Unexpected(e.to_string()))?,
            kind,
            secret,
        })
    })
    .transpose()
}

pub fn unmapped_codes(conn: &Connection, account: AccountId) -> StoreResult<Vec<UnmappedCode>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT e.carrier, e.code, COUNT(*), MIN(e.received_at), MAX(e.received_at),
                    (SELECT d.description FROM events d
                      WHERE d.account_id = ?1 AND d.carrier = e.carrier AND d.code = e.code
                        AND d.mapping = 'unmapped' AND d.description IS NOT NULL
                      ORDER BY d.id DESC LIMIT 1)
             FROM events e
             WHERE e.account_id = ?1 AND e.mapping = 'unmapped' AND e.carrier IS NOT NULL AND e.code IS NOT NULL
             GROUP BY e.carrier, e.code
             ORDER BY COUNT(*) DESC, e.carrier, e.code",
        )
        .map_err(storage_error)?;
    let rows: Vec<(String, String, i64, String, String, Option<String>)> = stmt
        .query_map([account.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .map_err(storage_error)?
        .collect::<Result<_, _>>()
        .map_err(storage_error)?;
    rows.into_iter()
        .map(|(carrier, code, count, first, last, example)| {
            Ok(UnmappedCode {
                carrier,
                code,
                count: count.max(0) as u64,
                first_seen: parse_utc(&first)?,
                last_seen: parse_utc(&last)?,
                example_description: example,
            })
        })
        .collect()
}

pub fn code_overrides(conn: &Connection, account: AccountId) -> StoreResult<Vec<CodeOverride>> {
    let mut stmt = conn
        .prepare_cached("SELECT carrier, code, milestone FROM carrier_code_overrides WHERE account_id = ?1")
        .map_err(storage_error)?;
    let rows: Vec<(String, String, Option<String>)> = stmt
        .query_map([account.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(storage_error)?
        .collect::<Result<_, _>>()
        .map_err(storage_error)?;
    rows.into_iter()
        .map(|(carrier, code, milestone)| {
            let milestone = milestone
                .map(|m| m.parse::<Milestone>())
                .transpose()
                .map_err(|e| StoreError::Unexpected(format!("stored override milestone is invalid: {e}")))?;
            Ok(CodeOverride { carrier, code, milestone })
        })
        .collect()
}

pub fn set_code_override(
    conn: &Connection,
    truth: &SourceOfTruth,
    account: AccountId,
    mapping: &CodeOverride,
) -> StoreResult<Renormalized> {
    let milestone = mapping.milestone.map(Milestone::as_str);
    conn.execute(
        "INSERT INTO carrier_code_overrides (account_id, carrier, code, milestone, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account_id, carrier, code) DO UPDATE SET milestone = excluded.milestone, updated_at = excluded.updated_at",
        params![account.0, mapping.carrier, mapping.code, milestone, now_text()],
    )
    .map_err(storage_error)?;
    // Events whose sender named the milestone itself (`given`) keep it: the mapping is about codes.
    let affected: Vec<(i64, String, Option<i64>, Option<i64>)> = {
        let mut stmt = conn
            .prepare(
                "SELECT id, scope, shipment_id, order_id FROM events
                 WHERE account_id = ?1 AND lower(carrier) = ?2 AND code = ?3 AND mapping <> 'given'",
            )
            .map_err(storage_error)?;
        stmt.query_map(params![account.0, mapping.carrier, mapping.code], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(storage_error)?
        .collect::<Result<_, _>>()
        .map_err(storage_error)?
    };
    let state = if mapping.milestone.is_some() { "mapped" } else { "informational" };
    let mut shipments = BTreeSet::new();
    let mut orders = BTreeSet::new();
    for (id, scope, shipment_id, order_id) in &affected {
        let (mut event, _, _) = conn
            .query_row(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"), [id], event_from_row)
            .map_err(storage_error)?;
        event.milestone = mapping.milestone;
        // The duplicate key follows the new meaning, unless another stored fact already has it
        // (then the old key stays; the event is still found by its source id).
        let fact_key = event.fact_key();
        let taken: bool = conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM events WHERE account_id = ?1 AND scope = ?2 AND fact_key = ?3 AND id <> ?4)",
                params![account.0, scope, fact_key, id],
                |r| r.get(0),
            )
            .map_err(storage_error)?;
        if taken {
            conn.execute("UPDATE events SET milestone = ?2, mapping = ?3 WHERE id = ?1", params![id, milestone, state])
        } else {
            conn.execute(
                "UPDATE events SET milestone = ?2, mapping = ?3, fact_key = ?4 WHERE id = ?1",
                params![id, milestone, state, fact_key],
            )
        }
        .map_err(storage_error)?;
        if let Some(s) = shipment_id {
            shipments.insert(*s);
        }
        if let Some(o) = order_id {
            orders.insert(*o);
        }
    }
    for id in &shipments {
        recompute_shipment(conn, truth, *id)?;
        // A new meaning for a code can open or clear exceptions: the sweeper looks again.
        super::rules::mark_due(conn, "id", *id)?;
    }
    for id in &orders {
        recompute_order(conn, truth, *id)?;
    }
    Ok(Renormalized { events: affected.len() as u64, shipments: shipments.len() as u64, orders: orders.len() as u64 })
}

fn resolve_one(conn: &Connection, account: AccountId, key: &str) -> StoreResult<Option<Reference>> {
    let parcel = |sql: &str, value: &str| -> StoreResult<Option<Reference>> {
        let row: Option<(String, String)> = conn
            .query_row(sql, params![account.0, value], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(storage_error)?;
        row.map(|(order_number, tracking)| {
            Ok(Reference {
                order_number: OrderNumber::parse(&order_number).map_err(|e| StoreError::Unexpected(e.to_string()))?,
                tracking_number: Some(
                    TrackingNumber::parse(&tracking).map_err(|e| StoreError::Unexpected(e.to_string()))?,
                ),
            })
        })
        .transpose()
    };
    if let Ok(tn) = TrackingNumber::parse(key)
        && let Some(found) = parcel(
            "SELECT o.order_number, s.tracking_number FROM shipments s JOIN orders o ON o.id = s.order_id
             WHERE s.account_id = ?1 AND s.tracking_number = ?2",
            tn.as_str(),
        )?
    {
        return Ok(Some(found));
    }
    if let Ok(number) = OrderNumber::parse(key) {
        let found: Option<String> = conn
            .query_row(
                "SELECT order_number FROM orders WHERE account_id = ?1 AND order_number = ?2",
                params![account.0, number.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(storage_error)?;
        if found.is_some() {
            return Ok(Some(Reference { order_number: number, tracking_number: None }));
        }
    }
    let key = key.trim();
    if !key.is_empty() && key.len() <= 18 && key.bytes().all(|b| b.is_ascii_digit()) {
        return parcel(
            "SELECT o.order_number, s.tracking_number FROM shipments s JOIN orders o ON o.id = s.order_id
             WHERE s.account_id = ?1 AND CAST(s.id AS TEXT) = ?2",
            key.trim_start_matches('0'),
        );
    }
    Ok(None)
}

pub fn resolve_references(
    conn: &Connection,
    account: AccountId,
    keys: &[String],
) -> StoreResult<Vec<Option<Reference>>> {
    keys.iter().map(|k| resolve_one(conn, account, k)).collect()
}

pub fn import_orders(
    conn: &Connection,
    truth: &SourceOfTruth,
    settings: &milepost_domain::exceptions::RuleSettings,
    policy: &milepost_domain::notify::NotificationPolicy,
    account: AccountId,
    orders: &[Order],
    events: &[NewEvent],
) -> StoreResult<Vec<UpsertOutcome>> {
    let outcomes = orders.iter().map(|order| upsert_order(conn, truth, account, order)).collect::<StoreResult<_>>()?;
    if !events.is_empty() {
        append_events(conn, truth, settings, policy, account, events)?;
    }
    Ok(outcomes)
}

pub fn link_channel_order(
    conn: &Connection,
    account: AccountId,
    channel: &str,
    external_id: &str,
    order_number: &OrderNumber,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO channel_order_refs (account_id, channel, external_id, order_number) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account_id, channel, external_id) DO UPDATE SET order_number = excluded.order_number",
        params![account.0, channel, external_id, order_number.as_str()],
    )
    .map_err(storage_error)?;
    Ok(())
}

pub fn channel_order(
    conn: &Connection,
    account: AccountId,
    channel: &str,
    external_id: &str,
) -> StoreResult<Option<OrderNumber>> {
    let found: Option<String> = conn
        .query_row(
            "SELECT order_number FROM channel_order_refs WHERE account_id = ?1 AND channel = ?2 AND external_id = ?3",
            params![account.0, channel, external_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(storage_error)?;
    found.map(|n| OrderNumber::parse(&n).map_err(|e| StoreError::Unexpected(e.to_string()))).transpose()
}

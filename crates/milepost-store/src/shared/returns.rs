//! Returns (RMA): an account's eligibility rules, reading a return with its history,
//! compare-and-set state changes checked by the caller against the domain's state machine, the
//! returns queue, and the one automatic rule: a return parcel's carrier scans move its return to
//! `in_return_transit` and the warehouse's `return_receive` scan moves it to `received`; and claims
//! against a carrier opened from an exception.

use super::outbox;
use super::rows::{exec, parse_utc, row};
use super::storage_error;
use crate::db::{Connection, OptionalExtension, params};
use crate::{
    AccountId, ClaimRecord, NewClaim, ReturnMove, ReturnOfOrder, ReturnRecord, ReturnStep, StoreError, StoreResult,
};
use chrono::{DateTime, Utc};
use milepost_domain::claims::{ClaimState, exception_allows_claim};
use milepost_domain::exceptions::ExceptionKind;
use milepost_domain::notify::{Audience, Notice, NotificationPolicy, NotifyChannel, dedupe_key, scoped_subject};
use milepost_domain::returns::{OrderReturnFacts, ReturnFacts};
use milepost_domain::{
    Disposition, InspectedItem, InspectionResult, Money, OrderNumber, ReturnItem, ReturnPolicy, ReturnReason,
    ReturnState, Shipment, SourceOfTruth, TimelineProjection,
};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(format!("stored {what} is invalid: {e}"))
}

fn state_of(text: &str) -> StoreResult<ReturnState> {
    ReturnState::parse(text).ok_or_else(|| corrupt("return state", text))
}

pub fn return_policy(conn: &Connection, account: AccountId) -> StoreResult<ReturnPolicy> {
    let stored: Option<(u32, String, String)> = row(
        conn,
        "SELECT window_days, non_returnable_skus, reasons FROM return_policies WHERE account_id = ?1",
        [account.0],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
    .map_err(storage_error)?;
    let Some((window_days, skus, reasons)) = stored else {
        return Ok(ReturnPolicy::default());
    };
    let skus: Vec<String> = serde_json::from_str(&skus).map_err(|e| corrupt("non-returnable SKUs", e))?;
    let reasons: Vec<String> = serde_json::from_str(&reasons).map_err(|e| corrupt("return reasons", e))?;
    let reasons = reasons
        .iter()
        .map(|r| ReturnReason::parse(r).ok_or_else(|| corrupt("return reason", r)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(ReturnPolicy { window_days, non_returnable_skus: skus.into_iter().collect(), reasons })
}

pub fn put_return_policy(
    conn: &Connection,
    account: AccountId,
    policy: &ReturnPolicy,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let skus: Vec<&str> = policy.non_returnable_skus.iter().map(String::as_str).collect();
    let reasons: Vec<&str> = policy.reasons.iter().map(|r| r.as_str()).collect();
    exec(
        conn,
        "INSERT INTO return_policies (account_id, window_days, non_returnable_skus, reasons, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account_id) DO UPDATE SET window_days = excluded.window_days,
            non_returnable_skus = excluded.non_returnable_skus, reasons = excluded.reasons,
            updated_at = excluded.updated_at",
        params![
            account.0,
            policy.window_days,
            serde_json::to_string(&skus).map_err(|e| StoreError::Unexpected(e.to_string()))?,
            serde_json::to_string(&reasons).map_err(|e| StoreError::Unexpected(e.to_string()))?,
            now.to_rfc3339()
        ],
    )
    .map_err(storage_error)?;
    Ok(())
}

/// Reads one return (of any account: callers scope it) with its items and history.
pub fn load_return(conn: &Connection, id: i64) -> StoreResult<ReturnRecord> {
    let (state, note, created_at, tracking): (String, Option<String>, String, Option<String>) = row(
        conn,
        "SELECT r.state, r.note, r.created_at, s.tracking_number
         FROM returns r LEFT JOIN shipments s ON s.id = r.return_shipment_id WHERE r.id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .map_err(storage_error)?;
    let lines: Vec<(String, u32, String)> = conn
        .prepare_cached("SELECT sku, quantity, reason FROM return_items WHERE return_id = ?1 ORDER BY line_no")
        .and_then(|mut s| s.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
        .map_err(storage_error)?;
    let items = lines
        .into_iter()
        .map(|(sku, quantity, reason)| {
            let reason = ReturnReason::parse(&reason).ok_or_else(|| corrupt("return reason", &reason))?;
            Ok(ReturnItem { sku, quantity, reason })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let steps: Vec<(Option<String>, String, String, Option<String>, String)> = conn
        .prepare_cached(
            "SELECT from_state, to_state, actor, note, occurred_at FROM return_transitions
             WHERE return_id = ?1 ORDER BY id",
        )
        .and_then(|mut s| s.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect())
        .map_err(storage_error)?;
    let history = steps
        .into_iter()
        .map(|(from, to, actor, note, at)| {
            Ok(ReturnStep {
                from: from.as_deref().map(state_of).transpose()?,
                to: state_of(&to)?,
                actor,
                note,
                at: parse_utc(&at)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let inspected: Vec<(String, u32, String, String)> = conn
        .prepare_cached(
            "SELECT sku, quantity, result, disposition FROM return_inspections WHERE return_id = ?1 ORDER BY line_no",
        )
        .and_then(|mut s| s.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect())
        .map_err(storage_error)?;
    let inspection = inspected
        .into_iter()
        .map(|(sku, quantity, result, disposition)| {
            Ok(InspectedItem {
                sku,
                quantity,
                result: InspectionResult::parse(&result).ok_or_else(|| corrupt("inspection result", &result))?,
                disposition: Disposition::parse(&disposition).ok_or_else(|| corrupt("disposition", &disposition))?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(ReturnRecord {
        id,
        state: state_of(&state)?,
        items,
        note,
        created_at: parse_utc(&created_at)?,
        history,
        return_tracking_number: tracking,
        inspection,
    })
}

pub fn returns_of_order(conn: &Connection, order_id: i64) -> StoreResult<Vec<ReturnRecord>> {
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM returns WHERE order_id = ?1 ORDER BY id")
        .and_then(|mut s| s.query_map([order_id], |r| r.get(0))?.collect())
        .map_err(storage_error)?;
    ids.into_iter().map(|id| load_return(conn, id)).collect()
}

fn with_order(conn: &Connection, id: i64, order_number: String) -> StoreResult<ReturnOfOrder> {
    let order_number = OrderNumber::parse(&order_number).map_err(|e| corrupt("order number", e))?;
    Ok(ReturnOfOrder { order_number, record: load_return(conn, id)? })
}

pub fn return_by_id(conn: &Connection, account: AccountId, id: i64) -> StoreResult<Option<ReturnOfOrder>> {
    let found: Option<String> = row(
        conn,
        "SELECT o.order_number FROM returns r JOIN orders o ON o.id = r.order_id
         WHERE r.id = ?1 AND r.account_id = ?2",
        params![id, account.0],
        |r| r.get(0),
    )
    .optional()
    .map_err(storage_error)?;
    found.map(|number| with_order(conn, id, number)).transpose()
}

/// Records one state change, if the return is still in `from`; false when it is not.
fn record_step(
    conn: &Connection,
    return_id: i64,
    from: ReturnState,
    to: ReturnState,
    actor: &str,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let at = at.to_rfc3339();
    let changed = exec(
        conn,
        "UPDATE returns SET state = ?3, updated_at = ?4 WHERE id = ?1 AND state = ?2",
        params![return_id, from.as_str(), to.as_str(), at],
    )
    .map_err(storage_error)?;
    if changed == 0 {
        return Ok(false);
    }
    exec(
        conn,
        "INSERT INTO return_transitions (return_id, from_state, to_state, actor, note, occurred_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![return_id, from.as_str(), to.as_str(), actor, note, at],
    )
    .map_err(storage_error)?;
    Ok(true)
}

/// Stores a checked move; a released refund or replacement queues, in the same transaction, the
/// customer's message and the merchant's signed webhook through the outbox.
pub fn move_return(
    conn: &Connection,
    truth: &SourceOfTruth,
    policy: &NotificationPolicy,
    account: AccountId,
    step: &ReturnMove,
) -> StoreResult<ReturnOfOrder> {
    let Some(current) = return_by_id(conn, account, step.return_id)? else {
        return Err(StoreError::NotFound(format!("return {}", step.return_id)));
    };
    if !record_step(conn, step.return_id, step.from, step.to, &step.actor, step.note.as_deref(), step.at)? {
        return Err(StoreError::Conflict(format!(
            "return {} is now `{}`, not `{}`; read it again",
            step.return_id, current.record.state, step.from
        )));
    }
    let order_id: i64 = row(conn, "SELECT order_id FROM returns WHERE id = ?1", [step.return_id], |r| r.get(0))
        .map_err(storage_error)?;
    if let Some(parcel) = &step.replacement {
        ship_replacement(conn, truth, account, order_id, &current.record.items, parcel, step.at)?;
    }
    if step.to == ReturnState::Approved {
        // A parcel that started moving while the return was still `requested` moves it on now.
        let linked: Option<Option<i64>> =
            row(conn, "SELECT return_shipment_id FROM returns WHERE id = ?1", [step.return_id], |r| r.get(0))
                .optional()
                .map_err(storage_error)?;
        if let Some(Some(parcel_id)) = linked {
            let projection = super::rules::load_projection(conn, truth, parcel_id)?;
            on_return_parcel(conn, policy, parcel_id, &projection, step.at)?;
        }
    }
    if let Some(notice) = Notice::for_return_state(step.to) {
        let context = outbox::order_context(conn, policy, order_id, None)?;
        let parcels: Vec<&str> = current.record.return_tracking_number.as_deref().into_iter().collect();
        // Without a parcel to name, the message is this return's: another return of the order
        // gets its own.
        let scope = parcels.is_empty().then(|| format!("return-{}", step.return_id));
        outbox::queue_notice(conn, &context, order_id, &parcels, notice, step.at, scope.as_deref())?;
        if let (Notice::ReturnRejected, Some(reason)) = (notice, step.note.as_deref()) {
            // The reason travels with the customer's messages of this rejection, found by their
            // dedupe keys (an earlier rejection's messages keep theirs).
            let subject = scoped_subject(notice.as_str(), scope.as_deref());
            let [email, sms] = [NotifyChannel::Email, NotifyChannel::Sms]
                .map(|channel| dedupe_key(&context.order_number, &parcels, &subject, Audience::Customer, channel));
            exec(
                conn,
                "UPDATE notifications SET detail = ?1 WHERE account_id = ?2 AND dedupe_key IN (?3, ?4)
                 AND state = 'pending' AND detail IS NULL",
                params![reason, context.account_id, email, sms],
            )
            .map_err(storage_error)?;
        }
    }

    with_order(conn, step.return_id, current.order_number.to_string())
}

/// Registers the replacement parcel of a return: outbound, on the return's order, carrying the
/// returned quantities per SKU (a replacement goes beyond what was ordered, so the split rule of
/// `add_shipment` does not apply). Events already received for its tracking number attach.
fn ship_replacement(
    conn: &Connection,
    truth: &SourceOfTruth,
    account: AccountId,
    order_id: i64,
    returned: &[ReturnItem],
    parcel: &Shipment,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let taken: bool = row(
        conn,
        "SELECT EXISTS(SELECT 1 FROM shipments WHERE account_id = ?1 AND tracking_number = ?2)",
        params![account.0, parcel.tracking_number.as_str()],
        |r| r.get(0),
    )
    .map_err(storage_error)?;
    if taken {
        return Err(StoreError::Invalid {
            field: "shipment.tracking_number".into(),
            message: format!("tracking number {} is already registered", parcel.tracking_number),
        });
    }
    let shipment_id: i64 = row(
        conn,
        "INSERT INTO shipments (account_id, order_id, tracking_number, carrier, service, direction, origin_location_id,
            origin_postal_code, origin_country, label_cost_e4, handling_cost_e4, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'outbound', ?6, ?7, ?8, ?9, ?10, 'pending', ?11) RETURNING id",
        params![
            account.0,
            order_id,
            parcel.tracking_number.as_str(),
            parcel.carrier,
            parcel.service,
            parcel.origin_location_id,
            parcel.origin_postal_code,
            parcel.origin_country,
            parcel.label_cost.map(Money::ten_thousandths),
            parcel.handling_cost.map(Money::ten_thousandths),
            at.to_rfc3339()
        ],
        |r| r.get(0),
    )
    .map_err(storage_error)?;
    let mut units: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    for item in returned {
        *units.entry(item.sku.as_str()).or_default() += item.quantity;
    }
    for (sku, quantity) in units {
        exec(
            conn,
            "INSERT INTO shipment_items (shipment_id, sku, quantity) VALUES (?1, ?2, ?3)",
            params![shipment_id, sku, quantity],
        )
        .map_err(storage_error)?;
    }
    exec(
        conn,
        "UPDATE events SET shipment_id = ?1, order_id = ?2 WHERE account_id = ?3 AND scope = ?4 AND shipment_id IS NULL",
        params![shipment_id, order_id, account.0, format!("t:{}", parcel.tracking_number)],
    )
    .map_err(storage_error)?;
    super::writes::recompute_shipment(conn, truth, shipment_id)?;
    super::writes::recompute_order(conn, truth, order_id)?;
    super::rules::mark_due(conn, "id", shipment_id)?;
    Ok(())
}

/// Stores an inspection with the move it completes; nothing when the move no longer applies.
pub fn record_inspection(
    conn: &Connection,
    truth: &SourceOfTruth,
    policy: &NotificationPolicy,
    account: AccountId,
    step: &ReturnMove,
    items: &[InspectedItem],
) -> StoreResult<ReturnOfOrder> {
    let moved = move_return(conn, truth, policy, account, step)?;
    for (line_no, item) in items.iter().enumerate() {
        exec(
            conn,
            "INSERT INTO return_inspections (return_id, line_no, sku, quantity, result, disposition)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                step.return_id,
                line_no as i64,
                item.sku,
                item.quantity,
                item.result.as_str(),
                item.disposition.as_str()
            ],
        )
        .map_err(storage_error)?;
    }
    with_order(conn, step.return_id, moved.order_number.to_string())
}

pub fn returns_queue(
    conn: &Connection,
    account: AccountId,
    state: Option<ReturnState>,
    limit: u32,
) -> StoreResult<Vec<ReturnOfOrder>> {
    let found: Vec<(i64, String)> = match state {
        Some(state) => conn
            .prepare_cached(
                "SELECT r.id, o.order_number FROM returns r JOIN orders o ON o.id = r.order_id
                 WHERE r.account_id = ?1 AND r.state = ?2 ORDER BY r.created_at, r.id LIMIT ?3",
            )
            .and_then(|mut s| {
                s.query_map(params![account.0, state.as_str(), limit], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
            }),
        None => conn
            .prepare_cached(
                "SELECT r.id, o.order_number FROM returns r JOIN orders o ON o.id = r.order_id
                 WHERE r.account_id = ?1 AND r.state NOT IN ('rejected', 'closed')
                 ORDER BY r.created_at, r.id LIMIT ?2",
            )
            .and_then(|mut s| s.query_map(params![account.0, limit], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()),
    }
    .map_err(storage_error)?;
    found.into_iter().map(|(id, number)| with_order(conn, id, number)).collect()
}

/// A return parcel changed: once the carrier holds it, its return is `in_return_transit`; once
/// the warehouse scanned it in (`return_receive`), `received` (and the customer is told). A parcel
/// not yet linked to a return is linked to the order's oldest approved return still waiting for
/// one or, failing that, to its oldest return still `requested`: such a parcel is not lost, it
/// waits on the return (its motion raises `return_in_motion` for staff) and moves it on as soon as
/// staff approve. Each move is checked against the state machine, so a return staff already moved
/// on is left alone.
pub fn on_return_parcel(
    conn: &Connection,
    policy: &NotificationPolicy,
    shipment_id: i64,
    projection: &TimelineProjection,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (order_id, direction): (i64, String) =
        row(conn, "SELECT order_id, direction FROM shipments WHERE id = ?1", [shipment_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(storage_error)?;
    if direction != "return" {
        return Ok(());
    }
    let received: bool = row(
        conn,
        "SELECT EXISTS(SELECT 1 FROM events WHERE shipment_id = ?1 AND source = 'warehouse' AND code = 'return_receive')",
        [shipment_id],
        |r| r.get(0),
    )
    .map_err(storage_error)?;
    let moving = received || projection.first_carrier_possession_at.is_some();
    if !moving {
        return Ok(());
    }
    let linked: Option<(i64, String)> =
        row(conn, "SELECT id, state FROM returns WHERE return_shipment_id = ?1", [shipment_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(storage_error)?;
    let (return_id, mut state) = match linked {
        Some((id, state)) => (id, state_of(&state)?),
        None => {
            let waiting: Option<(i64, String)> = row(
                conn,
                "SELECT id, state FROM returns WHERE order_id = ?1 AND return_shipment_id IS NULL
                 AND state IN ('approved', 'pickup_scheduled', 'requested')
                 ORDER BY CASE WHEN state = 'requested' THEN 1 ELSE 0 END, id LIMIT 1",
                [order_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(storage_error)?;
            let Some((id, state)) = waiting else { return Ok(()) };
            exec(conn, "UPDATE returns SET return_shipment_id = ?2 WHERE id = ?1", params![id, shipment_id])
                .map_err(storage_error)?;
            (id, state_of(&state)?)
        }
    };
    if state.awaits_return_parcel() {
        let note = match projection.status {
            Some(milestone) => format!("return parcel scanned by the carrier: {}", milestone.as_str()),
            None => "return parcel received at the warehouse".to_string(),
        };
        record_step(conn, return_id, state, ReturnState::InReturnTransit, "system", Some(&note), now)?;
        state = ReturnState::InReturnTransit;
    }
    if received
        && state == ReturnState::InReturnTransit
        && record_step(
            conn,
            return_id,
            state,
            ReturnState::Received,
            "system",
            Some("return_receive scan at the warehouse"),
            now,
        )?
    {
        let tracking: String =
            row(conn, "SELECT tracking_number FROM shipments WHERE id = ?1", [shipment_id], |r| r.get(0))
                .map_err(storage_error)?;
        let context = outbox::order_context(conn, policy, order_id, None)?;
        outbox::queue_notice(conn, &context, order_id, &[&tracking], Notice::ReturnReceived, now, None)?;
    }
    Ok(())
}

/// Facts for the return figures about the orders placed in `[from, to)`.
pub fn return_kpi_facts(
    conn: &Connection,
    account: AccountId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<OrderReturnFacts>> {
    let orders: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT id, status FROM orders WHERE account_id = ?1 AND placed_at_us >= ?2 AND placed_at_us < ?3
             ORDER BY placed_at_us",
        )
        .and_then(|mut s| {
            s.query_map(params![account.0, from.timestamp_micros(), to.timestamp_micros()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect()
        })
        .map_err(storage_error)?;
    let mut facts = Vec::with_capacity(orders.len());
    for (order_id, status) in orders {
        let units: Vec<(String, u32)> = conn
            .prepare_cached(
                "SELECT sku, CAST(SUM(quantity) AS BIGINT) FROM order_items WHERE order_id = ?1 GROUP BY sku",
            )
            .and_then(|mut s| s.query_map([order_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(storage_error)?;
        let mut returns = Vec::new();
        for record in returns_of_order(conn, order_id)? {
            let refunded_at =
                record.history.iter().find(|step| step.to == ReturnState::RefundReleased).map(|step| step.at);
            returns.push(ReturnFacts {
                state: record.state,
                requested_at: record.created_at,
                refunded_at,
                items: record.items,
            });
        }
        facts.push(OrderReturnFacts {
            delivered: status == "delivered",
            ordered_units: units.into_iter().collect(),
            returns,
        });
    }
    Ok(facts)
}

const CLAIM_COLUMNS: &str = "c.id, o.order_number, c.exception_id, e.kind, s.tracking_number, c.carrier, c.amount_e4,
    c.currency, c.evidence, c.state, c.opened_by, c.created_at, c.updated_at
    FROM claims c JOIN orders o ON o.id = c.order_id JOIN exceptions e ON e.id = c.exception_id
    LEFT JOIN shipments s ON s.id = e.shipment_id";

type ClaimRow = (
    i64,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
);

fn claim_from_row(r: &crate::db::Row<'_>) -> crate::db::Result<ClaimRow> {
    r.tuple()
}

fn claim_record(row: ClaimRow) -> StoreResult<ClaimRecord> {
    let (
        id,
        number,
        exception_id,
        kind,
        tracking,
        carrier,
        amount,
        currency,
        evidence,
        state,
        opened_by,
        created,
        updated,
    ) = row;
    Ok(ClaimRecord {
        id,
        order_number: OrderNumber::parse(&number).map_err(|e| corrupt("order number", e))?,
        exception_id,
        exception_kind: kind,
        tracking_number: tracking,
        carrier,
        amount: Money::from_ten_thousandths(amount),
        currency,
        evidence,
        state: ClaimState::parse(&state).ok_or_else(|| corrupt("claim state", &state))?,
        opened_by,
        created_at: parse_utc(&created)?,
        updated_at: parse_utc(&updated)?,
    })
}

pub fn claim_by_id(conn: &Connection, account: AccountId, id: i64) -> StoreResult<Option<ClaimRecord>> {
    let sql = format!("SELECT {CLAIM_COLUMNS} WHERE c.id = ?1 AND c.account_id = ?2");
    row(conn, &sql, params![id, account.0], claim_from_row)
        .optional()
        .map_err(storage_error)?
        .map(claim_record)
        .transpose()
}

pub fn claims_of_order(conn: &Connection, account: AccountId, number: &OrderNumber) -> StoreResult<Vec<ClaimRecord>> {
    // The order is found first and its claims by the order index; matching the order number
    // through the join let the planner walk every claim in id order instead.
    let sql = format!(
        "SELECT {CLAIM_COLUMNS}
         WHERE c.order_id = (SELECT id FROM orders WHERE account_id = ?1 AND order_number = ?2) AND c.account_id = ?1
         ORDER BY c.id"
    );
    let rows: Vec<ClaimRow> = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_map(params![account.0, number.as_str()], claim_from_row)?.collect())
        .map_err(storage_error)?;
    rows.into_iter().map(claim_record).collect()
}

pub fn open_claim(conn: &Connection, account: AccountId, claim: &NewClaim) -> StoreResult<ClaimRecord> {
    let found: Option<(i64, String, Option<String>, String)> = row(
        conn,
        "SELECT e.order_id, e.kind, s.carrier, o.currency FROM exceptions e JOIN orders o ON o.id = e.order_id
         LEFT JOIN shipments s ON s.id = e.shipment_id WHERE e.id = ?1 AND e.account_id = ?2",
        params![claim.exception_id, account.0],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .optional()
    .map_err(storage_error)?;
    let Some((order_id, kind, parcel_carrier, currency)) = found else {
        return Err(StoreError::NotFound(format!("exception {}", claim.exception_id)));
    };
    let allowed = ExceptionKind::parse(&kind).is_some_and(exception_allows_claim);
    if !allowed {
        return Err(StoreError::Invalid {
            field: "exception".into(),
            message: format!("a `{kind}` exception is not about a lost or damaged parcel"),
        });
    }
    let open: bool = row(
        conn,
        "SELECT EXISTS(SELECT 1 FROM claims WHERE exception_id = ?1 AND state <> 'closed')",
        [claim.exception_id],
        |r| r.get(0),
    )
    .map_err(storage_error)?;
    if open {
        return Err(StoreError::Conflict(format!("exception {} already has a claim", claim.exception_id)));
    }
    let at = claim.at.to_rfc3339();
    let id: i64 = row(
        conn,
        "INSERT INTO claims (account_id, order_id, exception_id, carrier, amount_e4, currency, evidence, state,
            opened_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?9, ?9) RETURNING id",
        params![
            account.0,
            order_id,
            claim.exception_id,
            claim.carrier.clone().or(parcel_carrier),
            claim.amount.ten_thousandths(),
            currency,
            claim.evidence,
            claim.actor,
            at
        ],
        |r| r.get(0),
    )
    .map_err(storage_error)?;
    claim_by_id(conn, account, id)?.ok_or_else(|| StoreError::Unexpected("the new claim cannot be read".into()))
}

pub fn move_claim(
    conn: &Connection,
    account: AccountId,
    id: i64,
    from: ClaimState,
    to: ClaimState,
    at: DateTime<Utc>,
) -> StoreResult<ClaimRecord> {
    let changed = exec(
        conn,
        "UPDATE claims SET state = ?4, updated_at = ?5 WHERE id = ?1 AND account_id = ?2 AND state = ?3",
        params![id, account.0, from.as_str(), to.as_str(), at.to_rfc3339()],
    )
    .map_err(storage_error)?;
    let current = claim_by_id(conn, account, id)?.ok_or_else(|| StoreError::NotFound(format!("claim {id}")))?;
    if changed == 0 {
        return Err(StoreError::Conflict(format!(
            "claim {id} is now `{}`, not `{from}`; read it again",
            current.state
        )));
    }
    Ok(current)
}

//! Staff decisions on outbound parcels that came back to the sender (reship, refund, cancel).
//! One transaction checks the decision against the parcel's events
//! (`milepost_domain::return_to_sender::check_decision`), records it as a staff event on the
//! parcel's timeline through the ordinary append path (so the projection, the exception rules
//! that close the decision task, and the outbox all run as for any event), and carries out its
//! effect. The event's fixed id (`rts_decision:<tracking number>`) makes a second decision a
//! duplicate even when two staff members decide at the same moment.

use crate::db::Connection;
use crate::sql::values;
use crate::{
    AccountId, EventOutcome, EventTarget, MappingState, NewEvent, ParcelDecision, ShipmentRecord, StoreError,
    StoreResult,
};
use milepost_domain::exceptions::RuleSettings;
use milepost_domain::notify::{Notice, NotificationPolicy};
use milepost_domain::return_to_sender::{SenderDecision, check_decision};
use milepost_domain::{Direction, EventSource, Milestone, SourceOfTruth, TrackingEvent};

pub fn decide_returned_parcel(
    conn: &Connection,
    truth: &SourceOfTruth,
    settings: &RuleSettings,
    policy: &NotificationPolicy,
    account: AccountId,
    decision: &ParcelDecision,
) -> StoreResult<Option<ShipmentRecord>> {
    let found = conn.optional_row(
        "SELECT s.id, s.order_id, s.direction, s.tracking_number FROM shipments s JOIN orders o ON o.id = s.order_id
         WHERE s.account_id = ?1 AND o.order_number = ?2 AND s.tracking_number = upper(?3)",
        values![account.0, decision.order_number.as_str(), decision.tracking_number],
    )?;
    let Some(found) = found else {
        return Err(StoreError::NotFound(format!(
            "shipment {} of order {}",
            decision.tracking_number, decision.order_number
        )));
    };
    let (shipment_id, order_id, direction, tracking): (i64, i64, String, String) =
        (found.get(0)?, found.get(1)?, found.get(2)?, found.get(3)?);
    let direction = Direction::parse(&direction)
        .map_err(|e| StoreError::Unexpected(format!("stored shipment direction is invalid: {e}")))?;
    let projection = super::rules::load_projection(conn, truth, shipment_id)?;
    check_decision(direction, projection.status, &projection.entries)
        .map_err(|refused| StoreError::Conflict(refused.to_string()))?;
    let reship = match (decision.decision, &decision.reship) {
        (SenderDecision::Reship, None) => {
            return Err(StoreError::Invalid {
                field: "shipment".into(),
                message: "a reship needs the new parcel: its tracking_number (and carrier, service)".into(),
            });
        }
        (SenderDecision::Reship, Some(parcel)) => {
            let taken: bool = conn
                .one_row(
                    "SELECT EXISTS(SELECT 1 FROM shipments WHERE account_id = ?1 AND tracking_number = ?2)",
                    values![account.0, parcel.tracking_number.as_str()],
                )?
                .get(0)?;
            if taken {
                return Err(StoreError::Invalid {
                    field: "shipment.tracking_number".into(),
                    message: format!("tracking number {} is already registered", parcel.tracking_number),
                });
            }
            let mut parcel = parcel.clone();
            parcel.direction = Direction::Outbound;
            parcel.items = super::reads::shipment_by_id(conn, truth, shipment_id)?.shipment.items;
            Some(parcel)
        }
        (_, Some(_)) => {
            return Err(StoreError::Invalid {
                field: "shipment".into(),
                message: format!("only a reship takes a new parcel, not a {}", decision.decision),
            });
        }
        (_, None) => None,
    };

    let description = match &decision.note {
        Some(note) => format!("{} decided by {}: {note}", decision.decision, decision.actor),
        None => format!("{} decided by {}", decision.decision, decision.actor),
    };
    let staff_event = |milestone: Option<Milestone>, id: String, code: String, description: String| TrackingEvent {
        source: EventSource::Staff,
        source_event_id: Some(id),
        milestone,
        code: Some(code),
        description: Some(description),
        occurred_at: decision.at.fixed_offset(),
        received_at: decision.at,
        location: None,
    };
    let mut events = vec![NewEvent {
        carrier_estimate: None,
        target: EventTarget::Order { order_number: decision.order_number.clone(), shipment: Some(tracking.clone()) },
        carrier: None,
        mapping: MappingState::Informational,
        event: staff_event(None, format!("rts_decision:{tracking}"), decision.decision.event_code(), description),
        raw: Some(
            serde_json::json!({
                "decision": decision.decision.as_str(),
                "note": decision.note,
                "actor": decision.actor,
            })
            .to_string(),
        ),
    }];
    if decision.decision == SenderDecision::Cancel {
        // The order's own `cancelled`: the roll-up then cancels every line not delivered (the
        // parcel that came back no longer counts as shipped).
        events.push(NewEvent {
            carrier_estimate: None,
            target: EventTarget::Order { order_number: decision.order_number.clone(), shipment: None },
            carrier: None,
            mapping: MappingState::Given,
            event: staff_event(
                Some(Milestone::Cancelled),
                format!("rts_cancel:{tracking}"),
                "rts_cancel".into(),
                format!("lines not delivered cancelled: parcel {tracking} came back to the sender"),
            ),
            raw: None,
        });
    }
    let outcomes = super::writes::append_events(conn, truth, settings, policy, account, &events)?;
    if outcomes.first() != Some(&EventOutcome::Accepted) {
        return Err(StoreError::Conflict(format!("the parcel {tracking} was already decided")));
    }
    match decision.decision {
        SenderDecision::Reship => {
            let parcel = reship.ok_or_else(|| StoreError::Unexpected("a reship lost its parcel".into()))?;
            let record = super::writes::add_shipment(conn, truth, policy, account, &decision.order_number, &parcel)?;
            Ok(Some(record))
        }
        SenderDecision::Refund => {
            super::outbox::queue_customer_notice(
                conn,
                policy,
                order_id,
                &[&tracking],
                Notice::UndeliveredRefunded,
                decision.at,
            )?;
            Ok(None)
        }
        SenderDecision::Cancel => Ok(None),
    }
}

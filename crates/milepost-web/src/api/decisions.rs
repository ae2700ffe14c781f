//! Staff's decision on an outbound parcel that came back to the sender (issue 7, part 5):
//! `POST /api/v1/orders/{order_number}/shipments/{tracking_number}/decision` with `reship` (and
//! the new parcel), `refund` or `cancel`. The parcel must be back (the carrier's
//! `returned_to_sender` or a warehouse `receive` / `return_receive` scan after it turned back)
//! and undecided: otherwise 409 with the reason.

use super::wire::{ShipmentIn, ShipmentOut};
use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Admin, ApiJson, Caller};
use axum::Json;
use axum::extract::{Path, State};
use milepost_domain::return_to_sender::SenderDecision;
use milepost_domain::text::parse_free_text;
use milepost_domain::{Direction, OrderNumber, Shipment};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// reship, refund or cancel.
    pub decision: String,
    pub note: Option<String>,
    /// The new parcel of a reship (`carrier`, `service`, `tracking_number`; its items are those
    /// of the parcel that came back, so `items` must be left out). Only with `reship`.
    pub shipment: Option<ShipmentIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    pub order_number: String,
    /// The parcel that came back.
    pub tracking_number: String,
    pub decision: String,
    pub note: Option<String>,
    /// The order's status after the decision.
    pub order_status: String,
    /// The new parcel of a reship.
    pub reshipment: Option<ShipmentOut>,
}

const MAX_NOTE: usize = 2000;

/// Reads a new outbound parcel whose items are decided by what it replaces (a reship carries the
/// parcel that came back, a replacement the return's items), with errors under `shipment.`.
pub(super) fn parse_new_parcel(shipment: ShipmentIn, errors: &mut Vec<FieldError>) -> Option<Shipment> {
    if !shipment.items.is_empty() {
        errors.push(FieldError::new("shipment.items", "the parcel carries the items it replaces; leave items out"));
    }
    if shipment.direction.as_deref().is_some_and(|d| d != Direction::Outbound.as_str()) {
        errors.push(FieldError::new("shipment.direction", "the new parcel is outbound"));
    }
    match shipment.into_domain() {
        Ok(parcel) => Some(parcel),
        Err(bad) => {
            errors.extend(bad.into_iter().map(|e| FieldError::new(format!("shipment.{}", e.field), e.message)));
            None
        }
    }
}

/// Decide what happens to an outbound parcel that came back to the sender: `reship` (a new
/// parcel with the same items), `refund` (customer message and the merchant's signed webhook) or
/// `cancel` (the order's lines not delivered). 409 when the parcel is not back or already decided.
#[utoipa::path(post, path = "/api/v1/orders/{order_number}/shipments/{tracking_number}/decision", tag = "returns",
    params(("order_number" = String, Path), ("tracking_number" = String, Path)), request_body = DecisionIn,
    responses((status = 200, body = DecisionOut), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path((order_number, tracking_number)): Path<(String, String)>,
    ApiJson(body): ApiJson<DecisionIn>,
) -> Result<Json<DecisionOut>, ApiError> {
    let number =
        OrderNumber::parse(&order_number).map_err(|_| ApiError::NotFound(format!("order {order_number} not found")))?;
    let mut errors = Vec::new();
    let decision = SenderDecision::parse(&body.decision);
    if decision.is_none() {
        errors.push(FieldError::new("decision", "must be one of reship, refund, cancel"));
    }
    let note = match body.note.as_deref().map(|n| parse_free_text(n, MAX_NOTE)) {
        None => None,
        Some(Ok(n)) => Some(n).filter(|n| !n.is_empty()),
        Some(Err(e)) => {
            errors.push(FieldError::new("note", e.to_string()));
            None
        }
    };
    let reship = match (decision, body.shipment) {
        (Some(SenderDecision::Reship), None) => {
            errors.push(FieldError::new("shipment", "a reship needs the new parcel (at least its tracking_number)"));
            None
        }
        (Some(SenderDecision::Reship), Some(shipment)) => parse_new_parcel(shipment, &mut errors),
        (Some(other), Some(_)) => {
            errors.push(FieldError::new("shipment", format!("only a reship takes a new parcel, not `{other}`")));
            None
        }
        (_, _) => None,
    };
    let Some(decision) = decision.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let reshipped = state
        .app
        .decide_returned_parcel(&caller.principal, &number, &tracking_number, decision, note.clone(), reship)
        .await?;
    let order = state.app.order(&caller.principal, &number).await?;
    Ok(Json(DecisionOut {
        order_number: number.to_string(),
        tracking_number: tracking_number.trim().to_ascii_uppercase(),
        decision: decision.as_str().to_string(),
        note,
        order_status: order.status.as_str().to_string(),
        reshipment: reshipped.as_ref().map(ShipmentOut::from_record),
    }))
}

//! Claims against a carrier for a lost or damaged parcel: opened from an exception, read, moved
//! through their state machine (409 listing `allowed`), and listed per order.

use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Admin, ApiJson, Caller, Support};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use milepost_app::records::ClaimRecord;
use milepost_domain::claims::ClaimState;
use milepost_domain::text::parse_free_text;
use milepost_domain::{Money, OrderNumber};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimIn {
    /// The carrier claimed against; the parcel's carrier when absent.
    pub carrier: Option<String>,
    /// Decimal string in the order's currency.
    pub amount: String,
    /// Evidence notes (photos taken, proof of value, the carrier's reference).
    pub evidence: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimTransitionIn {
    /// open, submitted, approved, denied, paid, closed.
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimOut {
    pub id: String,
    pub order_number: String,
    pub exception_id: String,
    pub exception_kind: String,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    pub amount: String,
    pub currency: String,
    pub evidence: Option<String>,
    pub state: String,
    /// The states the claim may move to next.
    pub allowed: Vec<String>,
    pub opened_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl ClaimOut {
    pub fn from_record(c: &ClaimRecord) -> Self {
        ClaimOut {
            id: c.id.to_string(),
            order_number: c.order_number.to_string(),
            exception_id: c.exception_id.to_string(),
            exception_kind: c.exception_kind.clone(),
            tracking_number: c.tracking_number.clone(),
            carrier: c.carrier.clone(),
            amount: c.amount.to_string(),
            currency: c.currency.clone(),
            evidence: c.evidence.clone(),
            state: c.state.as_str().to_string(),
            allowed: c.state.allowed_next().iter().map(|s| s.as_str().to_string()).collect(),
            opened_by: c.opened_by.clone(),
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimListOut {
    pub claims: Vec<ClaimOut>,
}

fn id_or_404(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| ApiError::NotFound(format!("{what} {raw} not found")))
}

/// Open a claim for a lost or damaged parcel from an exception (carrier_exception, stalled, not_found).
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/claims", tag = "claims", params(("id" = String, Path)),
    request_body = ClaimIn,
    responses((status = 201, body = ClaimOut), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn open_claim(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClaimIn>,
) -> Result<(StatusCode, Json<ClaimOut>), ApiError> {
    let exception_id = id_or_404(&id, "exception")?;
    let mut errors = Vec::new();
    let amount = match Money::parse(&body.amount) {
        Ok(m) if m.ten_thousandths() > 0 => Some(m),
        _ => {
            errors.push(FieldError::new("amount", "must be a positive decimal string such as \"24.50\""));
            None
        }
    };
    let carrier = match body.carrier.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) if c.len() <= 40 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') => {
            Some(c.to_ascii_lowercase())
        }
        Some(_) => {
            errors.push(FieldError::new("carrier", "must be a carrier name such as `ups` (letters, digits, - or _)"));
            None
        }
    };
    let evidence = match body.evidence.as_deref().map(|e| parse_free_text(e, 4000)) {
        None => None,
        Some(Ok(e)) => Some(e).filter(|e| !e.is_empty()),
        Some(Err(e)) => {
            errors.push(FieldError::new("evidence", e.to_string()));
            None
        }
    };
    let Some(amount) = amount.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let claim = state.app.open_claim(&caller.principal, exception_id, carrier, amount, evidence).await?;
    Ok((StatusCode::CREATED, Json(ClaimOut::from_record(&claim))))
}

/// One claim.
#[utoipa::path(get, path = "/api/v1/claims/{id}", tag = "claims", params(("id" = String, Path)),
    responses((status = 200, body = ClaimOut), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn get_claim(
    State(state): State<AppState>,
    caller: Caller<Support>,
    Path(id): Path<String>,
) -> Result<Json<ClaimOut>, ApiError> {
    let claim = state.app.claim_of(&caller.principal, id_or_404(&id, "claim")?).await?;
    Ok(Json(ClaimOut::from_record(&claim)))
}

/// Move a claim; 409 listing `allowed` when its state machine refuses.
#[utoipa::path(post, path = "/api/v1/claims/{id}/transitions", tag = "claims", params(("id" = String, Path)),
    request_body = ClaimTransitionIn,
    responses((status = 200, body = ClaimOut), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClaimTransitionIn>,
) -> Result<Json<ClaimOut>, ApiError> {
    let id = id_or_404(&id, "claim")?;
    let Some(to) = ClaimState::parse(&body.to) else {
        let states: Vec<&str> = ClaimState::ALL.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::invalid(vec![FieldError::new("to", format!("must be one of {}", states.join(", ")))]));
    };
    let claim = state.app.move_claim(&caller.principal, id, to).await?;
    Ok(Json(ClaimOut::from_record(&claim)))
}

/// The claims of an order, oldest first.
#[utoipa::path(get, path = "/api/v1/orders/{order_number}/claims", tag = "claims",
    params(("order_number" = String, Path)),
    responses((status = 200, body = ClaimListOut), (status = 404, body = Problem)), security(("api_key" = [])))]
pub async fn order_claims(
    State(state): State<AppState>,
    caller: Caller<Support>,
    Path(order_number): Path<String>,
) -> Result<Json<ClaimListOut>, ApiError> {
    let number =
        OrderNumber::parse(&order_number).map_err(|_| ApiError::NotFound(format!("order {order_number} not found")))?;
    let claims = state.app.claims_of_order(&caller.principal, &number).await?;
    Ok(Json(ClaimListOut { claims: claims.iter().map(ClaimOut::from_record).collect() }))
}

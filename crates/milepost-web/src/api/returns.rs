//! Returns (RMA) over the API: staff request a return on an order (through the same eligibility
//! rules as the customer's tracking page), read one, move it through the state machine (an
//! invalid move is 409 listing the allowed ones), list the queue by state, and keep the account's
//! eligibility rules.

use super::wire::ReturnOut;
use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Admin, ApiJson, Caller, Support};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use milepost_app::returns::ReturnRequester;
use milepost_domain::text::parse_free_text;
use milepost_domain::{
    Disposition, InspectedItem, InspectionResult, OrderNumber, ReturnItem, ReturnPolicy, ReturnReason, ReturnState,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnItemIn {
    pub sku: String,
    pub quantity: u32,
    /// wrong_item, missing_item, damaged, defective, not_as_described, no_longer_needed, other.
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnIn {
    pub items: Vec<ReturnItemIn>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    /// The state to move to.
    pub to: String,
    pub note: Option<String>,
    /// With `replacement_released` (and only then, where it is required): the replacement parcel
    /// (`carrier`, `service`, `tracking_number`), registered outbound on the same order with the
    /// return's items, so `items` is left out.
    pub shipment: Option<super::wire::ShipmentIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectedItemIn {
    pub sku: String,
    pub quantity: u32,
    /// as_new, opened, damaged, missing_parts.
    pub result: String,
    /// restock, refurbish, scrap, return_to_vendor.
    pub disposition: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionIn {
    pub items: Vec<InspectedItemIn>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReturnQueueParams {
    /// Only returns in this state; all open ones when absent.
    pub state: Option<String>,
    /// At most this many, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnListOut {
    pub returns: Vec<ReturnOut>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnPolicyWire {
    /// Days after delivery within which a return may be requested.
    pub window_days: u32,
    /// SKUs never taken back.
    pub non_returnable_skus: Vec<String>,
    /// The reasons accepted (at least one).
    pub reasons: Vec<String>,
}

const MAX_NOTE: usize = 2000;

fn order_number_or_404(raw: &str) -> Result<OrderNumber, ApiError> {
    OrderNumber::parse(raw).map_err(|_| ApiError::NotFound(format!("order {raw} not found")))
}

fn return_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| ApiError::NotFound(format!("return {raw} not found")))
}

fn parse_note(note: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let note = note?;
    match parse_free_text(note, MAX_NOTE) {
        Ok(n) if n.is_empty() => None,
        Ok(n) => Some(n),
        Err(e) => {
            errors.push(FieldError::new("note", e.to_string()));
            None
        }
    }
}

fn reason_list() -> String {
    ReturnReason::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}

fn parse_items(items: &[ReturnItemIn], errors: &mut Vec<FieldError>) -> Vec<ReturnItem> {
    let mut parsed = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let sku = item.sku.trim();
        if sku.is_empty() || sku.len() > 100 {
            errors.push(FieldError::new(format!("items[{i}].sku"), "must be 1 to 100 characters"));
        }
        if item.quantity == 0 {
            errors.push(FieldError::new(format!("items[{i}].quantity"), "must be at least 1"));
        }
        match ReturnReason::parse(&item.reason) {
            Some(reason) => parsed.push(ReturnItem { sku: sku.to_string(), quantity: item.quantity, reason }),
            None => {
                errors.push(FieldError::new(format!("items[{i}].reason"), format!("must be one of {}", reason_list())))
            }
        }
    }
    parsed
}

/// Request a return on an order (staff), under the account's eligibility rules.
#[utoipa::path(post, path = "/api/v1/orders/{order_number}/returns", tag = "returns",
    params(("order_number" = String, Path)), request_body = ReturnIn,
    responses((status = 201, body = ReturnOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn request_return(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(order_number): Path<String>,
    ApiJson(body): ApiJson<ReturnIn>,
) -> Result<(StatusCode, Json<ReturnOut>), ApiError> {
    let order_number = order_number_or_404(&order_number)?;
    let mut errors = Vec::new();
    let items = parse_items(&body.items, &mut errors);
    let note = parse_note(body.note.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let record = state
        .app
        .request_return(caller.principal.account_id, &order_number, items, note, ReturnRequester::Staff)
        .await?;
    let mut out = ReturnOut::from_record(&record);
    out.order_number = Some(order_number.to_string());
    Ok((StatusCode::CREATED, Json(out)))
}

/// One return with its history and the states it may move to.
#[utoipa::path(get, path = "/api/v1/returns/{id}", tag = "returns", params(("id" = String, Path)),
    responses((status = 200, body = ReturnOut), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_return(
    State(state): State<AppState>,
    caller: Caller<Support>,
    Path(id): Path<String>,
) -> Result<Json<ReturnOut>, ApiError> {
    let found = state.app.return_of(&caller.principal, return_id(&id)?).await?;
    Ok(Json(ReturnOut::of_order(&found)))
}

/// Move a return to another state; 409 listing `allowed` when the state machine refuses. A move
/// to `replacement_released` carries the replacement parcel in `shipment`.
#[utoipa::path(post, path = "/api/v1/returns/{id}/transitions", tag = "returns", params(("id" = String, Path)),
    request_body = TransitionIn,
    responses((status = 200, body = ReturnOut), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TransitionIn>,
) -> Result<Json<ReturnOut>, ApiError> {
    let id = return_id(&id)?;
    let mut errors = Vec::new();
    let to = ReturnState::parse(&body.to);
    if to.is_none() {
        let states: Vec<&str> = ReturnState::ALL.iter().map(|s| s.as_str()).collect();
        errors.push(FieldError::new("to", format!("must be one of {}", states.join(", "))));
    }
    let note = parse_note(body.note.as_deref(), &mut errors);
    let replacement = body.shipment.and_then(|parcel| super::decisions::parse_new_parcel(parcel, &mut errors));
    let Some(to) = to.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let moved = state.app.move_return(&caller.principal, id, to, note, replacement).await?;
    Ok(Json(ReturnOut::of_order(&moved)))
}

/// Record the inspection and disposition of every returned item; the return moves from
/// `inspection_pending` to `disposition_decided` (409 listing `allowed` from any other state).
#[utoipa::path(post, path = "/api/v1/returns/{id}/inspection", tag = "returns", params(("id" = String, Path)),
    request_body = InspectionIn,
    responses((status = 200, body = ReturnOut), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn inspect(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InspectionIn>,
) -> Result<Json<ReturnOut>, ApiError> {
    let id = return_id(&id)?;
    let mut errors = Vec::new();
    let mut items = Vec::with_capacity(body.items.len());
    for (i, item) in body.items.iter().enumerate() {
        let result = InspectionResult::parse(&item.result);
        if result.is_none() {
            let all: Vec<&str> = InspectionResult::ALL.iter().map(|r| r.as_str()).collect();
            errors.push(FieldError::new(format!("items[{i}].result"), format!("must be one of {}", all.join(", "))));
        }
        let disposition = Disposition::parse(&item.disposition);
        if disposition.is_none() {
            let all: Vec<&str> = Disposition::ALL.iter().map(|d| d.as_str()).collect();
            errors
                .push(FieldError::new(format!("items[{i}].disposition"), format!("must be one of {}", all.join(", "))));
        }
        if let (Some(result), Some(disposition)) = (result, disposition) {
            items.push(InspectedItem {
                sku: item.sku.trim().to_string(),
                quantity: item.quantity,
                result,
                disposition,
            });
        }
    }
    let note = parse_note(body.note.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let inspected = state.app.record_inspection(&caller.principal, id, items, note).await?;
    Ok(Json(ReturnOut::of_order(&inspected)))
}

/// The returns queue: open returns (or those in one state), oldest first.
#[utoipa::path(get, path = "/api/v1/returns", tag = "returns", params(ReturnQueueParams),
    responses((status = 200, body = ReturnListOut), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_returns(
    State(state): State<AppState>,
    caller: Caller<Support>,
    params: Result<Query<ReturnQueueParams>, QueryRejection>,
) -> Result<Json<ReturnListOut>, ApiError> {
    let Query(p) = params.map_err(|r| ApiError::BadRequest {
        detail: r.body_text(),
        errors: vec![FieldError::new("query", r.body_text())],
    })?;
    let mut errors = Vec::new();
    let filter = match p.state.as_deref() {
        None => None,
        Some(raw) => match ReturnState::parse(raw) {
            Some(s) => Some(s),
            None => {
                errors.push(FieldError::new("state", "is not a return state"));
                None
            }
        },
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        errors.push(FieldError::new("limit", "must be 1 to 500"));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let found = state.app.returns_queue(&caller.principal, filter, limit).await?;
    Ok(Json(ReturnListOut { returns: found.iter().map(ReturnOut::of_order).collect() }))
}

fn policy_out(policy: &ReturnPolicy) -> ReturnPolicyWire {
    ReturnPolicyWire {
        window_days: policy.window_days,
        non_returnable_skus: policy.non_returnable_skus.iter().cloned().collect(),
        reasons: policy.reasons.iter().map(|r| r.as_str().to_string()).collect(),
    }
}

/// The account's return eligibility rules.
#[utoipa::path(get, path = "/api/v1/return-policy", tag = "returns",
    responses((status = 200, body = ReturnPolicyWire)), security(("api_key" = [])))]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller<Support>,
) -> Result<Json<ReturnPolicyWire>, ApiError> {
    Ok(Json(policy_out(&state.app.return_policy(&caller.principal).await?)))
}

/// Replace the account's return eligibility rules.
#[utoipa::path(put, path = "/api/v1/return-policy", tag = "returns", request_body = ReturnPolicyWire,
    responses((status = 200, body = ReturnPolicyWire), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn put_policy(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    ApiJson(body): ApiJson<ReturnPolicyWire>,
) -> Result<Json<ReturnPolicyWire>, ApiError> {
    let mut errors = Vec::new();
    if body.window_days > 3650 {
        errors.push(FieldError::new("window_days", "must be at most 3650"));
    }
    let mut skus = BTreeSet::new();
    for (i, sku) in body.non_returnable_skus.iter().enumerate() {
        let sku = sku.trim();
        if sku.is_empty() || sku.len() > 100 {
            errors.push(FieldError::new(format!("non_returnable_skus[{i}]"), "must be 1 to 100 characters"));
        } else {
            skus.insert(sku.to_string());
        }
    }
    let mut reasons = Vec::new();
    for (i, raw) in body.reasons.iter().enumerate() {
        match ReturnReason::parse(raw) {
            Some(r) if !reasons.contains(&r) => reasons.push(r),
            Some(_) => {}
            None => errors.push(FieldError::new(format!("reasons[{i}]"), format!("must be one of {}", reason_list()))),
        }
    }
    if body.reasons.is_empty() {
        errors.push(FieldError::new("reasons", "accept at least one reason"));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let policy = ReturnPolicy { window_days: body.window_days, non_returnable_skus: skus, reasons };
    state.app.put_return_policy(&caller.principal, policy.clone()).await?;
    Ok(Json(policy_out(&policy)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReturnKpiParams {
    /// Start (RFC 3339 or YYYY-MM-DD, inclusive); default 30 days before `to`.
    pub from: Option<String>,
    /// End (RFC 3339 or YYYY-MM-DD, exclusive); default now.
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonRateOut {
    pub reason: String,
    /// Delivered orders with a return line of this reason.
    pub orders: u32,
    /// Percent of delivered orders.
    pub rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuRateOut {
    pub sku: String,
    pub ordered_units: u32,
    pub returned_units: u32,
    /// Percent of ordered units returned.
    pub rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundTimeOut {
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// Return figures of the orders placed in a period (rejected returns do not count).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnKpisOut {
    pub from: String,
    pub to: String,
    pub delivered_orders: u32,
    pub returned_orders: u32,
    pub return_rate: Option<f64>,
    pub by_reason: Vec<ReasonRateOut>,
    pub by_sku: Vec<SkuRateOut>,
    pub request_to_refund_hours: RefundTimeOut,
}

fn round(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 100.0).round() / 100.0)
}

/// Return rate by reason and SKU, and time from request to refund, over orders placed in a period.
#[utoipa::path(get, path = "/api/v1/kpis/returns", tag = "kpis", params(ReturnKpiParams),
    responses((status = 200, body = ReturnKpisOut), (status = 422, body = Problem)), security(("api_key" = [])))]
pub async fn return_kpis(
    State(state): State<AppState>,
    caller: Caller<Support>,
    params: Result<Query<ReturnKpiParams>, QueryRejection>,
) -> Result<Json<ReturnKpisOut>, ApiError> {
    let Query(p) = params.map_err(|r| ApiError::BadRequest {
        detail: r.body_text(),
        errors: vec![FieldError::new("query", r.body_text())],
    })?;
    let mut errors = Vec::new();
    let mut bound = |field: &str, raw: &Option<String>| match raw.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => super::kpis::parse_bound(v).or_else(|| {
            errors.push(FieldError::new(field, "must be an RFC 3339 time or a date YYYY-MM-DD"));
            None
        }),
    };
    let to = bound("to", &p.to);
    let from = bound("from", &p.from);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let to = to.unwrap_or_else(|| state.app.clock().now());
    let from = from.unwrap_or(to - chrono::Duration::days(30));
    let k = state.app.return_kpis(&caller.principal, from, to).await?;
    Ok(Json(ReturnKpisOut {
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        delivered_orders: k.delivered_orders,
        returned_orders: k.returned_orders,
        return_rate: round(k.return_rate),
        by_reason: k
            .by_reason
            .iter()
            .map(|r| ReasonRateOut { reason: r.reason.as_str().to_string(), orders: r.orders, rate: round(r.rate) })
            .collect(),
        by_sku: k
            .by_sku
            .iter()
            .map(|s| SkuRateOut {
                sku: s.sku.clone(),
                ordered_units: s.ordered_units,
                returned_units: s.returned_units,
                rate: round(s.rate),
            })
            .collect(),
        request_to_refund_hours: RefundTimeOut {
            median: round(k.request_to_refund_hours_median),
            p90: round(k.request_to_refund_hours_p90),
        },
    }))
}

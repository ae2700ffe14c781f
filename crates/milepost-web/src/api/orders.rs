//! Orders and shipments: create or update an order, read one with its whole record, search, and
//! register a shipment.

use super::wire::{OrderIn, OrderListOut, OrderOut, OrderSummaryOut, OrderWriteOut, ShipmentIn, ShipmentOut};
use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{ApiJson, Caller, Ingest, Support};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use milepost_app::records::{OrderQuery, UpsertOutcome};
use milepost_domain::{OrderNumber, OrderStatus};
use serde::Deserialize;
use utoipa::IntoParams;

/// Create or update an order (idempotent on `order_number`).
#[utoipa::path(post, path = "/api/v1/orders", request_body = OrderIn, tag = "orders",
    responses((status = 201, body = OrderWriteOut), (status = 200, body = OrderWriteOut),
              (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_order(
    State(state): State<AppState>,
    caller: Caller<Ingest>,
    ApiJson(body): ApiJson<OrderIn>,
) -> Result<(StatusCode, Json<OrderWriteOut>), ApiError> {
    let caller = caller.principal;
    let order = body.into_domain().map_err(ApiError::invalid)?;
    let order_number = order.order_number.to_string();
    let outcome = state.app.put_order(&caller, order).await?;
    let (status, result) = match outcome {
        UpsertOutcome::Created => (StatusCode::CREATED, "created"),
        UpsertOutcome::Updated => (StatusCode::OK, "updated"),
    };
    Ok((status, Json(OrderWriteOut { order_number, result: result.into() })))
}

fn order_number_or_404(raw: &str) -> Result<OrderNumber, ApiError> {
    OrderNumber::parse(raw).map_err(|_| ApiError::NotFound(format!("order {raw} not found")))
}

/// One order with items, shipments, status, timelines and exceptions.
#[utoipa::path(get, path = "/api/v1/orders/{order_number}", tag = "orders",
    params(("order_number" = String, Path)),
    responses((status = 200, body = OrderOut), (status = 404, body = Problem), (status = 401, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller<Support>,
    Path(order_number): Path<String>,
) -> Result<Json<OrderOut>, ApiError> {
    let caller = caller.principal;
    let number = order_number_or_404(&order_number)?;
    // One store read: a thread hop and a snapshot for the whole answer.
    let view = state.app.order_view(&caller, &number).await?;
    let mut out = OrderOut::from_record(&view.record);
    out.notifications = super::notifications::NotificationOut::values(&view.notifications);
    out.claims = view.claims.iter().map(super::claims::ClaimOut::from_record).collect();
    Ok(Json(out))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Order status roll-up, e.g. `shipped`.
    pub status: Option<String>,
    /// Only orders with an open exception of this kind (`any` for any).
    pub exception: Option<String>,
    /// Order number (or its start), tracking number, customer e-mail or name.
    pub q: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Search orders, newest first, with cursor paging.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(SearchParams),
    responses((status = 200, body = OrderListOut), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn search_orders(
    State(state): State<AppState>,
    caller: Caller<Support>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<OrderListOut>, ApiError> {
    let caller = caller.principal;
    let Query(params) = params.map_err(|r| ApiError::BadRequest {
        detail: r.body_text(),
        errors: vec![FieldError::new("query", r.body_text())],
    })?;
    let mut errors = Vec::new();
    let status = match params.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => OrderStatus::parse(s).or_else(|| {
            errors.push(FieldError::new("status", format!("unknown order status `{s}`")));
            None
        }),
        None => None,
    };
    let cursor = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => c.parse::<i64>().ok().filter(|v| *v > 0).or_else(|| {
            errors.push(FieldError::new("cursor", "is not a cursor this API returned"));
            None
        }),
        None => None,
    };
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        errors.push(FieldError::new("limit", "must be between 1 and 200"));
    }
    if params.q.as_deref().is_some_and(|q| q.chars().count() > 200) {
        errors.push(FieldError::new("q", "must be at most 200 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let page = state
        .app
        .search_orders(&caller, OrderQuery { status, exception: params.exception, text: params.q, cursor, limit })
        .await?;
    Ok(Json(OrderListOut {
        orders: page.orders.iter().map(OrderSummaryOut::from_summary).collect(),
        next_cursor: page.next_cursor.map(|c| c.to_string()),
    }))
}

/// Register a shipment (a parcel) on an order, with the items it carries.
#[utoipa::path(post, path = "/api/v1/orders/{order_number}/shipments", tag = "orders",
    params(("order_number" = String, Path)), request_body = ShipmentIn,
    responses((status = 201, body = ShipmentOut), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn add_shipment(
    State(state): State<AppState>,
    caller: Caller<Ingest>,
    Path(order_number): Path<String>,
    ApiJson(body): ApiJson<ShipmentIn>,
) -> Result<(StatusCode, Json<ShipmentOut>), ApiError> {
    let caller = caller.principal;
    let number = order_number_or_404(&order_number)?;
    let shipment = body.into_domain().map_err(ApiError::invalid)?;
    let record = state.app.add_shipment(&caller, &number, shipment).await?;
    Ok((StatusCode::CREATED, Json(ShipmentOut::from_record(&record))))
}

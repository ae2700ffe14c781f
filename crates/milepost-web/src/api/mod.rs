//! API v1: JSON endpoints for integrators (DESIGN §6). Handlers are thin: authenticate, parse
//! the wire value into domain values, call one use case, map the result.

pub mod events;
pub mod exceptions;
pub mod kpis;
pub mod orders;
pub mod wire;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders", post(orders::put_order).get(orders::search_orders))
        .route("/api/v1/orders/{order_number}", get(orders::get_order))
        .route("/api/v1/orders/{order_number}/shipments", post(orders::add_shipment))
        .route("/api/v1/events", post(events::post_events))
        .route("/api/v1/exceptions", get(exceptions::list_exceptions))
        .route("/api/v1/exceptions/{id}/acknowledge", post(exceptions::acknowledge))
        .route("/api/v1/exceptions/{id}/assign", post(exceptions::assign))
        .route("/api/v1/exceptions/{id}/resolve", post(exceptions::resolve))
        .route("/api/v1/lanes", get(exceptions::lanes))
        .route("/api/v1/kpis", get(kpis::kpis))
}

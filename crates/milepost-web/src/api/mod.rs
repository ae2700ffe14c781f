//! API v1: JSON endpoints for integrators (DESIGN §6). Handlers are thin: authenticate, parse
//! the wire value into domain values, call one use case, map the result.

pub mod branding;
pub mod events;
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
        .route("/api/v1/branding", get(branding::get_branding).put(branding::put_branding))
}

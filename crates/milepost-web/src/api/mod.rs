//! API v1: JSON endpoints for integrators (DESIGN §6). Handlers are thin: authenticate, parse
//! the wire value into domain values, call one use case, map the result.

pub mod branding;
pub mod carrier_codes;
pub mod claims;
pub mod decisions;
pub mod epcis;
pub mod events;
pub mod exceptions;
pub mod imports;
pub mod integrations;
pub mod kpis;
pub mod notifications;
pub mod orders;
pub mod returns;
pub mod scans;
pub mod wire;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post, put};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders", post(orders::put_order).get(orders::search_orders))
        .route("/api/v1/orders/{order_number}", get(orders::get_order))
        .route("/api/v1/orders/{order_number}/shipments", post(orders::add_shipment))
        .route("/api/v1/orders/{order_number}/returns", post(returns::request_return))
        .route("/api/v1/returns", get(returns::list_returns))
        .route("/api/v1/returns/{id}", get(returns::get_return))
        .route("/api/v1/returns/{id}/transitions", post(returns::transition))
        .route("/api/v1/returns/{id}/inspection", post(returns::inspect))
        .route("/api/v1/exceptions/{id}/claims", post(claims::open_claim))
        .route("/api/v1/claims/{id}", get(claims::get_claim))
        .route("/api/v1/claims/{id}/transitions", post(claims::transition))
        .route("/api/v1/orders/{order_number}/claims", get(claims::order_claims))
        .route("/api/v1/orders/{order_number}/shipments/{tracking_number}/decision", post(decisions::decide))
        .route("/api/v1/kpis/returns", get(returns::return_kpis))
        .route("/api/v1/return-policy", get(returns::get_policy).put(returns::put_policy))
        .route("/api/v1/events", post(events::post_events))
        .route("/api/v1/exceptions", get(exceptions::list_exceptions))
        .route("/api/v1/exceptions/{id}/acknowledge", post(exceptions::acknowledge))
        .route("/api/v1/exceptions/{id}/assign", post(exceptions::assign))
        .route("/api/v1/exceptions/{id}/resolve", post(exceptions::resolve))
        .route("/api/v1/lanes", get(exceptions::lanes))
        .route("/api/v1/kpis", get(kpis::kpis))
        .route("/api/v1/branding", get(branding::get_branding).put(branding::put_branding))
        .merge(ingest_router())
        .merge(notifications_router())
}

/// The outbox seen from the API: dead letters, resend, delivery settings.
fn notifications_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications/dead", get(notifications::dead_letters))
        .route("/api/v1/notifications/{id}/resend", post(notifications::resend))
        .route("/api/v1/notification-settings", put(notifications::put_settings).get(notifications::get_settings))
        .route("/api/v1/notification-policy", put(notifications::put_policy).get(notifications::get_policy))
        .route("/api/v1/orders/{order_number}/notifications/preview", get(notifications::preview))
}

/// Ingest from the real world: integrations, code mappings, scans, EPCIS and order files.
fn ingest_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/integrations", post(integrations::create_integration))
        .route("/api/v1/carrier-codes/unmapped", get(carrier_codes::unmapped))
        .route("/api/v1/carrier-codes/{carrier}/{code}", put(carrier_codes::put_mapping))
        .route("/api/v1/scans", post(scans::post_scan))
        .route("/api/v1/epcis/events", post(epcis::capture))
        .route("/api/v1/imports", post(imports::post_import))
}

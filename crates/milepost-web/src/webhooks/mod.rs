//! Webhooks from senders that cannot hold an API key: carriers, aggregators and store platforms.
//! The integration id in the path says whose account and which adapter; the signature header
//! proves the body came from whoever holds the integration's shared secret. Handlers hand the
//! exact bytes to the use case (signatures are over the bytes received) and answer with a small
//! summary, so senders are not kept waiting and can see what was taken.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::RawBody;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use milepost_app::ingest::SignatureHeaders;
use serde::Serialize;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/carriers/{integration}", post(carrier_webhook))
        .route("/webhooks/channels/{integration}", post(channel_webhook))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

fn signature_headers(headers: &HeaderMap) -> SignatureHeaders {
    SignatureHeaders {
        milepost: header(headers, "milepost-signature"),
        easypost: header(headers, "x-hmac-signature"),
        aftership: header(headers, "aftership-hmac-sha256"),
        shippo: header(headers, "shippo-auth-signature"),
        shopify: header(headers, "x-shopify-hmac-sha256"),
    }
}

/// How many of a webhook's events were taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct CarrierWebhookOut {
    pub accepted: u32,
    pub duplicate: u32,
    pub rejected: u32,
}

/// Tracking updates from a carrier, an aggregator or a generic sender.
#[utoipa::path(post, path = "/webhooks/carriers/{integration}", tag = "webhooks",
    params(("integration" = String, Path, description = "the id `POST /api/v1/integrations` answered")),
    request_body(content = Object, description = "the sender's own JSON (UPS, FedEx, USPS, DHL, EasyPost, AfterShip, Shippo or generic), signed"),
    responses((status = 200, body = CarrierWebhookOut),
              (status = 401, body = Problem, description = "missing, stale or wrong signature; nothing stored"),
              (status = 404, body = Problem, description = "no such carrier integration"),
              (status = 422, body = Problem, description = "the body is not what the sender sends; names the JSON path")))]
pub async fn carrier_webhook(
    State(state): State<AppState>,
    Path(integration): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<CarrierWebhookOut>, ApiError> {
    let counts = state.app.receive_carrier_webhook(&integration, &signature_headers(&headers), &body).await?;
    for (result, n) in [("accepted", counts.accepted), ("duplicate", counts.duplicate), ("rejected", counts.rejected)] {
        state.metrics.events_ingested("carrier", result, u64::from(n));
    }
    Ok(Json(CarrierWebhookOut { accepted: counts.accepted, duplicate: counts.duplicate, rejected: counts.rejected }))
}

/// What a store platform's webhook did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelWebhookOut {
    pub topic: String,
    /// `upserted`, `cancelled`, `shipment_registered`, `fulfillment_withdrawn`, `order_unknown` or
    /// `ignored`.
    pub result: String,
    pub order_number: Option<String>,
    /// Tracking numbers registered as shipments (for `fulfillment_withdrawn`: the ones withdrawn).
    pub shipments: Vec<String>,
    pub accepted: u32,
    pub duplicate: u32,
    pub rejected: u32,
}

/// Order and fulfillment webhooks from Shopify (`X-Shopify-Topic`, `X-Shopify-Hmac-Sha256`).
#[utoipa::path(post, path = "/webhooks/channels/{integration}", tag = "webhooks",
    params(("integration" = String, Path, description = "the id of a `shopify` integration")),
    request_body(content = Object, description = "Shopify's REST webhook payload for the topic"),
    responses((status = 200, body = ChannelWebhookOut),
              (status = 401, body = Problem, description = "missing or wrong signature; nothing stored"),
              (status = 404, body = Problem, description = "no such channel integration"),
              (status = 422, body = Problem, description = "the body does not read as the topic's payload")))]
pub async fn channel_webhook(
    State(state): State<AppState>,
    Path(integration): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<ChannelWebhookOut>, ApiError> {
    let topic = header(&headers, "x-shopify-topic");
    let outcome =
        state.app.receive_channel_webhook(&integration, &signature_headers(&headers), topic.as_deref(), &body).await?;
    Ok(Json(ChannelWebhookOut {
        topic: outcome.topic,
        result: outcome.result.to_string(),
        order_number: outcome.order_number,
        shipments: outcome.shipments,
        accepted: outcome.events.accepted,
        duplicate: outcome.events.duplicate,
        rejected: outcome.events.rejected,
    }))
}

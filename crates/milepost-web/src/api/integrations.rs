//! Integrations: an account's admin registers a webhook sender (a carrier, an aggregator, a
//! generic sender or Shopify) with the shared secret it signs with, and gets the id that names
//! its webhook URL. The secret is shared (both sides compute the HMAC), so Milepost keeps it as
//! given and never shows it again.

use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Admin, ApiJson, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use milepost_app::ingest::IntegrationKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationIn {
    /// `ups`, `fedex`, `usps`, `dhl`, `easypost`, `aftership`, `shippo`, `generic` or `shopify`.
    pub kind: String,
    /// The shared secret the sender signs its webhooks with (16 to 256 characters).
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationOut {
    pub id: String,
    pub kind: String,
    /// Where the sender posts: `/webhooks/carriers/{id}` or, for Shopify, `/webhooks/channels/{id}`.
    pub webhook_path: String,
}

/// Register a webhook sender and its shared secret.
#[utoipa::path(post, path = "/api/v1/integrations", tag = "integrations", request_body = IntegrationIn,
    responses((status = 201, body = IntegrationOut), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_integration(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    ApiJson(body): ApiJson<IntegrationIn>,
) -> Result<(StatusCode, Json<IntegrationOut>), ApiError> {
    let kind: IntegrationKind =
        body.kind.parse().map_err(|msg: String| ApiError::invalid(vec![FieldError::new("kind", msg)]))?;
    let id = state.app.create_integration(&caller.principal, kind, &body.secret).await?;
    let webhook_path = match kind {
        IntegrationKind::Shopify => format!("/webhooks/channels/{id}"),
        IntegrationKind::Tracking(_) => format!("/webhooks/carriers/{id}"),
    };
    Ok((StatusCode::CREATED, Json(IntegrationOut { id, kind: kind.to_string(), webhook_path })))
}

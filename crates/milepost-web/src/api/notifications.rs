//! Notifications over the API: each order's messages appear on its record (`notifications` in
//! `GET /api/v1/orders/{n}`, filled from here), admins see the dead-letter list and resend from
//! it, and set where the account's signed webhooks and staff alerts go. Secrets are write-only.

use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Admin, ApiJson, Caller, RawBody, Support, media_type};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use milepost_app::notifications::{NotificationRecord, NotificationSettings, SettingsChange};
use milepost_domain::OrderNumber;
use milepost_domain::notify::{Notice, NotifyChannel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One notification as an order's record and the dead-letter list show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: String,
    pub order_number: String,
    /// `customer` or `internal` (the merchant's staff and systems).
    pub audience: String,
    /// `email`, `sms` or `webhook`.
    pub channel: String,
    /// The customer notice, e.g. `delivered` (absent for an exception alert).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
    /// The exception kind an alert is about (absent for a notice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The team an alert goes to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Tracking numbers the message is about (empty for order-level messages).
    pub shipments: Vec<String>,
    /// `pending`, `sent`, `failed` (dead-lettered) or `suppressed`.
    pub state: String,
    pub attempts: u32,
    pub dedupe_key: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// When a pending message is next tried.
    pub next_attempt_at: Option<String>,
    /// The last error, or why a message was suppressed.
    pub last_error: Option<String>,
}

impl NotificationOut {
    pub fn from_record(r: &NotificationRecord) -> Self {
        NotificationOut {
            id: r.id.to_string(),
            order_number: r.order_number.clone(),
            audience: r.audience.clone(),
            channel: r.channel.clone(),
            milestone: r.milestone.clone(),
            kind: r.kind.clone(),
            team: r.team.clone(),
            shipments: r.shipments.clone(),
            state: r.state.clone(),
            attempts: r.attempts,
            dedupe_key: r.dedupe_key.clone(),
            created_at: r.created_at.clone(),
            sent_at: r.sent_at.clone(),
            next_attempt_at: r.next_attempt_at.map(|t| t.to_rfc3339()),
            last_error: r.last_error.clone(),
        }
    }

    /// The JSON values `OrderOut.notifications` carries.
    pub fn values(records: &[NotificationRecord]) -> Vec<serde_json::Value> {
        records.iter().filter_map(|r| serde_json::to_value(NotificationOut::from_record(r)).ok()).collect()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLettersOut {
    pub notifications: Vec<NotificationOut>,
}

/// Notifications given up on after their last attempt, newest first.
#[utoipa::path(get, path = "/api/v1/notifications/dead", tag = "notifications",
    responses((status = 200, body = DeadLettersOut), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("api_key" = [])))]
pub async fn dead_letters(
    State(state): State<AppState>,
    caller: Caller<Admin>,
) -> Result<Json<DeadLettersOut>, ApiError> {
    let records = state.app.dead_notifications(&caller.principal).await?;
    Ok(Json(DeadLettersOut { notifications: records.iter().map(NotificationOut::from_record).collect() }))
}

/// Queue a failed or suppressed notification again, due now, with fresh attempts.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/resend", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = NotificationOut), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("api_key" = [])))]
pub async fn resend(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path(id): Path<String>,
) -> Result<Json<NotificationOut>, ApiError> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::NotFound(format!("notification {id} not found")))?;
    let record = state.app.resend_notification(&caller.principal, id).await?;
    Ok(Json(NotificationOut::from_record(&record)))
}

/// Where the account's notifications go. Leaving a field out (or empty) turns it off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettingsIn {
    /// The merchant endpoint that takes signed JSON webhooks (`Milepost-Signature`).
    pub webhook_url: Option<String>,
    /// The shared secret the webhooks are signed with (at least 16 characters).
    pub webhook_secret: Option<String>,
    /// Where staff alerts about exceptions are e-mailed.
    pub alert_email: Option<String>,
    /// A chat room's incoming webhook (Slack-compatible) that gets staff alerts too.
    pub chat_webhook_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationSettingsOut {
    pub webhook_url: Option<String>,
    /// Whether a webhook secret is set; the secret itself is never shown.
    pub webhook_secret_set: bool,
    pub alert_email: Option<String>,
    /// Whether a chat webhook is set; its URL is a secret and is never shown.
    pub chat_webhook_set: bool,
}

impl NotificationSettingsOut {
    fn from_settings(s: &NotificationSettings) -> Self {
        NotificationSettingsOut {
            webhook_url: s.webhook_url.clone(),
            webhook_secret_set: s.webhook_secret.is_some(),
            alert_email: s.alert_email.clone(),
            chat_webhook_set: s.chat_webhook_url.is_some(),
        }
    }
}

/// Set where the account's signed webhooks and staff alerts go.
#[utoipa::path(put, path = "/api/v1/notification-settings", tag = "notifications",
    request_body = NotificationSettingsIn,
    responses((status = 200, body = NotificationSettingsOut), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    ApiJson(body): ApiJson<NotificationSettingsIn>,
) -> Result<Json<NotificationSettingsOut>, ApiError> {
    let change = SettingsChange {
        webhook_url: body.webhook_url,
        webhook_secret: body.webhook_secret,
        alert_email: body.alert_email,
        chat_webhook_url: body.chat_webhook_url,
    };
    let stored = state.app.set_notification_settings(&caller.principal, change).await?;
    Ok(Json(NotificationSettingsOut::from_settings(&stored)))
}

/// The account's notification settings (without the secret).
#[utoipa::path(get, path = "/api/v1/notification-settings", tag = "notifications",
    responses((status = 200, body = NotificationSettingsOut)), security(("api_key" = [])))]
pub async fn get_settings(
    State(state): State<AppState>,
    caller: Caller<Admin>,
) -> Result<Json<NotificationSettingsOut>, ApiError> {
    let stored = state.app.notification_settings(&caller.principal).await?;
    Ok(Json(NotificationSettingsOut::from_settings(&stored)))
}

/// The media type policy documents travel in.
const TOML_MEDIA_TYPE: &str = "application/toml";

fn toml_response(document: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "application/toml; charset=utf-8")], document).into_response()
}

/// The account's notification policy as a complete TOML document (see `docs/notifications.md`):
/// its own sections, with every section it left out filled in from the built-in policy.
#[utoipa::path(get, path = "/api/v1/notification-policy", tag = "notifications",
    responses((status = 200, body = String, content_type = "application/toml"), (status = 401, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller<Support>,
) -> Result<axum::response::Response, ApiError> {
    Ok(toml_response(state.app.notification_policy(&caller.principal).await?))
}

/// Replace the account's notification policy with a TOML document (the same document
/// `milepost policy set --file` loads). Sections left out keep the built-in policy; an empty
/// document returns to it. Answers the complete policy now in force.
#[utoipa::path(put, path = "/api/v1/notification-policy", tag = "notifications",
    request_body(content = String, description = "the policy document", content_type = "application/toml"),
    responses((status = 200, body = String, content_type = "application/toml"),
              (status = 415, body = Problem, description = "not application/toml or text/plain"),
              (status = 422, body = Problem, description = "a bad value; `errors[].field` names it, e.g. `customer.standard[1]`")),
    security(("api_key" = [])))]
pub async fn put_policy(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<axum::response::Response, ApiError> {
    if !matches!(media_type(&headers).as_str(), TOML_MEDIA_TYPE | "text/plain" | "text/x-toml") {
        return Err(ApiError::UnsupportedMediaTypeFor("send the policy as application/toml".into()));
    }
    let document = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest {
        detail: "the policy document is not UTF-8".into(),
        errors: vec![FieldError::new("document", "must be UTF-8 text")],
    })?;
    Ok(toml_response(state.app.set_notification_policy(&caller.principal, document).await?))
}

#[derive(Debug, Deserialize)]
pub struct PreviewParams {
    pub milestone: Option<String>,
    pub channel: Option<String>,
}

/// The rendered e-mail of a preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewEmailOut {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A customer message as it would be sent now; nothing is queued or sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPreviewOut {
    pub order_number: String,
    pub milestone: String,
    /// `email` or `sms`.
    pub channel: String,
    /// `en` or `es`: the account's message language (its policy's `language`).
    pub language: String,
    /// The address the message would go to; absent when the order has none (it would be
    /// suppressed).
    pub to: Option<String>,
    /// The e-mail's subject, plain text and HTML (e-mail channel only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<PreviewEmailOut>,
    /// The plain text: the e-mail's text part, or the SMS.
    pub text: String,
}

/// Render the customer message an order would get for a milestone on a channel, with the
/// account's branding, language and a signed tracking link. Support role or above.
#[utoipa::path(get, path = "/api/v1/orders/{order_number}/notifications/preview", tag = "notifications",
    params(("order_number" = String, Path),
           ("milestone" = String, Query, description = "a customer notice: confirmed, shipped, delayed, out_for_delivery, delivery_attempted, available_for_pickup, delivered"),
           ("channel" = Option<String>, Query, description = "email (default) or sms")),
    responses((status = 200, body = NotificationPreviewOut), (status = 404, body = Problem),
              (status = 422, body = Problem, description = "`milestone` or `channel` names nothing we send")),
    security(("api_key" = [])))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller<Support>,
    Path(order_number): Path<String>,
    params: Result<Query<PreviewParams>, QueryRejection>,
) -> Result<Json<NotificationPreviewOut>, ApiError> {
    let Query(params) = params.map_err(|r| ApiError::BadRequest {
        detail: r.body_text(),
        errors: vec![FieldError::new("query", r.body_text())],
    })?;
    let mut errors = Vec::new();
    let notice = match params.milestone.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(FieldError::new("milestone", "is required"));
            None
        }
        Some(raw) => Notice::parse(raw).or_else(|| {
            errors.push(FieldError::new("milestone", format!("`{raw}` is not a customer notice")));
            None
        }),
    };
    let channel = match params.channel.as_deref().map(str::trim).unwrap_or("email") {
        "email" => Some(NotifyChannel::Email),
        "sms" => Some(NotifyChannel::Sms),
        other => {
            errors.push(FieldError::new("channel", format!("`{other}` is not email or sms")));
            None
        }
    };
    let (Some(notice), Some(channel)) = (notice, channel) else {
        return Err(ApiError::Unprocessable {
            detail: "the preview names nothing we send".into(),
            errors,
            results: None,
        });
    };
    let number =
        OrderNumber::parse(&order_number).map_err(|_| ApiError::NotFound(format!("order {order_number} not found")))?;
    let preview = state.app.preview_notification(&caller.principal, &number, notice, channel).await?;
    Ok(Json(NotificationPreviewOut {
        order_number: number.as_str().to_string(),
        milestone: notice.as_str().to_string(),
        channel: channel.as_str().to_string(),
        language: preview.language.code().to_string(),
        to: preview.to,
        email: preview.email.map(|e| PreviewEmailOut { subject: e.subject, text: e.text, html: e.html }),
        text: preview.text,
    }))
}

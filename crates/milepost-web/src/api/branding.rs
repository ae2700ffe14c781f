//! The account's branding for its customer pages (name, logo, colours, support contacts,
//! footer): read and replace, admin only. Colours must be hex; a colour too light for white
//! text is accepted but the pages fall back to a readable default (and the answer says so in
//! `page_colors`), so a brand can never make a customer page unreadable.

use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Admin, ApiJson, Caller};
use axum::Json;
use axum::extract::State;
use milepost_domain::branding::parse_public_url;
use milepost_domain::order::parse_email;
use milepost_domain::text::parse_free_text;
use milepost_domain::{Branding, HexColor};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Branding as sent: every field optional; a missing or null field is cleared.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandingIn {
    /// Shown in the page header and title.
    pub name: Option<String>,
    /// Absolute http(s) URL of the logo image.
    pub logo_url: Option<String>,
    /// Hex colour such as `#1d3f8c` (header, buttons, links).
    pub primary_color: Option<String>,
    /// Hex colour for focus rings and confirmations.
    pub accent_color: Option<String>,
    pub support_url: Option<String>,
    pub support_email: Option<String>,
    pub footer_text: Option<String>,
}

/// The colours pages actually use after the contrast check.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageColorsOut {
    pub primary: String,
    pub accent: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrandingOut {
    pub name: Option<String>,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub accent_color: Option<String>,
    pub support_url: Option<String>,
    pub support_email: Option<String>,
    pub footer_text: Option<String>,
    pub page_colors: PageColorsOut,
}

impl BrandingOut {
    fn from_domain(b: &Branding) -> Self {
        BrandingOut {
            name: b.name.clone(),
            logo_url: b.logo_url.clone(),
            primary_color: b.primary_color.map(|c| c.to_string()),
            accent_color: b.accent_color.map(|c| c.to_string()),
            support_url: b.support_url.clone(),
            support_email: b.support_email.clone(),
            footer_text: b.footer_text.clone(),
            page_colors: PageColorsOut { primary: b.page_primary().to_string(), accent: b.page_accent().to_string() },
        }
    }
}

impl BrandingIn {
    fn into_domain(self) -> Result<Branding, Vec<FieldError>> {
        let mut errors = Vec::new();
        let present = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let text = |field: &str, value: Option<String>, max: usize, errors: &mut Vec<FieldError>| {
            present(value).and_then(|v| {
                parse_free_text(&v, max).map_err(|e| errors.push(FieldError::new(field, e.to_string()))).ok()
            })
        };
        let name = text("name", self.name, 100, &mut errors);
        let footer_text = text("footer_text", self.footer_text, 500, &mut errors);
        let mut url = |field: &str, value: Option<String>| {
            present(value).and_then(|v| parse_public_url(&v).map_err(|m| errors.push(FieldError::new(field, m))).ok())
        };
        let logo_url = url("logo_url", self.logo_url);
        let support_url = url("support_url", self.support_url);
        let mut colour = |field: &str, value: Option<String>| {
            present(value).and_then(|v| HexColor::parse(&v).map_err(|m| errors.push(FieldError::new(field, m))).ok())
        };
        let primary_color = colour("primary_color", self.primary_color);
        let accent_color = colour("accent_color", self.accent_color);
        let support_email = present(self.support_email).and_then(|v| {
            parse_email(&v).map_err(|e| errors.push(FieldError::new("support_email", e.to_string()))).ok()
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Branding { name, logo_url, primary_color, accent_color, support_url, support_email, footer_text })
    }
}

/// The account's branding for its tracking page.
#[utoipa::path(get, path = "/api/v1/branding", tag = "branding",
    responses((status = 200, body = BrandingOut), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_branding(State(state): State<AppState>, caller: Caller<Admin>) -> Result<Json<BrandingOut>, ApiError> {
    let branding = state.app.branding(caller.principal.account_id).await?;
    Ok(Json(BrandingOut::from_domain(&branding)))
}

/// Replace the account's branding.
#[utoipa::path(put, path = "/api/v1/branding", tag = "branding", request_body = BrandingIn,
    responses((status = 200, body = BrandingOut), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_branding(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    ApiJson(body): ApiJson<BrandingIn>,
) -> Result<Json<BrandingOut>, ApiError> {
    let branding = body.into_domain().map_err(ApiError::invalid)?;
    state.app.put_branding(&caller.principal, branding.clone()).await?;
    Ok(Json(BrandingOut::from_domain(&branding)))
}

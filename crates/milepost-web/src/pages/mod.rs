//! The customer's pages (DESIGN §6): `GET /track` (lookup by order number and e-mail or ship-to
//! postal code), `GET /t/{token}` (a signed, expiring link that opens one order) and
//! `POST /returns/start` (a return request from the order page). Server-rendered HTML that works
//! without JavaScript, in the account's branding and the customer's language. Bad input gets a
//! friendly page, never a problem document; a wrong e-mail or postal code gets exactly the same
//! answer as an unknown order. Lookups are rate-limited per client address.
//!
//! The account a page serves: `?account=NAME` when given (the lookup form carries it along),
//! otherwise the only account when the database has exactly one (a single-merchant install and
//! the demo). Signed links and return forms name their account themselves.

pub mod i18n;
pub mod limit;
pub mod ops;
pub mod render;

use crate::AppState;
use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use i18n::Lang;
use milepost_app::records::{AccountId, OrderRecord};
use milepost_app::tracking::{Proof, TokenPurpose};
use milepost_domain::{Branding, ReturnItem, ReturnReason};
use render::{LookupForm, OrderPageExtras, PageContext, url_encode};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/track", get(track))
        .route("/t/{token}", get(tracking_link))
        .route("/returns/start", post(start_return))
        .merge(ops::router())
}

/// The client's address as the server saw it (proxies in front must be trusted and configured
/// for this to mean the real client; without a known address no limit applies).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TrackQuery {
    order_number: Option<String>,
    email: Option<String>,
    postal_code: Option<String>,
    account: Option<String>,
    lang: Option<String>,
    returned: Option<String>,
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

/// A page that could not be built because the store failed: a plain apology, never internals.
fn unavailable(lang: Lang) -> Response {
    let ctx = PageContext { lang, branding: Branding::default(), here: "/track".into() };
    let body = render::layout(&ctx, lang.t("page.title_lookup"), "<h1>503</h1><p>Please try again in a minute.</p>");
    html(StatusCode::SERVICE_UNAVAILABLE, body)
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

async fn branding_of(state: &AppState, account: Option<AccountId>) -> Branding {
    match account {
        Some(account) => state.app.branding(account).await.unwrap_or_default(),
        None => Branding::default(),
    }
}

/// `GET /track`: the form, or the order when the pair matches.
async fn track(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    query: Result<Query<TrackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(query) = query.unwrap_or_default();
    let lang = Lang::choose(query.lang.as_deref(), accept_language(&headers));
    let account_name = non_empty(&query.account).map(str::to_string);
    let account = match state.app.page_account(account_name.as_deref()).await {
        Ok(account) => account,
        Err(_) => return unavailable(lang),
    };
    let form = LookupForm {
        order_number: query.order_number.clone().unwrap_or_default(),
        email: query.email.clone().unwrap_or_default(),
        postal_code: query.postal_code.clone().unwrap_or_default(),
        account: account_name.clone(),
    };
    let mut here = String::from("/track");
    let mut params = Vec::new();
    for (key, value) in [
        ("account", &query.account),
        ("order_number", &query.order_number),
        ("email", &query.email),
        ("postal_code", &query.postal_code),
    ] {
        if let Some(v) = non_empty(value) {
            params.push(format!("{key}={}", url_encode(v)));
        }
    }
    if !params.is_empty() {
        here.push('?');
        here.push_str(&params.join("&"));
    }
    let ctx = PageContext { lang, branding: branding_of(&state, account).await, here };

    let order_number = non_empty(&query.order_number);
    let proof = match (non_empty(&query.email), non_empty(&query.postal_code)) {
        (Some(email), _) => Some(Proof::Email(email.to_string())),
        (None, Some(postal)) => Some(Proof::PostalCode(postal.to_string())),
        (None, None) => None,
    };
    if order_number.is_none() && proof.is_none() {
        return html(StatusCode::OK, render::lookup_page(&ctx, &form, None));
    }
    if let Err(wait) = state.track_limiter.check(client, Instant::now()) {
        let mut response = (StatusCode::TOO_MANY_REQUESTS, lang.t("form.rate_limited")).into_response();
        let headers = response.headers_mut();
        headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        return response;
    }
    let (Some(order_number), Some(proof)) = (order_number, proof) else {
        return html(StatusCode::BAD_REQUEST, render::lookup_page(&ctx, &form, Some(lang.t("form.missing"))));
    };
    let started = tokio::time::Instant::now();
    match state.app.track_lookup(account, order_number, &proof).await {
        Ok(Some((account, record))) => order_view(&state, &ctx, account, &record, false, None),
        Ok(None) => {
            // A miss answers no sooner than a fixed floor, so that "this order exists but the
            // e-mail is wrong" and "no such order" cannot be told apart by timing either.
            tokio::time::sleep_until(started + MISS_FLOOR).await;
            html(StatusCode::NOT_FOUND, render::lookup_page(&ctx, &form, Some(lang.t("form.not_found"))))
        }
        Err(_) => unavailable(lang),
    }
}

/// The least time a failed lookup takes; well above the work a lookup does.
const MISS_FLOOR: std::time::Duration = std::time::Duration::from_millis(25);

fn order_view(
    state: &AppState,
    ctx: &PageContext,
    account: AccountId,
    record: &OrderRecord,
    return_confirmed: bool,
    return_error: Option<&str>,
) -> Response {
    let token = state.app.return_form_token(account, &record.order.order_number);
    let extras = OrderPageExtras { return_token: Some(&token), return_confirmed, return_error };
    let status = if return_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, render::order_page(ctx, record, state.app.clock().now(), &extras))
}

/// `GET /t/{token}`: one order from a signed link.
async fn tracking_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    query: Result<Query<TrackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(query) = query.unwrap_or_default();
    let lang = Lang::choose(query.lang.as_deref(), accept_language(&headers));
    match state.app.order_by_token(&token, TokenPurpose::View).await {
        Ok(Some((claim, record))) => {
            let ctx = PageContext {
                lang,
                branding: branding_of(&state, Some(claim.account)).await,
                here: format!("/t/{}", url_encode(&token)),
            };
            order_view(&state, &ctx, claim.account, &record, non_empty(&query.returned).is_some(), None)
        }
        Ok(None) => {
            let ctx = PageContext { lang, branding: Branding::default(), here: "/track".into() };
            html(
                StatusCode::NOT_FOUND,
                render::lookup_page(&ctx, &LookupForm::default(), Some(lang.t("form.link_invalid"))),
            )
        }
        Err(_) => unavailable(lang),
    }
}

/// `POST /returns/start`: a return request from the order page's form. The form's token is the
/// CSRF check: it is signed, names the order, and expires a few hours after the page was shown.
async fn start_return(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let fields = form.map(|f| f.0).unwrap_or_default();
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let lang = Lang::choose(field("lang").as_deref(), accept_language(&headers));
    let token = field("token").unwrap_or_default();
    let found = match state.app.order_by_token(&token, TokenPurpose::ReturnForm).await {
        Ok(found) => found,
        Err(_) => return unavailable(lang),
    };
    let Some((claim, record)) = found else {
        let ctx = PageContext { lang, branding: Branding::default(), here: "/track".into() };
        return html(
            StatusCode::FORBIDDEN,
            render::lookup_page(&ctx, &LookupForm::default(), Some(lang.t("returns.form_expired"))),
        );
    };
    let view_link = state.app.tracking_link(claim.account, &claim.order_number);
    let view_token = view_link.rsplit('/').next().unwrap_or_default().to_string();
    let ctx = PageContext {
        lang,
        branding: branding_of(&state, Some(claim.account)).await,
        here: format!("/t/{}", url_encode(&view_token)),
    };
    let reason = field("reason").as_deref().and_then(ReturnReason::parse);
    let mut items = Vec::new();
    let mut bad_quantity = false;
    for (key, sku) in fields.iter().filter(|(k, _)| k.starts_with("sku_")) {
        let index = &key["sku_".len()..];
        let raw = field(&format!("qty_{index}")).unwrap_or_default();
        match raw.parse::<u32>() {
            Ok(0) => {}
            Ok(quantity) => items.push((sku.clone(), quantity)),
            Err(_) if raw.is_empty() => {}
            Err(_) => bad_quantity = true,
        }
    }
    let refuse = |message: &str| order_view(&state, &ctx, claim.account, &record, false, Some(message));
    if bad_quantity {
        return refuse(lang.t("returns.error_quantity"));
    }
    if items.is_empty() {
        return refuse(lang.t("returns.error_none"));
    }
    let Some(reason) = reason else { return refuse(lang.t("returns.error_reason")) };
    let note = field("note").filter(|n| !n.is_empty()).map(|n| n.chars().take(1000).collect::<String>());
    let items = items.into_iter().map(|(sku, quantity)| ReturnItem { sku, quantity, reason }).collect();
    match state.app.request_return_as_customer(&claim, items, note).await {
        Ok(_) => {
            Redirect::to(&format!("/t/{}?lang={}&returned=1", url_encode(&view_token), lang.code())).into_response()
        }
        Err(milepost_app::AppError::Invalid { .. }) => refuse(lang.t("returns.error_quantity")),
        Err(_) => unavailable(lang),
    }
}

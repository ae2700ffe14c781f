//! The operations dashboard under `/ops` (DESIGN §6, issue 5): staff log in with a password and
//! work the exception queue, read an order's one timeline, search orders and clean up carrier
//! code mappings, in server-rendered HTML that needs no JavaScript. Handlers stay thin: they
//! read the session cookie, check the CSRF token and the role on every POST, call one use case
//! of `milepost-app` as the staff user (recorded as `staff:<email>`), and render.
//!
//! Cookies: the session cookie `mp_ops` is `HttpOnly`, `SameSite=Strict`, scoped to `/ops`, and
//! `Secure` when `MILEPOST_PUBLIC_URL` is https. The login form has its own CSRF token bound to a
//! short-lived random cookie (double submit), so another site cannot log a browser into an
//! account of its choosing either. Login attempts are rate limited per client address.

pub mod chart;
pub mod render;

use super::ClientAddr;
use crate::AppState;
use crate::pages::render::url_encode;
use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::DateTime;
use milepost_app::records::{ExceptionAction, ExceptionQuery, ExceptionRecord, OrderQuery};
use milepost_app::staff::StaffSession;
use milepost_app::{AppError, Milepost};
use milepost_domain::exceptions::{ExceptionKind, ExceptionState};
use milepost_domain::return_to_sender::SenderDecision;
use milepost_domain::text::{parse_free_text, parse_identifier};
use milepost_domain::{Direction, Milestone, OrderNumber, ReturnState, Shipment, SourceOfTruth, TrackingNumber};
use serde::Deserialize;
use std::time::Instant;

/// The session cookie.
const SESSION_COOKIE: &str = "mp_ops";
/// The login form's double-submit cookie.
const LOGIN_COOKIE: &str = "mp_ops_login";
/// Login attempts allowed per client address per minute.
pub const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 10;
/// Rows read per exception state for the queue page.
const QUEUE_PAGE: u32 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ops", get(|| async { Redirect::to("/ops/exceptions") }))
        .route("/ops/login", get(login_form).post(login))
        .route("/ops/logout", post(logout))
        .route("/ops/exceptions", get(queue))
        .route("/ops/exceptions/{id}/{action}", post(act_on_exception))
        .route("/ops/returns", get(returns_queue))
        .route("/ops/orders", get(search))
        .route("/ops/orders/{order_number}", get(order_view))
        .route("/ops/orders/{order_number}/shipments/{tracking_number}/decision", post(decide_parcel))
        .route("/ops/cleanup", get(cleanup))
        .route("/ops/insights", get(insights))
        .route("/ops/cleanup/codes", post(map_code))
}

/// An HTML answer that no cache keeps and no other site frames; no script may run.
fn page(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

fn forbidden(session: Option<&StaffSession>, message: &str) -> Response {
    page(StatusCode::FORBIDDEN, render::message_page(session, "Not allowed", message))
}

fn unavailable(session: Option<&StaffSession>) -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        render::message_page(session, "Temporarily unavailable", "Please try again in a minute."),
    )
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn secure_cookies(app: &Milepost) -> bool {
    app.public_url().starts_with("https://")
}

fn set_cookie(app: &Milepost, name: &str, value: &str, path: &str, max_age: i64) -> HeaderValue {
    let secure = if secure_cookies(app) { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("mp_ops=; Max-Age=0"))
}

/// The logged-in staff user of a request. Without a live session a page redirects to the login
/// form and a POST is refused, before any body is read.
pub struct Staff(pub StaffSession);

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let id = cookie_value(&parts.headers, SESSION_COOKIE).unwrap_or_default();
        match state.app.staff_session(id).await {
            Ok(Some(session)) => Ok(Staff(session)),
            Ok(None) if parts.method == Method::GET || parts.method == Method::HEAD => {
                Err(Redirect::to("/ops/login").into_response())
            }
            Ok(None) => Err(forbidden(None, "Your session has ended. Log in again.")),
            Err(_) => Err(unavailable(None)),
        }
    }
}

/// Form fields as pairs; a body that is not a form reads as no fields (and so fails the CSRF
/// check rather than erroring).
fn fields(form: Result<axum::Form<Vec<(String, String)>>, FormRejection>) -> Vec<(String, String)> {
    form.map(|f| f.0).unwrap_or_default()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Checks a POST of the dashboard: the CSRF token must be the session's, and the user's role
/// must allow changes. Answers the refusal to send, if any.
fn refuse_post(state: &AppState, session: &StaffSession, fields: &[(String, String)]) -> Option<Response> {
    if !state.app.staff_csrf_ok(session, field(fields, "csrf").unwrap_or_default()) {
        return Some(forbidden(Some(session), "This form has expired. Go back, reload the page and try again."));
    }
    if !session.may_act() {
        return Some(forbidden(Some(session), "Your role may look but not change anything."));
    }
    None
}

fn login_token(app: &Milepost, nonce: &str) -> String {
    hex::encode(app.link_signer().mac_of(format!("ops-login|{nonce}").as_bytes()))
}

fn login_response(state: &AppState, status: StatusCode, email: &str, message: Option<&str>) -> Response {
    let nonce = milepost_app::tracking::generate_secret();
    let mut response = page(status, render::login_page(&login_token(&state.app, &nonce), email, message));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state.app, LOGIN_COOKIE, &nonce, "/ops/login", 3600));
    response
}

/// `GET /ops/login`.
async fn login_form(State(state): State<AppState>) -> Response {
    login_response(&state, StatusCode::OK, "", None)
}

/// `POST /ops/login`: a new session on the right e-mail and password.
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let fields = fields(form);
    let email = field(&fields, "email").unwrap_or_default().trim().to_string();
    let nonce = cookie_value(&headers, LOGIN_COOKIE).unwrap_or_default();
    let token = field(&fields, "csrf").unwrap_or_default();
    if nonce.is_empty() || !constant_time_eq(token, &login_token(&state.app, nonce)) {
        return login_response(&state, StatusCode::FORBIDDEN, &email, Some("The form expired. Please log in again."));
    }
    if state.ops_login_limiter.check(client, Instant::now()).is_err() {
        return login_response(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &email,
            Some("Too many attempts from your address. Wait a minute and try again."),
        );
    }
    let password = field(&fields, "password").unwrap_or_default();
    match state.app.staff_login(&email, password).await {
        Ok(Some(login)) => {
            // The account only: e-mail addresses are personal data and stay out of logs.
            tracing::info!(account = %login.session.principal.account_name, "staff login");
            let max_age = (login.expires_at - state.app.clock().now()).num_seconds().max(0);
            let mut response = Redirect::to("/ops/exceptions").into_response();
            let headers = response.headers_mut();
            headers
                .append(header::SET_COOKIE, set_cookie(&state.app, SESSION_COOKIE, &login.session_id, "/ops", max_age));
            headers.append(header::SET_COOKIE, set_cookie(&state.app, LOGIN_COOKIE, "", "/ops/login", 0));
            response
        }
        Ok(None) => login_response(&state, StatusCode::UNAUTHORIZED, &email, Some("Wrong e-mail or password.")),
        Err(_) => unavailable(None),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /ops/logout`: ends the session on the server and clears the cookie.
async fn logout(
    State(state): State<AppState>,
    Staff(session): Staff,
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let fields = fields(form);
    if !state.app.staff_csrf_ok(&session, field(&fields, "csrf").unwrap_or_default()) {
        return forbidden(Some(&session), "This form has expired. Reload the page and try again.");
    }
    if state.app.staff_logout(&session).await.is_err() {
        return unavailable(Some(&session));
    }
    let mut response = Redirect::to("/ops/login").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state.app, SESSION_COOKIE, "", "/ops", 0));
    response
}

#[derive(Debug, Default, Deserialize)]
struct QueueParams {
    state: Option<String>,
    kind: Option<String>,
    carrier: Option<String>,
    sort: Option<String>,
    done: Option<String>,
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "high" => 0,
        "medium" => 1,
        "low" => 2,
        _ => 3,
    }
}

/// `GET /ops/exceptions`: the queue with counts by kind, filters and sorting.
async fn queue(
    State(state): State<AppState>,
    Staff(session): Staff,
    params: Result<Query<QueueParams>, QueryRejection>,
) -> Response {
    let Query(p) = params.unwrap_or_default();
    let state_filter = match p.state.as_deref().map(str::trim) {
        Some(s) if ExceptionState::parse(s).is_some() => s.to_string(),
        _ => "active".to_string(),
    };
    let kind = p.kind.as_deref().map(str::trim).filter(|k| ExceptionKind::parse(k).is_some()).unwrap_or("");
    let carrier: String = p.carrier.as_deref().unwrap_or("").trim().chars().take(60).collect();
    let sort = if p.sort.as_deref() == Some("severity") { "severity" } else { "age" };
    let states = match ExceptionState::parse(&state_filter) {
        Some(s) => vec![s],
        None => vec![ExceptionState::Open, ExceptionState::Acknowledged],
    };
    let mut all: Vec<ExceptionRecord> = Vec::new();
    let mut truncated = false;
    for s in states {
        let query = ExceptionQuery {
            state: Some(s),
            carrier: Some(carrier.clone()).filter(|c| !c.is_empty()),
            limit: QUEUE_PAGE,
            ..ExceptionQuery::default()
        };
        match state.app.exceptions(&session.principal, query).await {
            Ok(page) => {
                truncated |= page.next_cursor.is_some();
                all.extend(page.exceptions);
            }
            Err(_) => return unavailable(Some(&session)),
        }
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for e in &all {
        match counts.iter_mut().find(|(k, _)| *k == e.kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((e.kind.clone(), 1)),
        }
    }
    counts.sort();
    let mut rows: Vec<&ExceptionRecord> = all.iter().filter(|e| kind.is_empty() || e.kind == kind).collect();
    let opened = |e: &ExceptionRecord| DateTime::parse_from_rfc3339(&e.opened_at).ok();
    match sort {
        "severity" => rows.sort_by_key(|e| (severity_rank(&e.severity), opened(e), e.id)),
        _ => rows.sort_by_key(|e| (opened(e), e.id)),
    }
    let notice = p.done.as_deref().and_then(|d| {
        let (action, id) = d.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        let verb = match action {
            "acknowledge" => "acknowledged",
            "assign" => "assigned",
            "resolve" => "resolved",
            _ => return None,
        };
        Some(format!("Exception {id} {verb}."))
    });
    let view = render::QueueView {
        state: &state_filter,
        kind,
        carrier: &carrier,
        sort,
        counts,
        rows,
        truncated,
        notice,
        now: state.app.clock().now(),
    };
    page(StatusCode::OK, render::queue_page(&session, &view))
}

/// `POST /ops/exceptions/{id}/{acknowledge|assign|resolve}`.
async fn act_on_exception(
    State(state): State<AppState>,
    Staff(session): Staff,
    Path((id, action)): Path<(String, String)>,
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let fields = fields(form);
    if let Some(refused) = refuse_post(&state, &session, &fields) {
        return refused;
    }
    let bad = |message: &str| {
        page(StatusCode::UNPROCESSABLE_ENTITY, render::message_page(Some(&session), "Not done", message))
    };
    let Some(id) = id.parse::<i64>().ok().filter(|id| *id > 0) else {
        return page(StatusCode::NOT_FOUND, render::message_page(Some(&session), "Not found", "No such exception."));
    };
    let action = match action.as_str() {
        "acknowledge" => ExceptionAction::Acknowledge,
        "assign" => match parse_identifier(field(&fields, "owner").unwrap_or_default(), 100) {
            Ok(owner) if !owner.is_empty() => ExceptionAction::Assign { owner },
            _ => return bad("Name an owner (a person or team, up to 100 characters)."),
        },
        "resolve" => match parse_free_text(field(&fields, "note").unwrap_or_default(), 2000) {
            Ok(note) if !note.is_empty() => ExceptionAction::Resolve { note },
            _ => return bad("Say what was done (1 to 2000 characters)."),
        },
        _ => return page(StatusCode::NOT_FOUND, render::message_page(Some(&session), "Not found", "No such action.")),
    };
    let verb = match &action {
        ExceptionAction::Acknowledge => "acknowledge",
        ExceptionAction::Assign { .. } => "assign",
        ExceptionAction::Resolve { .. } => "resolve",
    };
    match state.app.act_on_exception(&session.principal, id, action).await {
        Ok(_) => Redirect::to(&format!("/ops/exceptions?done={verb}:{id}")).into_response(),
        Err(AppError::NotFound(_)) => {
            page(StatusCode::NOT_FOUND, render::message_page(Some(&session), "Not found", "No such exception."))
        }
        Err(AppError::Conflict(message)) | Err(AppError::Invalid { message, .. }) => {
            page(StatusCode::CONFLICT, render::message_page(Some(&session), "Not done", &message))
        }
        Err(_) => unavailable(Some(&session)),
    }
}

#[derive(Debug, Default, Deserialize)]
struct SearchParams {
    q: Option<String>,
}

/// `GET /ops/orders?q=`: search by order number, tracking number, e-mail, postal code or name.
async fn search(
    State(state): State<AppState>,
    Staff(session): Staff,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Response {
    let Query(p) = params.unwrap_or_default();
    let q: String = p.q.unwrap_or_default().trim().chars().take(200).collect();
    if q.is_empty() {
        return page(StatusCode::OK, render::search_page(&session, "", None));
    }
    let query = OrderQuery { text: Some(q.clone()), limit: 50, ..OrderQuery::default() };
    match state.app.search_orders(&session.principal, query).await {
        Ok(found) => page(StatusCode::OK, render::search_page(&session, &q, Some(&found.orders))),
        Err(_) => unavailable(Some(&session)),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ReturnsParams {
    state: Option<String>,
}

/// `GET /ops/returns`: the returns queue by state and age.
async fn returns_queue(
    State(state): State<AppState>,
    Staff(session): Staff,
    params: Result<Query<ReturnsParams>, QueryRejection>,
) -> Response {
    let Query(p) = params.unwrap_or_default();
    let chosen = p.state.as_deref().map(str::trim).and_then(ReturnState::parse);
    let Ok(open) = state.app.returns_queue(&session.principal, None, QUEUE_PAGE).await else {
        return unavailable(Some(&session));
    };
    let shown = match chosen {
        None => open.clone(),
        Some(s) => match state.app.returns_queue(&session.principal, Some(s), QUEUE_PAGE).await {
            Ok(found) => found,
            Err(_) => return unavailable(Some(&session)),
        },
    };
    page(StatusCode::OK, render::returns_page(&session, chosen, &open, &shown, state.app.clock().now()))
}

/// `GET /ops/orders/{order_number}`: the order's one timeline, its notifications among its events.
async fn order_view(State(state): State<AppState>, Staff(session): Staff, Path(number): Path<String>) -> Response {
    let not_found =
        || page(StatusCode::NOT_FOUND, render::message_page(Some(&session), "Not found", "No order with that number."));
    let Ok(number) = OrderNumber::parse(&number) else { return not_found() };
    let record = match state.app.order(&session.principal, &number).await {
        Ok(record) => record,
        Err(AppError::NotFound(_)) => return not_found(),
        Err(_) => return unavailable(Some(&session)),
    };
    let Ok(claims) = state.app.claims_of_order(&session.principal, &number).await else {
        return unavailable(Some(&session));
    };
    match state.app.order_notifications(&session.principal, &number).await {
        Ok(notifications) => page(
            StatusCode::OK,
            render::order_page(&session, &record, &notifications, &claims, state.app.clock().now()),
        ),
        Err(_) => unavailable(Some(&session)),
    }
}

/// `POST /ops/orders/{n}/shipments/{tn}/decision`: staff decide what happens to a parcel that
/// came back to the sender (the form on the order view): reship (with the new tracking number),
/// refund or cancel. The same use case as the API; a refusal is shown with its reason.
async fn decide_parcel(
    State(state): State<AppState>,
    Staff(session): Staff,
    Path((number, tracking)): Path<(String, String)>,
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let fields = fields(form);
    if let Some(refused) = refuse_post(&state, &session, &fields) {
        return refused;
    }
    let bad = |message: &str| {
        page(StatusCode::UNPROCESSABLE_ENTITY, render::message_page(Some(&session), "Not decided", message))
    };
    let Ok(number) = OrderNumber::parse(&number) else {
        return page(StatusCode::NOT_FOUND, render::message_page(Some(&session), "Not found", "No such order."));
    };
    let Some(decision) = field(&fields, "decision").and_then(SenderDecision::parse) else {
        return bad("Choose reship, refund or cancel.");
    };
    let note = match parse_free_text(field(&fields, "note").unwrap_or_default(), 2000) {
        Ok(note) => Some(note).filter(|n| !n.is_empty()),
        Err(_) => return bad("The note must be up to 2000 characters of text."),
    };
    let reship = match decision {
        SenderDecision::Reship => {
            let Ok(tracking_number) = TrackingNumber::parse(field(&fields, "tracking_number").unwrap_or_default())
            else {
                return bad("A reship needs the new parcel's tracking number (4 to 40 letters and digits).");
            };
            let carrier = match field(&fields, "carrier").map(str::trim).filter(|c| !c.is_empty()) {
                None => None,
                Some(raw) => match crate::api::wire::parse_carrier(raw) {
                    Ok(carrier) => Some(carrier),
                    Err(_) => return bad("The carrier must be a key such as ups, fedex, usps or dhl."),
                },
            };
            Some(Shipment {
                carrier,
                service: None,
                tracking_number,
                direction: Direction::Outbound,
                origin_location_id: None,
                origin_postal_code: None,
                origin_country: None,
                items: Vec::new(),
                label_cost: None,
                handling_cost: None,
            })
        }
        SenderDecision::Refund | SenderDecision::Cancel => None,
    };
    match state.app.decide_returned_parcel(&session.principal, &number, &tracking, decision, note, reship).await {
        Ok(_) => Redirect::to(&format!("/ops/orders/{}?decided={}", url_encode(number.as_str()), decision.as_str()))
            .into_response(),
        Err(AppError::NotFound(_)) => page(
            StatusCode::NOT_FOUND,
            render::message_page(Some(&session), "Not found", "No such parcel on this order."),
        ),
        Err(AppError::Conflict(message)) => {
            page(StatusCode::CONFLICT, render::message_page(Some(&session), "Not decided", &message))
        }
        Err(AppError::Invalid { message, .. }) => bad(&message),
        Err(_) => unavailable(Some(&session)),
    }
}

#[derive(Debug, Default, Deserialize)]
struct CleanupParams {
    mapped: Option<u64>,
    stale_days: Option<u32>,
}

/// Days without an event after which a parcel on its way is listed as stale, unless chosen.
const DEFAULT_STALE_DAYS: u32 = 5;

/// `GET /ops/cleanup`: unmapped codes, stale parcels, resent scans, lane rhythm, source of truth.
async fn cleanup(
    State(state): State<AppState>,
    Staff(session): Staff,
    params: Result<Query<CleanupParams>, QueryRejection>,
) -> Response {
    let Query(p) = params.unwrap_or_default();
    let stale_days = p.stale_days.unwrap_or(DEFAULT_STALE_DAYS).clamp(1, 365);
    let caller = &session.principal;
    let (unmapped, lanes, stale, duplicates) = match (
        state.app.unmapped_codes(caller).await,
        state.app.lane_rhythms(caller).await,
        state.app.stale_shipments(caller, stale_days).await,
        state.app.duplicate_scans(caller).await,
    ) {
        (Ok(u), Ok(l), Ok(s), Ok(d)) => (u, l, s, d),
        _ => return unavailable(Some(&session)),
    };
    let notice = p.mapped.map(|n| format!("Mapped; {n} stored event(s) re-normalized."));
    let view = render::CleanupView {
        unmapped: &unmapped,
        lanes: &lanes,
        truth: &SourceOfTruth::default(),
        stale_days,
        stale: &stale,
        duplicates: &duplicates,
        notice: notice.as_deref(),
    };
    page(StatusCode::OK, render::cleanup_page(&session, &view))
}

/// `POST /ops/cleanup/codes`: maps one carrier code and re-normalizes the stored events.
async fn map_code(
    State(state): State<AppState>,
    Staff(session): Staff,
    form: Result<axum::Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let fields = fields(form);
    if let Some(refused) = refuse_post(&state, &session, &fields) {
        return refused;
    }
    let milestone = match field(&fields, "milestone").unwrap_or_default() {
        "informational" => None,
        other => match other.parse::<Milestone>() {
            Ok(m) => Some(m),
            Err(_) => {
                return page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    render::message_page(Some(&session), "Not done", "Choose a milestone or informational."),
                );
            }
        },
    };
    let carrier = field(&fields, "carrier").unwrap_or_default();
    let code = field(&fields, "code").unwrap_or_default();
    match state.app.map_carrier_code(&session.principal, carrier, code, milestone).await {
        Ok((_, _, done)) => Redirect::to(&format!("/ops/cleanup?mapped={}", done.events)).into_response(),
        Err(AppError::Invalid { message, .. }) | Err(AppError::Conflict(message)) => {
            page(StatusCode::UNPROCESSABLE_ENTITY, render::message_page(Some(&session), "Not done", &message))
        }
        Err(_) => unavailable(Some(&session)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct InsightsParams {
    weeks: Option<u32>,
}

/// Weeks the charts cover unless chosen.
const DEFAULT_INSIGHT_WEEKS: u32 = 12;

/// `GET /ops/insights`: KPI charts over the last weeks (on-time rate by week, cycle-time
/// distribution, exceptions by kind, carriers side by side), drawn on the server as SVG.
async fn insights(
    State(state): State<AppState>,
    Staff(session): Staff,
    params: Result<Query<InsightsParams>, QueryRejection>,
) -> Response {
    let Query(p) = params.unwrap_or_default();
    let weeks = p.weeks.unwrap_or(DEFAULT_INSIGHT_WEEKS).clamp(1, 104);
    let to = state.app.clock().now();
    let from = to - chrono::Duration::weeks(i64::from(weeks));
    match state.app.kpi_facts(&session.principal, from, to).await {
        Ok(facts) => page(StatusCode::OK, render::insights_page(&session, weeks, &facts)),
        Err(_) => unavailable(Some(&session)),
    }
}

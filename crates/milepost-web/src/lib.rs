//! The HTTP edge of Milepost: the only crate that knows HTTP, JSON wire types or HTML. It builds
//! the axum router over the use cases of `milepost-app`, maps every error to a problem document
//! once, counts requests for `/metrics`, and serves with graceful shutdown.

pub mod api;
pub mod error;
pub mod extract;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod webhooks;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use error::ApiError;
use metrics::Metrics;
use milepost_app::Milepost;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use utoipa::OpenApi;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: Milepost,
    pub metrics: Arc<Metrics>,
    /// Lookups on the tracking page per client address per minute.
    pub track_limiter: Arc<pages::limit::RateLimiter>,
    /// Dashboard login attempts per client address per minute.
    pub ops_login_limiter: Arc<pages::limit::RateLimiter>,
}

/// Tracking-page lookups allowed per client address per minute unless configured.
pub const DEFAULT_TRACK_RATE_LIMIT: u32 = 30;

impl AppState {
    pub fn new(app: Milepost) -> Self {
        AppState {
            app,
            metrics: Arc::new(Metrics::default()),
            track_limiter: Arc::new(pages::limit::RateLimiter::new(DEFAULT_TRACK_RATE_LIMIT)),
            ops_login_limiter: Arc::new(pages::limit::RateLimiter::new(pages::ops::LOGIN_ATTEMPTS_PER_MINUTE)),
        }
    }

    /// Sets the tracking-page lookup limit (per client address per minute; 0 turns it off).
    pub fn with_track_rate_limit(mut self, per_minute: u32) -> Self {
        self.track_limiter = Arc::new(pages::limit::RateLimiter::new(per_minute));
        self
    }
}

async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    state.app.store().health().await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(serde_json::json!({"status": "ok"})))
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such path".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    state.metrics.request(&method, &route, response.status().as_u16(), started.elapsed());
    response
}

fn panic_to_problem(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal("a request handler panicked".into()).into_response()
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::router())
        .merge(webhooks::router())
        .merge(pages::router())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), count_requests))
        .layer(axum::extract::DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(middleware::from_fn(limits::limit_request_head))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_to_problem))
        .with_state(state)
}

/// Serves until `shutdown` completes, then stops accepting and drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The client address feeds the tracking page's rate limit.
    let service = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}

//! Bounds on the request head, checked before routing: the URI and the headers together are
//! small in every real request to Milepost, so a request with a huge query string or header is
//! refused with a problem document (414, 431) instead of being parsed, logged or hashed. Bodies
//! are bounded separately (`extract::MAX_BODY_BYTES`); hyper itself closes connections whose
//! head exceeds its own buffer or carries more than 100 headers.

use crate::error::ApiError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The longest request target (path and query) taken.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) taken in one request.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses requests whose URI or headers are larger than the limits.
pub async fn limit_request_head(request: Request, next: Next) -> Response {
    if request.uri().to_string().len() > MAX_URI_BYTES {
        return ApiError::UriTooLong { limit: MAX_URI_BYTES }.into_response();
    }
    let header_bytes: usize = request.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge { limit: MAX_HEADER_BYTES }.into_response();
    }
    next.run(request).await
}

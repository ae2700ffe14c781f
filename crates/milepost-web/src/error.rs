//! The one error type of the HTTP edge. Every failure becomes an RFC 9457 problem document
//! (`application/problem+json`) with `type`, `title`, `status`, `detail` and, for bad input,
//! `errors[]` naming each bad field. Unexpected errors are logged once here and answered without
//! internals.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use milepost_app::AppError;
use serde::Serialize;

/// What a 503 answer asks the client to wait before retrying, in seconds.
pub const RETRY_AFTER_SECONDS: u32 = 2;

/// One bad field of a request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, such as `items[0].quantity`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Per-item results, when a batch was refused as a whole: an array of event results, or an
    /// import's summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Value>)]
    pub results: Option<serde_json::Value>,
    /// The states a return may move to, when a transition was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

#[derive(Debug)]
pub enum ApiError {
    /// Malformed request: not JSON, wrong types, unknown fields.
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Well-formed but invalid values.
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
        results: Option<serde_json::Value>,
    },
    UnsupportedMediaType,
    PayloadTooLarge {
        limit: usize,
    },
    /// A request target longer than the limit.
    UriTooLong {
        limit: usize,
    },
    /// Request headers larger than the limit.
    HeadersTooLarge {
        limit: usize,
    },
    NotFound(String),
    MethodNotAllowed,
    Conflict(String),
    /// A state change the state machine does not allow from the current state.
    InvalidTransition {
        detail: String,
        allowed: Vec<String>,
    },
    Unauthenticated,
    Forbidden(String),
    Unavailable(String),
    Internal(String),
    /// A webhook whose signature did not verify; nothing was stored.
    BadSignature(String),
    /// A body in a media type the endpoint does not take; the detail says which it takes.
    UnsupportedMediaTypeFor(String),
}

impl ApiError {
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        ApiError::Unprocessable { detail, errors, results: None }
    }
}

impl From<milepost_app::returns::ReturnMoveError> for ApiError {
    fn from(e: milepost_app::returns::ReturnMoveError) -> Self {
        match e {
            milepost_app::returns::ReturnMoveError::Invalid(refused) => ApiError::InvalidTransition {
                detail: refused.to_string(),
                allowed: refused.allowed.iter().map(|s| s.as_str().to_string()).collect(),
            },
            milepost_app::returns::ReturnMoveError::Other(e) => e.into(),
        }
    }
}

impl From<milepost_app::claims::ClaimMoveError> for ApiError {
    fn from(e: milepost_app::claims::ClaimMoveError) -> Self {
        match e {
            milepost_app::claims::ClaimMoveError::Invalid { from, to, allowed } => {
                let names: Vec<String> = allowed.iter().map(|s| s.as_str().to_string()).collect();
                ApiError::InvalidTransition {
                    detail: format!("a claim in state `{from}` cannot move to `{to}`; allowed: {}", names.join(", ")),
                    allowed: names,
                }
            }
            milepost_app::claims::ClaimMoveError::Other(e) => e.into(),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            AppError::Conflict(msg) => ApiError::Conflict(msg),
            AppError::Invalid { field, message } => ApiError::invalid(vec![FieldError::new(field, message)]),
            AppError::Unauthenticated => ApiError::Unauthenticated,
            AppError::Forbidden { needed } => {
                ApiError::Forbidden(format!("this key's role may not do that; it needs the {needed} role"))
            }
            AppError::Unavailable(msg) => ApiError::Unavailable(msg),
            AppError::Unexpected(msg) => ApiError::Internal(msg),
            AppError::BadSignature(msg) => ApiError::BadSignature(msg),
            AppError::UnknownBarcode(barcode) => {
                let detail = format!("barcode {barcode} matches no order, shipment or tracking number");
                ApiError::Unprocessable {
                    errors: vec![FieldError::new("barcode", detail.clone())],
                    detail,
                    results: None,
                }
            }
        }
    }
}

fn problem(status: StatusCode, slug: &str, title: &str, detail: String) -> Problem {
    Problem {
        kind: format!("https://milepost.dev/problems/{slug}"),
        title: title.to_string(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
        results: None,
        allowed: None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let is_signature = matches!(self, ApiError::BadSignature(_));
        let (status, body) = match self {
            ApiError::BadRequest { detail, errors } => {
                let mut p = problem(StatusCode::BAD_REQUEST, "malformed-request", "Malformed request", detail);
                p.errors = errors;
                (StatusCode::BAD_REQUEST, p)
            }
            ApiError::Unprocessable { detail, errors, results } => {
                let mut p = problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-fields", "Invalid fields", detail);
                p.errors = errors;
                p.results = results;
                (StatusCode::UNPROCESSABLE_ENTITY, p)
            }
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                problem(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "Unsupported media type",
                    "send the body as application/json".into(),
                ),
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload-too-large",
                    "Payload too large",
                    format!("the body is larger than {limit} bytes"),
                ),
            ),
            ApiError::UriTooLong { limit } => (
                StatusCode::URI_TOO_LONG,
                problem(
                    StatusCode::URI_TOO_LONG,
                    "uri-too-long",
                    "URI too long",
                    format!("the path and query are longer than {limit} bytes"),
                ),
            ),
            ApiError::HeadersTooLarge { limit } => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                problem(
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "headers-too-large",
                    "Request headers too large",
                    format!("the headers are larger than {limit} bytes"),
                ),
            ),
            ApiError::NotFound(detail) => {
                (StatusCode::NOT_FOUND, problem(StatusCode::NOT_FOUND, "not-found", "Not found", detail))
            }
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                problem(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method-not-allowed",
                    "Method not allowed",
                    "this path does not take that method".into(),
                ),
            ),
            ApiError::Conflict(detail) => {
                (StatusCode::CONFLICT, problem(StatusCode::CONFLICT, "conflict", "Conflict", detail))
            }
            ApiError::InvalidTransition { detail, allowed } => {
                let mut p = problem(StatusCode::CONFLICT, "invalid-transition", "Invalid transition", detail);
                p.allowed = Some(allowed);
                (StatusCode::CONFLICT, p)
            }
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                problem(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Unauthenticated",
                    "send a valid API key as `Authorization: Bearer <key>`".into(),
                ),
            ),
            ApiError::Forbidden(detail) => {
                (StatusCode::FORBIDDEN, problem(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail))
            }
            ApiError::Unavailable(detail) => {
                tracing::warn!(%detail, "storage unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    problem(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "Temporarily unavailable",
                        "the request was not stored; retry shortly".into(),
                    ),
                )
            }
            ApiError::BadSignature(detail) => (
                StatusCode::UNAUTHORIZED,
                problem(StatusCode::UNAUTHORIZED, "invalid-signature", "Invalid signature", detail),
            ),
            ApiError::UnsupportedMediaTypeFor(detail) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type", detail),
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "unexpected error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    problem(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "Internal error",
                        "something unexpected happened; it has been logged".into(),
                    ),
                )
            }
        };
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Refusals for a busy or failing store are short-lived: say when to come back.
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        if status == StatusCode::UNAUTHORIZED && !is_signature {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

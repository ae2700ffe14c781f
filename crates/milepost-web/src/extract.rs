//! Request extractors that fail the Milepost way: a JSON body parsed with the path of the first
//! bad field (`items[2].quantity`), bounded in size and nesting, answered as a problem document;
//! and the authenticated caller, read from the `Authorization` header with the role checked.

use crate::AppState;
use crate::error::{ApiError, FieldError};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use milepost_app::records::Principal;
use milepost_domain::Role;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// The largest body any JSON endpoint takes (a full batch of 1000 events with raw payloads).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A JSON body whose deserialization errors name the field.
pub struct ApiJson<T>(pub T);

/// Turns a serde error at `path` into the name of the bad field and a message.
pub fn field_error(path: &str, message: &str) -> FieldError {
    // The path already ends at an unknown field, but a missing field is reported at the
    // object that lacks it: name the field itself.
    let named = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    let base = if path == "." { "" } else { path };
    let field = match named {
        Some(name) if base.is_empty() => name.to_string(),
        Some(name) => format!("{base}.{name}"),
        None if base.is_empty() => "body".to_string(),
        None => base.to_string(),
    };
    // Drop serde's " at line 1 column 5" tail: the field path says where.
    let message = message.split(" at line ").next().unwrap_or(message).to_string();
    FieldError::new(field, message)
}

/// Parses JSON bytes into `T`, naming the bad field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let error = field_error(&path, &inner.to_string());
        ApiError::BadRequest { detail: format!("{}: {}", error.field, error.message), errors: vec![error] }
    })?;
    de.end().map_err(|e| ApiError::BadRequest {
        detail: format!("trailing characters after the JSON document: {e}"),
        errors: vec![FieldError::new("body", "trailing characters after the JSON document")],
    })?;
    Ok(value)
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES }
            } else {
                ApiError::BadRequest {
                    detail: "the body could not be read".into(),
                    errors: vec![FieldError::new("body", rejection.body_text())],
                }
            }
        })?;
        // Every API body is a JSON object; serde would also read a struct from an array
        // (`[null]`), which the documented schema does not allow.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::BadRequest {
                detail: "body: must be a JSON object".into(),
                errors: vec![FieldError::new("body", "must be a JSON object")],
            });
        }
        parse_json(&bytes).map(ApiJson)
    }
}

/// The role an endpoint needs, as a type so that handlers name it in their signature.
pub trait NeedsRole: Send + Sync {
    const ROLE: Role;
}

/// Reading orders and timelines.
pub struct Support;
/// Writing orders, shipments and events.
pub struct Ingest;
/// Account administration.
pub struct Admin;

impl NeedsRole for Support {
    const ROLE: Role = Role::Support;
}
impl NeedsRole for Ingest {
    const ROLE: Role = Role::Ingest;
}
impl NeedsRole for Admin {
    const ROLE: Role = Role::Admin;
}

/// The authenticated caller of a request, holding at least role `R`. Extracted from
/// `Authorization: Bearer <key>` before the body is read, so a caller without a valid key
/// learns nothing about what the body should look like.
pub struct Caller<R: NeedsRole> {
    pub principal: Principal,
    role: PhantomData<R>,
}

impl<R: NeedsRole> FromRequestParts<AppState> for Caller<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let principal = state.app.authenticate(key, R::ROLE).await?;
        Ok(Caller { principal, role: PhantomData })
    }
}

/// A raw body for endpoints that verify or parse bytes themselves (webhook signatures are over
/// the exact bytes received; files are not JSON). Bounded like every body; a failure to read it
/// is a problem document.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES }
            } else {
                ApiError::BadRequest {
                    detail: "the body could not be read".into(),
                    errors: vec![FieldError::new("body", rejection.body_text())],
                }
            }
        })
    }
}

/// The media type of a request without parameters, lower-cased (`text/csv`).
pub fn media_type(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_errors_name_the_field() {
        assert_eq!(field_error(".", "missing field `order_number`").field, "order_number");
        assert_eq!(field_error("customer.nick", "unknown field `nick`, expected one of `name`").field, "customer.nick");
        assert_eq!(field_error("customer", "missing field `name`").field, "customer.name");
        assert_eq!(
            field_error("items[0].quantity", "invalid type: string \"x\", expected u32 at line 1 column 9").message,
            "invalid type: string \"x\", expected u32"
        );
        assert_eq!(field_error(".", "EOF while parsing a value").field, "body");
    }
}

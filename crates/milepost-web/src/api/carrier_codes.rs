//! The unmapped-code queue and its cleanup (rule 6): staff see which raw carrier codes nobody
//! has mapped yet, and an admin maps one for the account, which re-normalizes every stored event
//! with that code and moves the statuses they change, in one transaction.

use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{Admin, ApiJson, Caller, Support};
use axum::Json;
use axum::extract::{Path, State};
use milepost_domain::Milestone;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct UnmappedCodeOut {
    pub carrier: String,
    pub code: String,
    /// How many stored events carry it.
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub example_description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnmappedCodesOut {
    pub codes: Vec<UnmappedCodeOut>,
}

/// Raw codes still unmapped, most frequent first.
#[utoipa::path(get, path = "/api/v1/carrier-codes/unmapped", tag = "carrier codes",
    responses((status = 200, body = UnmappedCodesOut), (status = 401, body = Problem)),
    security(("api_key" = [])))]
pub async fn unmapped(
    State(state): State<AppState>,
    caller: Caller<Support>,
) -> Result<Json<UnmappedCodesOut>, ApiError> {
    let codes = state.app.unmapped_codes(&caller.principal).await?;
    Ok(Json(UnmappedCodesOut {
        codes: codes
            .into_iter()
            .map(|c| UnmappedCodeOut {
                carrier: c.carrier,
                code: c.code,
                count: c.count,
                first_seen: c.first_seen.to_rfc3339(),
                last_seen: c.last_seen.to_rfc3339(),
                example_description: c.example_description,
            })
            .collect(),
    }))
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeMappingIn {
    /// The milestone the code means, or `null` for a code that carries no status.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub milestone: Option<Option<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RenormalizedOut {
    pub events: u64,
    pub shipments: u64,
    pub orders: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeMappingOut {
    pub carrier: String,
    pub code: String,
    pub milestone: Option<String>,
    /// What the re-normalization of stored events touched.
    pub renormalized: RenormalizedOut,
}

/// Map a carrier's raw code for this account and re-normalize stored events.
#[utoipa::path(put, path = "/api/v1/carrier-codes/{carrier}/{code}", tag = "carrier codes",
    params(("carrier" = String, Path), ("code" = String, Path)), request_body = CodeMappingIn,
    responses((status = 200, body = CodeMappingOut), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_mapping(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    Path((carrier, code)): Path<(String, String)>,
    ApiJson(body): ApiJson<CodeMappingIn>,
) -> Result<Json<CodeMappingOut>, ApiError> {
    let milestone = match body.milestone {
        None => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "milestone",
                "missing; give a milestone, or null for a code that carries no status",
            )]));
        }
        Some(None) => None,
        Some(Some(m)) => Some(m.parse::<Milestone>().map_err(|e| {
            ApiError::invalid(vec![FieldError::new(
                "milestone",
                format!("{e}; expected one of the milestones of DESIGN §3"),
            )])
        })?),
    };
    let (carrier, code, done) = state.app.map_carrier_code(&caller.principal, &carrier, &code, milestone).await?;
    Ok(Json(CodeMappingOut {
        carrier,
        code,
        milestone: milestone.map(|m| m.as_str().to_string()),
        renormalized: RenormalizedOut { events: done.events, shipments: done.shipments, orders: done.orders },
    }))
}

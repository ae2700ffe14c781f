//! The OpenAPI document of API v1, generated from the handlers' and wire types' annotations so
//! that it cannot drift from the code. Served at `GET /openapi.json`.

use crate::api::{
    branding, carrier_codes, claims, decisions, epcis, events, exceptions, imports, integrations, kpis, notifications,
    orders, returns, scans, wire,
};
use crate::error::{FieldError, Problem};
use crate::webhooks;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi};

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The media type of every error answer (RFC 9457).
const PROBLEM_JSON: &str = "application/problem+json";

/// Makes the document tell the whole truth about the answers handlers do not list one by one,
/// because they come from the edge every request passes through: a problem document is served
/// as `application/problem+json`, and each operation may answer a malformed request (400), a
/// missing or bad key (401, with `WWW-Authenticate` on the API) or a too small role (403), an
/// unknown resource named in its path (404), a body too large (413) or in the wrong media type
/// (415), invalid fields (422), a request head over the limits (414, 431), a store that is busy
/// or full (503, with `Retry-After`) and a caught failure (500). The API fuzz run in CI
/// (`.ci/api-fuzz`) checks every answer against this.
struct EdgeAnswers;

fn problem_answer(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
        .build()
}

fn text_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(Type::String)).description(Some(description)).build()
}

fn complete(path: &str, operation: &mut Operation) {
    let api = path.starts_with("/api/");
    let has_body = operation.request_body.is_some();
    let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let answers = &mut operation.responses.responses;
    // A problem body a handler listed as JSON is served as a problem document.
    for answer in answers.values_mut() {
        if let RefOr::T(response) = answer
            && let Some(content) = response.content.shift_remove("application/json")
        {
            let is_problem = matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"));
            let media_type = if is_problem { PROBLEM_JSON } else { "application/json" };
            response.content.insert(media_type.to_string(), content);
        }
    }
    let mut add = |status: &str, response: Response| {
        answers.entry(status.to_string()).or_insert_with(|| RefOr::T(response));
    };
    add("400", problem_answer("malformed request: a parameter or the body does not parse; `errors` names the field"));
    if api {
        let mut unauthenticated = problem_answer("no key, or one that is not valid");
        unauthenticated.headers.insert("WWW-Authenticate".into(), text_header("`Bearer`"));
        add("401", unauthenticated);
        add("403", problem_answer("the key's role may not do this"));
    } else {
        add("401", problem_answer("the signature does not verify"));
    }
    if path.contains('{') {
        add("404", problem_answer("nothing of the caller's account by this name"));
    }
    if has_body {
        add("413", problem_answer("the body is larger than the limit"));
        add("415", problem_answer("the body is not in a media type this operation takes"));
    }
    if has_body || has_params || path.contains('{') {
        add("422", problem_answer("invalid fields; `errors` names each"));
    }
    add("414", problem_answer("the path and query are longer than 8 KiB"));
    add("431", problem_answer("the request headers are larger than 16 KiB"));
    add("500", problem_answer("an unexpected failure, logged; nothing internal is shown"));
    let mut unavailable = problem_answer("the store is busy, full or stopping: nothing was stored; retry later");
    unavailable.headers.insert("Retry-After".into(), text_header("seconds to wait before retrying"));
    add("503", unavailable);
}

impl Modify for EdgeAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                complete(path, operation);
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Milepost API", version = "1", description = "One record of every order, from confirmation to delivery and back."),
    paths(
        orders::put_order, orders::get_order, orders::search_orders, orders::add_shipment, events::post_events,
        exceptions::list_exceptions, exceptions::acknowledge, exceptions::assign, exceptions::resolve, exceptions::lanes,
        kpis::kpis,
        integrations::create_integration, webhooks::carrier_webhook, webhooks::channel_webhook,
        carrier_codes::unmapped, carrier_codes::put_mapping, scans::post_scan, epcis::capture, imports::post_import,
        branding::get_branding, branding::put_branding,
        notifications::dead_letters, notifications::resend, notifications::put_settings, notifications::get_settings,
        returns::request_return, returns::get_return, returns::transition, returns::inspect, returns::list_returns,
        returns::get_policy, returns::put_policy, returns::return_kpis,
        claims::open_claim, claims::get_claim, claims::transition, claims::order_claims, decisions::decide,
        notifications::get_policy, notifications::put_policy, notifications::preview
    ),
    components(schemas(
        Problem, FieldError, wire::OrderIn, wire::OrderItemIn, wire::CustomerWire, wire::AddressWire, wire::ShipmentIn,
        wire::ShipmentItemWire, wire::OriginWire, wire::CostsWire, wire::EventIn, wire::EventBatchIn, wire::EventResult,
        wire::EventBatchOut, wire::LocationWire, wire::OrderOut, wire::OrderItemOut, wire::ItemProgressOut,
        wire::ShipmentOut, wire::TimelineEntryOut, wire::EtaOut, wire::ExceptionOut, wire::OrderListOut,
        wire::OrderSummaryOut, wire::OrderWriteOut, exceptions::ExceptionListOut, exceptions::AssignIn,
        exceptions::ResolveIn, exceptions::LaneRhythmOut, kpis::KpisOut, kpis::KpiFiguresOut,
        kpis::KpiGroupOut, kpis::CycleTimeOut,
        integrations::IntegrationIn, integrations::IntegrationOut,
        webhooks::CarrierWebhookOut, webhooks::ChannelWebhookOut, carrier_codes::UnmappedCodeOut,
        carrier_codes::UnmappedCodesOut, carrier_codes::CodeMappingIn, carrier_codes::CodeMappingOut,
        carrier_codes::RenormalizedOut, scans::ScanIn, scans::ScanOut, epcis::EpcisEventOut, epcis::EpcisCaptureOut,
        imports::ImportSummaryOut, imports::ImportedOrderOut, imports::RejectedRowOut,
        wire::ReturnOut, wire::ReturnItemOut, branding::BrandingIn, branding::BrandingOut, branding::PageColorsOut,
        notifications::NotificationOut, notifications::DeadLettersOut, notifications::NotificationSettingsIn,
        notifications::NotificationSettingsOut, wire::ReturnStepOut, returns::ReturnItemIn, returns::ReturnIn,
        returns::TransitionIn, returns::ReturnListOut, returns::InspectionIn, returns::InspectedItemIn,
        wire::InspectedItemOut, returns::ReturnKpisOut, returns::ReasonRateOut, returns::SkuRateOut,
        returns::RefundTimeOut, claims::ClaimIn, claims::ClaimTransitionIn, claims::ClaimOut, claims::ClaimListOut, returns::ReturnPolicyWire,
        decisions::DecisionIn, decisions::DecisionOut,
        notifications::NotificationSettingsOut, notifications::NotificationPreviewOut, notifications::PreviewEmailOut
    )),
    modifiers(&BearerKeys, &EdgeAnswers)
)]
pub struct ApiDoc;

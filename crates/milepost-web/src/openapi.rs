//! The OpenAPI document of API v1, generated from the handlers' and wire types' annotations so
//! that it cannot drift from the code. Served at `GET /openapi.json`.

use crate::api::{
    branding, carrier_codes, claims, decisions, epcis, events, exceptions, imports, integrations, kpis, notifications,
    orders, returns, scans, wire,
};
use crate::error::{FieldError, Problem};
use crate::webhooks;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
    modifiers(&BearerKeys)
)]
pub struct ApiDoc;

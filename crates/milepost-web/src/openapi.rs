//! The OpenAPI document of API v1, generated from the handlers' and wire types' annotations so
//! that it cannot drift from the code. Served at `GET /openapi.json`.

use crate::api::{branding, events, orders, wire};
use crate::error::{FieldError, Problem};
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
    paths(orders::put_order, orders::get_order, orders::search_orders, orders::add_shipment, events::post_events,
        branding::get_branding, branding::put_branding),
    components(schemas(
        Problem, FieldError, wire::OrderIn, wire::OrderItemIn, wire::CustomerWire, wire::AddressWire, wire::ShipmentIn,
        wire::ShipmentItemWire, wire::OriginWire, wire::CostsWire, wire::EventIn, wire::EventBatchIn, wire::EventResult,
        wire::EventBatchOut, wire::LocationWire, wire::OrderOut, wire::OrderItemOut, wire::ItemProgressOut,
        wire::ShipmentOut, wire::TimelineEntryOut, wire::EtaOut, wire::ExceptionOut, wire::OrderListOut,
        wire::OrderSummaryOut, wire::OrderWriteOut, wire::ReturnOut, wire::ReturnItemOut, branding::BrandingIn,
        branding::BrandingOut, branding::PageColorsOut
    )),
    modifiers(&BearerKeys)
)]
pub struct ApiDoc;

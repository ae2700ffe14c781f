//! The Milepost domain core: what an order, a shipment, an event and a milestone are, and the
//! rules that turn a pile of events (late, duplicated, out of order, from several sources) into
//! one honest timeline and status. Nothing here does I/O, spawns tasks or reads a clock: time is
//! always a parameter, so every rule can be tested with a fixed clock and a handful of values.

pub mod account;
pub mod branding;
pub mod claims;
pub mod eta;
pub mod event;
pub mod exceptions;
pub mod kpi;
pub mod milestone;
pub mod money;
pub mod notify;
pub mod notify_policy;
pub mod order;
pub mod polling;
pub mod return_to_sender;
pub mod returns;
pub mod rollup;
pub mod shipment;
pub mod source_of_truth;
pub mod text;
pub mod timeline;
pub mod tracking;

pub use account::{AccountName, Role};
pub use branding::{Branding, HexColor};
pub use event::{EventSource, Location, TrackingEvent};
pub use milestone::Milestone;
pub use money::Money;
pub use order::{Address, Channel, Customer, LineItem, Order, OrderNumber};
pub use returns::{
    Disposition, InspectedItem, InspectionResult, InvalidTransition, ReturnItem, ReturnPolicy, ReturnReason,
    ReturnState,
};
pub use rollup::{ItemProgress, OrderRollUp, OrderStatus, RolledShipment, roll_up_order};
pub use shipment::{Direction, Shipment, ShipmentItem, ShipmentStatus, TrackingNumber};
pub use source_of_truth::SourceOfTruth;
pub use timeline::{TimelineEntry, TimelineProjection, project_timeline};

//! Ingest: pure adapters from what senders really send (carrier tracking JSON, aggregator
//! webhooks, warehouse scans, store orders) to the domain's normalized events, plus the data they
//! need: the raw-code mapping tables and carrier detection. No I/O happens here; the web and app
//! crates hand bytes in and store what comes out.

pub mod adapters;
pub mod detect;
pub mod epcis;
pub mod gs1;
pub mod mapping;
pub mod order_files;
pub mod samples;
pub mod shopify;
pub mod signature;
pub mod zones;

pub use adapters::{AdapterError, NormalizedEvent, ProofOfDelivery, SenderKind, parse};
pub use detect::{carrier_from_tracking_url, detect_carrier, tracking_url};
pub use mapping::{CodeLookup, CodeMap};

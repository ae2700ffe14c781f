//! Events: single facts that happened to an order or a parcel, as reported by one source. Events
//! are append-only (a correction is a new event) and carry both the raw code the sender used and
//! the milestone Milepost mapped it to (or none, when the code is not mapped yet: rule 6).

use crate::milestone::Milestone;
use chrono::{DateTime, FixedOffset, Utc};
use std::fmt;
use std::str::FromStr;

/// Who reported an event. Decides which claims are authoritative (rule 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventSource {
    Channel,
    Warehouse,
    Carrier,
    Driver,
    Customer,
    Staff,
    System,
}

impl EventSource {
    pub const ALL: [EventSource; 7] = [
        EventSource::Channel,
        EventSource::Warehouse,
        EventSource::Carrier,
        EventSource::Driver,
        EventSource::Customer,
        EventSource::Staff,
        EventSource::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Channel => "channel",
            EventSource::Warehouse => "warehouse",
            EventSource::Carrier => "carrier",
            EventSource::Driver => "driver",
            EventSource::Customer => "customer",
            EventSource::Staff => "staff",
            EventSource::System => "system",
        }
    }
}

impl fmt::Display for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventSource::ALL.into_iter().find(|src| src.as_str() == s).ok_or_else(|| {
            format!(
                "unknown source `{s}`; expected one of channel, warehouse, carrier, driver, customer, staff, system"
            )
        })
    }
}

/// Where an event happened, as precise as the sender said.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Location {
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

impl Location {
    pub fn is_empty(&self) -> bool {
        self.city.is_none() && self.region.is_none() && self.postal_code.is_none() && self.country.is_none()
    }

    /// A compact, comparable form used in the duplicate key of rule 4.
    pub fn key(&self) -> String {
        let mut key = String::with_capacity(32);
        self.write_key(&mut key);
        key
    }

    /// Appends `key()` to `out` (the duplicate key is built for every event of every read, so
    /// it is built in one buffer).
    fn write_key(&self, out: &mut String) {
        for (i, part) in [&self.city, &self.region, &self.postal_code, &self.country].into_iter().enumerate() {
            if i > 0 {
                out.push('|');
            }
            let part = part.as_deref().unwrap_or("").trim();
            if part.is_ascii() {
                out.extend(part.chars().map(|c| c.to_ascii_lowercase()));
            } else {
                out.push_str(&part.to_lowercase());
            }
        }
    }
}

/// One normalized event as the domain sees it. `milestone == None` means the raw code is not
/// mapped yet: the event is kept and shown, but does not move status (rule 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingEvent {
    pub source: EventSource,
    pub source_event_id: Option<String>,
    pub milestone: Option<Milestone>,
    pub code: Option<String>,
    pub description: Option<String>,
    pub occurred_at: DateTime<FixedOffset>,
    pub received_at: DateTime<Utc>,
    pub location: Option<Location>,
}

/// The start of a withdrawal's `source_event_id`: an event with the id `withdraws:<id>` says that
/// the event `<id>` of the same source did not happen as stated (GS1 EPCIS's error declaration is
/// one). Events stay append-only: the withdrawn event is kept and shown, it just stops counting.
pub const WITHDRAWAL_PREFIX: &str = "withdraws:";

impl TrackingEvent {
    /// The `source_event_id` this event withdraws, when it is a withdrawal.
    pub fn withdrawn_id(&self) -> Option<&str> {
        self.source_event_id.as_deref()?.strip_prefix(WITHDRAWAL_PREFIX).filter(|id| !id.is_empty())
    }

    /// Rule 4, first form: the sender's own id for the event.
    pub fn source_key(&self) -> Option<String> {
        self.source_event_id.as_ref().map(|id| format!("{}#{}", self.source.as_str(), id))
    }

    /// Rule 4, second form: the same fact from one source, whatever id it came with. Within one
    /// shipment (the caller scopes the key), same milestone, raw code, instant and location.
    pub fn fact_key(&self) -> String {
        use std::fmt::Write;
        let mut key = String::with_capacity(96);
        key.push_str(self.source.as_str());
        key.push('|');
        key.push_str(self.milestone.map(Milestone::as_str).unwrap_or("unmapped"));
        key.push('|');
        key.push_str(self.code.as_deref().unwrap_or(""));
        key.push('|');
        let _ = write!(key, "{}", self.occurred_at.timestamp_micros());
        key.push('|');
        if let Some(location) = &self.location {
            location.write_key(&mut key);
        }
        // Two withdrawals declared at one instant are different facts when they withdraw
        // different events.
        if let Some(withdrawn) = self.withdrawn_id() {
            key.push('|');
            key.push_str(withdrawn);
        }
        key
    }

    pub fn occurred_at_utc(&self) -> DateTime<Utc> {
        self.occurred_at.with_timezone(&Utc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: &str) -> TrackingEvent {
        TrackingEvent {
            source: EventSource::Carrier,
            source_event_id: Some("e1".into()),
            milestone: Some(Milestone::InTransit),
            code: Some("AR".into()),
            description: None,
            occurred_at: DateTime::parse_from_rfc3339(at).unwrap(),
            received_at: Utc::now(),
            location: Some(Location { city: Some("Memphis".into()), ..Location::default() }),
        }
    }

    #[test]
    fn rule_4_the_fact_key_ignores_the_offset_the_instant_was_written_in() {
        let a = event("2026-11-02T10:00:00-05:00");
        let b = event("2026-11-02T15:00:00Z");
        assert_eq!(a.fact_key(), b.fact_key());
        let c = event("2026-11-02T15:00:01Z");
        assert_ne!(a.fact_key(), c.fact_key());
    }

    #[test]
    fn the_fact_key_keeps_its_stored_form() {
        // Stored keys are compared with new ones: their form must never drift.
        let mut e = event("2026-11-02T10:00:00-05:00");
        e.location =
            Some(Location { city: Some(" Memphis ".into()), country: Some("US".into()), ..Location::default() });
        assert_eq!(e.fact_key(), "carrier|in_transit|AR|1793631600000000|memphis|||us");
        e.location = Some(Location { city: Some("ΟΔΟΣ".into()), ..Location::default() });
        assert_eq!(e.fact_key(), format!("carrier|in_transit|AR|1793631600000000|{}|||", "ΟΔΟΣ".to_lowercase()));
        e.location = None;
        e.milestone = None;
        e.code = None;
        assert_eq!(e.fact_key(), "carrier|unmapped||1793631600000000|");
    }

    #[test]
    fn rule_4_the_source_key_is_scoped_by_source() {
        let mut a = event("2026-11-02T10:00:00Z");
        let b = a.clone();
        a.source = EventSource::Driver;
        assert_ne!(a.source_key(), b.source_key());
    }

    #[test]
    fn sources_parse_by_name() {
        assert_eq!("warehouse".parse::<EventSource>().unwrap(), EventSource::Warehouse);
        assert!("robot".parse::<EventSource>().is_err());
    }
}

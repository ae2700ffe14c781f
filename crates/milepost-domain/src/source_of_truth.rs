//! Rule 5: one source of truth per milestone. A claim from a source that does not own the
//! milestone is kept in the timeline as advisory and never moves status; the default ownership
//! is the one DESIGN §3 gives and an account may override it.

use crate::event::EventSource;
use crate::milestone::Milestone;
use std::collections::HashMap;

/// Which sources are authoritative for which milestones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceOfTruth {
    owners: HashMap<Milestone, Vec<EventSource>>,
}

impl Default for SourceOfTruth {
    /// `picked`/`packed` belong to the warehouse; carrier milestones to the carrier (or a driver
    /// for local delivery); `placed`/`confirmed`/`cancelled` to the sales channel (and a voided
    /// label, `cancelled` on a parcel, to the carrier). Staff may
    /// always correct a record by hand, so `staff` owns every milestone too.
    fn default() -> Self {
        let mut owners = HashMap::new();
        for m in Milestone::ALL {
            let sources = match m {
                Milestone::Placed | Milestone::Confirmed => vec![EventSource::Channel, EventSource::Staff],
                // A channel cancels an order; a carrier voids a label, which cancels the parcel.
                Milestone::Cancelled => vec![EventSource::Channel, EventSource::Carrier, EventSource::Staff],
                Milestone::Picked | Milestone::Packed => {
                    vec![EventSource::Warehouse, EventSource::Staff]
                }
                _ => vec![EventSource::Carrier, EventSource::Driver, EventSource::Staff],
            };
            owners.insert(m, sources);
        }
        SourceOfTruth { owners }
    }
}

impl SourceOfTruth {
    /// Replaces the owners of one milestone (an account's configuration).
    pub fn with_owners(mut self, milestone: Milestone, sources: Vec<EventSource>) -> Self {
        self.owners.insert(milestone, sources);
        self
    }

    /// Whether `source` is authoritative for `milestone`.
    pub fn owns(&self, milestone: Milestone, source: EventSource) -> bool {
        self.owners.get(&milestone).is_some_and(|sources| sources.contains(&source))
    }

    /// The sources that own `milestone`, for explanations in the API.
    pub fn owners_of(&self, milestone: Milestone) -> &[EventSource] {
        self.owners.get(&milestone).map(Vec::as_slice).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_5_default_owners_follow_the_design() {
        let truth = SourceOfTruth::default();
        assert!(truth.owns(Milestone::Packed, EventSource::Warehouse));
        assert!(!truth.owns(Milestone::Packed, EventSource::Carrier));
        assert!(truth.owns(Milestone::HandedToCarrier, EventSource::Carrier));
        assert!(truth.owns(Milestone::Delivered, EventSource::Driver));
        assert!(!truth.owns(Milestone::HandedToCarrier, EventSource::Channel));
        assert!(!truth.owns(Milestone::HandedToCarrier, EventSource::Warehouse));
        assert!(truth.owns(Milestone::Confirmed, EventSource::Channel));
    }

    #[test]
    fn rule_5_ownership_is_configurable_per_milestone() {
        let truth = SourceOfTruth::default().with_owners(Milestone::HandedToCarrier, vec![EventSource::Warehouse]);
        assert!(truth.owns(Milestone::HandedToCarrier, EventSource::Warehouse));
        assert!(!truth.owns(Milestone::HandedToCarrier, EventSource::Carrier));
        assert_eq!(truth.owners_of(Milestone::HandedToCarrier), &[EventSource::Warehouse]);
    }
}

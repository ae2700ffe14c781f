//! Returns as the customer starts them: the reasons a customer can give and the states a return
//! request moves through (DESIGN §3). The state machine's transitions belong to the returns
//! issue; this module holds the vocabulary and the one rule the tracking page needs before a
//! request is stored: a customer may return at most what was shipped to them, less what earlier
//! requests already cover.

use crate::rollup::ItemProgress;
use std::collections::BTreeMap;
use std::fmt;

/// Why the customer sends something back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnReason {
    WrongItem,
    MissingItem,
    Damaged,
    Defective,
    NotAsDescribed,
    NoLongerNeeded,
    Other,
}

impl ReturnReason {
    pub const ALL: [ReturnReason; 7] = [
        ReturnReason::WrongItem,
        ReturnReason::MissingItem,
        ReturnReason::Damaged,
        ReturnReason::Defective,
        ReturnReason::NotAsDescribed,
        ReturnReason::NoLongerNeeded,
        ReturnReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReturnReason::WrongItem => "wrong_item",
            ReturnReason::MissingItem => "missing_item",
            ReturnReason::Damaged => "damaged",
            ReturnReason::Defective => "defective",
            ReturnReason::NotAsDescribed => "not_as_described",
            ReturnReason::NoLongerNeeded => "no_longer_needed",
            ReturnReason::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        ReturnReason::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

impl fmt::Display for ReturnReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a return stands (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnState {
    Requested,
    Approved,
    Rejected,
    PickupScheduled,
    InReturnTransit,
    Received,
    InspectionPending,
    DispositionDecided,
    RefundReleased,
    ReplacementReleased,
    Closed,
}

impl ReturnState {
    pub const ALL: [ReturnState; 11] = [
        ReturnState::Requested,
        ReturnState::Approved,
        ReturnState::Rejected,
        ReturnState::PickupScheduled,
        ReturnState::InReturnTransit,
        ReturnState::Received,
        ReturnState::InspectionPending,
        ReturnState::DispositionDecided,
        ReturnState::RefundReleased,
        ReturnState::ReplacementReleased,
        ReturnState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReturnState::Requested => "requested",
            ReturnState::Approved => "approved",
            ReturnState::Rejected => "rejected",
            ReturnState::PickupScheduled => "pickup_scheduled",
            ReturnState::InReturnTransit => "in_return_transit",
            ReturnState::Received => "received",
            ReturnState::InspectionPending => "inspection_pending",
            ReturnState::DispositionDecided => "disposition_decided",
            ReturnState::RefundReleased => "refund_released",
            ReturnState::ReplacementReleased => "replacement_released",
            ReturnState::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        ReturnState::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// A rejected return gives its items back to what may be returned again.
    pub fn holds_items(self) -> bool {
        self != ReturnState::Rejected
    }
}

impl fmt::Display for ReturnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a return request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnItem {
    pub sku: String,
    pub quantity: u32,
    pub reason: ReturnReason,
}

/// How many of each SKU the customer may still return: shipped (in carrier hands or delivered)
/// minus what earlier requests that still hold items cover.
pub fn returnable_quantities(
    progress: &[ItemProgress],
    earlier: &[(ReturnState, Vec<ReturnItem>)],
) -> BTreeMap<String, u32> {
    let mut left: BTreeMap<String, u32> = BTreeMap::new();
    for p in progress {
        *left.entry(p.sku.clone()).or_default() += p.shipped.max(p.delivered);
    }
    for (_, items) in earlier.iter().filter(|(s, _)| s.holds_items()) {
        for item in items {
            if let Some(q) = left.get_mut(&item.sku) {
                *q = q.saturating_sub(item.quantity);
            }
        }
    }
    left
}

/// Why a return request cannot be taken, naming the line (`items[1].quantity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRefused {
    pub field: String,
    pub message: String,
}

/// Checks a request against what may be returned: at least one line, known SKUs, positive
/// quantities within what is left.
pub fn check_return_request(requested: &[ReturnItem], returnable: &BTreeMap<String, u32>) -> Result<(), ReturnRefused> {
    if requested.is_empty() {
        return Err(ReturnRefused { field: "items".into(), message: "choose at least one item to return".into() });
    }
    let mut asked: BTreeMap<&str, u32> = BTreeMap::new();
    for (i, item) in requested.iter().enumerate() {
        if item.quantity == 0 {
            return Err(ReturnRefused { field: format!("items[{i}].quantity"), message: "must be at least 1".into() });
        }
        let Some(&left) = returnable.get(&item.sku) else {
            return Err(ReturnRefused {
                field: format!("items[{i}].sku"),
                message: format!("`{}` is not an item of this order", item.sku),
            });
        };
        let total = asked.entry(&item.sku).or_default();
        *total += item.quantity;
        if *total > left {
            return Err(ReturnRefused {
                field: format!("items[{i}].quantity"),
                message: format!("at most {left} of `{}` can be returned", item.sku),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::OrderStatus;

    fn progress(sku: &str, ordered: u32, shipped: u32, delivered: u32) -> ItemProgress {
        ItemProgress { sku: sku.into(), ordered, shipped, delivered, status: OrderStatus::Shipped }
    }

    fn item(sku: &str, quantity: u32) -> ReturnItem {
        ReturnItem { sku: sku.into(), quantity, reason: ReturnReason::Damaged }
    }

    #[test]
    fn reasons_and_states_round_trip_through_their_names() {
        for r in ReturnReason::ALL {
            assert_eq!(ReturnReason::parse(r.as_str()), Some(r));
        }
        for s in ReturnState::ALL {
            assert_eq!(ReturnState::parse(s.as_str()), Some(s));
        }
        assert_eq!(ReturnReason::parse("bored"), None);
    }

    #[test]
    fn only_shipped_quantities_less_earlier_requests_can_be_returned() {
        let p = [progress("MUG", 2, 2, 1), progress("TEE", 1, 0, 0)];
        let earlier =
            vec![(ReturnState::Requested, vec![item("MUG", 1)]), (ReturnState::Rejected, vec![item("MUG", 1)])];
        let left = returnable_quantities(&p, &earlier);
        assert_eq!(left["MUG"], 1);
        assert_eq!(left["TEE"], 0);
    }

    #[test]
    fn a_request_beyond_what_is_left_names_the_line() {
        let left: BTreeMap<String, u32> = [("MUG".to_string(), 2), ("TEE".to_string(), 0)].into();
        assert!(check_return_request(&[item("MUG", 2)], &left).is_ok());
        assert_eq!(check_return_request(&[], &left).unwrap_err().field, "items");
        assert_eq!(
            check_return_request(&[item("MUG", 1), item("MUG", 2)], &left).unwrap_err().field,
            "items[1].quantity"
        );
        assert_eq!(check_return_request(&[item("TEE", 1)], &left).unwrap_err().field, "items[0].quantity");
        assert_eq!(check_return_request(&[item("HAT", 1)], &left).unwrap_err().field, "items[0].sku");
        assert_eq!(check_return_request(&[item("MUG", 0)], &left).unwrap_err().field, "items[0].quantity");
    }
}

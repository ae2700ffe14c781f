//! Returns (RMA): the reasons a customer can give, the states a return moves through (DESIGN §3)
//! and the pure rules around them. The state machine says which move is allowed from each state,
//! so an invalid one can be refused naming the allowed ones; the eligibility rules of an account
//! (return window from delivery, non-returnable SKUs, accepted reasons) and the quantity rule (at
//! most what was shipped, less what earlier requests cover) apply the same to a customer's request
//! from the tracking page and a staff request through the API.

use crate::rollup::ItemProgress;
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet};
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

    /// The states a return may move to from this one, in the order of the flow. A return may be
    /// rejected until its parcel is on the way; it may skip a scheduled pickup (the customer
    /// drops it off); a received parcel waits for inspection; a decided disposition releases a
    /// refund or a replacement, or closes the return without either (e.g. scrapped, no refund
    /// owed). `rejected`, once the customer is told, closes; `closed` is final.
    pub fn allowed_next(self) -> &'static [ReturnState] {
        use ReturnState::*;
        match self {
            Requested => &[Approved, Rejected],
            Approved => &[PickupScheduled, InReturnTransit, Rejected],
            Rejected => &[Closed],
            PickupScheduled => &[InReturnTransit, Rejected],
            InReturnTransit => &[Received],
            Received => &[InspectionPending],
            InspectionPending => &[DispositionDecided],
            DispositionDecided => &[RefundReleased, ReplacementReleased, Closed],
            RefundReleased => &[Closed],
            ReplacementReleased => &[Closed],
            Closed => &[],
        }
    }

    /// Checks one move of the state machine.
    pub fn transition(self, to: ReturnState) -> Result<ReturnState, InvalidTransition> {
        if self.allowed_next().contains(&to) {
            Ok(to)
        } else {
            Err(InvalidTransition { from: self, to, allowed: self.allowed_next().to_vec() })
        }
    }

    /// Still being worked on: not rejected and not closed (the returns queue shows these).
    pub fn is_open(self) -> bool {
        !matches!(self, ReturnState::Rejected | ReturnState::Closed)
    }

    /// States a carrier scan of the return parcel may move forward from to `in_return_transit`.
    pub fn awaits_return_parcel(self) -> bool {
        matches!(self, ReturnState::Approved | ReturnState::PickupScheduled)
    }
}

/// A move the state machine does not allow, with the moves it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTransition {
    pub from: ReturnState,
    pub to: ReturnState,
    pub allowed: Vec<ReturnState>,
}

impl fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let allowed: Vec<&str> = self.allowed.iter().map(|s| s.as_str()).collect();
        if allowed.is_empty() {
            write!(f, "a return in state `{}` cannot move any more (asked for `{}`)", self.from, self.to)
        } else {
            write!(f, "a return in state `{}` cannot move to `{}`; allowed: {}", self.from, self.to, allowed.join(", "))
        }
    }
}

impl std::error::Error for InvalidTransition {}

/// What the warehouse found when it opened a returned item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InspectionResult {
    AsNew,
    Opened,
    Damaged,
    MissingParts,
}

impl InspectionResult {
    pub const ALL: [InspectionResult; 4] =
        [InspectionResult::AsNew, InspectionResult::Opened, InspectionResult::Damaged, InspectionResult::MissingParts];

    pub fn as_str(self) -> &'static str {
        match self {
            InspectionResult::AsNew => "as_new",
            InspectionResult::Opened => "opened",
            InspectionResult::Damaged => "damaged",
            InspectionResult::MissingParts => "missing_parts",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        InspectionResult::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// What becomes of a returned item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    Restock,
    Refurbish,
    Scrap,
    ReturnToVendor,
}

impl Disposition {
    pub const ALL: [Disposition; 4] =
        [Disposition::Restock, Disposition::Refurbish, Disposition::Scrap, Disposition::ReturnToVendor];

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Restock => "restock",
            Disposition::Refurbish => "refurbish",
            Disposition::Scrap => "scrap",
            Disposition::ReturnToVendor => "return_to_vendor",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Disposition::ALL.into_iter().find(|d| d.as_str() == raw)
    }
}

/// The inspection and disposition of some units of one returned SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedItem {
    pub sku: String,
    pub quantity: u32,
    pub result: InspectionResult,
    pub disposition: Disposition,
}

/// Checks that an inspection accounts for exactly the units the return holds: every line names
/// a SKU of the return, and per SKU the inspected quantities add up to the returned ones.
pub fn check_inspection(returned: &[ReturnItem], inspected: &[InspectedItem]) -> Result<(), ReturnRefused> {
    if inspected.is_empty() {
        return Err(ReturnRefused { field: "items".into(), message: "inspect at least one item".into() });
    }
    let mut expected: BTreeMap<&str, u32> = BTreeMap::new();
    for item in returned {
        *expected.entry(&item.sku).or_default() += item.quantity;
    }
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    for (i, item) in inspected.iter().enumerate() {
        let Some(&limit) = expected.get(item.sku.as_str()) else {
            return Err(ReturnRefused {
                field: format!("items[{i}].sku"),
                message: format!("`{}` is not in this return", item.sku),
            });
        };
        let total = seen.entry(&item.sku).or_default();
        *total += item.quantity;
        if item.quantity == 0 || *total > limit {
            return Err(ReturnRefused {
                field: format!("items[{i}].quantity"),
                message: format!("the return holds {limit} of `{}`", item.sku),
            });
        }
    }
    if let Some((sku, want)) = expected.iter().find(|(sku, want)| seen.get(*sku) != Some(want)) {
        return Err(ReturnRefused {
            field: "items".into(),
            message: format!("inspect all {want} of `{sku}` (each unit once)"),
        });
    }
    Ok(())
}

/// An account's rules for what its customers may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPolicy {
    /// Days after delivery within which a return may be requested.
    pub window_days: u32,
    /// SKUs that are never taken back (hygiene products, gift cards…).
    pub non_returnable_skus: BTreeSet<String>,
    /// The reasons the account accepts; never empty.
    pub reasons: Vec<ReturnReason>,
}

impl Default for ReturnPolicy {
    /// Thirty days, every SKU, every reason.
    fn default() -> Self {
        ReturnPolicy { window_days: 30, non_returnable_skus: BTreeSet::new(), reasons: ReturnReason::ALL.to_vec() }
    }
}

impl ReturnPolicy {
    /// The last moment a return may be requested for an order delivered at `delivered_at`.
    pub fn window_closes_at(&self, delivered_at: DateTime<Utc>) -> DateTime<Utc> {
        delivered_at + Duration::days(i64::from(self.window_days))
    }

    /// Checks a request against the account's rules at `now`. `delivered_at` is the latest
    /// delivery of the order (`None` while nothing was delivered: the window has not started,
    /// so a parcel in transit may still be refused or recalled, and a return may be asked).
    pub fn check(
        &self,
        requested: &[ReturnItem],
        delivered_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), ReturnRefused> {
        if let Some(delivered_at) = delivered_at {
            let closes = self.window_closes_at(delivered_at);
            if now > closes {
                return Err(ReturnRefused {
                    field: "items".into(),
                    message: format!(
                        "the return window of {} days after delivery closed on {}",
                        self.window_days,
                        closes.format("%Y-%m-%d")
                    ),
                });
            }
        }
        for (i, item) in requested.iter().enumerate() {
            if self.non_returnable_skus.contains(&item.sku) {
                return Err(ReturnRefused {
                    field: format!("items[{i}].sku"),
                    message: format!("`{}` cannot be returned", item.sku),
                });
            }
            if !self.reasons.contains(&item.reason) {
                let accepted: Vec<&str> = self.reasons.iter().map(|r| r.as_str()).collect();
                return Err(ReturnRefused {
                    field: format!("items[{i}].reason"),
                    message: format!("`{}` is not accepted; choose one of {}", item.reason, accepted.join(", ")),
                });
            }
        }
        Ok(())
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

/// What the return figures need of one order placed in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderReturnFacts {
    /// Every item delivered: only such orders count as the base of the rates.
    pub delivered: bool,
    /// Units ordered per SKU.
    pub ordered_units: BTreeMap<String, u32>,
    pub returns: Vec<ReturnFacts>,
}

/// What the return figures need of one return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnFacts {
    pub state: ReturnState,
    pub requested_at: DateTime<Utc>,
    /// When its refund was released, if it was.
    pub refunded_at: Option<DateTime<Utc>>,
    pub items: Vec<ReturnItem>,
}

/// Return rate of one reason: delivered orders with a (not rejected) return line of that reason.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonRate {
    pub reason: ReturnReason,
    pub orders: u32,
    pub rate: Option<f64>,
}

/// Return rate of one SKU: units returned over units ordered, on delivered orders.
#[derive(Debug, Clone, PartialEq)]
pub struct SkuRate {
    pub sku: String,
    pub ordered_units: u32,
    pub returned_units: u32,
    pub rate: Option<f64>,
}

/// The return figures of a period (rates in percent).
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnKpis {
    pub delivered_orders: u32,
    pub returned_orders: u32,
    pub return_rate: Option<f64>,
    /// Every reason with at least one return, most frequent first.
    pub by_reason: Vec<ReasonRate>,
    /// Every SKU returned at least once, highest rate first.
    pub by_sku: Vec<SkuRate>,
    pub request_to_refund_hours_median: Option<f64>,
    pub request_to_refund_hours_p90: Option<f64>,
}

fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) * 100.0 / f64::from(whole))
}

/// Computes the return figures; rejected returns do not count.
pub fn return_kpis(orders: &[OrderReturnFacts]) -> ReturnKpis {
    let delivered: Vec<&OrderReturnFacts> = orders.iter().filter(|o| o.delivered).collect();
    let counted =
        |o: &&OrderReturnFacts| o.returns.iter().filter(|r| r.state.holds_items()).cloned().collect::<Vec<_>>();
    let mut returned_orders = 0;
    let mut by_reason: BTreeMap<&'static str, (ReturnReason, u32)> = BTreeMap::new();
    let mut by_sku: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for order in &delivered {
        for (sku, units) in &order.ordered_units {
            by_sku.entry(sku.clone()).or_default().0 += units;
        }
        let returns = counted(order);
        if returns.is_empty() {
            continue;
        }
        returned_orders += 1;
        let mut reasons: Vec<ReturnReason> = returns.iter().flat_map(|r| r.items.iter().map(|i| i.reason)).collect();
        reasons.sort_by_key(|r| r.as_str());
        reasons.dedup();
        for reason in reasons {
            by_reason.entry(reason.as_str()).or_insert((reason, 0)).1 += 1;
        }
        for item in returns.iter().flat_map(|r| r.items.iter()) {
            by_sku.entry(item.sku.clone()).or_default().1 += item.quantity;
        }
    }
    let base = delivered.len() as u32;
    let mut reasons: Vec<ReasonRate> = by_reason
        .into_values()
        .map(|(reason, orders)| ReasonRate { reason, orders, rate: percent(orders, base) })
        .collect();
    reasons.sort_by(|a, b| b.orders.cmp(&a.orders).then(a.reason.as_str().cmp(b.reason.as_str())));
    let mut skus: Vec<SkuRate> = by_sku
        .into_iter()
        .filter(|(_, (_, returned))| *returned > 0)
        .map(|(sku, (ordered, returned))| SkuRate {
            sku,
            ordered_units: ordered,
            returned_units: returned,
            rate: percent(returned, ordered),
        })
        .collect();
    skus.sort_by(|a, b| b.rate.unwrap_or(0.0).total_cmp(&a.rate.unwrap_or(0.0)).then(a.sku.cmp(&b.sku)));
    let mut refund_hours: Vec<f64> = orders
        .iter()
        .flat_map(|o| o.returns.iter())
        .filter_map(|r| r.refunded_at.map(|at| (at - r.requested_at).num_seconds() as f64 / 3600.0))
        .collect();
    refund_hours.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        (!refund_hours.is_empty()).then(|| {
            let idx = ((p * refund_hours.len() as f64).ceil() as usize).clamp(1, refund_hours.len()) - 1;
            refund_hours[idx]
        })
    };
    ReturnKpis {
        delivered_orders: base,
        returned_orders,
        return_rate: percent(returned_orders, base),
        by_reason: reasons,
        by_sku: skus,
        request_to_refund_hours_median: crate::kpi::median(&refund_hours),
        request_to_refund_hours_p90: rank(0.9),
    }
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

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_state_machine_allows_exactly_the_flow_of_design_section_three() {
        use ReturnState::*;
        let allowed = [
            (Requested, Approved),
            (Requested, Rejected),
            (Approved, PickupScheduled),
            (Approved, InReturnTransit),
            (Approved, Rejected),
            (Rejected, Closed),
            (PickupScheduled, InReturnTransit),
            (PickupScheduled, Rejected),
            (InReturnTransit, Received),
            (Received, InspectionPending),
            (InspectionPending, DispositionDecided),
            (DispositionDecided, RefundReleased),
            (DispositionDecided, ReplacementReleased),
            (DispositionDecided, Closed),
            (RefundReleased, Closed),
            (ReplacementReleased, Closed),
        ];
        for from in ReturnState::ALL {
            for to in ReturnState::ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.transition(to).is_ok(), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn an_invalid_transition_lists_the_allowed_ones() {
        let refused = ReturnState::Requested.transition(ReturnState::Received).unwrap_err();
        assert_eq!(refused.allowed, vec![ReturnState::Approved, ReturnState::Rejected]);
        assert_eq!(
            refused.to_string(),
            "a return in state `requested` cannot move to `received`; allowed: approved, rejected"
        );
        let closed = ReturnState::Closed.transition(ReturnState::Approved).unwrap_err();
        assert!(closed.allowed.is_empty());
        assert!(closed.to_string().contains("cannot move any more"));
    }

    #[test]
    fn a_request_inside_the_window_passes_and_one_a_day_late_is_refused() {
        let policy = ReturnPolicy { window_days: 14, ..ReturnPolicy::default() };
        let delivered = at("2026-03-01T10:00:00Z");
        assert!(policy.check(&[item("MUG", 1)], Some(delivered), at("2026-03-15T10:00:00Z")).is_ok());
        let late = policy.check(&[item("MUG", 1)], Some(delivered), at("2026-03-16T09:00:00Z")).unwrap_err();
        assert_eq!(late.field, "items");
        assert!(late.message.contains("closed on 2026-03-15"), "{}", late.message);
        assert!(policy.check(&[item("MUG", 1)], None, at("2027-01-01T00:00:00Z")).is_ok());
    }

    #[test]
    fn non_returnable_skus_and_reasons_the_account_does_not_take_are_refused_by_line() {
        let policy = ReturnPolicy {
            window_days: 30,
            non_returnable_skus: ["GIFTCARD".to_string()].into(),
            reasons: vec![ReturnReason::Damaged, ReturnReason::WrongItem],
        };
        let now = at("2026-03-02T00:00:00Z");
        let delivered = Some(at("2026-03-01T00:00:00Z"));
        let gift = policy.check(&[item("MUG", 1), item("GIFTCARD", 1)], delivered, now).unwrap_err();
        assert_eq!(gift.field, "items[1].sku");
        let bored = ReturnItem { sku: "MUG".into(), quantity: 1, reason: ReturnReason::NoLongerNeeded };
        let reason = policy.check(&[bored], delivered, now).unwrap_err();
        assert_eq!(reason.field, "items[0].reason");
        assert!(reason.message.contains("damaged, wrong_item"));
        assert!(policy.check(&[item("MUG", 2)], delivered, now).is_ok());
    }

    fn inspected(sku: &str, quantity: u32) -> InspectedItem {
        InspectedItem { sku: sku.into(), quantity, result: InspectionResult::Opened, disposition: Disposition::Restock }
    }

    #[test]
    fn an_inspection_accounts_for_every_returned_unit_exactly_once() {
        let returned = [item("MUG", 2), item("TEE", 1)];
        assert!(check_inspection(&returned, &[inspected("MUG", 1), inspected("MUG", 1), inspected("TEE", 1)]).is_ok());
        assert_eq!(check_inspection(&returned, &[]).unwrap_err().field, "items");
        assert_eq!(check_inspection(&returned, &[inspected("HAT", 1)]).unwrap_err().field, "items[0].sku");
        assert_eq!(
            check_inspection(&returned, &[inspected("MUG", 2), inspected("MUG", 1)]).unwrap_err().field,
            "items[1].quantity"
        );
        let short = check_inspection(&returned, &[inspected("MUG", 2)]).unwrap_err();
        assert_eq!(short.field, "items");
        assert!(short.message.contains("`TEE`"));
        for r in InspectionResult::ALL {
            assert_eq!(InspectionResult::parse(r.as_str()), Some(r));
        }
        for d in Disposition::ALL {
            assert_eq!(Disposition::parse(d.as_str()), Some(d));
        }
    }

    fn facts(delivered: bool, units: &[(&str, u32)], returns: Vec<ReturnFacts>) -> OrderReturnFacts {
        OrderReturnFacts { delivered, ordered_units: units.iter().map(|(s, u)| (s.to_string(), *u)).collect(), returns }
    }

    fn ret(state: ReturnState, items: Vec<ReturnItem>, requested: &str, refunded: Option<&str>) -> ReturnFacts {
        ReturnFacts { state, requested_at: at(requested), refunded_at: refunded.map(at), items }
    }

    #[test]
    fn return_rates_by_reason_and_sku_count_delivered_orders_and_skip_rejected_returns() {
        let wrong = ReturnItem { sku: "TEE".into(), quantity: 1, reason: ReturnReason::WrongItem };
        let orders = [
            facts(
                true,
                &[("MUG", 2), ("TEE", 1)],
                vec![ret(
                    ReturnState::Closed,
                    vec![item("MUG", 1), wrong.clone()],
                    "2026-11-05T10:00:00Z",
                    Some("2026-11-07T10:00:00Z"),
                )],
            ),
            facts(
                true,
                &[("MUG", 2)],
                vec![ret(ReturnState::Rejected, vec![item("MUG", 2)], "2026-11-05T10:00:00Z", None)],
            ),
            facts(
                true,
                &[("MUG", 4)],
                vec![ret(
                    ReturnState::RefundReleased,
                    vec![item("MUG", 1)],
                    "2026-11-06T00:00:00Z",
                    Some("2026-11-06T12:00:00Z"),
                )],
            ),
            facts(true, &[("MUG", 2)], vec![]),
            facts(
                false,
                &[("MUG", 9)],
                vec![ret(ReturnState::Requested, vec![item("MUG", 9)], "2026-11-06T00:00:00Z", None)],
            ),
        ];
        let k = return_kpis(&orders);
        assert_eq!((k.delivered_orders, k.returned_orders), (4, 2));
        assert_eq!(k.return_rate, Some(50.0));
        assert_eq!(k.by_reason[0].reason, ReturnReason::Damaged);
        assert_eq!((k.by_reason[0].orders, k.by_reason[0].rate), (2, Some(50.0)));
        assert_eq!((k.by_reason[1].reason, k.by_reason[1].rate), (ReturnReason::WrongItem, Some(25.0)));
        assert_eq!(k.by_sku[0].sku, "TEE");
        assert_eq!(k.by_sku[0].rate, Some(100.0));
        assert_eq!((k.by_sku[1].ordered_units, k.by_sku[1].returned_units), (10, 2));
        assert_eq!(k.by_sku[1].rate, Some(20.0));
        // Two refunds, after 12 h and 48 h: the median is their mean, as spreadsheets compute it.
        assert_eq!(k.request_to_refund_hours_median, Some(30.0));
        assert_eq!(k.request_to_refund_hours_p90, Some(48.0));
        assert_eq!(return_kpis(&[]).return_rate, None);
    }
}

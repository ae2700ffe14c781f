//! Notification decisions of DESIGN §5, without any sending: which class an order belongs to,
//! which changes a customer hears about (few and useful, never one per raw scan), which team an
//! exception alerts, how one message is named so it is queued once (the dedupe key), and how long
//! a failed send waits before the next try. The store calls these inside the transaction that
//! records the change, so the outbox row and its cause are written together; the notify crate
//! only delivers what was decided here.

use crate::exceptions::ExceptionKind;
use crate::notify_policy::{AlertRoute, MessageLanguage, QuietHours};
use crate::{Milestone, Money};
use chrono::{DateTime, Duration, Utc};
use std::fmt;

/// The class of an order, picked by rules on value, items and service; each class has its own
/// list of milestones its customers hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrderClass {
    Standard,
    HighValue,
    Bulky,
    TimeSensitive,
}

impl OrderClass {
    pub const ALL: [OrderClass; 4] =
        [OrderClass::Standard, OrderClass::HighValue, OrderClass::Bulky, OrderClass::TimeSensitive];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderClass::Standard => "standard",
            OrderClass::HighValue => "high_value",
            OrderClass::Bulky => "bulky",
            OrderClass::TimeSensitive => "time_sensitive",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        OrderClass::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

/// The rules that pick an order's class. The first that matches wins, in the order
/// time-sensitive service, high value, bulky; everything else is standard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRules {
    /// Orders worth at least this much are `high_value`.
    pub high_value_from: Money,
    /// Orders of at least this many units are `bulky`.
    pub bulky_from_units: u32,
    /// Service levels (lower case) that make an order `time_sensitive`.
    pub time_sensitive_services: Vec<String>,
}

impl Default for ClassRules {
    fn default() -> Self {
        ClassRules {
            high_value_from: Money::from_ten_thousandths(500 * 10_000),
            bulky_from_units: 10,
            time_sensitive_services: ["same_day", "next_day", "overnight", "express", "priority_overnight"]
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }
}

/// What the class rules look at.
#[derive(Debug, Clone, Copy)]
pub struct OrderFacts<'a> {
    pub value: Money,
    pub units: u32,
    pub service: Option<&'a str>,
}

pub fn classify(facts: &OrderFacts<'_>, rules: &ClassRules) -> OrderClass {
    let service = facts.service.map(|s| s.trim().to_ascii_lowercase().replace([' ', '-'], "_"));
    if service.is_some_and(|s| rules.time_sensitive_services.contains(&s)) {
        OrderClass::TimeSensitive
    } else if facts.value >= rules.high_value_from {
        OrderClass::HighValue
    } else if facts.units >= rules.bulky_from_units {
        OrderClass::Bulky
    } else {
        OrderClass::Standard
    }
}

/// A change a customer may hear about. Raw scans never map one to one onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Notice {
    Confirmed,
    Shipped,
    Delayed,
    OutForDelivery,
    DeliveryAttempted,
    AvailableForPickup,
    Delivered,
    /// A return's refund was released to the customer.
    RefundReleased,
    /// A return's replacement was released (a new outbound parcel follows).
    ReplacementReleased,
    /// A return request was approved: the customer sends the items back.
    ReturnApproved,
    /// A return request was rejected, with the reason.
    ReturnRejected,
    /// The returned parcel arrived at the warehouse.
    ReturnReceived,
    /// A parcel came back to the sender and staff refunded the customer.
    UndeliveredRefunded,
}

impl Notice {
    pub const ALL: [Notice; 13] = [
        Notice::Confirmed,
        Notice::Shipped,
        Notice::Delayed,
        Notice::OutForDelivery,
        Notice::DeliveryAttempted,
        Notice::AvailableForPickup,
        Notice::Delivered,
        Notice::RefundReleased,
        Notice::ReplacementReleased,
        Notice::ReturnApproved,
        Notice::ReturnRejected,
        Notice::ReturnReceived,
        Notice::UndeliveredRefunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Confirmed => "confirmed",
            Notice::Shipped => "shipped",
            Notice::Delayed => "delayed",
            Notice::OutForDelivery => "out_for_delivery",
            Notice::DeliveryAttempted => "delivery_attempted",
            Notice::AvailableForPickup => "available_for_pickup",
            Notice::Delivered => "delivered",
            Notice::RefundReleased => "refund_released",
            Notice::ReplacementReleased => "replacement_released",
            Notice::ReturnApproved => "return_approved",
            Notice::ReturnRejected => "return_rejected",
            Notice::ReturnReceived => "return_received",
            Notice::UndeliveredRefunded => "undelivered_refunded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Notice::ALL.into_iter().find(|n| n.as_str() == raw)
    }

    /// The subject line a customer reads.
    pub fn headline(self) -> &'static str {
        match self {
            Notice::Confirmed => "Your order is confirmed",
            Notice::Shipped => "Your order has shipped",
            Notice::Delayed => "Your order is running late",
            Notice::OutForDelivery => "Your order is out for delivery",
            Notice::DeliveryAttempted => "We tried to deliver your order",
            Notice::AvailableForPickup => "Your order is ready for pickup",
            Notice::Delivered => "Your order was delivered",
            Notice::RefundReleased => "Your refund was released",
            Notice::ReplacementReleased => "Your replacement is on its way",
            Notice::ReturnApproved => "Your return was approved",
            Notice::ReturnRejected => "Your return request was declined",
            Notice::ReturnReceived => "We received your return",
            Notice::UndeliveredRefunded => "Your parcel came back to us: we refunded you",
        }
    }

    /// The notice a return's new state sends, if any (the states a customer acts on or waits for).
    pub fn for_return_state(state: crate::ReturnState) -> Option<Notice> {
        match state {
            crate::ReturnState::RefundReleased => Some(Notice::RefundReleased),
            crate::ReturnState::ReplacementReleased => Some(Notice::ReplacementReleased),
            crate::ReturnState::Approved => Some(Notice::ReturnApproved),
            crate::ReturnState::Rejected => Some(Notice::ReturnRejected),
            crate::ReturnState::Received => Some(Notice::ReturnReceived),
            _ => None,
        }
    }

    /// True for the notices of a return rather than of a delivery.
    pub fn is_return(self) -> bool {
        self.is_release() || matches!(self, Notice::ReturnApproved | Notice::ReturnRejected | Notice::ReturnReceived)
    }

    /// True for money or goods released to the customer: the merchant's system must act on
    /// these (its webhook says `return.released`).
    pub fn is_release(self) -> bool {
        matches!(self, Notice::RefundReleased | Notice::ReplacementReleased | Notice::UndeliveredRefunded)
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a message is for: the buyer, or the merchant's own people and systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    Customer,
    Internal,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Customer => "customer",
            Audience::Internal => "internal",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Audience::Customer, Audience::Internal].into_iter().find(|a| a.as_str() == raw)
    }
}

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyChannel {
    Email,
    Sms,
    Webhook,
    /// A chat room's incoming webhook (Slack-compatible `{"text": …}`), for staff alerts.
    Chat,
}

impl NotifyChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyChannel::Email => "email",
            NotifyChannel::Sms => "sms",
            NotifyChannel::Webhook => "webhook",
            NotifyChannel::Chat => "chat",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [NotifyChannel::Email, NotifyChannel::Sms, NotifyChannel::Webhook, NotifyChannel::Chat]
            .into_iter()
            .find(|c| c.as_str() == raw)
    }
}

/// Where a notification is in its life: waiting (or waiting to retry), delivered, given up on
/// after the last attempt (the dead-letter list), or deliberately not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationState {
    Pending,
    Sent,
    Failed,
    Suppressed,
}

impl NotificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationState::Pending => "pending",
            NotificationState::Sent => "sent",
            NotificationState::Failed => "failed",
            NotificationState::Suppressed => "suppressed",
        }
    }
}

/// The customer-facing policy: which notices each class hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationPolicy {
    pub classes: ClassRules,
    pub customer_notices: Vec<(OrderClass, Vec<Notice>)>,
    pub retry: RetryPolicy,
    /// How long a parcel's notice waits for the order's other parcels to reach the same step, so
    /// a split order hears once ("your 3 parcels were delivered") instead of once per parcel. It
    /// goes out at once when no other parcel is still on its way to that step.
    pub merge_window: Duration,
    /// Which team each exception alerts and over which internal channels; a kind not listed
    /// takes `AlertRoute::default_for`.
    pub alerts: Vec<(ExceptionKind, AlertRoute)>,
    /// Hours in which customer messages wait; none (the default) sends at any hour.
    pub quiet_hours: Option<QuietHours>,
    /// The language of customer messages.
    pub language: MessageLanguage,
}

impl Default for NotificationPolicy {
    /// DESIGN §5: a routine order hears at most confirmed, shipped, out for delivery and
    /// delivered, plus a delay only when the promise passes and a failed attempt (after the
    /// team has been alerted). Time-sensitive orders also hear when a parcel waits at a pickup
    /// point, since every hour counts; bulky deliveries usually need someone at home, so they
    /// keep the attempt notice too.
    fn default() -> Self {
        use Notice::*;
        let routine = vec![Confirmed, Shipped, Delayed, OutForDelivery, DeliveryAttempted, Delivered];
        let mut urgent = routine.clone();
        urgent.push(AvailableForPickup);
        NotificationPolicy {
            classes: ClassRules::default(),
            customer_notices: vec![
                (OrderClass::Standard, routine.clone()),
                (OrderClass::HighValue, urgent.clone()),
                (OrderClass::Bulky, routine),
                (OrderClass::TimeSensitive, urgent),
            ],
            retry: RetryPolicy::default(),
            merge_window: Duration::hours(8),
            alerts: Vec::new(),
            quiet_hours: None,
            language: MessageLanguage::En,
        }
    }
}

impl NotificationPolicy {
    pub fn customer_hears(&self, class: OrderClass, notice: Notice) -> bool {
        self.customer_notices.iter().any(|(c, notices)| *c == class && notices.contains(&notice))
    }

    /// Who an exception alerts, and how.
    pub fn alert_route(&self, kind: ExceptionKind) -> AlertRoute {
        self.alerts.iter().find(|(k, _)| *k == kind).map(|(_, r)| r.clone()).unwrap_or(AlertRoute::default_for(kind))
    }

    /// When a customer message due at `due` may go out, given the customer's ship-to country.
    pub fn customer_release_at(&self, due: DateTime<Utc>, country: Option<&str>) -> DateTime<Utc> {
        self.quiet_hours.as_ref().map_or(due, |q| q.release_at(due, country))
    }
}

/// What the policy sees of a parcel before and after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParcelView {
    pub status: Option<Milestone>,
    pub had_carrier_possession: bool,
}

/// The one notice (if any) a customer should get for a parcel's change from `before` to `after`.
/// Deciding from the status before and after the whole batch is what keeps a carrier batch (or a
/// late webhook) to one message about its newest step: a batch bringing `out_for_delivery` and
/// `delivered` ends on `delivered`, and a late `out_for_delivery` after `delivered` moves nothing,
/// so it says nothing. When the newest step is one this class does not hear, the newest earlier
/// step of the same change that it does hear is used (first carrier possession reads "shipped").
pub fn customer_notice(
    policy: &NotificationPolicy,
    class: OrderClass,
    before: ParcelView,
    after: ParcelView,
) -> Option<Notice> {
    if before == after {
        return None;
    }
    let mut candidates = Vec::with_capacity(2);
    if after.had_carrier_possession && !before.had_carrier_possession {
        candidates.push(Notice::Shipped);
    }
    if after.status != before.status {
        let by_status = match after.status {
            Some(Milestone::OutForDelivery) => Some(Notice::OutForDelivery),
            Some(Milestone::DeliveryAttempted) => Some(Notice::DeliveryAttempted),
            Some(Milestone::AvailableForPickup) => Some(Notice::AvailableForPickup),
            Some(Milestone::Delivered) => Some(Notice::Delivered),
            _ => None,
        };
        candidates.extend(by_status);
    }
    candidates.into_iter().rev().find(|n| policy.customer_hears(class, *n))
}

/// The notice an order-level change brings (the channel confirming the order).
pub fn order_notice(
    policy: &NotificationPolicy,
    class: OrderClass,
    before: Option<Milestone>,
    after: Option<Milestone>,
) -> Option<Notice> {
    (before != after && after == Some(Milestone::Confirmed) && policy.customer_hears(class, Notice::Confirmed))
        .then_some(Notice::Confirmed)
}

/// The customer notice an opened exception brings, if any: only a promise that will not be
/// kept is the customer's business; the rest is the team's to fix first.
pub fn customer_notice_for_exception(
    policy: &NotificationPolicy,
    class: OrderClass,
    kind: ExceptionKind,
) -> Option<Notice> {
    (kind == ExceptionKind::Late && policy.customer_hears(class, Notice::Delayed)).then_some(Notice::Delayed)
}

/// The internal team an exception alerts.
pub fn alert_team(kind: ExceptionKind) -> &'static str {
    match kind {
        ExceptionKind::Stalled | ExceptionKind::CarrierException | ExceptionKind::NotFound => "carrier_ops",
        ExceptionKind::DeliveryFailed | ExceptionKind::AddressIssue | ExceptionKind::Late => "customer_care",
        ExceptionKind::HandoffMismatch | ExceptionKind::MissingScan => "warehouse",
        ExceptionKind::ReturnInMotion | ExceptionKind::ReturnedToSender => "returns",
    }
}

/// The name of one message: the same (order, shipment set, subject, audience, channel) is never
/// queued twice. The shipment set is sorted so the order parcels are named in does not matter;
/// an order-level message has the empty set (`-`). The key also travels to the provider
/// (`Idempotency-Key`, the mail's `Message-ID`) so a resend after a crash is recognised there.
pub fn dedupe_key(
    order_number: &str,
    shipments: &[&str],
    subject: &str,
    audience: Audience,
    channel: NotifyChannel,
) -> String {
    let mut set: Vec<&str> = shipments.to_vec();
    set.sort_unstable();
    set.dedup();
    let set = if set.is_empty() { "-".to_string() } else { set.join("+") };
    format!("{order_number}/{set}/{subject}/{}/{}", audience.as_str(), channel.as_str())
}

/// The subject part of a dedupe key, with the scope that tells apart messages of one subject that
/// name no parcel but are not the same message (each return of an order: `return_approved@return-7`).
pub fn scoped_subject<'a>(subject: &'a str, scope: Option<&str>) -> std::borrow::Cow<'a, str> {
    match scope {
        Some(scope) => std::borrow::Cow::Owned(format!("{subject}@{scope}")),
        None => std::borrow::Cow::Borrowed(subject),
    }
}

/// When a failed send is tried again: exponential backoff from `base`, capped at `cap`, and
/// given up on (dead-lettered) after `max_attempts` attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base: Duration::seconds(30), cap: Duration::hours(2), max_attempts: 8 }
    }
}

impl RetryPolicy {
    /// How long to wait after the `attempts`-th failed attempt, or `None` to give up.
    pub fn after_failure(&self, attempts: u32) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exponent = attempts.saturating_sub(1).min(30);
        let wait = self.base.checked_mul(1i32 << exponent.min(20)).unwrap_or(self.cap);
        Some(wait.min(self.cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Milestone::*;

    fn view(status: Option<Milestone>, possession: bool) -> ParcelView {
        ParcelView { status, had_carrier_possession: possession }
    }

    fn money(units: i64) -> Money {
        Money::from_ten_thousandths(units * 10_000)
    }

    #[test]
    fn order_class_follows_service_then_value_then_units() {
        let rules = ClassRules::default();
        let table = [
            (money(40), 3, None, OrderClass::Standard),
            (money(40), 3, Some("ground"), OrderClass::Standard),
            (money(500), 1, None, OrderClass::HighValue),
            (money(40), 12, None, OrderClass::Bulky),
            (money(900), 12, None, OrderClass::HighValue),
            (money(900), 12, Some("Next Day"), OrderClass::TimeSensitive),
            (money(10), 1, Some("overnight"), OrderClass::TimeSensitive),
        ];
        for (value, units, service, expected) in table {
            let facts = OrderFacts { value, units, service };
            assert_eq!(classify(&facts, &rules), expected, "{value:?} {units} {service:?}");
        }
    }

    #[test]
    fn a_customer_hears_only_the_changes_that_matter() {
        let policy = NotificationPolicy::default();
        let c = OrderClass::Standard;
        let table = [
            // A created label is not "shipped" (rule 1).
            (view(None, false), view(Some(LabelCreated), false), None),
            (view(Some(Packed), false), view(Some(HandedToCarrier), true), Some(Notice::Shipped)),
            // The first carrier scan may be in transit already: that is when it shipped.
            (view(Some(LabelCreated), false), view(Some(InTransit), true), Some(Notice::Shipped)),
            // Further transit scans say nothing.
            (view(Some(InTransit), true), view(Some(InTransit), true), None),
            (view(Some(HandedToCarrier), true), view(Some(InTransit), true), None),
            (view(Some(InTransit), true), view(Some(OutForDelivery), true), Some(Notice::OutForDelivery)),
            (view(Some(OutForDelivery), true), view(Some(DeliveryAttempted), true), Some(Notice::DeliveryAttempted)),
            (view(Some(OutForDelivery), true), view(Some(Delivered), true), Some(Notice::Delivered)),
            // One batch with several steps: only the newest.
            (view(Some(InTransit), true), view(Some(Delivered), true), Some(Notice::Delivered)),
            (view(None, false), view(Some(OutForDelivery), true), Some(Notice::OutForDelivery)),
            // A carrier exception right after pickup still means it shipped.
            (view(Some(Packed), false), view(Some(Exception), true), Some(Notice::Shipped)),
            // A standard order does not hear about a pickup point.
            (view(Some(InTransit), true), view(Some(AvailableForPickup), true), None),
            (view(Some(Delivered), true), view(Some(ReturningToSender), true), None),
        ];
        for (before, after, expected) in table {
            assert_eq!(customer_notice(&policy, c, before, after), expected, "{before:?} -> {after:?}");
        }
    }

    #[test]
    fn the_newest_step_a_class_hears_wins_when_the_newest_is_not_one_of_them() {
        let policy = NotificationPolicy {
            customer_notices: vec![(OrderClass::Bulky, vec![Notice::Shipped, Notice::Delivered])],
            ..NotificationPolicy::default()
        };
        let change = (view(Some(Packed), false), view(Some(OutForDelivery), true));
        assert_eq!(customer_notice(&policy, OrderClass::Bulky, change.0, change.1), Some(Notice::Shipped));
        let pickup = (view(Some(InTransit), true), view(Some(AvailableForPickup), true));
        assert_eq!(customer_notice(&policy, OrderClass::TimeSensitive, pickup.0, pickup.1), None);
        let urgent = NotificationPolicy::default();
        assert_eq!(
            customer_notice(&urgent, OrderClass::TimeSensitive, pickup.0, pickup.1),
            Some(Notice::AvailableForPickup)
        );
    }

    #[test]
    fn only_a_confirmation_of_the_order_itself_is_an_order_notice() {
        let policy = NotificationPolicy::default();
        let c = OrderClass::Standard;
        assert_eq!(order_notice(&policy, c, Some(Placed), Some(Confirmed)), Some(Notice::Confirmed));
        assert_eq!(order_notice(&policy, c, Some(Confirmed), Some(Confirmed)), None);
        assert_eq!(order_notice(&policy, c, Some(Placed), Some(Cancelled)), None);
    }

    #[test]
    fn exceptions_alert_a_team_and_only_lateness_reaches_the_customer() {
        let policy = NotificationPolicy::default();
        for kind in ExceptionKind::ALL {
            assert!(!alert_team(kind).is_empty());
            let expected = (kind == ExceptionKind::Late).then_some(Notice::Delayed);
            assert_eq!(customer_notice_for_exception(&policy, OrderClass::Standard, kind), expected, "{kind}");
        }
        assert_eq!(alert_team(ExceptionKind::DeliveryFailed), "customer_care");
        assert_eq!(alert_team(ExceptionKind::MissingScan), "warehouse");
    }

    #[test]
    fn the_dedupe_key_ignores_the_order_parcels_are_named_in() {
        let a = dedupe_key("A-1", &["1Z2", "1Z1"], "delivered", Audience::Customer, NotifyChannel::Email);
        let b = dedupe_key("A-1", &["1Z1", "1Z2", "1Z1"], "delivered", Audience::Customer, NotifyChannel::Email);
        assert_eq!(a, b);
        assert_eq!(a, "A-1/1Z1+1Z2/delivered/customer/email");
        assert_eq!(
            dedupe_key("A-1", &[], "confirmed", Audience::Customer, NotifyChannel::Webhook),
            "A-1/-/confirmed/customer/webhook"
        );
        assert_ne!(a, dedupe_key("A-1", &["1Z1", "1Z2"], "delivered", Audience::Internal, NotifyChannel::Email));
        let first = dedupe_key(
            "A-1",
            &[],
            &scoped_subject("return_approved", Some("return-1")),
            Audience::Customer,
            NotifyChannel::Email,
        );
        let second = dedupe_key(
            "A-1",
            &[],
            &scoped_subject("return_approved", Some("return-2")),
            Audience::Customer,
            NotifyChannel::Email,
        );
        assert_ne!(first, second, "two returns without a parcel are two messages");
        assert_eq!(scoped_subject("delivered", None), "delivered");
    }

    #[test]
    fn retries_back_off_exponentially_then_give_up() {
        let retry = RetryPolicy { base: Duration::seconds(30), cap: Duration::minutes(10), max_attempts: 6 };
        let table = [
            (1, Some(Duration::seconds(30))),
            (2, Some(Duration::seconds(60))),
            (3, Some(Duration::seconds(120))),
            (4, Some(Duration::seconds(240))),
            (5, Some(Duration::seconds(480))),
            (6, None),
        ];
        for (attempts, expected) in table {
            assert_eq!(retry.after_failure(attempts), expected, "after attempt {attempts}");
        }
        let capped = RetryPolicy { max_attempts: 100, ..retry };
        assert_eq!(capped.after_failure(40), Some(Duration::minutes(10)));
    }
}

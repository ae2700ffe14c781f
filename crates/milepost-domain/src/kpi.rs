//! Key performance figures of DESIGN §7, computed from plain facts about orders so the formulas
//! are tested without a database: on-time delivery rate, order cycle time, order accuracy,
//! fulfillment cost per order, first-attempt delivery, exception rate and time to resolve,
//! return rate; cut by period, carrier, service, channel or warehouse.

use crate::money::Money;
use chrono::{DateTime, Datelike, Duration, Utc};
use std::collections::BTreeMap;

/// What the figures need of one shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentKpiFacts {
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub warehouse: Option<String>,
    pub cost: Money,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Failed delivery attempts before the delivery (or so far).
    pub failed_attempts: u32,
    /// Milepost's window in force when the parcel was first in carrier hands: its first and
    /// last instant (`docs/eta.md`).
    pub eta_at_possession: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// What the figures need of one exception: its kind (`stalled`, `late`…) and when it opened
/// and was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionKpiFacts {
    pub kind: String,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// What the figures need of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKpiFacts {
    pub placed_at: DateTime<Utc>,
    pub promised_by: Option<DateTime<Utc>>,
    pub channel: String,
    /// First carrier possession of any of its parcels.
    pub shipped_at: Option<DateTime<Utc>>,
    /// When the last parcel arrived, if every item has been delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    pub shipments: Vec<ShipmentKpiFacts>,
    /// Each exception opened on the order.
    pub exceptions: Vec<ExceptionKpiFacts>,
    /// Return reasons, one per returned item line.
    pub return_reasons: Vec<String>,
    /// Messages sent to the customer about the order (any channel).
    pub customer_messages: u32,
}

/// How to cut the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KpiGrouping {
    Day,
    Week,
    Month,
    Carrier,
    Service,
    Channel,
    Warehouse,
}

impl KpiGrouping {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "day" => KpiGrouping::Day,
            "week" => KpiGrouping::Week,
            "month" => KpiGrouping::Month,
            "carrier" => KpiGrouping::Carrier,
            "service" => KpiGrouping::Service,
            "channel" => KpiGrouping::Channel,
            "warehouse" => KpiGrouping::Warehouse,
            _ => return None,
        })
    }

    /// The group an order falls in. Orders are grouped by when they were placed; a split
    /// order counts under its first parcel's carrier, service and warehouse.
    fn key(self, order: &OrderKpiFacts) -> String {
        let first = order.shipments.first();
        let or_none = |v: Option<&String>| v.cloned().unwrap_or_else(|| "none".into());
        match self {
            KpiGrouping::Day => order.placed_at.format("%Y-%m-%d").to_string(),
            KpiGrouping::Week => iso_week_key(order.placed_at),
            KpiGrouping::Month => order.placed_at.format("%Y-%m").to_string(),
            KpiGrouping::Carrier => or_none(first.and_then(|s| s.carrier.as_ref())),
            KpiGrouping::Service => or_none(first.and_then(|s| s.service.as_ref())),
            KpiGrouping::Channel => order.channel.clone(),
            KpiGrouping::Warehouse => or_none(first.and_then(|s| s.warehouse.as_ref())),
        }
    }
}

/// The figures for one set of orders. Rates are percentages; `None` means no data to divide by.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpis {
    pub orders: u32,
    pub shipped_orders: u32,
    pub deliveries: u32,
    pub on_time_delivery_rate: Option<f64>,
    pub order_cycle_time_hours_median: Option<f64>,
    pub order_cycle_time_hours_p90: Option<f64>,
    pub order_accuracy_rate: Option<f64>,
    pub fulfillment_cost_per_order: Option<Money>,
    pub first_attempt_delivery_rate: Option<f64>,
    pub exception_rate: Option<f64>,
    pub exception_resolve_hours_median: Option<f64>,
    pub return_rate: Option<f64>,
    /// Delivered parcels whose delivery fell inside the window published at first carrier
    /// possession / delivered parcels that had such a window × 100.
    pub eta_accuracy_rate: Option<f64>,
    /// Median absolute error, in hours, of that window's midpoint against the delivery.
    pub eta_median_abs_error_hours: Option<f64>,
    /// Customer messages sent / orders.
    pub customer_messages_per_order: Option<f64>,
}

/// Return reasons that count against order accuracy (a picking or packing error).
pub const ACCURACY_REASONS: [&str; 3] = ["wrong_item", "missing_item", "damaged"];

fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) * 100.0 / f64::from(whole))
}

fn hours(d: Duration) -> f64 {
    d.num_seconds() as f64 / 3600.0
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let idx = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    Some(sorted[idx])
}

/// The median of sorted values: the middle one, or for an even count the mean of the two
/// middle ones, as spreadsheets compute it.
pub(crate) fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Computes the figures of DESIGN §7 over `orders`.
pub fn compute(orders: &[OrderKpiFacts]) -> Kpis {
    let shipped: Vec<&OrderKpiFacts> = orders.iter().filter(|o| o.shipped_at.is_some()).collect();
    let delivered: Vec<&OrderKpiFacts> = orders.iter().filter(|o| o.delivered_at.is_some()).collect();
    let promised_deliveries: Vec<&&OrderKpiFacts> = delivered.iter().filter(|o| o.promised_by.is_some()).collect();
    let on_time = promised_deliveries.iter().filter(|o| o.delivered_at <= o.promised_by).count() as u32;

    let mut cycle: Vec<f64> = shipped.iter().filter_map(|o| o.shipped_at.map(|s| hours(s - o.placed_at))).collect();
    cycle.sort_by(f64::total_cmp);

    let inaccurate =
        shipped.iter().filter(|o| o.return_reasons.iter().any(|r| ACCURACY_REASONS.contains(&r.as_str()))).count()
            as u32;

    let cost = shipped.iter().flat_map(|o| o.shipments.iter()).fold(Money::ZERO, |sum, s| sum.plus(s.cost));
    let cost_per_order =
        (!shipped.is_empty()).then(|| Money::from_ten_thousandths(cost.ten_thousandths() / shipped.len() as i64));

    let delivered_parcels: Vec<&ShipmentKpiFacts> =
        orders.iter().flat_map(|o| o.shipments.iter()).filter(|s| s.delivered_at.is_some()).collect();
    let first_attempt = delivered_parcels.iter().filter(|s| s.failed_attempts == 0).count() as u32;

    let with_exceptions = orders.iter().filter(|o| !o.exceptions.is_empty()).count() as u32;
    let mut resolve: Vec<f64> = orders
        .iter()
        .flat_map(|o| o.exceptions.iter())
        .filter_map(|e| e.resolved_at.map(|c| hours(c - e.opened_at)))
        .collect();
    resolve.sort_by(f64::total_cmp);

    let returned = delivered.iter().filter(|o| !o.return_reasons.is_empty()).count() as u32;

    let judged: Vec<(DateTime<Utc>, (DateTime<Utc>, DateTime<Utc>))> =
        delivered_parcels.iter().filter_map(|s| s.delivered_at.zip(s.eta_at_possession)).collect();
    let inside = judged.iter().filter(|(at, (earliest, latest))| earliest <= at && at <= latest).count() as u32;
    let mut eta_errors: Vec<f64> = judged
        .iter()
        .map(|(at, (earliest, latest))| {
            // The window's last instant is the last second of its last day: the midpoint is
            // taken over the whole days.
            let end = *latest + Duration::seconds(1);
            let midpoint = *earliest + (end - *earliest) / 2;
            hours(*at - midpoint).abs()
        })
        .collect();
    eta_errors.sort_by(f64::total_cmp);
    let messages: u32 = orders.iter().map(|o| o.customer_messages).sum();

    Kpis {
        orders: orders.len() as u32,
        shipped_orders: shipped.len() as u32,
        deliveries: delivered.len() as u32,
        on_time_delivery_rate: percent(on_time, promised_deliveries.len() as u32),
        order_cycle_time_hours_median: median(&cycle),
        order_cycle_time_hours_p90: percentile(&cycle, 0.9),
        order_accuracy_rate: percent(shipped.len() as u32 - inaccurate, shipped.len() as u32),
        fulfillment_cost_per_order: cost_per_order,
        first_attempt_delivery_rate: percent(first_attempt, delivered_parcels.len() as u32),
        exception_rate: percent(with_exceptions, orders.len() as u32),
        exception_resolve_hours_median: median(&resolve),
        return_rate: percent(returned, delivered.len() as u32),
        eta_accuracy_rate: percent(inside, judged.len() as u32),
        eta_median_abs_error_hours: median(&eta_errors),
        customer_messages_per_order: (!orders.is_empty()).then(|| f64::from(messages) / orders.len() as f64),
    }
}

/// The figures per group, in key order.
pub fn compute_grouped(orders: &[OrderKpiFacts], by: KpiGrouping) -> Vec<(String, Kpis)> {
    let mut groups: BTreeMap<String, Vec<OrderKpiFacts>> = BTreeMap::new();
    for order in orders {
        groups.entry(by.key(order)).or_default().push(order.clone());
    }
    groups.into_iter().map(|(key, members)| (key, compute(&members))).collect()
}

/// The ISO week a time falls in, as `2026-W45`.
pub fn iso_week_key(at: DateTime<Utc>) -> String {
    let week = at.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// Each shipped order's cycle time (placed to first carrier possession) in hours, ascending:
/// the distribution behind the median and p90.
pub fn cycle_times_hours(orders: &[OrderKpiFacts]) -> Vec<f64> {
    let mut cycle: Vec<f64> = orders.iter().filter_map(|o| o.shipped_at.map(|s| hours(s - o.placed_at))).collect();
    cycle.sort_by(f64::total_cmp);
    cycle
}

/// Exceptions opened per ISO week and kind, counted by when each opened: the weeks in order,
/// and for each the count per kind (every kind seen in any week appears in every week).
pub fn exceptions_by_week_and_kind(orders: &[OrderKpiFacts]) -> (Vec<String>, BTreeMap<String, Vec<u32>>) {
    let mut counts: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for e in orders.iter().flat_map(|o| o.exceptions.iter()) {
        *counts.entry(iso_week_key(e.opened_at)).or_default().entry(e.kind.clone()).or_default() += 1;
    }
    let weeks: Vec<String> = counts.keys().cloned().collect();
    let mut by_kind: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for kind in counts.values().flat_map(|k| k.keys()) {
        by_kind.entry(kind.clone()).or_default();
    }
    for (kind, series) in by_kind.iter_mut() {
        *series = weeks.iter().map(|w| counts[w].get(kind).copied().unwrap_or(0)).collect();
    }
    (weeks, by_kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn parcel(carrier: &str, cost: &str, delivered: Option<&str>, failed_attempts: u32) -> ShipmentKpiFacts {
        ShipmentKpiFacts {
            carrier: Some(carrier.into()),
            service: Some("ground".into()),
            warehouse: Some("RNO1".into()),
            cost: Money::parse(cost).unwrap(),
            delivered_at: delivered.map(t),
            failed_attempts,
            eta_at_possession: None,
        }
    }

    fn order(placed: &str, shipped: Option<&str>, delivered: Option<&str>, promised: &str) -> OrderKpiFacts {
        OrderKpiFacts {
            placed_at: t(placed),
            promised_by: Some(t(promised)),
            channel: "api".into(),
            shipped_at: shipped.map(t),
            delivered_at: delivered.map(t),
            shipments: Vec::new(),
            exceptions: Vec::new(),
            return_reasons: Vec::new(),
            customer_messages: 0,
        }
    }

    fn sample() -> Vec<OrderKpiFacts> {
        let mut on_time = order(
            "2026-11-02T10:00:00Z",
            Some("2026-11-02T20:00:00Z"),
            Some("2026-11-04T12:00:00Z"),
            "2026-11-06T00:00:00Z",
        );
        on_time.shipments = vec![parcel("ups", "8.00", Some("2026-11-04T12:00:00Z"), 0)];
        let mut late = order(
            "2026-11-03T10:00:00Z",
            Some("2026-11-04T10:00:00Z"),
            Some("2026-11-09T12:00:00Z"),
            "2026-11-07T00:00:00Z",
        );
        late.shipments = vec![parcel("fedex", "10.00", Some("2026-11-09T12:00:00Z"), 1)];
        late.exceptions = vec![ExceptionKpiFacts {
            kind: "late".into(),
            opened_at: t("2026-11-07T00:00:00Z"),
            resolved_at: Some(t("2026-11-07T06:00:00Z")),
        }];
        late.return_reasons = vec!["damaged".into()];
        let mut moving = order("2026-11-10T10:00:00Z", Some("2026-11-10T14:00:00Z"), None, "2026-11-15T00:00:00Z");
        moving.shipments = vec![parcel("ups", "6.00", None, 0), parcel("usps", "3.00", None, 0)];
        let waiting = order("2026-11-11T10:00:00Z", None, None, "2026-11-16T00:00:00Z");
        vec![on_time, late, moving, waiting]
    }

    #[test]
    fn the_figures_follow_the_formulas_of_design_section_7() {
        let k = compute(&sample());
        assert_eq!(k.orders, 4);
        assert_eq!(k.shipped_orders, 3);
        assert_eq!(k.deliveries, 2);
        assert_eq!(k.on_time_delivery_rate, Some(50.0));
        // Cycle times 10 h, 24 h, 4 h: median 10, p90 24.
        assert_eq!(k.order_cycle_time_hours_median, Some(10.0));
        assert_eq!(k.order_cycle_time_hours_p90, Some(24.0));
        // One of three shipped orders came back damaged.
        assert!((k.order_accuracy_rate.unwrap() - 66.666).abs() < 0.01);
        // (8 + 10 + 6 + 3) / 3 shipped orders = 9.00
        assert_eq!(k.fulfillment_cost_per_order.unwrap().to_string(), "9.00");
        assert_eq!(k.first_attempt_delivery_rate, Some(50.0));
        assert_eq!(k.exception_rate, Some(25.0));
        assert_eq!(k.exception_resolve_hours_median, Some(6.0));
        assert_eq!(k.return_rate, Some(50.0));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_two_middle_values() {
        // Ten orders shipped after 10, 12, …, 28 hours: the median is (18 + 20) / 2 = 19.
        let orders: Vec<OrderKpiFacts> = (0..10)
            .map(|i| {
                let shipped = t("2026-11-02T00:00:00Z") + chrono::Duration::hours(10 + 2 * i);
                order("2026-11-02T00:00:00Z", Some(&shipped.to_rfc3339()), None, "2026-11-09T00:00:00Z")
            })
            .collect();
        let k = compute(&orders);
        assert_eq!(k.shipped_orders, 10);
        assert_eq!(k.order_cycle_time_hours_median, Some(19.0));
        assert_eq!(k.order_cycle_time_hours_p90, Some(26.0), "p90 stays the nearest rank");
        assert_eq!(median(&[1.0, 2.0, 9.0]), Some(2.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn eta_accuracy_judges_the_window_at_first_possession_and_messages_are_counted_per_order() {
        let mut orders = sample();
        // Delivered 4 November 12:00 inside 3–4 November: midpoint 4 November 00:00, 12 h off.
        orders[0].shipments[0].eta_at_possession = Some((t("2026-11-03T00:00:00Z"), t("2026-11-04T23:59:59Z")));
        // Delivered 9 November 12:00, window 5–6 November: outside, midpoint 6 November 00:00, 84 h off.
        orders[1].shipments[0].eta_at_possession = Some((t("2026-11-05T00:00:00Z"), t("2026-11-06T23:59:59Z")));
        // Not delivered yet: not judged, whatever its window.
        orders[2].shipments[0].eta_at_possession = Some((t("2026-11-01T00:00:00Z"), t("2026-11-01T23:59:59Z")));
        orders[0].customer_messages = 3;
        orders[1].customer_messages = 4;
        orders[2].customer_messages = 1;
        let k = compute(&orders);
        assert_eq!(k.eta_accuracy_rate, Some(50.0));
        assert_eq!(k.eta_median_abs_error_hours, Some(48.0));
        // 8 messages over 4 orders (the one still waiting counts as an order without messages).
        assert_eq!(k.customer_messages_per_order, Some(2.0));
        let none = compute(&sample());
        assert_eq!((none.eta_accuracy_rate, none.eta_median_abs_error_hours), (None, None));
        assert_eq!(none.customer_messages_per_order, Some(0.0));
    }

    #[test]
    fn cycle_times_are_listed_in_hours_in_ascending_order() {
        assert_eq!(cycle_times_hours(&sample()), vec![4.0, 10.0, 24.0]);
    }

    #[test]
    fn exceptions_are_counted_per_week_of_opening_and_kind() {
        let mut orders = sample();
        let stall = |at: &str| ExceptionKpiFacts { kind: "stalled".into(), opened_at: t(at), resolved_at: None };
        orders[2].exceptions = vec![stall("2026-11-10T00:00:00Z"), stall("2026-11-12T00:00:00Z")];
        let (weeks, by_kind) = exceptions_by_week_and_kind(&orders);
        assert_eq!(weeks, vec!["2026-W45", "2026-W46"]);
        assert_eq!(by_kind["late"], vec![1, 0]);
        assert_eq!(by_kind["stalled"], vec![0, 2]);
    }

    #[test]
    fn empty_sets_give_no_rates_rather_than_zero() {
        let k = compute(&[]);
        assert_eq!(k.orders, 0);
        assert_eq!(k.on_time_delivery_rate, None);
        assert_eq!(k.fulfillment_cost_per_order, None);
    }

    #[test]
    fn figures_are_cut_by_week_and_by_carrier() {
        let by_week = compute_grouped(&sample(), KpiGrouping::Week);
        let keys: Vec<_> = by_week.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["2026-W45", "2026-W46"]);
        assert_eq!(by_week[0].1.orders, 2);
        let by_carrier = compute_grouped(&sample(), KpiGrouping::Carrier);
        let keys: Vec<_> = by_carrier.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["fedex", "none", "ups"]);
        assert_eq!(by_carrier[2].1.orders, 2, "the split order counts under its first parcel");
        assert_eq!(KpiGrouping::parse("fortnight"), None);
    }
}

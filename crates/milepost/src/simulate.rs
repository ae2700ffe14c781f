//! `milepost simulate`: a seeded world of orders and parcels whose lanes have KNOWN transit
//! distributions, fed through the same use cases as production (orders and shipments as
//! `POST /api/v1/orders` and `…/shipments` store them, warehouse scans as `POST /api/v1/scans`,
//! channel events as `POST /api/v1/events`, carrier events as a carrier webhook after its adapter)
//! on a simulated clock. It is the ground truth for the ETA model of
//! `milepost_domain::eta`: the model learns only from deliveries the store has already been told
//! about (read back from the store when their delivery arrives), predicts each later parcel at the
//! moment its shipment is registered, and is updated on each batch of milestones with the
//! stabilizing rule. The report compares the window with what really happened and with the
//! carrier's own estimate (fixed per service, optimistic and noisy, as carriers' are).
//!
//! The stream has what real streams have: split shipments from two warehouses, missed pack and
//! handover scans, days without a hub scan, failed delivery attempts, return parcels, events that
//! arrive hours late and out of order, and resent duplicates.

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use milepost_app::ingest::{Scan, ScanStep};
use milepost_app::records::{EventTarget, Principal};
use milepost_app::{EventSubmission, FixedClock, Milepost};
use milepost_domain::eta::{
    EtaEvidence, EtaWindow, HolidayCalendar, LaneHistory, LaneKey, predict, region_of, stabilize, transit_business_days,
};
use milepost_domain::order::Channel;
use milepost_domain::{
    AccountName, Address, Customer, Direction, EventSource, LineItem, Location, Milestone, Money, Order, OrderNumber,
    Role, Shipment, ShipmentItem, TrackingNumber,
};
use milepost_ingest::CodeLookup;
use milepost_ingest::adapters::NormalizedEvent;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The account the simulation writes into.
pub const SIMULATION_ACCOUNT: &str = "simulation";
/// The first simulated day: October and November hold Columbus Day, Veterans Day and
/// Thanksgiving, so the calendar matters.
const START: (i32, u32, u32) = (2026, 10, 1);
/// Orders are spread over this many days.
const SPAN_DAYS: i64 = 75;
/// Parcels registered in this first share of the span only teach the model; the rest are scored.
const WARM_UP_SHARE: f64 = 0.3;

/// A carrier service of the simulated world, with its true transit distribution per distance
/// zone (business days and weight) and the carrier's fixed promise.
struct SimService {
    carrier: &'static str,
    service: &'static str,
    /// Near, mid, far.
    zones: [&'static [(u32, f64)]; 3],
    /// The business days the carrier announces, whatever the distance.
    carrier_promise: u32,
    tracking_prefix: &'static str,
}

const SERVICES: [SimService; 3] = [
    SimService {
        carrier: "ups",
        service: "ground",
        zones: [
            &[(1, 0.25), (2, 0.55), (3, 0.20)],
            &[(2, 0.20), (3, 0.55), (4, 0.25)],
            &[(3, 0.15), (4, 0.50), (5, 0.35)],
        ],
        carrier_promise: 3,
        tracking_prefix: "1ZSIM",
    },
    SimService {
        carrier: "fedex",
        service: "express_saver",
        zones: [&[(1, 0.60), (2, 0.40)], &[(2, 0.70), (3, 0.30)], &[(2, 0.30), (3, 0.60), (4, 0.10)]],
        carrier_promise: 2,
        tracking_prefix: "7700",
    },
    SimService {
        carrier: "usps",
        service: "ground_advantage",
        zones: [
            &[(2, 0.30), (3, 0.40), (4, 0.20), (5, 0.10)],
            &[(3, 0.30), (4, 0.40), (5, 0.20), (6, 0.10)],
            &[(3, 0.20), (4, 0.30), (5, 0.30), (6, 0.20)],
        ],
        carrier_promise: 3,
        tracking_prefix: "9400",
    },
];

/// Warehouses: id, city, region, postal code.
const WAREHOUSES: [(&str, &str, &str, &str); 2] =
    [("RNO1", "Reno", "NV", "89502"), ("SDF1", "Louisville", "KY", "40213")];

/// Destinations, one per region, so a few hundred orders give each lane some history.
const DESTINATIONS: [(&str, &str, &str); 5] = [
    ("Seattle", "WA", "98101"),
    ("Austin", "TX", "78701"),
    ("Chicago", "IL", "60601"),
    ("Atlanta", "GA", "30303"),
    ("Boston", "MA", "02108"),
];

const PRODUCTS: [(&str, &str); 5] = [
    ("MUG-STONE-12", "18.00"),
    ("TEE-ORG-M", "29.00"),
    ("BOTTLE-STEEL", "34.50"),
    ("LAMP-DESK", "89.00"),
    ("BAG-CANVAS", "39.00"),
];

/// Distance zone from the first digits of two US ZIP codes: 0 near, 1 mid, 2 far.
fn zone(origin_postal: &str, destination_postal: &str) -> usize {
    let digit = |p: &str| p.chars().next().and_then(|c| c.to_digit(10)).unwrap_or(0) as i32;
    match (digit(origin_postal) - digit(destination_postal)).abs() {
        0..=1 => 0,
        2..=4 => 1,
        _ => 2,
    }
}

/// What the simulation produced and how the ETA model did.
#[derive(Debug, Clone, Serialize)]
pub struct SimulationReport {
    pub seed: u64,
    pub orders: usize,
    pub shipments: usize,
    pub return_shipments: usize,
    pub events_sent: usize,
    pub duplicates_sent: usize,
    pub late_events: usize,
    pub missed_scans: usize,
    pub failed_attempts: usize,
    /// Delivered outbound parcels registered after the warm-up: the ones scored.
    pub scored_shipments: usize,
    /// Share of scored parcels delivered inside the window published when the shipment was
    /// registered, in percent.
    pub coverage_at_creation_pct: f64,
    /// The same for the window published at first carrier possession.
    pub coverage_at_possession_pct: f64,
    /// The same for the window the store published at first carrier possession (what
    /// `GET /api/v1/orders/{n}` shows as `eta`), over the scored parcels that had one.
    pub store_coverage_at_possession_pct: f64,
    /// Share delivered on the carrier's estimated day, in percent.
    pub carrier_estimate_hit_pct: f64,
    /// Median absolute error (hours) of the creation window's midpoint.
    pub model_median_abs_error_hours: f64,
    /// Median absolute error (hours) of the carrier's estimated day's midpoint.
    pub carrier_median_abs_error_hours: f64,
    /// How much smaller the model's error is, in percent of the carrier's.
    pub error_reduction_pct: f64,
    /// Mean width of the creation window in days (both ends counted).
    pub mean_window_days: f64,
    /// Published window changes after the first, per scored parcel.
    pub churn_per_shipment: f64,
    /// What the creation windows rested on, counted.
    pub basis_at_creation: BTreeMap<String, usize>,
    /// The true lanes: carrier, service, zone, distribution.
    pub lanes: Vec<LaneTruth>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LaneTruth {
    pub carrier: &'static str,
    pub service: &'static str,
    pub zone: &'static str,
    /// Business days and their probability.
    pub transit_business_days: Vec<(u32, f64)>,
    /// Friday hand-overs wait a further business day this often (the weekend sort).
    pub friday_extra_day_probability: f64,
    pub carrier_promise_business_days: u32,
}

const FRIDAY_EXTRA_DAY: f64 = 0.3;

/// One thing the world does at a moment.
enum Action {
    PutOrder(Box<Order>),
    AddShipment { order: OrderNumber, shipment: Box<Shipment>, parcel: usize },
    Scan(Scan),
    Channel(EventSubmission),
    Carrier { parcel: usize, event: Box<NormalizedEvent> },
}

struct Scheduled {
    at: DateTime<Utc>,
    sequence: usize,
    action: Action,
}

/// What the simulator knows of one parcel: the truth, and the ETA bookkeeping.
struct Parcel {
    order: OrderNumber,
    tracking_number: String,
    outbound: bool,
    destination_country: &'static str,
    destination_region: String,
    registered_at: DateTime<Utc>,
    carrier_estimate: NaiveDate,
    delivered_at: Option<DateTime<FixedOffset>>,
    // What the model has been told so far.
    first_possession: Option<DateTime<FixedOffset>>,
    latest: Option<(Milestone, DateTime<FixedOffset>)>,
    delivered_seen: bool,
    learned: bool,
    published: Option<EtaWindow>,
    changes: u32,
    at_creation: Option<EtaWindow>,
    at_possession: Option<EtaWindow>,
    /// The window the store published (`shipments.eta_*`, migration 10) at first possession.
    store_at_possession: Option<EtaWindow>,
    basis_at_creation: Option<&'static str>,
    lane_prefix: (String, String, String),
}

/// The local offset of the simulated world (US Eastern standard time, all year, for simplicity).
fn offset() -> FixedOffset {
    FixedOffset::west_opt(5 * 3600).expect("a valid offset")
}

fn local(date: NaiveDate, hour: u32, minute: u32) -> DateTime<FixedOffset> {
    let time = NaiveTime::from_hms_opt(hour, minute, 0).expect("a valid time");
    offset().from_local_datetime(&date.and_time(time)).single().expect("a fixed offset has one local time")
}

fn pick(rng: &mut StdRng, distribution: &[(u32, f64)]) -> u32 {
    let mut roll: f64 = rng.random();
    for (days, weight) in distribution {
        if roll < *weight {
            return *days;
        }
        roll -= weight;
    }
    distribution.last().map_or(1, |(d, _)| *d)
}

/// Runs a simulation of `orders` orders into `app` (whose clock must be `clock`), on the account
/// [`SIMULATION_ACCOUNT`], which must not have orders yet.
pub async fn run(app: &Milepost, clock: &FixedClock, seed: u64, orders: usize) -> anyhow::Result<SimulationReport> {
    let started = std::time::Instant::now();
    let account = AccountName::parse(SIMULATION_ACCOUNT).map_err(|e| anyhow::anyhow!("account name: {e}"))?;
    app.create_api_key(&account, Role::Admin).await?;
    let caller = app.operator(&account).await?;
    let existing =
        app.search_orders(&caller, milepost_app::records::OrderQuery { limit: 1, ..Default::default() }).await?;
    anyhow::ensure!(
        existing.orders.is_empty(),
        "the `{SIMULATION_ACCOUNT}` account already has orders: simulate on a fresh database"
    );

    let mut rng = StdRng::seed_from_u64(seed);
    let mut world = World::default();
    for index in 0..orders {
        world.plan_order(&mut rng, seed, index, orders);
    }
    world.agenda.sort_by_key(|s| (s.at, s.sequence));
    let mut history = LaneHistory::default();
    let calendar_of = |country: &str| HolidayCalendar::for_country(Some(country));

    let agenda = std::mem::take(&mut world.agenda);
    let mut pending: Vec<(usize, NormalizedEvent)> = Vec::new();
    let mut iter = agenda.into_iter().peekable();
    while let Some(item) = iter.next() {
        clock.set(item.at);
        match item.action {
            Action::PutOrder(order) => {
                app.put_order(&caller, *order).await?;
            }
            Action::AddShipment { order, shipment, parcel } => {
                let record = app.add_shipment(&caller, &order, *shipment).await?;
                let p = &mut world.parcels[parcel];
                if p.outbound {
                    let calendar = calendar_of(p.destination_country);
                    let origin_region = region_of(
                        record.shipment.origin_country.as_deref(),
                        record.shipment.origin_postal_code.as_deref(),
                    );
                    p.lane_prefix = (
                        record.shipment.carrier.clone().unwrap_or_default(),
                        record.shipment.service.clone().unwrap_or_default(),
                        origin_region,
                    );
                    let today = item.at.with_timezone(&offset()).date_naive();
                    let ship_day = calendar.this_or_next_business_day(today);
                    let lane = lane_of(p, ship_day.weekday());
                    let evidence = EtaEvidence {
                        calendar,
                        ship_day,
                        in_carrier_hands: false,
                        latest_milestone: None,
                        carrier_estimate: Some(p.carrier_estimate),
                        today,
                    };
                    let prediction = predict(&history.for_lane(&lane), &evidence);
                    if let Some(change) = stabilize(p.published, prediction, today) {
                        p.published = Some(change.window);
                        p.changes += 1;
                    }
                    p.at_creation = p.published;
                    p.basis_at_creation = Some(prediction.basis.as_str());
                }
            }
            Action::Scan(scan) => {
                app.record_scan(&caller, scan).await?;
            }
            Action::Channel(submission) => {
                app.ingest_events(&caller, vec![submission]).await?;
            }
            Action::Carrier { parcel, event } => {
                // Carrier events received within the same hour go as one webhook batch.
                pending.push((parcel, *event));
                let next_is_same_hour = iter.peek().is_some_and(|next| {
                    matches!(next.action, Action::Carrier { .. })
                        && next.at.date_naive() == item.at.date_naive()
                        && next.at.hour() == item.at.hour()
                });
                if next_is_same_hour {
                    continue;
                }
                let batch = std::mem::take(&mut pending);
                let touched: Vec<usize> = batch.iter().map(|(p, _)| *p).collect();
                let events: Vec<NormalizedEvent> = batch.iter().map(|(_, e)| e.clone()).collect();
                app.ingest_normalized(&caller, events).await?;
                for (parcel, event) in &batch {
                    world.parcels[*parcel].observe(event);
                }
                let today = item.at.with_timezone(&offset()).date_naive();
                let mut seen = std::collections::BTreeSet::new();
                for parcel in touched {
                    if !seen.insert(parcel) {
                        continue;
                    }
                    let p = &mut world.parcels[parcel];
                    if !p.outbound {
                        continue;
                    }
                    let calendar = calendar_of(p.destination_country);
                    if p.delivered_seen {
                        if !p.learned {
                            p.learned = true;
                            learn_from_store(app, &caller, p, calendar, &mut history).await?;
                        }
                        continue;
                    }
                    let first_time_in_hands = p.at_possession.is_none() && p.first_possession.is_some();
                    let ship_day = match p.first_possession {
                        Some(at) => at.date_naive(),
                        None => {
                            calendar.this_or_next_business_day(p.registered_at.with_timezone(&offset()).date_naive())
                        }
                    };
                    let lane = lane_of(p, ship_day.weekday());
                    let evidence = EtaEvidence {
                        calendar,
                        ship_day,
                        in_carrier_hands: p.first_possession.is_some(),
                        latest_milestone: p.latest.map(|(m, at)| (m, at.date_naive())),
                        carrier_estimate: Some(p.carrier_estimate),
                        today,
                    };
                    let prediction = predict(&history.for_lane(&lane), &evidence);
                    if let Some(change) = stabilize(p.published, prediction, today) {
                        p.published = Some(change.window);
                        p.changes += 1;
                    }
                    if first_time_in_hands {
                        p.at_possession = p.published;
                        p.store_at_possession = published_by_store(app, &caller, p).await?;
                    }
                }
            }
        }
    }
    Ok(world.report(seed, orders, started.elapsed().as_secs_f64()))
}

fn lane_of(p: &Parcel, weekday: Weekday) -> LaneKey {
    LaneKey::new(
        Some(&p.lane_prefix.0),
        Some(&p.lane_prefix.1),
        p.lane_prefix.2.clone(),
        p.destination_region.clone(),
        weekday,
    )
}

/// Reads a delivered parcel back from the store and counts its transit on its lane: the model
/// learns what the store recorded (first carrier possession, the delivery in the timeline), not
/// what the simulator planned.
async fn learn_from_store(
    app: &Milepost,
    caller: &Principal,
    parcel: &Parcel,
    calendar: HolidayCalendar,
    history: &mut LaneHistory,
) -> anyhow::Result<()> {
    let order = app.order(caller, &parcel.order).await?;
    let Some(shipment) = order.shipments.iter().find(|s| s.shipment.tracking_number.as_str() == parcel.tracking_number)
    else {
        return Ok(());
    };
    let delivered = shipment
        .timeline
        .iter()
        .filter(|e| e.event.milestone == Some(Milestone::Delivered) && !e.advisory)
        .map(|e| e.event.occurred_at)
        .max();
    let (Some(possession), Some(delivered)) = (shipment.first_carrier_possession_at, delivered) else {
        return Ok(());
    };
    let shipped_on = possession.with_timezone(delivered.offset()).date_naive();
    let days = transit_business_days(calendar, shipped_on, delivered.date_naive());
    let lane = lane_of(parcel, shipped_on.weekday());
    history.record(&lane, days);
    Ok(())
}

/// The window the store itself published for a parcel, as the API shows it.
async fn published_by_store(app: &Milepost, caller: &Principal, parcel: &Parcel) -> anyhow::Result<Option<EtaWindow>> {
    let order = app.order(caller, &parcel.order).await?;
    Ok(order
        .shipments
        .iter()
        .find(|s| s.shipment.tracking_number.as_str() == parcel.tracking_number)
        .and_then(|s| s.eta.as_ref())
        .map(|eta| EtaWindow { earliest: eta.earliest.date_naive(), latest: eta.latest.date_naive() }))
}

impl Parcel {
    /// Takes in what one carrier event tells: first possession, the newest status-bearing
    /// milestone (by when it happened, not when it arrived), delivery.
    fn observe(&mut self, event: &NormalizedEvent) {
        let Some(milestone) = event.milestone else { return };
        let at = event.occurred_at;
        if milestone.is_carrier_possession() && self.first_possession.is_none_or(|first| at < first) {
            self.first_possession = Some(at);
        }
        if self.latest.is_none_or(|(_, latest)| at > latest) {
            self.latest = Some((milestone, at));
        }
        if milestone == Milestone::Delivered {
            self.delivered_seen = true;
        }
    }
}

#[derive(Default)]
struct World {
    agenda: Vec<Scheduled>,
    parcels: Vec<Parcel>,
    sequence: usize,
    events_sent: usize,
    duplicates_sent: usize,
    late_events: usize,
    missed_scans: usize,
    failed_attempts: usize,
}

impl World {
    fn schedule(&mut self, at: DateTime<Utc>, action: Action) {
        self.sequence += 1;
        self.agenda.push(Scheduled { at, sequence: self.sequence, action });
    }

    fn plan_order(&mut self, rng: &mut StdRng, seed: u64, index: usize, orders: usize) {
        let start = NaiveDate::from_ymd_opt(START.0, START.1, START.2).expect("a valid start date");
        let spread = Duration::minutes(SPAN_DAYS * 24 * 60 * index as i64 / orders.max(1) as i64);
        let placed_at = local(start, 0, 0) + spread + Duration::minutes(rng.random_range(0..90));
        let number = OrderNumber::parse(&format!("SIM-{seed}-{}", 100000 + index)).expect("a valid order number");
        let (city, region, postal) = DESTINATIONS[rng.random_range(0..DESTINATIONS.len())];
        let split = rng.random_bool(0.15);
        let lines = if split { 2 } else { 1 };
        let first_product = rng.random_range(0..PRODUCTS.len());
        let items: Vec<LineItem> = (0..lines)
            .map(|k| {
                let (sku, price) = PRODUCTS[(first_product + k) % PRODUCTS.len()];
                LineItem {
                    sku: sku.into(),
                    description: None,
                    quantity: rng.random_range(1..=2),
                    unit_price: Money::parse(price).expect("a valid price"),
                }
            })
            .collect();
        let order = Order {
            charged: None,
            order_number: number.clone(),
            channel: Channel::api(),
            placed_at,
            promised_by: Some(placed_at + Duration::days(7)),
            currency: "USD".into(),
            customer: Customer {
                name: Some(format!("Customer {index}")),
                email: Some(format!("customer{index}@example.com")),
                phone: None,
                postal_code: Some(postal.into()),
            },
            ship_to: Address {
                line1: Some(format!("{} Main St", index + 1)),
                line2: None,
                city: Some(city.into()),
                region: Some(region.into()),
                postal_code: Some(postal.into()),
                country: Some("US".into()),
            },
            items: items.clone(),
        };
        let placed_utc = placed_at.with_timezone(&Utc);
        self.schedule(placed_utc, Action::PutOrder(Box::new(order)));
        self.schedule(
            placed_utc + Duration::minutes(5),
            Action::Channel(EventSubmission {
                target: EventTarget::Order { order_number: number.clone(), shipment: None },
                source: EventSource::Channel,
                source_event_id: Some(format!("sim-confirm-{number}")),
                carrier: None,
                milestone: Some(Milestone::Confirmed),
                code: None,
                description: Some("Order confirmed".into()),
                occurred_at: placed_at + Duration::minutes(5),
                location: None,
                raw: None,
            }),
        );
        let us = HolidayCalendar::UnitedStates;
        for (parcel_index, item) in items.iter().enumerate() {
            let parcel_items =
                if split { vec![ShipmentItem { sku: item.sku.clone(), quantity: item.quantity }] } else { Vec::new() };
            let (warehouse, wh_city, wh_region, wh_postal) = WAREHOUSES[rng.random_range(0..WAREHOUSES.len())];
            let service = &SERVICES[rng.random_range(0..SERVICES.len())];
            // The warehouse ships the next business day, or the same day before noon.
            let placed_day = placed_at.date_naive();
            let ship_day = if us.is_business_day(placed_day) && placed_at.hour() < 12 {
                placed_day
            } else {
                us.add_business_days(placed_day, 1)
            };
            // The label is made in the morning of the ship day, and never before the order.
            let label_at = local(ship_day, rng.random_range(9..13), rng.random_range(0..60))
                .max(placed_at + Duration::minutes(30));
            let handed_at = local(ship_day, rng.random_range(15..18), rng.random_range(0..60));
            let zone_index = zone(wh_postal, postal);
            let mut transit = pick(rng, service.zones[zone_index]);
            if ship_day.weekday() == Weekday::Fri && rng.random_bool(FRIDAY_EXTRA_DAY) {
                transit += 1;
            }
            let failed_attempt = rng.random_bool(0.04);
            if failed_attempt {
                self.failed_attempts += 1;
            }
            let first_try_day = us.add_business_days(ship_day, transit);
            let delivery_day = if failed_attempt { us.add_business_days(first_try_day, 1) } else { first_try_day };
            let delivered_at = local(delivery_day, rng.random_range(9..20), rng.random_range(0..60));
            // The carrier's promise: fixed per service, off by a day now and then.
            let noise: i32 = match rng.random_range(0..10) {
                0 | 1 => -1,
                2 => 1,
                _ => 0,
            };
            let promised = (service.carrier_promise as i32 + noise).max(1) as u32;
            let carrier_estimate = us.add_business_days(ship_day, promised);
            let tracking_number = format!("{}{}{:06}{}", service.tracking_prefix, seed % 1000, index, parcel_index);
            let parcel = self.parcels.len();
            self.parcels.push(Parcel {
                order: number.clone(),
                tracking_number: tracking_number.clone(),
                outbound: true,
                destination_country: "US",
                destination_region: region_of(Some("US"), Some(postal)),
                registered_at: label_at.with_timezone(&Utc),
                carrier_estimate,
                delivered_at: Some(delivered_at),
                first_possession: None,
                latest: None,
                delivered_seen: false,
                learned: false,
                published: None,
                changes: 0,
                at_creation: None,
                at_possession: None,
                store_at_possession: None,
                basis_at_creation: None,
                lane_prefix: Default::default(),
            });
            let shipment = Shipment {
                carrier: Some(service.carrier.into()),
                service: Some(service.service.into()),
                tracking_number: TrackingNumber::parse(&tracking_number).expect("a valid tracking number"),
                direction: Direction::Outbound,
                origin_location_id: Some(warehouse.into()),
                origin_postal_code: Some(wh_postal.into()),
                origin_country: Some("US".into()),
                items: parcel_items,
                label_cost: Some(Money::parse("7.90").expect("a valid cost")),
                handling_cost: Some(Money::parse("1.50").expect("a valid cost")),
            };
            self.schedule(
                label_at.with_timezone(&Utc),
                Action::AddShipment { order: number.clone(), shipment: Box::new(shipment), parcel },
            );
            // Warehouse scans, the pack scan missed now and then.
            let scan = |step, at: DateTime<FixedOffset>| {
                Action::Scan(Scan {
                    barcode: tracking_number.clone(),
                    step,
                    station: Some("S1".into()),
                    operator: None,
                    scanned_at: at,
                })
            };
            self.schedule(
                (label_at + Duration::minutes(10)).with_timezone(&Utc),
                scan(ScanStep::Pick, label_at + Duration::minutes(10)),
            );
            if rng.random_bool(0.05) {
                self.missed_scans += 1;
            } else {
                self.schedule(
                    (label_at + Duration::minutes(40)).with_timezone(&Utc),
                    scan(ScanStep::Pack, label_at + Duration::minutes(40)),
                );
            }
            let origin = place(wh_city, wh_region, wh_postal);
            let destination = place(city, region, postal);
            let mut steps: Vec<(Milestone, &str, DateTime<FixedOffset>, Option<Location>)> = Vec::new();
            steps.push((Milestone::LabelCreated, "LC", label_at + Duration::minutes(5), origin.clone()));
            if rng.random_bool(0.05) {
                self.missed_scans += 1;
            } else {
                steps.push((Milestone::HandedToCarrier, "PU", handed_at, origin.clone()));
            }
            // A hub scan each business day in between, some missed.
            let mut day = ship_day;
            while day < delivery_day {
                day = us.add_business_days(day, 1);
                if day >= first_try_day {
                    break;
                }
                if rng.random_bool(0.1) {
                    self.missed_scans += 1;
                    continue;
                }
                steps.push((
                    Milestone::InTransit,
                    "AR",
                    local(day, rng.random_range(1..6), rng.random_range(0..60)),
                    None,
                ));
            }
            if failed_attempt {
                steps.push((Milestone::OutForDelivery, "OD", local(first_try_day, 7, 40), destination.clone()));
                steps.push((Milestone::DeliveryAttempted, "DA", local(first_try_day, 15, 10), destination.clone()));
            }
            steps.push((Milestone::OutForDelivery, "OD", local(delivery_day, 7, 30), destination.clone()));
            steps.push((Milestone::Delivered, "DL", delivered_at, destination.clone()));
            for (milestone, code, at, location) in steps {
                self.schedule_carrier_event(
                    rng,
                    parcel,
                    service.carrier,
                    &tracking_number,
                    milestone,
                    code,
                    at,
                    location,
                    Some(carrier_estimate),
                );
            }
            // A few delivered parcels come back.
            if rng.random_bool(0.03) {
                self.plan_return(rng, seed, index, parcel_index, &number, item, delivered_at, us, service);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_return(
        &mut self,
        rng: &mut StdRng,
        seed: u64,
        index: usize,
        parcel_index: usize,
        order: &OrderNumber,
        item: &LineItem,
        delivered_at: DateTime<FixedOffset>,
        calendar: HolidayCalendar,
        service: &SimService,
    ) {
        let tracking_number = format!("{}{}{:06}R{}", service.tracking_prefix, seed % 1000, index, parcel_index);
        let sent_day = calendar.add_business_days(delivered_at.date_naive(), rng.random_range(2..6));
        let sent_at = local(sent_day, 11, 0);
        let parcel = self.parcels.len();
        self.parcels.push(Parcel {
            order: order.clone(),
            tracking_number: tracking_number.clone(),
            outbound: false,
            destination_country: "US",
            destination_region: String::new(),
            registered_at: sent_at.with_timezone(&Utc),
            carrier_estimate: sent_day,
            delivered_at: None,
            first_possession: None,
            latest: None,
            delivered_seen: false,
            learned: false,
            published: None,
            changes: 0,
            at_creation: None,
            at_possession: None,
            store_at_possession: None,
            basis_at_creation: None,
            lane_prefix: Default::default(),
        });
        let shipment = Shipment {
            carrier: Some(service.carrier.into()),
            service: Some(service.service.into()),
            tracking_number: TrackingNumber::parse(&tracking_number).expect("a valid tracking number"),
            direction: Direction::Return,
            origin_location_id: None,
            origin_postal_code: None,
            origin_country: Some("US".into()),
            items: vec![ShipmentItem { sku: item.sku.clone(), quantity: 1 }],
            label_cost: None,
            handling_cost: None,
        };
        self.schedule(
            sent_at.with_timezone(&Utc),
            Action::AddShipment { order: order.clone(), shipment: Box::new(shipment), parcel },
        );
        let arrived = calendar.add_business_days(sent_day, 4);
        for (milestone, code, at) in [
            (Milestone::HandedToCarrier, "PU", sent_at + Duration::hours(4)),
            (Milestone::InTransit, "AR", local(calendar.add_business_days(sent_day, 1), 3, 0)),
            (Milestone::Delivered, "DL", local(arrived, 10, 0)),
        ] {
            self.schedule_carrier_event(
                rng,
                parcel,
                service.carrier,
                &tracking_number,
                milestone,
                code,
                at,
                None,
                None,
            );
        }
    }

    /// Schedules one carrier event: mostly received a few minutes after it happened, sometimes
    /// hours late (so it lands out of order), sometimes sent twice.
    #[allow(clippy::too_many_arguments)]
    fn schedule_carrier_event(
        &mut self,
        rng: &mut StdRng,
        parcel: usize,
        carrier: &str,
        tracking_number: &str,
        milestone: Milestone,
        code: &str,
        at: DateTime<FixedOffset>,
        location: Option<Location>,
        estimate: Option<NaiveDate>,
    ) {
        let late = rng.random_bool(0.08);
        let delay =
            if late { Duration::hours(rng.random_range(3..30)) } else { Duration::minutes(rng.random_range(1..20)) };
        if late {
            self.late_events += 1;
        }
        let event = NormalizedEvent {
            tracking_number: tracking_number.to_string(),
            carrier: carrier.to_string(),
            source: EventSource::Carrier,
            source_event_id: Some(format!("sim-{tracking_number}-{code}-{}", at.timestamp())),
            milestone: Some(milestone),
            mapping: CodeLookup::Mapped(milestone),
            code: Some(code.to_string()),
            description: Some(format!("{} (simulated)", milestone.as_str())),
            occurred_at: at,
            location,
            proof_of_delivery: None,
            carrier_estimated_delivery: estimate.map(|d| local(d, 20, 0)),
            raw: serde_json::json!({"simulated": true, "code": code}),
        };
        let received = (at + delay).with_timezone(&Utc);
        self.events_sent += 1;
        if rng.random_bool(0.05) {
            self.duplicates_sent += 1;
            self.events_sent += 1;
            let again = received + Duration::hours(rng.random_range(1..12));
            self.schedule(again, Action::Carrier { parcel, event: Box::new(event.clone()) });
        }
        self.schedule(received, Action::Carrier { parcel, event: Box::new(event) });
    }

    fn report(&self, seed: u64, orders: usize, seconds: f64) -> SimulationReport {
        let start = local(NaiveDate::from_ymd_opt(START.0, START.1, START.2).expect("a valid date"), 0, 0);
        let warm_up_end =
            start.with_timezone(&Utc) + Duration::minutes((SPAN_DAYS as f64 * 24.0 * 60.0 * WARM_UP_SHARE) as i64);
        let scored: Vec<&Parcel> = self
            .parcels
            .iter()
            .filter(|p| p.outbound && p.registered_at >= warm_up_end && p.delivered_seen && p.at_creation.is_some())
            .collect();
        let midpoint = |w: &EtaWindow| -> DateTime<FixedOffset> {
            let from = local(w.earliest, 0, 0);
            let to = local(w.latest, 0, 0) + Duration::days(1);
            from + (to - from) / 2
        };
        let hours = |a: DateTime<FixedOffset>, b: DateTime<FixedOffset>| (a - b).num_seconds().abs() as f64 / 3600.0;
        let mut model_errors = Vec::new();
        let mut carrier_errors = Vec::new();
        let (mut covered, mut covered_possession, mut with_possession, mut carrier_hits) = (0, 0, 0, 0);
        let (mut store_covered, mut store_windows) = (0, 0);
        let mut widths = 0i64;
        let mut churn = 0u32;
        let mut basis: BTreeMap<String, usize> = BTreeMap::new();
        for p in &scored {
            let delivered = p.delivered_at.expect("outbound parcels are planned with a delivery");
            let window = p.at_creation.expect("filtered on");
            if window.contains(delivered.date_naive()) {
                covered += 1;
            }
            if let Some(w) = p.at_possession {
                with_possession += 1;
                if w.contains(delivered.date_naive()) {
                    covered_possession += 1;
                }
            }
            if let Some(w) = p.store_at_possession {
                store_windows += 1;
                if w.contains(delivered.date_naive()) {
                    store_covered += 1;
                }
            }
            if p.carrier_estimate == delivered.date_naive() {
                carrier_hits += 1;
            }
            widths += (window.latest - window.earliest).num_days() + 1;
            model_errors.push(hours(midpoint(&window), delivered));
            carrier_errors.push(hours(
                midpoint(&EtaWindow { earliest: p.carrier_estimate, latest: p.carrier_estimate }),
                delivered,
            ));
            churn += p.changes.saturating_sub(1);
            *basis.entry(p.basis_at_creation.unwrap_or("none").to_string()).or_default() += 1;
        }
        let n = scored.len().max(1) as f64;
        let model = median(&mut model_errors);
        let carrier = median(&mut carrier_errors);
        let lanes = SERVICES
            .iter()
            .flat_map(|s| {
                ["near", "mid", "far"].into_iter().enumerate().map(move |(i, zone)| LaneTruth {
                    carrier: s.carrier,
                    service: s.service,
                    zone,
                    transit_business_days: s.zones[i].to_vec(),
                    friday_extra_day_probability: FRIDAY_EXTRA_DAY,
                    carrier_promise_business_days: s.carrier_promise,
                })
            })
            .collect();
        SimulationReport {
            seed,
            orders,
            shipments: self.parcels.iter().filter(|p| p.outbound).count(),
            return_shipments: self.parcels.iter().filter(|p| !p.outbound).count(),
            events_sent: self.events_sent,
            duplicates_sent: self.duplicates_sent,
            late_events: self.late_events,
            missed_scans: self.missed_scans,
            failed_attempts: self.failed_attempts,
            scored_shipments: scored.len(),
            coverage_at_creation_pct: round2(100.0 * covered as f64 / n),
            coverage_at_possession_pct: round2(100.0 * covered_possession as f64 / with_possession.max(1) as f64),
            store_coverage_at_possession_pct: round2(100.0 * store_covered as f64 / store_windows.max(1) as f64),
            carrier_estimate_hit_pct: round2(100.0 * carrier_hits as f64 / n),
            model_median_abs_error_hours: round2(model),
            carrier_median_abs_error_hours: round2(carrier),
            error_reduction_pct: if carrier > 0.0 { round2(100.0 * (carrier - model) / carrier) } else { 0.0 },
            mean_window_days: round2(widths as f64 / n),
            churn_per_shipment: round2(f64::from(churn) / n),
            basis_at_creation: basis,
            lanes,
            seconds: round2(seconds),
        }
    }
}

fn place(city: &str, region: &str, postal: &str) -> Option<Location> {
    Some(Location {
        city: Some(city.into()),
        region: Some(region.into()),
        postal_code: Some(postal.into()),
        country: Some("US".into()),
    })
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The report as a table for the terminal.
pub fn table(r: &SimulationReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "simulation seed {} · {} orders · {} parcels (+{} returns) · {} events ({} duplicates, {} late) · {} missed scans · {} failed attempts · {:.1} s\n",
        r.seed, r.orders, r.shipments, r.return_shipments, r.events_sent, r.duplicates_sent, r.late_events, r.missed_scans, r.failed_attempts, r.seconds
    ));
    out.push_str(&format!("scored parcels (delivered, registered after the warm-up): {}\n", r.scored_shipments));
    out.push_str("figure                                   Milepost ETA   carrier estimate\n");
    out.push_str(&format!(
        "delivered inside the window, at creation {:>11.2} % {:>16.2} %\n",
        r.coverage_at_creation_pct, r.carrier_estimate_hit_pct
    ));
    out.push_str(&format!("delivered inside the window, at pickup   {:>11.2} %\n", r.coverage_at_possession_pct));
    out.push_str(&format!("  the same, window stored by the store  {:>11.2} %\n", r.store_coverage_at_possession_pct));
    out.push_str(&format!(
        "median absolute error of the midpoint    {:>11.2} h {:>16.2} h\n",
        r.model_median_abs_error_hours, r.carrier_median_abs_error_hours
    ));
    out.push_str(&format!("error reduction against the carrier      {:>11.2} %\n", r.error_reduction_pct));
    out.push_str(&format!("mean window width                        {:>11.2} days\n", r.mean_window_days));
    out.push_str(&format!("window changes per parcel after the first {:>10.2}\n", r.churn_per_shipment));
    let basis: Vec<String> = r.basis_at_creation.iter().map(|(k, v)| format!("{k} {v}")).collect();
    out.push_str(&format!("basis of the creation windows: {}\n", basis.join(", ")));
    out
}

/// `milepost simulate`: on `MILEPOST_DATABASE_URL` when set, otherwise on a fresh SQLite file in
/// a temporary directory removed afterwards.
pub async fn run_command(
    settings: &crate::settings::Settings,
    database_from_environment: bool,
    seed: u64,
    orders: usize,
) -> anyhow::Result<SimulationReport> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let store: Arc<dyn milepost_store::Store> = if database_from_environment {
        crate::open_store(settings)?
    } else {
        let path = dir.path().join("simulation.db");
        Arc::new(milepost_store::sqlite::SqliteStore::open(&path).context("opening the simulation database")?)
    };
    let start = local(NaiveDate::from_ymd_opt(START.0, START.1, START.2).expect("a valid date"), 0, 0);
    let clock = Arc::new(FixedClock::at(start.with_timezone(&Utc)));
    let app = Milepost::new(store, clock.clone());
    let report = run(&app, &clock, seed, orders).await?;
    drop(app);
    Ok(report)
}

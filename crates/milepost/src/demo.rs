//! `milepost demo`: a realistic demo account. A few hundred orders across four carriers and two
//! warehouses, single and split shipments, with the cases an operations team meets every week: a
//! missed pack scan, a failed delivery attempt, a late parcel, a store that says "shipped" when
//! the carrier never took the parcel, an unmapped carrier code and a cancelled order. Everything
//! goes through the same use cases as the API. Carrier events are written as each carrier's own
//! tracking JSON (UPS Tracking API, FedEx Track API, USPS v3, DHL Unified) and read by the same
//! adapters and use case as `POST /webhooks/carriers/{id}`, so the demo exercises the real paths,
//! raw payloads included.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use milepost_app::records::{EventTarget, Principal};
use milepost_app::{EventSubmission, Milepost};
use milepost_domain::order::Channel;
use milepost_domain::{
    Address, Customer, Direction, EventSource, LineItem, Location, Milestone, Money, Order, OrderNumber, Shipment,
    ShipmentItem, TrackingNumber,
};
use milepost_ingest::SenderKind;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

pub const DEMO_ACCOUNT: &str = "demo";

/// Raw codes a carrier uses for each step, as in `data/carrier_codes.tsv`.
struct CarrierCodes {
    carrier: &'static str,
    label: &'static str,
    handed: &'static str,
    transit: [&'static str; 2],
    out_for_delivery: &'static str,
    delivered: &'static str,
    attempted: &'static str,
    services: [&'static str; 2],
}

const CARRIERS: [CarrierCodes; 4] = [
    CarrierCodes {
        carrier: "ups",
        label: "MP",
        handed: "OR",
        transit: ["AR", "DP"],
        out_for_delivery: "OT",
        delivered: "KB",
        attempted: "48",
        services: ["ground", "2nd_day_air"],
    },
    CarrierCodes {
        carrier: "fedex",
        label: "OC",
        handed: "PU",
        transit: ["AR", "DP"],
        out_for_delivery: "OD",
        delivered: "DL",
        attempted: "08",
        services: ["ground", "express_saver"],
    },
    CarrierCodes {
        carrier: "usps",
        label: "GX",
        handed: "03",
        transit: ["10", "T1"],
        out_for_delivery: "OF",
        delivered: "01",
        attempted: "02",
        services: ["ground_advantage", "priority"],
    },
    CarrierCodes {
        carrier: "dhl",
        label: "pre-transit",
        handed: "ES",
        transit: ["transit", "transit"],
        out_for_delivery: "PO",
        delivered: "delivered",
        attempted: "ZN",
        services: ["express", "parcel"],
    },
];

const DESTINATIONS: [(&str, &str, &str); 12] = [
    ("Austin", "TX", "78701"),
    ("Denver", "CO", "80202"),
    ("Seattle", "WA", "98101"),
    ("Chicago", "IL", "60601"),
    ("Atlanta", "GA", "30303"),
    ("Boston", "MA", "02108"),
    ("Phoenix", "AZ", "85004"),
    ("Portland", "OR", "97204"),
    ("Miami", "FL", "33130"),
    ("Minneapolis", "MN", "55401"),
    ("Nashville", "TN", "37203"),
    ("Brooklyn", "NY", "11201"),
];

const WAREHOUSES: [(&str, &str, &str, &str); 2] =
    [("RNO1", "Reno", "NV", "89502"), ("SDF1", "Louisville", "KY", "40213")];

const FIRST_NAMES: [&str; 16] = [
    "Ana", "Ben", "Chloe", "Diego", "Emma", "Farah", "Gus", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Nora",
    "Omar", "Priya",
];
const LAST_NAMES: [&str; 10] =
    ["Diaz", "Okafor", "Nguyen", "Smith", "Rossi", "Kim", "Berg", "Patel", "Moreau", "Silva"];

const PRODUCTS: [(&str, &str, &str); 8] = [
    ("MUG-STONE-12", "Stoneware mug, 12 oz", "18.00"),
    ("TEE-ORG-M", "Organic cotton tee, M", "29.00"),
    ("BOTTLE-STEEL", "Steel bottle, 750 ml", "34.50"),
    ("CANDLE-CEDAR", "Cedar candle", "22.00"),
    ("BAG-CANVAS", "Canvas tote", "39.00"),
    ("SOCKS-WOOL-3", "Wool socks, 3 pairs", "24.00"),
    ("LAMP-DESK", "Desk lamp", "89.00"),
    ("PLANTER-CER", "Ceramic planter", "45.00"),
];

/// What the seeding produced.
pub struct Seeded {
    pub orders: usize,
    pub example_order: String,
}

/// The special case an order demonstrates, by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Routine,
    MissedPackScan,
    FailedAttempt,
    Late,
    StoreSaysShipped,
    UnmappedCode,
    Cancelled,
    /// A split order whose first parcel is delivered while the second is still on its way.
    SplitHalfway,
}

fn case_of(index: usize) -> Case {
    match index {
        7 => Case::MissedPackScan,
        11 => Case::FailedAttempt,
        13 => Case::Late,
        17 => Case::StoreSaysShipped,
        19 => Case::UnmappedCode,
        23 => Case::Cancelled,
        3 => Case::SplitHalfway,
        _ => Case::Routine,
    }
}

fn tracking_number(rng: &mut StdRng, carrier: &str) -> String {
    let digits = |rng: &mut StdRng, n: usize| -> String {
        (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
    };
    match carrier {
        "ups" => format!("1Z{}{}", "DEMO", digits(rng, 12)),
        "fedex" => digits(rng, 12),
        "usps" => format!("9400{}", digits(rng, 18)),
        _ => format!("JD{}", digits(rng, 16)),
    }
}

struct EventPlan {
    source: EventSource,
    milestone: Option<Milestone>,
    code: Option<&'static str>,
    description: &'static str,
    at: DateTime<FixedOffset>,
    location: Option<Location>,
}

fn location(city: &str, region: &str, postal: &str) -> Option<Location> {
    Some(Location {
        city: Some(city.into()),
        region: Some(region.into()),
        postal_code: Some(postal.into()),
        country: Some("US".into()),
    })
}

/// Seeds `count` orders into the caller's account unless it already has orders. Times are laid
/// out over the two weeks before `now`; only events that have happened by `now` are sent.
pub async fn seed(
    app: &Milepost,
    caller: &Principal,
    count: usize,
    now: DateTime<Utc>,
    show_progress: bool,
) -> anyhow::Result<Seeded> {
    let existing =
        app.search_orders(caller, milepost_app::records::OrderQuery { limit: 1, ..Default::default() }).await?;
    let example_order = order_number(11);
    if !existing.orders.is_empty() {
        eprintln!("the demo account already has orders; not seeding again");
        return Ok(Seeded { orders: 0, example_order });
    }
    let progress =
        if show_progress { indicatif::ProgressBar::new(count as u64) } else { indicatif::ProgressBar::hidden() };
    progress.set_style(
        indicatif::ProgressStyle::with_template("seeding demo orders {bar:40} {pos}/{len} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut rng = StdRng::seed_from_u64(20261127);
    // Whole seconds, as carriers report them.
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let offset = FixedOffset::west_opt(5 * 3600).expect("valid offset");
    for index in 0..count {
        seed_order(app, caller, &mut rng, index, now, offset).await?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    // Learn the lanes from the seeded history, then let the rules look at everything once.
    app.learn_lanes().await?;
    app.store().sweep_due(now, u32::MAX).await?;
    Ok(Seeded { orders: count, example_order })
}

fn order_number(index: usize) -> String {
    format!("MP-{}", 10001 + index)
}

async fn seed_order(
    app: &Milepost,
    caller: &Principal,
    rng: &mut StdRng,
    index: usize,
    now: DateTime<Utc>,
    offset: FixedOffset,
) -> anyhow::Result<()> {
    let case = case_of(index);
    let age_hours = match case {
        Case::Late => 9 * 24,
        Case::StoreSaysShipped => 4 * 24,
        Case::FailedAttempt | Case::MissedPackScan | Case::UnmappedCode => 5 * 24,
        Case::SplitHalfway => 6 * 24,
        _ => rng.random_range(2..14 * 24),
    };
    let placed_at =
        (now - Duration::hours(age_hours) - Duration::minutes(rng.random_range(0..60))).with_timezone(&offset);
    let (city, region, postal) = DESTINATIONS[rng.random_range(0..DESTINATIONS.len())];
    let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
    let split = index % 10 == 3;
    let line_count = if split { 2 } else { rng.random_range(1..=2) };
    let mut items = Vec::new();
    let start = rng.random_range(0..PRODUCTS.len());
    for k in 0..line_count {
        let (sku, description, price) = PRODUCTS[(start + k) % PRODUCTS.len()];
        items.push(LineItem {
            sku: sku.into(),
            description: Some(description.into()),
            quantity: rng.random_range(1..=2),
            unit_price: Money::parse(price).expect("valid price"),
        });
    }
    let number = OrderNumber::parse(&order_number(index)).expect("valid order number");
    let order = Order {
        charged: None,
        order_number: number.clone(),
        channel: Channel::parse(if index.is_multiple_of(3) { "shopify" } else { "api" }).expect("valid channel"),
        placed_at,
        promised_by: Some(placed_at + Duration::days(5)),
        currency: "USD".into(),
        customer: Customer {
            name: Some(format!("{first} {last}")),
            email: Some(format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), index)),
            phone: None,
            postal_code: Some(postal.into()),
        },
        ship_to: Address {
            line1: Some(format!("{} Main St", 100 + index)),
            line2: None,
            city: Some(city.into()),
            region: Some(region.into()),
            postal_code: Some(postal.into()),
            country: Some("US".into()),
        },
        items: items.clone(),
    };
    app.put_order(caller, order).await?;

    let mut plans = vec![EventPlan {
        source: EventSource::Channel,
        milestone: Some(Milestone::Confirmed),
        code: None,
        description: "Payment captured, order confirmed",
        at: placed_at + Duration::minutes(8),
        location: None,
    }];
    if case == Case::Cancelled {
        plans.push(EventPlan {
            source: EventSource::Channel,
            milestone: Some(Milestone::Cancelled),
            code: None,
            description: "Cancelled at the customer's request",
            at: placed_at + Duration::hours(2),
            location: None,
        });
        submit(app, caller, &number, None, None, plans, now).await?;
        return Ok(());
    }
    submit(app, caller, &number, None, None, plans, now).await?;

    let parcels: Vec<Vec<ShipmentItem>> = if split {
        items.iter().map(|i| vec![ShipmentItem { sku: i.sku.clone(), quantity: i.quantity }]).collect()
    } else {
        vec![Vec::new()]
    };
    for (p, parcel_items) in parcels.into_iter().enumerate() {
        let codes = &CARRIERS[(index + p) % CARRIERS.len()];
        let (wh, wh_city, wh_region, wh_postal) = WAREHOUSES[(index + p) % WAREHOUSES.len()];
        let tn = tracking_number(rng, codes.carrier);
        let shipment = Shipment {
            carrier: Some(codes.carrier.into()),
            service: Some(codes.services[rng.random_range(0..2)].into()),
            tracking_number: TrackingNumber::parse(&tn).expect("valid tracking number"),
            direction: Direction::Outbound,
            origin_location_id: Some(wh.into()),
            origin_postal_code: Some(wh_postal.into()),
            origin_country: Some("US".into()),
            items: parcel_items,
            label_cost: Some(
                Money::parse(&format!("{}.{:02}", rng.random_range(6..14), rng.random_range(0..100))).expect("valid"),
            ),
            handling_cost: Some(Money::parse("1.75").expect("valid")),
        };
        app.add_shipment(caller, &number, shipment).await?;

        let ship_day = placed_at + Duration::hours(3 + 20 * p as i64);
        let transit_days = rng.random_range(2..5);
        let origin = location(wh_city, wh_region, wh_postal);
        let destination = location(city, region, postal);
        let mut plans = vec![EventPlan {
            source: EventSource::Warehouse,
            milestone: Some(Milestone::Picked),
            code: None,
            description: "Picked at station P2",
            at: ship_day,
            location: origin.clone(),
        }];
        if case != Case::MissedPackScan {
            plans.push(EventPlan {
                source: EventSource::Warehouse,
                milestone: Some(Milestone::Packed),
                code: None,
                description: "Packed at station K1",
                at: ship_day + Duration::minutes(40),
                location: origin.clone(),
            });
        }
        plans.push(EventPlan {
            source: EventSource::Carrier,
            milestone: None,
            code: Some(codes.label),
            description: "Shipping label created",
            at: ship_day + Duration::minutes(55),
            location: origin.clone(),
        });
        if case == Case::StoreSaysShipped {
            plans.push(EventPlan {
                source: EventSource::Channel,
                milestone: Some(Milestone::HandedToCarrier),
                code: None,
                description: "Store marked the order fulfilled",
                at: ship_day + Duration::hours(2),
                location: None,
            });
            submit(app, caller, &number, Some(&tn), Some(codes.carrier), plans, now).await?;
            continue;
        }
        let handed = ship_day + Duration::hours(6);
        plans.push(EventPlan {
            source: EventSource::Carrier,
            milestone: None,
            code: Some(codes.handed),
            description: "Picked up by carrier",
            at: handed,
            location: origin.clone(),
        });
        plans.push(EventPlan {
            source: EventSource::Carrier,
            milestone: None,
            code: Some(codes.transit[0]),
            description: "Arrived at facility",
            at: handed + Duration::hours(14),
            location: location("Memphis", "TN", "38118"),
        });
        if case == Case::UnmappedCode {
            plans.push(EventPlan {
                source: EventSource::Carrier,
                milestone: None,
                code: Some("ZX9"),
                description: "Held at hub pending broker documents",
                at: handed + Duration::hours(20),
                location: location("Memphis", "TN", "38118"),
            });
        }
        if case == Case::Late || (case == Case::SplitHalfway && p == 1) {
            // Stalls after the first hub scan: no event for days, past its promise.
            submit(app, caller, &number, Some(&tn), Some(codes.carrier), plans, now).await?;
            continue;
        }
        plans.push(EventPlan {
            source: EventSource::Carrier,
            milestone: None,
            code: Some(codes.transit[1]),
            description: "Departed facility",
            at: handed + Duration::hours(24 * (transit_days - 1) as i64),
            location: location("Memphis", "TN", "38118"),
        });
        let out_at = handed + Duration::hours(24 * transit_days as i64) + Duration::hours(2);
        plans.push(EventPlan {
            source: EventSource::Carrier,
            milestone: None,
            code: Some(codes.out_for_delivery),
            description: "Out for delivery",
            at: out_at,
            location: destination.clone(),
        });
        if case == Case::FailedAttempt {
            plans.push(EventPlan {
                source: EventSource::Carrier,
                milestone: None,
                code: Some(codes.attempted),
                description: "Delivery attempted: receiver not available",
                at: out_at + Duration::hours(6),
                location: destination.clone(),
            });
            plans.push(EventPlan {
                source: EventSource::Carrier,
                milestone: Some(Milestone::InTransit),
                code: None,
                description: "Returned to local facility, next attempt tomorrow",
                at: out_at + Duration::hours(9),
                location: destination.clone(),
            });
        } else {
            plans.push(EventPlan {
                source: EventSource::Carrier,
                milestone: None,
                code: Some(codes.delivered),
                description: "Delivered, front door",
                at: out_at + Duration::hours(5),
                location: destination.clone(),
            });
        }
        submit(app, caller, &number, Some(&tn), Some(codes.carrier), plans, now).await?;
    }
    Ok(())
}

/// Sends the events that have happened by `now`, newest first (as carriers often do), so the
/// demo also exercises out-of-order arrival. Carrier events go as one payload in the carrier's
/// own format through its adapter; the others through the event use case.
async fn submit(
    app: &Milepost,
    caller: &Principal,
    order: &OrderNumber,
    tracking: Option<&str>,
    carrier: Option<&str>,
    mut plans: Vec<EventPlan>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    plans.retain(|p| p.at.with_timezone(&Utc) <= now);
    plans.reverse();
    let (carrier_plans, plans): (Vec<EventPlan>, Vec<EventPlan>) =
        plans.into_iter().partition(|p| p.source == EventSource::Carrier && tracking.is_some() && p.code.is_some());
    // A parcel's own events (warehouse scans, the store's claims) go in one batch with the
    // carrier's feed read by its adapter, so the rules judge the parcel on all of it at once.
    if let (Some(tn), Some(carrier), false) = (tracking, carrier, carrier_plans.is_empty() && plans.is_empty()) {
        let mut events = if carrier_plans.is_empty() {
            Vec::new()
        } else {
            let (sender, body) = carrier_payload(carrier, tn, &carrier_plans);
            let codes = app.codes_for(caller.account_id).await?;
            milepost_ingest::adapters::parse(sender, &body, &codes)
                .map_err(|e| anyhow::anyhow!("demo {carrier} payload: {e}"))?
        };
        events.extend(plans.iter().map(|p| milepost_ingest::adapters::NormalizedEvent {
            tracking_number: tn.to_string(),
            carrier: carrier.to_string(),
            source: p.source,
            source_event_id: Some(demo_event_id(order, p)),
            milestone: p.milestone,
            mapping: p.milestone.map_or(milepost_ingest::CodeLookup::Unmapped, milepost_ingest::CodeLookup::Mapped),
            code: p.code.map(str::to_string),
            description: Some(p.description.to_string()),
            occurred_at: p.at,
            location: p.location.clone(),
            proof_of_delivery: None,
            carrier_estimated_delivery: None,
            raw: json!({"demo": true, "description": p.description}),
        }));
        app.ingest_normalized(caller, events).await?;
        return Ok(());
    }
    // Events about the order itself (confirmed, cancelled) have no parcel to go with.
    let submissions: Vec<EventSubmission> = plans
        .into_iter()
        .map(|p| EventSubmission {
            target: EventTarget::Order { order_number: order.clone(), shipment: tracking.map(str::to_string) },
            source: p.source,
            source_event_id: Some(demo_event_id(order, &p)),
            carrier: None,
            milestone: p.milestone,
            code: p.code.map(str::to_string),
            description: Some(p.description.to_string()),
            occurred_at: p.at,
            location: p.location,
            raw: None,
        })
        .collect();
    if !submissions.is_empty() {
        app.ingest_events(caller, submissions).await?;
    }
    Ok(())
}

fn demo_event_id(order: &OrderNumber, p: &EventPlan) -> String {
    format!("demo-{}-{}-{}", order, p.milestone.map(|m| m.as_str()).or(p.code).unwrap_or("event"), p.at.timestamp())
}

fn place(p: &EventPlan) -> (String, String, String) {
    let l = p.location.clone().unwrap_or_default();
    (l.city.unwrap_or_default(), l.region.unwrap_or_default(), l.postal_code.unwrap_or_default())
}

/// The carrier's own tracking JSON for these events, and the adapter that reads it.
fn carrier_payload(carrier: &str, tn: &str, plans: &[EventPlan]) -> (SenderKind, Vec<u8>) {
    let code = |p: &EventPlan| p.code.unwrap_or_default().to_string();
    let (kind, body) = match carrier {
        "ups" => {
            let activity: Vec<Value> = plans
                .iter()
                .map(|p| {
                    let (city, region, postal) = place(p);
                    let c = code(p);
                    let kind = match c.as_str() {
                        "MP" => "M",
                        "KB" => "D",
                        "48" => "X",
                        _ => "I",
                    };
                    json!({"date": p.at.format("%Y%m%d").to_string(), "time": p.at.format("%H%M%S").to_string(),
                        "gmtOffset": p.at.format("%:z").to_string(),
                        "location": {"address": {"city": city, "stateProvince": region, "postalCode": postal, "countryCode": "US"}},
                        "status": {"type": kind, "code": c, "description": p.description}})
                })
                .collect();
            (
                SenderKind::Ups,
                json!({"trackResponse": {"shipment": [{"inquiryNumber": tn, "package": [{"trackingNumber": tn, "activity": activity}]}]}}),
            )
        }
        "fedex" => {
            let scans: Vec<Value> = plans
                .iter()
                .map(|p| {
                    let (city, region, postal) = place(p);
                    let c = code(p);
                    // A delivery attempt is an exception-class scan whose exception code says why.
                    let (event_type, exception) = if c == "08" { ("DE".to_string(), c) } else { (c, String::new()) };
                    json!({"date": p.at.to_rfc3339(), "eventType": event_type, "eventDescription": p.description,
                        "exceptionCode": exception,
                        "scanLocation": {"city": city, "stateOrProvinceCode": region, "postalCode": postal, "countryCode": "US"}})
                })
                .collect();
            (
                SenderKind::Fedex,
                json!({"output": {"completeTrackResults": [{"trackingNumber": tn, "trackResults": [
                    {"trackingNumberInfo": {"trackingNumber": tn}, "scanEvents": scans}]}]}}),
            )
        }
        "usps" => {
            let events: Vec<Value> = plans
                .iter()
                .map(|p| {
                    let (city, region, postal) = place(p);
                    json!({"eventType": p.description, "eventTimestamp": p.at.format("%Y-%m-%dT%H:%M:%S").to_string(),
                        "GMTTimestamp": p.at.with_timezone(&Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                        "GMTOffset": p.at.format("%:z").to_string(),
                        "eventCity": city, "eventState": region, "eventZIP": postal, "eventCode": code(p)})
                })
                .collect();
            (SenderKind::Usps, json!({"trackingNumber": tn, "trackingEvents": events}))
        }
        _ => {
            // DHL Parcel DE: coarse `statusCode`s and the finer TTpro codes in `status`.
            let events: Vec<Value> = plans
                .iter()
                .map(|p| {
                    let (city, _, postal) = place(p);
                    let c = code(p);
                    let (status_code, status) = match c.as_str() {
                        "pre-transit" | "transit" | "delivered" | "failure" => (Some(c.clone()), None),
                        "ES" | "PO" => (Some("transit".to_string()), Some(c.clone())),
                        "ZN" => (Some("failure".to_string()), Some(c.clone())),
                        _ => (None, Some(c.clone())),
                    };
                    json!({"timestamp": p.at.to_rfc3339(), "statusCode": status_code, "status": status,
                        "description": p.description,
                        "location": {"address": {"addressLocality": city, "postalCode": postal, "countryCode": "US"}}})
                })
                .collect();
            (SenderKind::Dhl, json!({"shipments": [{"id": tn, "service": "parcel-de", "events": events}]}))
        }
    };
    (kind, body.to_string().into_bytes())
}

/// Orders of the demo that show the tracking page's cases, by seed index.
const PAGE_EXAMPLES: [(&str, usize); 3] =
    [("a missed delivery:", 11), ("a split order:    ", 3), ("a late order:     ", 13)];

/// Lines for the demo's output: the tracking page, example lookups (order number and e-mail, as
/// a customer types them) and a signed link as messages carry it.
pub async fn tracking_page_lines(app: &Milepost, caller: &Principal, base: &str) -> anyhow::Result<Vec<String>> {
    let mut lines = vec![format!("tracking page:     {base}/track")];
    let delivered = app
        .search_orders(
            caller,
            milepost_app::records::OrderQuery {
                status: Some(milepost_domain::OrderStatus::Delivered),
                limit: 1,
                ..Default::default()
            },
        )
        .await?;
    let mut examples: Vec<(&str, OrderNumber)> = PAGE_EXAMPLES
        .iter()
        .map(|(label, index)| (*label, OrderNumber::parse(&order_number(*index)).expect("valid order number")))
        .collect();
    if let Some(order) = delivered.orders.first() {
        examples.push(("a delivered one:  ", order.order_number.clone()));
    }
    for (label, number) in examples {
        let Ok(record) = app.order(caller, &number).await else { continue };
        if let Some(email) = &record.order.customer.email {
            lines.push(format!("{label} {base}/track?order_number={number}&email={}", email.replace('+', "%2B")));
        }
    }
    let number = OrderNumber::parse(&order_number(11)).expect("valid order number");
    lines.push(format!("signed link:       {}", app.tracking_link(caller.account_id, &number)));
    Ok(lines)
}

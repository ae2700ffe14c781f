//! Shopify order and fulfillment webhooks, the most common way orders reach Milepost. Orders are
//! the channel's side of the story (`placed`, `cancelled`, what was bought and where it goes);
//! fulfillments are the hand-off point where a tracking number and carrier first appear. This
//! module reads the REST payloads (`orders/create`, `orders/updated`, `orders/cancelled`,
//! `fulfillments/create`, `fulfillments/update`) into plain structs with domain types, so the app
//! crate can create or update the order and register the shipment without touching JSON.
//!
//! Order numbers: Shopify's `name` (`#1042`) is what the customer sees; the domain forbids `#` in
//! an order number, so the leading `#` is dropped (`1042`), falling back to `order_number`.
//! Carriers: `tracking_company` is mapped to Milepost's carrier keys (`UPS` → `ups`,
//! `DHL Express` → `dhl`); when it is absent the carrier is detected from the tracking number.

use crate::adapters::{AdapterError, Node, parse_json};
use crate::detect::detect_carrier;
use crate::mapping::{CodeLookup, CodeMap};
use chrono::{DateTime, FixedOffset};
use milepost_domain::{Address, Channel, Customer, LineItem, Milestone, Money, Order, OrderNumber};
use std::fmt;
use std::str::FromStr;

/// The `X-Shopify-Topic` header values this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShopifyTopic {
    OrdersCreate,
    OrdersUpdated,
    OrdersCancelled,
    FulfillmentsCreate,
    FulfillmentsUpdate,
}

impl ShopifyTopic {
    pub fn as_str(self) -> &'static str {
        match self {
            ShopifyTopic::OrdersCreate => "orders/create",
            ShopifyTopic::OrdersUpdated => "orders/updated",
            ShopifyTopic::OrdersCancelled => "orders/cancelled",
            ShopifyTopic::FulfillmentsCreate => "fulfillments/create",
            ShopifyTopic::FulfillmentsUpdate => "fulfillments/update",
        }
    }
}

impl fmt::Display for ShopifyTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A topic Milepost does not subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported Shopify topic `{0}`")]
pub struct UnsupportedTopic(pub String);

impl FromStr for ShopifyTopic {
    type Err = UnsupportedTopic;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "orders/create" => Ok(ShopifyTopic::OrdersCreate),
            "orders/updated" => Ok(ShopifyTopic::OrdersUpdated),
            "orders/cancelled" => Ok(ShopifyTopic::OrdersCancelled),
            "fulfillments/create" => Ok(ShopifyTopic::FulfillmentsCreate),
            "fulfillments/update" => Ok(ShopifyTopic::FulfillmentsUpdate),
            other => Err(UnsupportedTopic(other.to_string())),
        }
    }
}

/// What a Shopify webhook said.
#[derive(Debug, Clone, PartialEq)]
pub enum ShopifyWebhook {
    Order { topic: ShopifyTopic, order: Box<ShopifyOrder> },
    Fulfillment { topic: ShopifyTopic, fulfillment: Box<ShopifyFulfillment> },
}

/// The order fields Milepost uses, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopifyOrder {
    /// Shopify's numeric id, as a string.
    pub id: String,
    pub order_number: OrderNumber,
    /// The customer-facing name, e.g. `#1042`.
    pub name: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub processed_at: Option<DateTime<FixedOffset>>,
    pub updated_at: Option<DateTime<FixedOffset>>,
    pub cancelled_at: Option<DateTime<FixedOffset>>,
    pub cancel_reason: Option<String>,
    pub currency: String,
    pub total_price: Option<Money>,
    pub subtotal_price: Option<Money>,
    pub total_tax: Option<Money>,
    pub financial_status: Option<String>,
    pub fulfillment_status: Option<String>,
    pub customer: Customer,
    pub ship_to: Option<Address>,
    pub items: Vec<ShopifyLineItem>,
    pub fulfillments: Vec<ShopifyFulfillment>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub source_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShopifyLineItem {
    pub id: String,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub variant_title: Option<String>,
    pub quantity: u32,
    pub price: Money,
    pub requires_shipping: bool,
    pub fulfillable_quantity: Option<u32>,
    pub fulfillment_status: Option<String>,
}

/// A fulfillment: where a parcel gets its tracking number and carrier.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopifyFulfillment {
    pub id: String,
    pub order_id: Option<String>,
    pub status: Option<String>,
    pub created_at: Option<DateTime<FixedOffset>>,
    /// As Shopify gave it (`UPS`, `DHL Express`, a custom name).
    pub tracking_company: Option<String>,
    /// Milepost's carrier key: mapped from `tracking_company`, else detected from the number.
    pub carrier: Option<String>,
    pub tracking_numbers: Vec<String>,
    pub tracking_urls: Vec<String>,
    /// `shipment_status` as sent (`in_transit`, `delivered`, …).
    pub shipment_status: Option<String>,
    pub milestone: Option<Milestone>,
    pub mapping: CodeLookup,
    /// (sku, quantity) of the lines this fulfillment covers.
    pub items: Vec<(Option<String>, u32)>,
}

impl ShopifyOrder {
    /// The domain order. Lines without a SKU (custom items) get `shopify-line-<id>` so they can
    /// still be counted and shipped.
    pub fn to_order(&self) -> Order {
        Order {
            order_number: self.order_number.clone(),
            channel: Channel::parse("shopify").unwrap_or_else(|_| Channel::api()),
            placed_at: self.processed_at.unwrap_or(self.created_at),
            promised_by: None,
            currency: self.currency.clone(),
            customer: self.customer.clone(),
            ship_to: self.ship_to.clone().unwrap_or_default(),
            items: self
                .items
                .iter()
                .map(|i| LineItem {
                    sku: i.sku.clone().unwrap_or_else(|| format!("shopify-line-{}", i.id)),
                    description: i.title.clone(),
                    quantity: i.quantity,
                    unit_price: i.price,
                })
                .collect(),
        }
    }
}

/// Reads one Shopify webhook body for its topic.
pub fn parse_shopify(topic: ShopifyTopic, body: &[u8], codes: &CodeMap) -> Result<ShopifyWebhook, AdapterError> {
    let value = parse_json(body)?;
    let root = Node::root(&value);
    Ok(match topic {
        ShopifyTopic::OrdersCreate | ShopifyTopic::OrdersUpdated | ShopifyTopic::OrdersCancelled => {
            ShopifyWebhook::Order { topic, order: Box::new(read_order(&root, codes)?) }
        }
        ShopifyTopic::FulfillmentsCreate | ShopifyTopic::FulfillmentsUpdate => {
            ShopifyWebhook::Fulfillment { topic, fulfillment: Box::new(read_fulfillment(&root, codes)?) }
        }
    })
}

fn time(node: &Node<'_>, key: &str) -> Result<Option<DateTime<FixedOffset>>, AdapterError> {
    match node.get(key)? {
        None => Ok(None),
        Some(n) => DateTime::parse_from_rfc3339(n.as_str()?.trim())
            .map(Some)
            .map_err(|_| n.invalid("an ISO-8601 time with offset like 2025-03-10T09:14:22-05:00")),
    }
}

fn money(node: &Node<'_>, key: &str) -> Result<Option<Money>, AdapterError> {
    match node.get(key)? {
        None => Ok(None),
        Some(n) => Money::parse(n.as_str()?).map(Some).map_err(|_| n.invalid("a decimal string such as \"29.00\"")),
    }
}

fn count(node: &Node<'_>, key: &str) -> Result<Option<u32>, AdapterError> {
    match node.get(key)? {
        None => Ok(None),
        Some(n) => {
            n.v.as_u64()
                .and_then(|q| u32::try_from(q).ok())
                .map(Some)
                .ok_or_else(|| n.invalid("a non-negative whole number"))
        }
    }
}

fn req_id(node: &Node<'_>, key: &str) -> Result<String, AdapterError> {
    node.opt_id(key)?.ok_or_else(|| AdapterError::Missing { path: child(node, key) })
}

fn child(node: &Node<'_>, key: &str) -> String {
    if node.path.is_empty() { key.to_string() } else { format!("{}.{key}", node.path) }
}

fn read_order(root: &Node<'_>, codes: &CodeMap) -> Result<ShopifyOrder, AdapterError> {
    let id = req_id(root, "id")?;
    let name = root.opt_string("name")?;
    let from_name = name.as_deref().map(|n| n.trim_start_matches('#')).and_then(|n| OrderNumber::parse(n).ok());
    let order_number = match from_name {
        Some(n) => n,
        None => {
            let raw =
                root.opt_id("order_number")?.ok_or_else(|| AdapterError::Missing { path: "order_number".into() })?;
            OrderNumber::parse(&raw)
                .map_err(|_| root.req("order_number").map_or_else(|e| e, |n| n.invalid("an order number")))?
        }
    };
    let created_at = time(root, "created_at")?.ok_or_else(|| AdapterError::Missing { path: "created_at".into() })?;
    let currency_node = root.req("currency")?;
    let currency = milepost_domain::order::parse_currency(currency_node.as_str()?)
        .map_err(|_| currency_node.invalid("a three-letter currency code"))?;

    let customer_node = root.get("customer")?;
    let shipping = root.get("shipping_address")?;
    let mut customer = Customer {
        name: None,
        email: root.opt_string("email")?.or(match &customer_node {
            Some(c) => c.opt_string("email")?,
            None => None,
        }),
        phone: root.opt_string("phone")?,
        postal_code: None,
    };
    let ship_to = match &shipping {
        Some(a) => {
            customer.name = a.opt_string("name")?;
            customer.postal_code = a.opt_string("zip")?;
            if customer.phone.is_none() {
                customer.phone = a.opt_string("phone")?;
            }
            Some(Address {
                line1: a.opt_string("address1")?,
                line2: a.opt_string("address2")?,
                city: a.opt_string("city")?,
                region: a.opt_string("province_code")?.or(a.opt_string("province")?),
                postal_code: a.opt_string("zip")?,
                country: a.opt_string("country_code")?.or(a.opt_string("country")?),
            })
        }
        None => None,
    };
    if customer.name.is_none()
        && let Some(c) = &customer_node
    {
        let first = c.opt_str("first_name")?;
        let last = c.opt_str("last_name")?;
        let full = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
        customer.name = (!full.is_empty()).then_some(full);
    }

    let mut items = Vec::new();
    for line in root.arr("line_items")? {
        items.push(ShopifyLineItem {
            id: req_id(&line, "id")?,
            sku: line.opt_string("sku")?,
            title: line.opt_string("title")?,
            variant_title: line.opt_string("variant_title")?,
            quantity: count(&line, "quantity")?
                .ok_or_else(|| AdapterError::Missing { path: child(&line, "quantity") })?,
            price: money(&line, "price")?.ok_or_else(|| AdapterError::Missing { path: child(&line, "price") })?,
            requires_shipping: match line.get("requires_shipping")? {
                Some(n) => n.v.as_bool().ok_or_else(|| n.invalid("a boolean"))?,
                None => true,
            },
            fulfillable_quantity: count(&line, "fulfillable_quantity")?,
            fulfillment_status: line.opt_string("fulfillment_status")?,
        });
    }
    let mut fulfillments = Vec::new();
    for f in root.arr("fulfillments")? {
        fulfillments.push(read_fulfillment(&f, codes)?);
    }
    let tags = root
        .opt_str("tags")?
        .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();

    Ok(ShopifyOrder {
        id,
        order_number,
        name,
        created_at,
        processed_at: time(root, "processed_at")?,
        updated_at: time(root, "updated_at")?,
        cancelled_at: time(root, "cancelled_at")?,
        cancel_reason: root.opt_string("cancel_reason")?,
        currency,
        total_price: money(root, "total_price")?,
        subtotal_price: money(root, "subtotal_price")?,
        total_tax: money(root, "total_tax")?,
        financial_status: root.opt_string("financial_status")?,
        fulfillment_status: root.opt_string("fulfillment_status")?,
        customer,
        ship_to,
        items,
        fulfillments,
        tags,
        note: root.opt_string("note")?,
        source_name: root.opt_string("source_name")?,
    })
}

fn read_fulfillment(node: &Node<'_>, codes: &CodeMap) -> Result<ShopifyFulfillment, AdapterError> {
    let mut tracking_numbers: Vec<String> = Vec::new();
    for n in node.arr("tracking_numbers")? {
        let s = n.as_str()?.trim();
        if !s.is_empty() && !tracking_numbers.iter().any(|t| t == s) {
            tracking_numbers.push(s.to_string());
        }
    }
    if let Some(single) = node.opt_str("tracking_number")?
        && !tracking_numbers.iter().any(|t| t == single)
    {
        tracking_numbers.insert(0, single.to_string());
    }
    let mut tracking_urls = Vec::new();
    for u in node.arr("tracking_urls")? {
        tracking_urls.push(u.as_str()?.trim().to_string());
    }
    if tracking_urls.is_empty()
        && let Some(url) = node.opt_string("tracking_url")?
    {
        tracking_urls.push(url);
    }
    let tracking_company = node.opt_string("tracking_company")?;
    let carrier = tracking_company
        .as_deref()
        .map(carrier_from_company)
        .or_else(|| tracking_numbers.first().and_then(|t| detect_carrier(t)).map(str::to_string));
    let shipment_status = node.opt_string("shipment_status")?;
    let mapping = match &shipment_status {
        Some(s) => {
            codes.lookup_field("shopify", "shipment_status", &s.to_ascii_uppercase()).unwrap_or(CodeLookup::Unmapped)
        }
        None => CodeLookup::Unmapped,
    };
    let mut items = Vec::new();
    for line in node.arr("line_items")? {
        let quantity =
            count(&line, "quantity")?.ok_or_else(|| AdapterError::Missing { path: child(&line, "quantity") })?;
        items.push((line.opt_string("sku")?, quantity));
    }
    Ok(ShopifyFulfillment {
        id: req_id(node, "id")?,
        order_id: node.opt_id("order_id")?,
        status: node.opt_string("status")?,
        created_at: time(node, "created_at")?,
        tracking_company,
        carrier,
        tracking_numbers,
        tracking_urls,
        shipment_status,
        milestone: mapping.milestone(),
        mapping,
        items,
    })
}

/// Shopify's free-text carrier names to Milepost's keys; unknown names are kept lower-cased.
fn carrier_from_company(company: &str) -> String {
    let lower = company.trim().to_ascii_lowercase();
    let squashed: String = lower.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if squashed == "ups" || squashed.starts_with("upsmail") || squashed == "unitedparcelservice" {
        "ups".into()
    } else if squashed.starts_with("fedex") {
        "fedex".into()
    } else if squashed == "usps" || squashed.starts_with("unitedstatespostal") {
        "usps".into()
    } else if squashed.starts_with("dhl") {
        "dhl".into()
    } else {
        lower
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER: &str = r##"{"id":6102938475610,"admin_graphql_api_id":"gid://shopify/Order/6102938475610","name":"#1042","order_number":1042,
 "email":"dana.ruiz@example.net","created_at":"2025-03-10T09:14:22-05:00","processed_at":"2025-03-10T09:14:21-05:00",
 "currency":"USD","subtotal_price":"58.00","total_tax":"4.79","total_price":"70.79",
 "financial_status":"paid","fulfillment_status":null,"cancelled_at":null,"tags":"vip, gift ,","note":null,
 "line_items":[{"id":15001122334455,"product_id":8801234567890,"variant_id":47011223344556,"sku":"MUG-STN-12OZ",
   "title":"Stoneware Mug","variant_title":"Slate","quantity":2,"price":"29.00","grams":450,"requires_shipping":true,
   "fulfillable_quantity":2,"fulfillment_status":null,"fulfillment_service":"manual"},
   {"id":15001122334456,"sku":"","title":"Gift note","quantity":1,"price":"0.00","requires_shipping":false}],
 "shipping_lines":[{"code":"Standard","title":"Standard Shipping","price":"8.00"}],
 "shipping_address":{"name":"Dana Ruiz","address1":"415 Juniper St","city":"Boise","province_code":"ID","zip":"83702","country_code":"US"},
 "fulfillments":[]}"##;

    const FULFILLMENT: &str = r#"{"id":4567890123,"order_id":6102938475610,"status":"success","created_at":"2025-03-11T15:40:00-05:00",
 "tracking_company":"UPS","tracking_number":"1ZA4R7090398765432","tracking_numbers":["1ZA4R7090398765432"],
 "tracking_urls":["https://www.ups.com/track?tracknum=1ZA4R7090398765432"],"shipment_status":"in_transit",
 "line_items":[{"id":15001122334455,"sku":"MUG-STN-12OZ","quantity":2}]}"#;

    #[test]
    fn an_order_create_webhook_becomes_a_domain_order() {
        let codes = CodeMap::seeded();
        let ShopifyWebhook::Order { order, .. } =
            parse_shopify(ShopifyTopic::OrdersCreate, ORDER.as_bytes(), &codes).unwrap()
        else {
            panic!("expected an order");
        };
        assert_eq!(order.order_number.as_str(), "1042");
        assert_eq!(order.name.as_deref(), Some("#1042"));
        assert_eq!(order.id, "6102938475610");
        assert_eq!(order.total_price, Some(Money::parse("70.79").unwrap()));
        assert_eq!(order.tags, vec!["vip".to_string(), "gift".to_string()]);
        assert_eq!(order.customer.name.as_deref(), Some("Dana Ruiz"));
        assert_eq!(order.items[1].sku, None, "an empty SKU is no SKU");
        let domain = order.to_order();
        assert_eq!(domain.channel.as_str(), "shopify");
        assert_eq!(domain.items[0].quantity, 2);
        assert_eq!(domain.items[1].sku, "shopify-line-15001122334456");
        assert_eq!(domain.value(), Money::parse("58.00").unwrap());
        assert_eq!(domain.placed_at.to_rfc3339(), "2025-03-10T09:14:21-05:00");
        assert_eq!(domain.ship_to.region.as_deref(), Some("ID"));
    }

    #[test]
    fn a_cancelled_order_keeps_when_and_why() {
        let body = ORDER.replace(
            r#""cancelled_at":null"#,
            r#""cancelled_at":"2025-03-10T11:00:00-05:00","cancel_reason":"customer""#,
        );
        let ShopifyWebhook::Order { topic, order } =
            parse_shopify("orders/cancelled".parse().unwrap(), body.as_bytes(), &CodeMap::seeded()).unwrap()
        else {
            panic!("expected an order");
        };
        assert_eq!(topic, ShopifyTopic::OrdersCancelled);
        assert_eq!(order.cancel_reason.as_deref(), Some("customer"));
        assert!(order.cancelled_at.is_some());
    }

    #[test]
    fn a_fulfillment_gives_the_tracking_number_carrier_and_status() {
        let ShopifyWebhook::Fulfillment { fulfillment, .. } =
            parse_shopify(ShopifyTopic::FulfillmentsCreate, FULFILLMENT.as_bytes(), &CodeMap::seeded()).unwrap()
        else {
            panic!("expected a fulfillment");
        };
        assert_eq!(fulfillment.tracking_numbers, vec!["1ZA4R7090398765432".to_string()]);
        assert_eq!(fulfillment.carrier.as_deref(), Some("ups"));
        assert_eq!(fulfillment.milestone, Some(Milestone::InTransit));
        assert_eq!(fulfillment.items, vec![(Some("MUG-STN-12OZ".to_string()), 2)]);
        assert_eq!(fulfillment.order_id.as_deref(), Some("6102938475610"));
    }

    #[test]
    fn a_fulfillment_without_company_detects_the_carrier_from_the_number() {
        let body = FULFILLMENT
            .replace(r#""tracking_company":"UPS","#, "")
            .replace(r#""shipment_status":"in_transit","#, "")
            .replace("1ZA4R7090398765432", "9400150106151234567890");
        let ShopifyWebhook::Fulfillment { fulfillment, .. } =
            parse_shopify(ShopifyTopic::FulfillmentsUpdate, body.as_bytes(), &CodeMap::seeded()).unwrap()
        else {
            panic!("expected a fulfillment");
        };
        assert_eq!(fulfillment.carrier.as_deref(), Some("usps"));
        assert_eq!(fulfillment.mapping, CodeLookup::Unmapped);
        assert_eq!(carrier_from_company("DHL Express"), "dhl");
        assert_eq!(carrier_from_company("FedEx"), "fedex");
        assert_eq!(carrier_from_company("Lakeside Couriers"), "lakeside couriers");
    }

    #[test]
    fn bad_prices_quantities_and_topics_are_refused_with_their_path() {
        let codes = CodeMap::seeded();
        let body = ORDER.replace(r#""price":"29.00""#, r#""price":29.0"#);
        assert_eq!(
            parse_shopify(ShopifyTopic::OrdersCreate, body.as_bytes(), &codes).unwrap_err().to_string(),
            "line_items[0].price: expected a string"
        );
        let body = ORDER.replace(r#""quantity":2"#, r#""quantity":-2"#);
        assert_eq!(
            parse_shopify(ShopifyTopic::OrdersCreate, body.as_bytes(), &codes).unwrap_err().to_string(),
            "line_items[0].quantity: expected a non-negative whole number"
        );
        let body = ORDER.replace(r#""quantity":2"#, r#""quantity":99999999999"#);
        assert!(parse_shopify(ShopifyTopic::OrdersCreate, body.as_bytes(), &codes).is_err());
        assert!("products/create".parse::<ShopifyTopic>().is_err());
        assert!(parse_shopify(ShopifyTopic::OrdersCreate, &ORDER.as_bytes()[..100], &codes).is_err());
    }
}

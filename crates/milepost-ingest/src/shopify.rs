//! Shopify order and fulfillment webhooks, the most common way orders reach Milepost. Orders are
//! the channel's side of the story (`placed`, `cancelled`, what was bought and where it goes);
//! fulfillments are the hand-off point where a tracking number and carrier first appear. This
//! module reads the REST payloads (`orders/create`, `orders/updated`, `orders/cancelled`,
//! `fulfillments/create`, `fulfillments/update`) into plain structs with domain types, so the app
//! crate can create or update the order and register the shipment without touching JSON.
//!
//! Order numbers: Shopify's `name` (`#1042`) is what the customer sees; the domain forbids `#` in
//! an order number, so the leading `#` is dropped (`1042`), falling back to `order_number`.
//! People: the customer is the buyer (`customer`, then `billing_address`), never the name on the
//! parcel; the ship-to name is the recipient of the ship-to address (`recipient`). Money: what
//! the order is worth is what was charged, `current_total_price` after edits and refunds, else
//! `total_price` (discounts, shipping and tax included; `charged`). Lines: the quantity still
//! owed is `current_quantity` after edits and refunds; a line refunded to nothing is no line to
//! ship. Carriers: `tracking_company` is mapped to Milepost's carrier keys (`UPS` → `ups`,
//! `DHL Express` → `dhl`); without it the host of `tracking_url` names the carrier, and failing
//! that the tracking number's shape. Fulfillments: only a `success` fulfillment says the store
//! handed the parcel over (`FulfillmentStatus`); `cancelled`, `error` and `failure` take back
//! what an earlier status of the same fulfillment said.

use crate::adapters::{AdapterError, Node, parse_json};
use crate::detect::{carrier_from_tracking_url, detect_carrier};
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
    /// What the order cost when placed: lines after discounts, plus shipping and tax.
    pub total_price: Option<Money>,
    /// `total_price` after order edits and refunds.
    pub current_total_price: Option<Money>,
    pub subtotal_price: Option<Money>,
    pub total_tax: Option<Money>,
    pub financial_status: Option<String>,
    pub fulfillment_status: Option<String>,
    /// The buyer: `customer`, then `billing_address`, then the order's own `email`/`phone`.
    pub customer: Customer,
    pub ship_to: Option<Address>,
    /// The name on the ship-to address: who receives the parcel, not who bought it.
    pub recipient: Option<String>,
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
    /// The quantity first ordered.
    pub quantity: u32,
    /// What is left of it after order edits and refunds (`current_quantity`), when sent.
    pub current_quantity: Option<u32>,
    pub price: Money,
    pub requires_shipping: bool,
    pub fulfillable_quantity: Option<u32>,
    pub fulfillment_status: Option<String>,
}

/// A fulfillment's `status`, Shopify's word for how far the store's hand-off got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FulfillmentStatus {
    /// Created, waiting for the fulfillment service.
    Pending,
    /// Acknowledged by the fulfillment service and being prepared.
    Open,
    /// Fulfilled: the store says the parcel is with the carrier.
    Success,
    /// Cancelled by the store.
    Cancelled,
    /// The fulfillment request could not be processed.
    Error,
    /// The fulfillment request failed.
    Failure,
}

impl FulfillmentStatus {
    pub const ALL: [FulfillmentStatus; 6] = [
        FulfillmentStatus::Pending,
        FulfillmentStatus::Open,
        FulfillmentStatus::Success,
        FulfillmentStatus::Cancelled,
        FulfillmentStatus::Error,
        FulfillmentStatus::Failure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FulfillmentStatus::Pending => "pending",
            FulfillmentStatus::Open => "open",
            FulfillmentStatus::Success => "success",
            FulfillmentStatus::Cancelled => "cancelled",
            FulfillmentStatus::Error => "error",
            FulfillmentStatus::Failure => "failure",
        }
    }

    /// Only a fulfilled fulfillment claims the carrier has the parcel (`handed_to_carrier`).
    pub fn claims_carrier_possession(self) -> bool {
        self == FulfillmentStatus::Success
    }

    /// The fulfillment will not ship: whatever an earlier status of it claimed is taken back.
    pub fn withdraws(self) -> bool {
        matches!(self, FulfillmentStatus::Cancelled | FulfillmentStatus::Error | FulfillmentStatus::Failure)
    }
}

/// A fulfillment: where a parcel gets its tracking number and carrier.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopifyFulfillment {
    pub id: String,
    pub order_id: Option<String>,
    /// `None` when the payload leaves it out; only `Success` claims carrier possession.
    pub status: Option<FulfillmentStatus>,
    pub created_at: Option<DateTime<FixedOffset>>,
    /// When the status last changed (Shopify moves `updated_at` with it).
    pub updated_at: Option<DateTime<FixedOffset>>,
    /// As Shopify gave it (`UPS`, `DHL Express`, a custom name).
    pub tracking_company: Option<String>,
    /// Milepost's carrier key: mapped from `tracking_company`, else from the host of a
    /// `tracking_url`, else detected from the number.
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

impl ShopifyLineItem {
    /// The quantity still owed: `current_quantity` when Shopify sent it, else `quantity`.
    pub fn quantity_owed(&self) -> u32 {
        self.current_quantity.unwrap_or(self.quantity)
    }
}

impl ShopifyOrder {
    /// What the buyer was charged: `current_total_price` (after edits and refunds), else
    /// `total_price`, both with discounts, shipping and tax.
    pub fn charged(&self) -> Option<Money> {
        self.current_total_price.or(self.total_price)
    }

    /// The domain order. Lines without a SKU (custom items) get `shopify-line-<id>` so they can
    /// still be counted and shipped; quantities are what is still owed, and a line edited or
    /// refunded down to nothing is left out, since nothing of it is to ship.
    /// The order is worth what was charged (`charged`), not the sum of its lines.
    pub fn to_order(&self) -> Order {
        Order {
            charged: self.charged(),
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
                .filter(|i| i.quantity_owed() > 0)
                .map(|i| LineItem {
                    sku: i.sku.clone().unwrap_or_else(|| format!("shopify-line-{}", i.id)),
                    description: i.title.clone(),
                    quantity: i.quantity_owed(),
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
    let billing = root.get("billing_address")?;
    let shipping = root.get("shipping_address")?;
    let person_name = |node: &Node<'_>| -> Result<Option<String>, AdapterError> {
        let first = node.opt_str("first_name")?.map(str::trim);
        let last = node.opt_str("last_name")?.map(str::trim);
        let full = [first, last].into_iter().flatten().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ");
        Ok((!full.is_empty()).then_some(full))
    };
    // The buyer: the customer record first, then the billing address, then the order itself.
    let mut customer = Customer { name: None, email: None, phone: None, postal_code: None };
    if let Some(c) = &customer_node {
        customer.name = person_name(c)?;
        customer.email = c.opt_string("email")?;
        customer.phone = c.opt_string("phone")?;
    }
    if let Some(b) = &billing {
        if customer.name.is_none() {
            customer.name = b.opt_string("name")?.or(person_name(b)?);
        }
        if customer.phone.is_none() {
            customer.phone = b.opt_string("phone")?;
        }
        customer.postal_code = b.opt_string("zip")?;
    }
    customer.email = match root.opt_string("email")? {
        Some(e) => Some(e),
        None => match customer.email {
            Some(e) => Some(e),
            None => root.opt_string("contact_email")?,
        },
    };
    if customer.phone.is_none() {
        customer.phone = root.opt_string("phone")?;
    }
    let recipient = match &shipping {
        Some(a) => a.opt_string("name")?.or(person_name(a)?),
        None => None,
    };
    let ship_to = match &shipping {
        Some(a) => {
            // The postal code a customer looks the order up by is the one the parcel goes to
            // when no billing address says otherwise.
            if customer.postal_code.is_none() {
                customer.postal_code = a.opt_string("zip")?;
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

    let mut items = Vec::new();
    for line in root.arr("line_items")? {
        items.push(ShopifyLineItem {
            id: req_id(&line, "id")?,
            sku: line.opt_string("sku")?,
            title: line.opt_string("title")?,
            variant_title: line.opt_string("variant_title")?,
            quantity: count(&line, "quantity")?
                .ok_or_else(|| AdapterError::Missing { path: child(&line, "quantity") })?,
            current_quantity: count(&line, "current_quantity")?,
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
        current_total_price: money(root, "current_total_price")?,
        subtotal_price: money(root, "subtotal_price")?,
        total_tax: money(root, "total_tax")?,
        financial_status: root.opt_string("financial_status")?,
        fulfillment_status: root.opt_string("fulfillment_status")?,
        customer,
        ship_to,
        recipient,
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
    let tracking_company = node.opt_string("tracking_company")?.filter(|c| !c.trim().is_empty());
    let carrier = tracking_company
        .as_deref()
        .map(carrier_from_company)
        .or_else(|| tracking_urls.iter().find_map(|u| carrier_from_tracking_url(u)).map(str::to_string))
        .or_else(|| tracking_numbers.first().and_then(|t| detect_carrier(t)).map(str::to_string));
    let status = match node.get("status")? {
        None => None,
        Some(n) => {
            let raw = n.as_str()?.trim();
            let found = FulfillmentStatus::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(raw));
            Some(found.ok_or_else(|| n.invalid("one of pending, open, success, cancelled, error, failure"))?)
        }
    };
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
        status,
        created_at: time(node, "created_at")?,
        updated_at: time(node, "updated_at")?,
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
        // Without a `customer` or `billing_address` the buyer's name is unknown: the ship-to name
        // is the recipient's, who may not be the buyer (a gift).
        assert_eq!(order.customer.name, None);
        assert_eq!(order.recipient.as_deref(), Some("Dana Ruiz"));
        assert_eq!(order.customer.email.as_deref(), Some("dana.ruiz@example.net"));
        assert_eq!(order.customer.postal_code.as_deref(), Some("83702"));
        assert_eq!(order.charged(), Some(Money::parse("70.79").unwrap()));
        assert_eq!(order.items[1].sku, None, "an empty SKU is no SKU");
        let domain = order.to_order();
        assert_eq!(domain.channel.as_str(), "shopify");
        assert_eq!(domain.items[0].quantity, 2);
        assert_eq!(domain.items[1].sku, "shopify-line-15001122334456");
        // Worth what was charged (shipping and tax included), not the 58.00 of its lines.
        assert_eq!(domain.value(), Money::parse("70.79").unwrap());
        assert_eq!(domain.placed_at.to_rfc3339(), "2025-03-10T09:14:21-05:00");
        assert_eq!(domain.ship_to.region.as_deref(), Some("ID"));
    }

    /// A gift order edited after it was placed: a 10% discount code, shipping, one mug of two
    /// refunded, and the tea towel refunded whole. Modeled on the fields of Shopify's
    /// `orders/updated` payload, values made up.
    const EDITED_GIFT_ORDER: &str = r##"{"id":7301122334455,"name":"#2077","order_number":2077,
 "email":"mara.lind@example.org","created_at":"2025-05-02T10:00:00+02:00","updated_at":"2025-05-03T08:30:00+02:00",
 "currency":"EUR","subtotal_price":"68.40","total_discounts":"7.60","total_shipping_price_set":{"shop_money":{"amount":"4.90","currency_code":"EUR"}},
 "total_tax":"0.00","total_price":"73.30","current_subtotal_price":"26.10","current_total_price":"31.00",
 "customer":{"id":900001,"email":"mara.lind@example.org","first_name":"Mara","last_name":"Lind","phone":"+4930123456"},
 "billing_address":{"first_name":"Mara","last_name":"Lind","name":"Mara Lind","address1":"Kastanienallee 12","city":"Berlin","zip":"10435","country_code":"DE"},
 "shipping_address":{"first_name":"Jonas","last_name":"Berg","name":"Jonas Berg","address1":"Hafenstraße 3","city":"Hamburg","zip":"20459","country_code":"DE","phone":"+4940987654"},
 "line_items":[
   {"id":31,"sku":"MUG-STN-12OZ","title":"Stoneware Mug","quantity":2,"current_quantity":1,"fulfillable_quantity":1,"price":"29.00","requires_shipping":true,
    "discount_allocations":[{"amount":"5.80","discount_application_index":0}]},
   {"id":32,"sku":"TOWEL-LIN","title":"Linen Tea Towel","quantity":1,"current_quantity":0,"fulfillable_quantity":0,"price":"19.00","requires_shipping":true,
    "discount_allocations":[{"amount":"1.90","discount_application_index":0}]}],
 "shipping_lines":[{"code":"DHL Paket","title":"DHL Paket","price":"4.90"}],
 "fulfillments":[]}"##;

    #[test]
    fn an_edited_order_is_worth_what_was_charged_and_owes_its_current_quantities() {
        let ShopifyWebhook::Order { order, .. } =
            parse_shopify(ShopifyTopic::OrdersUpdated, EDITED_GIFT_ORDER.as_bytes(), &CodeMap::seeded()).unwrap()
        else {
            panic!("expected an order");
        };
        assert_eq!(order.total_price, Some(Money::parse("73.30").unwrap()));
        assert_eq!(order.charged(), Some(Money::parse("31.00").unwrap()), "after the refunds");
        assert_eq!(order.items[0].quantity, 2);
        assert_eq!(order.items[0].quantity_owed(), 1);
        assert_eq!(order.items[1].quantity_owed(), 0);
        let domain = order.to_order();
        assert_eq!(domain.items.len(), 1, "a line refunded to nothing is not a line to ship");
        assert_eq!((domain.items[0].sku.as_str(), domain.items[0].quantity), ("MUG-STN-12OZ", 1));
        assert_eq!(domain.value(), Money::parse("31.00").unwrap(), "the order is worth what was charged");

        let without_current = EDITED_GIFT_ORDER.replace(r#""current_total_price":"31.00","#, "");
        let ShopifyWebhook::Order { order, .. } =
            parse_shopify(ShopifyTopic::OrdersCreate, without_current.as_bytes(), &CodeMap::seeded()).unwrap()
        else {
            panic!("expected an order");
        };
        assert_eq!(order.charged(), Some(Money::parse("73.30").unwrap()), "total_price when nothing changed");
    }

    #[test]
    fn the_customer_is_the_buyer_and_the_ship_to_name_is_the_recipient() {
        let codes = CodeMap::seeded();
        let ShopifyWebhook::Order { order, .. } =
            parse_shopify(ShopifyTopic::OrdersCreate, EDITED_GIFT_ORDER.as_bytes(), &codes).unwrap()
        else {
            panic!("expected an order");
        };
        assert_eq!(order.customer.name.as_deref(), Some("Mara Lind"));
        assert_eq!(order.customer.phone.as_deref(), Some("+4930123456"), "not the recipient's phone");
        assert_eq!(order.customer.postal_code.as_deref(), Some("10435"), "the buyer's, from billing");
        assert_eq!(order.recipient.as_deref(), Some("Jonas Berg"));
        let domain = order.to_order();
        assert_eq!(domain.customer.name.as_deref(), Some("Mara Lind"));
        assert_eq!(domain.ship_to.city.as_deref(), Some("Hamburg"));
        assert_eq!(domain.ship_to.postal_code.as_deref(), Some("20459"));

        // A guest checkout without a customer record: the billing address names the buyer.
        let guest = EDITED_GIFT_ORDER.replace(
            r#""customer":{"id":900001,"email":"mara.lind@example.org","first_name":"Mara","last_name":"Lind","phone":"+4930123456"},"#,
            "",
        );
        let ShopifyWebhook::Order { order, .. } =
            parse_shopify(ShopifyTopic::OrdersCreate, guest.as_bytes(), &codes).unwrap()
        else {
            panic!("expected an order");
        };
        assert_eq!(order.customer.name.as_deref(), Some("Mara Lind"));
        assert_eq!(order.customer.email.as_deref(), Some("mara.lind@example.org"));
        assert_eq!(order.customer.phone, None, "the recipient's phone is not the buyer's");
    }

    #[test]
    fn a_bad_current_quantity_or_total_is_refused_with_its_path() {
        let codes = CodeMap::seeded();
        let body = EDITED_GIFT_ORDER.replace(r#""current_quantity":1"#, r#""current_quantity":"one""#);
        assert_eq!(
            parse_shopify(ShopifyTopic::OrdersUpdated, body.as_bytes(), &codes).unwrap_err().to_string(),
            "line_items[0].current_quantity: expected a non-negative whole number"
        );
        let body = EDITED_GIFT_ORDER.replace(r#""current_total_price":"31.00""#, r#""current_total_price":31"#);
        assert_eq!(
            parse_shopify(ShopifyTopic::OrdersUpdated, body.as_bytes(), &codes).unwrap_err().to_string(),
            "current_total_price: expected a string"
        );
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
        assert_eq!(fulfillment.status, Some(FulfillmentStatus::Success));
        assert!(fulfillment.status.unwrap().claims_carrier_possession());
    }

    #[test]
    fn only_a_successful_fulfillment_claims_carrier_possession() {
        let table = [
            ("pending", false, false),
            ("open", false, false),
            ("success", true, false),
            ("cancelled", false, true),
            ("error", false, true),
            ("failure", false, true),
        ];
        for (word, claims, withdraws) in table {
            let body = FULFILLMENT.replace(r#""status":"success""#, &format!(r#""status":"{word}""#));
            let ShopifyWebhook::Fulfillment { fulfillment, .. } =
                parse_shopify(ShopifyTopic::FulfillmentsUpdate, body.as_bytes(), &CodeMap::seeded()).unwrap()
            else {
                panic!("expected a fulfillment");
            };
            let status = fulfillment.status.unwrap();
            assert_eq!(status.as_str(), word);
            assert_eq!(status.claims_carrier_possession(), claims, "{word}");
            assert_eq!(status.withdraws(), withdraws, "{word}");
        }
        let unknown = FULFILLMENT.replace(r#""status":"success""#, r#""status":"shipped""#);
        assert_eq!(
            parse_shopify(ShopifyTopic::FulfillmentsUpdate, unknown.as_bytes(), &CodeMap::seeded())
                .unwrap_err()
                .to_string(),
            "status: expected one of pending, open, success, cancelled, error, failure"
        );
    }

    #[test]
    fn without_a_company_the_tracking_url_names_the_carrier_before_the_number_does() {
        // A FedEx URL on a number whose shape alone would read as USPS: the URL wins.
        let body = FULFILLMENT
            .replace(r#""tracking_company":"UPS","#, r#""tracking_company":"","#)
            .replace("1ZA4R7090398765432", "9400150106151234567890")
            .replace("https://www.ups.com/track?tracknum=", "https://www.fedex.com/fedextrack/?trknbr=");
        let ShopifyWebhook::Fulfillment { fulfillment, .. } =
            parse_shopify(ShopifyTopic::FulfillmentsCreate, body.as_bytes(), &CodeMap::seeded()).unwrap()
        else {
            panic!("expected a fulfillment");
        };
        assert_eq!(fulfillment.tracking_company, None, "an empty company is no company");
        assert_eq!(fulfillment.carrier.as_deref(), Some("fedex"));

        // A single `tracking_url` on a store's own page says nothing: the number decides.
        let body = FULFILLMENT
            .replace(r#""tracking_company":"UPS","#, "")
            .replace(r#""tracking_urls":["https://www.ups.com/track?tracknum=1ZA4R7090398765432"],"#, "")
            .replace(r#""tracking_number":"#, r#""tracking_url":"https://shop.example/pages/track","tracking_number":"#)
            .replace("1ZA4R7090398765432", "1Z999AA10123456784");
        let ShopifyWebhook::Fulfillment { fulfillment, .. } =
            parse_shopify(ShopifyTopic::FulfillmentsCreate, body.as_bytes(), &CodeMap::seeded()).unwrap()
        else {
            panic!("expected a fulfillment");
        };
        assert_eq!(fulfillment.tracking_urls, vec!["https://shop.example/pages/track".to_string()]);
        assert_eq!(fulfillment.carrier.as_deref(), Some("ups"), "from the 1Z number");
    }

    #[test]
    fn a_fulfillment_without_company_detects_the_carrier_from_the_number() {
        // Without a tracking URL either: a URL's host would name the carrier before the number.
        let body = FULFILLMENT
            .replace(r#""tracking_company":"UPS","#, "")
            .replace(r#""tracking_urls":["https://www.ups.com/track?tracknum=1ZA4R7090398765432"],"#, "")
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

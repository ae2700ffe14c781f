//! Orders as a sales channel sends them: a number unique within the account, the customer, where
//! it ships, when it was placed and promised, and its line items. Values are parsed once at the
//! edge into these types; nothing downstream revalidates them.

use crate::money::Money;
use crate::text::{TextError, parse_identifier};
use chrono::{DateTime, FixedOffset};
use std::fmt;

/// The merchant's order number, unique per account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderNumber(String);

impl OrderNumber {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let value = parse_identifier(raw, 64)?;
        if value.contains('/') || value.contains('?') || value.contains('#') {
            return Err(TextError::Invalid("must not contain '/', '?' or '#'".into()));
        }
        Ok(OrderNumber(value))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the order came from (`api`, `shopify`, `amazon`, `csv`, `b2b`, …): a short lowercase
/// word, open-ended because merchants sell in more places than any list knows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Channel(String);

impl Channel {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let value = parse_identifier(raw, 32)?;
        if !value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
            return Err(TextError::Invalid("must be a lowercase word such as api, shopify or amazon".into()));
        }
        Ok(Channel(value))
    }
    pub fn api() -> Self {
        Channel("api".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO 4217 currency code.
pub fn parse_currency(raw: &str) -> Result<String, TextError> {
    let value = raw.trim();
    if value.len() == 3 && value.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(value.to_string())
    } else {
        Err(TextError::Invalid("must be a three-letter ISO 4217 code such as USD".into()))
    }
}

/// Checks an e-mail address enough to catch typos and junk: one `@`, a dot in the domain.
pub fn parse_email(raw: &str) -> Result<String, TextError> {
    let value = parse_identifier(raw, 254)?;
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    });
    if valid && !value.contains(char::is_whitespace) {
        Ok(value.to_lowercase())
    } else {
        Err(TextError::Invalid("must be an e-mail address".into()))
    }
}

/// A two-letter ISO 3166 country code.
pub fn parse_country(raw: &str) -> Result<String, TextError> {
    let value = raw.trim().to_ascii_uppercase();
    if value.len() == 2 && value.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(value)
    } else {
        Err(TextError::Invalid("must be a two-letter ISO 3166 country code such as US".into()))
    }
}

/// Normalizes a postal code for comparison: upper case, no spaces or dashes.
pub fn normalize_postal_code(raw: &str) -> String {
    raw.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase()
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Customer {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub postal_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// One ordered product line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    pub sku: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub unit_price: Money,
}

/// An order as Milepost keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub order_number: OrderNumber,
    pub channel: Channel,
    pub placed_at: DateTime<FixedOffset>,
    pub promised_by: Option<DateTime<FixedOffset>>,
    pub currency: String,
    pub customer: Customer,
    pub ship_to: Address,
    pub items: Vec<LineItem>,
    /// What the customer was charged, discounts, shipping and tax included, when the channel
    /// says (Shopify's `current_total_price`); `None` when only the lines are known.
    pub charged: Option<Money>,
}

impl Order {
    /// The order's value: what the customer was charged when the channel says, otherwise the
    /// sum of its lines.
    pub fn value(&self) -> Money {
        self.charged.unwrap_or_else(|| {
            self.items.iter().fold(Money::ZERO, |sum, item| sum.plus(item.unit_price.times(item.quantity)))
        })
    }

    /// Quantity ordered of one SKU over all lines (a SKU may appear on several lines).
    pub fn ordered_quantity(&self, sku: &str) -> u32 {
        self.items.iter().filter(|i| i.sku == sku).map(|i| i.quantity).sum()
    }
}

/// Reads `promised_by` as either an RFC 3339 instant or a plain date, which means the end of
/// that day in the offset the order was placed in.
pub fn parse_promised_by(raw: &str, placed_at: &DateTime<FixedOffset>) -> Result<DateTime<FixedOffset>, TextError> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(raw.trim()) {
        return Ok(instant);
    }
    let date = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| TextError::Invalid("must be an RFC 3339 time with offset or a date YYYY-MM-DD".into()))?;
    let end_of_day = date.and_hms_opt(23, 59, 59).expect("23:59:59 is a valid time");
    end_of_day
        .and_local_timezone(*placed_at.offset())
        .single()
        .ok_or_else(|| TextError::Invalid("is not a valid local time".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_refuse_path_characters() {
        assert!(OrderNumber::parse("#1001").is_err());
        assert!(OrderNumber::parse("A/1").is_err());
        assert_eq!(OrderNumber::parse(" SO-1001 ").unwrap().as_str(), "SO-1001");
    }

    #[test]
    fn emails_countries_and_currencies_are_checked() {
        assert_eq!(parse_email("Ana@Example.COM").unwrap(), "ana@example.com");
        assert!(parse_email("not-an-email").is_err());
        assert!(parse_email("a@b").is_err());
        assert_eq!(parse_country("us").unwrap(), "US");
        assert!(parse_country("USA").is_err());
        assert!(parse_currency("usd").is_err());
        assert_eq!(parse_currency("EUR").unwrap(), "EUR");
    }

    #[test]
    fn a_promised_date_means_the_end_of_that_day_where_the_order_was_placed() {
        let placed = DateTime::parse_from_rfc3339("2026-11-01T10:00:00-05:00").unwrap();
        let promised = parse_promised_by("2026-11-05", &placed).unwrap();
        assert_eq!(promised.to_rfc3339(), "2026-11-05T23:59:59-05:00");
        assert!(parse_promised_by("next week", &placed).is_err());
    }

    #[test]
    fn the_value_is_the_exact_sum_of_lines() {
        let placed = DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z").unwrap();
        let order = Order {
            charged: None,
            order_number: OrderNumber::parse("1").unwrap(),
            channel: Channel::api(),
            placed_at: placed,
            promised_by: None,
            currency: "USD".into(),
            customer: Customer::default(),
            ship_to: Address::default(),
            items: vec![
                LineItem { sku: "A".into(), description: None, quantity: 3, unit_price: Money::parse("0.10").unwrap() },
                LineItem { sku: "A".into(), description: None, quantity: 1, unit_price: Money::parse("5").unwrap() },
            ],
        };
        assert_eq!(order.value().to_string(), "5.30");
        assert_eq!(order.ordered_quantity("A"), 4);
    }
}

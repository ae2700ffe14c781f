//! Order files: Amazon Seller Central's tab-separated order reports and Milepost's own CSV order
//! format, for merchants who export rather than integrate. Files are read line by line and every
//! line gets its own result with its line number, so one bad row is reported (and fixed) without
//! losing the rest; only a file whose header cannot be understood is refused as a whole. Columns
//! are found by header name, never by position, because Amazon's column sets vary by report,
//! marketplace and year. Error messages name the line and column but never echo a value, because
//! values are customers' personal data. Which of the two formats a file is in is read from its
//! header row (`detect_format`), since file names and media types are often wrong.
//!
//! Amazon reports are read as Amazon writes them: a cancelled line reports quantity 0, a pending
//! order has no price or currency yet, and `order-status` is the order's while `item-status` is
//! only its line's, so a line cancelled on its own does not cancel the order; it is only not a
//! line to ship.
//!
//! Milepost's CSV order format (RFC 4180: comma-separated, double-quoted fields may contain
//! commas, quotes doubled, and line breaks; UTF-8 with or without BOM), one row per order line:
//!
//! ```text
//! order_number,channel,placed_at,promised_by,currency,customer_name,customer_email,customer_phone,ship_line1,ship_line2,ship_city,ship_region,ship_postal_code,ship_country,sku,description,quantity,unit_price
//! SO-1042,b2b,2025-03-10T09:14:22-05:00,2025-03-14,USD,Dana Ruiz,dana@example.net,,415 Juniper St,,Boise,ID,83702,US,MUG-STN-12OZ,"Stoneware Mug, Slate",2,29.00
//! ```
//!
//! Required columns: `order_number`, `placed_at` (RFC 3339 with offset), `currency`, `sku`,
//! `quantity`, `unit_price`. `channel` defaults to `csv`; `promised_by` is an RFC 3339 time or a
//! date (end of that day in `placed_at`'s offset). Unknown columns are refused, so a typo in the
//! header cannot silently drop data.

use chrono::{DateTime, FixedOffset};
use milepost_domain::order::{parse_currency, parse_email, parse_promised_by};
use milepost_domain::{Address, Channel, Customer, LineItem, Money, Order, OrderNumber};
use std::collections::HashMap;

/// One order line read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub order_number: OrderNumber,
    pub channel: Channel,
    pub placed_at: DateTime<FixedOffset>,
    pub promised_by: Option<DateTime<FixedOffset>>,
    /// `None` when the report has no prices (Amazon's "Unshipped Orders" report).
    pub currency: Option<String>,
    pub customer: Customer,
    pub ship_to: Address,
    /// The line; `unit_price` is zero when the report has no prices. For Amazon it is the
    /// reported `item-price` (a line total) divided by the quantity.
    pub item: LineItem,
    /// The line total as reported, when the file reports one.
    pub line_total: Option<Money>,
    /// The marketplace's own line id (Amazon `order-item-id`).
    pub external_line_id: Option<String>,
    /// The report says this line will not ship: its `item-status` is `Cancelled`, or its
    /// order's is.
    pub cancelled: bool,
    /// The report says the whole order was cancelled (Amazon "All Orders" `order-status`).
    pub order_cancelled: bool,
}

/// The order file formats Milepost reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderFileFormat {
    /// Milepost's CSV order format (`parse_order_csv`).
    MilepostCsv,
    /// An Amazon order report, tab-separated (`parse_amazon_order_report`).
    AmazonReport,
}

/// The format of an order file by its header row: tab-separated with Amazon's order column
/// (`order-id` or `amazon-order-id`) is an Amazon report; comma-separated with `order_number` is
/// Milepost CSV. `None` when the header row is neither, so the caller can fall back on what
/// the sender declared and let that parser name what is missing.
pub fn detect_format(body: &[u8]) -> Option<OrderFileFormat> {
    let text = decode(body);
    let header = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).find(|l| !l.trim().is_empty())?;
    let names = |sep: char| -> Vec<String> {
        header.split(sep).map(|n| n.trim().trim_matches('"').trim().to_ascii_lowercase()).collect()
    };
    if header.contains('\t') && names('\t').iter().any(|n| n == "order-id" || n == "amazon-order-id") {
        return Some(OrderFileFormat::AmazonReport);
    }
    if names(',').iter().any(|n| n == "order_number") {
        return Some(OrderFileFormat::MilepostCsv);
    }
    None
}

/// The outcome for one data line; `line` is the 1-based physical line where the row starts.
#[derive(Debug, Clone, PartialEq)]
pub struct LineResult {
    pub line: usize,
    pub result: Result<OrderLine, LineError>,
}

/// Why one row was refused. Names the column, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("column `{column}`: missing")]
    Missing { column: String },
    #[error("column `{column}`: expected {expected}")]
    Invalid { column: String, expected: String },
    #[error("the row has {found} fields but the header has {expected}")]
    TooManyFields { expected: usize, found: usize },
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the header has no `{0}` column")]
    MissingColumn(String),
    #[error("the header has an unknown column `{0}`")]
    UnknownColumn(String),
    #[error("the header names `{0}` twice")]
    DuplicateColumn(String),
    #[error("line {line}: a quoted field is never closed")]
    UnterminatedQuote { line: usize },
}

/// Reads an Amazon order report ("New Orders", "Unshipped Orders" or "All Orders" flat file).
/// UTF-8, or Windows-1252 for older files.
pub fn parse_amazon_order_report(body: &[u8]) -> Result<Vec<LineResult>, FileError> {
    let text = decode(body);
    let mut rows = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header_line) = rows.next().ok_or(FileError::Empty)?;
    let header = Header::new(header_line.split('\t').map(|h| h.trim().to_string()).collect())?;
    let order_col = header.first_of(&["order-id", "amazon-order-id"]);
    if order_col.is_none() {
        return Err(FileError::MissingColumn("order-id".into()));
    }
    for required in [&["purchase-date"][..], &["sku"], &["quantity-purchased", "quantity"]] {
        if header.first_of(required).is_none() {
            return Err(FileError::MissingColumn(required[0].into()));
        }
    }
    Ok(rows
        .map(|(line, text)| {
            let fields: Vec<&str> = text.split('\t').collect();
            LineResult { line, result: header.row(&fields).and_then(|row| amazon_line(&row)) }
        })
        .collect())
}

/// Reads Milepost's CSV order format (see the module documentation).
pub fn parse_order_csv(body: &[u8]) -> Result<Vec<LineResult>, FileError> {
    const KNOWN: [&str; 18] = [
        "order_number",
        "channel",
        "placed_at",
        "promised_by",
        "currency",
        "customer_name",
        "customer_email",
        "customer_phone",
        "ship_line1",
        "ship_line2",
        "ship_city",
        "ship_region",
        "ship_postal_code",
        "ship_country",
        "sku",
        "description",
        "quantity",
        "unit_price",
    ];
    const REQUIRED: [&str; 6] = ["order_number", "placed_at", "currency", "sku", "quantity", "unit_price"];
    let text = decode(body);
    let mut records = csv_records(&text)?.into_iter().filter(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()));
    let (_, names) = records.next().ok_or(FileError::Empty)?;
    let header = Header::new(names.iter().map(|n| n.trim().to_ascii_lowercase()).collect())?;
    if let Some(unknown) = header.names.iter().find(|n| !KNOWN.contains(&n.as_str())) {
        return Err(FileError::UnknownColumn(unknown.clone()));
    }
    if let Some(missing) = REQUIRED.iter().find(|r| header.first_of(&[**r]).is_none()) {
        return Err(FileError::MissingColumn((*missing).into()));
    }
    Ok(records
        .map(|(line, fields)| {
            let borrowed: Vec<&str> = fields.iter().map(String::as_str).collect();
            LineResult { line, result: header.row(&borrowed).and_then(|row| csv_line(&row)) }
        })
        .collect())
}

/// Groups accepted lines into domain orders by order number, in first-seen order. Lines of an
/// order are taken in file order; the order-level fields come from its first line, except the
/// currency, which comes from the first line that has one (a pending line has none yet).
///
/// A line cancelled on its own (`cancelled` while the order is not) is not a line to ship and is
/// left out, and so is a line of quantity 0 (nothing of it is owed); a cancelled order keeps its
/// other lines as reported, since its cancellation already says they will not ship. An order
/// whose every line is left out is still an order, without lines.
pub fn group_orders(lines: impl IntoIterator<Item = OrderLine>) -> Vec<Order> {
    let mut orders: Vec<Order> = Vec::new();
    let mut index: HashMap<OrderNumber, usize> = HashMap::new();
    for line in lines {
        let i = match index.get(&line.order_number) {
            Some(&i) => i,
            None => {
                index.insert(line.order_number.clone(), orders.len());
                orders.push(Order {
                    charged: None,
                    order_number: line.order_number.clone(),
                    channel: line.channel.clone(),
                    placed_at: line.placed_at,
                    promised_by: line.promised_by,
                    currency: String::new(),
                    customer: line.customer.clone(),
                    ship_to: line.ship_to.clone(),
                    items: Vec::new(),
                });
                orders.len() - 1
            }
        };
        if orders[i].currency.is_empty()
            && let Some(currency) = line.currency
        {
            orders[i].currency = currency;
        }
        let cancelled_on_its_own = line.cancelled && !line.order_cancelled;
        if line.item.quantity > 0 && !cancelled_on_its_own {
            orders[i].items.push(line.item);
        }
    }
    orders
}

/// UTF-8 (a BOM is dropped), else Windows-1252, which older Amazon reports use.
fn decode(body: &[u8]) -> String {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    match std::str::from_utf8(body) {
        Ok(s) => s.to_string(),
        Err(_) => body.iter().map(|&b| windows_1252(b)).collect(),
    }
}

fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘',
        '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// RFC 4180 records with the physical line each starts on.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, FileError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start_line = 1;
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    let mut at_record_start = true;
    while let Some(c) = chars.next() {
        if at_record_start {
            start_line = line;
            at_record_start = false;
        }
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                records.push((start_line, std::mem::take(&mut fields)));
                line += 1;
                at_record_start = true;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(FileError::UnterminatedQuote { line: start_line });
    }
    if !at_record_start {
        fields.push(field);
        records.push((start_line, fields));
    }
    Ok(records)
}

struct Header {
    names: Vec<String>,
    positions: HashMap<String, usize>,
}

/// One row's fields by column name; blank fields read as absent.
struct Row<'h, 'r> {
    header: &'h Header,
    fields: &'r [&'r str],
}

impl Header {
    fn new(names: Vec<String>) -> Result<Self, FileError> {
        let mut positions = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            if positions.insert(name.clone(), i).is_some() {
                return Err(FileError::DuplicateColumn(name.clone()));
            }
        }
        if positions.is_empty() {
            return Err(FileError::Empty);
        }
        Ok(Header { names: names.into_iter().filter(|n| !n.is_empty()).collect(), positions })
    }

    fn first_of(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.positions.get(*n).copied())
    }

    /// The name this file gives a column known by several, for error messages.
    fn name_of<'n>(&self, names: &[&'n str]) -> &'n str {
        names.iter().copied().find(|n| self.positions.contains_key(*n)).unwrap_or(names[0])
    }

    /// Rows may be short (trailing empty columns are often dropped); extra fields must be empty.
    fn row<'h, 'r>(&'h self, fields: &'r [&'r str]) -> Result<Row<'h, 'r>, LineError> {
        let width = self.positions.values().max().map_or(0, |m| m + 1);
        if fields.len() > width && fields[width..].iter().any(|f| !f.trim().is_empty()) {
            return Err(LineError::TooManyFields { expected: width, found: fields.len() });
        }
        Ok(Row { header: self, fields })
    }
}

impl Row<'_, '_> {
    fn get(&self, names: &[&str]) -> Option<&str> {
        let i = self.header.first_of(names)?;
        self.fields.get(i).map(|f| f.trim()).filter(|f| !f.is_empty())
    }

    fn own(&self, names: &[&str]) -> Option<String> {
        self.get(names).map(str::to_string)
    }

    fn req(&self, names: &[&str]) -> Result<&str, LineError> {
        self.get(names).ok_or_else(|| LineError::Missing { column: names[0].into() })
    }
}

fn invalid(column: &str, expected: &str) -> LineError {
    LineError::Invalid { column: column.into(), expected: expected.into() }
}

fn quantity(row: &Row<'_, '_>, names: &[&str]) -> Result<u32, LineError> {
    let raw = row.req(names)?;
    raw.parse::<u32>()
        .ok()
        .filter(|q| *q > 0)
        .ok_or_else(|| invalid(row.header.name_of(names), "a whole number above zero"))
}

/// A cancelled line's quantity: Amazon reports what is left of it, often 0.
fn cancelled_quantity(row: &Row<'_, '_>, names: &[&str]) -> Result<u32, LineError> {
    row.req(names)?.parse::<u32>().map_err(|_| invalid(row.header.name_of(names), "a whole number"))
}

fn instant(row: &Row<'_, '_>, names: &[&str]) -> Result<DateTime<FixedOffset>, LineError> {
    DateTime::parse_from_rfc3339(row.req(names)?)
        .map_err(|_| invalid(names[0], "an ISO-8601 time with offset like 2025-03-10T14:05:11-07:00"))
}

fn amazon_line(row: &Row<'_, '_>) -> Result<OrderLine, LineError> {
    let order_names = ["order-id", "amazon-order-id"];
    let order_number = OrderNumber::parse(row.req(&order_names)?).map_err(|_| invalid("order-id", "an order id"))?;
    let placed_at = instant(row, &["purchase-date"])?;
    let promised_by = match row.get(&["promise-date", "delivery-end-date", "latest-delivery-date"]) {
        Some(raw) => Some(parse_promised_by(raw, &placed_at).map_err(|_| invalid("promise-date", "a time or a date"))?),
        None => None,
    };
    let says_cancelled = |names: &[&str]| row.get(names).is_some_and(|s| s.eq_ignore_ascii_case("cancelled"));
    let order_cancelled = says_cancelled(&["order-status"]);
    let cancelled = order_cancelled || says_cancelled(&["item-status"]);
    let quantity_names = ["quantity-purchased", "quantity"];
    let quantity = if cancelled { cancelled_quantity(row, &quantity_names)? } else { quantity(row, &quantity_names)? };
    let currency = match row.get(&["currency"]) {
        Some(c) => Some(parse_currency(c).map_err(|_| invalid("currency", "a three-letter currency code"))?),
        None => None,
    };
    let line_total = match row.get(&["item-price"]) {
        Some(p) => Some(Money::parse(p).map_err(|_| invalid("item-price", "a decimal amount"))?),
        None => None,
    };
    let unit_price = match line_total {
        Some(t) if quantity > 0 => Money::from_ten_thousandths(t.ten_thousandths() / i64::from(quantity)),
        _ => Money::ZERO,
    };
    let email = match row.get(&["buyer-email"]) {
        Some(e) => Some(parse_email(e).map_err(|_| invalid("buyer-email", "an e-mail address"))?),
        None => None,
    };
    let line2 = match (row.get(&["ship-address-2"]), row.get(&["ship-address-3"])) {
        (Some(a), Some(b)) => Some(format!("{a}, {b}")),
        (a, b) => a.or(b).map(str::to_string),
    };
    Ok(OrderLine {
        order_number,
        channel: Channel::parse("amazon").unwrap_or_else(|_| Channel::api()),
        placed_at,
        promised_by,
        currency,
        customer: Customer {
            name: row.own(&["buyer-name", "recipient-name"]),
            email,
            phone: row.own(&["buyer-phone-number", "ship-phone-number"]),
            postal_code: row.own(&["ship-postal-code"]),
        },
        ship_to: Address {
            line1: row.own(&["ship-address-1"]),
            line2,
            city: row.own(&["ship-city"]),
            region: row.own(&["ship-state"]),
            postal_code: row.own(&["ship-postal-code"]),
            country: row.own(&["ship-country"]),
        },
        item: LineItem {
            sku: row.req(&["sku"])?.to_string(),
            description: row.own(&["product-name"]),
            quantity,
            unit_price,
        },
        line_total,
        external_line_id: row.own(&["order-item-id"]),
        cancelled,
        order_cancelled,
    })
}

fn csv_line(row: &Row<'_, '_>) -> Result<OrderLine, LineError> {
    let order_number = OrderNumber::parse(row.req(&["order_number"])?)
        .map_err(|_| invalid("order_number", "an order number without '/', '?' or '#'"))?;
    let channel = match row.get(&["channel"]) {
        Some(c) => Channel::parse(c).map_err(|_| invalid("channel", "a lowercase word such as b2b"))?,
        None => Channel::parse("csv").unwrap_or_else(|_| Channel::api()),
    };
    let placed_at = instant(row, &["placed_at"])?;
    let promised_by = match row.get(&["promised_by"]) {
        Some(raw) => {
            Some(parse_promised_by(raw, &placed_at).map_err(|_| invalid("promised_by", "an RFC 3339 time or a date"))?)
        }
        None => None,
    };
    let currency =
        parse_currency(row.req(&["currency"])?).map_err(|_| invalid("currency", "a three-letter currency code"))?;
    let quantity = quantity(row, &["quantity"])?;
    let unit_price = Money::parse(row.req(&["unit_price"])?).map_err(|_| invalid("unit_price", "a decimal amount"))?;
    let email = match row.get(&["customer_email"]) {
        Some(e) => Some(parse_email(e).map_err(|_| invalid("customer_email", "an e-mail address"))?),
        None => None,
    };
    Ok(OrderLine {
        order_number,
        channel,
        placed_at,
        promised_by,
        currency: Some(currency),
        customer: Customer {
            name: row.own(&["customer_name"]),
            email,
            phone: row.own(&["customer_phone"]),
            postal_code: row.own(&["ship_postal_code"]),
        },
        ship_to: Address {
            line1: row.own(&["ship_line1"]),
            line2: row.own(&["ship_line2"]),
            city: row.own(&["ship_city"]),
            region: row.own(&["ship_region"]),
            postal_code: row.own(&["ship_postal_code"]),
            country: row.own(&["ship_country"]),
        },
        item: LineItem {
            sku: row.req(&["sku"])?.to_string(),
            description: row.own(&["description"]),
            quantity,
            unit_price,
        },
        line_total: Some(unit_price.times(quantity)),
        external_line_id: None,
        cancelled: false,
        order_cancelled: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AMAZON_NEW: &str = "order-id\torder-item-id\tpurchase-date\tpayments-date\tbuyer-email\tbuyer-name\tsku\tproduct-name\tquantity-purchased\tcurrency\titem-price\titem-tax\tshipping-price\tshipping-tax\tship-service-level\trecipient-name\tship-address-1\tship-address-2\tship-address-3\tship-city\tship-state\tship-postal-code\tship-country\tsales-channel\tdelivery-end-date\n\
113-5520147-8839021\t62019384756102\t2025-03-10T14:05:11-07:00\t2025-03-10T14:05:11-07:00\tk3h8qz1w0p@marketplace.amazon.com\tLee Park\tMUG-STN-12OZ\tStoneware Mug, Slate\t2\tUSD\t58.00\t4.79\t0.00\t0.00\tStandard\tLee Park\t88 Alder Way\t\t\tSpokane\tWA\t99201\tUS\tAmazon.com\t2025-03-14\n\
113-5520147-8839021\t62019384756103\t2025-03-10T14:05:11-07:00\t2025-03-10T14:05:11-07:00\tk3h8qz1w0p@marketplace.amazon.com\tLee Park\tCOASTER-4\tCork Coasters (4)\t1\tUSD\t12.00\n\
\n\
114-0000000-0000001\t62019384756104\t10/03/2025\t\t\t\tMUG-STN-12OZ\t\t2\tUSD\t58.00\r\n\
114-0000000-0000002\t62019384756105\t2025-03-11T08:00:00+00:00\t\t\t\tMUG-STN-12OZ\t\tzero\tUSD\t58.00\n";

    #[test]
    fn an_amazon_new_orders_report_reads_every_line_with_its_line_number() {
        let lines = parse_amazon_order_report(AMAZON_NEW.as_bytes()).unwrap();
        assert_eq!(lines.iter().map(|l| l.line).collect::<Vec<_>>(), vec![2, 3, 5, 6]);
        let first = lines[0].result.as_ref().unwrap();
        assert_eq!(first.order_number.as_str(), "113-5520147-8839021");
        assert_eq!(first.item.quantity, 2);
        assert_eq!(first.item.unit_price, Money::parse("29.00").unwrap(), "item-price is a line total");
        assert_eq!(first.line_total, Some(Money::parse("58.00").unwrap()));
        assert_eq!(first.ship_to.postal_code.as_deref(), Some("99201"));
        assert_eq!(first.promised_by.unwrap().to_rfc3339(), "2025-03-14T23:59:59-07:00");
        assert_eq!(first.channel.as_str(), "amazon");
        assert!(lines[1].result.is_ok(), "a short row with trailing columns dropped is fine");
        assert_eq!(
            lines[2].result.as_ref().unwrap_err().to_string(),
            "column `purchase-date`: expected an ISO-8601 time with offset like 2025-03-10T14:05:11-07:00"
        );
        assert_eq!(
            lines[3].result.as_ref().unwrap_err().to_string(),
            "column `quantity-purchased`: expected a whole number above zero"
        );
    }

    #[test]
    fn lines_of_one_amazon_order_group_into_one_domain_order() {
        let lines = parse_amazon_order_report(AMAZON_NEW.as_bytes()).unwrap();
        let orders = group_orders(lines.into_iter().filter_map(|l| l.result.ok()));
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].items.len(), 2);
        assert_eq!(orders[0].value(), Money::parse("70.00").unwrap());
    }

    #[test]
    fn an_all_orders_report_marks_cancelled_lines_and_older_files_in_windows_1252_are_read() {
        let mut body = b"amazon-order-id\tmerchant-order-id\tpurchase-date\torder-status\tproduct-name\tsku\tquantity\tcurrency\titem-price\n".to_vec();
        body.extend_from_slice(
            b"113-1\t\t2017-09-23T14:18:23-07:00\tCancelled\tCaf\xe9 \x93Mug\x94\tMUG\t1\tEUR\t9.50\n",
        );
        let lines = parse_amazon_order_report(&body).unwrap();
        let line = lines[0].result.as_ref().unwrap();
        assert!(line.cancelled);
        assert_eq!(line.item.description.as_deref(), Some("Café “Mug”"));
    }

    /// An "All Orders" report as Seller Central writes it: one order shipped but for a line
    /// cancelled on its own (quantity 0), one order cancelled whole (quantity 0), one pending
    /// order whose first line has no price and no currency yet. Values are made up.
    const AMAZON_ALL_ORDERS: &str = "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\titem-price\titem-tax\tshipping-price\tship-city\tship-state\tship-postal-code\tship-country\n\
205-1111111-2222222\t\t2025-06-01T10:00:00+00:00\t2025-06-02T09:00:00+00:00\tShipped\tMerchant\tAmazon.de\tStoneware Mug\tMUG-STN-12OZ\tB0MUG00001\tShipped\t2\tEUR\t58.00\t0.00\t4.90\tBerlin\t\t10435\tDE\n\
205-1111111-2222222\t\t2025-06-01T10:00:00+00:00\t2025-06-02T09:00:00+00:00\tShipped\tMerchant\tAmazon.de\tLinen Tea Towel\tTOWEL-LIN\tB0TWL00001\tCancelled\t0\t\t\t\t\tBerlin\t\t10435\tDE\n\
205-3333333-4444444\t\t2025-06-01T11:00:00+00:00\t2025-06-01T12:00:00+00:00\tCancelled\tMerchant\tAmazon.de\tStoneware Mug\tMUG-STN-12OZ\tB0MUG00001\tCancelled\t0\t\t\t\t\tHamburg\t\t20459\tDE\n\
205-5555555-6666666\t\t2025-06-03T08:00:00+00:00\t2025-06-03T08:00:00+00:00\tPending\tMerchant\tAmazon.de\tCork Coasters (4)\tCOASTER-4\tB0CST00001\tUnshipped\t1\t\t\t\t\tMunich\t\t80331\tDE\n\
205-5555555-6666666\t\t2025-06-03T08:00:00+00:00\t2025-06-03T08:00:00+00:00\tPending\tMerchant\tAmazon.de\tStoneware Mug\tMUG-STN-12OZ\tB0MUG00001\tUnshipped\t1\tEUR\t29.00\t\t\tMunich\t\t80331\tDE\n";

    #[test]
    fn an_all_orders_report_reads_cancelled_lines_of_quantity_zero_and_pending_lines_without_currency() {
        let lines = parse_amazon_order_report(AMAZON_ALL_ORDERS.as_bytes()).unwrap();
        assert!(lines.iter().all(|l| l.result.is_ok()), "{lines:?}");
        let line = |i: usize| lines[i].result.as_ref().unwrap();
        assert_eq!((line(1).item.quantity, line(1).cancelled, line(1).order_cancelled), (0, true, false));
        assert_eq!(line(1).item.unit_price, Money::ZERO);
        assert_eq!((line(2).item.quantity, line(2).cancelled, line(2).order_cancelled), (0, true, true));
        assert_eq!((line(3).currency.as_deref(), line(3).item.unit_price), (None, Money::ZERO));
        assert!(!line(3).cancelled);

        let orders = group_orders(lines.into_iter().filter_map(|l| l.result.ok()));
        assert_eq!(orders.len(), 3);
        let shipped = &orders[0];
        assert_eq!(shipped.items.len(), 1, "the line cancelled on its own is not a line to ship");
        assert_eq!(shipped.items[0].sku, "MUG-STN-12OZ");
        assert!(orders[1].items.is_empty(), "a cancelled line of quantity 0 owes nothing");
        let pending = &orders[2];
        assert_eq!(pending.currency, "EUR", "from the first line that has one");
        assert_eq!(pending.items.len(), 2);
    }

    #[test]
    fn a_line_that_is_not_cancelled_still_needs_a_quantity_above_zero() {
        let body = AMAZON_ALL_ORDERS.replace("Unshipped\t1\t\t", "Unshipped\t0\t\t");
        let lines = parse_amazon_order_report(body.as_bytes()).unwrap();
        assert_eq!(
            lines[3].result.as_ref().unwrap_err().to_string(),
            "column `quantity`: expected a whole number above zero"
        );
        let body = AMAZON_ALL_ORDERS.replace("Cancelled\t0\t", "Cancelled\tnone\t");
        let lines = parse_amazon_order_report(body.as_bytes()).unwrap();
        assert_eq!(lines[1].result.as_ref().unwrap_err().to_string(), "column `quantity`: expected a whole number");
    }

    #[test]
    fn the_format_of_an_order_file_is_read_from_its_header_row() {
        assert_eq!(detect_format(AMAZON_ALL_ORDERS.as_bytes()), Some(OrderFileFormat::AmazonReport));
        assert_eq!(detect_format(AMAZON_NEW.as_bytes()), Some(OrderFileFormat::AmazonReport));
        assert_eq!(detect_format(CSV.as_bytes()), Some(OrderFileFormat::MilepostCsv));
        assert_eq!(
            detect_format(b"\xEF\xBB\xBF\n\r\n\"order_number\",placed_at,currency,sku,quantity,unit_price\n"),
            Some(OrderFileFormat::MilepostCsv),
            "BOM, blank lines and quoted names"
        );
        // A product name with a comma on an Amazon report's data row does not make it CSV.
        assert_eq!(
            detect_format(b"order-id\tsku\tproduct-name\n1\tM\tMug, Slate\n"),
            Some(OrderFileFormat::AmazonReport)
        );
        assert_eq!(detect_format(b"id,total\n1,2\n"), None);
        assert_eq!(detect_format(b"order-id,sku\n"), None, "Amazon's names but not tab-separated");
        assert_eq!(detect_format(b""), None);
        assert_eq!(detect_format(&[0x80; 16]), None);
    }

    #[test]
    fn an_amazon_report_without_the_columns_it_needs_is_refused_whole() {
        assert_eq!(parse_amazon_order_report(b""), Err(FileError::Empty));
        assert_eq!(
            parse_amazon_order_report(b"purchase-date\tsku\tquantity\n").unwrap_err(),
            FileError::MissingColumn("order-id".into())
        );
        assert_eq!(
            parse_amazon_order_report(b"order-id\torder-id\n").unwrap_err(),
            FileError::DuplicateColumn("order-id".into())
        );
    }

    const CSV: &str = "order_number,channel,placed_at,promised_by,currency,customer_name,customer_email,ship_line1,ship_city,ship_region,ship_postal_code,ship_country,sku,description,quantity,unit_price\r\n\
SO-1042,b2b,2025-03-10T09:14:22-05:00,2025-03-14,USD,Dana Ruiz,Dana@Example.net,415 Juniper St,Boise,ID,83702,US,MUG-STN-12OZ,\"Stoneware Mug, \"\"Slate\"\"\",2,29.00\r\n\
SO-1042,b2b,2025-03-10T09:14:22-05:00,,USD,Dana Ruiz,,415 Juniper St,Boise,ID,83702,US,NOTE,\"Gift note\nwith a line break\",1,0\r\n\
SO-1043,,2025-03-11T10:00:00+01:00,,EUR,,not-an-email,,,,,,MUG,,1,9.5\r\n\
SO-1044,,2025-03-11T10:00:00+01:00,,EUR,,,,,,,,MUG,,1,nine\r\n\
SO#1045,,2025-03-11T10:00:00+01:00,,EUR,,,,,,,,MUG,,1,9.50\r\n";

    #[test]
    fn a_csv_order_file_reads_quoted_fields_and_reports_bad_rows_by_line() {
        let lines = parse_order_csv(CSV.as_bytes()).unwrap();
        assert_eq!(lines.iter().map(|l| l.line).collect::<Vec<_>>(), vec![2, 3, 5, 6, 7]);
        let first = lines[0].result.as_ref().unwrap();
        assert_eq!(first.item.description.as_deref(), Some("Stoneware Mug, \"Slate\""));
        assert_eq!(first.customer.email.as_deref(), Some("dana@example.net"));
        assert_eq!(first.channel.as_str(), "b2b");
        assert_eq!(lines[1].result.as_ref().unwrap().item.description.as_deref(), Some("Gift note\nwith a line break"));
        assert_eq!(
            lines[2].result.as_ref().unwrap_err().to_string(),
            "column `customer_email`: expected an e-mail address"
        );
        assert_eq!(lines[3].result.as_ref().unwrap_err().to_string(), "column `unit_price`: expected a decimal amount");
        assert!(lines[4].result.is_err(), "'#' is not allowed in an order number");
        let orders = group_orders(lines.into_iter().filter_map(|l| l.result.ok()));
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].items.len(), 2);
    }

    #[test]
    fn a_csv_header_with_a_typo_or_a_missing_column_or_an_open_quote_is_refused() {
        assert_eq!(
            parse_order_csv(b"order_number,placed_at,currency,sku,qty,unit_price\n").unwrap_err(),
            FileError::UnknownColumn("qty".into())
        );
        assert_eq!(
            parse_order_csv(b"order_number,placed_at,currency,sku,quantity\n").unwrap_err(),
            FileError::MissingColumn("unit_price".into())
        );
        assert_eq!(
            parse_order_csv(b"order_number,placed_at,currency,sku,quantity,unit_price\nA,\"2025").unwrap_err(),
            FileError::UnterminatedQuote { line: 2 }
        );
        let extra = parse_order_csv(
            b"order_number,placed_at,currency,sku,quantity,unit_price\nA,2025-03-11T10:00:00Z,USD,M,1,1.00,surprise\n",
        )
        .unwrap();
        assert_eq!(extra[0].result, Err(LineError::TooManyFields { expected: 6, found: 7 }));
        let bom = parse_order_csv(
            b"\xEF\xBB\xBForder_number,placed_at,currency,sku,quantity,unit_price\nA,2025-03-11T10:00:00Z,USD,M,1,1.00",
        )
        .unwrap();
        assert!(bom[0].result.is_ok(), "a BOM and a missing final newline are fine");
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let samples: [&[u8]; 6] = [b"\xff\xfe\x00", b"\"", b"\n\n\n", b",,,,\n,,,", b"\t\t\t\n\t", &[0x80; 64]];
        for s in samples {
            let _ = parse_order_csv(s);
            let _ = parse_amazon_order_report(s);
            let _ = detect_format(s);
        }
        for cut in 0..CSV.len() {
            if CSV.is_char_boundary(cut) {
                let _ = parse_order_csv(&CSV.as_bytes()[..cut]);
            }
        }
        for cut in 0..AMAZON_NEW.len() {
            let _ = parse_amazon_order_report(&AMAZON_NEW.as_bytes()[..cut]);
        }
    }
}

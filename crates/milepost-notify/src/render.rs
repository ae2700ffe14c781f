//! What a message says: the subject, plain-text and HTML bodies of an e-mail, the short SMS text
//! and the webhook's JSON body, from a claimed outbox row. Kept apart from the sending code so
//! the wording can be read and tested without a server; templates per account language come
//! with the branding work.

use milepost_app::notifications::{ClaimedNotification, Subject};
use milepost_domain::notify::Audience;

/// Percent-encodes a query value (RFC 3986 unreserved characters pass through).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The e-mail for a message; `link` opens the order on the tracking page (a signed link, so no
/// personal data travels in the URL).
pub fn email(link: &str, message: &ClaimedNotification) -> Email {
    let parcels = message.shipments.join(", ");
    match (message.audience, message.subject) {
        (Audience::Customer, Subject::Notice(notice)) => {
            let greeting = match &message.customer_name {
                Some(name) => format!("Hello {name},"),
                None => "Hello,".to_string(),
            };
            let headline = notice.headline();
            let subject = format!("{headline}: order {}", message.order_number);
            let mut text = format!("{greeting}\n\n{headline} (order {}).\n", message.order_number);
            if !parcels.is_empty() {
                text.push_str(&format!("Tracking number: {parcels}\n"));
            }
            text.push_str(&format!("\nFollow your order: {link}\n"));
            let html = format!(
                "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{}</p><h1 style=\"font-size:20px\">{}</h1>\
                 <p>Order {}{}</p><p><a href=\"{}\">Follow your order</a></p></body></html>",
                escape_html(&greeting),
                escape_html(headline),
                escape_html(&message.order_number),
                if parcels.is_empty() { String::new() } else { format!(" · tracking {}", escape_html(&parcels)) },
                escape_html(link),
            );
            Email { subject, text, html }
        }
        (_, subject) => {
            let what = match subject {
                Subject::Exception(kind) => format!("exception {kind}"),
                Subject::Notice(notice) => format!("customer notice {notice}"),
            };
            let team = message.team.as_deref().unwrap_or("operations");
            let subject_line = format!("[Milepost] {what} on order {} for {team}", message.order_number);
            let text = format!(
                "{what} opened on order {} ({}).\nParcels: {}\nCarrier: {}\nOrder class: {}\n\nAct before the customer asks.\n",
                message.order_number,
                message.account_name,
                if parcels.is_empty() { "-" } else { &parcels },
                message.carrier.as_deref().unwrap_or("-"),
                message.order_class.as_str(),
            );
            let html = format!("<!doctype html><html><body><pre>{}</pre></body></html>", escape_html(&text));
            Email { subject: subject_line, text, html }
        }
    }
}

/// The short text of a customer SMS.
pub fn sms(link: &str, message: &ClaimedNotification) -> String {
    let headline = match message.subject {
        Subject::Notice(notice) => notice.headline().to_string(),
        Subject::Exception(kind) => format!("Exception {kind}"),
    };
    format!("{headline} (order {}). {}", message.order_number, link)
}

/// The webhook body: what happened, to which order and parcels, named by the dedupe key.
pub fn webhook_body(message: &ClaimedNotification) -> serde_json::Value {
    let (event, milestone, kind) = match message.subject {
        Subject::Notice(n) if n.is_return() => ("return.released", Some(n.as_str()), None),
        Subject::Notice(n) => ("order.milestone", Some(n.as_str()), None),
        Subject::Exception(k) => ("exception.opened", None, Some(k.as_str())),
    };
    serde_json::json!({
        "id": message.dedupe_key,
        "type": event,
        "order_number": message.order_number,
        "shipments": message.shipments,
        "carrier": message.carrier,
        "milestone": milestone,
        "kind": kind,
        "team": message.team,
        "order_class": message.order_class.as_str(),
        "created_at": message.created_at.to_rfc3339(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode_query_value("ana+1@example.com"), "ana%2B1%40example.com");
        assert_eq!(encode_query_value("A-1001_x.y~"), "A-1001_x.y~");
        assert_eq!(encode_query_value("a b/é"), "a%20b%2F%C3%A9");
    }
}

//! What a message says: the subject, plain-text and HTML bodies of an e-mail, the short SMS text
//! and the webhook's JSON body, from a claimed outbox row. Kept apart from the sending code so
//! the wording can be read and tested without a server. Customer wording and branding live in
//! `milepost_app::message_templates`, shared with the preview endpoint.

use milepost_app::message_templates::{MessageFacts, customer_email, customer_sms};
use milepost_app::notifications::{ClaimedNotification, Subject};
use milepost_domain::Branding;
use milepost_domain::notify::Audience;
use milepost_domain::notify_policy::MessageLanguage;

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

/// How an account's customer messages look: its branding and language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageStyle {
    pub branding: Branding,
    pub language: MessageLanguage,
}

fn facts<'a>(link: &'a str, message: &'a ClaimedNotification) -> MessageFacts<'a> {
    MessageFacts {
        account_name: &message.account_name,
        order_number: &message.order_number,
        customer_name: message.customer_name.as_deref(),
        tracking_numbers: &message.shipments,
        link,
        detail: message.detail.as_deref(),
    }
}

/// The e-mail for a message; `link` opens the order on the tracking page (a signed link, so no
/// personal data travels in the URL). Customer notices use the account's branded template in
/// its language (`milepost_app::message_templates`); staff alerts are plain and in English.
pub fn email(link: &str, style: &MessageStyle, message: &ClaimedNotification) -> Email {
    let parcels = message.shipments.join(", ");
    match (message.audience, message.subject) {
        (Audience::Customer, Subject::Notice(notice)) => {
            let rendered = customer_email(style.language, &style.branding, notice, &facts(link, message));
            Email { subject: rendered.subject, text: rendered.text, html: rendered.html }
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

/// The short text of a customer SMS, in the account's language.
pub fn sms(link: &str, style: &MessageStyle, message: &ClaimedNotification) -> String {
    match message.subject {
        Subject::Notice(notice) => customer_sms(style.language, &style.branding, notice, &facts(link, message)),
        Subject::Exception(kind) => format!("Exception {kind} (order {}). {}", message.order_number, link),
    }
}

/// The webhook body: what happened, to which order and parcels, named by the dedupe key.
pub fn webhook_body(message: &ClaimedNotification) -> serde_json::Value {
    let (event, milestone, kind) = match message.subject {
        Subject::Notice(n) if n.is_release() => ("return.released", Some(n.as_str()), None),
        Subject::Notice(n) if n.is_return() => ("return.updated", Some(n.as_str()), None),
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

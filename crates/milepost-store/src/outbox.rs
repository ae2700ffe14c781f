//! Records of the notification outbox: what the timeline shows of each message, what a worker
//! gets when it claims one (everything it needs to render and address it, read in the claim's
//! transaction), how the worker reports the result, and an account's delivery settings. Kept
//! apart from `model` because the outbox has its own life cycle (claim, send, retry, dead).

use chrono::{DateTime, Utc};
use milepost_domain::exceptions::ExceptionKind;
use milepost_domain::notify::{Audience, Notice, NotifyChannel, OrderClass};

/// One notification as an order's timeline and the dead-letter list show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    pub id: i64,
    pub order_number: String,
    pub shipments: Vec<String>,
    pub audience: String,
    pub channel: String,
    pub milestone: Option<String>,
    pub kind: Option<String>,
    pub team: Option<String>,
    pub state: String,
    pub attempts: u32,
    pub dedupe_key: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// What a message is about: a customer notice or an exception that opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Notice(Notice),
    Exception(ExceptionKind),
}

/// A notification a worker has claimed, with what it needs to send it. `claim` names this claim:
/// the result is recorded only while it still holds, so a worker whose lease ran out cannot
/// overwrite what the next worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedNotification {
    pub id: i64,
    pub claim: String,
    /// Attempts including this one.
    pub attempts: u32,
    pub account_name: String,
    pub order_number: String,
    pub order_class: OrderClass,
    pub shipments: Vec<String>,
    pub carrier: Option<String>,
    pub audience: Audience,
    pub channel: NotifyChannel,
    pub subject: Subject,
    pub team: Option<String>,
    pub dedupe_key: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_postal_code: Option<String>,
    /// The account's delivery settings at claim time.
    pub settings: NotificationSettings,
    pub created_at: DateTime<Utc>,
    /// What the message says beyond its notice (the reason a return was rejected).
    pub detail: Option<String>,
}

/// How a delivery attempt ended, as the worker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent,
    /// Try again at `at`.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Give up: the message goes to the dead-letter list.
    Dead {
        error: String,
    },
    /// Deliberately not sent (no address, channel not configured); kept with the reason.
    Suppressed {
        reason: String,
    },
}

/// An account's delivery settings: where its systems take signed webhooks and where staff
/// alerts go. Secrets are kept here and never shown back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationSettings {
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub alert_email: Option<String>,
    /// A chat room's incoming webhook (Slack-compatible) for staff alerts; its URL is its secret.
    pub chat_webhook_url: Option<String>,
}

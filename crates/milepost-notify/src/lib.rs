//! Delivery of the notification outbox. The store decides and queues messages in the same
//! transaction as their cause; this crate takes them out again and sends them: customer and
//! staff e-mail over SMTP, SMS through an HTTP provider's form-post endpoint, and signed JSON
//! webhooks to the merchant's systems. One step (`Notifier::deliver_due`) claims what is due
//! with a lease, sends each message in queue order (so an internal alert goes before the customer
//! message queued after it) and records the result: sent, retry later with exponential backoff,
//! dead-lettered after the last attempt, or suppressed with the reason. Tests drive that step
//! directly; `milepost serve` runs it in a loop (`Notifier::run`) that stops with the server.
//!
//! Every message carries its dedupe key to the provider (`Idempotency-Key` over HTTP, the
//! mail's `Message-ID`), so a resend after a worker died between sending and recording is one
//! the provider can recognise.

mod channels;
pub mod render;

use chrono::Duration;
use milepost_app::notifications::{ClaimedNotification, DeliveryOutcome};
use milepost_app::{AppResult, Milepost};
use milepost_domain::notify::{NotifyChannel, RetryPolicy};
use render::MessageStyle;
use std::sync::Arc;
use tracing::Instrument;

pub use channels::{SendError, SmsSettings, SmtpSecurity, SmtpSettings, send_email};

/// Why the notifier could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{setting}: {message}")]
    BadSetting { setting: &'static str, message: String },
}

/// What the notifier needs beyond the application: where links point and how to reach the
/// providers. A channel without settings suppresses its messages (with that reason) instead of
/// letting them pile up.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// Base of the tracking links in messages (`MILEPOST_PUBLIC_URL`).
    pub public_url: String,
    pub smtp: Option<SmtpSettings>,
    pub sms: Option<SmsSettings>,
    pub retry: RetryPolicy,
    /// How long a claimed message is reserved for the worker that claimed it.
    pub lease: Duration,
    /// How many messages one step claims.
    pub batch: u32,
    /// How long one send may take, connecting included, before it counts as a transient failure
    /// and is retried later (`MILEPOST_SEND_TIMEOUT_MS`): a mail server or receiver that takes the
    /// connection and never answers holds the worker this long at most.
    pub send_timeout: std::time::Duration,
}

/// The send timeout when none is configured.
pub const DEFAULT_SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

impl NotifySettings {
    pub fn new(public_url: &str) -> Self {
        NotifySettings {
            public_url: public_url.trim_end_matches('/').to_string(),
            smtp: None,
            sms: None,
            retry: RetryPolicy::default(),
            lease: Duration::minutes(2),
            batch: 50,
            send_timeout: DEFAULT_SEND_TIMEOUT,
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub claimed: u32,
    pub sent: u32,
    pub retried: u32,
    pub dead: u32,
    pub suppressed: u32,
    /// Results not recorded because the claim had run out meanwhile (another worker owns it).
    pub lost_claims: u32,
    /// Claimed messages not attempted because a send might outlast the claim (slow peers took
    /// the time); they are due again when the claim runs out.
    pub deferred: u32,
}

/// The outbox worker: the application (store and clock), the channels, and its settings.
#[derive(Clone)]
pub struct Notifier {
    app: Milepost,
    settings: Arc<NotifySettings>,
    http: reqwest::Client,
}

impl Notifier {
    pub fn new(app: Milepost, settings: NotifySettings) -> Result<Self, NotifyError> {
        let http = reqwest::Client::builder()
            .timeout(settings.send_timeout)
            .build()
            .map_err(|e| NotifyError::BadSetting { setting: "http client", message: e.to_string() })?;
        Ok(Notifier { app, settings: Arc::new(settings), http })
    }

    /// One step: claims the messages due now (by the application's clock), sends them in queue
    /// order and records each result. Call again while it reports a full batch.
    pub async fn deliver_due(&self) -> AppResult<DeliveryReport> {
        let claimed = self.app.claim_notifications(self.settings.lease, self.settings.batch).await?;
        let mut report = DeliveryReport { claimed: claimed.len() as u32, ..DeliveryReport::default() };
        // The claim holds for `lease` by the application's clock; sends are timed by the real one.
        // A send that could not finish before the claim runs out is not started: its result could
        // not be recorded, so the message would go out again. It is due again when the lease ends.
        let claimed_at = std::time::Instant::now();
        let lease = self.settings.lease.to_std().unwrap_or_default();
        for message in claimed {
            if claimed_at.elapsed() + self.settings.send_timeout > lease {
                report.deferred += 1;
                continue;
            }
            let outcome = self.attempt(&message).await;
            match &outcome {
                DeliveryOutcome::Sent => report.sent += 1,
                DeliveryOutcome::Retry { .. } => report.retried += 1,
                DeliveryOutcome::Dead { .. } => report.dead += 1,
                DeliveryOutcome::Suppressed { .. } => report.suppressed += 1,
            }
            if !self.app.finish_notification(&message, outcome).await? {
                report.lost_claims += 1;
                tracing::warn!(id = message.id, "a notification's claim ran out before its result was recorded");
            }
        }
        Ok(report)
    }

    /// The link a message carries and how it looks. The link is signed and expiring and opens
    /// the order without the lookup form (so no e-mail address or postal code travels in a URL),
    /// or is the bare form when the order cannot be named; the style is the account's branding
    /// and language, or the plain English default when they cannot be read.
    async fn link_and_style(&self, message: &ClaimedNotification) -> (String, MessageStyle) {
        let account = match milepost_domain::AccountName::parse(&message.account_name) {
            Ok(name) => self.app.store().account_by_name(&name).await.ok().flatten(),
            Err(_) => None,
        };
        let style = match account {
            Some(account) => match self.app.message_style(account).await {
                Ok((branding, language)) => MessageStyle { branding, language },
                Err(error) => {
                    tracing::warn!(%error, "the account's branding could not be read; sending the plain style");
                    MessageStyle::default()
                }
            },
            None => MessageStyle::default(),
        };
        let link = match (account, milepost_domain::OrderNumber::parse(&message.order_number)) {
            (Some(account), Ok(order)) => self.app.tracking_link(account, &order),
            _ => format!("{}/track", self.settings.public_url),
        };
        (link, style)
    }

    /// Sends one message and decides what its result means for the outbox.
    async fn attempt(&self, message: &ClaimedNotification) -> DeliveryOutcome {
        let span = tracing::info_span!(
            "notify",
            id = message.id,
            channel = message.channel.as_str(),
            audience = message.audience.as_str(),
            attempt = message.attempts
        );
        let (link, style) = self.link_and_style(message).await;
        let send = async {
            match message.channel {
                NotifyChannel::Email => channels::send_email(&self.settings, message, &link, &style).await,
                NotifyChannel::Sms => channels::send_sms(&self.http, &self.settings, message, &link, &style).await,
                NotifyChannel::Webhook => channels::send_webhook(&self.http, message, self.app.clock().now()).await,
                NotifyChannel::Chat => channels::send_chat(&self.http, message, &link).await,
            }
        };
        // The channels bound their own I/O too; this bounds the whole send, whatever step hangs.
        let timeout = self.settings.send_timeout;
        let sent = match tokio::time::timeout(timeout, send.instrument(span.clone())).await {
            Ok(sent) => sent,
            Err(_) => Err(SendError::Transient(format!("no answer within {} ms", timeout.as_millis()))),
        };
        let _entered = span.enter();
        match sent {
            Ok(()) => {
                tracing::info!("notification sent");
                DeliveryOutcome::Sent
            }
            Err(SendError::NotConfigured(reason)) => DeliveryOutcome::Suppressed { reason },
            Err(SendError::Permanent(error)) => {
                tracing::warn!(%error, "notification refused for good");
                DeliveryOutcome::Dead { error }
            }
            Err(SendError::Transient(error)) => match self.settings.retry.after_failure(message.attempts) {
                Some(wait) => {
                    tracing::info!(%error, wait_s = wait.num_seconds(), "notification will be retried");
                    DeliveryOutcome::Retry { at: self.app.clock().now() + wait, error }
                }
                None => {
                    tracing::warn!(%error, "notification dead-lettered after its last attempt");
                    DeliveryOutcome::Dead { error }
                }
            },
        }
    }

    /// Runs `deliver_due` every `every` (and at once again after a full batch) until `stop`
    /// turns true; the step in flight finishes first, so nothing is left half recorded.
    pub async fn run(self, every: std::time::Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = tick.tick() => loop {
                    match self.deliver_due().await {
                        Ok(report) if report.claimed >= self.settings.batch && !*stop.borrow() => continue,
                        Ok(_) => break,
                        Err(error) => {
                            tracing::warn!(%error, "notification delivery step failed");
                            break;
                        }
                    }
                },
            }
        }
    }
}

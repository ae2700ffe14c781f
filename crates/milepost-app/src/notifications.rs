//! Notification use cases: what an order's timeline and the dead-letter list show, resending a
//! dead letter, an account's delivery settings, and the two steps the delivery worker takes
//! against the outbox (claim what is due, record how each attempt ended), all on the injected
//! clock so tests can move time and drive the worker one step at a time.

use crate::message_templates::{MessageFacts, RenderedEmail, customer_email, customer_sms};
use crate::{AppError, AppResult, Milepost};
use milepost_domain::OrderNumber;
use milepost_domain::notify::{Notice, NotificationPolicy, NotifyChannel};
use milepost_domain::notify_policy::{MessageLanguage, parse_policy, policy_document};
use milepost_domain::{Branding, Direction};
pub use milepost_ingest::signature::sign_milepost;
use milepost_store::AccountId;
use milepost_store::Principal;
pub use milepost_store::{ClaimedNotification, DeliveryOutcome, NotificationRecord, NotificationSettings, Subject};

/// Delivery settings as a caller submits them, checked before they are stored.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub alert_email: Option<String>,
    pub chat_webhook_url: Option<String>,
}

/// A customer message as it would be sent now: the address it would go to (absent when the
/// order has none, so it would be suppressed), the e-mail for the e-mail channel, and the text
/// (the e-mail's plain text, or the SMS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationPreview {
    pub language: MessageLanguage,
    pub to: Option<String>,
    pub email: Option<RenderedEmail>,
    pub text: String,
}

fn invalid(field: &str, message: &str) -> AppError {
    AppError::Invalid { field: field.into(), message: message.into() }
}

impl SettingsChange {
    /// Parses the change: a webhook URL must be http(s) and comes with a secret of at least 16
    /// characters (it signs every delivery); an alert address must look like one.
    pub fn parse(self) -> AppResult<NotificationSettings> {
        let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let (url, secret, email) = (clean(self.webhook_url), clean(self.webhook_secret), clean(self.alert_email));
        let chat = clean(self.chat_webhook_url);
        if let Some(chat) = &chat
            && (!(chat.starts_with("https://") || chat.starts_with("http://"))
                || chat.len() > 2000
                || chat.contains(char::is_whitespace))
        {
            return Err(invalid("chat_webhook_url", "must be an http:// or https:// URL"));
        }
        if let Some(url) = &url {
            let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
            if !scheme_ok || url.len() > 2000 || url.contains(char::is_whitespace) {
                return Err(invalid("webhook_url", "must be an http:// or https:// URL"));
            }
            match &secret {
                None => return Err(invalid("webhook_secret", "is required with webhook_url")),
                Some(s) if s.len() < 16 => return Err(invalid("webhook_secret", "must be at least 16 characters")),
                Some(_) => {}
            }
        }
        if let Some(email) = &email {
            let ok = email.len() <= 320
                && email.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
                && !email.contains(char::is_whitespace);
            if !ok {
                return Err(invalid("alert_email", "must be an e-mail address"));
            }
        }
        Ok(NotificationSettings {
            webhook_url: url,
            webhook_secret: secret,
            alert_email: email,
            chat_webhook_url: chat,
        })
    }
}

impl Milepost {
    /// The notifications of one order, oldest first.
    pub async fn order_notifications(
        &self,
        caller: &Principal,
        number: &OrderNumber,
    ) -> AppResult<Vec<NotificationRecord>> {
        Ok(self.store.order_notifications(caller.account_id, number).await?)
    }

    /// Notifications given up on, newest first.
    pub async fn dead_notifications(&self, caller: &Principal) -> AppResult<Vec<NotificationRecord>> {
        Ok(self.store.dead_notifications(caller.account_id, 200).await?)
    }

    /// Queues a dead-lettered or suppressed notification again, due now.
    pub async fn resend_notification(&self, caller: &Principal, id: i64) -> AppResult<NotificationRecord> {
        Ok(self.store.resend_notification(caller.account_id, id, self.clock.now()).await?)
    }

    /// The caller's delivery settings.
    pub async fn notification_settings(&self, caller: &Principal) -> AppResult<NotificationSettings> {
        Ok(self.store.notification_settings(caller.account_id).await?)
    }

    /// Replaces the caller's delivery settings; returns them as stored.
    pub async fn set_notification_settings(
        &self,
        caller: &Principal,
        change: SettingsChange,
    ) -> AppResult<NotificationSettings> {
        let settings = change.parse()?;
        self.store.set_notification_settings(caller.account_id, settings.clone(), self.clock.now()).await?;
        Ok(settings)
    }

    /// The caller's notification policy as a complete TOML document: its own, with every
    /// section it left out filled in from the built-in policy.
    pub async fn notification_policy(&self, caller: &Principal) -> AppResult<String> {
        let stored = self.store.notification_policy(caller.account_id).await?;
        let policy = match stored {
            Some(text) => parse_policy(&text).map_err(|e| AppError::Unexpected(format!("stored policy: {e}")))?,
            None => NotificationPolicy::default(),
        };
        Ok(policy_document(&policy))
    }

    /// Checks and stores the caller's policy document (TOML; an empty document returns to the
    /// built-in policy); answers the complete policy now in force. Messages already queued
    /// keep the decision they were made under; every later change follows the new policy.
    pub async fn set_notification_policy(&self, caller: &Principal, document: &str) -> AppResult<String> {
        if document.len() > 64 * 1024 {
            return Err(invalid("document", "must be at most 64 KiB"));
        }
        let policy = parse_policy(document).map_err(|e| AppError::Invalid { field: e.field, message: e.message })?;
        let stored = (!document.trim().is_empty()).then(|| document.to_string());
        self.store.set_notification_policy(caller.account_id, stored, self.clock.now()).await?;
        Ok(policy_document(&policy))
    }

    /// The policy an account's messages follow: its own document, or the built-in policy.
    async fn account_policy(&self, account: AccountId) -> AppResult<NotificationPolicy> {
        Ok(match self.store.notification_policy(account).await? {
            Some(text) => parse_policy(&text).unwrap_or_default(),
            None => NotificationPolicy::default(),
        })
    }

    /// How an account's customer messages look: its branding and its language.
    pub async fn message_style(&self, account: AccountId) -> AppResult<(Branding, MessageLanguage)> {
        let branding = self.store.branding(account).await?;
        Ok((branding, self.account_policy(account).await?.language))
    }

    /// Renders the customer message an order would get for `notice` on `channel` (`email` or
    /// `sms`), with the account's branding, language and a fresh signed tracking link, exactly
    /// as the worker would send it now. Nothing is queued or sent.
    pub async fn preview_notification(
        &self,
        caller: &Principal,
        number: &OrderNumber,
        notice: Notice,
        channel: NotifyChannel,
    ) -> AppResult<NotificationPreview> {
        if !matches!(channel, NotifyChannel::Email | NotifyChannel::Sms) {
            return Err(invalid("channel", "customer messages are previewed for email or sms"));
        }
        let order = self.order(caller, number).await?;
        let (branding, language) = self.message_style(caller.account_id).await?;
        let tracking_numbers: Vec<String> = order
            .shipments
            .iter()
            .filter(|s| s.shipment.direction == Direction::Outbound)
            .map(|s| s.shipment.tracking_number.as_str().to_string())
            .collect();
        let link = self.tracking_link(caller.account_id, number);
        let facts = MessageFacts {
            account_name: caller.account_name.as_str(),
            order_number: number.as_str(),
            customer_name: order.order.customer.name.as_deref(),
            tracking_numbers: &tracking_numbers,
            link: &link,
            detail: None,
        };
        let (to, email, text) = match channel {
            NotifyChannel::Sms => {
                (order.order.customer.phone.clone(), None, customer_sms(language, &branding, notice, &facts))
            }
            _ => {
                let email = customer_email(language, &branding, notice, &facts);
                let text = email.text.clone();
                (order.order.customer.email.clone(), Some(email), text)
            }
        };
        Ok(NotificationPreview { language, to, email, text })
    }

    /// Claims up to `limit` notifications due now for `lease` (one step of the worker).
    pub async fn claim_notifications(
        &self,
        lease: chrono::Duration,
        limit: u32,
    ) -> AppResult<Vec<ClaimedNotification>> {
        Ok(self.store.claim_notifications(self.clock.now(), lease, limit).await?)
    }

    /// Records how a claimed attempt ended; false when the claim had already run out.
    pub async fn finish_notification(
        &self,
        claimed: &ClaimedNotification,
        outcome: DeliveryOutcome,
    ) -> AppResult<bool> {
        Ok(self.store.finish_notification(claimed.id, &claimed.claim, outcome, self.clock.now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(url: Option<&str>, secret: Option<&str>, email: Option<&str>) -> SettingsChange {
        SettingsChange {
            webhook_url: url.map(String::from),
            webhook_secret: secret.map(String::from),
            alert_email: email.map(String::from),
            chat_webhook_url: None,
        }
    }

    fn field_of(result: AppResult<NotificationSettings>) -> String {
        match result {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        assert_eq!(field_of(change(Some("ftp://x"), Some("0123456789abcdef"), None).parse()), "webhook_url");
        assert_eq!(field_of(change(Some("https://x.test/h"), None, None).parse()), "webhook_secret");
        assert_eq!(field_of(change(Some("https://x.test/h"), Some("short"), None).parse()), "webhook_secret");
        assert_eq!(field_of(change(None, None, Some("not-an-address")).parse()), "alert_email");
        let ok = change(Some("https://x.test/h"), Some("0123456789abcdef"), Some(" ops@shop.test ")).parse().unwrap();
        assert_eq!(ok.alert_email.as_deref(), Some("ops@shop.test"));
        assert_eq!(change(Some(""), None, None).parse().unwrap(), NotificationSettings::default());
    }
}

//! Notification use cases: what an order's timeline and the dead-letter list show, resending a
//! dead letter, an account's delivery settings, and the two steps the delivery worker takes
//! against the outbox (claim what is due, record how each attempt ended), all on the injected
//! clock so tests can move time and drive the worker one step at a time.

use crate::{AppError, AppResult, Milepost};
use milepost_domain::OrderNumber;
pub use milepost_ingest::signature::sign_milepost;
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

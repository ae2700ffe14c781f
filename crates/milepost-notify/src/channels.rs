//! The three ways a message leaves Milepost, each turning the provider's answer into one of
//! three kinds of failure the worker acts on: not configured (suppress), permanent (dead-letter
//! now) or transient (retry with backoff). SMTP goes through lettre; SMS and webhooks are plain
//! HTTP posts. Connection settings come in as URLs and are parsed once, at start-up.

use crate::render;
use crate::{NotifyError, NotifySettings};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use milepost_app::notifications::{ClaimedNotification, sign_milepost};
use milepost_domain::notify::Audience;
use sha2::{Digest, Sha256};

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("not configured: {0}")]
    NotConfigured(String),
    #[error("refused: {0}")]
    Permanent(String),
    #[error("failed: {0}")]
    Transient(String),
}

fn bad(setting: &'static str, message: impl Into<String>) -> NotifyError {
    NotifyError::BadSetting { setting, message: message.into() }
}

/// Splits `scheme://[user[:pass]@]rest` into the scheme, the credentials and the rest.
fn split_url(url: &str) -> Option<(&str, Option<(String, String)>, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((userinfo, host)) => {
            let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let decoded = |s: &str| percent_decode(s);
            let host_and_path = &rest[authority_end - host.len()..];
            Some((scheme, Some((decoded(user), decoded(pass))), host_and_path))
        }
        None => Some((scheme, None, rest)),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How to reach the mail server: `MILEPOST_SMTP_URL` (`smtp://[user:pass@]host[:port]`) and the
/// sender `MILEPOST_SMTP_FROM`. This build speaks plain SMTP only; `smtps://` is refused at
/// start-up rather than silently sending in the clear.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
    pub from: Mailbox,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log.
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpSettings {
    pub fn parse(url: &str, from: &str) -> Result<SmtpSettings, NotifyError> {
        let (scheme, credentials, rest) =
            split_url(url.trim()).ok_or_else(|| bad("MILEPOST_SMTP_URL", "use smtp://host:port"))?;
        match scheme {
            "smtp" => {}
            "smtps" => {
                return Err(bad(
                    "MILEPOST_SMTP_URL",
                    "smtps:// needs TLS, which is not part of this build; use smtp://",
                ));
            }
            other => return Err(bad("MILEPOST_SMTP_URL", format!("unsupported scheme `{other}`; use smtp://"))),
        }
        let authority = rest.split('/').next().unwrap_or("");
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => {
                (host, port.parse::<u16>().map_err(|_| bad("MILEPOST_SMTP_URL", format!("bad port `{port}`")))?)
            }
            None => (authority, 25),
        };
        if host.is_empty() {
            return Err(bad("MILEPOST_SMTP_URL", "names no host"));
        }
        let from: Mailbox =
            from.trim().parse().map_err(|e| bad("MILEPOST_SMTP_FROM", format!("not a mail address: {e}")))?;
        Ok(SmtpSettings { host: host.to_string(), port, credentials, from })
    }
}

/// How to reach an SMS provider: `MILEPOST_SMS_URL`, the endpoint that takes the common
/// form post (`To`, `From`, `Body`; credentials in the URL become basic auth), and the sender
/// number or name `MILEPOST_SMS_FROM`.
#[derive(Clone)]
pub struct SmsSettings {
    pub url: String,
    pub credentials: Option<(String, String)>,
    pub from: String,
}

impl std::fmt::Debug for SmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings").field("url", &self.url).field("from", &self.from).finish()
    }
}

impl SmsSettings {
    pub fn parse(url: &str, from: &str) -> Result<SmsSettings, NotifyError> {
        let (scheme, credentials, rest) =
            split_url(url.trim()).ok_or_else(|| bad("MILEPOST_SMS_URL", "use https://[user:pass@]host/path"))?;
        if scheme != "http" && scheme != "https" {
            return Err(bad("MILEPOST_SMS_URL", "must be an http:// or https:// URL"));
        }
        if from.trim().is_empty() {
            return Err(bad("MILEPOST_SMS_FROM", "is required with MILEPOST_SMS_URL"));
        }
        Ok(SmsSettings { url: format!("{scheme}://{rest}"), credentials, from: from.trim().to_string() })
    }
}

/// The `Message-ID` of a mail: the same account and dedupe key always give the same id, so a
/// mail resent after a crash is recognisably the same message.
pub fn message_id(message: &ClaimedNotification) -> String {
    let digest = Sha256::digest(format!("{}\n{}", message.account_name, message.dedupe_key).as_bytes());
    format!("<{}@milepost>", &hex::encode(digest)[..40])
}

pub async fn send_email(settings: &NotifySettings, message: &ClaimedNotification, link: &str) -> Result<(), SendError> {
    let smtp = settings.smtp.as_ref().ok_or_else(|| SendError::NotConfigured("MILEPOST_SMTP_URL is not set".into()))?;
    let to = match message.audience {
        Audience::Customer => message.customer_email.as_deref(),
        Audience::Internal => message.settings.alert_email.as_deref(),
    }
    .ok_or_else(|| SendError::NotConfigured("no e-mail address".into()))?;
    let to: Mailbox = to.parse().map_err(|e| SendError::Permanent(format!("bad address: {e}")))?;
    let rendered = render::email(link, message);
    let email = Message::builder()
        .from(smtp.from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(message_id(message)))
        .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
        .map_err(|e| SendError::Permanent(format!("cannot build the mail: {e}")))?;
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .timeout(Some(std::time::Duration::from_secs(15)));
    if let Some((user, pass)) = &smtp.credentials {
        transport = transport.credentials(Credentials::new(user.clone(), pass.clone()));
    }
    match transport.build().send(email).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
        Err(e) => Err(SendError::Transient(e.to_string())),
    }
}

fn http_result(status: reqwest::StatusCode) -> Result<(), SendError> {
    if status.is_success() {
        Ok(())
    } else if status == reqwest::StatusCode::GONE {
        Err(SendError::Permanent(format!("HTTP {status}")))
    } else {
        Err(SendError::Transient(format!("HTTP {status}")))
    }
}

pub async fn send_sms(
    http: &reqwest::Client,
    settings: &NotifySettings,
    message: &ClaimedNotification,
    link: &str,
) -> Result<(), SendError> {
    let sms = settings.sms.as_ref().ok_or_else(|| SendError::NotConfigured("MILEPOST_SMS_URL is not set".into()))?;
    let to = message.customer_phone.as_deref().ok_or_else(|| SendError::NotConfigured("no phone number".into()))?;
    let text = render::sms(link, message);
    let form = format!(
        "To={}&From={}&Body={}",
        render::encode_query_value(to),
        render::encode_query_value(&sms.from),
        render::encode_query_value(&text)
    );
    let mut request = http
        .post(&sms.url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("idempotency-key", format!("{}/{}", message.account_name, message.dedupe_key))
        .body(form);
    if let Some((user, pass)) = &sms.credentials {
        request = request.basic_auth(user, Some(pass));
    }
    let response = request.send().await.map_err(|e| SendError::Transient(e.without_url().to_string()))?;
    http_result(response.status())
}

/// A staff alert to a chat room's incoming webhook, in the `{"text": …}` shape Slack and the
/// chat tools that copy it take.
pub async fn send_chat(http: &reqwest::Client, message: &ClaimedNotification, link: &str) -> Result<(), SendError> {
    let url = message
        .settings
        .chat_webhook_url
        .as_deref()
        .ok_or_else(|| SendError::NotConfigured("no chat webhook for the account".into()))?;
    let rendered = render::email(link, message);
    let body = serde_json::json!({ "text": format!("{}\n{}", rendered.subject, rendered.text) });
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("idempotency-key", &message.dedupe_key)
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| SendError::Transient(e.without_url().to_string()))?;
    http_result(response.status())
}

pub async fn send_webhook(
    http: &reqwest::Client,
    message: &ClaimedNotification,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), SendError> {
    let (Some(url), Some(secret)) = (&message.settings.webhook_url, &message.settings.webhook_secret) else {
        return Err(SendError::NotConfigured("no webhook URL for the account".into()));
    };
    let body = serde_json::to_vec(&render::webhook_body(message))
        .map_err(|e| SendError::Permanent(format!("cannot encode the body: {e}")))?;
    let signature = sign_milepost(secret.as_bytes(), now.timestamp(), &body);
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("milepost-signature", signature)
        .header("idempotency-key", &message.dedupe_key)
        .body(body)
        .send()
        .await
        .map_err(|e| SendError::Transient(e.without_url().to_string()))?;
    http_result(response.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_give_host_port_and_credentials() {
        let s = SmtpSettings::parse("smtp://mailer:p%40ss@mail.example.com:2525", "Shop <shop@example.com>").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("mail.example.com", 2525));
        assert_eq!(s.credentials, Some(("mailer".into(), "p@ss".into())));
        assert!(!format!("{s:?}").contains("p@ss"), "the password stays out of logs");
        assert_eq!(SmtpSettings::parse("smtp://127.0.0.1", "a@b.test").unwrap().port, 25);
        assert!(SmtpSettings::parse("smtps://u:p@mail.example.com", "a@b.test").is_err());
        assert!(SmtpSettings::parse("http://mail.example.com", "a@b.test").is_err());
        assert!(SmtpSettings::parse("smtp://mail.example.com", "not an address").is_err());
    }

    #[test]
    fn sms_urls_keep_the_path_and_lift_the_credentials() {
        let s = SmsSettings::parse("https://AC1:tok@sms.example.com/2010/Messages", "+15550100").unwrap();
        assert_eq!(s.url, "https://sms.example.com/2010/Messages");
        assert_eq!(s.credentials, Some(("AC1".into(), "tok".into())));
        assert!(SmsSettings::parse("ftp://x", "+1").is_err());
        assert!(SmsSettings::parse("https://x.test/m", " ").is_err());
    }
}

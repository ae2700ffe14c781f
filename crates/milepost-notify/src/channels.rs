//! The three ways a message leaves Milepost, each turning the provider's answer into one of
//! three kinds of failure the worker acts on: not configured (suppress), permanent (dead-letter
//! now) or transient (retry with backoff). SMTP goes through lettre; SMS and webhooks are plain
//! HTTP posts. Connection settings come in as URLs and are parsed once, at start-up.

use crate::render::{self, MessageStyle};
use crate::{NotifyError, NotifySettings};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
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

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (`smtp://`): only for a relay on a trusted network.
    Plain,
    /// Plain connection upgraded with STARTTLS, refusing a server that does not offer it
    /// (`smtp+starttls://`, or `smtp://…?tls=starttls` / `?tls=required`).
    StartTls,
    /// TLS from the first byte (`smtps://`, usually port 465).
    ImplicitTls,
}

/// How to reach the mail server: `MILEPOST_SMTP_URL` and the sender `MILEPOST_SMTP_FROM`.
/// `smtp://[user:pass@]host[:port]` is plain SMTP (port 25); `smtp+starttls://` (or `smtp://` with
/// `?tls=starttls` or `?tls=required`) upgrades with STARTTLS and refuses a server that will not
/// (port 587); `smtps://` speaks TLS from the start (port 465). Certificates are checked against
/// the public web roots plus `extra_root_pem`; user and password (percent-encoded) come from the
/// URL and are only sent over TLS unless the URL is plain `smtp://`.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<(String, String)>,
    pub from: Mailbox,
    /// A PEM certificate (or several) to trust besides the public roots: a company mail relay
    /// with a private CA, or a test server.
    pub extra_root_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log.
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpSettings {
    pub fn parse(url: &str, from: &str) -> Result<SmtpSettings, NotifyError> {
        const USE: &str = "use smtp://, smtp+starttls:// or smtps://[user:pass@]host[:port]";
        let (scheme, credentials, rest) = split_url(url.trim()).ok_or_else(|| bad("MILEPOST_SMTP_URL", USE))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut tls_option = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("tls", value)) => tls_option = Some(value.to_ascii_lowercase()),
                _ => return Err(bad("MILEPOST_SMTP_URL", format!("unknown option `{pair}`; only tls= is known"))),
            }
        }
        let security = match (scheme.to_ascii_lowercase().as_str(), tls_option.as_deref()) {
            ("smtp", None | Some("none")) => SmtpSecurity::Plain,
            ("smtp", Some("starttls" | "required")) | ("smtp+starttls", None | Some("starttls" | "required")) => {
                SmtpSecurity::StartTls
            }
            ("smtps", None | Some("wrapper" | "implicit")) => SmtpSecurity::ImplicitTls,
            ("smtp" | "smtp+starttls" | "smtps", Some(other)) => {
                return Err(bad(
                    "MILEPOST_SMTP_URL",
                    format!("tls={other} does not fit {scheme}://; use tls=starttls (or required) with smtp://"),
                ));
            }
            (other, _) => return Err(bad("MILEPOST_SMTP_URL", format!("unsupported scheme `{other}`; {USE}"))),
        };
        let authority = rest.split('/').next().unwrap_or("");
        let default_port = match security {
            SmtpSecurity::Plain => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::ImplicitTls => 465,
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => {
                (host, port.parse::<u16>().map_err(|_| bad("MILEPOST_SMTP_URL", format!("bad port `{port}`")))?)
            }
            None => (authority, default_port),
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(bad("MILEPOST_SMTP_URL", "names no host"));
        }
        let from: Mailbox =
            from.trim().parse().map_err(|e| bad("MILEPOST_SMTP_FROM", format!("not a mail address: {e}")))?;
        Ok(SmtpSettings { host: host.to_string(), port, security, credentials, from, extra_root_pem: None })
    }

    /// The lettre transport for these settings. TLS uses rustls on the aws-lc-rs provider, the
    /// same one reqwest uses, so the two never disagree about the process's provider.
    fn transport(&self, timeout: std::time::Duration) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
        let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.as_str())
            .port(self.port)
            .timeout(Some(timeout));
        if self.security != SmtpSecurity::Plain {
            let mut params = TlsParameters::builder(self.host.clone());
            if let Some(pem) = &self.extra_root_pem {
                let certificate = Certificate::from_pem(pem)
                    .map_err(|e| SendError::Permanent(format!("the extra root certificate does not parse: {e}")))?;
                params = params.add_root_certificate(certificate);
            }
            let params = params.build_rustls().map_err(|e| SendError::Permanent(format!("cannot set up TLS: {e}")))?;
            transport = transport.tls(match self.security {
                SmtpSecurity::ImplicitTls => Tls::Wrapper(params),
                _ => Tls::Required(params),
            });
        }
        if let Some((user, pass)) = &self.credentials {
            transport = transport.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(transport.build())
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

/// Sends one message by e-mail: to the customer, or to the account's staff alert address.
pub async fn send_email(
    settings: &NotifySettings,
    message: &ClaimedNotification,
    link: &str,
    style: &MessageStyle,
) -> Result<(), SendError> {
    let smtp = settings.smtp.as_ref().ok_or_else(|| SendError::NotConfigured("MILEPOST_SMTP_URL is not set".into()))?;
    let to = match message.audience {
        Audience::Customer => message.customer_email.as_deref(),
        Audience::Internal => message.settings.alert_email.as_deref(),
    }
    .ok_or_else(|| SendError::NotConfigured("no e-mail address".into()))?;
    let to: Mailbox = to.parse().map_err(|e| SendError::Permanent(format!("bad address: {e}")))?;
    let rendered = render::email(link, style, message);
    let email = Message::builder()
        .from(smtp.from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(message_id(message)))
        .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
        .map_err(|e| SendError::Permanent(format!("cannot build the mail: {e}")))?;
    match smtp.transport(settings.send_timeout)?.send(email).await {
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
    style: &MessageStyle,
) -> Result<(), SendError> {
    let sms = settings.sms.as_ref().ok_or_else(|| SendError::NotConfigured("MILEPOST_SMS_URL is not set".into()))?;
    let to = message.customer_phone.as_deref().ok_or_else(|| SendError::NotConfigured("no phone number".into()))?;
    let text = render::sms(link, style, message);
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
    let rendered = render::email(link, &MessageStyle::default(), message);
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
        assert_eq!(SmtpSettings::parse("smtp://127.0.0.1", "a@b.test").unwrap().security, SmtpSecurity::Plain);
        assert!(SmtpSettings::parse("http://mail.example.com", "a@b.test").is_err());
        assert!(SmtpSettings::parse("smtp://mail.example.com", "not an address").is_err());
    }

    #[test]
    fn tls_is_chosen_by_scheme_or_option_with_its_usual_port() {
        let table = [
            ("smtp+starttls://u:p@mail.example.com", SmtpSecurity::StartTls, 587),
            ("smtp://mail.example.com:2525?tls=starttls", SmtpSecurity::StartTls, 2525),
            ("smtp://mail.example.com?tls=required", SmtpSecurity::StartTls, 587),
            ("SMTP+STARTTLS://mail.example.com:25", SmtpSecurity::StartTls, 25),
            ("smtps://u:p@mail.example.com", SmtpSecurity::ImplicitTls, 465),
            ("smtps://mail.example.com:1465", SmtpSecurity::ImplicitTls, 1465),
            ("smtp://mail.example.com?tls=none", SmtpSecurity::Plain, 25),
        ];
        for (url, security, port) in table {
            let s = SmtpSettings::parse(url, "a@b.test").unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!((s.security, s.port, s.host.as_str()), (security, port, "mail.example.com"), "{url}");
        }
        let secured = SmtpSettings::parse("smtps://mailer:s%3Acret@mail.example.com", "a@b.test").unwrap();
        assert_eq!(secured.credentials, Some(("mailer".into(), "s:cret".into())));
        for refused in [
            "smtps://mail.example.com?tls=starttls",
            "smtp://mail.example.com?tls=maybe",
            "smtp://mail.example.com?verify=false",
            "smtp+ssl://mail.example.com",
            "smtps://:465",
            "smtp://mail.example.com:99999",
            "mail.example.com",
        ] {
            assert!(SmtpSettings::parse(refused, "a@b.test").is_err(), "{refused} should be refused");
        }
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

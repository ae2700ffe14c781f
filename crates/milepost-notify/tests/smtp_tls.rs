//! SMTP over TLS for real: a small SMTP server on 127.0.0.1 with a test CA's certificate speaks
//! STARTTLS (or TLS from the first byte) through rustls, and the notifier's own `send_email`
//! delivers to it with the CA added to its trusted roots. The tests show the mail and the AUTH
//! exchange travel only inside TLS, that a server which does not offer STARTTLS gets nothing
//! (not even the password), and that a certificate nobody vouches for is refused.

use chrono::{TimeZone, Utc};
use milepost_app::notifications::{ClaimedNotification, NotificationSettings, Subject};
use milepost_domain::notify::{Audience, Notice, NotifyChannel, OrderClass};
use milepost_notify::render::MessageStyle;
use milepost_notify::{NotifySettings, SendError, SmtpSecurity, SmtpSettings, send_email};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const CA_PEM: &[u8] = include_bytes!("tls/ca.pem");
const SERVER_PEM: &[u8] = include_bytes!("tls/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("tls/server.key");
/// `AUTH PLAIN` of user `mailer`, password `s:cret`.
const AUTH_PLAIN: &str = "AG1haWxlcgBzOmNyZXQ=";

/// What the server saw: each command with whether it arrived inside TLS, and the mails.
#[derive(Debug, Default)]
struct Seen {
    commands: Vec<(bool, String)>,
    mails: Vec<(bool, String)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Plain greeting, STARTTLS offered.
    StartTls,
    /// Plain greeting, STARTTLS never offered (a downgraded or old server).
    PlainOnly,
    /// TLS from the first byte.
    Implicit,
}

fn acceptor() -> TlsAcceptor {
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(SERVER_PEM).collect::<Result<_, _>>().expect("server certificate");
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).expect("server key");
    let config = ServerConfig::builder().with_no_client_auth().with_single_cert(certs, key).expect("tls config");
    TlsAcceptor::from(Arc::new(config))
}

async fn start(mode: Mode) -> (SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (acceptor, log) = (acceptor(), seen.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, log) = (acceptor.clone(), log.clone());
            tokio::spawn(async move {
                if mode == Mode::Implicit {
                    if let Ok(tls) = acceptor.accept(socket).await {
                        dialogue(tls, true, false, true, log).await;
                    }
                } else if let Some(plain) = dialogue(socket, false, mode == Mode::StartTls, true, log.clone()).await
                    && let Ok(tls) = acceptor.accept(plain).await
                {
                    dialogue(tls, true, false, false, log).await;
                }
            });
        }
    });
    (addr, seen)
}

/// Enough of RFC 5321 (with RFC 3207 STARTTLS and RFC 4954 AUTH) for a client to deliver.
/// Returns the stream when the client asked to start TLS, so the caller can wrap it; after
/// STARTTLS the client speaks first, so that second dialogue does not greet.
async fn dialogue<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    tls: bool,
    offer_starttls: bool,
    greet: bool,
    seen: Arc<Mutex<Seen>>,
) -> Option<S> {
    let mut stream = BufReader::new(stream);
    if greet {
        stream.write_all(b"220 mail.test ESMTP\r\n").await.ok()?;
    }
    let mut line = String::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let command = line.trim_end().to_string();
        seen.lock().unwrap().commands.push((tls, command.clone()));
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" if offer_starttls => b"250-mail.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
            "EHLO" if tls => b"250-mail.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
            "EHLO" | "HELO" => b"250-mail.test\r\n250 8BITMIME\r\n",
            "STARTTLS" if offer_starttls => {
                stream.write_all(b"220 go ahead\r\n").await.ok()?;
                return Some(stream.into_inner());
            }
            "AUTH" if tls => b"235 2.7.0 accepted\r\n",
            "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
            "DATA" => {
                stream.write_all(b"354 end with .\r\n").await.ok()?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if stream.read_line(&mut line).await.ok()? == 0 {
                        return None;
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(&line);
                }
                seen.lock().unwrap().mails.push((tls, data));
                b"250 queued\r\n"
            }
            "QUIT" => {
                stream.write_all(b"221 bye\r\n").await.ok()?;
                return None;
            }
            _ => b"502 not here\r\n",
        };
        stream.write_all(reply).await.ok()?;
    }
}

fn message() -> ClaimedNotification {
    ClaimedNotification {
        id: 1,
        claim: "c".into(),
        attempts: 1,
        account_name: "acme".into(),
        order_number: "A-1001".into(),
        order_class: OrderClass::Standard,
        shipments: vec!["1Z999AA10123456784".into()],
        carrier: Some("ups".into()),
        audience: Audience::Customer,
        channel: NotifyChannel::Email,
        subject: Subject::Notice(Notice::Delivered),
        team: None,
        dedupe_key: "A-1001/1Z999AA10123456784/delivered/customer/email".into(),
        customer_name: Some("Ana".into()),
        customer_email: Some("ana@example.com".into()),
        customer_phone: None,
        customer_postal_code: None,
        settings: NotificationSettings::default(),
        created_at: Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap(),
        detail: None,
    }
}

fn settings(url: &str, trust_test_ca: bool) -> NotifySettings {
    let mut smtp = SmtpSettings::parse(url, "Acme <orders@acme.test>").expect("smtp url");
    if trust_test_ca {
        smtp.extra_root_pem = Some(CA_PEM.to_vec());
    }
    let mut settings = NotifySettings::new("https://track.test");
    settings.smtp = Some(smtp);
    settings
}

async fn send(settings: &NotifySettings) -> Result<(), SendError> {
    send_email(settings, &message(), "https://track.test/t/abc", &MessageStyle::default()).await
}

#[tokio::test]
async fn starttls_upgrades_before_the_password_and_the_mail_travel() {
    let (addr, seen) = start(Mode::StartTls).await;
    for url in [
        format!("smtp+starttls://mailer:s%3Acret@127.0.0.1:{}", addr.port()),
        format!("smtp://mailer:s%3Acret@127.0.0.1:{}?tls=starttls", addr.port()),
    ] {
        let settings = settings(&url, true);
        assert_eq!(settings.smtp.as_ref().unwrap().security, SmtpSecurity::StartTls);
        send(&settings).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.mails.len(), 2, "{:?}", seen.commands);
    assert!(seen.mails.iter().all(|(tls, _)| *tls), "every mail arrived inside TLS");
    assert!(seen.mails[0].1.contains("Subject: acme: Your order was delivered"), "{}", seen.mails[0].1);
    let auth: Vec<&(bool, String)> = seen.commands.iter().filter(|(_, c)| c.starts_with("AUTH")).collect();
    assert_eq!(auth.len(), 2);
    assert!(auth.iter().all(|(tls, c)| *tls && c.contains(AUTH_PLAIN)), "{auth:?}");
    assert!(
        seen.commands.iter().filter(|(tls, _)| !tls).all(|(_, c)| !c.starts_with("MAIL") && !c.starts_with("AUTH"))
    );
}

#[tokio::test]
async fn smtps_speaks_tls_from_the_first_byte() {
    let (addr, seen) = start(Mode::Implicit).await;
    let settings = settings(&format!("smtps://mailer:s%3Acret@127.0.0.1:{}", addr.port()), true);
    send(&settings).await.expect("sent over implicit TLS");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.mails.len(), 1);
    assert!(seen.commands.iter().all(|(tls, _)| *tls), "nothing was said in the clear: {:?}", seen.commands);
    assert!(seen.commands.iter().any(|(_, c)| c.contains(AUTH_PLAIN)));
}

#[tokio::test]
async fn a_server_without_starttls_gets_neither_the_mail_nor_the_password() {
    let (addr, seen) = start(Mode::PlainOnly).await;
    let settings = settings(&format!("smtp+starttls://mailer:s%3Acret@127.0.0.1:{}", addr.port()), true);
    let error = send(&settings).await.expect_err("STARTTLS is required");
    assert!(matches!(error, SendError::Transient(_) | SendError::Permanent(_)), "{error:?}");
    let seen = seen.lock().unwrap();
    assert!(seen.mails.is_empty());
    assert!(seen.commands.iter().all(|(_, c)| !c.starts_with("AUTH") && !c.starts_with("MAIL")), "{:?}", seen.commands);
}

#[tokio::test]
async fn a_certificate_no_trusted_root_vouches_for_is_refused() {
    let (addr, seen) = start(Mode::StartTls).await;
    let settings = settings(&format!("smtp+starttls://mailer:s%3Acret@127.0.0.1:{}", addr.port()), false);
    assert!(send(&settings).await.is_err(), "the test CA is not among the public roots");
    let seen = seen.lock().unwrap();
    assert!(seen.mails.is_empty());
    assert!(seen.commands.iter().all(|(_, c)| !c.starts_with("AUTH")));
}

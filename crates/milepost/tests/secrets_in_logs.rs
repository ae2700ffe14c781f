//! Secrets never reach the logs: a full run of the real binary at `debug` level (keys created on
//! the command line, a staff login, integrations and webhook secrets, signed webhooks, a forged
//! key, a mail server that needs a password and cannot be reached) is captured from stderr and
//! searched for every key, password and secret the run used.

use milepost_ingest::signature::sign_milepost;
use serde_json::json;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_milepost");
const STAFF_PASSWORD: &str = "pale-blue-cheese-lantern-41";
const LINK_SECRET: &str = "link-signing-secret-7f3a9c2e";
const SMTP_PASSWORD: &str = "smtp-pass-0b8e1d";
const INTEGRATION_SECRET: &str = "whsec_integration_5c1d7e9a2b";
const WEBHOOK_SECRET: &str = "merchant-webhook-secret-93ab";
const FORGED_KEY: &str = "mp_forgedforgedforgedforgedforged0";

fn milepost(db: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("MILEPOST_DATABASE_URL", db)
        .env("MILEPOST_LISTEN", "127.0.0.1:0")
        .env("MILEPOST_LOG", "debug")
        .env("MILEPOST_SECRET", LINK_SECRET)
        // A mail server that needs a password and is not there: delivery fails and is logged.
        .env("MILEPOST_SMTP_URL", format!("smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:9"))
        .env("MILEPOST_SMTP_FROM", "shop@acme.example");
    cmd
}

/// Starts `milepost serve`; returns the child, its base URL, and a thread that collects the
/// rest of its log until it exits.
fn start_server(db: &str) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = milepost(db).arg("serve").stderr(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr"));
    let mut log = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(lines.read_line(&mut line).expect("read log") > 0, "server exited before serving: {log}");
        log.push_str(&line);
        if let Some(at) = line.find("serving at ") {
            break line[at + "serving at ".len()..].trim().to_string();
        }
    };
    let rest = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = lines.read_to_string(&mut rest);
        log + &rest
    });
    (child, url, rest)
}

fn output_of(command: &mut Command) -> String {
    let out = command.output().expect("run milepost");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_run_logs_no_key_password_or_secret_it_used() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("logs.db").display());
    let key_run = milepost(&db).args(["keys", "create", "--account", "acme", "--role", "admin"]).output().unwrap();
    assert!(key_run.status.success());
    let key = String::from_utf8(key_run.stdout).unwrap().trim().to_string();
    let mut cli_log = String::from_utf8_lossy(&key_run.stderr).to_string();
    cli_log += &output_of(milepost(&db).env("MILEPOST_PASSWORD", STAFF_PASSWORD).args([
        "users",
        "create",
        "--account",
        "acme",
        "--email",
        "lead@acme.example",
        "--role",
        "admin",
    ]));

    let (mut server, base, log) = start_server(&db);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let api = |path: &str| format!("{base}{path}");

    let integration = client
        .post(api("/api/v1/integrations"))
        .bearer_auth(&key)
        .json(&json!({"kind": "generic", "secret": INTEGRATION_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(integration.status(), 201);
    let integration: serde_json::Value = integration.json().await.unwrap();
    let settings = client
        .put(api("/api/v1/notification-settings"))
        .bearer_auth(&key)
        .json(&json!({"webhook_url": "http://127.0.0.1:9/hooks", "webhook_secret": WEBHOOK_SECRET,
            "alert_email": "ops@acme.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), 200);
    let order = json!({"order_number": "LOG-1", "placed_at": "2026-11-01T10:00:00Z", "currency": "USD",
        "customer": {"name": "Ana Diaz", "email": "ana.diaz@example.com", "postal_code": "78701"},
        "items": [{"sku": "MUG", "quantity": 1, "unit_price": "10.00"}]});
    assert_eq!(client.post(api("/api/v1/orders")).bearer_auth(&key).json(&order).send().await.unwrap().status(), 201);
    let parcel = json!({"carrier": "ups", "tracking_number": "1ZLOGS0000000001"});
    let r = client.post(api("/api/v1/orders/LOG-1/shipments")).bearer_auth(&key).json(&parcel).send().await.unwrap();
    assert_eq!(r.status(), 201);

    // A signed generic webhook that hands the parcel to the carrier, and one signed wrongly.
    let body = json!({"events": [{"tracking_number": "1ZLOGS0000000001", "event_id": "g-1", "status": "in_transit",
        "occurred_at": "2026-11-02T10:00:00Z"}]})
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let webhook = format!("/webhooks/carriers/{}", integration["id"].as_str().unwrap());
    for secret in [INTEGRATION_SECRET, "not-the-secret-at-all"] {
        let signature = sign_milepost(secret.as_bytes(), now, body.as_bytes());
        let r = client
            .post(api(&webhook))
            .header("content-type", "application/json")
            .header("Milepost-Signature", signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error() || r.status().is_success(), "{}", r.status());
    }
    let event = json!({"events": [{"source": "carrier", "source_event_id": "d-1", "tracking_number": "1ZLOGS0000000001",
        "carrier": "ups", "milestone": "delivery_attempted", "occurred_at": "2026-11-03T10:00:00Z"}]});
    assert_eq!(client.post(api("/api/v1/events")).bearer_auth(&key).json(&event).send().await.unwrap().status(), 200);
    let forged = client.get(api("/api/v1/orders")).bearer_auth(FORGED_KEY).send().await.unwrap();
    assert_eq!(forged.status(), 401);

    // A staff login through the form with its CSRF token, then a wrong password.
    let form = client.get(api("/ops/login")).send().await.unwrap();
    let cookies: Vec<String> = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect();
    let html = form.text().await.unwrap();
    let at = html.find("name=\"csrf\" value=\"").expect("csrf") + 19;
    let csrf = html[at..].split('"').next().unwrap().to_string();
    for password in [STAFF_PASSWORD, "wrong-password-for-lead"] {
        let r = client
            .post(api("/ops/login"))
            .header("cookie", cookies.join("; "))
            .header("content-type", "application/x-www-form-urlencoded")
            // Every value here is URL-safe but the e-mail's `@`.
            .body(format!("csrf={csrf}&email=lead%40acme.example&password={password}"))
            .send()
            .await
            .unwrap();
        let expected = if password == STAFF_PASSWORD { 303 } else { 401 };
        assert_eq!(r.status().as_u16(), expected, "login with {password}");
    }

    // Let the notification worker try (and fail) its deliveries: it runs every five seconds.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let order: serde_json::Value =
            client.get(api("/api/v1/orders/LOG-1")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
        let tried =
            order["notifications"].as_array().map_or(0, |list| list.iter().filter(|n| n["attempts"] != 0).count());
        if tried > 0 || Instant::now() > deadline {
            assert!(tried > 0, "the worker tried no delivery: {order}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    server.kill().unwrap();
    server.wait().unwrap();
    let server_log = log.join().unwrap();
    // Lines written before the requests above were answered, so surely captured; how many of
    // the worker's lines come before the kill depends on timing (a count of lines was flaky).
    for line in ["serving at", "staff login"] {
        assert!(server_log.contains(line), "the run did not log {line:?}: {server_log}");
    }
    let everything = cli_log + &server_log;
    if std::env::var_os("MILEPOST_SHOW_LOG").is_some() {
        eprintln!("{everything}");
    }
    for (what, secret) in [
        ("the API key", key.as_str()),
        ("the forged key", FORGED_KEY),
        ("the staff password", STAFF_PASSWORD),
        ("the wrong password", "wrong-password-for-lead"),
        ("the link-signing secret", LINK_SECRET),
        ("the SMTP password", SMTP_PASSWORD),
        ("the integration secret", INTEGRATION_SECRET),
        ("the merchant webhook secret", WEBHOOK_SECRET),
        ("the CSRF token", csrf.as_str()),
        ("the customer's e-mail", "ana.diaz@example.com"),
    ] {
        assert!(!everything.contains(secret), "{what} is in the log:\n{everything}");
    }
    for cookie in &cookies {
        let value = cookie.split('=').nth(1).unwrap_or_default();
        assert!(value.len() < 8 || !everything.contains(value), "a session cookie is in the log");
    }
}

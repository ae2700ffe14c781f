//! The operations dashboard over HTTP, as a browser without JavaScript uses it: log in through
//! the form, keep the session cookie, post forms with their CSRF token. Each test proves one
//! promise of the dashboard: who may log in and with which cookie flags, that forms without the
//! session's token or from a read-only role change nothing, that actions reach the same records
//! the API serves, that accounts stay apart, and that logging out ends the session for good.

mod common;
mod ops_support;

use common::{TestApp, spawn_app, spawn_app_with};
use ops_support::{ADMIN, OTHER, PASSWORD, SUPPORT, Staff, failed_attempt_with_unmapped_code, staff};
use serde_json::Value;

async fn exceptions(app: &TestApp) -> Vec<Value> {
    let r = app.get("/api/v1/exceptions", &app.support).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["exceptions"].as_array().unwrap().clone()
}

async fn seeded() -> (TestApp, i64) {
    let app = spawn_app().await;
    staff(&app).await;
    failed_attempt_with_unmapped_code(&app, "X-1", "1ZOPS0001").await;
    let found = exceptions(&app).await;
    let failed = found.iter().find(|e| e["kind"] == "delivery_failed").expect("delivery_failed opened");
    assert_eq!(failed["state"], "open");
    (app, failed["id"].as_str().map(|s| s.parse().unwrap()).or(failed["id"].as_i64()).unwrap())
}

async fn state_of(app: &TestApp, id: i64) -> String {
    let all = exceptions(app).await;
    let e = all.iter().find(|e| e["id"].as_i64() == Some(id) || e["id"].as_str() == Some(&id.to_string())).unwrap();
    e["state"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_the_right_one_starts_a_strict_http_only_session() {
    let app = spawn_app().await;
    staff(&app).await;

    let (_, wrong) = Staff::login(&app, ADMIN, "not the password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong e-mail or password"));
    assert!(!wrong.set_cookies.iter().any(|c| c.starts_with("mp_ops=")), "no session on a wrong password");
    let (_, unknown) = Staff::login(&app, "nobody@acme.example", PASSWORD).await;
    assert_eq!(unknown.status, 401, "an unknown e-mail reads the same as a wrong password");

    let (mut staff, right) = Staff::login(&app, ADMIN, PASSWORD).await;
    assert_eq!((right.status, right.location.as_str()), (303, "/ops/exceptions"));
    let cookie = right.set_cookies.iter().find(|c| c.starts_with("mp_ops=")).expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/ops"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http without an https public URL: {cookie}");
    let queue = staff.get("/ops/exceptions").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("Exception queue") && queue.body.contains(ADMIN));

    let mut anonymous = Staff::new(&app);
    let page = anonymous.get("/ops/exceptions").await;
    assert_eq!((page.status, page.location.as_str()), (303, "/ops/login"));
    assert_eq!(anonymous.get("/ops/orders/X-1").await.status, 303);
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_url_is_https() {
    // Behind TLS the public URL is https while the server itself listens on plain loopback.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut app = spawn_app_with(|s| {
        s.public_url = Some("https://track.example".into());
        s.listen = format!("127.0.0.1:{port}");
    })
    .await;
    app.base = format!("http://127.0.0.1:{port}");
    staff(&app).await;
    let (_, right) = Staff::login(&app, ADMIN, PASSWORD).await;
    let cookie = right.set_cookies.iter().find(|c| c.starts_with("mp_ops=")).expect("session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn each_login_gets_a_new_session_id() {
    let app = spawn_app().await;
    staff(&app).await;
    let first = Staff::logged_in(&app, ADMIN).await.session_cookie().unwrap();
    let second = Staff::logged_in(&app, ADMIN).await.session_cookie().unwrap();
    assert_ne!(first, second);
    assert!(first.len() >= 40, "a long random id");
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_is_refused_with_403_and_changes_nothing() {
    let (app, id) = seeded().await;
    let mut admin = Staff::logged_in(&app, ADMIN).await;
    let path = format!("/ops/exceptions/{id}/acknowledge");
    assert_eq!(admin.post(&path, &[]).await.status, 403);
    assert_eq!(admin.post(&path, &[("csrf", "0123abcd")]).await.status, 403);
    // Another session's token is no good either.
    let mut other = Staff::logged_in(&app, ADMIN).await;
    let foreign = ops_support::csrf_of(&other.get("/ops/exceptions").await.body);
    assert_eq!(admin.post(&path, &[("csrf", foreign.as_str())]).await.status, 403);
    assert_eq!(state_of(&app, id).await, "open");

    // The login form has its own token too.
    let mut stranger = Staff::new(&app);
    let login = stranger.post("/ops/login", &[("email", ADMIN), ("password", PASSWORD)]).await;
    assert_eq!(login.status, 403);
    assert!(!login.set_cookies.iter().any(|c| c.starts_with("mp_ops=")));
}

#[tokio::test]
async fn support_staff_see_the_queue_and_cleanup_but_may_not_act() {
    let (app, id) = seeded().await;
    let mut support = Staff::logged_in(&app, SUPPORT).await;
    let queue = support.get("/ops/exceptions").await;
    assert!(queue.body.contains("delivery_failed"));
    assert!(!queue.body.contains(">Acknowledge<"), "no action forms for support");
    let cleanup = support.get("/ops/cleanup").await;
    assert!(cleanup.body.contains("ZX9"));
    assert!(!cleanup.body.contains("/ops/cleanup/codes"), "no mapping form for support");

    let ack = support.post_with_csrf("/ops/exceptions", &format!("/ops/exceptions/{id}/acknowledge"), &[]).await;
    assert_eq!(ack.status, 403);
    let map = support
        .post_with_csrf(
            "/ops/exceptions",
            "/ops/cleanup/codes",
            &[("carrier", "ups"), ("code", "ZX9"), ("milestone", "exception")],
        )
        .await;
    assert_eq!(map.status, 403);
    assert_eq!(state_of(&app, id).await, "open");
    assert_eq!(app.order("X-1").await.body["shipments"][0]["status"], "delivery_attempted");
}

#[tokio::test]
async fn acknowledging_assigning_and_resolving_through_the_forms_show_in_the_api_with_the_staff_user() {
    let (app, id) = seeded().await;
    let mut admin = Staff::logged_in(&app, ADMIN).await;
    let queue = admin.get("/ops/exceptions").await;
    assert!(queue.body.contains(&format!("/ops/exceptions/{id}/acknowledge")));
    assert!(queue.body.contains("/ops/orders/X-1"), "one click to the order");

    let ack = admin.post_with_csrf("/ops/exceptions", &format!("/ops/exceptions/{id}/acknowledge"), &[]).await;
    assert_eq!((ack.status, ack.location.clone()), (303, format!("/ops/exceptions?done=acknowledge:{id}")));
    assert!(admin.get(&ack.location).await.body.contains(&format!("Exception {id} acknowledged.")));
    assert_eq!(state_of(&app, id).await, "acknowledged");

    let assign = admin
        .post_with_csrf("/ops/exceptions", &format!("/ops/exceptions/{id}/assign"), &[("owner", "carrier-desk")])
        .await;
    assert_eq!(assign.status, 303);
    let resolve = admin
        .post_with_csrf("/ops/exceptions", &format!("/ops/exceptions/{id}/resolve"), &[("note", "Rebooked <delivery>")])
        .await;
    assert_eq!(resolve.status, 303);
    let all = exceptions(&app).await;
    let e = all.iter().find(|e| e["kind"] == "delivery_failed").unwrap();
    assert_eq!(e["state"], "resolved");
    assert_eq!(e["owner"], "carrier-desk");
    assert_eq!(e["note"], "Rebooked <delivery>");
    let order = admin.get("/ops/orders/X-1").await.body;
    assert!(order.contains("acknowledged by staff:lead@acme.example"), "the staff user is the actor");
    assert!(order.contains("resolved by staff:lead@acme.example"));
    assert!(order.contains("Rebooked &lt;delivery&gt;"), "notes are escaped");

    let empty_note =
        admin.post_with_csrf("/ops/exceptions", &format!("/ops/exceptions/{id}/resolve"), &[("note", " ")]).await;
    assert_eq!(empty_note.status, 422);
    let bad_id = admin.post_with_csrf("/ops/exceptions", "/ops/exceptions/nope/acknowledge", &[]).await;
    assert_eq!(bad_id.status, 404);
}

#[tokio::test]
async fn the_queue_filters_by_kind_and_state_and_sorts_by_severity() {
    let (app, _) = seeded().await;
    let mut admin = Staff::logged_in(&app, ADMIN).await;
    let all = admin.get("/ops/exceptions?sort=severity").await.body;
    assert!(all.contains("delivery_failed</a>: 1"), "counts by kind");
    let other_kind = admin.get("/ops/exceptions?kind=stalled").await.body;
    assert!(!other_kind.contains("exception-"), "no stalled rows");
    let resolved = admin.get("/ops/exceptions?state=resolved").await.body;
    assert!(resolved.contains("Nothing to work on here."));
    let junk = admin.get("/ops/exceptions?state=%FF&kind=<x>&sort=1").await;
    assert_eq!(junk.status, 200, "bad filters fall back to the defaults");
}

#[tokio::test]
async fn mapping_an_unmapped_code_in_cleanup_renormalizes_and_moves_the_shipment() {
    let (app, _) = seeded().await;
    let mut admin = Staff::logged_in(&app, ADMIN).await;
    let cleanup = admin.get("/ops/cleanup").await.body;
    assert!(cleanup.contains("ZX9") && cleanup.contains("Held at hub pending broker documents"));
    assert!(cleanup.contains("Source of truth per milestone") && cleanup.contains("warehouse, staff"));
    assert!(cleanup.contains("Lane rhythm"));
    assert_eq!(app.order("X-1").await.body["shipments"][0]["status"], "delivery_attempted");

    let map = admin
        .post_with_csrf(
            "/ops/cleanup",
            "/ops/cleanup/codes",
            &[("carrier", "ups"), ("code", "ZX9"), ("milestone", "exception")],
        )
        .await;
    assert_eq!((map.status, map.location.as_str()), (303, "/ops/cleanup?mapped=1"));
    assert_eq!(app.order("X-1").await.body["shipments"][0]["status"], "exception");
    let after = admin.get(&map.location).await.body;
    assert!(after.contains("1 stored event(s) re-normalized") && after.contains("Every code received is mapped."));

    let bad = admin
        .post_with_csrf(
            "/ops/cleanup",
            "/ops/cleanup/codes",
            &[("carrier", "ups"), ("code", "Q1"), ("milestone", "teleported")],
        )
        .await;
    assert_eq!(bad.status, 422);
}

#[tokio::test]
async fn the_order_view_shows_the_one_timeline_with_raw_codes_sources_and_late_arrivals() {
    let (app, _) = seeded().await;
    let mut support = Staff::logged_in(&app, SUPPORT).await;
    let page = support.get("/ops/orders/X-1").await;
    assert_eq!(page.status, 200);
    for expected in [
        "Order X-1",
        "1ZOPS0001",
        "delivery_attempted",
        "ZX9",
        "unmapped",
        "carrier",
        "delivery_failed",
        "ana@example.com",
        "arrived",
    ] {
        assert!(page.body.contains(expected), "{expected} missing from the order view");
    }
    let timeline = &page.body[page.body.find("<h2>Timeline</h2>").unwrap()..];
    let happened = timeline.find("2026-11-09 18:00").unwrap();
    let attempted = timeline.find("2026-11-10 11:00").unwrap();
    assert!(happened < attempted, "in the order things happened");
    assert_eq!(support.get("/ops/orders/NOPE-9").await.status, 404);

    let found = support.get("/ops/orders?q=ana%40example.com").await.body;
    assert!(found.contains("/ops/orders/X-1"), "search by e-mail");
    let by_tracking = support.get("/ops/orders?q=1ZOPS0001").await.body;
    assert!(by_tracking.contains("/ops/orders/X-1"), "search by tracking number");
}

#[tokio::test]
async fn another_accounts_staff_see_nothing_of_this_account() {
    let (app, id) = seeded().await;
    let mut other = Staff::logged_in(&app, OTHER).await;
    assert!(other.get("/ops/exceptions").await.body.contains("No exceptions in this view"));
    assert_eq!(other.get("/ops/orders/X-1").await.status, 404);
    assert!(other.get("/ops/orders?q=X-1").await.body.contains("No order matches."));
    assert!(!other.get("/ops/cleanup").await.body.contains("ZX9"));
    let ack = other.post_with_csrf("/ops/exceptions", &format!("/ops/exceptions/{id}/acknowledge"), &[]).await;
    assert_eq!(ack.status, 404);
    assert_eq!(state_of(&app, id).await, "open");
}

#[tokio::test]
async fn logging_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    staff(&app).await;
    let mut admin = Staff::logged_in(&app, ADMIN).await;
    let old = admin.session_cookie().unwrap();
    let out = admin.post_with_csrf("/ops/exceptions", "/ops/logout", &[]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/ops/login"));
    assert!(out.set_cookies.iter().any(|c| c.starts_with("mp_ops=;") && c.contains("Max-Age=0")));

    // A copy of the old cookie opens nothing any more.
    let mut replay = Staff::new(&app);
    replay.cookies.push(("mp_ops".into(), old));
    let page = replay.get("/ops/exceptions").await;
    assert_eq!((page.status, page.location.as_str()), (303, "/ops/login"));
    assert_eq!(replay.post("/ops/logout", &[("csrf", "x")]).await.status, 403);
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_address() {
    let app = spawn_app().await;
    staff(&app).await;
    let mut last = 0;
    for _ in 0..11 {
        last = Staff::login(&app, ADMIN, "wrong password!").await.1.status;
    }
    assert_eq!(last, 429);
}

#[tokio::test]
async fn a_user_created_on_the_command_line_logs_in_and_the_password_is_never_printed() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_milepost"))
        .env("MILEPOST_DATABASE_URL", &db)
        .env("MILEPOST_LOG", "debug")
        .env_remove("MILEPOST_PASSWORD")
        .args(["users", "create", "--account", "acme", "--email", "Night@Acme.example", "--role", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "created staff user night@acme.example (admin) of account acme");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "the password is never printed or logged");

    let short = Command::new(env!("CARGO_BIN_EXE_milepost"))
        .env("MILEPOST_DATABASE_URL", &db)
        .env("MILEPOST_PASSWORD", "short")
        .args(["users", "create", "--account", "acme", "--email", "x@acme.example", "--role", "support"])
        .output()
        .unwrap();
    assert!(!short.status.success());

    let app = spawn_app_with(|s| s.database_url = db.clone()).await;
    let (_, page) = Staff::login(&app, "night@acme.example", PASSWORD).await;
    assert_eq!((page.status, page.location.as_str()), (303, "/ops/exceptions"));
}

#[tokio::test]
async fn cleanup_lists_parcels_gone_quiet_and_scans_resent_by_source_and_station() {
    let (app, _) = seeded().await;
    let mut support = Staff::logged_in(&app, SUPPORT).await;
    let fresh = support.get("/ops/cleanup").await.body;
    assert!(fresh.contains("No parcel on its way has gone quiet that long."));
    assert!(fresh.contains("No fact was received twice."));

    let again = common::carrier_event("1ZOPS0001", "a", "handed_to_carrier", "2026-11-09T18:00:00Z");
    assert_eq!(app.post_events(serde_json::json!([again])).await.status, 200);
    app.clock.set(common::test_start() + chrono::Duration::days(6));
    let expired = support.get("/ops/cleanup").await;
    assert_eq!((expired.status, expired.location.as_str()), (303, "/ops/login"), "sessions expire after 12 hours");
    let mut support = Staff::logged_in(&app, SUPPORT).await;
    let later = support.get("/ops/cleanup").await.body;
    let stale = &later[later.find("<h2>Stale parcels</h2>").unwrap()..later.find("<h2>Resent scans").unwrap()];
    assert!(stale.contains("1ZOPS0001") && stale.contains("delivery_attempted"), "{stale}");
    let resent = &later[later.find("<h2>Resent scans").unwrap()..later.find("<h2>Lane rhythm").unwrap()];
    assert!(resent.contains("<td>carrier</td><td></td><td>1</td><td>1</td>"), "{resent}");
    let longer = support.get("/ops/cleanup?stale_days=30").await.body;
    assert!(longer.contains("No parcel on its way has gone quiet that long."));
    assert_eq!(support.get("/ops/cleanup?stale_days=-4").await.status, 200, "a bad number falls back");
}

#[tokio::test]
async fn the_order_view_lists_its_notifications_among_its_events_with_why_one_was_suppressed() {
    let (app, _) = seeded().await;
    // No mail server is configured here: the customer's notice of the failed attempt is
    // suppressed with that reason when the worker takes it.
    app.notifier.deliver_due().await.expect("delivery step");
    let mut support = Staff::logged_in(&app, SUPPORT).await;
    let page = support.get("/ops/orders/X-1").await;
    assert_eq!(page.status, 200);
    let timeline = &page.body[page.body.find("<h2>Timeline</h2>").unwrap()..];
    let notice = timeline.find("notice: delivery_attempted").expect("the customer's notice is on the timeline");
    let row_end = notice + timeline[notice..].find("</tr>").unwrap();
    let row = &timeline[notice..row_end];
    assert!(row.contains("suppressed") && row.contains("MILEPOST_SMTP_URL is not set"), "{row}");
    assert!(row.contains("<code>email</code>") && row.contains("milepost → customer"), "{row}");
    let attempted = timeline.find("2026-11-10 11:00").unwrap();
    assert!(attempted < notice, "the message sits after the event that caused it");
}

#[tokio::test]
async fn order_search_finds_an_order_by_postal_code_on_the_dashboard_and_the_api() {
    let (app, _) = seeded().await;
    let mut support = Staff::logged_in(&app, SUPPORT).await;
    for query in ["78701", "787%2001"] {
        let found = support.get(&format!("/ops/orders?q={query}")).await.body;
        assert!(found.contains("/ops/orders/X-1"), "search by postal code {query}");
    }
    assert!(!support.get("/ops/orders?q=99999").await.body.contains("/ops/orders/X-1"));
    let api = app.get("/api/v1/orders?q=78701", &app.support).await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.body["orders"][0]["order_number"], "X-1", "{}", api.body);
    let other = app.get("/api/v1/orders?q=78701", &app.other_admin).await;
    assert_eq!(other.body["orders"].as_array().map(Vec::len), Some(0), "another account finds nothing");
}

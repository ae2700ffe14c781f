//! The operations dashboard in a real browser (headless Chromium through chromedriver, see
//! `browser_support`): a staff admin logs in with the form, sees the exception queue, opens the
//! order, acknowledges the exception and maps an unmapped carrier code, all by clicking, with
//! the cookie, CSRF token and redirects handled by the browser itself. On failure a screenshot
//! is saved under `target/screenshots/`; without Chromium the test prints why and passes.

mod browser_support;
mod common;
mod ops_support;

use browser_support::Browser;
use common::spawn_app;
use ops_support::{ADMIN, PASSWORD, failed_attempt_with_unmapped_code, staff};

#[tokio::test]
async fn a_staff_admin_logs_in_acknowledges_an_exception_and_maps_an_unmapped_code() {
    let Some(b) = Browser::start("ops").await else { return };
    let app = spawn_app().await;
    staff(&app).await;
    failed_attempt_with_unmapped_code(&app, "OB-1", "1ZOPSB001").await;

    b.open(&format!("{}/ops", app.base)).await;
    b.sees("Log in").await;
    b.type_into("#email", ADMIN).await;
    b.type_into("#password", "wrong password").await;
    b.click("form[action='/ops/login'] button[type=submit]").await;
    b.sees("Wrong e-mail or password").await;
    b.type_into("#email", ADMIN).await;
    b.type_into("#password", PASSWORD).await;
    b.click("form[action='/ops/login'] button[type=submit]").await;

    b.sees("Exception queue").await;
    b.sees("delivery_failed").await;
    b.sees("OB-1").await;
    b.click("a[href='/ops/orders/OB-1']").await;
    b.sees("Order OB-1").await;
    b.sees("ZX9").await;
    b.sees("unmapped").await;

    let api = app.get("/api/v1/exceptions?kind=delivery_failed", &app.support).await;
    let id = api.body["exceptions"][0]["id"].as_str().expect("delivery_failed opened").to_string();
    b.open(&format!("{}/ops/exceptions", app.base)).await;
    b.sees("Exception queue").await;
    b.click(&format!("#exception-{id} form[action$='/acknowledge'] button[type=submit]")).await;
    b.sees("acknowledged.").await;
    let api = app.get("/api/v1/exceptions?kind=delivery_failed", &app.support).await;
    assert_eq!(api.body["exceptions"][0]["state"], "acknowledged");

    b.click("a[href='/ops/cleanup']").await;
    b.sees("Unmapped carrier codes").await;
    b.sees("ZX9").await;
    let option = b.element("select[name=milestone] option[value=exception]").await.expect("milestone option");
    b.call(reqwest::Method::POST, &format!("/element/{option}/click"), Some(serde_json::json!({}))).await;
    b.click("form[action='/ops/cleanup/codes'] button[type=submit]").await;
    b.sees("re-normalized").await;
    b.sees("Every code received is mapped.").await;
    assert_eq!(app.order("OB-1").await.body["shipments"][0]["status"], "exception");

    b.click("form[action='/ops/logout'] button[type=submit]").await;
    b.sees("Log in").await;
    b.open(&format!("{}/ops/exceptions", app.base)).await;
    b.sees("Log in").await;
}

//! The customer tracking page in a real browser: headless Chromium (the Debian `chromium`
//! package) driven through `chromedriver` over the W3C WebDriver protocol, which is plain JSON
//! over HTTP, so `reqwest` is the whole client and nothing is downloaded. Each test opens the
//! page at phone size, asserts on the rendered text a person sees, and on failure saves a
//! screenshot under `target/screenshots/`. Without Chromium the tests print why and pass; CI
//! installs it (`.ci/run`), so there they run.

mod browser_support;
mod common;
mod tracking_support;

use browser_support::Browser;
use common::{TestApp, spawn_app};
use serde_json::json;
use tracking_support::{lookup_path, seed_delivered, seed_late, seed_split};

async fn app_and_browser(name: &'static str) -> Option<(TestApp, Browser)> {
    let browser = Browser::start(name).await?;
    Some((spawn_app().await, browser))
}

#[tokio::test]
async fn a_customer_finds_their_order_with_the_form_and_a_wrong_email_finds_nothing() {
    let Some((app, b)) = app_and_browser("lookup").await else { return };
    seed_delivered(&app, "TB-1").await;
    b.open(&format!("{}/track?account=acme", app.base)).await;
    b.sees("Track your order").await;
    b.type_into("#order_number", "TB-1").await;
    b.type_into("#email", "eve@example.com").await;
    b.click("button[type=submit]").await;
    b.sees("We couldn't find an order with those details").await;
    b.type_into("#email", "ana@example.com").await;
    b.click("button[type=submit]").await;
    b.sees("Order TB-1").await;
    b.sees("Hi Ana,").await;
    b.does_not_see("Diaz").await;
}

#[tokio::test]
async fn a_delivered_order_reads_delivered_without_raw_codes_or_advisory_claims() {
    let Some((app, b)) = app_and_browser("delivered").await else { return };
    seed_delivered(&app, "TB-2").await;
    b.open(&format!("{}{}", app.base, lookup_path("TB-2"))).await;
    b.sees("Delivered").await;
    b.sees("Preparing shipment").await;
    b.sees("Shipped").await;
    b.sees("Track on the UPS website").await;
    b.sees("Austin").await;
    for hidden in ["ZQ7", "Hub memo", "Store marked fulfilled", "1 Main St", "ana@example.com", "78701"] {
        b.does_not_see(hidden).await;
    }
    // A delivered order on time has no delay notice.
    b.does_not_see("running late").await;
    let source = b.source().await;
    assert!(source.contains("https://www.ups.com/track?tracknum=1ZTB2"), "carrier link");
    assert!(source.contains("<main"), "main landmark");
}

#[tokio::test]
async fn a_split_order_shows_each_package_with_its_items_and_a_label_is_not_shipped() {
    let Some((app, b)) = app_and_browser("split").await else { return };
    seed_split(&app, "TB-3").await;
    b.open(&format!("{}{}", app.base, lookup_path("TB-3"))).await;
    b.sees("Partly delivered").await;
    b.sees("Package 1 of 2").await;
    b.sees("Package 2 of 2").await;
    b.sees("2 × Mug").await;
    b.sees("1 × Tee").await;
    b.sees("FedEx").await;
    let text = b.text().await;
    let second = &text[text.find("Package 2 of 2").unwrap()..];
    assert!(second.contains("Preparing shipment"), "the labelled parcel is being prepared:\n{second}");
    assert!(!second.contains("Shipped"), "a label is not shipped (rule 1):\n{second}");
}

#[tokio::test]
async fn a_late_order_says_so_and_what_happens_next() {
    let Some((app, b)) = app_and_browser("late").await else { return };
    seed_late(&app, "TB-4").await;
    b.open(&format!("{}{}", app.base, lookup_path("TB-4"))).await;
    b.sees("Your order is running late").await;
    b.sees("We are checking with the carrier").await;
    b.sees("contact us").await;
    b.sees("On its way").await;
    b.sees("Memphis").await;
}

#[tokio::test]
async fn the_page_switches_to_spanish() {
    let Some((app, b)) = app_and_browser("spanish").await else { return };
    seed_split(&app, "TB-5").await;
    b.open(&format!("{}{}", app.base, lookup_path("TB-5"))).await;
    b.click("a[hreflang=es]").await;
    b.sees("Pedido TB-5").await;
    b.sees("Entregado en parte").await;
    b.sees("Paquete 1 de 2").await;
    b.sees("Preparando el envío").await;
    b.sees("Devoluciones").await;
    assert!(b.source().await.contains("lang=\"es\""));
}

#[tokio::test]
async fn a_customer_requests_a_return_from_the_page_and_sees_its_state() {
    let Some((app, b)) = app_and_browser("return").await else { return };
    seed_split(&app, "TB-6").await;
    b.open(&format!("{}{}", app.base, lookup_path("TB-6"))).await;
    b.sees("Return items").await;
    b.type_into("#qty_0", "1").await;
    let reason = b.element("#reason option[value=damaged]").await.expect("reason option");
    b.call(reqwest::Method::POST, &format!("/element/{reason}/click"), Some(json!({}))).await;
    b.click("form[action='/returns/start'] button[type=submit]").await;
    b.sees("Your return request was received").await;
    b.sees("Requested, waiting for review").await;
    b.sees("1 × Mug (Damaged)").await;
    assert!(b.url().await.contains("/t/"), "the customer lands on their signed link");
    let order = app.order("TB-6").await;
    assert_eq!(order.body["returns"][0]["items"], json!([{"sku": "MUG", "quantity": 1, "reason": "damaged"}]));
}

//! The demo account: seeded through the real use cases, it shows every case the README and the
//! issues promise, and the exception rules find each problem in it.

mod common;
mod ops_support;

use common::spawn_app;
use milepost_domain::Role;
use std::collections::HashSet;

#[tokio::test]
async fn the_demo_seeds_realistic_orders_and_the_rules_find_each_planted_problem() {
    let app = spawn_app().await;
    let caller = app.milepost.authenticate(Some(&app.admin), Role::Admin).await.unwrap();
    let now = common::test_start();
    let seeded = milepost::demo::seed(&app.milepost, &caller, 40, now, false).await.unwrap();
    assert_eq!(seeded.orders, 40);

    let list = app.get("/api/v1/orders?limit=200", &app.support).await;
    assert_eq!(list.body["orders"].as_array().unwrap().len(), 40);
    let statuses: HashSet<String> =
        list.body["orders"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap().to_string()).collect();
    for expected in ["delivered", "cancelled", "in_fulfillment", "partially_delivered"] {
        assert!(statuses.contains(expected), "no {expected} order in {statuses:?}");
    }

    let exceptions = app.get("/api/v1/exceptions?state=open&limit=200", &app.support).await;
    let kinds: HashSet<String> = exceptions.body["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    for expected in ["missing_scan", "delivery_failed", "handoff_mismatch", "late", "stalled"] {
        assert!(kinds.contains(expected), "no {expected} exception in {kinds:?}");
    }

    let unmapped = app.get("/api/v1/orders/MP-10020", &app.support).await.body;
    let codes: Vec<&str> = unmapped["shipments"][0]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["milestone"] == "unmapped")
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["ZX9"]);

    let again = milepost::demo::seed(&app.milepost, &caller, 40, now, false).await.unwrap();
    assert_eq!(again.orders, 0, "seeding twice does not duplicate the demo");
}

#[tokio::test]
async fn the_demo_dashboard_shows_the_kpi_charts_with_every_carrier() {
    let app = spawn_app().await;
    let caller = app.milepost.authenticate(Some(&app.admin), Role::Admin).await.unwrap();
    milepost::demo::seed(&app.milepost, &caller, 40, common::test_start(), false).await.unwrap();
    ops_support::staff(&app).await;
    let mut lead = ops_support::Staff::logged_in(&app, ops_support::ADMIN).await;
    let page = lead.get("/ops/insights").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("<svg class=\"chart\"").count(), 3, "{}", page.body);
    assert!(page.body.contains("<circle class=\"chart-dot\""), "the on-time line has points");
    assert!(page.body.matches("<rect class=\"chart-bar").count() >= 3, "cycle times and exceptions have bars");
    let carriers = page.body.matches("<th scope=\"row\">").count();
    assert!(carriers >= 3, "the demo ships with several carriers, got {carriers}");
    assert_eq!(page.body.matches("<svg class=\"spark\"").count(), carriers, "one sparkline per carrier");
}

//! The customer tracking page over plain HTTP: lookup by order number and e-mail or postal code,
//! identical answers for a wrong pair and an unknown order, the per-address rate limit, signed
//! links, branding, languages, and return requests from the page. (What a browser renders is
//! checked in `tracking_browser.rs`.)

mod common;
mod tracking_support;

use common::{spawn_app, spawn_app_with};
use serde_json::json;
use tracking_support::{lookup_path, post_form, seed_delivered, seed_split};

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn page(app: &common::TestApp, path: &str, accept_language: Option<&str>) -> Page {
    let mut request = app.client.get(format!("{}{}", app.base, path));
    if let Some(lang) = accept_language {
        request = request.header("accept-language", lang);
    }
    let response = request.send().await.expect("request");
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

fn return_token(html: &str) -> String {
    let start = html.find("name=\"token\" value=\"").expect("return form token") + "name=\"token\" value=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn the_form_is_served_without_a_query() {
    let app = spawn_app().await;
    let p = page(&app, "/track", None).await;
    assert_eq!(p.status, 200);
    assert!(p.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(p.body.contains("<label for=\"order_number\">"));
    assert!(p.body.contains("<main id=\"main\""));
}

#[tokio::test]
async fn the_right_pair_shows_the_order_and_a_wrong_pair_answers_like_an_unknown_order() {
    let app = spawn_app().await;
    seed_delivered(&app, "TP-1").await;
    let found = page(&app, &lookup_path("TP-1"), None).await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert!(found.body.contains("Order TP-1"));

    let by_postal = page(&app, "/track?account=acme&order_number=TP-1&postal_code=78-701", None).await;
    assert_eq!(by_postal.status, 200);

    let wrong = page(&app, "/track?account=acme&order_number=TP-1&email=eve%40example.com", None).await;
    let unknown = page(&app, "/track?account=acme&order_number=TP-404&email=eve%40example.com", None).await;
    assert_eq!(wrong.status, 404);
    assert_eq!(unknown.status, 404);
    // The form echoes the typed order number; with the same number typed, the bodies are equal.
    assert_eq!(wrong.body.replace("TP-1", "X"), unknown.body.replace("TP-404", "X"));
    let other_account = page(&app, "/track?account=globex&order_number=TP-1&email=ana%40example.com", None).await;
    assert_eq!(other_account.status, 404);
    let no_such_account = page(&app, "/track?account=nobody&order_number=TP-1&email=ana%40example.com", None).await;
    assert_eq!(no_such_account.status, 404);
}

#[tokio::test]
async fn with_several_accounts_and_none_named_the_lookup_finds_nothing() {
    let app = spawn_app().await;
    seed_delivered(&app, "TP-2").await;
    let p = page(&app, "/track?order_number=TP-2&email=ana%40example.com", None).await;
    assert_eq!(p.status, 404);
}

#[tokio::test]
async fn half_filled_forms_and_odd_input_get_a_friendly_page() {
    let app = spawn_app().await;
    let missing = page(&app, "/track?order_number=TP-1", None).await;
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("Please enter the order number"));
    let odd = page(&app, "/track?order_number=%3Cscript%3E&email=%00&lang=zz&x=1", None).await;
    assert_eq!(odd.status, 404);
    assert!(!odd.body.contains("<script>"));
    assert!(odd.body.contains("&lt;script&gt;"));
    let bad_link = page(&app, "/t/not-a-token", None).await;
    assert_eq!(bad_link.status, 404);
    assert!(bad_link.body.contains("expired or isn"));
}

#[tokio::test]
async fn lookups_over_the_limit_get_429_with_retry_after() {
    let app = spawn_app_with(|s| s.track_rate_limit = 3).await;
    for _ in 0..3 {
        assert_eq!(page(&app, "/track?order_number=X-1&email=a%40b.co", None).await.status, 404);
    }
    let limited = page(&app, "/track?order_number=X-1&email=a%40b.co", None).await;
    assert_eq!(limited.status, 429);
    let wait: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    assert!(limited.body.contains("Too many lookups"));
    // The empty form is not a lookup and stays available.
    assert_eq!(page(&app, "/track", None).await.status, 200);
}

#[tokio::test]
async fn spanish_comes_from_accept_language_and_the_switch_overrides_it() {
    let app = spawn_app().await;
    seed_delivered(&app, "TP-3").await;
    let es = page(&app, &lookup_path("TP-3"), Some("es-MX,es;q=0.9,en;q=0.5")).await;
    assert!(es.body.contains("<html lang=\"es\""));
    assert!(es.body.contains("Pedido TP-3"));
    let en = page(&app, &format!("{}&lang=en", lookup_path("TP-3")), Some("es")).await;
    assert!(en.body.contains("Order TP-3"));
    assert!(en.body.contains("lang=es\""), "the page links its Spanish version");
}

#[tokio::test]
async fn a_signed_link_opens_the_order_and_an_altered_one_does_not() {
    let app = spawn_app().await;
    seed_delivered(&app, "TP-4").await;
    let found = page(&app, &lookup_path("TP-4"), None).await;
    let token = return_token(&found.body);
    // A return-form token is not a view link.
    assert_eq!(page(&app, &format!("/t/{token}"), None).await.status, 404);
    let link = {
        // Build a view link the way notifications will: through the app crate's helper.
        let fields =
            [("token", token.clone()), ("sku_0", "MUG".into()), ("qty_0", "1".into()), ("reason", "damaged".into())];
        let r = post_form(&app, "/returns/start", &fields).await;
        r.url().path().to_string()
    };
    assert!(link.starts_with("/t/"), "after a return the customer lands on the signed link: {link}");
    let opened = page(&app, &link, None).await;
    assert_eq!(opened.status, 200);
    assert!(opened.body.contains("Order TP-4"));
    let mut altered = link.clone();
    altered.insert(5, 'x');
    assert_eq!(page(&app, &altered, None).await.status, 404);
}

#[tokio::test]
async fn a_return_request_from_the_page_is_stored_and_shown_in_the_api() {
    let app = spawn_app().await;
    seed_split(&app, "TP-5").await;
    let found = page(&app, &lookup_path("TP-5"), None).await;
    let token = return_token(&found.body);
    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move { post_form(app, "/returns/start", &fields).await }
    };
    // Only the delivered mugs have shipped; the tee is still being prepared.
    assert!(found.body.contains("name=\"sku_0\" value=\"MUG\""));
    assert!(!found.body.contains("value=\"TEE\""));

    let too_many = post(vec![
        ("token", token.clone()),
        ("sku_0", "MUG".into()),
        ("qty_0", "3".into()),
        ("reason", "damaged".into()),
    ])
    .await;
    assert_eq!(too_many.status(), 422);
    let no_reason = post(vec![("token", token.clone()), ("sku_0", "MUG".into()), ("qty_0", "1".into())]).await;
    assert_eq!(no_reason.status(), 422);
    let forged = post(vec![
        ("token", "forged.token".into()),
        ("sku_0", "MUG".into()),
        ("qty_0", "1".into()),
        ("reason", "damaged".into()),
    ])
    .await;
    assert_eq!(forged.status(), 403);

    let ok = post(vec![
        ("token", token.clone()),
        ("sku_0", "MUG".into()),
        ("qty_0", "2".into()),
        ("reason", "wrong_item".into()),
        ("note", "Ordered blue".into()),
    ])
    .await;
    assert_eq!(ok.status(), 200);
    let shown = ok.text().await.unwrap();
    assert!(shown.contains("Your return request was received"));
    assert!(shown.contains("Requested, waiting for review"));

    let order = app.order("TP-5").await;
    let returns = order.body["returns"].as_array().unwrap();
    assert_eq!(returns.len(), 1);
    assert_eq!(returns[0]["state"], "requested");
    assert_eq!(returns[0]["items"], json!([{"sku": "MUG", "quantity": 2, "reason": "wrong_item"}]));
    assert_eq!(returns[0]["note"], "Ordered blue");
    assert!(returns[0]["id"].is_string() && returns[0]["created_at"].is_string());

    // Everything shipped is now covered by a request: a second one is refused.
    let again =
        post(vec![("token", token), ("sku_0", "MUG".into()), ("qty_0", "1".into()), ("reason", "damaged".into())])
            .await;
    assert_eq!(again.status(), 422);
}

#[tokio::test]
async fn branding_is_admin_only_validated_and_themes_the_page() {
    let app = spawn_app().await;
    seed_delivered(&app, "TP-6").await;
    let branding = json!({
        "name": "Acme Goods", "logo_url": "https://cdn.acme.example/logo.png", "primary_color": "#FFDD00",
        "accent_color": "#0b5c45", "support_url": "https://acme.example/help", "support_email": "help@acme.example",
        "footer_text": "Acme Goods, 1 Market St"
    });
    let put = app.send(reqwest::Method::PUT, "/api/v1/branding", Some(&app.admin), Some(branding.to_string())).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.body["primary_color"], "#ffdd00");
    assert_eq!(put.body["page_colors"]["primary"], "#1d3f8c", "yellow is unreadable with white text");
    let got = app.get("/api/v1/branding", &app.admin).await;
    assert_eq!(got.body["name"], "Acme Goods");
    assert_eq!(app.get("/api/v1/branding", &app.support).await.status, 403);
    let other = app.get("/api/v1/branding", &app.other_admin).await;
    assert_eq!(other.body["name"], serde_json::Value::Null);

    let bad = json!({"primary_color": "blue", "logo_url": "javascript:alert(1)", "support_email": "nope"});
    let refused = app.send(reqwest::Method::PUT, "/api/v1/branding", Some(&app.admin), Some(bad.to_string())).await;
    assert_eq!(refused.status, 422);
    let fields: Vec<_> = refused.body["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, vec![json!("logo_url"), json!("primary_color"), json!("support_email")]);

    let p = page(&app, &lookup_path("TP-6"), None).await;
    assert!(p.body.contains("Acme Goods"));
    assert!(p.body.contains("--primary:#1d3f8c"));
    assert!(p.body.contains("https://acme.example/help"));
    assert!(p.body.contains("Acme Goods, 1 Market St"));
}

#[tokio::test]
async fn the_openapi_document_describes_branding() {
    let app = spawn_app().await;
    let doc = app.send(reqwest::Method::GET, "/openapi.json", None, None).await;
    assert!(doc.body["paths"]["/api/v1/branding"]["put"].is_object());
    assert!(doc.body["paths"]["/api/v1/branding"]["get"].is_object());
}

#[tokio::test]
async fn a_link_built_by_the_app_uses_the_public_url_and_survives_a_restart() {
    use milepost::Application;
    use milepost::settings::Settings;
    use milepost_domain::{AccountName, OrderNumber, Role};
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("m.db").display()),
        listen: "127.0.0.1:0".into(),
        public_url: Some("https://track.example.com/".into()),
        track_rate_limit: 0,
        deliver_in_background: false,
        ..Settings::default()
    };
    let first = Application::build(&settings).await.unwrap();
    let key = first.app().create_api_key(&AccountName::parse("acme").unwrap(), Role::Admin).await.unwrap();
    let caller = first.app().authenticate(Some(&key), Role::Admin).await.unwrap();
    let number = OrderNumber::parse("TP-9").unwrap();
    let order = milepost_domain::Order {
        charged: None,
        order_number: number.clone(),
        channel: milepost_domain::Channel::api(),
        placed_at: chrono::DateTime::parse_from_rfc3339("2026-11-01T10:00:00-05:00").unwrap(),
        promised_by: None,
        currency: "USD".into(),
        customer: Default::default(),
        ship_to: Default::default(),
        items: vec![],
    };
    first.app().put_order(&caller, order).await.unwrap();
    let link = first.app().tracking_link(caller.account_id, &number);
    let path = link.strip_prefix("https://track.example.com/t/").expect("link on the public URL").to_string();
    drop(first);

    // A new process on the same database keeps the generated secret, so the link still opens.
    let second = Application::build(&settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until(std::future::pending()));
    let reply = reqwest::get(format!("{base}/t/{path}")).await.unwrap();
    assert_eq!(reply.status(), 200);
    assert!(reply.text().await.unwrap().contains("Order TP-9"));
}

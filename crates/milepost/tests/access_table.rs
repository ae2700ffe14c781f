//! The access table: every endpoint of the OpenAPI document, called by every kind of caller (no
//! key, a forged key, and keys of each role) against its own account and another account, must
//! answer as designed: 401 without a valid key or signature, 403 when the role is too small,
//! 404 for another account's resources, and the endpoint's own answer otherwise. The table is
//! checked against `/openapi.json`, so an endpoint added without a row fails this test.

mod common;

use base64::Engine;
use common::{TestApp, order_json, spawn_app};
use hmac::{Hmac, KeyInit, Mac};
use milepost_domain::{AccountName, Role};
use milepost_ingest::signature::sign_milepost;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::BTreeSet;

const ORDER: &str = "ACC-1";
const RETURNED_ORDER: &str = "ACC-RET";
const DAMAGED_ORDER: &str = "ACC-DMG";
const TRACKING: &str = "1ZACCESS000000001";
const CARRIER_SECRET: &str = "whsec_access_table_carrier";
const CHANNEL_SECRET: &str = "shpss_access_table_channel";

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug)]
enum Guard {
    /// A bearer key holding at least this role.
    Key(Role),
    /// The sender's signature over the body, made with the integration's shared secret.
    Signature,
}

/// What another account's caller reaches.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scope {
    /// A resource of one account named in the path: another account gets 404.
    Resource,
    /// A resource named in the body (a barcode): another account gets the 422 an unknown one
    /// gets, naming the field, so it learns nothing about what exists elsewhere.
    NamedInBody,
    /// The caller's own account (its lists, settings and writes): another account works on its own.
    Account,
}

/// One request, ready to send.
struct Call {
    path: String,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

impl Call {
    fn get(path: impl Into<String>) -> Call {
        Call { path: path.into(), content_type: "", headers: vec![], body: None }
    }

    fn json(path: impl Into<String>, body: Value) -> Call {
        Call {
            path: path.into(),
            content_type: "application/json",
            headers: vec![],
            body: Some(body.to_string().into_bytes()),
        }
    }

    fn bytes(path: impl Into<String>, content_type: &'static str, body: &[u8]) -> Call {
        Call { path: path.into(), content_type, headers: vec![], body: Some(body.to_vec()) }
    }
}

/// The resources of the account under test that the paths name.
struct Fixture {
    exception_id: String,
    /// A return requested on a delivered order.
    return_id: String,
    /// A damaged parcel's exception (claims are opened from it) and the claim opened from it.
    damage_exception_id: String,
    claim_id: String,
    notification_id: String,
    carrier_integration: String,
    channel_integration: String,
}

struct Row {
    method: Method,
    /// The path as the OpenAPI document spells it.
    path: &'static str,
    guard: Guard,
    scope: Scope,
    /// The statuses a caller that passes the guard may get (a repeated write may conflict).
    allowed: &'static [u16],
    call: fn(&Fixture) -> Call,
}

fn row(
    method: Method,
    path: &'static str,
    guard: Guard,
    scope: Scope,
    allowed: &'static [u16],
    call: fn(&Fixture) -> Call,
) -> Row {
    Row { method, path, guard, scope, allowed, call }
}

fn ups_payload() -> Vec<u8> {
    json!({"trackResponse": {"shipment": [{"inquiryNumber": TRACKING, "package": [{
        "trackingNumber": TRACKING,
        "activity": [{"date": "20261103", "time": "101500", "gmtOffset": "-06:00",
            "location": {"address": {"city": "Boise", "stateProvince": "ID", "countryCode": "US"}},
            "status": {"type": "I", "code": "DP", "description": "Departed from facility"}}]}]}]}})
    .to_string()
    .into_bytes()
}

fn shopify_order() -> Vec<u8> {
    json!({"id": 6102938475611u64, "name": "#2042", "order_number": 2042, "email": "dana@example.net",
        "created_at": "2026-11-01T09:14:22-05:00", "currency": "USD", "total_price": "29.00",
        "line_items": [{"id": 15001122334456u64, "sku": "MUG-STN-12OZ", "title": "Stoneware Mug", "quantity": 1, "price": "29.00"}],
        "shipping_address": {"name": "Dana Ruiz", "address1": "415 Juniper St", "city": "Boise", "province_code": "ID",
            "zip": "83702", "country_code": "US"}})
    .to_string()
    .into_bytes()
}

fn shopify_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

const IMPORT_CSV: &str = "order_number,channel,placed_at,promised_by,currency,customer_name,customer_email,customer_phone,ship_line1,ship_line2,ship_city,ship_region,ship_postal_code,ship_country,sku,description,quantity,unit_price\n\
    ACC-CSV-1,b2b,2026-11-01T09:14:22-05:00,2026-11-05,USD,Dana Ruiz,dana@example.net,,415 Juniper St,,Boise,ID,83702,US,MUG,Mug,2,29.00\n";

const EPCIS_DOCUMENT: &str = include_str!("../../milepost-ingest/tests/fixtures/epcis_capture.json");

/// Every endpoint of API v1 and the sender webhooks, as designed.
fn table() -> Vec<Row> {
    use Guard::{Key, Signature};
    use Scope::{Account, NamedInBody, Resource};
    let (get, post, put) = (Method::GET, Method::POST, Method::PUT);
    vec![
        row(get.clone(), "/api/v1/orders", Key(Role::Support), Account, &[200], |_| Call::get("/api/v1/orders?q=ACC")),
        row(post.clone(), "/api/v1/orders", Key(Role::Ingest), Account, &[200, 201], |_| {
            Call::json("/api/v1/orders", order_json("ACC-NEW"))
        }),
        row(get.clone(), "/api/v1/orders/{order_number}", Key(Role::Support), Resource, &[200], |_| {
            Call::get(format!("/api/v1/orders/{ORDER}"))
        }),
        row(post.clone(), "/api/v1/orders/{order_number}/shipments", Key(Role::Ingest), Resource, &[200, 201], |_| {
            Call::json(
                format!("/api/v1/orders/{ORDER}/shipments"),
                json!({"carrier": "ups", "tracking_number": TRACKING}),
            )
        }),
        row(post.clone(), "/api/v1/events", Key(Role::Ingest), Account, &[200], |_| {
            Call::json(
                "/api/v1/events",
                json!({"events": [{"source": "carrier", "source_event_id": "acc-orphan", "tracking_number": "1ZACCESSORPHAN01",
                    "carrier": "ups", "milestone": "in_transit", "occurred_at": "2026-11-03T10:00:00Z"}]}),
            )
        }),
        row(get.clone(), "/api/v1/exceptions", Key(Role::Support), Account, &[200], |_| {
            Call::get("/api/v1/exceptions")
        }),
        row(post.clone(), "/api/v1/exceptions/{id}/acknowledge", Key(Role::Admin), Resource, &[200, 409], |f| {
            Call::json(format!("/api/v1/exceptions/{}/acknowledge", f.exception_id), json!({}))
        }),
        row(post.clone(), "/api/v1/exceptions/{id}/assign", Key(Role::Admin), Resource, &[200, 409], |f| {
            Call::json(format!("/api/v1/exceptions/{}/assign", f.exception_id), json!({"owner": "carrier-desk"}))
        }),
        row(post.clone(), "/api/v1/exceptions/{id}/resolve", Key(Role::Admin), Resource, &[200, 409], |f| {
            Call::json(format!("/api/v1/exceptions/{}/resolve", f.exception_id), json!({"note": "called the carrier"}))
        }),
        row(get.clone(), "/api/v1/lanes", Key(Role::Support), Account, &[200], |_| Call::get("/api/v1/lanes")),
        row(get.clone(), "/api/v1/kpis", Key(Role::Support), Account, &[200], |_| {
            Call::get("/api/v1/kpis?from=2026-11-01&to=2026-11-30")
        }),
        row(get.clone(), "/api/v1/branding", Key(Role::Admin), Account, &[200], |_| Call::get("/api/v1/branding")),
        row(put.clone(), "/api/v1/branding", Key(Role::Admin), Account, &[200], |_| {
            Call::json("/api/v1/branding", json!({"name": "Access Table Goods"}))
        }),
        row(post.clone(), "/api/v1/integrations", Key(Role::Admin), Account, &[201], |_| {
            Call::json("/api/v1/integrations", json!({"kind": "generic", "secret": "a-long-shared-secret-1234"}))
        }),
        row(get.clone(), "/api/v1/carrier-codes/unmapped", Key(Role::Support), Account, &[200], |_| {
            Call::get("/api/v1/carrier-codes/unmapped")
        }),
        row(put.clone(), "/api/v1/carrier-codes/{carrier}/{code}", Key(Role::Admin), Account, &[200], |_| {
            Call::json("/api/v1/carrier-codes/dhl/ZX9", json!({"milestone": "exception"}))
        }),
        row(post.clone(), "/api/v1/scans", Key(Role::Ingest), NamedInBody, &[200, 201], |_| {
            Call::json(
                "/api/v1/scans",
                json!({"barcode": ORDER, "step": "pick", "station": "P2", "operator": "op-17", "scanned_at": "2026-11-02T13:00:00-08:00"}),
            )
        }),
        row(post.clone(), "/api/v1/epcis/events", Key(Role::Ingest), Account, &[200], |_| {
            Call::bytes("/api/v1/epcis/events", "application/ld+json", EPCIS_DOCUMENT.as_bytes())
        }),
        row(post.clone(), "/api/v1/imports", Key(Role::Ingest), Account, &[200], |_| {
            Call::bytes("/api/v1/imports", "text/csv", IMPORT_CSV.as_bytes())
        }),
        row(get.clone(), "/api/v1/notifications/dead", Key(Role::Admin), Account, &[200], |_| {
            Call::get("/api/v1/notifications/dead")
        }),
        row(post.clone(), "/api/v1/notifications/{id}/resend", Key(Role::Admin), Resource, &[200, 409], |f| {
            Call::json(format!("/api/v1/notifications/{}/resend", f.notification_id), json!({}))
        }),
        row(get.clone(), "/api/v1/notification-settings", Key(Role::Admin), Account, &[200], |_| {
            Call::get("/api/v1/notification-settings")
        }),
        row(put.clone(), "/api/v1/notification-settings", Key(Role::Admin), Account, &[200], |_| {
            Call::json("/api/v1/notification-settings", json!({"alert_email": "ops@example.com"}))
        }),
        row(get.clone(), "/api/v1/notification-policy", Key(Role::Support), Account, &[200], |_| {
            Call::get("/api/v1/notification-policy")
        }),
        row(put.clone(), "/api/v1/notification-policy", Key(Role::Admin), Account, &[200], |_| {
            Call::bytes("/api/v1/notification-policy", "application/toml", b"merge_window_minutes = 30\n")
        }),
        row(
            get.clone(),
            "/api/v1/orders/{order_number}/notifications/preview",
            Key(Role::Support),
            Resource,
            &[200],
            |_| Call::get(format!("/api/v1/orders/{ORDER}/notifications/preview?milestone=delivered&channel=email")),
        ),
        row(get.clone(), "/api/v1/returns", Key(Role::Support), Account, &[200], |_| Call::get("/api/v1/returns")),
        row(get.clone(), "/api/v1/returns/{id}", Key(Role::Support), Resource, &[200], |f| {
            Call::get(format!("/api/v1/returns/{}", f.return_id))
        }),
        row(post.clone(), "/api/v1/orders/{order_number}/returns", Key(Role::Admin), Resource, &[201, 422], |_| {
            Call::json(
                format!("/api/v1/orders/{RETURNED_ORDER}/returns"),
                json!({"items": [{"sku": "MUG", "quantity": 1, "reason": "damaged"}]}),
            )
        }),
        row(post.clone(), "/api/v1/returns/{id}/transitions", Key(Role::Admin), Resource, &[200, 409], |f| {
            Call::json(format!("/api/v1/returns/{}/transitions", f.return_id), json!({"to": "approved"}))
        }),
        row(post.clone(), "/api/v1/returns/{id}/inspection", Key(Role::Admin), Resource, &[200, 409, 422], |f| {
            Call::json(
                format!("/api/v1/returns/{}/inspection", f.return_id),
                json!({"items": [{"sku": "MUG", "quantity": 1, "result": "damaged", "disposition": "scrap"}]}),
            )
        }),
        row(get.clone(), "/api/v1/return-policy", Key(Role::Support), Account, &[200], |_| {
            Call::get("/api/v1/return-policy")
        }),
        row(put.clone(), "/api/v1/return-policy", Key(Role::Admin), Account, &[200], |_| {
            Call::json(
                "/api/v1/return-policy",
                json!({"window_days": 30, "non_returnable_skus": [], "reasons": ["damaged", "wrong_item"]}),
            )
        }),
        row(get.clone(), "/api/v1/kpis/returns", Key(Role::Support), Account, &[200], |_| {
            Call::get("/api/v1/kpis/returns?from=2026-11-01&to=2026-11-30")
        }),
        row(post.clone(), "/api/v1/exceptions/{id}/claims", Key(Role::Admin), Resource, &[201, 409], |f| {
            Call::json(
                format!("/api/v1/exceptions/{}/claims", f.damage_exception_id),
                json!({"amount": "18.00", "evidence": "photos"}),
            )
        }),
        row(get.clone(), "/api/v1/claims/{id}", Key(Role::Support), Resource, &[200], |f| {
            Call::get(format!("/api/v1/claims/{}", f.claim_id))
        }),
        row(post.clone(), "/api/v1/claims/{id}/transitions", Key(Role::Admin), Resource, &[200, 409], |f| {
            Call::json(format!("/api/v1/claims/{}/transitions", f.claim_id), json!({"to": "submitted"}))
        }),
        row(get.clone(), "/api/v1/orders/{order_number}/claims", Key(Role::Support), Resource, &[200], |_| {
            Call::get(format!("/api/v1/orders/{DAMAGED_ORDER}/claims"))
        }),
        // The fixture's parcel is on its way, not back with the sender: the owner hears 409.
        row(
            post.clone(),
            "/api/v1/orders/{order_number}/shipments/{tracking_number}/decision",
            Key(Role::Admin),
            Resource,
            &[409],
            |_| {
                Call::json(
                    format!("/api/v1/orders/{ORDER}/shipments/{TRACKING}/decision"),
                    json!({"decision": "refund", "note": "customer asked"}),
                )
            },
        ),
        row(post.clone(), "/webhooks/carriers/{integration}", Signature, Resource, &[200], |f| {
            let body = ups_payload();
            let signature = sign_milepost(CARRIER_SECRET.as_bytes(), common::test_start().timestamp(), &body);
            let mut call =
                Call::bytes(format!("/webhooks/carriers/{}", f.carrier_integration), "application/json", &body);
            call.headers.push(("Milepost-Signature", signature));
            call
        }),
        row(post, "/webhooks/channels/{integration}", Signature, Resource, &[200], |f| {
            let body = shopify_order();
            let mut call =
                Call::bytes(format!("/webhooks/channels/{}", f.channel_integration), "application/json", &body);
            call.headers.push(("X-Shopify-Hmac-Sha256", shopify_signature(CHANNEL_SECRET, &body)));
            call.headers.push(("X-Shopify-Topic", "orders/create".to_string()));
            call
        }),
    ]
}

fn is_signature_header(name: &str) -> bool {
    matches!(name, "Milepost-Signature" | "X-Shopify-Hmac-Sha256")
}

/// A caller in the table: no key, a forged key, or a key of a role in one of the two accounts.
#[derive(Clone, Copy, Debug)]
enum Caller {
    Nobody,
    ForgedKey,
    Own(Role),
    Other(Role),
}

struct Keys {
    own: Vec<(Role, String)>,
    other: Vec<(Role, String)>,
}

impl Keys {
    fn of(&self, caller: Caller) -> Option<String> {
        let find = |keys: &[(Role, String)], role: Role| keys.iter().find(|(r, _)| *r == role).map(|(_, k)| k.clone());
        match caller {
            Caller::Nobody => None,
            Caller::ForgedKey => Some("mp_0000000000000000000000000000000x".to_string()),
            Caller::Own(role) => find(&self.own, role),
            Caller::Other(role) => find(&self.other, role),
        }
    }
}

/// What the design says `caller` gets from `row`: `None` means one of the row's allowed answers.
fn expected(row: &Row, caller: Caller) -> Option<u16> {
    match (row.guard, caller) {
        (Guard::Key(_), Caller::Nobody | Caller::ForgedKey) => Some(401),
        (Guard::Key(needed), Caller::Own(role)) => (!role.allows(needed)).then_some(403),
        (Guard::Key(needed), Caller::Other(role)) if !role.allows(needed) => Some(403),
        (Guard::Key(_), Caller::Other(_)) => match row.scope {
            Scope::Resource => Some(404),
            Scope::NamedInBody => Some(422),
            Scope::Account => None,
        },
        // A bearer key means nothing to a webhook: without the signature every caller gets 401
        // (signatures are checked in `webhooks_take_their_integrations_signature_and_nothing_else`).
        (Guard::Signature, _) => Some(401),
    }
}

async fn send(app: &TestApp, method: &Method, call: &Call, key: Option<&str>) -> common::Reply {
    let mut request = app.client.request(method.clone(), format!("{}{}", app.base, call.path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = &call.body {
        request = request.header("content-type", call.content_type).body(body.clone());
    }
    for (name, value) in &call.headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    common::Reply { status, content_type, body }
}

/// An order with a parcel, a failed delivery (an open exception with its staff alert), and one
/// integration of each family, all in the account under test.
async fn seed(app: &TestApp) -> Fixture {
    let settings = app
        .send(
            Method::PUT,
            "/api/v1/notification-settings",
            Some(&app.admin),
            Some(json!({"alert_email": "ops@acme.example"}).to_string()),
        )
        .await;
    assert_eq!(settings.status, 200, "{}", settings.body);
    assert_eq!(app.put_order(&order_json(ORDER)).await.status, 201);
    let shipment = app.add_shipment(ORDER, &json!({"carrier": "ups", "tracking_number": TRACKING})).await;
    assert_eq!(shipment.status, 201, "{}", shipment.body);
    let attempt = app
        .post_events(json!([common::carrier_event(
            TRACKING,
            "acc-attempt",
            "delivery_attempted",
            "2026-11-04T15:00:00Z"
        )]))
        .await;
    assert_eq!(attempt.status, 200, "{}", attempt.body);

    let exceptions = app.get(&format!("/api/v1/exceptions?order_number={ORDER}"), &app.support).await;
    let exception_id = exceptions.body["exceptions"][0]["id"].as_str().expect("an open exception").to_string();
    let order = app.order(ORDER).await;
    let notification_id = order.body["notifications"][0]["id"].as_str().expect("a queued notification").to_string();

    // A delivered order with a return requested on it.
    assert_eq!(app.put_order(&order_json(RETURNED_ORDER)).await.status, 201);
    let delivered = "1ZACCESSRET00001";
    assert_eq!(
        app.add_shipment(RETURNED_ORDER, &json!({"carrier": "ups", "tracking_number": delivered})).await.status,
        201
    );
    let steps = app
        .post_events(json!([
            common::carrier_event(delivered, "acc-ret-1", "handed_to_carrier", "2026-11-02T16:00:00Z"),
            common::carrier_event(delivered, "acc-ret-2", "delivered", "2026-11-04T13:30:00Z")
        ]))
        .await;
    assert_eq!(steps.status, 200, "{}", steps.body);
    let requested = app
        .post_json(
            &format!("/api/v1/orders/{RETURNED_ORDER}/returns"),
            &app.admin,
            &json!({"items": [{"sku": "MUG", "quantity": 1, "reason": "damaged"}]}),
        )
        .await;
    assert_eq!(requested.status, 201, "{}", requested.body);
    let return_id = requested.body["id"].as_str().expect("a return id").to_string();

    // A parcel the carrier reports damaged, and a claim opened from its exception.
    assert_eq!(app.put_order(&order_json(DAMAGED_ORDER)).await.status, 201);
    let damaged = "1ZACCESSDMG00001";
    assert_eq!(
        app.add_shipment(DAMAGED_ORDER, &json!({"carrier": "ups", "tracking_number": damaged})).await.status,
        201
    );
    let steps = app
        .post_events(json!([
            common::carrier_event(damaged, "acc-dmg-1", "handed_to_carrier", "2026-11-08T10:00:00Z"),
            {"source": "carrier", "source_event_id": "acc-dmg-2", "tracking_number": damaged, "carrier": "ups",
             "milestone": "exception", "description": "Package damaged in transit", "occurred_at": "2026-11-09T18:00:00Z"}
        ]))
        .await;
    assert_eq!(steps.status, 200, "{}", steps.body);
    let listed = app.get(&format!("/api/v1/exceptions?order_number={DAMAGED_ORDER}"), &app.support).await;
    let damage_exception_id = listed.body["exceptions"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["kind"] == "carrier_exception"))
        .and_then(|e| e["id"].as_str())
        .expect("a carrier exception")
        .to_string();
    let claim = app
        .post_json(
            &format!("/api/v1/exceptions/{damage_exception_id}/claims"),
            &app.admin,
            &json!({"amount": "18.00", "evidence": "photos"}),
        )
        .await;
    assert_eq!(claim.status, 201, "{}", claim.body);
    let claim_id = claim.body["id"].as_str().expect("a claim id").to_string();

    Fixture {
        exception_id,
        return_id,
        damage_exception_id,
        claim_id,
        notification_id,
        carrier_integration: app.create_integration("ups", CARRIER_SECRET).await,
        channel_integration: app.create_integration("shopify", CHANNEL_SECRET).await,
    }
}

/// `(METHOD, path)` of every operation in the served OpenAPI document.
async fn documented_operations(app: &TestApp) -> BTreeSet<(String, String)> {
    let doc = app.send(Method::GET, "/openapi.json", None, None).await.body;
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

#[tokio::test]
async fn every_endpoint_answers_every_caller_of_either_account_as_designed() {
    let app = spawn_app().await;
    let fixture = seed(&app).await;
    let other_account = AccountName::parse("globex").unwrap();
    let mut other = vec![];
    for role in Role::ALL {
        other.push((role, app.milepost.create_api_key(&other_account, role).await.unwrap()));
    }
    let keys = Keys {
        own: vec![
            (Role::Support, app.support.clone()),
            (Role::Ingest, app.ingest.clone()),
            (Role::Admin, app.admin.clone()),
        ],
        other,
    };

    let table = table();
    let in_table: BTreeSet<(String, String)> =
        table.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    assert_eq!(in_table.len(), table.len(), "one row per endpoint");
    assert_eq!(
        documented_operations(&app).await,
        in_table,
        "every documented endpoint has a row in the access table, and every row is documented"
    );

    // Callers go from the weakest to the strongest, the other account first, so the account
    // under test still holds its resources when the other account tries them.
    let mut callers = vec![Caller::Nobody, Caller::ForgedKey];
    callers.extend([Role::Support, Role::Ingest, Role::Admin].map(Caller::Other));
    callers.extend([Role::Support, Role::Ingest, Role::Admin].map(Caller::Own));
    let mut failures = vec![];
    let mut checked = 0;
    for row in &table {
        for &caller in &callers {
            let mut call = (row.call)(&fixture);
            if let Guard::Signature = row.guard {
                call.headers.retain(|(name, _)| !is_signature_header(name));
            }
            let reply = send(&app, &row.method, &call, keys.of(caller).as_deref()).await;
            checked += 1;
            let ok = match expected(row, caller) {
                Some(status) => {
                    reply.status == status
                        && reply.content_type.starts_with("application/problem+json")
                        && reply.body["status"] == status
                }
                None => row.allowed.contains(&reply.status),
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {caller:?}: expected {:?}, got {} {}",
                    row.method,
                    row.path,
                    expected(row, caller).map_or(format!("one of {:?}", row.allowed), |s| s.to_string()),
                    reply.status,
                    reply.body
                ));
            }
            // What another account is allowed to do must show it nothing of this account
            // beyond what it sent itself.
            if matches!(caller, Caller::Other(_)) && (200..300).contains(&reply.status) {
                let text = reply.body.to_string();
                let sent =
                    format!("{} {}", call.path, String::from_utf8_lossy(call.body.as_deref().unwrap_or_default()));
                let private = [ORDER, TRACKING, "ops@acme.example"];
                assert!(
                    private.iter().all(|p| sent.contains(p) || !text.contains(p)),
                    "{} {} showed the other account this account's data: {text}",
                    row.method,
                    row.path
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} calls broke the access table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn webhooks_take_their_integrations_signature_and_nothing_else() {
    let app = spawn_app().await;
    let fixture = seed(&app).await;
    // The other account's integrations of the same kinds, with their own secrets.
    let other_carrier = app
        .post_json(
            "/api/v1/integrations",
            &app.other_admin,
            &json!({"kind": "ups", "secret": "whsec_other_account_secret"}),
        )
        .await;
    assert_eq!(other_carrier.status, 201);

    for row in table().iter().filter(|r| matches!(r.guard, Guard::Signature)) {
        let signed = (row.call)(&fixture);
        let mut unsigned = (row.call)(&fixture);
        unsigned.headers.retain(|(name, _)| !is_signature_header(name));
        for key in [None, Some(app.admin.clone()), Some(app.other_admin.clone())] {
            let reply = send(&app, &row.method, &unsigned, key.as_deref()).await;
            assert_eq!(reply.status, 401, "{} unsigned with key {key:?}: {}", row.path, reply.body);
            assert!(reply.content_type.starts_with("application/problem+json"));
        }
        // Signed with another integration's secret: refused.
        let mut wrong = (row.call)(&fixture);
        for (_, value) in wrong.headers.iter_mut().filter(|(name, _)| is_signature_header(name)) {
            *value = if value.starts_with("t=") {
                sign_milepost(
                    b"whsec_other_account_secret",
                    common::test_start().timestamp(),
                    signed.body.as_deref().unwrap(),
                )
            } else {
                shopify_signature("whsec_other_account_secret", signed.body.as_deref().unwrap())
            };
        }
        assert_eq!(send(&app, &row.method, &wrong, None).await.status, 401, "{} with another secret", row.path);
        // An integration id that does not exist: 404, whatever the signature.
        let mut unknown = (row.call)(&fixture);
        unknown.path = unknown.path.replace(&fixture.carrier_integration, "int_00000000000000000000000000000000");
        unknown.path = unknown.path.replace(&fixture.channel_integration, "int_00000000000000000000000000000000");
        assert_eq!(send(&app, &row.method, &unknown, None).await.status, 404, "{} unknown integration", row.path);
        let reply = send(&app, &row.method, &signed, None).await;
        assert!(row.allowed.contains(&reply.status), "{} signed: {} {}", row.path, reply.status, reply.body);
    }
}

#[tokio::test]
async fn public_endpoints_answer_anyone_the_same() {
    let app = spawn_app().await;
    for path in ["/healthz", "/metrics", "/openapi.json", "/track"] {
        for key in [None, Some(app.support.as_str()), Some("mp_0000000000000000000000000000000x")] {
            let reply = app.send(Method::GET, path, key, None).await;
            assert_eq!(reply.status, 200, "{path} with key {key:?}");
        }
    }
}

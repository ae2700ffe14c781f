//! Helpers for the operations dashboard tests: staff users created through the use case (as
//! `milepost users create` does), a small cookie-keeping HTML client that logs in through the
//! real form (its CSRF token and double-submit cookie included), and orders that open an
//! exception and carry an unmapped carrier code.

#![allow(dead_code)]

use crate::common::{TestApp, carrier_event, order_json};
use milepost_domain::{AccountName, Role};
use serde_json::json;

pub const PASSWORD: &str = "correct horse battery staple";
pub const ADMIN: &str = "lead@acme.example";
pub const SUPPORT: &str = "agent@acme.example";
pub const OTHER: &str = "lead@globex.example";

/// Staff of each role for `acme`, and an admin of `globex`.
pub async fn staff(app: &TestApp) {
    let acme = AccountName::parse("acme").unwrap();
    let globex = AccountName::parse("globex").unwrap();
    app.milepost.create_staff_user(&acme, ADMIN, Role::Admin, PASSWORD).await.unwrap();
    app.milepost.create_staff_user(&acme, SUPPORT, Role::Support, PASSWORD).await.unwrap();
    app.milepost.create_staff_user(&globex, OTHER, Role::Admin, PASSWORD).await.unwrap();
}

/// Order `number` whose parcel had a failed delivery attempt (opens `delivery_failed` at once)
/// and an unmapped raw code `ZX9`.
pub async fn failed_attempt_with_unmapped_code(app: &TestApp, number: &str, tracking: &str) {
    let mut order = order_json(number);
    order["placed_at"] = json!("2026-11-09T10:00:00Z");
    order["promised_by"] = json!("2026-11-20");
    assert_eq!(app.put_order(&order).await.status, 201);
    let r = app.add_shipment(number, &json!({"carrier": "ups", "tracking_number": tracking})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let events = json!([
        carrier_event(tracking, "a", "handed_to_carrier", "2026-11-09T18:00:00Z"),
        carrier_event(tracking, "b", "out_for_delivery", "2026-11-10T08:00:00Z"),
        carrier_event(tracking, "c", "delivery_attempted", "2026-11-10T11:00:00Z"),
        {"source": "carrier", "source_event_id": "d", "tracking_number": tracking, "carrier": "ups", "code": "ZX9",
         "description": "Held at hub pending broker documents", "occurred_at": "2026-11-10T11:30:00Z"}
    ]);
    let r = app.post_events(events).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

pub struct Page {
    pub status: u16,
    pub location: String,
    pub set_cookies: Vec<String>,
    pub body: String,
}

/// A browser without JavaScript: keeps cookies by name, never follows redirects on its own.
pub struct Staff {
    pub base: String,
    http: reqwest::Client,
    pub cookies: Vec<(String, String)>,
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| {
                s.bytes()
                    .map(|b| {
                        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                            (b as char).to_string()
                        } else {
                            format!("%{b:02X}")
                        }
                    })
                    .collect::<String>()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of the first hidden `csrf` field of a page.
pub fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    html[start..].split('"').next().unwrap().to_string()
}

impl Staff {
    pub fn new(app: &TestApp) -> Staff {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Staff { base: app.base.clone(), http, cookies: Vec::new() }
    }

    /// Logs in through the form; the caller checks the answer.
    pub async fn login(app: &TestApp, email: &str, password: &str) -> (Staff, Page) {
        let mut staff = Staff::new(app);
        let form = staff.get("/ops/login").await;
        assert_eq!(form.status, 200);
        let csrf = csrf_of(&form.body);
        let page = staff.post("/ops/login", &[("csrf", csrf.as_str()), ("email", email), ("password", password)]).await;
        (staff, page)
    }

    /// Logs in and expects to land on the queue.
    pub async fn logged_in(app: &TestApp, email: &str) -> Staff {
        let (staff, page) = Staff::login(app, email, PASSWORD).await;
        assert_eq!((page.status, page.location.as_str()), (303, "/ops/exceptions"), "{}", page.body);
        staff
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect();
        for cookie in &set_cookies {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() && !cookie.contains("Max-Age=0") {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
        let body = response.text().await.unwrap();
        Page { status, location, set_cookies, body }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response =
            self.http.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().await.unwrap();
        self.finish(response).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(fields))
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    /// Posts a form with this session's CSRF token, read from `page_path` first.
    pub async fn post_with_csrf(&mut self, page_path: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(page_path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = csrf_of(&page.body);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookies.iter().find(|(k, _)| k == "mp_ops").map(|(_, v)| v.clone())
    }
}

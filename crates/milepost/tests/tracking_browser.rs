//! The customer tracking page in a real browser: headless Chromium (the Debian `chromium`
//! package) driven through `chromedriver` over the W3C WebDriver protocol, which is plain JSON
//! over HTTP, so `reqwest` is the whole client and nothing is downloaded. Each test opens the
//! page at phone size, asserts on the rendered text a person sees, and on failure saves a
//! screenshot under `target/screenshots/`. Without Chromium the tests print why and pass; CI
//! installs it (`.ci/run`), so there they run.

mod common;
mod tracking_support;

use common::{TestApp, spawn_app};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tracking_support::{lookup_path, seed_delivered, seed_late, seed_split};

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium_path() -> Option<PathBuf> {
    let from_env = std::env::var_os("MILEPOST_CHROMIUM").map(PathBuf::from);
    from_env.into_iter().chain([PathBuf::from(CHROMIUM)]).find(|p| p.exists())
}

fn chromedriver_path() -> PathBuf {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("chromium is installed but chromedriver is not: apt-get install -y chromium-driver")
}

/// One headless Chromium session through its own chromedriver process.
struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    base: String,
    name: &'static str,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts a browser for test `name`, or `None` (after saying why) when Chromium is absent.
    async fn start(name: &'static str) -> Option<Browser> {
        let Some(chromium) = chromium_path() else {
            eprintln!("SKIPPED {name}: Chromium is not installed (apt-get install -y chromium chromium-driver)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(chromedriver_path())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not start");
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=390,844".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.display().to_string(), "args": args}}}});
        let created: Value =
            http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver refused the session: {created}"))
            .to_string();
        Some(Browser { driver, http, session, base, name, _profile: profile })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request.send().await.unwrap().json().await.unwrap();
        reply["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn element(&self, css: &str) -> Option<String> {
        let found =
            self.call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        found.as_object().and_then(|o| o.values().next()).and_then(|v| v.as_str()).map(str::to_string)
    }

    /// The text of the page as rendered (what a person reads).
    async fn text(&self) -> String {
        // Between pages there may be no body yet: read that as an empty page.
        let Some(body) = self.element("body").await else { return String::new() };
        self.call(reqwest::Method::GET, &format!("/element/{body}/text"), None).await.as_str().unwrap_or("").to_string()
    }

    async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap_or("").to_string()
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or("").to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await.unwrap_or_else(|| panic!("no {css}"));
        self.call(reqwest::Method::POST, &format!("/element/{id}/clear"), Some(json!({}))).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    async fn click(&self, css: &str) {
        let id = self.element(css).await.unwrap_or_else(|| panic!("no {css}"));
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    async fn screenshot(&self) -> PathBuf {
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let dir = target.join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.png", self.name));
        use base64::Engine;
        if let Some(data) = png.as_str()
            && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data)
        {
            std::fs::write(&path, bytes).unwrap();
        }
        path
    }

    /// Asserts that the page reads `expected`; on failure saves a screenshot and shows the text.
    /// A click that submits a form returns before the next page has loaded, so this waits (up
    /// to 15 s) for the text to appear, the way a person waits for a page.
    async fn sees(&self, expected: &str) {
        let mut text = self.text().await;
        for _ in 0..75 {
            if text.contains(expected) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            text = self.text().await;
        }
        if !text.contains(expected) {
            let shot = self.screenshot().await;
            panic!("expected to see {expected:?}; screenshot {}; the page reads:\n{text}", shot.display());
        }
    }

    async fn does_not_see(&self, unexpected: &str) {
        let text = self.text().await;
        if text.contains(unexpected) {
            let shot = self.screenshot().await;
            panic!("did not expect to see {unexpected:?}; screenshot {}; the page reads:\n{text}", shot.display());
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session (and with it Chromium) before stopping our chromedriver; a raw
        // HTTP request because drop cannot await.
        use std::io::{Read, Write};
        let address = self.base.trim_start_matches("http://").to_string();
        if let Ok(mut stream) = std::net::TcpStream::connect(&address) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                stream,
                "DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
                self.session
            );
            let _ = stream.read_to_end(&mut Vec::new());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

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

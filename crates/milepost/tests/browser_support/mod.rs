//! Headless Chromium for the browser tests (the Debian `chromium` package), driven through
//! `chromedriver` over the W3C WebDriver protocol, which is plain JSON over HTTP, so `reqwest`
//! is the whole client and nothing is downloaded. `Browser::start` answers `None` (after saying
//! why) when Chromium is absent; `sees` waits for text like a person and saves a screenshot
//! under `target/screenshots/` when it never appears.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    base: String,
    name: &'static str,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts a browser for test `name`, or `None` (after saying why) when Chromium is absent.
    pub async fn start(name: &'static str) -> Option<Browser> {
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

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request.send().await.unwrap().json().await.unwrap();
        reply["value"].clone()
    }

    pub async fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    pub async fn element(&self, css: &str) -> Option<String> {
        let found =
            self.call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        found.as_object().and_then(|o| o.values().next()).and_then(|v| v.as_str()).map(str::to_string)
    }

    /// The text of the page as rendered (what a person reads).
    pub async fn text(&self) -> String {
        // Between pages there may be no body yet: read that as an empty page.
        let Some(body) = self.element("body").await else { return String::new() };
        self.call(reqwest::Method::GET, &format!("/element/{body}/text"), None).await.as_str().unwrap_or("").to_string()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap_or("").to_string()
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or("").to_string()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await.unwrap_or_else(|| panic!("no {css}"));
        self.call(reqwest::Method::POST, &format!("/element/{id}/clear"), Some(json!({}))).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await.unwrap_or_else(|| panic!("no {css}"));
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    pub async fn screenshot(&self) -> PathBuf {
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
    pub async fn sees(&self, expected: &str) {
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

    pub async fn does_not_see(&self, unexpected: &str) {
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

//! One carrier's tracking API as the poller uses it: where it lives, how it authenticates
//! (OAuth client credentials with a cached token, or an API key), how fast it may be asked, and
//! the request shape of each carrier's "track one number" call.

use milepost_ingest::adapters::SenderKind;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How a carrier's API authenticates.
#[derive(Clone)]
pub enum CarrierAuth {
    /// OAuth 2 client credentials (UPS, FedEx, USPS).
    OAuth { client_id: String, client_secret: String },
    /// A static API key header (DHL's `DHL-API-Key`).
    ApiKey(String),
}

impl std::fmt::Debug for CarrierAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CarrierAuth::OAuth { client_id, .. } => {
                write!(f, "OAuth {{ client_id: {client_id:?}, client_secret: <redacted> }}")
            }
            CarrierAuth::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
        }
    }
}

/// One carrier API to poll.
#[derive(Debug, Clone)]
pub struct CarrierApi {
    /// `ups`, `fedex`, `usps` or `dhl`.
    pub carrier: String,
    pub base_url: String,
    pub auth: CarrierAuth,
    /// Requests per second this carrier allows us.
    pub requests_per_second: f64,
}

impl CarrierApi {
    /// The carriers configured in the environment: `MILEPOST_{UPS,FEDEX,USPS}_CLIENT_ID` and
    /// `…_CLIENT_SECRET`, `MILEPOST_DHL_API_KEY`, each with an optional `…_BASE_URL` and
    /// `…_RATE` (requests per second). A carrier without credentials is not polled.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Vec<CarrierApi> {
        let var = |name: String| env(&name).filter(|v| !v.trim().is_empty());
        let defaults = [
            ("ups", "https://onlinetools.ups.com", 5.0),
            ("fedex", "https://apis.fedex.com", 5.0),
            ("usps", "https://apis.usps.com", 2.0),
            ("dhl", "https://api-eu.dhl.com", 1.0),
        ];
        defaults
            .into_iter()
            .filter_map(|(carrier, base, rate)| {
                let prefix = format!("MILEPOST_{}", carrier.to_uppercase());
                let auth = if carrier == "dhl" {
                    CarrierAuth::ApiKey(var(format!("{prefix}_API_KEY"))?)
                } else {
                    CarrierAuth::OAuth {
                        client_id: var(format!("{prefix}_CLIENT_ID"))?,
                        client_secret: var(format!("{prefix}_CLIENT_SECRET"))?,
                    }
                };
                Some(CarrierApi {
                    carrier: carrier.into(),
                    base_url: var(format!("{prefix}_BASE_URL")).unwrap_or_else(|| base.into()),
                    auth,
                    requests_per_second: var(format!("{prefix}_RATE"))
                        .and_then(|r| r.parse().ok())
                        .filter(|r: &f64| *r > 0.0)
                        .unwrap_or(rate),
                })
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("request to {carrier} failed: {message}")]
    Request { carrier: String, message: String },
    #[error("{carrier} answered HTTP {status}")]
    Status { carrier: String, status: u16 },
    #[error("{carrier} token answer lacks access_token")]
    Token { carrier: String },
}

struct Token {
    value: String,
    expires: Instant,
}

/// A carrier API client with its token cache and request pacing.
pub(crate) struct CarrierClient {
    api: CarrierApi,
    http: reqwest::Client,
    token: Mutex<Option<Token>>,
    next_slot: Mutex<Instant>,
}

/// Minimal `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl CarrierClient {
    pub(crate) fn new(api: CarrierApi, http: reqwest::Client) -> Self {
        CarrierClient { api, http, token: Mutex::new(None), next_slot: Mutex::new(Instant::now()) }
    }

    pub(crate) fn carrier(&self) -> &str {
        &self.api.carrier
    }

    pub(crate) fn sender_kind(&self) -> SenderKind {
        match self.api.carrier.as_str() {
            "ups" => SenderKind::Ups,
            "fedex" => SenderKind::Fedex,
            "usps" => SenderKind::Usps,
            _ => SenderKind::Dhl,
        }
    }

    fn failed(&self, e: reqwest::Error) -> PollError {
        PollError::Request { carrier: self.api.carrier.clone(), message: e.without_url().to_string() }
    }

    /// Waits for this carrier's next free request slot (requests are spaced evenly).
    async fn pace(&self) {
        let interval = Duration::from_secs_f64(1.0 / self.api.requests_per_second);
        let wait = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + interval;
            slot - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// A valid bearer token, fetched with client credentials when there is none or it expires.
    async fn bearer(&self) -> Result<Option<String>, PollError> {
        let CarrierAuth::OAuth { client_id, client_secret } = &self.api.auth else { return Ok(None) };
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.expires > Instant::now()) {
            return Ok(Some(token.value.clone()));
        }
        let base = self.api.base_url.trim_end_matches('/');
        self.pace().await;
        let request = match self.api.carrier.as_str() {
            "ups" => self
                .http
                .post(format!("{base}/security/v1/oauth/token"))
                .basic_auth(client_id, Some(client_secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials"),
            "usps" => self.http.post(format!("{base}/oauth2/v3/token")),
            _ => self.http.post(format!("{base}/oauth/token")),
        };
        let request = if self.api.carrier == "ups" {
            request
        } else {
            request.header("content-type", "application/x-www-form-urlencoded").body(format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                form_encode(client_id),
                form_encode(client_secret)
            ))
        };
        let response = request.send().await.map_err(|e| self.failed(e))?;
        if !response.status().is_success() {
            return Err(PollError::Status { carrier: self.api.carrier.clone(), status: response.status().as_u16() });
        }
        let body: serde_json::Value = response.json().await.map_err(|e| self.failed(e))?;
        let value = body["access_token"]
            .as_str()
            .ok_or_else(|| PollError::Token { carrier: self.api.carrier.clone() })?
            .to_string();
        // UPS sends `expires_in` as a string, others as a number; renew a minute early.
        let lifetime = body["expires_in"]
            .as_u64()
            .or_else(|| body["expires_in"].as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(3600);
        let expires = Instant::now() + Duration::from_secs(lifetime.saturating_sub(60).max(1));
        *cached = Some(Token { value: value.clone(), expires });
        Ok(Some(value))
    }

    /// Asks the carrier about one tracking number. `Ok(None)` means the carrier does not know
    /// it (yet).
    pub(crate) async fn track(&self, tracking_number: &str) -> Result<Option<Vec<u8>>, PollError> {
        let token = self.bearer().await?;
        let base = self.api.base_url.trim_end_matches('/');
        let tn = form_encode(tracking_number);
        let request = match self.api.carrier.as_str() {
            "ups" => self
                .http
                .get(format!("{base}/api/track/v1/details/{tn}?locale=en_US&returnSignature=false"))
                .header("transId", hex::encode(rand::random::<[u8; 8]>()))
                .header("transactionSrc", "milepost"),
            "fedex" => self
                .http
                .post(format!("{base}/track/v1/trackingnumbers"))
                .header("content-type", "application/json")
                .header("x-locale", "en_US")
                .body(
                    serde_json::json!({"includeDetailedScans": true,
                        "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": tracking_number}}]})
                    .to_string(),
                ),
            "usps" => self.http.get(format!("{base}/tracking/v3/tracking/{tn}?expand=DETAIL")),
            _ => self.http.get(format!("{base}/track/shipments?trackingNumber={tn}")),
        };
        let request = match (&token, &self.api.auth) {
            (Some(token), _) => request.bearer_auth(token),
            (None, CarrierAuth::ApiKey(key)) => request.header("DHL-API-Key", key),
            (None, CarrierAuth::OAuth { .. }) => request,
        };
        self.pace().await;
        let response = request.send().await.map_err(|e| self.failed(e))?;
        let status = response.status().as_u16();
        if status == 401 {
            // The token was revoked early: forget it so the next round fetches a new one.
            self.token.lock().await.take();
        }
        if status == 404 {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(PollError::Status { carrier: self.api.carrier.clone(), status });
        }
        response.bytes().await.map(|b| Some(b.to_vec())).map_err(|e| self.failed(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carriers_are_configured_from_the_environment_only_with_credentials() {
        let env = |k: &str| match k {
            "MILEPOST_UPS_CLIENT_ID" => Some("id".to_string()),
            "MILEPOST_UPS_CLIENT_SECRET" => Some("secret".to_string()),
            "MILEPOST_UPS_BASE_URL" => Some("http://127.0.0.1:9".to_string()),
            "MILEPOST_DHL_API_KEY" => Some("key".to_string()),
            "MILEPOST_DHL_RATE" => Some("0.5".to_string()),
            "MILEPOST_FEDEX_CLIENT_ID" => Some("only-an-id".to_string()),
            _ => None,
        };
        let apis = CarrierApi::from_env(env);
        let names: Vec<_> = apis.iter().map(|a| a.carrier.as_str()).collect();
        assert_eq!(names, ["ups", "dhl"], "FedEx lacks its secret");
        assert_eq!(apis[0].base_url, "http://127.0.0.1:9");
        assert_eq!(apis[1].base_url, "https://api-eu.dhl.com");
        assert_eq!(apis[1].requests_per_second, 0.5);
        assert!(!format!("{:?}", apis[0].auth).contains("secret\""), "secrets never print");
    }

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(form_encode("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(form_encode("Az09-_.~"), "Az09-_.~");
    }
}

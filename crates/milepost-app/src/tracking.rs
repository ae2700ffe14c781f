//! The customer's side of an order: finding it by order number and e-mail or postal code without
//! telling a wrong guess from an unknown order, signed expiring links that open one order
//! without the form (and double as the CSRF token of the return form), branding, and return
//! requests started by the customer. The signing key comes from settings or, when unset, from a
//! secret generated once and kept in the database, so links survive restarts and every server
//! on one database accepts them.

use crate::{AppResult, Milepost};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use milepost_domain::order::{normalize_postal_code, parse_email};
use milepost_domain::{AccountName, Branding, OrderNumber, ReturnItem};
use milepost_store::{AccountId, OrderProof, OrderRecord, Principal, ReturnRecord, Store};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Name of the generated link-signing secret in the store.
pub const LINK_SECRET_NAME: &str = "tracking_link_key";

/// How long a link in a customer message opens the order.
pub const LINK_TTL_DAYS: i64 = 90;

/// How long a page's return form stays valid after the page was shown.
pub const FORM_TTL_HOURS: i64 = 4;

/// What a signed token is for; a token of one purpose is refused for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// `/t/{token}`: opens one order's tracking page.
    View,
    /// The return form's CSRF token, tied to the order view that showed the form.
    ReturnForm,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::View => "view",
            TokenPurpose::ReturnForm => "return",
        }
    }
}

/// An order a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaim {
    pub account: AccountId,
    pub order_number: OrderNumber,
    pub expires_at: DateTime<Utc>,
}

/// Signs and checks tokens with HMAC-SHA256: `base64url(payload).base64url(tag)`, where the
/// payload is `purpose|account id|expiry unix seconds|order number`.
#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(<secret>)")
    }
}

impl LinkSigner {
    pub fn new(key: &[u8]) -> Self {
        LinkSigner { key: key.to_vec() }
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as KeyInit>::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    /// The HMAC-SHA256 tag of `data` under this signer's key (for tokens of other kinds, such
    /// as the dashboard's CSRF tokens).
    pub fn mac_of(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = self.mac();
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    pub fn sign(
        &self,
        purpose: TokenPurpose,
        account: AccountId,
        order: &OrderNumber,
        expires_at: DateTime<Utc>,
    ) -> String {
        let payload = format!("{}|{}|{}|{}", purpose.as_str(), account.0, expires_at.timestamp(), order.as_str());
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!("{}.{}", B64.encode(payload.as_bytes()), B64.encode(tag))
    }

    /// The claim of a token this signer made for `purpose`, unless forged, altered or expired.
    pub fn verify(&self, token: &str, purpose: TokenPurpose, now: DateTime<Utc>) -> Option<TokenClaim> {
        let (payload, tag) = token.split_once('.')?;
        let payload = B64.decode(payload).ok()?;
        let tag = B64.decode(tag).ok()?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&tag).ok()?;
        let text = String::from_utf8(payload).ok()?;
        let mut parts = text.splitn(4, '|');
        let (kind, account, expires, order) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if kind != purpose.as_str() {
            return None;
        }
        let expires_at = DateTime::from_timestamp(expires.parse().ok()?, 0)?;
        if expires_at <= now {
            return None;
        }
        Some(TokenClaim {
            account: AccountId(account.parse().ok()?),
            order_number: OrderNumber::parse(order).ok()?,
            expires_at,
        })
    }
}

/// A new random secret for signing links, used when settings give none.
pub fn generate_secret() -> String {
    rand::rng().sample_iter(&Alphanumeric).take(48).map(char::from).collect()
}

/// The signing secret: the configured one, or the one generated once and kept in the store.
pub async fn resolve_link_secret(store: &dyn Store, configured: Option<&str>) -> AppResult<Vec<u8>> {
    match configured.filter(|s| !s.is_empty()) {
        Some(secret) => Ok(secret.as_bytes().to_vec()),
        None => Ok(store.server_secret(LINK_SECRET_NAME, &generate_secret()).await?.into_bytes()),
    }
}

/// How the customer proves the order is theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    Email(String),
    PostalCode(String),
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Compares two digests in time independent of where they differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `proof` matches the order's stored details, doing the same work whether or not
/// there is an order: three digests and a comparison that does not stop early.
fn proof_matches(order: Option<&OrderProof>, proof: &Proof) -> bool {
    const NOBODY: &str = "\u{0}no order\u{0}";
    let stored = |value: Option<&String>, normalize: fn(&str) -> String| {
        value.map(|v| normalize(v)).unwrap_or_else(|| NOBODY.to_string())
    };
    let email = stored(order.and_then(|o| o.email.as_ref()), str::to_lowercase);
    let ship_to_postal = stored(order.and_then(|o| o.ship_to_postal_code.as_ref()), normalize_postal_code);
    let customer_postal = stored(order.and_then(|o| o.customer_postal_code.as_ref()), normalize_postal_code);
    let (given, against) = match proof {
        Proof::Email(e) => {
            let given = parse_email(e).unwrap_or_else(|_| format!("\u{1}{e}"));
            (digest(&given), [digest(&email), digest(&email)])
        }
        Proof::PostalCode(p) => {
            let given = normalize_postal_code(p);
            let given = if given.is_empty() { "\u{1}".to_string() } else { given };
            (digest(&given), [digest(&ship_to_postal), digest(&customer_postal)])
        }
    };
    let matched = same(&given, &against[0]) | same(&given, &against[1]);
    matched && order.is_some()
}

impl Milepost {
    /// The signer of tracking links and form tokens.
    pub fn link_signer(&self) -> &LinkSigner {
        &self.links.signer
    }

    /// A link that opens one order's tracking page for `LINK_TTL_DAYS`, on `MILEPOST_PUBLIC_URL`
    /// (notifications put it in messages).
    pub fn tracking_link(&self, account: AccountId, order: &OrderNumber) -> String {
        let expires = self.clock.now() + Duration::days(LINK_TTL_DAYS);
        let token = self.links.signer.sign(TokenPurpose::View, account, order, expires);
        format!("{}/t/{token}", self.links.public_url)
    }

    /// The account a public page serves: the named one, or the only account when there is
    /// exactly one and none is named.
    pub async fn page_account(&self, name: Option<&str>) -> AppResult<Option<AccountId>> {
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => match AccountName::parse(name) {
                Ok(name) => Ok(self.store.account_by_name(&name).await?),
                Err(_) => Ok(None),
            },
            None => Ok(self.store.sole_account().await?),
        }
    }

    /// The order when `proof` matches it; `None` for an unknown order and a wrong proof alike.
    pub async fn track_lookup(
        &self,
        account: Option<AccountId>,
        order_number: &str,
        proof: &Proof,
    ) -> AppResult<Option<(AccountId, OrderRecord)>> {
        // The same work for an unknown order and a wrong proof: one indexed read and the same
        // comparison; the whole order is read only once the proof matched.
        let number = OrderNumber::parse(order_number).ok();
        let stored = match (account, &number) {
            (Some(account), Some(number)) => self.store.order_proof(account, number).await?,
            _ => None,
        };
        if !proof_matches(stored.as_ref(), proof) {
            return Ok(None);
        }
        let (Some(account), Some(number)) = (account, number) else { return Ok(None) };
        Ok(self.store.order(account, &number).await?.map(|r| (account, r)))
    }

    /// The order a valid token of `purpose` names.
    pub async fn order_by_token(
        &self,
        token: &str,
        purpose: TokenPurpose,
    ) -> AppResult<Option<(TokenClaim, OrderRecord)>> {
        let Some(claim) = self.links.signer.verify(token, purpose, self.clock.now()) else { return Ok(None) };
        let record = self.store.order(claim.account, &claim.order_number).await?;
        Ok(record.map(|r| (claim, r)))
    }

    /// A fresh token for the return form of an order view.
    pub fn return_form_token(&self, account: AccountId, order: &OrderNumber) -> String {
        let expires = self.clock.now() + Duration::hours(FORM_TTL_HOURS);
        self.links.signer.sign(TokenPurpose::ReturnForm, account, order, expires)
    }

    pub async fn branding(&self, account: AccountId) -> AppResult<Branding> {
        Ok(self.store.branding(account).await?)
    }

    pub async fn put_branding(&self, caller: &Principal, branding: Branding) -> AppResult<()> {
        Ok(self.store.put_branding(caller.account_id, branding).await?)
    }

    /// A return request from the tracking page, after its form token was checked.
    pub async fn request_return_as_customer(
        &self,
        claim: &TokenClaim,
        items: Vec<ReturnItem>,
        note: Option<String>,
    ) -> AppResult<ReturnRecord> {
        self.request_return(claim.account, &claim.order_number, items, note, crate::returns::ReturnRequester::Customer)
            .await
    }
}

/// Settings of the customer links, wired once by the binary.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    pub signer: LinkSigner,
    /// Base of links, without a trailing slash (empty: links are relative).
    pub public_url: String,
}

impl LinkSettings {
    pub fn new(secret: &[u8], public_url: &str) -> Self {
        LinkSettings { signer: LinkSigner::new(secret), public_url: public_url.trim_end_matches('/').to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(n: &str) -> OrderNumber {
        OrderNumber::parse(n).unwrap()
    }

    #[test]
    fn a_signed_token_opens_its_order_until_it_expires() {
        let signer = LinkSigner::new(b"secret");
        let now = Utc::now();
        let token = signer.sign(TokenPurpose::View, AccountId(7), &number("MP-1|2"), now + Duration::hours(1));
        let claim = signer.verify(&token, TokenPurpose::View, now).unwrap();
        assert_eq!((claim.account, claim.order_number.as_str()), (AccountId(7), "MP-1|2"));
        assert!(signer.verify(&token, TokenPurpose::View, now + Duration::hours(2)).is_none());
        assert!(signer.verify(&token, TokenPurpose::ReturnForm, now).is_none());
        assert!(LinkSigner::new(b"other").verify(&token, TokenPurpose::View, now).is_none());
    }

    #[test]
    fn a_proof_matches_by_email_or_either_postal_code_and_never_without_an_order() {
        let stored = OrderProof {
            email: Some("Ana@Example.com".into()),
            ship_to_postal_code: Some("SW1A 1AA".into()),
            customer_postal_code: None,
        };
        assert!(proof_matches(Some(&stored), &Proof::Email(" ana@example.COM ".into())));
        assert!(proof_matches(Some(&stored), &Proof::PostalCode("sw1a1aa".into())));
        assert!(!proof_matches(Some(&stored), &Proof::Email("eve@example.com".into())));
        assert!(!proof_matches(Some(&stored), &Proof::PostalCode("".into())));
        let empty = OrderProof { email: None, ship_to_postal_code: None, customer_postal_code: None };
        assert!(!proof_matches(Some(&empty), &Proof::PostalCode("\u{0}no order\u{0}".into())));
        assert!(!proof_matches(None, &Proof::Email("ana@example.com".into())));
    }

    #[test]
    fn an_altered_token_is_refused() {
        let signer = LinkSigner::new(b"secret");
        let now = Utc::now();
        let token = signer.sign(TokenPurpose::View, AccountId(1), &number("MP-1"), now + Duration::hours(1));
        let (payload, tag) = token.split_once('.').unwrap();
        let forged_payload = B64.encode(String::from_utf8(B64.decode(payload).unwrap()).unwrap().replace("|1|", "|2|"));
        assert!(signer.verify(&format!("{forged_payload}.{tag}"), TokenPurpose::View, now).is_none());
        assert!(signer.verify("garbage", TokenPurpose::View, now).is_none());
        assert!(signer.verify("a.b", TokenPurpose::View, now).is_none());
    }
}

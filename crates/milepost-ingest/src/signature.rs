//! Webhook signature checks, kept pure so the web crate only has to hand over the header, the raw
//! body bytes, the integration's secret and the current time. A signature is always checked over
//! the exact bytes received (re-serialized JSON would not match) and compared in constant time
//! through `hmac::Mac::verify_slice`, so a mismatch leaks nothing about the expected tag.
//!
//! Senders that sign natively are checked their way (formats.md §9): EasyPost
//! `X-Hmac-Signature`, AfterShip `aftership-hmac-sha256`, Shopify `X-Shopify-Hmac-Sha256`,
//! Shippo `Shippo-Auth-Signature`. Every other integration kind is signed the way Milepost signs
//! its own webhooks: `Milepost-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
//! with five minutes' tolerance either side of `now`, which bounds replays.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a `t=` timestamp may be from `now`, either way, in seconds.
pub const TIMESTAMP_TOLERANCE_SECONDS: i64 = 5 * 60;

/// Why a webhook's signature was not accepted. Deliberately vague about *how* a tag differs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing or empty")]
    Missing,
    #[error("the signature header is malformed: {0}")]
    Malformed(&'static str),
    #[error("the signature timestamp is more than {tolerance_seconds} seconds from now")]
    Stale { tolerance_seconds: i64 },
    #[error("the signature does not match the body")]
    Mismatch,
}

fn mac(secret: &[u8]) -> Result<HmacSha256, SignatureError> {
    // HMAC takes keys of any length, so this cannot fail; mapping it keeps the code panic-free.
    <HmacSha256 as KeyInit>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)
}

fn verify_tag(secret: &[u8], parts: &[&[u8]], tag: &[u8]) -> Result<(), SignatureError> {
    let mut m = mac(secret)?;
    for part in parts {
        m.update(part);
    }
    m.verify_slice(tag).map_err(|_| SignatureError::Mismatch)
}

/// The value of a `Milepost-Signature` header for `body` sent at unix time `t`:
/// `t=<t>,v1=<lower-case hex HMAC-SHA256 of "<t>.<body>">`.
pub fn sign_milepost(secret: &[u8], t: i64, body: &[u8]) -> String {
    let mut m = match mac(secret) {
        Ok(m) => m,
        Err(_) => return format!("t={t},v1="),
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    format!("t={t},v1={}", hex::encode(m.finalize().into_bytes()))
}

/// Checks a `Milepost-Signature` header (the scheme for every integration without a native one).
pub fn verify_milepost(secret: &[u8], header: &str, body: &[u8], now: DateTime<Utc>) -> Result<(), SignatureError> {
    verify_timestamped(secret, header, body, now)
}

/// Checks Shippo's opt-in `Shippo-Auth-Signature: t=<unix>,v1=<hex>` over `"<t>.<body>"`, with the
/// same five-minute window as Milepost's own scheme.
pub fn verify_shippo(secret: &[u8], header: &str, body: &[u8], now: DateTime<Utc>) -> Result<(), SignatureError> {
    verify_timestamped(secret, header, body, now)
}

/// `t=…,v1=…` with optional spaces; several `v1` entries (a secret being rotated) pass when any
/// matches; other keys are ignored so a future `v2` does not break old receivers.
fn verify_timestamped(secret: &[u8], header: &str, body: &[u8], now: DateTime<Utc>) -> Result<(), SignatureError> {
    let header = header.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let mut t: Option<&str> = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed("expected key=value pairs"))?;
        match key.trim() {
            "t" => t = Some(value.trim()),
            "v1" => tags.push(value.trim()),
            _ => {}
        }
    }
    let t_text = t.ok_or(SignatureError::Malformed("no t= timestamp"))?;
    if t_text.is_empty() || t_text.len() > 12 || !t_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::Malformed("t= is not unix seconds"));
    }
    let t_value: i64 = t_text.parse().map_err(|_| SignatureError::Malformed("t= is not unix seconds"))?;
    if tags.is_empty() {
        return Err(SignatureError::Malformed("no v1= signature"));
    }
    if (now.timestamp() - t_value).abs() > TIMESTAMP_TOLERANCE_SECONDS {
        return Err(SignatureError::Stale { tolerance_seconds: TIMESTAMP_TOLERANCE_SECONDS });
    }
    let mut any_decoded = false;
    for tag in tags {
        let Ok(bytes) = hex::decode(tag) else {
            continue;
        };
        any_decoded = true;
        if verify_tag(secret, &[t_text.as_bytes(), b".", body], &bytes).is_ok() {
            return Ok(());
        }
    }
    if any_decoded { Err(SignatureError::Mismatch) } else { Err(SignatureError::Malformed("v1= is not hex")) }
}

/// Checks EasyPost's `X-Hmac-Signature: hmac-sha256-hex=<hex>` over the raw body.
///
/// EasyPost keys the HMAC with the webhook secret after Unicode NFKD normalization, as its own
/// libraries do: a secret written with a composed letter (`é`) or a compatibility form (a
/// full-width letter) signs with its decomposed form. An ASCII secret is its own NFKD form.
pub fn verify_easypost(secret: &str, header: &str, body: &[u8]) -> Result<(), SignatureError> {
    use unicode_normalization::UnicodeNormalization;
    let header = header.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let (scheme, tag) = header.split_once('=').ok_or(SignatureError::Malformed("expected hmac-sha256-hex=<hex>"))?;
    if !scheme.trim().eq_ignore_ascii_case("hmac-sha256-hex") {
        return Err(SignatureError::Malformed("expected hmac-sha256-hex=<hex>"));
    }
    let bytes = hex::decode(tag.trim()).map_err(|_| SignatureError::Malformed("the signature is not hex"))?;
    let key: String = secret.nfkd().collect();
    verify_tag(key.as_bytes(), &[body], &bytes)
}

/// Checks AfterShip's `aftership-hmac-sha256`: base64 HMAC-SHA256 of the raw body.
pub fn verify_aftership(secret: &[u8], header: &str, body: &[u8]) -> Result<(), SignatureError> {
    verify_base64(secret, header, body)
}

/// Checks Shopify's `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the raw body, keyed with the
/// app's client secret (or the store's notification signing key).
pub fn verify_shopify(secret: &[u8], header: &str, body: &[u8]) -> Result<(), SignatureError> {
    verify_base64(secret, header, body)
}

fn verify_base64(secret: &[u8], header: &str, body: &[u8]) -> Result<(), SignatureError> {
    let header = header.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let bytes = BASE64.decode(header).map_err(|_| SignatureError::Malformed("the signature is not base64"))?;
    verify_tag(secret, &[body], &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SECRET: &[u8] = b"whsec_test_3f9a1c";
    const BODY: &[u8] = br#"{"events":[{"tracking_number":"1ZA4R7090398765432"}]}"#;

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_741_961_403, 0).unwrap()
    }

    fn hmac_bytes(secret: &[u8], message: &[u8]) -> Vec<u8> {
        let mut m = mac(secret).unwrap();
        m.update(message);
        m.finalize().into_bytes().to_vec()
    }

    #[test]
    fn a_milepost_signature_made_now_verifies() {
        let header = sign_milepost(SECRET, now().timestamp(), BODY);
        assert!(header.starts_with("t=1741961403,v1="));
        assert_eq!(verify_milepost(SECRET, &header, BODY, now()), Ok(()));
    }

    #[test]
    fn a_milepost_signature_matches_an_independent_hmac_of_t_dot_body() {
        let mut message = b"1741961403.".to_vec();
        message.extend_from_slice(BODY);
        let expected = format!("t=1741961403,v1={}", hex::encode(hmac_bytes(SECRET, &message)));
        assert_eq!(sign_milepost(SECRET, 1_741_961_403, BODY), expected);
    }

    #[test]
    fn a_changed_body_or_secret_does_not_verify() {
        let header = sign_milepost(SECRET, now().timestamp(), BODY);
        assert_eq!(verify_milepost(SECRET, &header, b"{}", now()), Err(SignatureError::Mismatch));
        assert_eq!(verify_milepost(b"other", &header, BODY, now()), Err(SignatureError::Mismatch));
    }

    #[test]
    fn signatures_older_or_newer_than_five_minutes_are_stale_and_the_edge_is_allowed() {
        let t = now().timestamp();
        let edge = sign_milepost(SECRET, t - 300, BODY);
        assert_eq!(verify_milepost(SECRET, &edge, BODY, now()), Ok(()));
        let old = sign_milepost(SECRET, t - 301, BODY);
        assert!(matches!(verify_milepost(SECRET, &old, BODY, now()), Err(SignatureError::Stale { .. })));
        let future = sign_milepost(SECRET, t + 301, BODY);
        assert!(matches!(verify_milepost(SECRET, &future, BODY, now()), Err(SignatureError::Stale { .. })));
    }

    #[test]
    fn a_rotated_secret_passes_when_any_v1_matches_and_spaces_are_tolerated() {
        let good = sign_milepost(SECRET, now().timestamp(), BODY);
        let tag = good.split("v1=").nth(1).unwrap();
        let header = format!("t={}, v1={}, v1={tag}, v0=ignored", now().timestamp(), "00".repeat(32));
        assert_eq!(verify_milepost(SECRET, &header, BODY, now()), Ok(()));
    }

    #[test]
    fn malformed_milepost_headers_are_refused_without_panicking() {
        for header in [
            "",
            "   ",
            "v1=abcd",
            "t=1741961403",
            "t=abc,v1=00",
            "t=-5,v1=00",
            "garbage",
            "t=1741961403,v1=zz",
            "t=99999999999999999999999,v1=00",
            "t=1741961403,v1=\u{e9}\u{e9}",
        ] {
            let result = verify_milepost(SECRET, header, BODY, now());
            assert!(
                matches!(result, Err(SignatureError::Missing | SignatureError::Malformed(_))),
                "{header}: {result:?}"
            );
        }
    }

    #[test]
    fn shippo_signatures_use_the_same_timestamped_scheme() {
        let header = sign_milepost(SECRET, now().timestamp() - 60, BODY);
        assert_eq!(verify_shippo(SECRET, &header, BODY, now()), Ok(()));
        assert_eq!(verify_shippo(SECRET, &header, b"x", now()), Err(SignatureError::Mismatch));
    }

    #[test]
    fn easypost_signatures_are_prefixed_lower_hex_of_the_body() {
        let secret = "sekret_easypost";
        let header = format!("hmac-sha256-hex={}", hex::encode(hmac_bytes(secret.as_bytes(), BODY)));
        assert_eq!(verify_easypost(secret, &header, BODY), Ok(()));
        assert_eq!(
            verify_easypost(secret, &header.to_uppercase().replace("HMAC-SHA256-HEX", "hmac-sha256-hex"), BODY),
            Ok(())
        );
        assert_eq!(verify_easypost(secret, &header, b"{}"), Err(SignatureError::Mismatch));
        assert!(matches!(verify_easypost(secret, "sha1=abcd", BODY), Err(SignatureError::Malformed(_))));
        assert!(matches!(verify_easypost(secret, "hmac-sha256-hex=xyz", BODY), Err(SignatureError::Malformed(_))));
        assert_eq!(verify_easypost(secret, "", BODY), Err(SignatureError::Missing));
    }

    #[test]
    fn easypost_keys_the_hmac_with_the_nfkd_form_of_the_secret() {
        // What EasyPost's libraries sign with: the secret decomposed ("e" + combining acute) and
        // compatibility forms folded (full-width letters become ASCII).
        let decomposed = "se\u{301}kret_ｅａｓｙ";
        let signed_with = "se\u{301}kret_easy";
        let header = format!("hmac-sha256-hex={}", hex::encode(hmac_bytes(signed_with.as_bytes(), BODY)));
        // The merchant pasted the secret composed, or already decomposed: both verify.
        assert_eq!(verify_easypost("s\u{e9}kret_ｅａｓｙ", &header, BODY), Ok(()));
        assert_eq!(verify_easypost(decomposed, &header, BODY), Ok(()));
        // Keyed with the composed bytes, as before the fix, it would not have matched.
        let composed = format!("hmac-sha256-hex={}", hex::encode(hmac_bytes("s\u{e9}kret_ｅａｓｙ".as_bytes(), BODY)));
        assert_eq!(verify_easypost("s\u{e9}kret_ｅａｓｙ", &composed, BODY), Err(SignatureError::Mismatch));
    }

    #[test]
    fn aftership_and_shopify_signatures_are_base64_of_the_body() {
        let header = BASE64.encode(hmac_bytes(SECRET, BODY));
        assert_eq!(verify_aftership(SECRET, &header, BODY), Ok(()));
        assert_eq!(verify_shopify(SECRET, &header, BODY), Ok(()));
        assert_eq!(verify_shopify(SECRET, &header, b"{ }"), Err(SignatureError::Mismatch));
        assert!(matches!(verify_aftership(SECRET, "not base64!", BODY), Err(SignatureError::Malformed(_))));
        assert_eq!(verify_shopify(SECRET, &BASE64.encode([0u8; 32]), BODY), Err(SignatureError::Mismatch));
        assert_eq!(
            verify_shopify(SECRET, &BASE64.encode([0u8; 3]), BODY),
            Err(SignatureError::Mismatch),
            "short tags fail"
        );
    }

    #[test]
    fn a_known_shopify_style_vector_verifies() {
        // HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog"), a published test vector.
        let header = "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=";
        assert_eq!(verify_shopify(b"key", header, b"The quick brown fox jumps over the lazy dog"), Ok(()));
    }
}

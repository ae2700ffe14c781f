//! Parsed notification policies, shared by both backends. The outbox hooks look up an order's
//! policy for every parcel a write touches; the document is read in the write's transaction (so a
//! message follows the policy committed before its cause) but parsing the TOML again each time
//! would cost more than the read. The cache keeps the last parsed policy per account together
//! with the exact text it came from, so a changed document is never served stale: a different
//! text is simply parsed again.

use crate::AccountId;
use milepost_domain::notify::NotificationPolicy;
use milepost_domain::notify_policy::parse_policy;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Accounts kept before the cache starts over; a policy costs a few hundred bytes.
const MAX_ACCOUNTS: usize = 4096;

type Entry = (String, NotificationPolicy);

fn cache() -> &'static Mutex<HashMap<i64, Entry>> {
    static CACHE: OnceLock<Mutex<HashMap<i64, Entry>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The policy an account's stored document says, or `fallback` when it has none. A stored
/// document was checked before it was written; should one no longer parse (a newer build dropped
/// a word), the fallback keeps messages flowing and the problem is logged.
pub fn policy_from_document(
    account: AccountId,
    document: Option<&str>,
    fallback: &NotificationPolicy,
) -> NotificationPolicy {
    let Some(text) = document else { return fallback.clone() };
    let mut cached = cache().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((source, policy)) = cached.get(&account.0)
        && source == text
    {
        return policy.clone();
    }
    match parse_policy(text) {
        Ok(policy) => {
            if cached.len() >= MAX_ACCOUNTS {
                cached.clear();
            }
            cached.insert(account.0, (text.to_string(), policy.clone()));
            policy
        }
        Err(error) => {
            tracing::warn!(account = account.0, %error, "stored notification policy no longer parses; using the default");
            fallback.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_document_is_parsed_again_not_served_from_the_cache() {
        let fallback = NotificationPolicy::default();
        let account = AccountId(9_000_001);
        let english = "language = \"en\"\n";
        let spanish = "language = \"es\"\n";
        let first = policy_from_document(account, Some(english), &fallback);
        let again = policy_from_document(account, Some(english), &fallback);
        let changed = policy_from_document(account, Some(spanish), &fallback);
        assert_eq!(first.language, again.language);
        assert_ne!(first.language, changed.language);
        assert_eq!(changed.language, parse_policy(spanish).unwrap().language);
    }

    #[test]
    fn no_document_or_an_unparsable_one_gives_the_fallback() {
        let fallback = NotificationPolicy {
            language: parse_policy("language = \"es\"\n").unwrap().language,
            ..NotificationPolicy::default()
        };
        let account = AccountId(9_000_002);
        let none = policy_from_document(account, None, &fallback);
        let broken = policy_from_document(account, Some("language = 7"), &fallback);
        assert_eq!(none.language, fallback.language);
        assert_eq!(broken.language, fallback.language);
    }
}

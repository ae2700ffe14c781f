//! A short-lived memory of verified API keys. Every API request names its key, and looking the
//! key's hash up in the store costs a trip to a database connection (a blocking-pool hop and a
//! query) that is larger than the rest of a small request's work. A key's account and role are
//! remembered for `TTL` after a successful lookup, keyed by the key's SHA-256 hash (the key
//! itself is never kept). Keys are never revoked through Milepost today; a key revoked in the
//! database directly stops working within `TTL`. Unknown keys are not remembered, so a guessed
//! key always costs a lookup and never fills the memory.

use milepost_store::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a verified key is trusted without asking the store again.
pub const TTL: Duration = Duration::from_secs(5);
/// At most this many keys are remembered; when full, expired entries are dropped first and,
/// if none expired, everything (the next requests look their keys up again).
const CAPACITY: usize = 4096;

/// Verified keys by hash, each with the moment it was verified.
#[derive(Default)]
pub struct KeyCache {
    verified: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl KeyCache {
    /// The principal behind `key_hash` when it was verified less than `TTL` before `now`.
    pub fn get(&self, key_hash: &str, now: Instant) -> Option<Principal> {
        let verified = self.verified.lock().expect("key cache lock");
        let (principal, at) = verified.get(key_hash)?;
        (now.saturating_duration_since(*at) < TTL).then(|| principal.clone())
    }

    /// Remembers that `key_hash` belongs to `principal`, as verified at `now`.
    pub fn put(&self, key_hash: &str, principal: &Principal, now: Instant) {
        let mut verified = self.verified.lock().expect("key cache lock");
        if verified.len() >= CAPACITY && !verified.contains_key(key_hash) {
            verified.retain(|_, (_, at)| now.saturating_duration_since(*at) < TTL);
            if verified.len() >= CAPACITY {
                verified.clear();
            }
        }
        verified.insert(key_hash.to_string(), (principal.clone(), now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use milepost_domain::{AccountName, Role};
    use milepost_store::AccountId;

    fn principal(id: i64) -> Principal {
        Principal {
            account_id: AccountId(id),
            account_name: AccountName::parse(&format!("acct{id}")).unwrap(),
            role: Role::Support,
            actor: "key:mp_test".into(),
        }
    }

    #[test]
    fn a_verified_key_is_remembered_until_its_time_runs_out() {
        let cache = KeyCache::default();
        let start = Instant::now();
        assert_eq!(cache.get("h1", start), None);
        cache.put("h1", &principal(1), start);
        assert_eq!(cache.get("h1", start + TTL / 2), Some(principal(1)));
        assert_eq!(cache.get("h1", start + TTL), None);
        assert_eq!(cache.get("h2", start), None, "another key's hash finds nothing");
    }

    #[test]
    fn a_full_cache_makes_room_without_growing() {
        let cache = KeyCache::default();
        let start = Instant::now();
        for i in 0..CAPACITY {
            cache.put(&format!("h{i}"), &principal(1), start);
        }
        cache.put("new", &principal(2), start + TTL * 2);
        let held = cache.verified.lock().unwrap().len();
        assert_eq!(held, 1, "every expired key was dropped to make room");
        assert_eq!(cache.get("new", start + TTL * 2), Some(principal(2)));
    }
}

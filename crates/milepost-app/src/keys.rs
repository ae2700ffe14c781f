//! API keys: random, shown once, stored only as a SHA-256 hash. A key carries 190 bits of
//! randomness, so a fast hash is enough (no password stretching needed) and lookups stay O(1).

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

const PREFIX: &str = "mp_";
const RANDOM_CHARS: usize = 32;

/// A new random key such as `mp_3kT9…`.
pub fn generate() -> String {
    let random: String = rand::rng().sample_iter(&Alphanumeric).take(RANDOM_CHARS).map(char::from).collect();
    format!("{PREFIX}{random}")
}

/// The stored form of a key.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The first characters of a key, stored to tell keys apart in listings.
pub fn prefix(key: &str) -> &str {
    &key[..key.len().min(PREFIX.len() + 6)]
}

/// Cheap shape check before touching the database.
pub fn looks_like_key(key: &str) -> bool {
    key.len() == PREFIX.len() + RANDOM_CHARS
        && key.starts_with(PREFIX)
        && key[PREFIX.len()..].chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_well_formed_and_hash_stably() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(looks_like_key(&a));
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(hash(&a).len(), 64);
        assert!(!looks_like_key("mp_short"));
        assert!(!looks_like_key("Bearer nonsense"));
    }
}

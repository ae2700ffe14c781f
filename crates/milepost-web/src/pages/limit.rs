//! A small in-process rate limit for order lookups, per client address, so the lookup form
//! cannot be used to guess e-mail and order number pairs. A fixed one-minute window per address
//! is enough here: it needs no extra dependency, costs one map entry per active address, and
//! each server process counts on its own (the limit is per process, documented as such).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked addresses, expired windows are swept on the next check.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// `per_minute` lookups per address per minute; 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one lookup; `Err(seconds to wait)` when the address is over its limit.
    pub fn check(&self, client: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let (Some(client), true) = (client, self.per_minute > 0) else { return Ok(()) };
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            let wait = WINDOW.saturating_sub(now.duration_since(entry.0)).as_secs().max(1);
            return Err(wait);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_over_its_limit_waits_for_the_window_and_others_are_not_affected() {
        let limiter = RateLimiter::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        assert!(limiter.check(Some(a), t0).is_ok());
        assert!(limiter.check(Some(a), t0).is_ok());
        let wait = limiter.check(Some(a), t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, 50);
        assert!(limiter.check(Some(b), t0).is_ok());
        assert!(limiter.check(Some(a), t0 + Duration::from_secs(61)).is_ok());
        assert!(RateLimiter::new(0).check(Some(a), t0).is_ok());
    }
}

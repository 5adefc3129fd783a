//! Attempt limits per key (client address, account), kept in memory.
//!
//! A fixed one-minute window per key. An attempt is *reserved* before the expensive work
//! (a password hash) starts, under the same lock that checks the limit, so concurrent
//! attempts cannot all pass the check before any of them is counted. A login that turns
//! out right gives its reservation back ([`AttemptLimiter::release`]); a wrong one keeps
//! it. Once a key is over its limit even a right password is refused until the window
//! ends, or guessing would go on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct AttemptLimiter {
    max_attempts: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Attempts counted by [`AttemptLimiter::reserve`]: hand it back to
/// [`AttemptLimiter::release`] when the attempt should not count after all.
#[must_use = "a reservation that should not count must be released"]
#[derive(Debug)]
pub struct Reservation {
    keys: Vec<(String, Instant)>,
}

impl AttemptLimiter {
    pub fn new(max_attempts: u32, window: Duration) -> Self {
        Self {
            max_attempts,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt against every key of `keys`, or none when any of them is at its
    /// limit: then `Err(seconds)` to wait for the latest window among them to end.
    pub fn reserve(&self, keys: &[String]) -> Result<Reservation, u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = None;
        for key in keys {
            if let Some((start, attempts)) = windows.get(key) {
                let elapsed = now.duration_since(*start);
                if elapsed < self.window && *attempts >= self.max_attempts {
                    let secs = (self.window - elapsed).as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let mut reserved = Vec::with_capacity(keys.len());
        for key in keys {
            let entry = windows.entry(key.clone()).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
            reserved.push((key.clone(), entry.0));
        }
        Ok(Reservation { keys: reserved })
    }

    /// Takes back the attempts of `reservation`, in the windows they were counted in.
    pub fn release(&self, reservation: Reservation) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        for (key, start) in reservation.keys {
            if let Some(entry) = windows.get_mut(&key)
                && entry.0 == start
            {
                entry.1 = entry.1.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_after_max_attempts_per_key() {
        let limiter = AttemptLimiter::new(3, Duration::from_secs(60));
        let keys = ["ip:1".to_owned(), "user:ann".to_owned()];
        for _ in 0..3 {
            let _kept = limiter.reserve(&keys).unwrap();
        }
        let wait = limiter.reserve(&keys).unwrap_err();
        assert!((1..=60).contains(&wait));
        // Another account from another IP is not affected.
        let _ = limiter
            .reserve(&["ip:2".to_owned(), "user:bob".to_owned()])
            .unwrap();
        // The same account from another IP is.
        assert!(
            limiter
                .reserve(&["ip:2".to_owned(), "user:ann".to_owned()])
                .is_err()
        );
    }

    #[test]
    fn a_released_attempt_does_not_count() {
        let limiter = AttemptLimiter::new(2, Duration::from_secs(60));
        let keys = ["user:ann".to_owned()];
        for _ in 0..10 {
            let right = limiter.reserve(&keys).unwrap();
            limiter.release(right);
        }
        let _wrong = limiter.reserve(&keys).unwrap();
        let _wrong = limiter.reserve(&keys).unwrap();
        assert!(limiter.reserve(&keys).is_err());
    }

    #[test]
    fn concurrent_reservations_never_pass_the_limit() {
        let limiter = std::sync::Arc::new(AttemptLimiter::new(10, Duration::from_secs(60)));
        let granted: u32 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..50)
                .map(|_| {
                    let limiter = &limiter;
                    s.spawn(move || u32::from(limiter.reserve(&["user:ann".to_owned()]).is_ok()))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, 10);
    }

    #[test]
    fn window_expires() {
        let limiter = AttemptLimiter::new(1, Duration::from_millis(20));
        let keys = ["ip:1".to_owned()];
        let _kept = limiter.reserve(&keys).unwrap();
        assert!(limiter.reserve(&keys).is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(limiter.reserve(&keys).is_ok());
    }
}

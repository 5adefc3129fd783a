//! Failed-login limits per client IP and per account, kept in memory.
//!
//! A fixed one-minute window per key. Only failures count; once a key is over its limit,
//! even a right password is refused until the window ends, or guessing would go on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` to wait when any of `keys` is over its limit.
    pub fn check(&self, keys: &[String]) -> Result<(), u64> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = None;
        for key in keys {
            if let Some((start, failures)) = windows.get(key) {
                let elapsed = now.duration_since(*start);
                if elapsed < self.window && *failures >= self.max_failures {
                    let secs = (self.window - elapsed).as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    pub fn record_failure(&self, keys: &[String]) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        for key in keys {
            let entry = windows.entry(key.clone()).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_after_max_failures_per_key() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let keys = ["ip:1".to_owned(), "user:ann".to_owned()];
        for _ in 0..3 {
            assert!(limiter.check(&keys).is_ok());
            limiter.record_failure(&keys);
        }
        let wait = limiter.check(&keys).unwrap_err();
        assert!((1..=60).contains(&wait));
        // Another account from another IP is not affected.
        assert!(
            limiter
                .check(&["ip:2".to_owned(), "user:bob".to_owned()])
                .is_ok()
        );
        // The same account from another IP is.
        assert!(
            limiter
                .check(&["ip:2".to_owned(), "user:ann".to_owned()])
                .is_err()
        );
    }

    #[test]
    fn window_expires() {
        let limiter = LoginLimiter::new(1, Duration::from_millis(20));
        let keys = ["ip:1".to_owned()];
        limiter.record_failure(&keys);
        assert!(limiter.check(&keys).is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(limiter.check(&keys).is_ok());
    }
}

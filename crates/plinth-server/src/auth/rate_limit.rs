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
    windows: Mutex<HashMap<String, Window>>,
}

struct Window {
    start: Instant,
    /// Attempts that counted in this window.
    counted: u32,
    /// Attempts reserved and not yet resolved (a password being hashed).
    pending: u32,
}

/// Attempts reserved by [`AttemptLimiter::reserve`], not yet resolved: [`count`] them or
/// [`release`] them. Dropped unresolved (the request was cancelled mid-hash, say), they
/// count, so that hanging up cannot be a way around the limit.
///
/// [`count`]: Reservation::count
/// [`release`]: Reservation::release
#[must_use = "a reservation counts when dropped; release it if it should not"]
pub struct Reservation<'a> {
    limiter: &'a AttemptLimiter,
    keys: Vec<String>,
}

impl Reservation<'_> {
    /// The attempt counts against every key.
    pub fn count(self) {}

    /// The attempt does not count (a right password, a hash that was never tried).
    pub fn release(mut self) {
        let keys = std::mem::take(&mut self.keys);
        self.limiter.resolve(&keys, false);
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.keys.is_empty() {
            let keys = std::mem::take(&mut self.keys);
            self.limiter.resolve(&keys, true);
        }
    }
}

impl AttemptLimiter {
    pub fn new(max_attempts: u32, window: Duration) -> Self {
        Self {
            max_attempts,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Reserves one attempt against every key of `keys`, or none when any of them has no
    /// room: `Err(seconds)` to wait. Attempts that counted fill a key until its window
    /// ends; reserved ones only until they are resolved (then 1 s is the answer).
    pub fn reserve(&self, keys: &[String]) -> Result<Reservation<'_>, u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = None;
        for key in keys {
            let Some(w) = windows.get_mut(key) else {
                continue;
            };
            let elapsed = now.duration_since(w.start);
            if elapsed >= self.window {
                w.start = now;
                w.counted = 0;
            }
            let secs = if w.counted >= self.max_attempts {
                (self.window - now.duration_since(w.start)).as_secs().max(1)
            } else if w.counted + w.pending >= self.max_attempts {
                1
            } else {
                continue;
            };
            wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        if windows.len() > 100_000 {
            windows.retain(|_, w| w.pending > 0 || now.duration_since(w.start) < self.window);
        }
        for key in keys {
            windows
                .entry(key.clone())
                .or_insert(Window {
                    start: now,
                    counted: 0,
                    pending: 0,
                })
                .pending += 1;
        }
        Ok(Reservation {
            limiter: self,
            keys: keys.to_vec(),
        })
    }

    /// Reserves and counts one attempt at once (every attempt counts: a code asked for).
    pub fn take(&self, keys: &[String]) -> Result<(), u64> {
        self.reserve(keys).map(Reservation::count)
    }

    fn resolve(&self, keys: &[String], counts: bool) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            if let Some(w) = windows.get_mut(key) {
                w.pending = w.pending.saturating_sub(1);
                if counts {
                    if now.duration_since(w.start) >= self.window {
                        w.start = now;
                        w.counted = 0;
                    }
                    w.counted += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn limits_after_max_attempts_per_key() {
        let limiter = AttemptLimiter::new(3, Duration::from_secs(60));
        let ann = keys(&["ip:1", "user:ann"]);
        for _ in 0..3 {
            limiter.reserve(&ann).unwrap().count();
        }
        let wait = limiter.reserve(&ann).err().unwrap();
        assert!((2..=60).contains(&wait), "{wait}");
        // Another account from another IP is not affected.
        limiter
            .reserve(&keys(&["ip:2", "user:bob"]))
            .unwrap()
            .count();
        // The same account from another IP is.
        assert!(limiter.reserve(&keys(&["ip:2", "user:ann"])).is_err());
    }

    #[test]
    fn a_released_attempt_does_not_count_and_a_dropped_one_does() {
        let limiter = AttemptLimiter::new(2, Duration::from_secs(60));
        let ann = keys(&["user:ann"]);
        for _ in 0..10 {
            limiter.reserve(&ann).unwrap().release();
        }
        drop(limiter.reserve(&ann).unwrap());
        limiter.reserve(&ann).unwrap().count();
        assert!(limiter.reserve(&ann).err().unwrap() > 1);
    }

    #[test]
    fn pending_attempts_fill_the_limit_only_while_pending() {
        let limiter = AttemptLimiter::new(2, Duration::from_secs(60));
        let ann = keys(&["user:ann"]);
        let first = limiter.reserve(&ann).unwrap();
        let second = limiter.reserve(&ann).unwrap();
        assert_eq!(
            limiter.reserve(&ann).err(),
            Some(1),
            "come back in a second"
        );
        first.release();
        second.release();
        limiter.reserve(&ann).unwrap().release();
    }

    #[test]
    fn concurrent_reservations_never_pass_the_limit() {
        let limiter = AttemptLimiter::new(10, Duration::from_secs(60));
        let held = std::sync::Mutex::new(Vec::new());
        let granted: u32 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..50)
                .map(|_| {
                    let (limiter, held) = (&limiter, &held);
                    s.spawn(move || match limiter.reserve(&keys(&["user:ann"])) {
                        Ok(r) => {
                            held.lock().unwrap().push(r);
                            1
                        }
                        Err(_) => 0,
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, 10);
        drop(held);
    }

    #[test]
    fn window_expires() {
        let limiter = AttemptLimiter::new(1, Duration::from_millis(20));
        let ip = keys(&["ip:1"]);
        limiter.take(&ip).unwrap();
        assert!(limiter.take(&ip).is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(limiter.take(&ip).is_ok());
    }
}

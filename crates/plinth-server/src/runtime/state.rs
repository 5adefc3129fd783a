use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use plinth_store::Store;
use time::OffsetDateTime;

use crate::auth::password::PasswordHashing;
use crate::auth::rate_limit::AttemptLimiter;
use crate::names::directory::WorkspaceDirectory;
use crate::runtime::cache::AuthCache;
use crate::runtime::config::Settings;
use crate::runtime::invalidate::Invalidations;
use crate::runtime::last_used::LastUsed;
use crate::runtime::metrics::Metrics;
use crate::usage::meter::UsageMeter;

/// CLI login codes one address may ask for in a minute.
const DEVICE_CODES_PER_MINUTE: u32 = 30;

/// Everything a request can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub settings: Settings,
    pub cache: AuthCache,
    /// Live workspace names, for DNS and workspace hosts.
    pub directory: WorkspaceDirectory,
    /// This server's origin in the invalidation log, and its pending wake-up.
    pub invalidations: Invalidations,
    /// Failed logins, per account and per client address.
    pub login_limiter: AttemptLimiter,
    /// CLI login codes asked for, per client address.
    pub device_limiter: AttemptLimiter,
    /// Signups, per client address and (key `all`) overall.
    pub signup_limiter_per_address: AttemptLimiter,
    pub signup_limiter_total: AttemptLimiter,
    pub passwords: PasswordHashing,
    pub metrics: Metrics,
    pub last_used: LastUsed,
    pub usage: UsageMeter,
    /// Where this server's DNS answers (UDP), once it does: `/readyz` asks it.
    pub dns_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Added to the wall clock: lets tests move time forward (expiry, grace periods).
    clock_offset_us: AtomicI64,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, settings: Settings) -> Self {
        let login_limiter =
            AttemptLimiter::new(settings.login_failures_per_minute, Duration::from_secs(60));
        let minute = Duration::from_secs(60);
        let signup_limiter_per_address =
            AttemptLimiter::new(settings.signups_per_minute_per_address, minute);
        let signup_limiter_total = AttemptLimiter::new(settings.signups_per_minute, minute);
        Self(Arc::new(Inner {
            store,
            settings,
            cache: AuthCache::default(),
            directory: WorkspaceDirectory::default(),
            invalidations: Invalidations::default(),
            login_limiter,
            device_limiter: AttemptLimiter::new(DEVICE_CODES_PER_MINUTE, Duration::from_secs(60)),
            signup_limiter_per_address,
            signup_limiter_total,
            passwords: PasswordHashing::default(),
            metrics: Metrics::default(),
            last_used: LastUsed::default(),
            usage: UsageMeter::default(),
            dns_addr: std::sync::OnceLock::new(),
            clock_offset_us: AtomicI64::new(0),
        }))
    }
}

impl Inner {
    pub fn now(&self) -> OffsetDateTime {
        let offset = self.clock_offset_us.load(Ordering::Relaxed);
        OffsetDateTime::now_utc() + time::Duration::microseconds(offset)
    }

    /// Moves this server's clock forward (tests only use this).
    pub fn advance_clock(&self, by: Duration) {
        self.clock_offset_us
            .fetch_add(by.as_micros() as i64, Ordering::Relaxed);
    }
}

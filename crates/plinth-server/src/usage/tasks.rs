//! The usage tasks: the counters' flush and the daily snapshots (see the Usage section
//! of docs/ARCHITECTURE.md).

use std::time::Duration;

use tokio::sync::watch;

use crate::runtime::state::AppState;
use crate::usage::meter::day_of;

/// Takes today's usage snapshots at start, then every `usage_snapshot_every`; the last
/// one is taken at shutdown.
pub async fn snapshot_usage_every(
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
    min_period: Duration,
) {
    let mut tick = tokio::time::interval(state.settings.usage_snapshot_every.max(min_period));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        snapshot_usage(&state).await;
    }
}

/// Overwrites today's (UTC, by the server's clock) `members`, `workspaces` and
/// `audit_events` figures of every live org.
pub async fn snapshot_usage(state: &AppState) {
    let now = state.now().to_offset(time::UtcOffset::UTC);
    let today = day_of(now);
    let start = now.replace_time(time::Time::MIDNIGHT);
    let (start_us, end_us) = (
        plinth_store::time_to_micros(start),
        plinth_store::time_to_micros(start + time::Duration::days(1)),
    );
    if let Err(err) = state.store.snapshot_usage(&today, start_us, end_us).await {
        tracing::warn!(error = %err, "could not take the usage snapshot; will retry");
    }
    state.metrics.usage_snapshots.inc();
}

/// Writes the usage counted since the last flush.
pub async fn flush_usage(state: &AppState) {
    if let Err(err) = state.usage.flush(&state.store).await {
        tracing::warn!(error = %err, "could not record usage; will retry");
    }
}

/// Retention: removes the figures of days older than `--usage-retention-days` (when
/// set), keeping each org's latest members and workspaces levels before the cutoff,
/// which the kept days still read. Returns how many rows went.
pub async fn purge_expired(state: &AppState) -> plinth_store::Result<u64> {
    let Some(days) = state.settings.usage_retention_days else {
        return Ok(0);
    };
    let cutoff = state.now() - time::Duration::days(i64::from(days));
    state.store.purge_usage_before(&day_of(cutoff)).await
}

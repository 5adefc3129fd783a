//! Audit retention: `--audit-retention-days`, applied by the hourly purge pass.

use crate::runtime::state::AppState;

/// Retention: removes entries older than `--audit-retention-days` (when set) and moves
/// each chain's checkpoint past them, so verification stays green. Returns how many
/// entries went.
pub async fn purge_expired(state: &AppState) -> plinth_store::Result<u64> {
    let Some(days) = state.settings.audit_retention_days else {
        return Ok(0);
    };
    let cutoff = state.now() - time::Duration::days(i64::from(days));
    state.store.purge_audit_before(cutoff).await
}

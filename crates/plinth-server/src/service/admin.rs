//! What `plinth admin` (and the server's purge task) do to the database directly.

use plinth_core::{AuditAction, Handle};
use plinth_store::{OrgRecord, Store, StoreError};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{self, AuditContext, AuditEvent};
use crate::runtime::invalidate::{self, Invalidation};

/// Restores a deleted org within its grace period: the same org, members, invitations
/// and workspaces. Running servers learn it through the invalidation log: woken on
/// PostgreSQL, at their next poll (a quarter of a second) on SQLite.
pub async fn restore_org(
    store: &Store,
    handle: &Handle,
    now: OffsetDateTime,
) -> Result<Option<OrgRecord>, StoreError> {
    let mut tx = store.begin().await?;
    let Some(org) = tx.restore_org(handle, now).await? else {
        return Ok(None);
    };
    let event = AuditEvent::org(AuditAction::OrgRestore, &org)
        .data(json!({ "handle": org.handle.as_str(), "display_name": org.display_name }));
    audit::record_at(&mut tx, &AuditContext::admin(), event, now).await?;
    invalidate::queue(&mut tx, &Invalidation::Org(org.id.clone())).await?;
    invalidate::commit_and_wake(store, tx).await?;
    Ok(Some(org))
}

/// Purges deleted orgs past their grace period and expired handle reservations.
/// Answers the purged orgs' ids.
pub async fn purge_expired(store: &Store, now: OffsetDateTime) -> Result<Vec<String>, StoreError> {
    let purged = store.purge_expired_orgs(now).await?;
    // Expired reservations stopped redirecting at their end, and purged orgs had left
    // every cache and name when deleted; the invalidations only tidy what a server may
    // still hold about them.
    if !purged.is_empty() {
        let mut tx = store.begin().await?;
        for org_id in &purged {
            invalidate::queue(&mut tx, &Invalidation::Org(org_id.clone())).await?;
        }
        invalidate::commit_and_wake(store, tx).await?;
    }
    Ok(purged)
}

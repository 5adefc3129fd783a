//! What `plinth admin` (and the server's purge task) do to the database directly.

use plinth_core::{AuditAction, Handle};
use plinth_store::{OrgRecord, Store, StoreError};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{self, AuditContext, AuditEvent};
use crate::runtime::invalidate::{self, Invalidation};

/// Restores a deleted org within its grace period: the same org, members, invitations
/// and workspaces. Running servers learn it through `LISTEN/NOTIFY` (PostgreSQL) or
/// their periodic reload (at most 30 s).
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
    tx.commit().await?;
    Ok(Some(org))
}

/// Purges deleted orgs past their grace period and expired handle reservations.
/// Answers the purged orgs' ids.
pub async fn purge_expired(store: &Store, now: OffsetDateTime) -> Result<Vec<String>, StoreError> {
    let purged = store.purge_expired_orgs(now).await?;
    // Expired reservations stop redirecting: every replica reloads its names.
    let mut tx = store.begin().await?;
    invalidate::queue(&mut tx, &Invalidation::Workspaces).await?;
    tx.commit().await?;
    Ok(purged)
}

use plinth_api::{ChangeHandleRequest, CreateOrgRequest, UpdateOrgRequest};
use plinth_core::{AuditAction, AvatarUrl, DisplayName, Handle, OrgPermission};
use plinth_store::{NewOrg, OrgRecord, OrgUpdate, Page, UserOrg, time_to_micros};
use serde_json::json;

use crate::api::extract::ClientMeta;
use crate::audit::{self, AuditContext, AuditEvent, Changes};
use crate::auth::Actor;
use crate::auth::org::OrgOwner;
use crate::error::{ApiError, ApiResult};
use crate::runtime::invalidate::Invalidation;
use crate::runtime::state::AppState;

pub(crate) fn parse_display_name(input: &str) -> ApiResult<String> {
    Ok(DisplayName::parse(input)
        .map_err(|e| ApiError::validation("display_name", e.0))?
        .into_string())
}

pub(crate) fn parse_avatar_url(input: &str) -> ApiResult<Option<String>> {
    Ok(AvatarUrl::parse(input)
        .map_err(|e| ApiError::validation("avatar_url", e.0))?
        .map(AvatarUrl::into_string))
}

/// Creates an org with the caller as its first active owner.
pub async fn create(
    state: &AppState,
    meta: &ClientMeta,
    actor: &Actor,
    req: CreateOrgRequest,
) -> ApiResult<OrgRecord> {
    let handle = Handle::parse(&req.handle).map_err(|e| ApiError::validation("handle", e.0))?;
    let display_name = match &req.display_name {
        Some(name) => parse_display_name(name)?,
        None => handle.to_string(),
    };
    let avatar_url = match &req.avatar_url {
        Some(url) => parse_avatar_url(url)?,
        None => None,
    };
    let mut tx = state.store.begin().await?;
    // The shared `handles` table's key refuses a handle any user or org holds (or an
    // org's grace reservation), inside this transaction: no check-then-insert race.
    let org = tx
        .insert_org(
            NewOrg {
                handle: handle.clone(),
                display_name,
                avatar_url,
            },
            &actor.user.id,
            state.now(),
        )
        .await
        .map_err(ApiError::claiming(handle.as_str()))?;
    let event = AuditEvent::org(AuditAction::OrgCreate, &org).data(json!({
        "handle": org.handle.as_str(),
        "display_name": org.display_name,
        "avatar_url": org.avatar_url,
    }));
    audit::record(state, &mut tx, &AuditContext::new(actor, meta), event).await?;
    tx.commit().await?;
    Ok(org)
}

pub async fn list(
    state: &AppState,
    actor: &Actor,
    after: Option<&str>,
    limit: u32,
) -> ApiResult<Page<UserOrg>> {
    Ok(state
        .store
        .list_user_orgs(&actor.user.id, actor.authenticated_at_us(), after, limit)
        .await?)
}

/// Changes the org's display name or avatar.
pub async fn update(
    state: &AppState,
    meta: &ClientMeta,
    owner: &OrgOwner,
    req: UpdateOrgRequest,
) -> ApiResult<OrgRecord> {
    owner.require(OrgPermission::Manage)?;
    let update = OrgUpdate {
        display_name: req
            .display_name
            .as_deref()
            .map(parse_display_name)
            .transpose()?,
        avatar_url: req
            .avatar_url
            .as_deref()
            .map(parse_avatar_url)
            .transpose()?,
    };
    let mut tx = state.store.begin().await?;
    let (before, org) = tx
        .update_org(&owner.org.id, update, state.now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let changes = Changes::new()
        .field(
            "display_name",
            before.display_name.as_str(),
            org.display_name.as_str(),
        )
        .field(
            "avatar_url",
            before.avatar_url.clone(),
            org.avatar_url.clone(),
        );
    let event = AuditEvent::org(AuditAction::OrgUpdate, &org).changes(changes);
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&owner.actor, meta),
        event,
    )
    .await?;
    // Its workspaces' names (and their hosts, which show the org's display name) are
    // patched as part of it: they answer the new way from this moment on.
    state.commit_org_profile(tx, &org).await?;
    Ok(org)
}

fn grace_end(state: &AppState) -> time::OffsetDateTime {
    state.now() + time::Duration::days(i64::from(state.settings.handle_grace_days))
}

/// Gives the org a new handle, and so every workspace a new DNS name. The old handle
/// stays reserved for the org (and redirects) for `handle_grace_days`; the org may take
/// it back meanwhile.
pub async fn change_handle(
    state: &AppState,
    meta: &ClientMeta,
    owner: &OrgOwner,
    req: ChangeHandleRequest,
) -> ApiResult<OrgRecord> {
    owner.require(OrgPermission::Administer)?;
    let handle = Handle::parse(&req.handle).map_err(|e| ApiError::validation("handle", e.0))?;
    if handle == owner.org.handle {
        return Err(ApiError::validation(
            "handle",
            format!("\"{handle}\" is already this organization's handle"),
        ));
    }
    let inv = Invalidation::Org(owner.org.id.clone());
    let mut tx = state.store.begin().await?;
    let (before, after) = tx
        .change_org_handle(&owner.org.id, &handle, grace_end(state), state.now())
        .await
        .map_err(ApiError::claiming(handle.as_str()))?
        .ok_or_else(ApiError::not_found)?;
    let event = AuditEvent::org(AuditAction::OrgHandleUpdate, &after)
        .changes(Changes::new().field("handle", before.handle.as_str(), after.handle.as_str()));
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&owner.actor, meta),
        event,
    )
    .await?;
    // Its workspaces' names (and their hosts, which show the org's display name) are
    // re-read as part of it: they answer the new way from this moment on.
    state.commit_invalidating(tx, &inv).await?;
    Ok(after)
}

/// Refuses, on this org, every token issued until now, the caller's own included.
/// O(1): one column, however many tokens there are.
pub async fn reset_auth(state: &AppState, meta: &ClientMeta, owner: &OrgOwner) -> ApiResult<()> {
    owner.require(OrgPermission::Administer)?;
    let inv = Invalidation::Org(owner.org.id.clone());
    let now = time_to_micros(state.now());
    let mut tx = state.store.begin().await?;
    let before = tx
        .org_for_update(&owner.org.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    tx.set_org_token_min_issued_at(&owner.org.id, now).await?;
    let event = AuditEvent::org(AuditAction::OrgAuthReset, &before).changes(Changes::new().field(
        "token_min_issued_at",
        before.token_min_issued_at,
        now,
    ));
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&owner.actor, meta),
        event,
    )
    .await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok(())
}

/// Deletes the org once its handle is typed again: it vanishes from every answer and
/// from DNS at once, and stays restorable (`plinth admin org restore`) for
/// `handle_grace_days`, its handle reserved meanwhile. Its audit log ends here.
pub async fn delete(
    state: &AppState,
    meta: &ClientMeta,
    owner: &OrgOwner,
    confirm: Option<&str>,
) -> ApiResult<()> {
    owner.require(OrgPermission::Administer)?;
    if confirm != Some(owner.org.handle.as_str()) {
        return Err(ApiError::confirmation_mismatch(format!(
            "to delete this organization, send ?confirm={} (its handle, exactly)",
            owner.org.handle
        )));
    }
    let inv = Invalidation::Org(owner.org.id.clone());
    let mut tx = state.store.begin().await?;
    let org = tx
        .org_for_update(&owner.org.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let until = grace_end(state);
    tx.soft_delete_org(&org.id, until, state.now()).await?;
    let event = AuditEvent::org(AuditAction::OrgDelete, &org).data(json!({
        "handle": org.handle.as_str(),
        "display_name": org.display_name,
        "restorable_until": audit::time_value(until),
    }));
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&owner.actor, meta),
        event,
    )
    .await?;
    // Its workspaces' names (and their hosts, which show the org's display name) are
    // re-read as part of it: they answer the new way from this moment on.
    state.commit_invalidating(tx, &inv).await?;
    Ok(())
}

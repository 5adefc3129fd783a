use plinth_api::{CreateOrgRequest, UpdateOrgRequest};
use plinth_core::{AvatarUrl, DisplayName, Handle, OrgPermission};
use plinth_store::{NewOrg, OrgRecord, OrgUpdate, Page, UserOrg};

use crate::auth::Actor;
use crate::auth::org::OrgOwner;
use crate::error::{ApiError, ApiResult};
use crate::invalidate::Invalidation;
use crate::state::AppState;

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
        .map_err(|e| match ApiError::from(e) {
            err if err.problem_type == "handle-taken" => ApiError::handle_taken(handle.as_str()),
            err => err,
        })?;
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
        .list_user_orgs(&actor.user.id, after, limit)
        .await?)
}

/// Changes the org's display name or avatar.
pub async fn update(
    state: &AppState,
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
    let inv = Invalidation::Org(owner.org.id.clone());
    let mut tx = state.store.begin().await?;
    let org = tx
        .update_org(&owner.org.id, update, state.now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    state.queue_invalidation(&mut tx, &inv).await?;
    tx.commit().await?;
    state.apply_invalidation(&inv);
    // Workspace hosts show the org's display name.
    state.directory.reload_logged(&state.store).await;
    Ok(org)
}

use plinth_api::{
    AddWorkspaceMemberRequest, CreateWorkspaceRequest, UpdateWorkspaceMemberRequest,
    UpdateWorkspaceRequest,
};
use plinth_core::{AuditAction, OrgPermission, WorkspaceHandle, WorkspaceRole};
use plinth_store::{MembershipStatus, Page, WorkspaceMemberRecord, WorkspaceRecord};
use serde_json::json;

use crate::api::extract::ClientMeta;
use crate::audit::{self, AuditContext, AuditEvent, Changes};
use crate::auth::org::{OrgAccess, OrgMember, OrgOwner};
use crate::error::{ApiError, ApiResult};
use crate::runtime::invalidate::Invalidation;
use crate::runtime::state::AppState;
use crate::service::members::resolve_user;
use crate::service::orgs::parse_display_name;

/// A workspace and the caller's effective role on it.
pub struct VisibleWorkspace {
    pub workspace: WorkspaceRecord,
    pub role: WorkspaceRole,
}

pub(crate) fn workspace_role(role: plinth_api::WorkspaceRole) -> WorkspaceRole {
    match role {
        plinth_api::WorkspaceRole::Reader => WorkspaceRole::Reader,
        plinth_api::WorkspaceRole::Operator => WorkspaceRole::Operator,
        plinth_api::WorkspaceRole::Owner => WorkspaceRole::Owner,
    }
}

fn no_such_workspace() -> ApiError {
    ApiError::not_found().detail("no such workspace, or you have no role on it")
}

/// The workspace `handle` names if the caller may see it: org owners see all, members
/// only those they have a role on; anything else is 404, like a missing one.
async fn visible(
    state: &AppState,
    access: &OrgAccess,
    handle: &str,
) -> ApiResult<VisibleWorkspace> {
    access.require(OrgPermission::View)?;
    let handle = WorkspaceHandle::parse(handle).map_err(|_| no_such_workspace())?;
    let workspace = state
        .store
        .workspace(&access.org.id, &handle)
        .await?
        .ok_or_else(no_such_workspace)?;
    let role = match access.role().implicit_workspace_role() {
        Some(role) => role,
        None => state
            .store
            .workspace_role(&workspace.id, &access.actor.user.id)
            .await?
            .ok_or_else(no_such_workspace)?,
    };
    Ok(VisibleWorkspace { workspace, role })
}

/// Whether the caller may see the workspace with id `workspace_id` (the workspace hosts
/// ask this; an org owner's answer needs no database read).
pub async fn can_see(state: &AppState, access: &OrgAccess, workspace_id: &str) -> ApiResult<bool> {
    if access.role().implicit_workspace_role().is_some() {
        return Ok(true);
    }
    Ok(state
        .store
        .workspace_role(workspace_id, &access.actor.user.id)
        .await?
        .is_some())
}

/// Like [`visible`], then 403 unless the caller owns the workspace (an org owner
/// does): who may rename it and manage its members. The console asks it before
/// showing a review or confirm step.
pub async fn owned(
    state: &AppState,
    access: &OrgAccess,
    handle: &str,
) -> ApiResult<VisibleWorkspace> {
    let ws = visible(state, access, handle).await?;
    if ws.role != WorkspaceRole::Owner {
        return Err(ApiError::forbidden(format!(
            "only owners of the workspace \"{}\" may do this",
            ws.workspace.handle
        )));
    }
    Ok(ws)
}

pub async fn list(
    state: &AppState,
    member: &OrgMember,
    after: Option<&str>,
    limit: u32,
) -> ApiResult<Page<VisibleWorkspace>> {
    member.require(OrgPermission::View)?;
    let implicit = member.role().implicit_workspace_role();
    let only_for = match implicit {
        Some(_) => None,
        None => Some(member.actor.user.id.as_str()),
    };
    let page = state
        .store
        .list_workspaces(&member.org.id, only_for, after, limit)
        .await?;
    let items = page
        .items
        .into_iter()
        .filter_map(|(workspace, explicit)| {
            let role = implicit.or(explicit)?;
            Some(VisibleWorkspace { workspace, role })
        })
        .collect();
    Ok(Page {
        items,
        next_after: page.next_after,
    })
}

pub async fn create(
    state: &AppState,
    meta: &ClientMeta,
    owner: &OrgOwner,
    req: CreateWorkspaceRequest,
) -> ApiResult<VisibleWorkspace> {
    owner.require(OrgPermission::Manage)?;
    let handle =
        WorkspaceHandle::parse(&req.handle).map_err(|e| ApiError::validation("handle", e.0))?;
    let display_name = match &req.display_name {
        Some(name) => parse_display_name(name)?,
        None => handle.to_string(),
    };
    let mut tx = state.store.begin().await?;
    let workspace = tx
        .insert_workspace(&owner.org.id, handle.clone(), display_name, state.now())
        .await
        .map_err(|e| match ApiError::from(e) {
            err if err.problem_type == "handle-taken" => ApiError::handle_taken(handle.as_str())
                .detail(format!(
                    "this organization already has a workspace named \"{handle}\""
                )),
            err => err,
        })?;
    let event = AuditEvent::org(AuditAction::WorkspaceCreate, &owner.org)
        .target("workspace", &workspace.id, Some(workspace.handle.as_str()))
        .data(
            json!({ "handle": workspace.handle.as_str(), "display_name": workspace.display_name }),
        );
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&owner.actor, meta),
        event,
    )
    .await?;
    // Its DNS name answers from this moment on.
    state
        .commit_invalidating(tx, &Invalidation::OrgWorkspaces(owner.org.id.clone()))
        .await?;
    Ok(VisibleWorkspace {
        workspace,
        role: WorkspaceRole::Owner,
    })
}

pub async fn show(state: &AppState, member: &OrgMember, ws: &str) -> ApiResult<VisibleWorkspace> {
    visible(state, member, ws).await
}

/// Changes a workspace's handle (and with it its DNS name) and display name; workspace
/// owners only. The same handle as now is no change. The old DNS name stops answering
/// at the commit: unlike an org's handle, a workspace's is not reserved or redirected.
pub async fn update(
    state: &AppState,
    meta: &ClientMeta,
    member: &OrgMember,
    ws: &str,
    req: UpdateWorkspaceRequest,
) -> ApiResult<VisibleWorkspace> {
    let VisibleWorkspace {
        mut workspace,
        role,
    } = owned(state, member, ws).await?;
    let handle = match req.handle.as_deref() {
        Some(handle) => {
            Some(WorkspaceHandle::parse(handle).map_err(|e| ApiError::validation("handle", e.0))?)
        }
        None => None,
    }
    .filter(|handle| *handle != workspace.handle);
    let name = match req.display_name.as_deref() {
        Some(name) => Some(parse_display_name(name)?),
        None => None,
    };
    if handle.is_none() && name.is_none() {
        return Ok(VisibleWorkspace { workspace, role });
    }
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let mut changes = Changes::new();
    if let Some(new) = &handle {
        let changed = tx
            .set_workspace_handle(&workspace.id, new, now)
            .await
            .map_err(|e| match ApiError::from(e) {
                err if err.problem_type == "handle-taken" => ApiError::handle_taken(new.as_str())
                    .detail(format!(
                        "this organization already has a workspace named \"{new}\""
                    )),
                err => err,
            })?;
        if !changed {
            return Err(no_such_workspace());
        }
        changes = changes.field("handle", workspace.handle.as_str(), new.as_str());
    }
    if let Some(name) = &name {
        if !tx
            .set_workspace_display_name(&workspace.id, name, now)
            .await?
        {
            return Err(no_such_workspace());
        }
        changes = changes.field(
            "display_name",
            workspace.display_name.as_str(),
            name.as_str(),
        );
    }
    let event = AuditEvent::org(AuditAction::WorkspaceUpdate, &member.org)
        .target(
            "workspace",
            &workspace.id,
            Some(handle.as_ref().unwrap_or(&workspace.handle).as_str()),
        )
        .changes(changes);
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&member.actor, meta),
        event,
    )
    .await?;
    state
        .commit_invalidating(tx, &Invalidation::OrgWorkspaces(member.org.id.clone()))
        .await?;
    if let Some(handle) = handle {
        workspace.handle = handle;
    }
    if let Some(name) = name {
        workspace.display_name = name;
    }
    workspace.updated_at = plinth_store::micros_to_time(plinth_store::time_to_micros(now));
    Ok(VisibleWorkspace { workspace, role })
}

pub async fn delete(
    state: &AppState,
    meta: &ClientMeta,
    owner: &OrgOwner,
    ws: &str,
) -> ApiResult<()> {
    owner.require(OrgPermission::Manage)?;
    let handle = WorkspaceHandle::parse(ws).map_err(|_| no_such_workspace())?;
    let mut tx = state.store.begin().await?;
    let workspace = tx
        .workspace_for_update(&owner.org.id, &handle)
        .await?
        .ok_or_else(no_such_workspace)?;
    tx.delete_workspace(&workspace.id).await?;
    let event = AuditEvent::org(AuditAction::WorkspaceDelete, &owner.org)
        .target("workspace", &workspace.id, Some(workspace.handle.as_str()))
        .data(
            json!({ "handle": workspace.handle.as_str(), "display_name": workspace.display_name }),
        );
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&owner.actor, meta),
        event,
    )
    .await?;
    // Its DNS name stops answering from this moment on.
    state
        .commit_invalidating(tx, &Invalidation::OrgWorkspaces(owner.org.id.clone()))
        .await?;
    Ok(())
}

pub async fn list_members(
    state: &AppState,
    member: &OrgMember,
    ws: &str,
    after: Option<&str>,
    limit: u32,
) -> ApiResult<Page<WorkspaceMemberRecord>> {
    let ws = visible(state, member, ws).await?;
    Ok(state
        .store
        .list_workspace_members(&ws.workspace.id, after, limit)
        .await?)
}

/// Gives an active member of the org a role on the workspace.
pub async fn add_member(
    state: &AppState,
    meta: &ClientMeta,
    member: &OrgMember,
    ws: &str,
    req: AddWorkspaceMemberRequest,
) -> ApiResult<WorkspaceMemberRecord> {
    let ws = owned(state, member, ws).await?;
    let user = resolve_user(state, &req.user, "user").await?;
    let mut tx = state.store.begin().await?;
    let in_org = tx
        .membership_for_update(&member.org.id, &user.id)
        .await?
        .is_some_and(|m| m.status == MembershipStatus::Active);
    if !in_org {
        return Err(ApiError::validation(
            "user",
            format!(
                "\"{}\" must be an active member of the organization first",
                user.handle
            ),
        ));
    }
    if tx
        .workspace_member_for_update(&ws.workspace.id, &user.id)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(format!(
            "\"{}\" already has a role on this workspace; change it with PATCH",
            user.handle
        )));
    }
    tx.insert_workspace_member(
        &ws.workspace.id,
        &user.id,
        workspace_role(req.role),
        state.now(),
    )
    .await?;
    let added = tx
        .workspace_member_for_update(&ws.workspace.id, &user.id)
        .await?
        .ok_or_else(|| ApiError::internal("workspace member vanished inside its transaction"))?;
    let event = AuditEvent::org(AuditAction::WorkspaceMemberAdd, &member.org)
        .target("user", &user.id, Some(user.handle.as_str()))
        .data(json!({ "workspace": ws.workspace.handle.as_str(), "role": added.role.as_str() }));
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&member.actor, meta),
        event,
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

fn not_a_workspace_member(handle: &str) -> ApiError {
    ApiError::not_found().detail(format!("\"{handle}\" has no role on this workspace"))
}

pub async fn update_member(
    state: &AppState,
    meta: &ClientMeta,
    member: &OrgMember,
    ws: &str,
    user: &str,
    req: UpdateWorkspaceMemberRequest,
) -> ApiResult<WorkspaceMemberRecord> {
    let ws = owned(state, member, ws).await?;
    let user = resolve_user(state, user, "user").await?;
    let role = workspace_role(req.role);
    let mut tx = state.store.begin().await?;
    let mut record = tx
        .workspace_member_for_update(&ws.workspace.id, &user.id)
        .await?
        .ok_or_else(|| not_a_workspace_member(user.handle.as_str()))?;
    tx.set_workspace_member_role(&ws.workspace.id, &user.id, role)
        .await?;
    let event = AuditEvent::org(AuditAction::WorkspaceMemberUpdate, &member.org)
        .target("user", &user.id, Some(user.handle.as_str()))
        .data(json!({
            "workspace": ws.workspace.handle.as_str(),
            "role": { "before": record.role.as_str(), "after": role.as_str() },
        }));
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&member.actor, meta),
        event,
    )
    .await?;
    tx.commit().await?;
    record.role = role;
    Ok(record)
}

/// Takes a user's role on the workspace away. Workspace owners remove anyone; anyone
/// may give up their own role.
pub async fn remove_member(
    state: &AppState,
    meta: &ClientMeta,
    member: &OrgMember,
    ws: &str,
    user: &str,
) -> ApiResult<()> {
    let user = resolve_user(state, user, "user").await?;
    let ws = if user.id == member.actor.user.id {
        visible(state, member, ws).await?
    } else {
        owned(state, member, ws).await?
    };
    let mut tx = state.store.begin().await?;
    if !tx
        .delete_workspace_member(&ws.workspace.id, &user.id)
        .await?
    {
        return Err(not_a_workspace_member(user.handle.as_str()));
    }
    let event = AuditEvent::org(AuditAction::WorkspaceMemberDelete, &member.org)
        .target("user", &user.id, Some(user.handle.as_str()))
        .data(json!({ "workspace": ws.workspace.handle.as_str() }));
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&member.actor, meta),
        event,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

use plinth_api::{InviteMemberRequest, UpdateMemberRequest};
use plinth_core::{AuditAction, Email, Handle, OrgPermission, OrgRole};
use plinth_store::{
    InvitationRecord, MemberRecord, MembershipRecord, MembershipStatus, OrgRecord, Page, UserRecord,
};
use serde_json::json;

use crate::api::extract::ClientMeta;
use crate::audit::{self, AuditContext, AuditEvent, Changes};
use crate::auth::Actor;
use crate::auth::org::{OrgMember, OrgOwner};
use crate::error::{ApiError, ApiResult};
use crate::runtime::invalidate::Invalidation;
use crate::runtime::state::AppState;

pub(crate) fn org_role(role: plinth_api::OrgRole) -> OrgRole {
    match role {
        plinth_api::OrgRole::Member => OrgRole::Member,
        plinth_api::OrgRole::Owner => OrgRole::Owner,
    }
}

/// Finds an existing user by handle or email; `field` names the input in a 400.
pub(crate) async fn resolve_user(
    state: &AppState,
    input: &str,
    field: &str,
) -> ApiResult<UserRecord> {
    let input = input.trim();
    let login = if input.contains('@') {
        Email::parse(input)
            .map_err(|e| ApiError::validation(field, e.0))?
            .to_string()
    } else {
        Handle::parse(input)
            .map_err(|e| {
                ApiError::validation(field, format!("must be a handle or an email: {}", e.0))
            })?
            .into_string()
    };
    state.store.user_by_login(&login).await?.ok_or_else(|| {
        ApiError::not_found().detail(format!(
            "there is no user with the handle or email \"{login}\"; they need an account first"
        ))
    })
}

fn member_record(membership: MembershipRecord, user: &UserRecord) -> MemberRecord {
    MemberRecord {
        membership,
        handle: user.handle.clone(),
        display_name: user.display_name.clone(),
        avatar_url: user.avatar_url.clone(),
    }
}

fn not_a_member(handle: &Handle) -> ApiError {
    ApiError::not_found().detail(format!(
        "\"{handle}\" is not a member of this organization, nor invited to it"
    ))
}

pub async fn list(
    state: &AppState,
    member: &OrgMember,
    after: Option<&str>,
    limit: u32,
) -> ApiResult<Page<MemberRecord>> {
    member.require(OrgPermission::View)?;
    Ok(state
        .store
        .list_members(&member.org.id, after, limit)
        .await?)
}

/// One member or invitee of the org, by handle or email (what a member list row
/// shows); 404 for someone who is neither.
pub async fn show(state: &AppState, member: &OrgMember, user: &str) -> ApiResult<MemberRecord> {
    member.require(OrgPermission::View)?;
    let user = resolve_user(state, user, "user").await?;
    let membership = state
        .store
        .membership(&member.org.id, &user.id)
        .await?
        .ok_or_else(|| not_a_member(&user.handle))?;
    Ok(member_record(membership, &user))
}

/// Invites an existing user; they become a member when they accept.
pub async fn invite(
    state: &AppState,
    meta: &ClientMeta,
    owner: &OrgOwner,
    req: InviteMemberRequest,
) -> ApiResult<MemberRecord> {
    owner.require(OrgPermission::Manage)?;
    let user = resolve_user(state, &req.user, "user").await?;
    let org_id = owner.org.id.clone();
    let inv = Invalidation::Membership {
        org_id: org_id.clone(),
        user_id: user.id.clone(),
    };
    let mut tx = state.store.begin().await?;
    tx.org_for_update(&org_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if let Some(existing) = tx.membership_for_update(&org_id, &user.id).await? {
        return Err(ApiError::conflict(match existing.status {
            MembershipStatus::Active => format!("\"{}\" is already a member", user.handle),
            MembershipStatus::Invited => format!("\"{}\" is already invited", user.handle),
        }));
    }
    let membership = tx
        .insert_invitation(
            &org_id,
            &user.id,
            org_role(req.role),
            &owner.actor.user.id,
            state.now(),
        )
        .await?;
    let event = AuditEvent::org(AuditAction::OrgMemberInvite, &owner.org)
        .target("user", &user.id, Some(user.handle.as_str()))
        .data(json!({ "role": membership.role.as_str() }));
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&owner.actor, meta),
        event,
    )
    .await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok(member_record(membership, &user))
}

/// Changes a member's (or invitee's) role. The last active owner can't be demoted.
pub async fn update(
    state: &AppState,
    meta: &ClientMeta,
    owner: &OrgOwner,
    user: &str,
    req: UpdateMemberRequest,
) -> ApiResult<MemberRecord> {
    owner.require(OrgPermission::Manage)?;
    let user = resolve_user(state, user, "user").await?;
    let org_id = owner.org.id.clone();
    let role = org_role(req.role);
    let inv = Invalidation::Membership {
        org_id: org_id.clone(),
        user_id: user.id.clone(),
    };
    let mut tx = state.store.begin().await?;
    // Locks the org row on PostgreSQL: two owners demoting each other concurrently
    // serialize here, and the second sees the first's change in its count.
    tx.org_for_update(&org_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut membership = tx
        .membership_for_update(&org_id, &user.id)
        .await?
        .ok_or_else(|| not_a_member(&user.handle))?;
    if membership.is_active_owner()
        && role != OrgRole::Owner
        && tx.count_active_owners(&org_id).await? <= 1
    {
        return Err(ApiError::last_owner());
    }
    tx.set_membership_role(&org_id, &user.id, role).await?;
    let event = AuditEvent::org(AuditAction::OrgMemberUpdate, &owner.org)
        .target("user", &user.id, Some(user.handle.as_str()))
        .changes(Changes::new().field("role", membership.role.as_str(), role.as_str()));
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&owner.actor, meta),
        event,
    )
    .await?;
    membership.role = role;
    state.commit_invalidating(tx, &inv).await?;
    Ok(member_record(membership, &user))
}

/// Removes a member or withdraws an invitation. Owners remove anyone; a member may
/// remove themself (leave). The last active owner can't be removed.
pub async fn remove(
    state: &AppState,
    meta: &ClientMeta,
    member: &OrgMember,
    user: &str,
) -> ApiResult<()> {
    remove_where(state, meta, member, user, None).await
}

/// Withdraws a pending invitation, and only that: if it was accepted meanwhile, nothing
/// changes (409), since removing a member is a step of its own (the console confirms
/// it). The same permissions and audit entry as [`remove`].
pub async fn withdraw(
    state: &AppState,
    meta: &ClientMeta,
    member: &OrgMember,
    user: &str,
) -> ApiResult<()> {
    remove_where(state, meta, member, user, Some(MembershipStatus::Invited)).await
}

async fn remove_where(
    state: &AppState,
    meta: &ClientMeta,
    member: &OrgMember,
    user: &str,
    only: Option<MembershipStatus>,
) -> ApiResult<()> {
    let user = resolve_user(state, user, "user").await?;
    if user.id != member.actor.user.id {
        member.require(OrgPermission::Manage)?;
    }
    let org_id = member.org.id.clone();
    let inv = Invalidation::Membership {
        org_id: org_id.clone(),
        user_id: user.id.clone(),
    };
    let mut tx = state.store.begin().await?;
    tx.org_for_update(&org_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let membership = tx
        .membership_for_update(&org_id, &user.id)
        .await?
        .ok_or_else(|| not_a_member(&user.handle))?;
    if only.is_some_and(|status| status != membership.status) {
        return Err(ApiError::conflict(format!(
            "\"{}\" has already accepted the invitation and is a member now",
            user.handle
        )));
    }
    if membership.is_active_owner() && tx.count_active_owners(&org_id).await? <= 1 {
        return Err(ApiError::last_owner());
    }
    tx.delete_membership(&org_id, &user.id).await?;
    let event = AuditEvent::org(AuditAction::OrgMemberDelete, &member.org)
        .target("user", &user.id, Some(user.handle.as_str()))
        .data(json!({
            "role": membership.role.as_str(),
            "status": membership.status.as_str(),
            "left": user.id == member.actor.user.id,
        }));
    audit::record(
        state,
        &mut tx,
        &AuditContext::new(&member.actor, meta),
        event,
    )
    .await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok(())
}

pub async fn invitations(
    state: &AppState,
    actor: &Actor,
    after: Option<&str>,
    limit: u32,
) -> ApiResult<Page<InvitationRecord>> {
    Ok(state
        .store
        .list_invitations(&actor.user.id, after, limit)
        .await?)
}

/// The number of the caller's pending invitations (as [`invitations`] lists them), in
/// one indexed query.
pub async fn invitation_count(state: &AppState, actor: &Actor) -> ApiResult<u64> {
    Ok(state.store.count_invitations(&actor.user.id).await?)
}

fn no_invitation() -> ApiError {
    ApiError::not_found().detail("you have no pending invitation from this organization")
}

async fn invited_org(state: &AppState, org: &str) -> ApiResult<OrgRecord> {
    let handle = Handle::parse(org).map_err(|_| no_invitation())?;
    state
        .store
        .org_by_handle(&handle)
        .await?
        .ok_or_else(no_invitation)
}

/// Accepts an invitation: the caller becomes an active member with the invited role.
pub async fn accept(
    state: &AppState,
    meta: &ClientMeta,
    actor: &Actor,
    org: &str,
) -> ApiResult<(OrgRecord, OrgRole)> {
    let org = invited_org(state, org).await?;
    // The org's reset covers its invitations: a refused session cannot join it.
    actor.check_org_reset(&org)?;
    let inv = Invalidation::Membership {
        org_id: org.id.clone(),
        user_id: actor.user.id.clone(),
    };
    let mut tx = state.store.begin().await?;
    // The org row lock orders this against a concurrent withdrawal or removal (the
    // same lock `remove` takes): one of them sees the other's outcome.
    tx.org_for_update(&org.id)
        .await?
        .ok_or_else(no_invitation)?;
    let membership = tx
        .membership_for_update(&org.id, &actor.user.id)
        .await?
        .filter(|m| m.status == MembershipStatus::Invited)
        .ok_or_else(no_invitation)?;
    if !tx.activate_membership(&org.id, &actor.user.id).await? {
        return Err(no_invitation());
    }
    let event = AuditEvent::org(AuditAction::OrgMemberAccept, &org)
        .target("user", &actor.user.id, Some(actor.user.handle.as_str()))
        .data(json!({ "role": membership.role.as_str() }));
    audit::record(state, &mut tx, &AuditContext::new(actor, meta), event).await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok((org, membership.role))
}

/// Declines an invitation; the org may invite again later.
pub async fn decline(
    state: &AppState,
    meta: &ClientMeta,
    actor: &Actor,
    org: &str,
) -> ApiResult<()> {
    let org = invited_org(state, org).await?;
    // The org's reset covers its invitations: a refused session cannot join it.
    actor.check_org_reset(&org)?;
    let inv = Invalidation::Membership {
        org_id: org.id.clone(),
        user_id: actor.user.id.clone(),
    };
    let mut tx = state.store.begin().await?;
    // As in `accept`: ordered against a concurrent withdrawal by the org row lock.
    tx.org_for_update(&org.id)
        .await?
        .ok_or_else(no_invitation)?;
    let membership = tx
        .membership_for_update(&org.id, &actor.user.id)
        .await?
        .filter(|m| m.status == MembershipStatus::Invited)
        .ok_or_else(no_invitation)?;
    if !tx.delete_membership(&org.id, &actor.user.id).await? {
        return Err(no_invitation());
    }
    let event = AuditEvent::org(AuditAction::OrgMemberDecline, &org)
        .target("user", &actor.user.id, Some(actor.user.handle.as_str()))
        .data(json!({ "role": membership.role.as_str() }));
    audit::record(state, &mut tx, &AuditContext::new(actor, meta), event).await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok(())
}

//! Domain records → API bodies.

use plinth_core::{DnsName, Handle, OrgRole, WorkspaceHandle, WorkspaceRole};
use plinth_store::{
    AuditRecord, ChainVerification, InvitationRecord, MemberRecord, MembershipStatus, OrgRecord,
    TokenRecord, TokenStatus, UserRecord, WorkspaceMemberRecord,
};

use crate::runtime::config::Settings;
use crate::service::workspaces::VisibleWorkspace;

pub fn user(user: &UserRecord) -> plinth_api::User {
    plinth_api::User {
        id: user.id.clone(),
        handle: user.handle.to_string(),
        email: user.email.to_string(),
        display_name: user.display_name.clone(),
        avatar_url: user.avatar_url.clone(),
        created_at: user.created_at,
        updated_at: user.updated_at,
    }
}

pub fn token_status(status: TokenStatus) -> plinth_api::TokenStatus {
    match status {
        TokenStatus::Active => plinth_api::TokenStatus::Active,
        TokenStatus::Inactive => plinth_api::TokenStatus::Inactive,
    }
}

pub fn token(token: &TokenRecord) -> plinth_api::Token {
    plinth_api::Token {
        id: token.id.clone(),
        title: token.title.clone().unwrap_or_default(),
        description: token.description.clone(),
        status: token_status(token.status),
        last4: token.last4.clone(),
        expires_at: token.expires_at,
        last_used_at: token.last_used_at,
        created_at: token.created_at,
    }
}

pub fn org_role(role: OrgRole) -> plinth_api::OrgRole {
    match role {
        OrgRole::Member => plinth_api::OrgRole::Member,
        OrgRole::Owner => plinth_api::OrgRole::Owner,
    }
}

pub fn workspace_role(role: WorkspaceRole) -> plinth_api::WorkspaceRole {
    match role {
        WorkspaceRole::Reader => plinth_api::WorkspaceRole::Reader,
        WorkspaceRole::Operator => plinth_api::WorkspaceRole::Operator,
        WorkspaceRole::Owner => plinth_api::WorkspaceRole::Owner,
    }
}

pub fn org(org: &OrgRecord, role: OrgRole) -> plinth_api::Org {
    plinth_api::Org {
        id: org.id.clone(),
        handle: org.handle.to_string(),
        display_name: org.display_name.clone(),
        avatar_url: org.avatar_url.clone(),
        role: org_role(role),
        created_at: org.created_at,
        updated_at: org.updated_at,
    }
}

pub fn member(m: &MemberRecord) -> plinth_api::Member {
    plinth_api::Member {
        user: plinth_api::MemberUser {
            id: m.membership.user_id.clone(),
            handle: m.handle.to_string(),
            display_name: m.display_name.clone(),
            avatar_url: m.avatar_url.clone(),
        },
        role: org_role(m.membership.role),
        status: match m.membership.status {
            MembershipStatus::Invited => plinth_api::MembershipStatus::Invited,
            MembershipStatus::Active => plinth_api::MembershipStatus::Active,
        },
        created_at: m.membership.created_at,
    }
}

pub fn invitation(i: &InvitationRecord) -> plinth_api::Invitation {
    plinth_api::Invitation {
        org: plinth_api::InvitationOrg {
            handle: i.org.handle.to_string(),
            display_name: i.org.display_name.clone(),
            avatar_url: i.org.avatar_url.clone(),
        },
        role: org_role(i.membership.role),
        invited_by: i.invited_by_handle.as_ref().map(ToString::to_string),
        created_at: i.membership.created_at,
    }
}

/// The DNS name and URL of a workspace: derived from the handles every time.
pub fn workspace_address(
    settings: &Settings,
    org: &Handle,
    workspace: &WorkspaceHandle,
) -> (String, String) {
    let name = DnsName::new(org, workspace, &settings.base_domain);
    // Served by the same listener as the public URL: its scheme and port.
    let public = settings.public_url();
    let url = format!("{}://{name}{}/", public.scheme(), public.port_suffix());
    (name.to_string(), url)
}

pub fn workspace(
    settings: &Settings,
    org: &Handle,
    ws: &VisibleWorkspace,
) -> plinth_api::Workspace {
    let w = &ws.workspace;
    let (dns_name, url) = workspace_address(settings, org, &w.handle);
    plinth_api::Workspace {
        id: w.id.clone(),
        org: org.to_string(),
        handle: w.handle.to_string(),
        display_name: w.display_name.clone(),
        dns_name,
        url,
        role: workspace_role(ws.role),
        created_at: w.created_at,
        updated_at: w.updated_at,
    }
}

pub fn workspace_member(m: &WorkspaceMemberRecord) -> plinth_api::WorkspaceMember {
    plinth_api::WorkspaceMember {
        user: plinth_api::MemberUser {
            id: m.user_id.clone(),
            handle: m.handle.to_string(),
            display_name: m.display_name.clone(),
            avatar_url: m.avatar_url.clone(),
        },
        role: workspace_role(m.role),
        created_at: m.created_at,
    }
}

pub fn audit_entry(entry: &AuditRecord) -> plinth_api::AuditEntry {
    plinth_api::AuditEntry {
        id: entry.id.clone(),
        created_at: entry.created_at,
        org_id: entry.org_id.clone(),
        org_handle: entry.org_handle.clone(),
        actor_id: entry.actor_id.clone(),
        actor_handle: entry.actor_handle.clone(),
        actor_ip: entry.actor_ip.clone(),
        user_agent: entry.user_agent.clone(),
        action: entry.action.clone(),
        target_type: entry.target_type.clone(),
        target_id: entry.target_id.clone(),
        target_handle: entry.target_handle.clone(),
        data: serde_json::from_str(&entry.data)
            .unwrap_or_else(|_| serde_json::Value::String(entry.data.clone())),
        request_id: entry.request_id.clone(),
        seq: entry.seq,
        prev_hash: entry.prev_hash.clone(),
        hash: entry.hash.clone(),
    }
}

pub fn audit_verification(v: &ChainVerification) -> plinth_api::AuditVerification {
    plinth_api::AuditVerification {
        ok: v.ok,
        entries: v.entries,
        head: v.head.clone(),
        first_broken: v.first_broken.as_ref().map(|b| plinth_api::AuditBreak {
            seq: b.seq,
            id: b.id.clone(),
            reason: b.reason.clone(),
        }),
        known_head_found: v.known_head_seq.map(|seq| seq.is_some()),
    }
}

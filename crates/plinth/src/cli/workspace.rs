//! `plinth workspace …`: an org's workspaces (named `ORG/WS`), their DNS names and their
//! members.

use clap::{Subcommand, ValueEnum};
use serde_json::json;

use super::{ClientArgs, Output, Shown, client, confirm, field, org_handle, show};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WorkspaceRole {
    Reader,
    Operator,
    Owner,
}

impl WorkspaceRole {
    fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Operator => "operator",
            Self::Owner => "owner",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCli {
    /// The org's workspaces you can see: handle, name, DNS name, your role.
    List {
        org: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Create a workspace (org owners); its DNS name answers at once.
    Create {
        /// `ORG/WS`; WS is 1-23 lowercase letters and digits.
        workspace: String,
        #[arg(long)]
        display_name: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// One workspace, with its DNS name and URL.
    Show {
        workspace: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change the workspace's display name (its handle, and so its DNS name, stays).
    Rename {
        workspace: String,
        display_name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a workspace: its DNS name stops answering (asks for the workspace handle).
    Delete {
        workspace: String,
        #[arg(long)]
        confirm: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// The workspace's members: list, add, set-role, remove.
    #[command(subcommand)]
    Member(WorkspaceMemberCli),
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceMemberCli {
    /// Members with a role on the workspace.
    List {
        workspace: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Give an org member a role on the workspace.
    Add {
        workspace: String,
        user: String,
        #[arg(long, value_enum, default_value_t = WorkspaceRole::Reader)]
        role: WorkspaceRole,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change a member's role on the workspace.
    SetRole {
        workspace: String,
        user: String,
        #[arg(value_enum)]
        role: WorkspaceRole,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Take a member's role on the workspace away.
    Remove {
        workspace: String,
        user: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `ORG/WS` → the API path of the workspace, both parts checked here.
fn workspace_path(name: &str) -> anyhow::Result<(String, String)> {
    let (org, ws) = name
        .split_once('/')
        .ok_or_else(|| anyhow::anyhow!("{name:?} is not ORG/WORKSPACE"))?;
    let ws = plinth_core::WorkspaceHandle::parse(ws)
        .map_err(|e| anyhow::anyhow!("{ws:?} is not a workspace handle: {e}"))?;
    let org = org_handle(org)?;
    Ok((format!("/orgs/{org}/workspaces/{ws}"), ws.to_string()))
}

pub fn workspace(command: WorkspaceCli) -> anyhow::Result<()> {
    match command {
        WorkspaceCli::List { org, client: args } => {
            let path = format!("/orgs/{}/workspaces", org_handle(&org)?);
            let workspaces = client(&args)?.all_items(&path)?;
            print_workspaces(args.output, Shown::List(workspaces))
        }
        WorkspaceCli::Create {
            workspace,
            display_name,
            client: args,
        } => {
            let (org, ws) = workspace
                .split_once('/')
                .ok_or_else(|| anyhow::anyhow!("{workspace:?} is not ORG/WORKSPACE"))?;
            let mut body = json!({ "handle": ws });
            if let Some(name) = display_name {
                body["display_name"] = json!(name);
            }
            let path = format!("/orgs/{}/workspaces", org_handle(org)?);
            let created = client(&args)?.post_json(&path, &body)?.ok()?;
            print_workspaces(args.output, Shown::One(created))
        }
        WorkspaceCli::Show {
            workspace,
            client: args,
        } => {
            let (path, _) = workspace_path(&workspace)?;
            let found = client(&args)?.get(&path)?.ok()?;
            print_workspaces(args.output, Shown::One(found))
        }
        WorkspaceCli::Rename {
            workspace,
            display_name,
            client: args,
        } => {
            let (path, _) = workspace_path(&workspace)?;
            let body = json!({ "display_name": display_name });
            let updated = client(&args)?.patch_json(&path, &body)?.ok()?;
            print_workspaces(args.output, Shown::One(updated))
        }
        WorkspaceCli::Delete {
            workspace,
            confirm: given,
            client: args,
        } => {
            let (path, ws) = workspace_path(&workspace)?;
            let api = client(&args)?;
            let found = api.get(&path)?.ok()?;
            confirm(
                &format!(
                    "Deleting {workspace}: its DNS name {} stops answering.",
                    found["dns_name"].as_str().unwrap_or_default()
                ),
                &ws,
                given.as_deref(),
            )?;
            api.delete_query(&path, &[])?.ok()?;
            eprintln!("Deleted {workspace}.");
            Ok(())
        }
        WorkspaceCli::Member(command) => workspace_member(command),
    }
}

fn workspace_member(command: WorkspaceMemberCli) -> anyhow::Result<()> {
    let member_path = |workspace: &str, user: &str| -> anyhow::Result<String> {
        let (path, _) = workspace_path(workspace)?;
        let user = plinth_core::Handle::parse(user)
            .map_err(|e| anyhow::anyhow!("{user:?} is not a user handle: {e}"))?;
        Ok(format!("{path}/members/{user}"))
    };
    match command {
        WorkspaceMemberCli::List {
            workspace,
            client: args,
        } => {
            let (path, _) = workspace_path(&workspace)?;
            let members = client(&args)?.all_items(&format!("{path}/members"))?;
            print_members(args.output, Shown::List(members))
        }
        WorkspaceMemberCli::Add {
            workspace,
            user,
            role,
            client: args,
        } => {
            let (path, _) = workspace_path(&workspace)?;
            let body = json!({ "user": user, "role": role.as_str() });
            let added = client(&args)?
                .post_json(&format!("{path}/members"), &body)?
                .ok()?;
            print_members(args.output, Shown::One(added))
        }
        WorkspaceMemberCli::SetRole {
            workspace,
            user,
            role,
            client: args,
        } => {
            let body = json!({ "role": role.as_str() });
            let updated = client(&args)?
                .patch_json(&member_path(&workspace, &user)?, &body)?
                .ok()?;
            print_members(args.output, Shown::One(updated))
        }
        WorkspaceMemberCli::Remove {
            workspace,
            user,
            client: args,
        } => {
            client(&args)?
                .delete_query(&member_path(&workspace, &user)?, &[])?
                .ok()?;
            eprintln!("{user} has no role on {workspace} any more.");
            Ok(())
        }
    }
}

fn print_workspaces(output: Output, shown: Shown) -> anyhow::Result<()> {
    show(
        output,
        shown,
        &["HANDLE", "NAME", "DNS NAME", "YOUR ROLE"],
        |w| {
            vec![
                field(w, "handle"),
                field(w, "display_name"),
                field(w, "dns_name"),
                field(w, "role"),
            ]
        },
    )
}

fn print_members(output: Output, shown: Shown) -> anyhow::Result<()> {
    show(output, shown, &["HANDLE", "NAME", "ROLE"], |m| {
        vec![
            field(&m["user"], "handle"),
            field(&m["user"], "display_name"),
            field(m, "role"),
        ]
    })
}

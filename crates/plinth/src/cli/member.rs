//! `plinth org member …` and `plinth invitation …`: who belongs to an org, and the
//! invitations you have received.

use clap::{Subcommand, ValueEnum};
use serde_json::json;

use super::{ClientArgs, Output, Shown, client, confirm, field, org_handle, show};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Role {
    Owner,
    Member,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Member => "member",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum MemberCli {
    /// The org's members and pending invitations: handle, name, role, status.
    List {
        org: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Invite a user (by handle or email); they become a member when they accept.
    Invite {
        org: String,
        user: String,
        #[arg(long, value_enum, default_value_t = Role::Member)]
        role: Role,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change a member's role (the last owner cannot be demoted).
    SetRole {
        org: String,
        user: String,
        #[arg(value_enum)]
        role: Role,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Remove a member, or withdraw an invitation (asks for the member's handle).
    Remove {
        org: String,
        user: String,
        #[arg(long)]
        confirm: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub fn member(command: MemberCli) -> anyhow::Result<()> {
    match command {
        MemberCli::List { org, client: args } => {
            let path = format!("/orgs/{}/members", org_handle(&org)?);
            let members = client(&args)?.all_items(&path)?;
            print_members(args.output, Shown::List(members))
        }
        MemberCli::Invite {
            org,
            user,
            role,
            client: args,
        } => {
            let path = format!("/orgs/{}/members", org_handle(&org)?);
            let body = json!({ "user": user, "role": role.as_str() });
            let member = client(&args)?.post_json(&path, &body)?.ok()?;
            print_members(args.output, Shown::One(member))
        }
        MemberCli::SetRole {
            org,
            user,
            role,
            client: args,
        } => {
            let path = member_path(&org, &user)?;
            let body = json!({ "role": role.as_str() });
            let member = client(&args)?.patch_json(&path, &body)?.ok()?;
            print_members(args.output, Shown::One(member))
        }
        MemberCli::Remove {
            org,
            user,
            confirm: given,
            client: args,
        } => {
            let path = member_path(&org, &user)?;
            let api = client(&args)?;
            confirm(
                &format!("{user} loses access to {org} and its workspaces."),
                &user,
                given.as_deref(),
            )?;
            api.delete_query(&path, &[])?.ok()?;
            eprintln!("Removed {user} from {org}.");
            Ok(())
        }
    }
}

fn member_path(org: &str, user: &str) -> anyhow::Result<String> {
    let user = plinth_core::Handle::parse(user)
        .map_err(|e| anyhow::anyhow!("{user:?} is not a user handle: {e}"))?;
    Ok(format!("/orgs/{}/members/{user}", org_handle(org)?))
}

fn print_members(output: Output, shown: Shown) -> anyhow::Result<()> {
    show(output, shown, &["HANDLE", "NAME", "ROLE", "STATUS"], |m| {
        vec![
            field(&m["user"], "handle"),
            field(&m["user"], "display_name"),
            field(m, "role"),
            field(m, "status"),
        ]
    })
}

#[derive(Debug, Subcommand)]
pub enum InvitationCli {
    /// Your pending invitations: org, its name, role, who invited you.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Join the org as the invited role.
    Accept {
        org: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Turn the invitation down (the org can invite you again).
    Decline {
        org: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub fn invitation(command: InvitationCli) -> anyhow::Result<()> {
    match command {
        InvitationCli::List { client: args } => {
            let invitations = client(&args)?.all_items("/user/invitations")?;
            let headers = ["ORG", "NAME", "ROLE", "INVITED BY"];
            show(args.output, Shown::List(invitations), &headers, |i| {
                vec![
                    field(&i["org"], "handle"),
                    field(&i["org"], "display_name"),
                    field(i, "role"),
                    field(i, "invited_by"),
                ]
            })
        }
        InvitationCli::Accept { org, client: args } => {
            let path = format!("/user/invitations/{}/accept", org_handle(&org)?);
            let joined = client(&args)?.post_empty(&path)?.ok()?;
            match args.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&joined)?),
                Output::Table => eprintln!("You joined {org}."),
            }
            Ok(())
        }
        InvitationCli::Decline { org, client: args } => {
            let path = format!("/user/invitations/{}/decline", org_handle(&org)?);
            client(&args)?.post_empty(&path)?.ok()?;
            eprintln!("Declined the invitation to {org}.");
            Ok(())
        }
    }
}

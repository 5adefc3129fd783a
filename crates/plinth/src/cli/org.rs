//! `plinth org …` and `plinth usage`: the org settings of the seed, from a terminal.

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{Client, ClientArgs, Output, Shown, client, confirm, field, org_handle, show};

#[derive(Debug, Subcommand)]
pub enum OrgCli {
    /// Your orgs.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// One org's profile.
    Show {
        org: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Create an org; you become its owner.
    Create {
        handle: String,
        #[arg(long)]
        display_name: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change the profile: display name, avatar URL (an empty URL clears it).
    Update {
        org: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        avatar_url: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change the org's handle, and with it the DNS name of every workspace.
    Rename {
        org: String,
        new_handle: String,
        /// The current handle, to confirm without a prompt.
        #[arg(long)]
        confirm: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Refuse every token issued so far on this org (yours too): everyone logs in again.
    ResetAuth {
        org: String,
        #[arg(long)]
        confirm: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// The org's members and invitations: list, invite, set-role, remove.
    #[command(subcommand)]
    Member(super::MemberCli),
    /// Delete the org, its members, invitations and workspaces.
    Delete {
        org: String,
        #[arg(long)]
        confirm: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub fn org(command: OrgCli) -> anyhow::Result<()> {
    match command {
        OrgCli::Member(command) => super::member(command),
        OrgCli::List { client: args } => {
            let orgs = client(&args)?.all_items("/orgs")?;
            print_orgs(args.output, Shown::List(orgs))
        }
        OrgCli::Show { org, client: args } => {
            let api = client(&args)?;
            let org = api.get(&format!("/orgs/{}", org_handle(&org)?))?.ok()?;
            print_orgs(args.output, Shown::One(org))
        }
        OrgCli::Create {
            handle,
            display_name,
            client: args,
        } => {
            let api = client(&args)?;
            let mut body = json!({ "handle": handle });
            if let Some(name) = display_name {
                body["display_name"] = json!(name);
            }
            let org = api.post_json("/orgs", &body)?.ok()?;
            print_orgs(args.output, Shown::One(org))
        }
        OrgCli::Update {
            org,
            display_name,
            avatar_url,
            client: args,
        } => {
            let api = client(&args)?;
            let mut body = json!({});
            if let Some(name) = display_name {
                body["display_name"] = json!(name);
            }
            if let Some(url) = avatar_url {
                body["avatar_url"] = json!(url);
            }
            let org = api
                .patch_json(&format!("/orgs/{}", org_handle(&org)?), &body)?
                .ok()?;
            print_orgs(args.output, Shown::One(org))
        }
        OrgCli::Rename {
            org,
            new_handle,
            confirm: given,
            client: args,
        } => {
            let api = client(&args)?;
            let org = org_handle(&org)?;
            let names = dns_names(&api, &org)?;
            let what = if names.is_empty() {
                format!("Renaming {org} to {new_handle}.")
            } else {
                format!(
                    "Renaming {org} to {new_handle} changes the DNS name of every workspace:\n{}",
                    names
                        .iter()
                        .map(|n| format!("  {n} → {}", n.replacen(&org, &new_handle, 1)))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            };
            confirm(&what, &org, given.as_deref())?;
            let renamed = api
                .post_json(
                    &format!("/orgs/{org}/handle"),
                    &json!({ "handle": new_handle }),
                )?
                .ok()?;
            eprintln!("Renamed. The old names redirect to the new ones during the grace period.");
            print_orgs(args.output, Shown::One(renamed))
        }
        OrgCli::ResetAuth {
            org,
            confirm: given,
            client: args,
        } => {
            let api = client(&args)?;
            let org = org_handle(&org)?;
            confirm(
                &format!(
                    "Resetting authentication refuses every temporary and user token issued \
                     so far on {org}, yours included."
                ),
                &org,
                given.as_deref(),
            )?;
            api.post_json(&format!("/orgs/{org}/reset-auth"), &json!({}))?
                .ok()?;
            eprintln!("Authentication reset: run `plinth login` again to work on {org}.");
            Ok(())
        }
        OrgCli::Delete {
            org,
            confirm: given,
            client: args,
        } => {
            let api = client(&args)?;
            let org = org_handle(&org)?;
            confirm(
                &format!("Deleting {org} removes its members, invitations and workspaces."),
                &org,
                given.as_deref(),
            )?;
            api.delete_query(&format!("/orgs/{org}"), &[("confirm", &org)])?
                .ok()?;
            eprintln!("Deleted {org}.");
            Ok(())
        }
    }
}

/// The DNS names of the org's workspaces the caller can see (all of them for an owner).
fn dns_names(api: &Client, org: &str) -> anyhow::Result<Vec<String>> {
    let workspaces = api.all_items(&format!("/orgs/{org}/workspaces"))?;
    Ok(workspaces
        .iter()
        .filter_map(|ws| ws["dns_name"].as_str().map(str::to_owned))
        .collect())
}

fn print_orgs(output: Output, shown: Shown) -> anyhow::Result<()> {
    show(output, shown, &["HANDLE", "NAME", "ROLE"], |o| {
        vec![
            field(o, "handle"),
            field(o, "display_name"),
            field(o, "role"),
        ]
    })
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    pub org: String,
    /// First day, YYYY-MM-DD (UTC); default 29 days before `--to`.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (UTC); default today.
    #[arg(long)]
    pub to: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `plinth usage ORG`: one line a day, then the totals.
pub fn usage(args: UsageArgs) -> anyhow::Result<()> {
    let api = client(&args.client)?;
    let org = org_handle(&args.org)?;
    let mut query = Vec::new();
    if let Some(from) = &args.from {
        query.push(("from", from.as_str()));
    }
    if let Some(to) = &args.to {
        query.push(("to", to.as_str()));
    }
    let report = api
        .get_query(&format!("/orgs/{org}/usage"), &query)?
        .ok()
        .context("reading usage")?;
    if args.client.output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    const FIGURES: [&str; 6] = [
        "api_requests",
        "workspace_requests",
        "dns_queries",
        "members",
        "workspaces",
        "audit_events",
    ];
    println!("day\t{}", FIGURES.join("\t"));
    let row = |label: &str, figures: &Value| {
        let values: Vec<String> = FIGURES
            .iter()
            .map(|f| figures[*f].as_i64().unwrap_or(0).to_string())
            .collect();
        println!("{label}\t{}", values.join("\t"));
    };
    for day in report["daily"].as_array().into_iter().flatten() {
        row(day["date"].as_str().unwrap_or_default(), day);
    }
    row("total", &report["totals"]);
    Ok(())
}

//! `plinth user …`: your own account: profile, and sign out everywhere.

use clap::Subcommand;
use serde_json::{Value, json};

use super::{ClientArgs, Output, Shown, client, confirm, field, show};

#[derive(Debug, Subcommand)]
pub enum UserCli {
    /// Your profile: handle, display name, email, avatar URL.
    Show {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change your display name, avatar URL (empty clears it) or email.
    Update {
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        avatar_url: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Sign out everywhere: every console and CLI login and every user token you hold
    /// stops working, this one included.
    ResetAuth {
        /// Your handle, to confirm without a prompt.
        #[arg(long)]
        confirm: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub fn user(command: UserCli) -> anyhow::Result<()> {
    match command {
        UserCli::Show { client: args } => {
            let me = client(&args)?.get("/user")?.ok()?;
            print_user(args.output, me)
        }
        UserCli::Update {
            display_name,
            avatar_url,
            email,
            client: args,
        } => {
            let mut body = json!({});
            for (key, value) in [
                ("display_name", display_name),
                ("avatar_url", avatar_url),
                ("email", email),
            ] {
                if let Some(value) = value {
                    body[key] = json!(value);
                }
            }
            let me = client(&args)?.patch_json("/user", &body)?.ok()?;
            print_user(args.output, me)
        }
        UserCli::ResetAuth {
            confirm: given,
            client: args,
        } => {
            let api = client(&args)?;
            let me = api.get("/user")?.ok()?;
            let handle = me["handle"].as_str().unwrap_or_default().to_owned();
            confirm(
                "Signing out everywhere ends every console and CLI login and every user \
                 token of yours, this one included.",
                &handle,
                given.as_deref(),
            )?;
            api.post_empty("/user/reset-auth")?.ok()?;
            eprintln!("Signed out everywhere. Run `plinth login` to sign in again.");
            Ok(())
        }
    }
}

fn print_user(output: Output, user: Value) -> anyhow::Result<()> {
    let headers = ["HANDLE", "NAME", "EMAIL", "AVATAR URL"];
    show(output, Shown::One(user), &headers, |u| {
        vec![
            field(u, "handle"),
            field(u, "display_name"),
            field(u, "email"),
            field(u, "avatar_url"),
        ]
    })
}

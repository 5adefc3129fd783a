//! `plinth token …`: your user API tokens (`plu_`), for scripts and CI. Creating,
//! changing and deleting them needs a login session (`plinth login`): a user token
//! cannot mint its own successors.

use clap::Subcommand;
use serde_json::json;

use super::{Client, ClientArgs, Output, Shown, client, field, show, when};

#[derive(Debug, Subcommand)]
pub enum TokenCli {
    /// Your user tokens: id, title, last 4 characters, status, created, expires, last used.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Create a token. The secret is printed once, alone on stdout, so that
    /// `TOKEN=$(plinth token create --title ci)` captures just the token.
    Create {
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: Option<String>,
        /// Days until it expires (1-366); default: never.
        #[arg(long)]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Let a deactivated token work again.
    Activate {
        id: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Stop a token working until it is activated again.
    Deactivate {
        id: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a token for good (asks for its title).
    Delete {
        id: String,
        /// The token's title, to confirm without a prompt.
        #[arg(long)]
        confirm: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub fn token(command: TokenCli) -> anyhow::Result<()> {
    match command {
        TokenCli::List { client: args } => {
            let tokens = client(&args)?.all_items("/user/tokens")?;
            print_tokens(args.output, Shown::List(tokens))
        }
        TokenCli::Create {
            title,
            description,
            expires_in_days,
            client: args,
        } => {
            let api = client(&args)?;
            let mut body = json!({ "title": title });
            if let Some(description) = description {
                body["description"] = json!(description);
            }
            if let Some(days) = expires_in_days {
                body["expires_in_days"] = json!(days);
            }
            let created = api.post_json("/user/tokens", &body)?.ok()?;
            match args.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&created)?),
                Output::Table => {
                    println!("{}", created["token"].as_str().unwrap_or_default());
                    eprintln!(
                        "Created token {} ({}). Copy it now: it will not be shown again.",
                        created["title"].as_str().unwrap_or_default(),
                        created["id"].as_str().unwrap_or_default(),
                    );
                }
            }
            Ok(())
        }
        TokenCli::Activate { id, client: args } => set_status(&args, &id, "active"),
        TokenCli::Deactivate { id, client: args } => set_status(&args, &id, "inactive"),
        TokenCli::Delete {
            id,
            confirm: given,
            client: args,
        } => {
            let path = token_path(&id)?;
            let api = client(&args)?;
            let tokens = api.all_items("/user/tokens")?;
            let title = tokens
                .iter()
                .find(|t| t["id"] == id.as_str())
                .and_then(|t| t["title"].as_str())
                .ok_or_else(|| {
                    super::failure(super::exit::NOT_FOUND, format!("you have no token {id}"))
                })?
                .to_owned();
            super::confirm(
                &format!("Deleting the token \"{title}\": anything using it stops working."),
                &title,
                given.as_deref(),
            )?;
            api.delete_query(&path, &[])?.ok()?;
            eprintln!("Deleted token {id}.");
            Ok(())
        }
    }
}

/// A token's path. Ids are UUIDs, never secrets: a pasted `plu_…` is refused here, before
/// it travels anywhere.
fn token_path(id: &str) -> anyhow::Result<String> {
    if id.starts_with("plu_") || id.starts_with("plt_") {
        anyhow::bail!(
            "that is a token's secret, not its id: see `plinth token list` (the secret was not sent)"
        );
    }
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        anyhow::bail!("{id:?} is not a token id: see `plinth token list`");
    }
    Ok(format!("/user/tokens/{id}"))
}

fn set_status(args: &ClientArgs, id: &str, status: &str) -> anyhow::Result<()> {
    let api: Client = client(args)?;
    let token = api
        .patch_json(&token_path(id)?, &json!({ "status": status }))?
        .ok()?;
    print_tokens(args.output, Shown::One(token))
}

fn print_tokens(output: Output, shown: Shown) -> anyhow::Result<()> {
    let headers = [
        "ID",
        "TITLE",
        "LAST 4",
        "STATUS",
        "CREATED",
        "EXPIRES",
        "LAST USED",
    ];
    show(output, shown, &headers, |t| {
        vec![
            field(t, "id"),
            field(t, "title"),
            format!("…{}", field(t, "last4")),
            field(t, "status"),
            when(&t["created_at"]),
            when(&t["expires_at"]),
            when(&t["last_used_at"]),
        ]
    })
}

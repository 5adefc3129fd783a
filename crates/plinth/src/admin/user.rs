//! `plinth admin user …`: accounts managed by the instance administrator (for
//! `--signup closed` instances, and for people locked out). Every change is recorded in
//! the account's audit log as an `admin.*` action by `plinth-admin`, and queued for the
//! running servers' caches.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use plinth_server::auth::password::PasswordHashing;
use plinth_server::error::ApiError;
use plinth_server::service::admin::{self, Changed, NewAccount};
use plinth_store::Store;
use time::OffsetDateTime;

/// The password to set: read from stdin (`--password-stdin`, one line), or a fresh one
/// that is printed once.
pub enum PasswordSource {
    Stdin,
    Generate,
}

impl PasswordSource {
    pub fn from_flag(password_stdin: bool) -> Self {
        if password_stdin {
            Self::Stdin
        } else {
            Self::Generate
        }
    }

    /// The password, and whether it was made here (and so must be shown).
    fn take(&self) -> anyhow::Result<(String, bool)> {
        match self {
            Self::Generate => Ok((admin::one_time_password(), true)),
            Self::Stdin => {
                if std::io::stdin().is_terminal() {
                    eprintln!("Password (one line, then Enter):");
                }
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from stdin")?;
                let password = line.trim_end_matches(['\n', '\r']).to_owned();
                if password.is_empty() {
                    anyhow::bail!("--password-stdin: stdin held no password");
                }
                Ok((password, false))
            }
        }
    }
}

/// A service refusal as one line: its detail, else its title.
fn refused(err: ApiError) -> anyhow::Error {
    anyhow::anyhow!(
        "{}",
        err.detail.clone().unwrap_or_else(|| err.title.to_owned())
    )
}

/// One hashing thread: a command hashes one password.
fn hashing() -> PasswordHashing {
    PasswordHashing::new(1)
}

pub async fn create(
    store: &Store,
    handle: &str,
    email: &str,
    display_name: Option<&str>,
    password: PasswordSource,
) -> anyhow::Result<()> {
    let (password, generated) = password.take()?;
    let account = NewAccount {
        handle,
        email,
        display_name,
        password: &password,
    };
    let user = admin::create_user(store, &hashing(), account, OffsetDateTime::now_utc())
        .await
        .map_err(refused)?;
    println!("created user \"{}\" ({})", user.handle, user.id);
    if generated {
        println!(
            "one-time password (shown only now; give it to {} safely): {password}",
            user.handle
        );
    }
    Ok(())
}

pub async fn reset_auth(
    store: &Store,
    handle: &str,
    password: Option<PasswordSource>,
) -> anyhow::Result<()> {
    let password = password.map(|p| p.take()).transpose()?;
    let user = admin::reset_user_auth(
        store,
        &hashing(),
        handle,
        password.as_ref().map(|(p, _)| p.as_str()),
        OffsetDateTime::now_utc(),
    )
    .await
    .map_err(refused)?;
    println!(
        "every token of \"{}\" issued until now is refused",
        user.handle
    );
    match password {
        Some((password, true)) => println!(
            "new one-time password (shown only now; give it to {} safely): {password}",
            user.handle
        ),
        Some((_, false)) => println!("the password was replaced"),
        None => println!("the password was kept"),
    }
    Ok(())
}

pub async fn set_disabled(store: &Store, handle: &str, disabled: bool) -> anyhow::Result<()> {
    let (user, changed) =
        admin::set_user_disabled(store, handle, disabled, OffsetDateTime::now_utc())
            .await
            .map_err(refused)?;
    let state = if disabled { "disabled" } else { "enabled" };
    match changed {
        Changed::Yes => println!("user \"{}\" is now {state}", user.handle),
        Changed::AlreadySo => println!("user \"{}\" was already {state}", user.handle),
    }
    Ok(())
}

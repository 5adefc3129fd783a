//! `plinth admin …`: instance administration on the database directly (same
//! `--database-url` as `serve`), without a running server.

mod audit;
mod backup;
mod user;

use std::path::PathBuf;

use clap::Subcommand;
use plinth_store::Store;

use crate::{config, connect_and_migrate};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Deleted organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Accounts: create one (for `--signup closed`), reset its authentication, disable
    /// or enable it. Recorded in the account's audit log as `admin.*` actions.
    #[command(subcommand)]
    User(UserCommand),
    /// Copy a SQLite database into FILE while servers keep serving (`VACUUM INTO`: one
    /// consistent snapshot), then check the copy. For PostgreSQL use pg_dump.
    Backup {
        /// Where to write the copy; must not exist.
        file: PathBuf,
        #[command(flatten)]
        db: config::DatabaseArgs,
    },
    /// Put a backup taken with `plinth admin backup` back in place of the SQLite database,
    /// after checking it (integrity, migrations, audit chains). Stop the server first.
    /// The replaced database is kept beside it. For PostgreSQL use pg_restore.
    Restore {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        db: config::DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account and print a one-time password (or set the one read from stdin
    /// with --password-stdin).
    Create {
        handle: String,
        #[arg(long)]
        email: String,
        /// Default: the handle.
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: config::DatabaseArgs,
    },
    /// Refuse every token of the account issued until now (its sessions, CLI logins and
    /// API tokens) and set a new password, printed once (or read with --password-stdin).
    ResetAuth {
        handle: String,
        /// Only refuse the tokens; leave the password as it is.
        #[arg(long, conflicts_with = "password_stdin")]
        keep_password: bool,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: config::DatabaseArgs,
    },
    /// Disable an account: its tokens are refused at once and it cannot log in.
    Disable {
        handle: String,
        #[command(flatten)]
        db: config::DatabaseArgs,
    },
    /// Enable a disabled account: it can log in again, and its unexpired tokens work.
    Enable {
        handle: String,
        #[command(flatten)]
        db: config::DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Bring back a deleted organization (with its members and workspaces) within its
    /// grace period.
    Restore {
        /// The deleted org's handle.
        handle: String,
        #[command(flatten)]
        db: config::DatabaseArgs,
    },
    /// Purge deleted organizations and handle reservations whose grace period is over
    /// (`plinth serve` also does this every hour).
    PurgeExpired {
        #[command(flatten)]
        db: config::DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of every audit log (or one org's) and report the first broken
    /// entry of each. Exits 1 when any chain is broken.
    Verify {
        /// Only this org's log.
        #[arg(long)]
        org: Option<String>,
        /// A head hash saved from an earlier verify: also prove it is still in the
        /// org's chain (detects removed newest entries). Needs --org.
        #[arg(long, requires = "org")]
        head: Option<String>,
        #[command(flatten)]
        db: config::DatabaseArgs,
    },
}

/// Runs one admin command.
pub async fn run(command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Audit(AuditCommand::Verify { org, head, db }) => {
            let store = connect_and_migrate(&config::database_url(&db)?).await?;
            if !audit::verify(&store, org.as_deref(), head.as_deref()).await? {
                std::process::exit(1);
            }
            Ok(())
        }
        AdminCommand::Org(OrgCommand::Restore { handle, db }) => {
            let store = connect_and_migrate(&config::database_url(&db)?).await?;
            restore_org(&store, &handle).await
        }
        AdminCommand::Backup { file, db } => {
            backup::backup(&config::database_url(&db)?, &file).await
        }
        AdminCommand::Restore { file, db } => {
            backup::restore(&config::database_url(&db)?, &file).await
        }
        AdminCommand::User(command) => run_user(command).await,
        AdminCommand::Org(OrgCommand::PurgeExpired { db }) => {
            let store = connect_and_migrate(&config::database_url(&db)?).await?;
            let purged = plinth_server::service::admin::purge_expired(
                &store,
                time::OffsetDateTime::now_utc(),
            )
            .await?;
            println!("purged {} deleted organization(s)", purged.len());
            Ok(())
        }
    }
}

async fn run_user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            handle,
            email,
            display_name,
            password_stdin,
            db,
        } => {
            let store = connect_and_migrate(&config::database_url(&db)?).await?;
            let password = user::PasswordSource::from_flag(password_stdin);
            user::create(&store, &handle, &email, display_name.as_deref(), password).await
        }
        UserCommand::ResetAuth {
            handle,
            keep_password,
            password_stdin,
            db,
        } => {
            let store = connect_and_migrate(&config::database_url(&db)?).await?;
            let password =
                (!keep_password).then(|| user::PasswordSource::from_flag(password_stdin));
            user::reset_auth(&store, &handle, password).await
        }
        UserCommand::Disable { handle, db } => {
            let store = connect_and_migrate(&config::database_url(&db)?).await?;
            user::set_disabled(&store, &handle, true).await
        }
        UserCommand::Enable { handle, db } => {
            let store = connect_and_migrate(&config::database_url(&db)?).await?;
            user::set_disabled(&store, &handle, false).await
        }
    }
}

async fn restore_org(store: &Store, handle: &str) -> anyhow::Result<()> {
    let handle =
        plinth_core::Handle::parse(handle).map_err(|e| anyhow::anyhow!("{handle}: {e}"))?;
    let now = time::OffsetDateTime::now_utc();
    match plinth_server::service::admin::restore_org(store, &handle, now).await? {
        Some(org) => {
            println!("restored organization \"{}\" ({})", org.handle, org.id);
            Ok(())
        }
        None => match store.deleted_org_by_handle(&handle).await? {
            Some(_) => anyhow::bail!(
                "\"{handle}\" was deleted longer ago than the grace period: it can no longer be restored"
            ),
            None => anyhow::bail!("no deleted organization has the handle \"{handle}\""),
        },
    }
}

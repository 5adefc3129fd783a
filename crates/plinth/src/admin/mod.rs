//! `plinth admin …`: instance administration on the database directly (same
//! `--database-url` as `serve`), without a running server.

mod audit;

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

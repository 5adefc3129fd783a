use sqlx::{Executor, Row};

use crate::store::{Backend, Store, time_to_micros};
use crate::{Result, StoreError};

/// One schema version, written once per backend.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $file)),
            postgres: include_str!(concat!("../migrations/postgres/", $file)),
        }
    };
}

/// Every migration, in order. Append only: a released file is never edited.
///
/// Versions need not be contiguous: each is applied when its own version is missing from
/// `plinth_migrations`, so branches can claim numbers in parallel (version 2 is the audit
/// log's) and a database that got 3 or 4 before 2 simply gets 2 when it appears.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "accounts", "0001_accounts.sql"),
    migration!(2, "audit", "0002_audit.sql"),
    migration!(3, "orgs", "0003_orgs.sql"),
    migration!(4, "usage", "0004_usage.sql"),
    migration!(5, "device", "0005_device.sql"),
    migration!(6, "authenticated_at", "0006_authenticated_at.sql"),
    migration!(7, "session_origin", "0007_session_origin.sql"),
    migration!(8, "invalidation_log", "0008_invalidation_log.sql"),
];

/// An arbitrary constant: the advisory lock that keeps two replicas from migrating at once.
const PG_MIGRATION_LOCK: i64 = 0x706c_696e_7468;

impl Store {
    /// Applies every migration not yet applied, each in its own transaction.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        let mut applied_now = Vec::new();
        for migration in MIGRATIONS {
            let mut tx = self.begin().await?;
            if self.backend() == Backend::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(PG_MIGRATION_LOCK)
                    .execute(&mut *tx.tx)
                    .await?;
            }
            tx.tx
                .execute(
                    "CREATE TABLE IF NOT EXISTS plinth_migrations (\
                       version BIGINT NOT NULL PRIMARY KEY, \
                       name TEXT NOT NULL, \
                       applied_at BIGINT NOT NULL)",
                )
                .await?;
            let done: Option<String> =
                sqlx::query("SELECT name FROM plinth_migrations WHERE version = $1")
                    .bind(migration.version)
                    .fetch_optional(&mut *tx.tx)
                    .await?
                    .map(|row| row.try_get("name"))
                    .transpose()?;
            if let Some(name) = done {
                if name != migration.name {
                    return Err(StoreError::Corrupt(format!(
                        "migration {} is recorded as {name:?}, expected {:?}",
                        migration.version, migration.name
                    )));
                }
                continue;
            }
            let sql = match self.backend() {
                Backend::Sqlite => migration.sqlite,
                Backend::Postgres => migration.postgres,
            };
            tx.tx.execute(sqlx::raw_sql(sql)).await?;
            sqlx::query(
                "INSERT INTO plinth_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(migration.version)
            .bind(migration.name)
            .bind(time_to_micros(time::OffsetDateTime::now_utc()))
            .execute(&mut *tx.tx)
            .await?;
            tx.commit().await?;
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "applied migration"
            );
            applied_now.push(migration.version);
        }
        Ok(applied_now)
    }
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    fn sql_files(backend: &str) -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/");
        let mut names: Vec<String> = std::fs::read_dir(format!("{dir}{backend}"))
            .expect("migrations folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn both_backends_have_the_same_files_and_all_are_listed() {
        let sqlite = sql_files("sqlite");
        assert_eq!(sqlite, sql_files("postgres"), "migration sets differ");
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(
            sqlite, listed,
            "every file is listed in MIGRATIONS, in order"
        );
    }

    #[test]
    fn versions_increase() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }
}

use sqlx::Row as _;

use crate::sql::args;
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
    migration!(9, "user_disabled", "0009_user_disabled.sql"),
];

/// An arbitrary constant: the advisory lock that keeps two replicas from migrating at once.
const PG_MIGRATION_LOCK: i64 = 0x706c_696e_7468;

/// What `migrate` would do, and whether it may: the migrations not yet applied, and those
/// recorded in the database that this build does not know (a newer Plinth migrated it).
#[derive(Debug, Clone)]
pub struct MigrationPlan {
    pub pending: Vec<&'static Migration>,
    /// `(version, name)` as recorded by the build that applied them.
    pub unknown: Vec<(i64, String)>,
}

impl MigrationPlan {
    /// The error a plan with unknown migrations answers, naming them.
    pub fn refusal(&self) -> Option<StoreError> {
        if self.unknown.is_empty() {
            return None;
        }
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        let list: Vec<String> = self
            .unknown
            .iter()
            .map(|(version, name)| format!("{version:04}_{name}"))
            .collect();
        Some(StoreError::NewerSchema(format!(
            "the database was migrated by a newer version of Plinth: it has migration(s) {} \
             that this version (which knows up to {known:04}) does not; run the newer \
             version, or restore a backup taken before the upgrade",
            list.join(", ")
        )))
    }
}

impl Store {
    /// Versions and names recorded in `plinth_migrations` (none on an empty database).
    pub async fn applied_migrations(&self) -> Result<Vec<(i64, String)>> {
        let exists = match self.backend() {
            Backend::Sqlite => sqlx::query(
                "SELECT COUNT(*) AS n FROM sqlite_master \
                     WHERE type = 'table' AND name = 'plinth_migrations'",
            )
            .fetch_one(&mut *self.reader().await?)
            .await?
            .try_get::<i64, _>("n")?,
            Backend::Postgres => sqlx::query(
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name = 'plinth_migrations'",
            )
            .fetch_one(&mut *self.reader().await?)
            .await?
            .try_get::<i64, _>("n")?,
        };
        if exists == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query("SELECT version, name FROM plinth_migrations ORDER BY version")
            .fetch_all(&mut *self.reader().await?)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("version")?, row.try_get("name")?)))
            .collect()
    }

    /// What [`Store::migrate`] would apply, without applying anything.
    pub async fn migration_plan(&self) -> Result<MigrationPlan> {
        let applied = self.applied_migrations().await?;
        let pending = MIGRATIONS
            .iter()
            .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
            .collect();
        let unknown = applied
            .into_iter()
            .filter(|(v, _)| !MIGRATIONS.iter().any(|m| m.version == *v))
            .collect();
        Ok(MigrationPlan { pending, unknown })
    }

    /// Applies every migration not yet applied, each in its own transaction. Refuses
    /// ([`StoreError::NewerSchema`]) a database that records a migration this build
    /// does not know: a newer Plinth migrated it, and this code may misread its data.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        self.migrate_through(i64::MAX).await
    }

    /// Like [`Store::migrate`], stopping after `version`: upgrade tests build the
    /// database of an earlier release this way.
    pub async fn migrate_through(&self, version: i64) -> Result<Vec<i64>> {
        if let Some(refusal) = self.migration_plan().await?.refusal() {
            return Err(refusal);
        }
        let mut applied_now = Vec::new();
        for migration in MIGRATIONS.iter().filter(|m| m.version <= version) {
            let mut tx = self.begin().await?;
            if self.backend() == Backend::Postgres {
                tx.execute("SELECT pg_advisory_xact_lock($1)", args![PG_MIGRATION_LOCK])
                    .await?;
            }
            tx.execute(
                "CREATE TABLE IF NOT EXISTS plinth_migrations (\
                   version BIGINT NOT NULL PRIMARY KEY, \
                   name TEXT NOT NULL, \
                   applied_at BIGINT NOT NULL)",
                args![],
            )
            .await?;
            let done: Option<String> = tx
                .fetch_optional(
                    "SELECT name FROM plinth_migrations WHERE version = $1",
                    args![migration.version],
                    |row| row.get("name"),
                )
                .await?;
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
            tx.run_script(sql).await?;
            tx.execute(
                "INSERT INTO plinth_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                args![
                    migration.version,
                    migration.name,
                    time_to_micros(time::OffsetDateTime::now_utc())
                ],
            )
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

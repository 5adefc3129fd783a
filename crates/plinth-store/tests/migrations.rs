//! Migrations: applied once, in lockstep on both backends, to the same schema.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use plinth_store::test_support::{Backend, TestDb};
use plinth_store::{MIGRATIONS, StoreError};
use sqlx::{AnyPool, Row};

async fn empty(backend: Backend) -> TestDb {
    TestDb::empty(backend).await
}

async fn migrated(backend: Backend) -> TestDb {
    TestDb::new(backend).await
}

/// A second pool on the fixture's database, for SQL the store does not expose.
async fn raw_pool(fixture: &TestDb) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPool::connect(fixture.store.url())
        .await
        .expect("a second connection to the test database")
}

async fn recorded_migrations(pool: &AnyPool) -> Vec<(i64, String)> {
    sqlx::query("SELECT version, name FROM plinth_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .expect("read plinth_migrations")
        .iter()
        .map(|row| (row.get("version"), row.get("name")))
        .collect()
}

fn all_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|m| m.version).collect()
}

/// File names in `migrations/{backend}`.
fn migration_files(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.expect("a directory entry");
            entry.file_name().into_string().expect("a UTF-8 file name")
        })
        .collect()
}

#[test]
fn migration_files_are_in_lockstep_and_all_listed() {
    let sqlite = migration_files("sqlite");
    let postgres = migration_files("postgres");
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must hold the same file names"
    );
    assert!(!sqlite.is_empty(), "there is at least one migration");

    // Versions are positive and strictly increasing (not necessarily contiguous: a
    // number can be claimed by a branch that lands later).
    let versions = all_versions();
    assert!(
        versions.iter().all(|&v| v > 0) && versions.windows(2).all(|w| w[0] < w[1]),
        "MIGRATIONS versions must be positive and strictly increasing: {versions:?}"
    );

    // Every listed migration is a file in both folders, and embeds exactly that file.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut listed = BTreeSet::new();
    for migration in MIGRATIONS {
        let file = format!("{:04}_{}.sql", migration.version, migration.name);
        assert!(
            sqlite.contains(&file),
            "MIGRATIONS lists version {} ({:?}) but there is no file {file}",
            migration.version,
            migration.name
        );
        for (backend, embedded) in [
            ("sqlite", migration.sqlite),
            ("postgres", migration.postgres),
        ] {
            let on_disk = std::fs::read_to_string(dir.join(backend).join(&file))
                .unwrap_or_else(|e| panic!("read {backend}/{file}: {e}"));
            assert_eq!(
                on_disk, embedded,
                "version {} embeds a different file than {backend}/{file}",
                migration.version
            );
        }
        listed.insert(file);
    }

    // Every file is listed, under the version its prefix names.
    for file in &sqlite {
        let (prefix, rest) = file
            .split_once('_')
            .unwrap_or_else(|| panic!("{file}: expected NNNN_name.sql"));
        assert!(
            prefix.len() == 4 && prefix.bytes().all(|b| b.is_ascii_digit()),
            "{file}: expected a four-digit version prefix"
        );
        let name = rest
            .strip_suffix(".sql")
            .unwrap_or_else(|| panic!("{file}: expected a .sql file"));
        let version: i64 = prefix.parse().expect("digits");
        let migration = MIGRATIONS
            .iter()
            .find(|m| m.version == version)
            .unwrap_or_else(|| panic!("{file} is not listed in MIGRATIONS (no version {version})"));
        assert_eq!(
            migration.name, name,
            "{file}: MIGRATIONS names version {version} differently"
        );
        assert!(listed.contains(file));
    }
}

mod fresh {
    use super::*;

    /// On an empty database every version is applied, in order, and recorded.
    async fn migrate_applies_every_version_then_nothing(fixture: &TestDb) {
        let applied = fixture.store.migrate().await.expect("first migrate");
        assert_eq!(applied, all_versions());
        assert_eq!(applied.first(), Some(&1));

        let again = fixture.store.migrate().await.expect("second migrate");
        assert!(again.is_empty(), "second migrate applied {again:?}");

        let pool = raw_pool(fixture).await;
        let recorded = recorded_migrations(&pool).await;
        let expected: Vec<(i64, String)> = MIGRATIONS
            .iter()
            .map(|m| (m.version, m.name.to_owned()))
            .collect();
        assert_eq!(recorded, expected);
        pool.close().await;

        // The schema is usable.
        assert!(fixture.store.user_by_id("nobody").await.unwrap().is_none());
    }

    /// Two replicas starting at once: each version is applied exactly once.
    async fn concurrent_migrations_apply_each_version_once(fixture: &TestDb) {
        let other = plinth_store::Store::connect(fixture.store.url())
            .await
            .expect("a second store");
        let (a, b) = tokio::join!(fixture.store.migrate(), other.migrate());
        let (a, b) = (a.expect("migrate a"), b.expect("migrate b"));
        let mut both: Vec<i64> = a.iter().chain(b.iter()).copied().collect();
        both.sort_unstable();
        assert_eq!(both, all_versions(), "a = {a:?}, b = {b:?}");
        other.close().await;
    }

    plinth_store::on_both_backends!(empty =>
        migrate_applies_every_version_then_nothing,
        concurrent_migrations_apply_each_version_once,
    );
}

mod applied {
    use super::*;

    /// `{table: {column: nullable}}` of the fixture's database.
    async fn schema(fixture: &TestDb) -> BTreeMap<String, BTreeMap<String, bool>> {
        let pool = raw_pool(fixture).await;
        let rows = match fixture.store.backend() {
            Backend::Sqlite => {
                sqlx::query(
                    "SELECT m.name AS table_name, p.name AS column_name, \
                            CASE WHEN p.\"notnull\" = 0 THEN 'YES' ELSE 'NO' END AS is_nullable \
                     FROM sqlite_master AS m, pragma_table_info(m.name) AS p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
                )
                .fetch_all(&pool)
                .await
            }
            Backend::Postgres => {
                sqlx::query(
                    "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                            is_nullable::text AS is_nullable \
                     FROM information_schema.columns WHERE table_schema = current_schema()",
                )
                .fetch_all(&pool)
                .await
            }
        }
        .expect("introspect the schema");
        pool.close().await;

        let mut tables: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
        for row in &rows {
            let table: String = row.get("table_name");
            let column: String = row.get("column_name");
            let nullable: String = row.get("is_nullable");
            tables
                .entry(table)
                .or_default()
                .insert(column, nullable == "YES");
        }
        tables
    }

    /// Both backends end up with the same tables, columns and nullability.
    async fn both_backends_have_the_same_schema(fixture: &TestDb) {
        let here = schema(fixture).await;
        for table in ["plinth_migrations", "handles", "users", "tokens"] {
            assert!(here.contains_key(table), "no table {table}: {here:?}");
        }
        let other_backend = match fixture.store.backend() {
            Backend::Sqlite => Backend::Postgres,
            Backend::Postgres => Backend::Sqlite,
        };
        let other = TestDb::new(other_backend).await;
        let there = schema(&other).await;
        other.cleanup().await;

        let names =
            |s: &BTreeMap<String, BTreeMap<String, bool>>| -> BTreeMap<String, Vec<String>> {
                s.iter()
                    .map(|(t, cols)| (t.clone(), cols.keys().cloned().collect()))
                    .collect()
            };
        assert_eq!(
            names(&here),
            names(&there),
            "tables and columns differ between {:?} and {other_backend:?}",
            fixture.store.backend()
        );
        assert_eq!(
            here,
            there,
            "column nullability differs between {:?} and {other_backend:?}",
            fixture.store.backend()
        );
    }

    /// A recorded migration whose name does not match the code is refused, not skipped.
    async fn a_renamed_recorded_migration_is_refused(fixture: &TestDb) {
        let pool = raw_pool(fixture).await;
        sqlx::query("UPDATE plinth_migrations SET name = 'something-else' WHERE version = 1")
            .execute(&pool)
            .await
            .expect("rename the record");
        pool.close().await;
        match fixture.store.migrate().await {
            Err(StoreError::Corrupt(message)) => {
                assert!(message.contains("something-else"), "{message}")
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    plinth_store::on_both_backends!(migrated =>
        both_backends_have_the_same_schema,
        a_renamed_recorded_migration_is_refused,
    );
}

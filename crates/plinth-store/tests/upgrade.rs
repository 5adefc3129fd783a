//! Upgrades: a database left by every earlier release step, with its data, is brought up
//! to today's schema by today's migrations, and today's code reads everything back.
//!
//! `tests/upgrade/NNNN.sql` holds data as the release whose newest migration was NNNN
//! stored it (that step's schema, real audit hashes). For each migration step k, the
//! test migrates an empty database step by step up to k, loading each step's data file
//! right after its migration, then runs [`Store::migrate`] and checks that users,
//! tokens, orgs, members, workspaces, usage, CLI logins and every audit chain survived.
//! Nothing here lists the migrations: a new one is one more step (its database holds the
//! data of every step before it), and a data file for it is optional.

use std::path::{Path, PathBuf};

use plinth_core::{
    Handle, OrgRole, TokenHash, TokenKind, UserCode, WorkspaceHandle, WorkspaceRole,
};
use plinth_store::test_support::{Backend, TestDb};
use plinth_store::{
    DeviceGrantStatus, MIGRATIONS, MembershipStatus, Store, TokenStatus, micros_to_time,
    time_to_micros,
};
use sqlx::AnyPool;

/// The instant the fixtures count from (2025-12-01T00:00:00Z), in unix µs.
const T0: i64 = 1_764_547_200_000_000;
const ANN: &str = "01900000-0000-7000-8000-00000000a001";
const BOB: &str = "01900000-0000-7000-8000-00000000b002";
const ACME: &str = "01900000-0000-7000-8000-0000000ac003";
const WEB: &str = "01900000-0000-7000-8000-0000000we004";
/// SHA-256 of the fixtures' token secrets.
const ANN_DEPLOY_TOKEN: &str = "44bd5b2ddd6f6b829efad9c1c4ae569ccfee9e2dfe740e80c0f54320929d018b";
const BOB_SESSION: &str = "9d965640c1ff13a88679d473c506a4c7b2893fc3ec546f4d332a6cf7ab47387e";
const ANN_LAPTOP_TOKEN: &str = "20009a73436af2724c5a5320e324b33391073f31fb6fa42b8368db1c0a81ccff";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/upgrade")
}

/// The data file of migration `version`, if it has one.
fn data_file(version: i64) -> Option<String> {
    std::fs::read_to_string(fixtures_dir().join(format!("{version:04}.sql"))).ok()
}

fn hash(hex: &str) -> TokenHash {
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    TokenHash(bytes)
}

/// Every data file belongs to a listed migration: a misnamed one would silently test
/// nothing.
#[test]
fn every_fixture_names_a_migration() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures_dir()).expect("tests/upgrade") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("UTF-8");
        let version: i64 = name
            .strip_suffix(".sql")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("tests/upgrade/{name}: expected NNNN.sql"));
        assert!(
            MIGRATIONS.iter().any(|m| m.version == version),
            "tests/upgrade/{name}: there is no migration {version}"
        );
        seen += 1;
    }
    assert!(seen >= 6, "only {seen} fixtures");
}

/// What the database of one step holds once upgraded: the data of every step up to it.
struct Step {
    /// The newest migration of the release that wrote the data.
    version: i64,
}

impl Step {
    fn has(&self, version: i64) -> bool {
        self.version >= version
    }

    async fn check(&self, store: &Store) {
        let at = format!("upgraded from step {:04}", self.version);
        // Users and the handle namespace (0001).
        let ann = store.user_by_login("ann").await.unwrap().expect(&at);
        assert_eq!(ann.id, ANN, "{at}");
        assert_eq!(ann.email.as_str(), "ann@example.com", "{at}");
        assert_eq!(ann.display_name, "Ann Example", "{at}");
        assert_eq!(
            ann.avatar_url.as_deref(),
            Some("https://example.com/ann.png"),
            "{at}"
        );
        assert!(ann.password_hash.starts_with("$argon2id$"), "{at}");
        assert_eq!(time_to_micros(ann.created_at), T0, "{at}");
        assert_eq!(ann.disabled_at, None, "{at}: no account was disabled");
        let bob = store
            .user_by_login("bob@example.com")
            .await
            .unwrap()
            .expect(&at);
        assert_eq!(
            bob.token_min_issued_at,
            T0 + 100,
            "{at}: bob's sign-out-everywhere"
        );
        let now = micros_to_time(T0 + 1);
        for handle in ["ann", "bob"] {
            let handle = Handle::parse(handle).unwrap();
            assert!(
                store.handle_taken(&handle, now).await.unwrap(),
                "{at}: {handle}"
            );
        }

        // Tokens (0001; `authenticated_at` came with 0006 and took the issue time).
        let deploy = store
            .token_by_hash(&hash(ANN_DEPLOY_TOKEN))
            .await
            .unwrap()
            .expect(&at);
        assert_eq!(deploy.user_id, ANN, "{at}");
        assert_eq!(deploy.kind, TokenKind::User, "{at}");
        assert_eq!(deploy.title.as_deref(), Some("deploy"), "{at}");
        assert_eq!(deploy.description.as_deref(), Some("CI deploys"), "{at}");
        assert_eq!(deploy.status, TokenStatus::Active, "{at}");
        assert_eq!(
            deploy.last_used_at.map(time_to_micros),
            Some(T0 + 20),
            "{at}"
        );
        assert_eq!(
            deploy.authenticated_at,
            T0 + 10,
            "{at}: backfilled from created_at"
        );
        let session = store
            .token_by_hash(&hash(BOB_SESSION))
            .await
            .unwrap()
            .expect(&at);
        assert_eq!(session.kind, TokenKind::Temporary, "{at}");
        assert_eq!(
            session.expires_at.map(time_to_micros),
            Some(T0 + 11 + 30 * 86_400_000_000),
            "{at}"
        );

        // Orgs, members, workspaces (0003).
        if self.has(3) {
            let acme = store
                .org_by_handle(&Handle::parse("acme").unwrap())
                .await
                .unwrap()
                .expect(&at);
            assert_eq!(acme.id, ACME, "{at}");
            assert_eq!(acme.display_name, "Acme Corp", "{at}");
            let owner = store.membership(ACME, ANN).await.unwrap().expect(&at);
            assert_eq!(
                (owner.role, owner.status),
                (OrgRole::Owner, MembershipStatus::Active)
            );
            let member = store.membership(ACME, BOB).await.unwrap().expect(&at);
            assert_eq!(member.role, OrgRole::Member, "{at}");
            assert_eq!(member.invited_by.as_deref(), Some(ANN), "{at}");
            let workspaces = store.list_workspaces(ACME, None, None, 100).await.unwrap();
            let handles: Vec<&str> = workspaces
                .items
                .iter()
                .map(|(w, _)| w.handle.as_str())
                .collect();
            assert_eq!(handles, ["api", "web"], "{at}");
            let web = store
                .workspace(ACME, &WorkspaceHandle::parse("web").unwrap())
                .await
                .unwrap()
                .expect(&at);
            assert_eq!(
                (web.id.as_str(), web.display_name.as_str()),
                (WEB, "Web site")
            );
            assert_eq!(
                store.workspace_role(WEB, BOB).await.unwrap(),
                Some(WorkspaceRole::Reader),
                "{at}"
            );
            let names = store.each_live_workspace_name(|_| {}).await.unwrap();
            assert_eq!(names, 2, "{at}: DNS names");
        }

        // Usage (0004).
        if self.has(4) {
            let rows = store.usage(ACME, "2025-12-01", "2025-12-02").await.unwrap();
            let figures: Vec<(&str, &str, &str, i64)> = rows
                .iter()
                .map(|r| {
                    (
                        r.day.as_str(),
                        r.workspace_id.as_str(),
                        r.metric.as_str(),
                        r.value,
                    )
                })
                .collect();
            assert_eq!(
                figures,
                [
                    ("2025-12-01", "", "api_requests", 42),
                    ("2025-12-01", "", "members", 2),
                    ("2025-12-01", WEB, "dns_queries", 5),
                    ("2025-12-01", WEB, "workspace_requests", 17),
                    ("2025-12-02", "", "api_requests", 8),
                ],
                "{at}"
            );
        }

        // CLI logins (0005).
        if self.has(5) {
            let code = UserCode::parse("WDJB-MJHT").unwrap();
            let grant = store
                .device_grant_by_user_code(&code)
                .await
                .unwrap()
                .expect(&at);
            assert_eq!(grant.status, DeviceGrantStatus::Approved, "{at}");
            assert_eq!(grant.user_id.as_deref(), Some(ANN), "{at}");
            assert_eq!(grant.authenticated_at, None, "{at}: approved before 0006");
        }

        // A token written with `authenticated_at` (0006).
        if self.has(6) {
            let laptop = store
                .token_by_hash(&hash(ANN_LAPTOP_TOKEN))
                .await
                .unwrap()
                .expect(&at);
            assert_eq!(laptop.status, TokenStatus::Inactive, "{at}");
            assert_eq!(laptop.authenticated_at, T0 + 590, "{at}");
        }

        // Audit chains (0002 on): every chain verifies, with every entry written.
        let ann_entries = [(2, 2), (4, 1), (5, 1), (6, 1)];
        let expected = |steps: &[(i64, u64)]| -> u64 {
            steps
                .iter()
                .filter(|(v, _)| self.has(*v))
                .map(|(_, n)| n)
                .sum()
        };
        let mut chains = store.audit_chains().await.unwrap();
        chains.sort();
        let mut want = Vec::new();
        if self.has(2) {
            want.push((format!("user:{ANN}"), expected(&ann_entries)));
            want.push((format!("user:{BOB}"), 1));
        }
        if self.has(3) {
            want.push((format!("org:{ACME}"), 6));
        }
        want.sort();
        assert_eq!(
            chains,
            want.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
            "{at}"
        );
        for (chain, entries) in &want {
            let verdict = store.verify_audit_chain(chain).await.unwrap();
            assert!(
                verdict.ok,
                "{at}: {chain} is broken: {:?}",
                verdict.first_broken
            );
            assert_eq!(verdict.entries, *entries, "{at}: {chain}");
        }
    }
}

/// Runs one step's data file on the database.
async fn load(pool: &AnyPool, version: i64, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("tests/upgrade/{version:04}.sql: {e}"));
}

/// The fixture of the macro: the backend only; each step makes its own database.
struct Backends(Backend);

impl Backends {
    async fn cleanup(self) {}
}

async fn backend(backend: Backend) -> Backends {
    Backends(backend)
}

/// For every step, a database of that step with its data, upgraded by today's
/// migrations, holds it all and verifies.
async fn every_earlier_step_upgrades_with_its_data(fixture: &Backends) {
    sqlx::any::install_default_drivers();
    let latest = MIGRATIONS.last().expect("a migration").version;
    for step in MIGRATIONS {
        let db = TestDb::empty(fixture.0).await;
        let pool = AnyPool::connect(db.store.url()).await.expect("a raw pool");
        for migration in MIGRATIONS.iter().filter(|m| m.version <= step.version) {
            let applied = db.store.migrate_through(migration.version).await.unwrap();
            assert_eq!(applied, [migration.version]);
            if let Some(sql) = data_file(migration.version) {
                load(&pool, migration.version, &sql).await;
            }
        }
        let plan = db.store.migration_plan().await.unwrap();
        let pending: Vec<i64> = plan.pending.iter().map(|m| m.version).collect();
        let expected: Vec<i64> = MIGRATIONS
            .iter()
            .map(|m| m.version)
            .filter(|v| *v > step.version)
            .collect();
        assert_eq!(pending, expected, "step {:04}", step.version);
        assert!(plan.unknown.is_empty());

        let upgraded = db.store.migrate().await.expect("today's migrations apply");
        assert_eq!(upgraded, expected, "step {:04}", step.version);
        assert!(db.store.migration_plan().await.unwrap().pending.is_empty());
        Step {
            version: step.version,
        }
        .check(&db.store)
        .await;
        assert!(step.version <= latest);
        pool.close().await;
        db.cleanup().await;
    }
}

/// A database migrated by a newer Plinth (it records a migration this build lacks) is
/// refused before anything is applied, naming the migration; `migrate` changes nothing.
async fn a_newer_schema_is_refused(fixture: &Backends) {
    sqlx::any::install_default_drivers();
    let db = TestDb::new(fixture.0).await;
    let pool = AnyPool::connect(db.store.url()).await.expect("a raw pool");
    let future = MIGRATIONS.last().unwrap().version + 1000;
    sqlx::query("INSERT INTO plinth_migrations (version, name, applied_at) VALUES ($1, $2, 0)")
        .bind(future)
        .bind("from_the_future")
        .execute(&pool)
        .await
        .unwrap();
    let plan = db.store.migration_plan().await.unwrap();
    assert_eq!(plan.unknown, [(future, "from_the_future".to_owned())]);
    let err = db
        .store
        .migrate()
        .await
        .expect_err("a newer schema is refused");
    let message = err.to_string();
    assert!(
        matches!(err, plinth_store::StoreError::NewerSchema(_)),
        "{err:?}"
    );
    assert!(message.contains("newer version of Plinth"), "{message}");
    assert!(
        message.contains(&format!("{future:04}_from_the_future")),
        "{message}"
    );
    pool.close().await;
    db.cleanup().await;
}

plinth_store::on_both_backends!(backend =>
    every_earlier_step_upgrades_with_its_data,
    a_newer_schema_is_refused,
);

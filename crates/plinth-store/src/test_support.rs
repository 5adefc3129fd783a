//! Isolated databases for tests: a fresh SQLite file, or a fresh PostgreSQL schema.
//!
//! PostgreSQL tests use `PLINTH_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). They fail, loudly, when it is unreachable:
//! a database suite that silently skips half of itself proves nothing.

use std::path::PathBuf;

pub use crate::Backend;
use crate::Store;
use crate::sql::{Arg, args};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A migrated, empty store that nobody else uses.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Schema { base_url: String, schema: String },
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        let db = Self::empty(backend).await;
        db.store.migrate().await.expect("migrations apply");
        db
    }

    /// Like [`TestDb::new`], without running migrations.
    pub async fn empty(backend: Backend) -> Self {
        let suffix = uuid::Uuid::now_v7().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("plinth-test-{suffix}"));
                let url = format!("sqlite://{}/plinth.db", dir.display());
                let store = Store::connect(&url)
                    .await
                    .expect("open a temp SQLite database");
                Self {
                    store,
                    url,
                    cleanup: Cleanup::Dir(dir),
                }
            }
            Backend::Postgres => {
                let base_url = postgres_base_url();
                let admin = Store::connect(&base_url).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL at {base_url} is unreachable ({e}); start it or set \
                         PLINTH_TEST_POSTGRES_URL"
                    )
                });
                let schema = format!("plinth_test_{suffix}");
                let create = sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"));
                admin
                    .write_one(create, args![])
                    .await
                    .expect("create schema");
                admin.close().await;
                let sep = if base_url.contains('?') { '&' } else { '?' };
                let url = format!("{base_url}{sep}options=-c%20search_path%3D{schema}");
                let store = Store::connect(&url)
                    .await
                    .expect("connect to the test schema");
                Self {
                    store,
                    url,
                    cleanup: Cleanup::Schema { base_url, schema },
                }
            }
        }
    }

    /// Runs one statement with text parameters, for a test that must set up what no
    /// endpoint does yet. Answers the number of rows it changed.
    pub async fn execute(&self, sql: &str, params: &[&str]) -> u64 {
        let args: Vec<Arg<'_>> = params.iter().map(|p| Arg::Text(p)).collect();
        self.store
            .write_one(sqlx::AssertSqlSafe(sql.to_owned()), &args)
            .await
            .unwrap_or_else(|e| panic!("test statement failed: {e}"))
    }

    /// Runs a `SELECT COUNT(*) …` with text parameters and answers the count.
    pub async fn execute_count(&self, sql: &str, params: &[&str]) -> i64 {
        use sqlx::Row;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let mut query = sqlx::query(sql);
        for param in params {
            query = query.bind(param.to_string());
        }
        let mut conn = self.store.reader().await.expect("a read connection");
        query
            .fetch_one(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("test query failed: {e}"))
            .try_get::<i64, _>(0)
            .unwrap_or_else(|e| panic!("test query answered no count: {e}"))
    }

    /// Drops what the test created. Called by the test macros after a test passes;
    /// a failing test leaves its database behind for a look.
    pub async fn cleanup(self) {
        self.store.close().await;
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { base_url, schema } => {
                if let Ok(admin) = Store::connect(base_url).await {
                    let drop = sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"));
                    let _ = admin.write_one(drop, args![]).await;
                    admin.close().await;
                }
            }
        }
    }
}

pub fn postgres_base_url() -> String {
    std::env::var("PLINTH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// Runs each listed `async fn name(fixture)` once on SQLite and once on PostgreSQL.
/// `$setup` is an `async fn(Backend) -> Fixture` in the calling module, and the fixture
/// has an `async fn cleanup(self)`; the test function takes the fixture by reference.
#[macro_export]
macro_rules! on_both_backends {
    ($setup:ident => $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let fixture = super::$setup($crate::test_support::Backend::Sqlite).await;
                    super::$name(&fixture).await;
                    fixture.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let fixture = super::$setup($crate::test_support::Backend::Postgres).await;
                    super::$name(&fixture).await;
                    fixture.cleanup().await;
                }
            )*
        }
    };
}

//! SQLite backups and restores: the file-level operations behind `plinth admin backup`
//! and `plinth admin restore`. PostgreSQL has `pg_dump`/`pg_restore` for this.

use std::path::{Path, PathBuf};

use sqlx::{Connection, Executor, Row};

use crate::store::{Backend, Store};
use crate::{Result, StoreError};

impl Store {
    /// Writes a consistent copy of this SQLite database to `target` with `VACUUM INTO`,
    /// while other connections keep reading and writing: the copy is one read
    /// transaction's snapshot, so it holds every transaction committed before it began
    /// and nothing half-written. The copy is written beside `target` and renamed into
    /// place when complete; `target` must not exist.
    pub async fn backup_sqlite_into(&self, target: &Path) -> Result<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::UnsupportedUrl(
                "backups of PostgreSQL are taken with pg_dump (see docs/OPERATIONS.md)".to_owned(),
            ));
        }
        if target.exists() {
            return Err(StoreError::Corrupt(format!(
                "{} already exists; choose a new file name",
                target.display()
            )));
        }
        let partial = sibling(target, ".partial");
        let _ = std::fs::remove_file(&partial);
        let path = partial.to_str().ok_or_else(|| {
            StoreError::UnsupportedUrl(format!("{} is not a UTF-8 path", partial.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&mut *self.reader().await?)
            .await?;
        std::fs::rename(&partial, target).map_err(|e| {
            StoreError::Corrupt(format!("renaming {} into place: {e}", partial.display()))
        })?;
        Ok(())
    }

    /// `PRAGMA integrity_check` (SQLite) answers: `["ok"]` for a sound file. On
    /// PostgreSQL, which checks its own pages, always `["ok"]`.
    pub async fn integrity_check(&self) -> Result<Vec<String>> {
        if self.backend() != Backend::Sqlite {
            return Ok(vec!["ok".to_owned()]);
        }
        let rows = sqlx::query("PRAGMA integrity_check")
            .fetch_all(&mut *self.reader().await?)
            .await?;
        rows.iter()
            .map(|row| row.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    }
}

/// `path` with `suffix` added to its file name.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// The file of a `sqlite://PATH[?…]` URL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Whether another process has the SQLite database at `path` open (a running
/// `plinth serve`). Asks for the file's exclusive lock without waiting: in WAL mode every
/// open connection holds a shared lock, so the request fails while any is open, busy or
/// idle. A missing file is not in use.
pub async fn sqlite_in_use(path: &Path) -> Result<bool> {
    if !path.exists() {
        return Ok(false);
    }
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=rw", path.display());
    let mut conn = sqlx::AnyConnection::connect(&url).await?;
    conn.execute("PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE;")
        .await?;
    let locked = match conn.execute("BEGIN EXCLUSIVE").await {
        Ok(_) => {
            // Reading takes the lock for real (WAL mode without shared memory).
            let read = conn.execute("SELECT COUNT(*) FROM sqlite_master").await;
            let _ = conn.execute("ROLLBACK").await;
            read.is_err()
        }
        Err(sqlx::Error::Database(err))
            if err.message().contains("locked") || err.message().contains("busy") =>
        {
            true
        }
        Err(err) => return Err(err.into()),
    };
    let _ = conn.close().await;
    Ok(locked)
}

/// `PRAGMA integrity_check` of the SQLite file at `path`, opened read-only so that the
/// check changes nothing (not even the journal mode): `["ok"]` for a sound file.
pub async fn sqlite_file_integrity(path: &Path) -> Result<Vec<String>> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut conn = sqlx::AnyConnection::connect(&url).await?;
    let rows = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await;
    let _ = conn.close().await;
    rows?
        .iter()
        .map(|row| row.try_get::<String, _>(0).map_err(StoreError::from))
        .collect()
}

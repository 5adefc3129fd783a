//! `plinth admin backup FILE` and `plinth admin restore FILE` for SQLite. PostgreSQL is
//! backed up with `pg_dump` and restored with `pg_restore` (docs/OPERATIONS.md).

use std::path::Path;

use anyhow::{Context, bail};
use plinth_store::{Backend, Store, sibling, sqlite_file_integrity, sqlite_in_use, sqlite_path};

use crate::redact_url;

const POSTGRES_HINT: &str = "for PostgreSQL use pg_dump and pg_restore (docs/OPERATIONS.md, \
                             \"Backup and restore\")";

/// Takes a consistent copy of the live database into `file` (which must not exist),
/// while servers keep serving, then checks the copy.
pub async fn backup(url: &str, file: &Path) -> anyhow::Result<()> {
    if Backend::from_url(url)? != Backend::Sqlite {
        bail!("plinth admin backup copies SQLite databases; {POSTGRES_HINT}");
    }
    let source = sqlite_path(url).context("the database URL names no file")?;
    if !source.exists() {
        bail!("there is no database at {}", source.display());
    }
    let store = Store::connect(url)
        .await
        .with_context(|| format!("opening the database {}", redact_url(url)))?;
    let copied = store.backup_sqlite_into(file).await;
    store.close().await;
    copied.with_context(|| format!("backing up into {}", file.display()))?;
    let integrity = sqlite_file_integrity(file)
        .await
        .with_context(|| format!("checking the backup {}", file.display()))?;
    if integrity != ["ok"] {
        bail!(
            "the backup {} failed its integrity check: {}",
            file.display(),
            integrity.join("; ")
        );
    }
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} into {} ({bytes} bytes, integrity ok)",
        source.display(),
        file.display()
    );
    Ok(())
}

/// Puts the backup `file` in place of the database at `url` after checking it: a sound
/// file (`PRAGMA integrity_check`), migrations this version knows (older ones are
/// brought up to date), and every audit chain intact. The server must be stopped; the
/// database it replaces is kept beside it as `…before-restore-<unix time>`.
pub async fn restore(url: &str, file: &Path) -> anyhow::Result<()> {
    if Backend::from_url(url)? != Backend::Sqlite {
        bail!("plinth admin restore restores SQLite databases; {POSTGRES_HINT}");
    }
    let target = sqlite_path(url).context("the database URL names no file")?;
    if !file.is_file() {
        bail!("there is no backup file {}", file.display());
    }
    if sqlite_in_use(&target).await? {
        bail!(
            "{} is in use (a running plinth serve?): stop every server using it, then restore",
            target.display()
        );
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let staging = sibling(&target, ".restoring");
    remove_with_sidecars(&staging)?;
    std::fs::copy(file, &staging)
        .with_context(|| format!("copying {} to {}", file.display(), staging.display()))?;
    let checked = check_staged(&staging).await;
    if let Err(err) = checked {
        let _ = remove_with_sidecars(&staging);
        return Err(err.context(format!("{} cannot be restored", file.display())));
    }
    // A server starting now would open a half-restored database: check once more.
    if sqlite_in_use(&target).await? {
        let _ = remove_with_sidecars(&staging);
        bail!(
            "{} came into use while restoring: nothing was changed",
            target.display()
        );
    }
    if target.exists() {
        let kept = sibling(
            &target,
            &format!(
                ".before-restore-{}",
                time::OffsetDateTime::now_utc().unix_timestamp()
            ),
        );
        // The write-ahead log goes with its database (a crashed server may have left
        // committed pages in it); the shared-memory index is rebuilt from it.
        std::fs::rename(&target, &kept)
            .with_context(|| format!("moving {} aside", target.display()))?;
        let wal = sibling(&target, "-wal");
        if wal.exists() {
            std::fs::rename(&wal, sibling(&kept, "-wal"))
                .with_context(|| format!("moving {} aside", wal.display()))?;
        }
        let _ = std::fs::remove_file(sibling(&target, "-shm"));
        println!("the database it replaces is kept as {}", kept.display());
    }
    std::fs::rename(&staging, &target)
        .with_context(|| format!("moving the restored database to {}", target.display()))?;
    println!("restored {} into {}", file.display(), target.display());
    Ok(())
}

/// The checks of [`restore`], on the staged copy (which it migrates).
async fn check_staged(staging: &Path) -> anyhow::Result<()> {
    let integrity = sqlite_file_integrity(staging).await?;
    if integrity != ["ok"] {
        bail!("integrity check failed: {}", integrity.join("; "));
    }
    let store = Store::connect(&format!("sqlite://{}", staging.display())).await?;
    let result = check_store(&store).await;
    store.close().await;
    result?;
    // Closing the last connection checkpoints the log into the file and deletes it; a
    // log left behind would hold changes the renamed file lacks.
    let wal = sibling(staging, "-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        bail!("{} was not checkpointed", wal.display());
    }
    let _ = std::fs::remove_file(wal);
    let _ = std::fs::remove_file(sibling(staging, "-shm"));
    Ok(())
}

async fn check_store(store: &Store) -> anyhow::Result<()> {
    let plan = store.migration_plan().await?;
    if plan.pending.len() == plinth_store::MIGRATIONS.len() {
        bail!("it is not a Plinth database (no migrations recorded)");
    }
    if let Some(refusal) = plan.refusal() {
        return Err(refusal.into());
    }
    let applied = store
        .migrate()
        .await
        .context("bringing its migrations up to date")?;
    if applied.is_empty() {
        println!("migrations: up to date");
    } else {
        println!("migrations: applied {applied:?} (the backup is from an older version)");
    }
    let chains = store.audit_chains().await?;
    for chain in &chains {
        let verdict = store.verify_audit_chain(chain).await?;
        if let Some(broken) = verdict.first_broken {
            bail!(
                "audit chain {chain} is broken at entry {}: {}",
                broken.seq,
                broken.reason
            );
        }
    }
    println!("integrity ok, {} audit chain(s) intact", chains.len());
    Ok(())
}

/// Removes a SQLite file and its `-wal`/`-shm` companions, if there.
fn remove_with_sidecars(path: &Path) -> anyhow::Result<()> {
    for file in [
        path.to_path_buf(),
        sibling(path, "-wal"),
        sibling(path, "-shm"),
    ] {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", file.display())),
        }
    }
    Ok(())
}

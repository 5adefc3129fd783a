/// What a unique constraint protected, so callers can say which value is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictOn {
    Handle,
    Email,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a unique value is already taken ({0:?})")]
    Conflict(ConflictOn),
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The database records migrations this build does not know.
    #[error("{0}")]
    NewerSchema(String),
    #[error(transparent)]
    Database(BoxError),
}

/// The driver's own error: sqlx's, or rusqlite's on SQLite's writer (writer.rs).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which value a unique violation's message names: SQLite names the column ("UNIQUE
/// constraint failed: users.email"), PostgreSQL the constraint ("users_email_key"), and
/// both contain the word.
fn conflict_on(text: &str) -> ConflictOn {
    if text.contains("handle") {
        ConflictOn::Handle
    } else if text.contains("email") {
        ConflictOn::Email
    } else {
        ConflictOn::Other
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(conflict_on(
                &format!("{} {}", db.message(), db.constraint().unwrap_or_default()),
            )),
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(err.into())
            }
            _ => Self::Database(err.into()),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        match &err {
            rusqlite::Error::SqliteFailure(code, message)
                if matches!(
                    code.extended_code,
                    ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
            {
                Self::Conflict(conflict_on(message.as_deref().unwrap_or_default()))
            }
            // Another process holds the write lock past the wait (writer.rs), or the disk
            // fails: the same answers a pool gives.
            rusqlite::Error::SqliteFailure(code, _)
                if matches!(
                    code.code,
                    ffi::ErrorCode::DatabaseBusy
                        | ffi::ErrorCode::DatabaseLocked
                        | ffi::ErrorCode::SystemIoFailure
                ) =>
            {
                Self::Unavailable(err.into())
            }
            _ => Self::Database(err.into()),
        }
    }
}

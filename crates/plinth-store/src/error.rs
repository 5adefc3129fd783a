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
    Unavailable(#[source] sqlx::Error),
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The database records migrations this build does not know.
    #[error("{0}")]
    NewerSchema(String),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                // SQLite names the column ("UNIQUE constraint failed: users.email"),
                // PostgreSQL the constraint ("users_email_key"): both contain the word.
                let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
                let on = if text.contains("handle") {
                    ConflictOn::Handle
                } else if text.contains("email") {
                    ConflictOn::Email
                } else {
                    ConflictOn::Other
                };
                Self::Conflict(on)
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(err)
            }
            _ => Self::Database(err),
        }
    }
}

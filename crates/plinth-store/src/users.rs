use plinth_core::{Email, Handle};
use time::OffsetDateTime;

use crate::sql::{Row, args};
use crate::store::{Store, WriteTx, micros_to_time, time_to_micros};
use crate::{Backend, Result};

/// A user as stored. `password_hash` is a PHC string; it never leaves the server.
#[derive(Clone)]
pub struct UserRecord {
    pub id: String,
    pub handle: Handle,
    pub email: Email,
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub password_hash: String,
    /// Tokens issued at or before this instant (unix µs) are refused: "sign out everywhere".
    pub token_min_issued_at: i64,
    /// Set while an instance administrator has disabled the account: its tokens are
    /// refused and it cannot log in.
    pub disabled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

pub struct NewUser {
    pub handle: Handle,
    pub email: Email,
    pub display_name: String,
    pub password_hash: String,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Default)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    /// `Some(None)` clears the avatar.
    pub avatar_url: Option<Option<String>>,
    pub email: Option<Email>,
}

const USER_COLUMNS: &str = "id, handle, email, display_name, avatar_url, password_hash, \
                            token_min_issued_at, disabled_at, created_at, updated_at";

fn user_from_row<'r>(row: impl Into<Row<'r>>) -> Result<UserRecord> {
    let row = row.into();
    Ok(UserRecord {
        id: row.get("id")?,
        handle: Handle::from_trusted(row.get("handle")?),
        email: Email::from_trusted(row.get("email")?),
        display_name: row.get("display_name")?,
        avatar_url: row.get("avatar_url")?,
        password_hash: row.get("password_hash")?,
        token_min_issued_at: row.get("token_min_issued_at")?,
        disabled_at: row.get::<Option<i64>>("disabled_at")?.map(micros_to_time),
        created_at: micros_to_time(row.get("created_at")?),
        updated_at: micros_to_time(row.get("updated_at")?),
    })
}

impl Store {
    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"));
        let row = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Finds a user by handle or email, whichever `login` looks like.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>> {
        // Handles fold ASCII only, as `Handle::parse` does: full Unicode lowercasing
        // would let the Kelvin sign `K` log in as `k`. Emails fold as `Email::parse`.
        let login = login.trim();
        let (column, key) = if login.contains('@') {
            ("email", login.to_lowercase())
        } else {
            ("handle", login.to_ascii_lowercase())
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {column} = $1"
        ));
        let row = sqlx::query(sql)
            .bind(key)
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }
}

impl WriteTx {
    /// Creates a user and claims its handle in the shared namespace.
    pub async fn insert_user(&mut self, new: NewUser, now: OffsetDateTime) -> Result<UserRecord> {
        let id = crate::new_id();
        let now_us = time_to_micros(now);
        self.release_expired_handle(new.handle.as_str(), now_us)
            .await?;
        self.execute(
            "INSERT INTO handles (handle, owner_kind, owner_id) VALUES ($1, 'user', $2)",
            args![new.handle.as_str(), &id],
        )
        .await?;
        self.execute(
            "INSERT INTO users (id, handle, email, display_name, avatar_url, password_hash, \
             token_min_issued_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, NULL, $5, 0, $6, $6)",
            args![
                &id,
                new.handle.as_str(),
                new.email.as_str(),
                &new.display_name,
                &new.password_hash,
                now_us
            ],
        )
        .await?;
        Ok(UserRecord {
            id,
            handle: new.handle,
            email: new.email,
            display_name: new.display_name,
            avatar_url: None,
            password_hash: new.password_hash,
            token_min_issued_at: 0,
            disabled_at: None,
            created_at: micros_to_time(now_us),
            updated_at: micros_to_time(now_us),
        })
    }

    /// Reads a user inside the transaction, locking its row on PostgreSQL so that
    /// checks made on it (token counts, profile before/after) hold until commit.
    pub async fn user_for_update(&mut self, id: &str) -> Result<Option<UserRecord>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1{lock}"
        ));
        self.fetch_optional(sql, args![id], |row| user_from_row(row))
            .await
    }

    pub async fn update_user(
        &mut self,
        id: &str,
        update: UserUpdate,
        now: OffsetDateTime,
    ) -> Result<Option<UserRecord>> {
        let Some(mut user) = self.user_for_update(id).await? else {
            return Ok(None);
        };
        if let Some(name) = update.display_name {
            user.display_name = name;
        }
        if let Some(avatar) = update.avatar_url {
            user.avatar_url = avatar;
        }
        if let Some(email) = update.email {
            user.email = email;
        }
        user.updated_at = micros_to_time(time_to_micros(now));
        self.execute(
            "UPDATE users SET display_name = $2, avatar_url = $3, email = $4, updated_at = $5 \
             WHERE id = $1",
            args![
                id,
                &user.display_name,
                &user.avatar_url,
                user.email.as_str(),
                time_to_micros(now)
            ],
        )
        .await?;
        Ok(Some(user))
    }

    /// Refuses every token of this user issued at or before `at` (unix µs).
    pub async fn set_user_token_min_issued_at(&mut self, id: &str, at: i64) -> Result<bool> {
        let done = self
            .execute(
                "UPDATE users SET token_min_issued_at = $2 WHERE id = $1",
                args![id, at],
            )
            .await?;
        Ok(done == 1)
    }

    /// Disables (`Some(now)`) or enables (`None`) the account. Answers whether a user
    /// has this id.
    pub async fn set_user_disabled(
        &mut self,
        id: &str,
        disabled_at: Option<OffsetDateTime>,
    ) -> Result<bool> {
        let done = self
            .execute(
                "UPDATE users SET disabled_at = $2 WHERE id = $1",
                args![id, disabled_at.map(time_to_micros)],
            )
            .await?;
        Ok(done == 1)
    }

    /// Replaces the user's password hash (an administrator's reset).
    pub async fn set_user_password_hash(
        &mut self,
        id: &str,
        password_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = self
            .execute(
                "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
                args![id, password_hash, time_to_micros(now)],
            )
            .await?;
        Ok(done == 1)
    }
}

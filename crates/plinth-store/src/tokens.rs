use plinth_core::{TokenHash, TokenKind};
use time::OffsetDateTime;

use crate::sql::{Row, args};
use crate::store::{Store, WriteTx, micros_to_time, time_to_micros};
use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Inactive,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    fn from_db(s: &str) -> Result<Self> {
        match s {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            other => Err(StoreError::Corrupt(format!("token status {other:?}"))),
        }
    }
}

/// A token as stored: never the secret, only facts about it.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: String,
    pub user_id: String,
    pub kind: TokenKind,
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: TokenStatus,
    pub last4: String,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// When its holder last proved who they are (unix µs): a password login's own issue
    /// time, inherited by the user tokens and CLI logins that login's session creates or
    /// approves. Resets compare `token_min_issued_at` with this, never with `created_at`.
    pub authenticated_at: i64,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    /// Set by logout or delete.
    pub revoked_at: Option<OffsetDateTime>,
    /// Where it was issued (empty for tokens issued before this was recorded).
    pub origin: TokenOrigin,
}

/// Where a token was issued: what a person needs to recognize one of their sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenOrigin {
    /// The client's address as the server saw it (behind trusted proxies, the client's).
    pub ip: Option<String>,
    /// What issued it: `console`, `api` or `cli` for a login; `None` for user tokens.
    pub client: Option<String>,
    /// The request's `User-Agent`, at most 512 characters.
    pub user_agent: Option<String>,
}

pub struct NewToken {
    pub user_id: String,
    pub kind: TokenKind,
    pub hash: TokenHash,
    pub last4: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub expires_at: Option<OffsetDateTime>,
    /// Unix µs; see [`TokenRecord::authenticated_at`].
    pub authenticated_at: i64,
    pub origin: TokenOrigin,
}

#[derive(Default)]
pub struct TokenUpdate {
    pub status: Option<TokenStatus>,
    pub title: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
}

/// One page of a keyset-paginated list, newest first.
#[derive(Debug)]
pub struct TokenPage {
    pub items: Vec<TokenRecord>,
    /// The id to continue after, when there may be more.
    pub next_after: Option<String>,
}

const TOKEN_COLUMNS: &str = "id, user_id, kind, title, description, status, last4, created_at, \
                             authenticated_at, expires_at, last_used_at, revoked_at, \
                             created_ip, client, user_agent";

fn token_from_row<'r>(row: impl Into<Row<'r>>) -> Result<TokenRecord> {
    let row = row.into();
    let kind: String = row.get("kind")?;
    let status: String = row.get("status")?;
    let opt_time = |col: &str| -> Result<Option<OffsetDateTime>> {
        Ok(row.get::<Option<i64>>(col)?.map(micros_to_time))
    };
    Ok(TokenRecord {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        kind: TokenKind::from_db(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("token kind {kind:?}")))?,
        title: row.get("title")?,
        description: row.get("description")?,
        status: TokenStatus::from_db(&status)?,
        last4: row.get("last4")?,
        created_at: micros_to_time(row.get("created_at")?),
        authenticated_at: row.get("authenticated_at")?,
        expires_at: opt_time("expires_at")?,
        last_used_at: opt_time("last_used_at")?,
        revoked_at: opt_time("revoked_at")?,
        origin: TokenOrigin {
            ip: row.get("created_ip")?,
            client: row.get("client")?,
            user_agent: row.get("user_agent")?,
        },
    })
}

impl Store {
    pub async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE token_hash = $1"
        ));
        let row = sqlx::query(sql)
            .bind(hash.to_hex())
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// A user's live (not deleted) user tokens, newest first, `limit` per page.
    pub async fn list_user_tokens(
        &self,
        user_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<TokenPage> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens \
             WHERE user_id = $1 AND kind = 'user' AND revoked_at IS NULL AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        ));
        let rows = sqlx::query(sql)
            .bind(user_id)
            .bind(after)
            .bind(i64::from(limit) + 1)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let mut items = rows
            .iter()
            .map(token_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_after = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|t| t.id.clone())
        } else {
            None
        };
        Ok(TokenPage { items, next_after })
    }

    /// A user's live login sessions (temporary tokens: console and CLI logins), newest
    /// first, at most `limit`: not revoked, not expired at `now`, and authenticated after
    /// `min_authenticated_at` (the user's last sign-out-everywhere), so exactly the
    /// sessions the guard would still accept.
    pub async fn list_live_sessions(
        &self,
        user_id: &str,
        now: OffsetDateTime,
        min_authenticated_at: i64,
        limit: u32,
    ) -> Result<Vec<TokenRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens \
             WHERE user_id = $1 AND kind = 'temporary' AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2) AND authenticated_at > $3 \
             ORDER BY id DESC LIMIT $4"
        ));
        let rows = sqlx::query(sql)
            .bind(user_id)
            .bind(time_to_micros(now))
            .bind(min_authenticated_at)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.reader().await?)
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    pub async fn user_token(&self, user_id: &str, id: &str) -> Result<Option<TokenRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens \
             WHERE id = $1 AND user_id = $2 AND kind = 'user' AND revoked_at IS NULL"
        ));
        let row = sqlx::query(sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// Records when tokens were last used, in one batch. Called by a background flusher,
    /// never on the request path.
    pub async fn touch_tokens(&self, uses: &[(String, OffsetDateTime)]) -> Result<()> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for (id, at) in uses {
            tx.execute(
                "UPDATE tokens SET last_used_at = $2 \
                 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
                args![id, time_to_micros(*at)],
            )
            .await?;
        }
        tx.commit().await
    }
}

impl Store {
    /// Deletes tokens that expired or were revoked before `cutoff`. Until then their rows
    /// stay, so a late use is answered `token-expired` or `token-revoked` rather than
    /// "unknown"; afterwards they are gone. Answers how many went.
    pub async fn purge_dead_tokens(&self, cutoff: OffsetDateTime) -> Result<u64> {
        let done = self
            .write_one(
                "DELETE FROM tokens WHERE (expires_at IS NOT NULL AND expires_at <= $1) \
                     OR (revoked_at IS NOT NULL AND revoked_at <= $1)",
                args![time_to_micros(cutoff)],
            )
            .await?;
        Ok(done)
    }
}

impl WriteTx {
    pub async fn insert_token(
        &mut self,
        new: NewToken,
        now: OffsetDateTime,
    ) -> Result<TokenRecord> {
        let id = crate::new_id();
        let now_us = time_to_micros(now);
        self.execute(
            "INSERT INTO tokens (id, user_id, kind, token_hash, title, description, status, \
             last4, created_at, expires_at, authenticated_at, created_ip, client, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, $11, $12, $13)",
            args![
                &id,
                &new.user_id,
                new.kind.as_str(),
                &new.hash.to_hex(),
                &new.title,
                &new.description,
                &new.last4,
                now_us,
                new.expires_at.map(time_to_micros),
                new.authenticated_at,
                &new.origin.ip,
                &new.origin.client,
                &new.origin.user_agent
            ],
        )
        .await?;
        Ok(TokenRecord {
            id,
            user_id: new.user_id,
            kind: new.kind,
            title: new.title,
            description: new.description,
            status: TokenStatus::Active,
            last4: new.last4,
            created_at: micros_to_time(now_us),
            authenticated_at: new.authenticated_at,
            expires_at: new.expires_at.map(|t| micros_to_time(time_to_micros(t))),
            last_used_at: None,
            revoked_at: None,
            origin: new.origin,
        })
    }

    /// Live user tokens of a user. Call after [`WriteTx::user_for_update`] so that the
    /// count holds until commit.
    pub async fn count_live_user_tokens(&mut self, user_id: &str) -> Result<i64> {
        self.fetch_one(
            "SELECT COUNT(*) AS n FROM tokens \
             WHERE user_id = $1 AND kind = 'user' AND revoked_at IS NULL",
            args![user_id],
            |row| row.get("n"),
        )
        .await
    }

    pub async fn user_token_for_update(
        &mut self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<TokenRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens \
             WHERE id = $1 AND user_id = $2 AND kind = 'user' AND revoked_at IS NULL"
        ));
        self.fetch_optional(sql, args![id, user_id], |row| token_from_row(row))
            .await
    }

    /// A live (not revoked) login session of `user_id`, read inside the transaction.
    pub async fn session_for_update(
        &mut self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<TokenRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens \
             WHERE id = $1 AND user_id = $2 AND kind = 'temporary' AND revoked_at IS NULL"
        ));
        self.fetch_optional(sql, args![id, user_id], |row| token_from_row(row))
            .await
    }

    /// Applies `update` to a live user token; `None` when there is no such token.
    pub async fn update_user_token(
        &mut self,
        user_id: &str,
        id: &str,
        update: TokenUpdate,
    ) -> Result<Option<TokenRecord>> {
        let Some(mut token) = self.user_token_for_update(user_id, id).await? else {
            return Ok(None);
        };
        if let Some(status) = update.status {
            token.status = status;
        }
        if let Some(title) = update.title {
            token.title = Some(title);
        }
        if let Some(description) = update.description {
            token.description = description;
        }
        self.execute(
            "UPDATE tokens SET status = $2, title = $3, description = $4 WHERE id = $1",
            args![id, token.status.as_str(), &token.title, &token.description],
        )
        .await?;
        Ok(Some(token))
    }

    /// Marks a token revoked (logout, delete). Returns whether a live token was revoked.
    pub async fn revoke_token(&mut self, id: &str, now: OffsetDateTime) -> Result<bool> {
        let done = self
            .execute(
                "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                args![id, time_to_micros(now)],
            )
            .await?;
        Ok(done == 1)
    }
}

//! CLI logins in progress (RFC 8628 device grants). Read and written only by the device
//! endpoints: a handful of statements per login, never on an authenticated request.

use plinth_core::{TokenHash, UserCode};
use time::OffsetDateTime;

use crate::sql::{Row, args};
use crate::store::{Store, WriteTx, micros_to_time, new_id, time_to_micros};
use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceGrantStatus {
    Pending,
    Approved,
    Denied,
}

impl DeviceGrantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
        }
    }

    fn from_db(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(Self::Pending),
            "approved" => Ok(Self::Approved),
            "denied" => Ok(Self::Denied),
            other => Err(StoreError::Corrupt(format!(
                "device grant status {other:?}"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DeviceGrantRecord {
    pub id: String,
    pub user_code: UserCode,
    pub client_id: String,
    pub status: DeviceGrantStatus,
    /// Who approved or denied it.
    pub user_id: Option<String>,
    pub interval_secs: i64,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_polled_at: Option<OffsetDateTime>,
    pub decided_at: Option<OffsetDateTime>,
    /// The approver's `authenticated_at` (unix µs): the issued token inherits it.
    pub authenticated_at: Option<i64>,
    /// The address that asked for the code, shown to the person who approves it.
    pub requested_ip: Option<String>,
    pub requested_user_agent: Option<String>,
}

pub struct NewDeviceGrant<'a> {
    pub device_code_hash: &'a TokenHash,
    pub user_code: &'a UserCode,
    pub client_id: &'a str,
    pub interval_secs: i64,
    pub expires_at: OffsetDateTime,
    pub requested_ip: Option<&'a str>,
    pub requested_user_agent: Option<&'a str>,
}

const GRANT_COLUMNS: &str = "id, user_code, client_id, status, user_id, interval_secs, \
                             created_at, expires_at, last_polled_at, decided_at, \
                             authenticated_at, requested_ip, requested_user_agent";

fn grant_from_row<'r>(row: impl Into<Row<'r>>) -> Result<DeviceGrantRecord> {
    let row = row.into();
    let user_code: String = row.get("user_code")?;
    let status: String = row.get("status")?;
    let opt_time = |col: &str| -> Result<Option<OffsetDateTime>> {
        Ok(row.get::<Option<i64>>(col)?.map(micros_to_time))
    };
    Ok(DeviceGrantRecord {
        id: row.get("id")?,
        user_code: UserCode::parse(&user_code)
            .map_err(|_| StoreError::Corrupt(format!("device user code {user_code:?}")))?,
        client_id: row.get("client_id")?,
        status: DeviceGrantStatus::from_db(&status)?,
        user_id: row.get("user_id")?,
        interval_secs: row.get("interval_secs")?,
        created_at: micros_to_time(row.get("created_at")?),
        expires_at: micros_to_time(row.get("expires_at")?),
        last_polled_at: opt_time("last_polled_at")?,
        decided_at: opt_time("decided_at")?,
        authenticated_at: row.get("authenticated_at")?,
        requested_ip: row.get("requested_ip")?,
        requested_user_agent: row.get("requested_user_agent")?,
    })
}

impl Store {
    /// Stores a new pending grant. A user code that collides with a live one is a
    /// [`StoreError::Conflict`]: the caller draws another.
    pub async fn insert_device_grant(
        &self,
        grant: NewDeviceGrant<'_>,
        now: OffsetDateTime,
    ) -> Result<DeviceGrantRecord> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO device_grants (id, device_code_hash, user_code, client_id, status, \
             interval_secs, created_at, expires_at, requested_ip, requested_user_agent) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9) RETURNING {GRANT_COLUMNS}"
        ));
        let row = sqlx::query(sql)
            .bind(new_id())
            .bind(grant.device_code_hash.to_hex())
            .bind(grant.user_code.as_str())
            .bind(grant.client_id)
            .bind(grant.interval_secs)
            .bind(time_to_micros(now))
            .bind(time_to_micros(grant.expires_at))
            .bind(grant.requested_ip)
            .bind(grant.requested_user_agent)
            .fetch_one(&mut *self.reader().await?)
            .await?;
        grant_from_row(&row)
    }

    pub async fn device_grant_by_user_code(
        &self,
        code: &UserCode,
    ) -> Result<Option<DeviceGrantRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM device_grants WHERE user_code = $1"
        ));
        let row = sqlx::query(sql)
            .bind(code.as_str())
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    pub async fn device_grant_by_code_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<DeviceGrantRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM device_grants WHERE device_code_hash = $1"
        ));
        let row = sqlx::query(sql)
            .bind(hash.to_hex())
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    /// Notes a poll, and the new interval when the CLI polled too fast.
    pub async fn note_device_poll(
        &self,
        id: &str,
        interval_secs: i64,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.write_one(
            "UPDATE device_grants SET last_polled_at = $1, interval_secs = $2 WHERE id = $3",
            args![time_to_micros(now), interval_secs, id],
        )
        .await?;
        Ok(())
    }

    /// Removes grants that expired before `now`; answers how many.
    pub async fn purge_expired_device_grants(&self, now: OffsetDateTime) -> Result<u64> {
        let done = self
            .write_one(
                "DELETE FROM device_grants WHERE expires_at <= $1",
                args![time_to_micros(now)],
            )
            .await?;
        Ok(done)
    }
}

impl WriteTx {
    /// Approves or denies a pending, unexpired grant for `user_id`, who last proved who
    /// they are at `authenticated_at_us`. `None` when it was decided already or expired
    /// (a concurrent decision loses here).
    pub async fn decide_device_grant(
        &mut self,
        id: &str,
        user_id: &str,
        authenticated_at_us: i64,
        decision: DeviceGrantStatus,
        now: OffsetDateTime,
    ) -> Result<Option<DeviceGrantRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE device_grants SET status = $1, user_id = $2, decided_at = $3, \
             authenticated_at = $5 \
             WHERE id = $4 AND status = 'pending' AND expires_at > $3 \
             RETURNING {GRANT_COLUMNS}"
        ));
        self.fetch_optional(
            sql,
            args![
                decision.as_str(),
                user_id,
                time_to_micros(now),
                id,
                authenticated_at_us
            ],
            |row| grant_from_row(row),
        )
        .await
    }

    /// Takes an approved grant out, once: of two concurrent polls only one gets `true`
    /// and so a token.
    pub async fn consume_device_grant(&mut self, id: &str) -> Result<bool> {
        let done = self
            .execute(
                "DELETE FROM device_grants WHERE id = $1 AND status = 'approved'",
                args![id],
            )
            .await?;
        Ok(done == 1)
    }
}

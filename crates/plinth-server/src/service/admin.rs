//! What `plinth admin` (and the server's purge task) do to the database directly.

use plinth_core::{AuditAction, DisplayName, Email, Handle, Password};
use plinth_store::{NewUser, OrgRecord, Store, StoreError, UserRecord, time_to_micros};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{self, AuditContext, AuditEvent, Changes};
use crate::auth::password::PasswordHashing;
use crate::error::{ApiError, ApiResult};
use crate::runtime::invalidate::{self, Invalidation};

/// Restores a deleted org within its grace period: the same org, members, invitations
/// and workspaces. Running servers learn it through the invalidation log: woken on
/// PostgreSQL, at their next poll (a quarter of a second) on SQLite.
pub async fn restore_org(
    store: &Store,
    handle: &Handle,
    now: OffsetDateTime,
) -> Result<Option<OrgRecord>, StoreError> {
    let mut tx = store.begin().await?;
    let Some(org) = tx.restore_org(handle, now).await? else {
        return Ok(None);
    };
    let event = AuditEvent::org(AuditAction::OrgRestore, &org)
        .data(json!({ "handle": org.handle.as_str(), "display_name": org.display_name }));
    audit::record_at(&mut tx, &AuditContext::admin(), event, now).await?;
    invalidate::queue(&mut tx, &Invalidation::Org(org.id.clone())).await?;
    invalidate::commit_and_wake(store, tx).await?;
    Ok(Some(org))
}

/// Purges deleted orgs past their grace period and expired handle reservations.
/// Answers the purged orgs' ids.
pub async fn purge_expired(store: &Store, now: OffsetDateTime) -> Result<Vec<String>, StoreError> {
    let purged = store.purge_expired_orgs(now).await?;
    // Expired reservations stopped redirecting at their end, and purged orgs had left
    // every cache and name when deleted; the invalidations only tidy what a server may
    // still hold about them.
    if !purged.is_empty() {
        let mut tx = store.begin().await?;
        for org_id in &purged {
            invalidate::queue(&mut tx, &Invalidation::Org(org_id.clone())).await?;
        }
        invalidate::commit_and_wake(store, tx).await?;
    }
    Ok(purged)
}

/// An account the instance administrator creates (`plinth admin user create`), for
/// instances where sign-up is closed.
pub struct NewAccount<'a> {
    pub handle: &'a str,
    pub email: &'a str,
    pub display_name: Option<&'a str>,
    pub password: &'a str,
}

/// Creates an account with the same rules as sign-up (handle, email, password policy,
/// the shared handle namespace), recorded as `admin.user.create` by the administrator.
pub async fn create_user(
    store: &Store,
    passwords: &PasswordHashing,
    new: NewAccount<'_>,
    now: OffsetDateTime,
) -> ApiResult<UserRecord> {
    let handle = Handle::parse(new.handle).map_err(|e| ApiError::validation("handle", e.0))?;
    let email = Email::parse(new.email).map_err(|e| ApiError::validation("email", e.0))?;
    let password =
        Password::parse_new(new.password).map_err(|e| ApiError::validation("password", e.0))?;
    let display_name = match new.display_name {
        Some(name) => DisplayName::parse(name)
            .map_err(|e| ApiError::validation("display_name", e.0))?
            .into_string(),
        None => handle.to_string(),
    };
    if store.handle_taken(&handle, now).await? {
        return Err(ApiError::handle_taken(handle.as_str()));
    }
    let password_hash = passwords.hash(password).await?;
    let mut tx = store.begin().await?;
    let user = tx
        .insert_user(
            NewUser {
                handle: handle.clone(),
                email,
                display_name,
                password_hash,
            },
            now,
        )
        .await
        .map_err(ApiError::claiming(handle.as_str()))?;
    let event = AuditEvent::user(AuditAction::AdminUserCreate, &user).data(json!({
        "handle": user.handle.as_str(),
        "email": user.email.as_str(),
        "display_name": user.display_name,
    }));
    audit::record_at(&mut tx, &AuditContext::admin(), event, now).await?;
    invalidate::queue(&mut tx, &Invalidation::User(user.id.clone())).await?;
    invalidate::commit_and_wake(store, tx).await?;
    Ok(user)
}

/// The user whose handle is `handle`, or 404 `not-found`.
async fn user_by_handle(store: &Store, handle: &str) -> ApiResult<UserRecord> {
    let handle = Handle::parse(handle).map_err(|e| ApiError::validation("handle", e.0))?;
    store
        .user_by_login(handle.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found().detail(format!("no user has the handle \"{handle}\"")))
}

/// Refuses every token of the account issued until now (sign out everywhere, done for
/// the user) and, with `new_password`, replaces the password: the way back in for
/// someone locked out. Recorded as `admin.user.auth.reset`.
pub async fn reset_user_auth(
    store: &Store,
    passwords: &PasswordHashing,
    handle: &str,
    new_password: Option<&str>,
    now: OffsetDateTime,
) -> ApiResult<UserRecord> {
    let user = user_by_handle(store, handle).await?;
    let password_hash = match new_password {
        Some(password) => {
            let password =
                Password::parse_new(password).map_err(|e| ApiError::validation("password", e.0))?;
            Some(passwords.hash(password).await?)
        }
        None => None,
    };
    let now_us = time_to_micros(now);
    let mut tx = store.begin().await?;
    tx.set_user_token_min_issued_at(&user.id, now_us).await?;
    if let Some(hash) = &password_hash {
        tx.set_user_password_hash(&user.id, hash, now).await?;
    }
    let event = AuditEvent::user(AuditAction::AdminUserAuthReset, &user).data(json!({
        "token_min_issued_at": { "before": user.token_min_issued_at, "after": now_us },
        "password_changed": password_hash.is_some(),
    }));
    audit::record_at(&mut tx, &AuditContext::admin(), event, now).await?;
    invalidate::queue(&mut tx, &Invalidation::User(user.id.clone())).await?;
    invalidate::commit_and_wake(store, tx).await?;
    Ok(user)
}

/// Whether [`set_user_disabled`] changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Yes,
    /// The account already was as asked; nothing was written.
    AlreadySo,
}

/// Disables (`disabled = true`) or enables the account. A disabled account's tokens are
/// refused on the next request (401 `token-revoked`: the user's cache entry is
/// invalidated) and it cannot log in (403 `forbidden`); enabling lets its unexpired
/// tokens work again. Recorded as `admin.user.disable` / `admin.user.enable`.
pub async fn set_user_disabled(
    store: &Store,
    handle: &str,
    disabled: bool,
    now: OffsetDateTime,
) -> ApiResult<(UserRecord, Changed)> {
    let user = user_by_handle(store, handle).await?;
    if user.disabled_at.is_some() == disabled {
        return Ok((user, Changed::AlreadySo));
    }
    let mut tx = store.begin().await?;
    let at = disabled.then_some(now);
    tx.set_user_disabled(&user.id, at).await?;
    let action = if disabled {
        AuditAction::AdminUserDisable
    } else {
        AuditAction::AdminUserEnable
    };
    let event = AuditEvent::user(action, &user).changes(Changes::new().field(
        "disabled",
        user.disabled_at.is_some(),
        disabled,
    ));
    audit::record_at(&mut tx, &AuditContext::admin(), event, now).await?;
    invalidate::queue(&mut tx, &Invalidation::User(user.id.clone())).await?;
    invalidate::commit_and_wake(store, tx).await?;
    Ok((user, Changed::Yes))
}

/// A fresh password for an account the administrator creates or resets, shown once:
/// 20 characters from an alphabet without look-alikes (about 115 bits).
pub fn one_time_password() -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

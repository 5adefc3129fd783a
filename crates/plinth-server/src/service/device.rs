//! CLI login by the OAuth 2.0 device authorization grant (RFC 8628 §3): the CLI asks for
//! a code, a signed-in person approves it in the browser (or with the API), and the CLI's
//! polling turns the approval into a temporary token.
//!
//! Grants live in the database, not in memory, so that with several replicas the code,
//! the approval and the polls may each reach a different one.

use axum::http::StatusCode;
use plinth_api::{DEVICE_CODE_GRANT_TYPE, DeviceCodeRequest, DeviceTokenRequest};
use plinth_core::{AuditAction, DeviceCode, TokenSecret, UserCode};
use plinth_store::{
    DeviceGrantRecord, DeviceGrantStatus, NewDeviceGrant, StoreError, TokenRecord, UserRecord,
};
use serde_json::json;

use crate::api::extract::ClientMeta;
use crate::audit::{self, AuditContext, AuditEvent};
use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::runtime::state::AppState;
use crate::service::accounts::{LoginVia, issue_temporary_token};

/// How long a code can be approved and polled for.
pub const GRANT_LIFETIME: time::Duration = time::Duration::minutes(15);
/// Seconds between polls (RFC 8628 §3.2 suggests 5); each `slow_down` adds 5 more.
pub const POLL_INTERVAL_SECS: i64 = 5;
const SLOW_DOWN_STEP_SECS: i64 = 5;

/// A refusal in the OAuth 2.0 format (RFC 6749 §5.2, RFC 8628 §3.5): what a standard OAuth
/// client library understands, instead of a problem document.
#[derive(Debug)]
pub enum DeviceError {
    OAuth {
        status: StatusCode,
        error: &'static str,
        description: String,
    },
    /// Anything else (the database is down, too many requests): a problem, as everywhere.
    Api(ApiError),
}

impl DeviceError {
    fn oauth(error: &'static str, description: impl Into<String>) -> Self {
        Self::OAuth {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::oauth("invalid_request", description)
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::oauth("invalid_grant", description)
    }
}

impl From<ApiError> for DeviceError {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<StoreError> for DeviceError {
    fn from(err: StoreError) -> Self {
        Self::Api(err.into())
    }
}

/// An OAuth client names itself; public clients are not registered, so any well-formed
/// name is accepted. It is recorded with the login and must match when polling.
fn parse_client_id(client_id: &str) -> Result<&str, DeviceError> {
    let ok = !client_id.is_empty()
        && client_id.len() <= 64
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(client_id)
    } else {
        Err(DeviceError::invalid_request(
            "client_id must be 1-64 letters, digits, '.', '_' or '-'",
        ))
    }
}

/// A new pending login: the CLI's secret device code, and the stored grant.
pub async fn start(
    state: &AppState,
    meta: &ClientMeta,
    req: &DeviceCodeRequest,
) -> Result<(DeviceCode, DeviceGrantRecord), DeviceError> {
    let client_id = parse_client_id(&req.client_id)?;
    // Anyone may ask for a code: a per-address limit keeps the table small.
    let keys: Vec<String> = meta.ip.map(|ip| format!("ip:{ip}")).into_iter().collect();
    // Counted before the insert, so concurrent requests cannot all pass the check.
    state
        .device_limiter
        .take(&keys)
        .map_err(ApiError::rate_limited)?;
    let now = state.now();
    let requested_ip = meta.ip.map(|ip| ip.to_string());
    // A user code may collide with a live one (1 in 10^10 per code): draw again.
    let mut attempts = 0;
    loop {
        let device_code = DeviceCode::generate();
        let user_code = UserCode::generate();
        let inserted = state
            .store
            .insert_device_grant(
                NewDeviceGrant {
                    device_code_hash: &device_code.hash(),
                    user_code: &user_code,
                    client_id,
                    interval_secs: POLL_INTERVAL_SECS,
                    expires_at: now + GRANT_LIFETIME,
                    requested_ip: requested_ip.as_deref(),
                    requested_user_agent: meta.user_agent.as_deref(),
                },
                now,
            )
            .await;
        match inserted {
            Ok(grant) => return Ok((device_code, grant)),
            Err(StoreError::Conflict(_)) if attempts < 5 => attempts += 1,
            Err(err) => return Err(err.into()),
        }
    }
}

/// The CLI's poll: a token once the login is approved, else the OAuth error that says
/// why not yet (or not ever).
pub async fn exchange(
    state: &AppState,
    meta: &ClientMeta,
    req: &DeviceTokenRequest,
) -> Result<(TokenSecret, TokenRecord), DeviceError> {
    if req.grant_type != DEVICE_CODE_GRANT_TYPE {
        return Err(DeviceError::oauth(
            "unsupported_grant_type",
            format!("this endpoint only grants {DEVICE_CODE_GRANT_TYPE}"),
        ));
    }
    let client_id = parse_client_id(&req.client_id)?;
    // A code of the wrong shape was never issued here: no look-up for it.
    let device_code = DeviceCode::parse(&req.device_code)
        .ok_or_else(|| DeviceError::invalid_grant("this device code is not known"))?;
    let grant = state
        .store
        .device_grant_by_code_hash(&device_code.hash())
        .await?
        .ok_or_else(|| {
            DeviceError::invalid_grant("this device code is not known or was used already")
        })?;
    if grant.client_id != client_id {
        return Err(DeviceError::invalid_grant(
            "this device code was issued to another client",
        ));
    }
    let now = state.now();
    if grant.expires_at <= now {
        return Err(DeviceError::oauth(
            "expired_token",
            "the code expired before it was approved; start the login again",
        ));
    }
    match grant.status {
        DeviceGrantStatus::Denied => {
            Err(DeviceError::oauth("access_denied", "the login was denied"))
        }
        DeviceGrantStatus::Pending => {
            let too_soon = grant
                .last_polled_at
                .is_some_and(|at| now - at < time::Duration::seconds(grant.interval_secs));
            let interval = if too_soon {
                grant.interval_secs + SLOW_DOWN_STEP_SECS
            } else {
                grant.interval_secs
            };
            state
                .store
                .note_device_poll(&grant.id, interval, now)
                .await?;
            if too_soon {
                Err(DeviceError::oauth(
                    "slow_down",
                    format!("poll at most every {interval} seconds"),
                ))
            } else {
                Err(DeviceError::oauth(
                    "authorization_pending",
                    format!(
                        "waiting for someone to approve code {}",
                        grant.user_code.display()
                    ),
                ))
            }
        }
        DeviceGrantStatus::Approved => issue(state, meta, &grant).await,
    }
}

async fn issue(
    state: &AppState,
    meta: &ClientMeta,
    grant: &DeviceGrantRecord,
) -> Result<(TokenSecret, TokenRecord), DeviceError> {
    let approver = grant
        .user_id
        .as_deref()
        .ok_or_else(|| ApiError::internal("an approved device grant without its user"))?;
    let user = state
        .store
        .user_by_id(approver)
        .await?
        .ok_or_else(|| DeviceError::invalid_grant("the approving user no longer exists"))?;
    // Signing out everywhere after approving (or after the approver's last login) takes
    // the approval back too.
    let authenticated_at = grant.authenticated_at.unwrap_or(0);
    if authenticated_at <= user.token_min_issued_at {
        return Err(DeviceError::oauth(
            "access_denied",
            "the approving user signed out everywhere since; start the login again",
        ));
    }
    let mut tx = state.store.begin().await?;
    // Two concurrent polls: one takes the grant, the other finds it gone.
    if !tx.consume_device_grant(&grant.id).await? {
        return Err(DeviceError::invalid_grant(
            "this device code was used already",
        ));
    }
    let ctx = AuditContext::for_user(&user, meta);
    let via = LoginVia::Device {
        client_id: &grant.client_id,
        authenticated_at,
    };
    let issued = issue_temporary_token(state, &mut tx, &ctx, &user, via).await?;
    tx.commit().await?;
    Ok(issued)
}

/// A signed-in person approves (`approve = true`) or denies the CLI login showing
/// `user_code`, with the API or on the console's `/device` page.
pub async fn decide(
    state: &AppState,
    meta: &ClientMeta,
    actor: &Actor,
    user_code: &str,
    approve: bool,
) -> ApiResult<DeviceGrantRecord> {
    // A stolen API token must not mint login sessions.
    actor.require_login_session("approving a CLI login")?;
    let authenticated_at = actor.authenticated_at_us();
    decide_as(
        state,
        meta,
        &actor.user,
        authenticated_at,
        user_code,
        approve,
    )
    .await
}

/// The CLI login waiting for `user_code`, for a signed-in person to look at before they
/// decide (the `/device` page shows who asked and when). Looking counts against the same
/// per-user and per-address limit as deciding, so the page is no way to walk codes.
pub async fn pending(
    state: &AppState,
    meta: &ClientMeta,
    actor: &Actor,
    user_code: &str,
) -> ApiResult<DeviceGrantRecord> {
    actor.require_login_session("approving a CLI login")?;
    waiting(state, meta, &actor.user, user_code)
        .await
        .map(|(_, grant)| grant)
}

fn waiting_gone(code: &UserCode) -> ApiError {
    ApiError::not_found().detail(format!(
        "no CLI login is waiting for code {}; codes expire after {} minutes",
        code.display(),
        GRANT_LIFETIME.whole_minutes()
    ))
}

/// The pending, unexpired grant of `user_code`, looked up on behalf of `user`.
async fn waiting(
    state: &AppState,
    meta: &ClientMeta,
    user: &UserRecord,
    user_code: &str,
) -> ApiResult<(UserCode, DeviceGrantRecord)> {
    let code = UserCode::parse(user_code).map_err(|e| ApiError::validation("user_code", e.0))?;
    // Guessing codes is bounded per user and per address; every look and decision counts.
    let mut keys = vec![format!("decide-user:{}", user.id)];
    keys.extend(meta.ip.map(|ip| format!("decide-ip:{ip}")));
    state
        .device_limiter
        .take(&keys)
        .map_err(ApiError::rate_limited)?;
    let now = state.now();
    let grant = state
        .store
        .device_grant_by_user_code(&code)
        .await?
        .filter(|g| g.expires_at > now)
        .ok_or_else(|| waiting_gone(&code))?;
    // A decided code answers as an unknown one: a guesser must not tell live codes
    // from dead ones.
    if grant.status != DeviceGrantStatus::Pending {
        return Err(waiting_gone(&code));
    }
    Ok((code, grant))
}

/// `user` approves or denies the CLI login showing `user_code`: the caller has
/// established who `user` is (a login session) at `authenticated_at` (unix µs), which the
/// CLI's token inherits. Recorded in the user's own audit log.
async fn decide_as(
    state: &AppState,
    meta: &ClientMeta,
    user: &UserRecord,
    authenticated_at: i64,
    user_code: &str,
    approve: bool,
) -> ApiResult<DeviceGrantRecord> {
    let (code, grant) = waiting(state, meta, user, user_code).await?;
    let gone = || waiting_gone(&code);
    let now = state.now();
    let (decision, action) = if approve {
        (DeviceGrantStatus::Approved, AuditAction::AuthDeviceApprove)
    } else {
        (DeviceGrantStatus::Denied, AuditAction::AuthDeviceDeny)
    };
    let mut tx = state.store.begin().await?;
    let decided = tx
        .decide_device_grant(&grant.id, &user.id, authenticated_at, decision, now)
        .await?
        // Someone decided it (or it expired) between the read and this write.
        .ok_or_else(gone)?;
    let event = AuditEvent::user(action, user)
        .target("device_grant", &decided.id, None)
        .data(json!({
            "client_id": decided.client_id,
            "user_code": decided.user_code.display(),
        }));
    audit::record(state, &mut tx, &AuditContext::for_user(user, meta), event).await?;
    tx.commit().await?;
    Ok(decided)
}

use plinth_api::{LoginRequest, SignupRequest, UpdateUserRequest};
use plinth_core::{
    AuditAction, AvatarUrl, DisplayName, Email, Handle, Password, TokenKind, TokenSecret,
};
use plinth_store::{
    NewToken, NewUser, TokenOrigin, TokenRecord, UserRecord, UserUpdate, WriteTx, time_to_micros,
};
use serde_json::json;

use crate::api::extract::ClientMeta;
use crate::audit::{self, AuditContext, AuditEvent, Changes};
use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::runtime::config::SignupMode;
use crate::runtime::invalidate::Invalidation;
use crate::runtime::state::AppState;

pub async fn signup(
    state: &AppState,
    meta: &ClientMeta,
    req: SignupRequest,
) -> ApiResult<UserRecord> {
    if state.settings.signup == SignupMode::Closed {
        return Err(ApiError::forbidden(
            "sign-up is closed on this server; ask an administrator for an account",
        ));
    }
    let handle = Handle::parse(&req.handle).map_err(|e| ApiError::validation("handle", e.0))?;
    let email = Email::parse(&req.email).map_err(|e| ApiError::validation("email", e.0))?;
    let password =
        Password::parse_new(&req.password).map_err(|e| ApiError::validation("password", e.0))?;
    let display_name = match &req.display_name {
        Some(name) => DisplayName::parse(name)
            .map_err(|e| ApiError::validation("display_name", e.0))?
            .into_string(),
        None => handle.to_string(),
    };
    // Cheap checks first, so a taken handle costs no password hash.
    if state.store.handle_taken(&handle, state.now()).await? {
        return Err(ApiError::handle_taken(handle.as_str()));
    }
    // Reserved before hashing (a hash costs 19 MiB and tens of milliseconds), per address
    // and overall; given back only when the hash was not even tried.
    let per_address = match meta.ip {
        Some(ip) => Some(
            state
                .signup_limiter_per_address
                .reserve(&[format!("ip:{ip}")])
                .map_err(ApiError::rate_limited)?,
        ),
        None => None,
    };
    let total = match state.signup_limiter_total.reserve(&["all".to_owned()]) {
        Ok(total) => total,
        Err(wait) => {
            if let Some(r) = per_address {
                r.release();
            }
            return Err(ApiError::rate_limited(wait));
        }
    };
    let password_hash = match state.passwords.hash(password).await {
        Ok(hash) => hash,
        Err(err) => {
            if let Some(r) = per_address {
                r.release();
            }
            total.release();
            return Err(err);
        }
    };
    // Hashed: the signup counts, whatever happens next.
    drop(per_address);
    total.count();
    let mut tx = state.store.begin().await?;
    let user = tx
        .insert_user(
            NewUser {
                handle: handle.clone(),
                email,
                display_name,
                password_hash,
            },
            state.now(),
        )
        .await
        .map_err(ApiError::claiming(handle.as_str()))?;
    let event = AuditEvent::user(AuditAction::AuthSignup, &user).data(json!({
        "handle": user.handle.as_str(),
        "email": user.email.as_str(),
        "display_name": user.display_name,
    }));
    audit::record(state, &mut tx, &AuditContext::for_user(&user, meta), event).await?;
    tx.commit().await?;
    Ok(user)
}

/// A successful login: the temporary token (shown once) and its user.
pub struct LoginOutcome {
    pub secret: TokenSecret,
    pub token: TokenRecord,
    pub user: UserRecord,
}

/// Which interface a login session was opened through: stored with its token, so the
/// Security page can tell a person's console sessions from their CLI and API logins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionClient {
    /// The console's login page (the session cookie).
    Console,
    /// `POST /api/v1/login`.
    Api,
    /// A CLI login approved in the browser (the device flow).
    Cli,
}

impl SessionClient {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::Api => "api",
            Self::Cli => "cli",
        }
    }
}

/// `POST /api/v1/login`.
pub async fn login(
    state: &AppState,
    meta: &ClientMeta,
    req: LoginRequest,
) -> ApiResult<LoginOutcome> {
    login_through(state, meta, req, SessionClient::Api).await
}

/// A login on the console's page: the same checks as the API's, recorded as a console
/// session.
pub async fn login_to_console(
    state: &AppState,
    meta: &ClientMeta,
    req: LoginRequest,
) -> ApiResult<LoginOutcome> {
    login_through(state, meta, req, SessionClient::Console).await
}

async fn login_through(
    state: &AppState,
    meta: &ClientMeta,
    req: LoginRequest,
    client: SessionClient,
) -> ApiResult<LoginOutcome> {
    let user = check_password(state, meta, &req.login, &req.password).await?;
    let ctx = AuditContext::for_user(&user, meta);
    let mut tx = state.store.begin().await?;
    let via = LoginVia::Password { client };
    let (secret, token) = issue_temporary_token(state, &mut tx, &ctx, &user, via).await?;
    tx.commit().await?;
    Ok(LoginOutcome {
        secret,
        token,
        user,
    })
}

/// The user whose handle or email is `login` and whose password is `password`: the one
/// place a password is checked (the API's login and the console's login page), with the
/// failed-login limits and the `auth.login.failed` entry.
pub async fn check_password(
    state: &AppState,
    meta: &ClientMeta,
    login: &str,
    password: &str,
) -> ApiResult<UserRecord> {
    let login = login.trim();
    // Same folding as the store's look-up: ASCII for handles, full for emails.
    let login = if login.contains('@') {
        login.to_lowercase()
    } else {
        login.to_ascii_lowercase()
    };
    if login.is_empty() {
        return Err(ApiError::validation("login", "must not be empty"));
    }
    if login.len() > 254 {
        return Err(ApiError::validation(
            "login",
            "must be at most 254 characters",
        ));
    }
    let password =
        Password::parse_attempt(password).map_err(|e| ApiError::validation("password", e.0))?;
    let user = state.store.user_by_login(&login).await?;
    // The account, not what was typed: a handle and an email are one account.
    let mut limit_keys = vec![match &user {
        Some(user) => format!("user:{}", user.id),
        None => format!("login:{login}"),
    }];
    if let Some(ip) = meta.ip {
        limit_keys.push(format!("ip:{ip}"));
    }
    // Reserved before hashing: fifty concurrent guesses cannot all pass a check that
    // none of them has been counted in yet.
    let reservation = state
        .login_limiter
        .reserve(&limit_keys)
        .map_err(ApiError::rate_limited)?;
    let verified = state
        .passwords
        .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
        .await;
    let ok = match verified {
        Ok(ok) => ok,
        Err(err) => {
            // Not tried (the hashing queue is full, say): not a failed attempt.
            reservation.release();
            return Err(err);
        }
    };
    match (ok, user) {
        (true, Some(user)) => {
            reservation.release();
            // Told only to whoever knows the password, so it reveals nothing to a guesser.
            if user.disabled_at.is_some() {
                return Err(ApiError::forbidden(
                    "this account is disabled; ask the instance administrator to enable it",
                ));
            }
            Ok(user)
        }
        (false, known) => {
            reservation.count();
            state.metrics.logins_failed.inc();
            // A wrong password for a real account goes to that account's log; a login
            // naming nobody has no log to go to.
            if let Some(user) = known {
                let mut tx = state.store.begin().await?;
                let event = AuditEvent::user(AuditAction::AuthLoginFailed, &user);
                audit::record(state, &mut tx, &AuditContext::anonymous(meta), event).await?;
                tx.commit().await?;
            }
            Err(ApiError::unauthenticated("wrong login or password"))
        }
        (true, None) => {
            reservation.count();
            Err(ApiError::unauthenticated("wrong login or password"))
        }
    }
}

/// How a temporary token came to be, recorded in its `auth.login` entry; it also says
/// when the holder last proved who they are (the token's `authenticated_at`).
pub enum LoginVia<'a> {
    /// A password, checked just now, on the console's page or the API.
    Password { client: SessionClient },
    /// A CLI login approved in the browser (RFC 8628), by this OAuth client. The token
    /// inherits the approver's `authenticated_at` (unix µs).
    Device {
        client_id: &'a str,
        authenticated_at: i64,
    },
}

/// Issues a `plt_` token for `user` inside `tx`, valid for the configured number of
/// days, and records the `auth.login` entry with it.
pub async fn issue_temporary_token(
    state: &AppState,
    tx: &mut WriteTx,
    ctx: &AuditContext,
    user: &UserRecord,
    via: LoginVia<'_>,
) -> ApiResult<(TokenSecret, TokenRecord)> {
    let secret = TokenSecret::generate(TokenKind::Temporary);
    let now = issue_time(state, user);
    let expires_at = now + time::Duration::days(i64::from(state.settings.temporary_token_days));
    let (authenticated_at, client) = match via {
        LoginVia::Password { client } => (time_to_micros(now), client),
        LoginVia::Device {
            authenticated_at, ..
        } => (authenticated_at, SessionClient::Cli),
    };
    let token = tx
        .insert_token(
            NewToken {
                user_id: user.id.clone(),
                kind: TokenKind::Temporary,
                hash: secret.hash(),
                last4: secret.last4(),
                title: None,
                description: None,
                expires_at: Some(expires_at),
                authenticated_at,
                origin: TokenOrigin {
                    ip: ctx.ip.clone(),
                    client: Some(client.as_str().to_owned()),
                    user_agent: ctx.user_agent.clone(),
                },
            },
            now,
        )
        .await?;
    let mut data = json!({
        "kind": "temporary",
        "last4": token.last4,
        "expires_at": audit::time_value(expires_at),
        "via": "password",
    });
    if let LoginVia::Device { client_id, .. } = via {
        data["via"] = json!("device");
        data["client_id"] = json!(client_id);
    }
    let event = AuditEvent::user(AuditAction::AuthLogin, user)
        .target("token", &token.id, None)
        .data(data);
    audit::record(state, tx, ctx, event).await?;
    Ok((secret, token))
}

/// Now, but strictly after the user's last reset: a token issued in the same microsecond
/// as a reset must not be refused by it.
pub fn issue_time(state: &AppState, user: &UserRecord) -> time::OffsetDateTime {
    let now = state.now();
    if time_to_micros(now) <= user.token_min_issued_at {
        plinth_store::micros_to_time(user.token_min_issued_at + 1)
    } else {
        now
    }
}

pub async fn logout(state: &AppState, meta: &ClientMeta, actor: &Actor) -> ApiResult<()> {
    if actor.token.kind != TokenKind::Temporary {
        return Err(ApiError::bad_request(
            "logout ends a login session; delete a user token with DELETE /api/v1/user/tokens/{id}",
        ));
    }
    let inv = Invalidation::Token(actor.token.id.clone());
    let mut tx = state.store.begin().await?;
    tx.revoke_token(&actor.token.id, state.now()).await?;
    let event = AuditEvent::user(AuditAction::AuthLogout, &actor.user).target(
        "token",
        &actor.token.id,
        None,
    );
    audit::record(state, &mut tx, &AuditContext::new(actor, meta), event).await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok(())
}

pub async fn update_profile(
    state: &AppState,
    meta: &ClientMeta,
    actor: &Actor,
    req: UpdateUserRequest,
) -> ApiResult<UserRecord> {
    let mut update = UserUpdate::default();
    if let Some(name) = &req.display_name {
        update.display_name = Some(
            DisplayName::parse(name)
                .map_err(|e| ApiError::validation("display_name", e.0))?
                .into_string(),
        );
    }
    if let Some(url) = &req.avatar_url {
        update.avatar_url = Some(
            AvatarUrl::parse(url)
                .map_err(|e| ApiError::validation("avatar_url", e.0))?
                .map(AvatarUrl::into_string),
        );
    }
    if let Some(email) = &req.email {
        update.email = Some(Email::parse(email).map_err(|e| ApiError::validation("email", e.0))?);
    }
    let inv = Invalidation::User(actor.user.id.clone());
    let mut tx = state.store.begin().await?;
    let user = tx
        .update_user(&actor.user.id, update, state.now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let before = &actor.user;
    let changes = Changes::new()
        .field(
            "display_name",
            before.display_name.as_str(),
            user.display_name.as_str(),
        )
        .field(
            "avatar_url",
            before.avatar_url.clone(),
            user.avatar_url.clone(),
        )
        .field("email", before.email.as_str(), user.email.as_str());
    let event = AuditEvent::user(AuditAction::UserUpdate, &user).changes(changes);
    audit::record(state, &mut tx, &AuditContext::new(actor, meta), event).await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok(user)
}

/// Sign out everywhere: every token of the caller issued until now stops working, the
/// one used for this call included. O(1): one column, however many tokens there are.
pub async fn reset_auth(state: &AppState, meta: &ClientMeta, actor: &Actor) -> ApiResult<()> {
    let inv = Invalidation::User(actor.user.id.clone());
    let mut tx = state.store.begin().await?;
    let now = time_to_micros(state.now());
    tx.set_user_token_min_issued_at(&actor.user.id, now).await?;
    let event = AuditEvent::user(AuditAction::UserAuthReset, &actor.user)
        .changes(Changes::new().field("token_min_issued_at", actor.user.token_min_issued_at, now));
    audit::record(state, &mut tx, &AuditContext::new(actor, meta), event).await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok(())
}
